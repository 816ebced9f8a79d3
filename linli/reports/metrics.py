"""Order metrics per grid, community or town for a period, by SQL aggregation.

Definitions live in docs/metrics.md; each function here is one or two aggregate queries,
never a Python loop over orders.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Avg, Count, F, FloatField, Func, Q
from django.utils import timezone

from linli.orders.models import OPEN_STATUSES, Order, OrderEvent, Rating
from linli.orders.models import Status as S


@dataclass(frozen=True)
class OrderMetrics:
    start: dt.datetime
    end: dt.datetime
    submitted: int
    accepted: int
    responded_in_time: int
    due: int
    resolved_in_time: int
    rated: int
    satisfied: int
    mean_respond: dt.timedelta | None
    mean_resolve: dt.timedelta | None
    overdue_now: int
    reopened: int
    bounced: int

    @staticmethod
    def _rate(num: int, den: int) -> float | None:
        return None if den == 0 else num / den

    @property
    def response_rate(self) -> float | None:
        """响应率"""
        return self._rate(self.responded_in_time, self.accepted)

    @property
    def resolve_rate(self) -> float | None:
        """办结率"""
        return self._rate(self.resolved_in_time, self.due)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率"""
        return self._rate(self.satisfied, self.rated)


def _scope_filter(*, town=None, community=None, grid=None, prefix: str = "") -> Q:
    if grid is not None:
        return Q(**{f"{prefix}grid_id": grid.pk})
    if community is not None:
        return Q(**{f"{prefix}community_id": community.pk})
    if town is not None:
        return Q(**{f"{prefix}town_id": town.pk})
    raise ValueError("a town, community or grid is required")


class Seconds(Func):
    """Seconds from `start` to `end` (two timestamps) as a float.

    Django's timestamp subtraction is a Python function called per row on SQLite (~3 µs a row);
    julianday() is SQLite's own. PostgreSQL: EXTRACT(EPOCH FROM end - start).
    """

    output_field = FloatField()

    def __init__(self, end, start):
        super().__init__(end, start)

    def as_sql(self, compiler, connection, **extra):
        end, start = (compiler.compile(e) for e in self.get_source_expressions())
        return f"EXTRACT(EPOCH FROM ({end[0]} - {start[0]}))", [*end[1], *start[1]]

    def as_sqlite(self, compiler, connection, **extra):
        end, start = (compiler.compile(e) for e in self.get_source_expressions())
        return f"((julianday({end[0]}) - julianday({start[0]})) * 86400.0)", [*end[1], *start[1]]


def seconds_to_duration(seconds: float | None) -> dt.timedelta | None:
    """An average of Seconds as a timedelta, to the millisecond (julianday's precision)."""
    return None if seconds is None else dt.timedelta(seconds=round(seconds, 3))


def order_metrics(
    start: dt.datetime,
    end: dt.datetime,
    *,
    town=None,
    community=None,
    grid=None,
    now: dt.datetime | None = None,
    events: dict | None = None,
) -> OrderMetrics:
    """The metrics of docs/metrics.md for orders of one scope and the period [start, end).

    `events`: the rating, reopen and bounce counts (satisfied, unsatisfied, reopened, bounced)
    when the caller has them already (the dashboards read them from the daily roll-up).
    """
    now = now or timezone.now()
    scope = _scope_filter(town=town, community=community, grid=grid)
    orders = Order.objects.filter(scope)
    accepted_in = Q(accepted_at__gte=start, accepted_at__lt=end)
    due_by = min(end, now)
    # Every transition stamps updated_at (and the times counted here are set by transitions), so
    # orders untouched since the period's start count for nothing: skip them (order_town_updated_idx).
    row = orders.filter(updated_at__gte=start).aggregate(
        submitted=Count("id", filter=Q(created_at__gte=start, created_at__lt=end)),
        accepted=Count("id", filter=accepted_in),
        responded_in_time=Count("id", filter=accepted_in & Q(responded_at__lte=F("respond_by"))),
        due=Count("id", filter=accepted_in & Q(resolve_by__lt=due_by)),
        resolved_in_time=Count("id", filter=accepted_in & Q(resolve_by__lt=due_by, resolved_at__lte=F("resolve_by"))),
        mean_respond=Avg(Seconds("responded_at", "accepted_at"), filter=accepted_in & Q(responded_at__isnull=False)),
        mean_resolve=Avg(Seconds("resolved_at", "accepted_at"), filter=accepted_in & Q(resolved_at__isnull=False)),
    )
    overdue_now = orders.overdue(now).count()
    # Ratings, reopens and bounces are events: an unsatisfied rating reopens the order, so the
    # order row alone would forget it.
    ev = events
    if ev is None:
        ev = _event_counts(start, end, _scope_filter(town=town, community=community, grid=grid, prefix="order__"))
    return OrderMetrics(
        start=start,
        end=end,
        submitted=row["submitted"],
        accepted=row["accepted"],
        responded_in_time=row["responded_in_time"],
        due=row["due"],
        resolved_in_time=row["resolved_in_time"],
        rated=ev["satisfied"] + ev["unsatisfied"],
        satisfied=ev["satisfied"],
        mean_respond=seconds_to_duration(row["mean_respond"]),
        mean_resolve=seconds_to_duration(row["mean_resolve"]),
        overdue_now=overdue_now,
        reopened=ev["reopened"],
        bounced=ev["bounced"],
    )


def _event_counts(start: dt.datetime, end: dt.datetime, scope: Q) -> dict:
    """Ratings, reopens and bounces of the period (OrderEvent rows, by the event's time)."""
    events = OrderEvent.objects.filter(scope, updated_since(start, "order__"), at__gte=start, at__lt=end)
    good = [Rating.SATISFIED, Rating.BASICALLY]
    return events.aggregate(
        satisfied=Count("id", filter=Q(kind=OrderEvent.Kind.TRANSITION, to_status=S.CLOSED, data__rating__in=good)),
        unsatisfied=Count("id", filter=Q(kind=OrderEvent.Kind.REOPEN, data__rating=Rating.UNSATISFIED)),
        reopened=Count("id", filter=Q(kind=OrderEvent.Kind.REOPEN)),
        bounced=Count("id", filter=Q(kind=OrderEvent.Kind.BOUNCE)),
    )


def updated_since(start: dt.datetime, prefix: str = "") -> Q:
    """Orders (or rows reaching an order through `prefix`) changed at or after `start`: an exact
    pre-filter, since every event is written with its order's updated_at stamp (see
    linli.reports.dashboards.touched_since)."""
    return Q(**{f"{prefix}updated_at__gte": start})


def open_count(*, town=None, community=None, grid=None) -> int:
    return Order.objects.filter(
        _scope_filter(town=town, community=community, grid=grid), status__in=OPEN_STATUSES
    ).count()
