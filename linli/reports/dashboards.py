"""Queries behind the town, community and grid dashboards and the department league.

Read-only. Every figure is an SQL aggregate over one scope (a town, a community or a grid) and a
period; each function below is one query (or a fixed few), whatever the number of communities,
grids, members or orders — never a Python loop over orders. Python only arranges the grouped rows
(one per community, grid, department or day). Definitions: docs/metrics.md.

The three rates of a whole scope come from linli.reports.metrics.order_metrics; the per-community,
per-grid and per-month figures repeat its definitions in grouped form (`_order_aggregates`,
`_event_aggregates`), and tests hold the two equal.
"""

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Avg,
    Case,
    Count,
    DateTimeField,
    DecimalField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.lookups import Exact, GreaterThanOrEqual, LessThan
from django.utils import timezone
from django.utils.dateparse import parse_date

from linli.credits import ledger
from linli.credits.models import ServiceRecord
from linli.lib import workcal
from linli.orders.models import OPEN_STATUSES, Holiday, Order, OrderEvent
from linli.orders.models import Status as S
from linli.orgs.models import Category, Community, Department, Grid, GridSizing, Town
from linli.people.models import Member, Registration
from linli.reports import dashboard_rollup as rollup
from linli.reports import queries
from linli.reports.metrics import OrderMetrics, Seconds, _scope_filter, order_metrics, seconds_to_duration

_HOURS = DecimalField(max_digits=10, decimal_places=1)
ZERO = Decimal("0.0")
ONE_HOUR = Decimal("1.0")
# Hours-distribution buckets for the year (lower bound inclusive, upper exclusive); "0" is its own.
HOUR_BUCKETS = ((Decimal(0), Decimal(5)), (Decimal(5), Decimal(10)), (Decimal(10), Decimal(20)), (Decimal(20), None))
TREND_MONTHS = 12
CATEGORIES_SHOWN = 12


# --- scope and period ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """One of a town, a community or a grid (the narrowest given wins), with its town."""

    town: Town
    community: object = None
    grid: object = None
    # The last day of the daily roll-up (dashboard_rollup.rolled_through()): days up to it are read
    # from OrderEventDay, later ones from the base tables. None: everything from the base tables.
    through: dt.date | None = None

    @property
    def level(self) -> str:
        return "grid" if self.grid is not None else "community" if self.community is not None else "town"

    @property
    def metrics_kwargs(self) -> dict:
        return {self.level: self.grid or self.community or self.town}

    def orders(self, prefix: str = "") -> Q:
        """Q for orders (or rows reaching an order through `prefix`) in this scope."""
        if self.grid is not None:
            return Q(**{f"{prefix}grid_id": self.grid.pk})
        if self.community is not None:
            return Q(**{f"{prefix}community_id": self.community.pk})
        if not prefix and connection.vendor == "sqlite":
            # SQLite holds one town (the embedded mode): its orders are (nearly) the whole table,
            # and reading them through an index on town costs a lookup per row — measured 6× a
            # plain scan (bench/dashboards.py). `town_id + 0` keeps the planner off those indexes.
            return Q(Exact(F("town_id") + 0, self.town.pk))
        return Q(**{f"{prefix}town_id": self.town.pk})

    def touched_since(self, start: dt.datetime) -> Q:
        """touched_since for this scope's orders; for a town on SQLite, in a form no index serves
        (unary plus), for the reason given in orders()."""
        if self.level == "town" and connection.vendor == "sqlite":
            return Q(
                GreaterThanOrEqual(
                    Func(F("updated_at"), template="+%(expressions)s", output_field=DateTimeField()), start
                )
            )
        return touched_since(start)

    def communities(self, path: str) -> Q:
        """Q for rows whose community (reached by `path`, e.g. "community") is in this scope."""
        if self.community is not None:
            return Q(**{f"{path}_id": self.community.pk})
        return Q(**{f"{path}__town_id": self.town.pk})


PRESETS = ("month", "last_month", "quarter", "year")


def _month_start(day: dt.date, months_back: int = 0) -> dt.date:
    month = day.year * 12 + day.month - 1 - months_back
    return dt.date(month // 12, month % 12 + 1, 1)


def aware(day: dt.date) -> dt.datetime:
    """Local midnight at the start of `day` (the town's zone is the site's TIME_ZONE)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@dataclass(frozen=True)
class Period:
    """[start, end) as dates, and the period just before it, of the same kind."""

    preset: str
    start: dt.date
    end: dt.date
    prev_start: dt.date
    prev_end: dt.date
    error: bool = False

    @property
    def last(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def prev_last(self) -> dt.date:
        return self.prev_end - dt.timedelta(days=1)

    @property
    def query(self) -> str:
        """The query string that asks for this period again (for links: sorting, export, drill-down)."""
        if self.preset == "custom":
            return f"start={self.start.isoformat()}&end={self.last.isoformat()}"
        return f"period={self.preset}"


def parse_period(params, today: dt.date) -> Period:
    """?period=month|last_month|quarter|year, or ?start=&end= (inclusive dates); this month by default.

    The previous period is the month, quarter or year before, or as many days just before.
    """
    raw_start, raw_end = params.get("start") or "", params.get("end") or ""
    try:
        start, end = parse_date(raw_start), parse_date(raw_end)
    except ValueError:
        start = end = None
    if start and end and start <= end and (end - start).days <= 3660:
        end = end + dt.timedelta(days=1)
        length = end - start
        return Period("custom", start, end, start - length, start)
    error = bool(raw_start or raw_end)
    preset = params.get("period") if params.get("period") in PRESETS else "month"
    if preset == "year":
        start = dt.date(today.year, 1, 1)
        return Period(preset, start, dt.date(today.year + 1, 1, 1), dt.date(today.year - 1, 1, 1), start, error)
    if preset == "quarter":
        start = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        return Period(preset, start, _month_start(start, -3), _month_start(start, 3), start, error)
    back = 1 if preset == "last_month" else 0
    start, end = _month_start(today, back), _month_start(today, back - 1)
    return Period(preset, start, end, _month_start(today, back + 1), start, error)


# --- the three rates and their parts, grouped --------------------------------------------------------


def _overdue_q(now: dt.datetime) -> Q:
    # The same test as OrderQuerySet.overdue(), as a Q so it can filter one column of a GROUP BY.
    return Q(status__in=[S.SUBMITTED, S.ACCEPTED], respond_by__lt=now) | Q(status__in=OPEN_STATUSES, resolve_by__lt=now)


def _order_aggregates(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> dict:
    """order_metrics' order-row figures as aggregates, for a GROUP BY."""
    accepted_in = Q(accepted_at__gte=start, accepted_at__lt=end)
    due_by = min(end, now)
    return {
        "submitted": Count("id", filter=Q(created_at__gte=start, created_at__lt=end)),
        "accepted": Count("id", filter=accepted_in),
        "responded_in_time": Count("id", filter=accepted_in & Q(responded_at__lte=F("respond_by"))),
        "due": Count("id", filter=accepted_in & Q(resolve_by__lt=due_by)),
        "resolved_in_time": Count(
            "id", filter=accepted_in & Q(resolve_by__lt=due_by, resolved_at__lte=F("resolve_by"))
        ),
    }


def touched_since(start: dt.datetime, prefix: str = "") -> Q:
    """Orders changed at or after `start` (`updated_at`), as an exact pre-filter.

    Every transition stamps `updated_at` in the same UPDATE that writes its event
    (linli.orders.actions._transition), and created_at, accepted_at, responded_at and resolved_at
    are set by transitions; so an order with any of those times — or any transition, reopen or
    bounce event — in [start, …) has updated_at ≥ start. The filter removes no counted row; it
    lets the database skip the scope's older orders (with an index on (town, updated_at)).
    Not for "overdue now", which counts old open orders too.
    """
    return Q(**{f"{prefix}updated_at__gte": start})


RATINGS_AND_RETURNS = rollup.RATINGS_AND_RETURNS
_with_rating = rollup.with_rating
_event_aggregates = rollup.event_aggregates


def _grouped(qs, keys: list, aggregates: dict) -> list[dict]:
    """Aggregates per value of `keys`, or one row over everything (values() without keys would
    group by every column)."""
    if not keys:
        return [qs.aggregate(**aggregates)]
    return list(qs.values(*keys).annotate(**aggregates).order_by())


def period_events(scope: Scope, start: dt.date, end: dt.date, group: str | None = None, months=None) -> dict:
    """Rating, reopen and bounce counts of the scope's events in the days [start, end), summed per
    key: the value of `group` ("community_id", "grid_id" or "department_id": the department a
    bounce or reopen belongs to), or (month index, group value) with `months` (month bounds as
    dates, the end included). Two queries: the roll-up's days up to scope.through, and the base
    tables for the days after it (today at least)."""
    totals: dict = defaultdict(lambda: dict.fromkeys(EVENT_FIGURES, 0))
    (r0, r1), (l0, l1) = rollup.split(start, end, scope.through)
    keys = ([] if months is None else ["month"]) + ([group] if group else [])

    def add(rows, live_group):
        for r in rows:
            month = r.pop("month", None) if months is not None else None
            value = r.pop(live_group) if group else None
            key = (month, value) if months is not None else value
            for name in EVENT_FIGURES:
                totals[key][name] += r[name] or 0

    if r0 < r1:
        rows = rollup.rolled_rows(scope.orders(), r0, r1)
        if months is not None:
            rows = rows.annotate(month=_month_index("day", months))
        add(_grouped(rows, keys, rollup.summed()), group)
    if l0 < l1:
        start_at = aware(l0)
        events = OrderEvent.objects.filter(
            scope.orders("order__"),
            touched_since(start_at, "order__"),
            RATINGS_AND_RETURNS,
            at__gte=start_at,
            at__lt=aware(l1),
        )
        events = _with_rating(events)
        live_group = {"department_id": "dept"}.get(group, f"order__{group}") if group else None
        if group == "department_id":
            events = events.annotate(dept=rollup.responsible_department())
        if months is not None:
            events = events.annotate(month=_month_index("at", [aware(m) for m in months]))
        live_keys = ([] if months is None else ["month"]) + ([live_group] if group else [])
        add(_grouped(events, live_keys, _event_aggregates()), live_group)
    return totals


def _rate(num: int, den: int) -> float | None:
    return None if not den else num / den


@dataclass
class Row:
    """One community or grid of a comparison table (or one month of the trend)."""

    key: object
    name: str
    code: str = ""
    households: int = 0
    registered: int = 0
    active: int = 0
    submitted: int = 0
    accepted: int = 0
    responded_in_time: int = 0
    due: int = 0
    resolved_in_time: int = 0
    satisfied: int = 0
    unsatisfied: int = 0
    mean_resolve: dt.timedelta | None = None
    overdue: int = 0
    reopened: int = 0
    bounced: int = 0
    short_workers: int = 0  # grid workers missing against the sizing rule

    @property
    def rated(self) -> int:
        return self.satisfied + self.unsatisfied

    @property
    def response_rate(self):
        return _rate(self.responded_in_time, self.accepted)

    @property
    def resolve_rate(self):
        return _rate(self.resolved_in_time, self.due)

    @property
    def satisfaction_rate(self):
        return _rate(self.satisfied, self.rated)

    @property
    def active_rate(self):
        return _rate(self.active, self.registered)

    @property
    def mean_resolve_hours(self) -> float | None:
        return None if self.mean_resolve is None else self.mean_resolve.total_seconds() / 3600


def three_rates(
    scope: Scope, period: Period, now: dt.datetime, cells: "OrderCells | None" = None
) -> tuple[OrderMetrics, OrderMetrics]:
    """order_metrics for the period and for the one before it, with their events from
    period_events (the daily roll-up and today's rows). With `cells` (order_cells) covering both
    periods, the order figures come from them and only "overdue now" is asked (once)."""
    out = []
    overdue = None
    for start, end in ((period.start, period.end), (period.prev_start, period.prev_end)):
        events = period_events(scope, start, end)[None]
        if cells is None or not cells.covers(start, end):
            out.append(order_metrics(aware(start), aware(end), now=now, events=events, **scope.metrics_kwargs))
            continue
        if overdue is None:
            # Open orders are few: through the indexes (order_metrics' own filter), not a scan.
            overdue = Order.objects.filter(_scope_filter(**scope.metrics_kwargs)).overdue(now).count()
        f = OrderCells.total(cells.figures(start, end))
        out.append(
            OrderMetrics(
                start=aware(start),
                end=aware(end),
                submitted=int(f["submitted"]),
                accepted=int(f["accepted"]),
                responded_in_time=int(f["responded_in_time"]),
                due=int(f["due"]),
                resolved_in_time=int(f["resolved_in_time"]),
                rated=events["satisfied"] + events["unsatisfied"],
                satisfied=events["satisfied"],
                mean_respond=_mean(f["respond_s"], int(f["responded"])),
                mean_resolve=_mean(f["resolve_s"], int(f["resolved"])),
                overdue_now=overdue,
                reopened=events["reopened"],
                bounced=events["bounced"],
            )
        )
    return out[0], out[1]


def order_cells(scope: Scope, period: Period, now: dt.datetime) -> "OrderCells":
    """OrderCells over the trend's 12 months and, when they are whole months, the period and the
    one before it."""
    trend = month_starts(period)
    first, end = trend[0], _month_start(trend[-1], -1)
    if all(day.day == 1 for day in (period.start, period.end, period.prev_start, period.prev_end)):
        first, end = min(first, period.prev_start), max(end, period.end)
    return OrderCells(scope, first, end, now)


# --- trends and volumes -----------------------------------------------------------------------------


def month_starts(period: Period, count: int = TREND_MONTHS) -> list[dt.date]:
    """The first days of the `count` months up to the month holding the period's last day."""
    last = _month_start(period.last)
    return [_month_start(last, back) for back in range(count - 1, -1, -1)]


def _month_index(field_name: str, bounds: list[dt.datetime]):
    """CASE mapping a timestamp to the index of its month among `bounds` (month starts, local
    midnight, plus the end): plain comparisons, the same on every backend and cheap on SQLite,
    where TruncMonth is a Python function called per row. None outside the bounds."""
    whens = [When(**{f"{field_name}__lt": bound}, then=Value(i - 1)) for i, bound in enumerate(bounds) if i > 0]
    return Case(
        When(**{f"{field_name}__lt": bounds[0]}, then=Value(None)), *whens, default=None, output_field=IntegerField()
    )


EVENT_FIGURES = rollup.EVENT_FIGURES


def _bisect(field_name: str, bounds: list, leaf):
    """CASE finding how many of `bounds` (ascending) are ≤ the field's value, p in 0..len(bounds),
    by halving — about log2(len) comparisons a row where a flat CASE makes up to len — and
    returning leaf(p); None when the field is null."""

    def node(lo: int, hi: int):
        if lo == hi:
            return Value(leaf(lo), output_field=IntegerField())
        mid = (lo + hi + 1) // 2
        return Case(
            When(**{f"{field_name}__lt": bounds[mid - 1]}, then=node(lo, mid - 1)),
            default=node(mid, hi),
            output_field=IntegerField(),
        )

    return Case(
        When(**{f"{field_name}__isnull": True}, then=Value(None)),
        default=node(0, len(bounds)),
        output_field=IntegerField(),
    )


def _month_of(field_name: str, bounds: list):
    """The index of the field's month among `bounds` (month starts plus the end); None outside."""
    last = len(bounds) - 1
    return _bisect(field_name, bounds, lambda p: p - 1 if 1 <= p <= last else None)


def _due_index(bounds: list[dt.datetime]):
    """resolve_by's month among `bounds` (-1 before the first; len(bounds) - 1 after the last;
    None without a deadline): "due by a month's end" is then a comparison of indexes."""
    return _bisect("resolve_by", bounds, lambda p: p - 1)


class OrderCells:
    """order_metrics' order-row figures for every month of a window at once, per community (of a
    town) or grid (of a community): one grouped pass over the scope's orders changed since the
    window's start, instead of one pass each for the period, the period before, the trend and the
    comparison table. Each cell is a (created month, accepted month, resolve_by month, resolve_by
    before now, community or grid) group; a period of whole months of the window sums its cells —
    `due` (resolve_by before the period's end or now) is a comparison of month indexes, or the
    before-now flag when the period is still running.
    """

    def __init__(self, scope: Scope, first: dt.date, end: dt.date, now: dt.datetime):
        self.months = []
        month = first
        while month < end:
            self.months.append(month)
            month = _month_start(month, -1)
        self.bounds = [aware(m) for m in [*self.months, end]]
        self.now = now
        self.group = _child_group(scope)
        keys = ["cm", "am", "dm", "late"] + (["grp"] if self.group else [])
        accepted = Q(accepted_at__isnull=False)
        # `+ 0`: grouping by the bare column, SQLite walks the community index (a lookup per row).
        group = {"grp": F(self.group) + 0} if self.group else {}
        self.cells = list(
            Order.objects.filter(scope.orders(), scope.touched_since(self.bounds[0]))
            .annotate(
                **group,
                cm=_month_of("created_at", self.bounds),
                am=_month_of("accepted_at", self.bounds),
                dm=_due_index(self.bounds),
                late=Case(When(resolve_by__lt=now, then=Value(1)), default=Value(0), output_field=IntegerField()),
            )
            .values(*keys)
            .annotate(
                n=Count("id"),
                responded_in_time=Count("id", filter=accepted & Q(responded_at__lte=F("respond_by"))),
                resolved_in_time=Count("id", filter=accepted & Q(resolved_at__lte=F("resolve_by"))),
                responded=Count("id", filter=accepted & Q(responded_at__isnull=False)),
                respond_s=Sum(Seconds("responded_at", "accepted_at"), filter=accepted & Q(responded_at__isnull=False)),
                resolved=Count("id", filter=accepted & Q(resolved_at__isnull=False)),
                resolve_s=Sum(Seconds("resolved_at", "accepted_at"), filter=accepted & Q(resolved_at__isnull=False)),
            )
            .order_by()
        )

    def index(self, day: dt.date) -> int | None:
        bound = aware(day)
        return self.bounds.index(bound) if bound in self.bounds else None

    def covers(self, start: dt.date, end: dt.date) -> bool:
        return self.index(start) is not None and self.index(end) is not None

    def figures(self, start: dt.date, end: dt.date) -> dict:
        """{community/grid id (None for a grid's own scope): figures} for the whole months [start, end)."""
        i, j = self.index(start), self.index(end)
        running = self.bounds[j] > self.now  # due = before now, else before the period's end
        out: dict = defaultdict(
            lambda: (
                dict.fromkeys(
                    ("submitted", "accepted", "responded_in_time", "due", "resolved_in_time", "responded", "resolved"),
                    0,
                )
                | {"respond_s": 0.0, "resolve_s": 0.0}
            )
        )
        for c in self.cells:
            f = out[c.get("grp") if self.group else None]
            if c["cm"] is not None and i <= c["cm"] < j:
                f["submitted"] += c["n"]
            if c["am"] is None or not i <= c["am"] < j:
                continue
            f["accepted"] += c["n"]
            f["responded_in_time"] += c["responded_in_time"]
            f["responded"] += c["responded"]
            f["resolved"] += c["resolved"]
            f["respond_s"] += c["respond_s"] or 0.0
            f["resolve_s"] += c["resolve_s"] or 0.0
            if c["dm"] is not None and (c["late"] if running else c["dm"] < j):
                f["due"] += c["n"]
                f["resolved_in_time"] += c["resolved_in_time"]
        return out

    @staticmethod
    def total(figures: dict) -> dict:
        out: dict = defaultdict(float)
        for f in figures.values():
            for key, value in f.items():
                out[key] += value
        return out


def _mean(seconds: float, n: int) -> dt.timedelta | None:
    return seconds_to_duration(seconds / n) if n else None


class MonthlyEvents:
    """Rating, reopen and bounce events of the trend's 12 months, grouped by month and by the
    level below the scope (community of a town, grid of a community): one query that feeds both
    the trend and — when the period is whole months inside those 12 — the comparison table."""

    def __init__(self, scope: Scope, period: Period):
        self.months = month_starts(period)
        self.bounds = [aware(m) for m in self.months] + [aware(_month_start(self.months[-1], -1))]
        self.group = _child_group(scope)
        self.period = period
        end = _month_start(self.months[-1], -1)
        self.figures = period_events(scope, self.months[0], end, self.group, months=[*self.months, end])

    def by_month(self) -> dict[int, dict]:
        totals: dict[int, dict] = defaultdict(lambda: dict.fromkeys(EVENT_FIGURES, 0))
        for (month, _key), figures in self.figures.items():
            if month is not None:
                for key in EVENT_FIGURES:
                    totals[month][key] += figures[key]
        return totals

    def for_period(self) -> dict | None:
        """{community or grid id: figures} over the period, or None if the period is not whole months
        of the window (a custom range): the caller then asks the database itself."""
        start, end = aware(self.period.start), aware(self.period.end)
        if self.group is None or start not in self.bounds or end not in self.bounds:
            return None
        first, last = self.bounds.index(start), self.bounds.index(end)
        totals: dict = defaultdict(lambda: dict.fromkeys(EVENT_FIGURES, 0))
        for (month, key), figures in self.figures.items():
            if month is not None and first <= month < last:
                for name in EVENT_FIGURES:
                    totals[key][name] += figures[name]
        return totals


def _child_group(scope: Scope) -> str | None:
    if scope.grid is not None:
        return None
    return "grid_id" if scope.community is not None else "community_id"


def monthly_trend(
    scope: Scope, period: Period, now: dt.datetime, events: MonthlyEvents | None = None, cells=None
) -> list[Row]:
    """Per month (12, up to the period's last month): orders submitted and the three rates.

    Three grouped queries (orders by month submitted, orders by month accepted, and the events of
    MonthlyEvents, which the comparison table shares).
    "Due" keeps order_metrics' meaning with each month as the period: accepted in the month with
    resolve_by before the month's end and before now.
    """
    months = month_starts(period)
    bounds = [aware(m) for m in months] + [aware(_month_start(months[-1], -1))]
    since, until = bounds[0], bounds[-1]
    rows = [Row(key=m, name=m.strftime("%Y-%m")) for m in months]

    submitted = (
        Order.objects.filter(scope.orders(), created_at__gte=since, created_at__lt=until)
        .annotate(month=_month_index("created_at", bounds))
        .values("month")
        .annotate(submitted=Count("id"))
        .order_by()
    )
    # resolve_by before the end of the month of acceptance: its month index is at most that one
    # (or it falls before the window); a resolve_by after the window has no index.
    due_month = _month_index("resolve_by", bounds)
    due = Q(resolve_by__lt=now) & (Q(resolve_by__lt=since) | Q(due_month__lte=F("month")))
    accepted = (
        Order.objects.filter(scope.orders(), touched_since(since), accepted_at__gte=since, accepted_at__lt=until)
        .annotate(month=_month_index("accepted_at", bounds), due_month=due_month)
        .values("month")
        .annotate(
            accepted=Count("id"),
            responded_in_time=Count("id", filter=Q(responded_at__lte=F("respond_by"))),
            due=Count("id", filter=due),
            resolved_in_time=Count("id", filter=due & Q(resolved_at__lte=F("resolve_by"))),
        )
        .order_by()
    )
    if cells is not None:  # the same figures, from the cells (no query)
        for row, start, end in zip(rows, months, [*months[1:], _month_start(months[-1], -1)], strict=True):
            f = OrderCells.total(cells.figures(start, end))
            for key in ("submitted", "accepted", "responded_in_time", "due", "resolved_in_time"):
                setattr(row, key, int(f[key]))
        submitted = accepted = []
    for grouped in (submitted, accepted):
        for r in grouped:
            index = r.pop("month")
            if index is not None:
                for key, value in r.items():
                    setattr(rows[index], key, value)
    events = events or MonthlyEvents(scope, period)
    for index, figures in events.by_month().items():
        for key, value in figures.items():
            setattr(rows[index], key, value)
    return rows


def volume_by_category(scope: Scope, period: Period) -> list[dict]:
    """Orders submitted in the period per category, largest first; the tail folded into one row."""
    start, end = aware(period.start), aware(period.end)
    created = Q(created_at__gte=start, created_at__lt=end)
    if scope.level == "town" and connection.vendor == "sqlite" and period.end - period.start > dt.timedelta(days=62):
        # A long period of the one town of a SQLite database: a plain scan beats the (town,
        # created_at) index's lookup per row (see Scope.orders); unary plus keeps the index out.
        column = Func(F("created_at"), template="+%(expressions)s", output_field=DateTimeField())
        created = Q(GreaterThanOrEqual(column, start), LessThan(column, end))
    counted = (
        Order.objects.filter(scope.orders(), created)
        .values(cat=F("category_id") + 0)  # + 0: not through the category index either
        .annotate(n=Count("id"))
        .order_by()
    )
    names = dict(Category.objects.filter(town=scope.town).values_list("id", "name"))
    rows = [{"id": r["cat"], "name": names.get(r["cat"]), "n": r["n"]} for r in counted]
    rows.sort(key=lambda r: (-r["n"], r["name"] or ""))
    if len(rows) > CATEGORIES_SHOWN:
        tail = rows[CATEGORIES_SHOWN - 1 :]
        rows = [*rows[: CATEGORIES_SHOWN - 1], {"id": "other", "name": None, "n": sum(r["n"] for r in tail)}]
    return rows


# --- departments: bounces and reopens -----------------------------------------------------------------


def returns_by_department(scope: Scope, period: Period) -> list[dict]:
    """Bounces (部门退回) and reopens (重新办理) in the period per department (period_events).

    A bounce belongs to the department that returned it; a reopen to the department that resolved
    the order last before it was reopened, or to none (a member or unit resolved it).
    """
    grouped = period_events(scope, period.start, period.end, "department_id")
    rows = [
        {"dept": dept, "bounced": f["bounced"], "reopened": f["reopened"]}
        for dept, f in grouped.items()
        if f["bounced"] or f["reopened"]
    ]
    names = dict(Department.objects.filter(town=scope.town).values_list("id", "name"))
    out = [
        {"id": r["dept"], "name": names.get(r["dept"]), "bounced": r["bounced"], "reopened": r["reopened"]}
        for r in rows
    ]
    # Departments first (most returns first), then "resolved by members".
    out.sort(key=lambda r: (r["id"] is None, -(r["bounced"] + r["reopened"]), r["name"] or ""))
    return out


# --- members: registered vs active, hours this year ----------------------------------------------------


def _period_hours(scope: Scope, period: Period, member_ref: str = "pk", community_ref: str | None = None):
    """Subquery: a member's hours (both ledgers, corrections included) in the period in this scope.

    With `community_ref`, only records in the community of the outer row (a registration).
    """
    records = ServiceRecord.objects.filter(
        member=OuterRef(member_ref), service_date__gte=period.start, service_date__lt=period.end
    )
    if community_ref is not None:
        records = records.filter(community=OuterRef(community_ref))
    else:
        records = records.filter(scope.communities("community"))
    total = records.order_by().values("member").annotate(t=Sum("hours")).values("t")
    return Coalesce(Subquery(total, output_field=_HOURS), Value(ZERO), output_field=_HOURS)


def registered_members(scope: Scope):
    """Members with an approved registration (报到) in the scope's communities.

    For a grid: those registered with its community who live in the grid (home grid).
    """
    registered = Registration.objects.filter(
        scope.communities("community"), status=Registration.Status.APPROVED, member__isnull=False
    ).values("member_id")
    members = Member.objects.filter(id__in=registered)
    if scope.grid is not None:
        members = members.filter(home_grid=scope.grid)
    return members


@dataclass(frozen=True)
class MemberActivity:
    registered: int
    active: int
    year: int
    target_hours: Decimal
    pace_hours: Decimal
    on_pace: int
    buckets: tuple[int, ...]  # 0 h, 0–5, 5–10, 10–20, ≥ 20 h this year

    @property
    def active_rate(self):
        return _rate(self.active, self.registered)

    @property
    def on_pace_rate(self):
        return _rate(self.on_pace, self.registered)


def member_activity(scope: Scope, period: Period, today: dt.date) -> MemberActivity:
    """Registered vs active in the period, the year's hours in buckets and the share on pace.

    Active = served ≥ 1 hour in the period in the scope's communities (ServiceRecord ledger).
    The year's hours are the member's whole year, both ledgers, as credits.ledger.with_year_hours
    sums them, against the town's annual target scaled by the share of the year gone
    (credits.ledger's pace). Three queries: the town's credit settings, the registered count, and
    one pass over the ledger rows of those members grouped by member and then counted — no
    correlated subquery per member.
    """
    conf = ledger.settings_for(scope.town.pk)
    year = today.year
    pace = (conf.target_hours * ledger.year_fraction(year, today)).quantize(Decimal("0.1"))
    members = registered_members(scope)
    registered = members.count()
    year_start, year_end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    in_year = Q(service_date__gte=year_start, service_date__lt=year_end)
    in_period = Q(service_date__gte=period.start, service_date__lt=period.end) & scope.communities("community")
    per_member = (
        ServiceRecord.objects.filter(member__in=members.values("id"))
        .filter(in_year | in_period)
        .values("member_id")
        .annotate(
            year_hours=Coalesce(Sum("hours", filter=in_year), Value(ZERO), output_field=_HOURS),
            period_hours=Coalesce(Sum("hours", filter=in_period), Value(ZERO), output_field=_HOURS),
        )
    )
    counts = {"with_records": Count("member_id"), "positive": Count("member_id", filter=Q(year_hours__gt=0))}
    for i, (low, high) in enumerate(HOUR_BUCKETS, start=1):
        q = Q(year_hours__gt=0) if low == 0 else Q(year_hours__gte=low)
        if high is not None:
            q &= Q(year_hours__lt=high)
        counts[f"b{i}"] = Count("member_id", filter=q)
    row = per_member.aggregate(
        active=Count("member_id", filter=Q(period_hours__gte=ONE_HOUR)),
        on_pace=Count("member_id", filter=Q(year_hours__gte=pace)),
        **counts,
    )
    on_pace = row["on_pace"]
    if pace <= 0:  # members without a single record are on pace too
        on_pace += registered - row["with_records"]
    return MemberActivity(
        registered=registered,
        active=row["active"],
        year=year,
        target_hours=conf.target_hours,
        pace_hours=pace,
        on_pace=on_pace,
        buckets=(registered - row["positive"], *(row[f"b{i}"] for i in range(1, len(HOUR_BUCKETS) + 1))),
    )


# --- grids against the sizing rule -------------------------------------------------------------------


def grid_sizings(scope: Scope) -> list[GridSizing]:
    """Every grid of the scope measured against the town's rule: the community page's query
    (linli.reports.queries.grids_with_sizing), one statement."""
    if scope.grid is not None:
        grids = Grid.objects.filter(pk=scope.grid.pk)
    elif scope.community is not None:
        grids = Grid.objects.filter(community=scope.community)
    else:
        grids = Grid.objects.filter(community__town=scope.town)
    annotated = queries.grids_with_sizing(grids.select_related("community")).order_by("community__code", "code")
    return [GridSizing(grid, scope.town) for grid in annotated]


# --- comparison tables: the communities of a town, the grids of a community ------------------------------


def breakdown(
    scope: Scope,
    period: Period,
    now: dt.datetime,
    sizings: list[GridSizing],
    events: MonthlyEvents | None = None,
    cells: OrderCells | None = None,
) -> list[Row]:
    """One row per community of a town (or per grid of a community) with the comparison figures.

    Three or four grouped queries whatever the number of rows: orders, registered/active members,
    the communities' names, and events unless `events` (MonthlyEvents) already holds the period's;
    households come from `sizings` (grid_sizings()).
    Orders of a community that have no grid form a last row keyed None.
    """
    by_grid = scope.community is not None
    group = "grid_id" if by_grid else "community_id"
    start, end = aware(period.start), aware(period.end)

    rows: dict = {}
    if by_grid:
        for s in sizings:
            rows[s.grid.pk] = Row(key=s.grid.pk, name=s.grid.name, code=s.grid.code, households=s.households)
            rows[s.grid.pk].short_workers = s.short_workers
    else:
        communities = Community.objects.filter(town=scope.town).order_by("code").values_list("id", "name", "code")
        for pk, name, code in communities:
            rows[pk] = Row(key=pk, name=name, code=code)
        for s in sizings:
            row = rows.get(s.grid.community_id)
            if row is not None:
                row.households += s.households
                row.short_workers += s.short_workers

    def row_for(key) -> Row:
        if key not in rows:
            rows[key] = Row(key=key, name="")
        return rows[key]

    accepted_in = Q(accepted_at__gte=start, accepted_at__lt=end)
    orders = (
        Order.objects.filter(scope.orders(), scope.touched_since(start))
        .values(group)
        .annotate(
            **_order_aggregates(start, end, now),
            mean_resolve_s=Avg(
                Seconds("resolved_at", "accepted_at"), filter=accepted_in & Q(resolved_at__isnull=False)
            ),
        )
        .order_by()
    )
    if cells is not None and cells.covers(period.start, period.end):
        orders = []  # the same figures, from the cells (no query)
        for key, f in cells.figures(period.start, period.end).items():
            if not f["submitted"] and not f["accepted"]:
                continue  # the query below has no row for a group without either
            row = row_for(key)
            for name in ("submitted", "accepted", "responded_in_time", "due", "resolved_in_time"):
                setattr(row, name, int(f[name]))
            row.mean_resolve = _mean(f["resolve_s"], int(f["resolved"]))
    for r in orders:
        key = r.pop(group)
        if key not in rows and not any(r.values()):
            continue  # e.g. orders without a grid, none of them counted in the period: no row
        row = row_for(key)
        seconds = r.pop("mean_resolve_s")
        row.mean_resolve = None if seconds is None else dt.timedelta(seconds=round(seconds, 3))
        for key, value in r.items():
            setattr(row, key, value)
    # Overdue now: open orders of any age, found through the dispatcher queue's index
    # (community, status, …) — hence the communities listed rather than the town.
    where = Q(community_id__in=[k for k in rows if k is not None]) if not by_grid else scope.orders()
    overdue = (
        Order.objects.filter(where, status__in=OPEN_STATUSES)
        .filter(_overdue_q(now))
        .values(group)
        .annotate(overdue=Count("id"))
        .order_by()
    )
    for r in overdue:
        row_for(r[group]).overdue = r["overdue"]

    shared = events.for_period() if events is not None else None
    if shared is None:
        shared = period_events(scope, period.start, period.end, group)
    for key, figures in shared.items():
        row = row_for(key)
        for name, value in figures.items():
            setattr(row, name, value)

    if by_grid:
        members = (
            registered_members(scope)
            .filter(home_grid__isnull=False)
            .annotate(period_hours=_period_hours(scope, period))
            .values("home_grid_id")
            .annotate(registered=Count("id"), active=Count("id", filter=Q(period_hours__gte=ONE_HOUR)))
            .order_by()
        )
        for r in members:
            if r["home_grid_id"] in rows:
                rows[r["home_grid_id"]].registered = r["registered"]
                rows[r["home_grid_id"]].active = r["active"]
    else:
        registrations = (
            Registration.objects.filter(
                community__town=scope.town, status=Registration.Status.APPROVED, member__isnull=False
            )
            .annotate(period_hours=_period_hours(scope, period, member_ref="member_id", community_ref="community_id"))
            .values("community_id")
            .annotate(registered=Count("id"), active=Count("id", filter=Q(period_hours__gte=ONE_HOUR)))
            .order_by()
        )
        for r in registrations:
            row = row_for(r["community_id"])
            row.registered, row.active = r["registered"], r["active"]

    ordered = [row for key, row in rows.items() if key is not None]
    if None in rows:
        ordered.append(rows[None])
    return ordered


SORT_KEYS = {
    # Chinese names have no useful code-point order: the name column sorts by code, as lists do elsewhere.
    "name": lambda r: r.code,
    "households": lambda r: r.households,
    "registered": lambda r: r.registered,
    "active": lambda r: r.active,
    "submitted": lambda r: r.submitted,
    "response_rate": lambda r: r.response_rate,
    "resolve_rate": lambda r: r.resolve_rate,
    "satisfaction_rate": lambda r: r.satisfaction_rate,
    "mean_resolve": lambda r: r.mean_resolve,
    "overdue": lambda r: r.overdue,
    "reopened": lambda r: r.reopened,
    "bounced": lambda r: r.bounced,
    "short_workers": lambda r: r.short_workers,
}


def parse_sort(raw: str | None, keys, default: str = "name") -> tuple[str, bool]:
    """?sort=key (ascending) or ?sort=-key (descending); unknown keys fall back to `default`."""
    raw = raw or ""
    desc = raw.startswith("-")
    key = raw.lstrip("-")
    if key not in keys:
        return default, False
    return key, desc


def sort_rows(rows: list, key: str, desc: bool, keys=SORT_KEYS) -> list:
    """Rows sorted by one column; rows without a value ("—") always last, then by name."""
    getter = keys[key]
    with_value = [r for r in rows if getter(r) is not None]
    without = [r for r in rows if getter(r) is None]
    with_value.sort(key=lambda r: _name_of(r))
    with_value.sort(key=getter, reverse=desc)  # stable: ties stay in name order
    without.sort(key=lambda r: _name_of(r))
    return with_value + without


def _name_of(row) -> str:
    return getattr(row, "code", "") or row.name


# --- the department league -----------------------------------------------------------------------------


@dataclass
class DepartmentRow:
    key: int
    name: str
    received: int = 0
    acknowledged: int = 0
    acknowledged_in_time: int = 0
    resolved: int = 0
    resolved_in_time: int = 0
    returned: int = 0
    reopened: int = 0
    waiting: int = 0
    overdue: int = 0

    @property
    def ack_rate(self):
        return _rate(self.acknowledged_in_time, self.acknowledged)

    @property
    def resolve_rate(self):
        return _rate(self.resolved_in_time, self.resolved)

    @property
    def return_rate(self):
        return _rate(self.returned, self.received)


LEAGUE_SORT_KEYS = {
    "name": lambda r: r.name,
    "received": lambda r: r.received,
    "acknowledged": lambda r: r.acknowledged,
    "ack_rate": lambda r: r.ack_rate,
    "resolved": lambda r: r.resolved,
    "resolve_rate": lambda r: r.resolve_rate,
    "returned": lambda r: r.returned,
    "return_rate": lambda r: r.return_rate,
    "reopened": lambda r: r.reopened,
    "waiting": lambda r: r.waiting,
    "overdue": lambda r: r.overdue,
}


def _escalated_at():
    """For an acknowledgement event: when its order was escalated last before it."""
    escalations = OrderEvent.objects.filter(
        order=OuterRef("order"), kind=OrderEvent.Kind.TRANSITION, to_status=S.ESCALATED, at__lte=OuterRef("at")
    ).order_by("-at", "-id")
    return Subquery(escalations.values("at")[:1])


def town_calendar(town: Town, start: dt.date, end: dt.date) -> workcal.Calendar:
    """The town's holidays and make-up working days between two dates (one query)."""
    holidays, makeup = set(), set()
    for day, is_workday in Holiday.objects.filter(town=town, date__gte=start, date__lte=end).values_list(
        "date", "is_workday"
    ):
        (makeup if is_workday else holidays).add(day)
    return workcal.Calendar(holidays=frozenset(holidays), makeup_workdays=frozenset(makeup))


def next_workday(day: dt.date, cal: workcal.Calendar) -> dt.date:
    for _ in range(60):  # the longest run of days off (Spring Festival) is far shorter
        day += dt.timedelta(days=1)
        if cal.is_workday(day):
            return day
    return day


def department_league(town: Town, period: Period, now: dt.datetime) -> list[DepartmentRow]:
    """Per department of the town, from the OrderEvent rows of the period (docs/metrics.md):

    received (escalations to it), acknowledged and acknowledged in time (by the end of the
    working day after the escalation's day, on the town's calendar), resolved and resolved in time
    (at or before the order's escalation_due), returned (bounces), reopened after it resolved;
    and now: escalations waiting for acknowledgement and open escalations past escalation_due.

    Five queries whatever the number of departments or orders: departments, events, reopens,
    acknowledgements grouped by (department, escalation day, acknowledgement day), open orders;
    plus the town's holidays. Python walks the day pairs, never the orders.
    """
    start, end = aware(period.start), aware(period.end)
    rows = {d.pk: DepartmentRow(key=d.pk, name=d.name) for d in Department.objects.filter(town=town).order_by("name")}
    if not rows:
        return []
    # Only events of escalations carry a department: the department index finds them (a filter on
    # kind would lead SQLite to the kind index and every transition of the period instead).
    in_period = Q(at__gte=start, at__lt=end, department_id__in=list(rows))
    T = OrderEvent.Kind.TRANSITION
    events = (
        OrderEvent.objects.filter(in_period)
        .values("department_id")
        .annotate(
            received=Count("id", filter=Q(kind=T, to_status=S.ESCALATED)),
            acknowledged=Count("id", filter=Q(kind=T, to_status=S.ACKNOWLEDGED)),
            resolved=Count("id", filter=Q(kind=T, to_status=S.RESOLVED)),
            resolved_in_time=Count("id", filter=Q(kind=T, to_status=S.RESOLVED, at__lte=F("order__escalation_due"))),
            returned=Count("id", filter=Q(kind=OrderEvent.Kind.BOUNCE)),
        )
        .order_by()
    )
    for r in events:
        row = rows[r.pop("department_id")]
        for key, value in r.items():
            setattr(row, key, value)

    reopens = (
        OrderEvent.objects.filter(order__town=town, kind=OrderEvent.Kind.REOPEN, at__gte=start, at__lt=end)
        .filter(touched_since(start, "order__"))
        .annotate(dept=rollup.resolver_department())
        .values("dept")
        .annotate(n=Count("id"))
        .order_by()
    )
    for r in reopens:
        if r["dept"] in rows:
            rows[r["dept"]].reopened = r["n"]

    acks = (
        OrderEvent.objects.filter(in_period, to_status=S.ACKNOWLEDGED)
        .annotate(escalated_at=_escalated_at())
        .annotate(esc_day=TruncDate("escalated_at"), ack_day=TruncDate("at"))
        .values("department_id", "esc_day", "ack_day")
        .annotate(n=Count("id"))
        .order_by()
    )
    acks = list(acks)
    if acks:
        days = [r["esc_day"] for r in acks if r["esc_day"] is not None]
        cal = town_calendar(town, min(days, default=period.start), max(days, default=period.end) + dt.timedelta(60))
        deadline: dict = {}
        for r in acks:
            if r["esc_day"] is None:
                continue  # an acknowledgement without its escalation: not counted as in time
            if r["esc_day"] not in deadline:
                deadline[r["esc_day"]] = next_workday(r["esc_day"], cal)
            if r["ack_day"] <= deadline[r["esc_day"]]:
                rows[r["department_id"]].acknowledged_in_time += r["n"]

    open_escalations = (
        Order.objects.filter(department_id__in=list(rows), status__in=[S.ESCALATED, S.ACKNOWLEDGED])
        .values("department_id")
        .annotate(
            waiting=Count("id", filter=Q(status=S.ESCALATED)),
            overdue=Count("id", filter=Q(escalation_due__lt=now)),
        )
        .order_by()
    )
    for r in open_escalations:
        row = rows[r["department_id"]]
        row.waiting, row.overdue = r["waiting"], r["overdue"]
    return list(rows.values())


# --- display helpers shared by the views and the export ----------------------------------------------------


def percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def percent_number(value) -> float | None:
    return None if value is None else round(value * 100, 1)


def hours_number(value: dt.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 1)


def bar_width(part: int, whole: int) -> int:
    """Width in percent for a CSS bar (0–100), rounded up so a non-zero part stays visible."""
    return 0 if not whole else min(100, math.ceil(part * 100 / whole))
