"""The daily roll-up behind the dashboards (OrderEventDay): building it and reading it.

Derived data, like a cache: `rebuild_days` replaces days' rows in one transaction and can run
any number of times; `rollup` builds the finished days not built yet (the sweep calls it through
`manage.py rollup_order_events`). Readers combine the rows of the days up to the mark with the
base tables for the days after it (`rolled_through`, `event_figures`), so the figures equal the
live computation of linli.reports.metrics — a test compares them on random data.

Why only finished days, and a margin: events and orders are written with the time of writing
(`at`, `created_at` = now) and never change, so once a day is over its rows stay true. An event
written at 23:59:59.9 may commit a moment after midnight; a day is rolled up only
`SETTLE` after it ends. Rows written with past times (an import, the demo generator) need
`rollup_order_events --rebuild`.
"""

import datetime as dt

from django.db.models import Case, CharField, Count, F, IntegerField, OuterRef, Q, Subquery, Sum, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from linli.orders.models import Order, OrderEvent, Rating
from linli.orders.models import Status as S
from linli.reports.actions import replace_order_event_days
from linli.reports.models import OrderEventDay, OrderEventDayMark

SETTLE = dt.timedelta(minutes=10)
CHUNK_DAYS = 7
EVENT_FIGURES = ("satisfied", "unsatisfied", "reopened", "bounced")
FIGURES = EVENT_FIGURES


def aware(day: dt.date) -> dt.datetime:
    """Local midnight at the start of `day`."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def rolled_through() -> dt.date | None:
    """The last day the roll-up holds (None: nothing rolled up; read everything live)."""
    return OrderEventDayMark.objects.filter(pk=1).values_list("through", flat=True).first()


def last_finished_day(now: dt.datetime) -> dt.date:
    """The last local day that ended at least SETTLE before `now`."""
    return timezone.localtime(now - SETTLE).date() - dt.timedelta(days=1)


# --- what a day's rows hold (shared by the build and the live reading) -------------------------------


# The events the figures count: closes (their rating), reopens, bounces.
RATINGS_AND_RETURNS = Q(kind=OrderEvent.Kind.TRANSITION, to_status=S.CLOSED) | Q(
    kind__in=[OrderEvent.Kind.REOPEN, OrderEvent.Kind.BOUNCE]
)


def resolver_department():
    """For a reopen event: the department that resolved the order last before it (None = a member)."""
    resolved = OrderEvent.objects.filter(
        order=OuterRef("order"), kind=OrderEvent.Kind.TRANSITION, to_status=S.RESOLVED, at__lte=OuterRef("at")
    ).order_by("-at", "-id")
    return Subquery(resolved.values("department_id")[:1])


def responsible_department():
    """A bounce's department, a reopen's resolver department, nothing for a close."""
    return Case(
        When(kind=OrderEvent.Kind.BOUNCE, then=F("department_id")),
        When(kind=OrderEvent.Kind.REOPEN, then=resolver_department()),
        default=None,
        output_field=IntegerField(),
    )


def with_rating(events):
    """Events annotated with `rating`, the text of data["rating"] (one `->>` per row)."""
    # Cast: a bare KT keeps the JSON key lookups (its __in would compare JSON values).
    return events.annotate(rating=Cast(KT("data__rating"), output_field=CharField()))


def event_aggregates() -> dict:
    """metrics.order_metrics' event figures as aggregates over events annotated by with_rating."""
    good = [Rating.SATISFIED, Rating.BASICALLY]
    return {
        "satisfied": Count("id", filter=Q(kind=OrderEvent.Kind.TRANSITION, to_status=S.CLOSED, rating__in=good)),
        "unsatisfied": Count("id", filter=Q(kind=OrderEvent.Kind.REOPEN, rating=Rating.UNSATISFIED)),
        "reopened": Count("id", filter=Q(kind=OrderEvent.Kind.REOPEN)),
        "bounced": Count("id", filter=Q(kind=OrderEvent.Kind.BOUNCE)),
    }


# --- building ------------------------------------------------------------------------------------------


def day_rows(first: dt.date, last: dt.date | None = None) -> list[OrderEventDay]:
    """The roll-up rows of the local days first..last (all towns), computed from the base tables:
    one grouped query over the events (found by their kind and time indexes)."""
    last = last or first
    start, end = aware(first), aware(last + dt.timedelta(days=1))
    events = (
        with_rating(OrderEvent.objects.filter(RATINGS_AND_RETURNS, at__gte=start, at__lt=end))
        .annotate(day=TruncDate("at", tzinfo=timezone.get_current_timezone()), dept=responsible_department())
        .values("day", "order__town_id", "order__community_id", "order__grid_id", "dept")
        .annotate(**event_aggregates())
        .order_by()
    )
    return [
        OrderEventDay(
            day=r.pop("day"),
            town_id=r.pop("order__town_id"),
            community_id=r.pop("order__community_id"),
            grid_id=r.pop("order__grid_id"),
            department_id=r.pop("dept"),
            **r,
        )
        for r in events.iterator(chunk_size=5000)
    ]


def rebuild_days(first: dt.date, last: dt.date, *, mark: bool = False) -> int:
    """Replace the rows of the days first..last (all towns) in one transaction; with `mark`, move
    the mark to `last`."""
    return replace_order_event_days(first, last, rows=day_rows(first, last), mark=mark)


def first_day() -> dt.date | None:
    """The local day of the earliest order (where a first build starts)."""
    first = Order.objects.order_by("created_at").values_list("created_at", flat=True).first()
    return None if first is None else timezone.localtime(first).date()


def rollup(*, now: dt.datetime | None = None, since: dt.date | None = None, progress=None) -> tuple[int, int]:
    """Build every finished day after the mark (or from `since`) up to the last finished day.

    Idempotent: days already built are skipped unless `since` asks for them again; each day is
    one transaction that also moves the mark, so a run stopped half-way resumes where it stopped.
    Returns (days built, rows written).
    """
    now = now or timezone.now()
    last = last_finished_day(now)
    if since is None:
        through = rolled_through()
        since = through + dt.timedelta(days=1) if through is not None else first_day()
    if since is None:
        return 0, 0
    days = rows = 0
    day = since
    while day <= last:
        # A first build takes a week per transaction: one pass over the events instead of seven.
        until = min(day + dt.timedelta(days=CHUNK_DAYS - 1), last)
        rows += rebuild_days(day, until, mark=True)
        days += (until - day).days + 1
        if progress is not None:
            progress(until, days)
        day = until + dt.timedelta(days=1)
    return days, rows


# --- reading ---------------------------------------------------------------------------------------------


def split(start: dt.date, end: dt.date, through: dt.date | None) -> tuple[tuple, tuple]:
    """[start, end) as (rolled-up days, live days), each a (start, end) pair of dates (maybe empty)."""
    if through is None:
        return (start, start), (start, end)
    cut = min(max(start, through + dt.timedelta(days=1)), end)
    return (start, cut), (cut, end)


def rolled_rows(scope_q: Q, start: dt.date, end: dt.date):
    """OrderEventDay rows of a scope (a Q on town/community/grid) for days [start, end)."""
    return OrderEventDay.objects.filter(scope_q, day__gte=start, day__lt=end)


def summed(figures=EVENT_FIGURES) -> dict:
    return {name: Sum(name) for name in figures}
