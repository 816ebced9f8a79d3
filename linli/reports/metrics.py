"""Order metrics per grid, community or town for a period, by SQL aggregation.

Definitions live in docs/metrics.md; each function here is one or two aggregate queries,
never a Python loop over orders.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
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


def order_metrics(
    start: dt.datetime, end: dt.datetime, *, town=None, community=None, grid=None, now: dt.datetime | None = None
) -> OrderMetrics:
    """The metrics of docs/metrics.md for orders of one scope and the period [start, end)."""
    now = now or timezone.now()
    scope = _scope_filter(town=town, community=community, grid=grid)
    orders = Order.objects.filter(scope)
    accepted_in = Q(accepted_at__gte=start, accepted_at__lt=end)
    due_by = min(end, now)
    row = orders.aggregate(
        submitted=Count("id", filter=Q(created_at__gte=start, created_at__lt=end)),
        accepted=Count("id", filter=accepted_in),
        responded_in_time=Count("id", filter=accepted_in & Q(responded_at__lte=F("respond_by"))),
        due=Count("id", filter=accepted_in & Q(resolve_by__lt=due_by)),
        resolved_in_time=Count("id", filter=accepted_in & Q(resolve_by__lt=due_by, resolved_at__lte=F("resolve_by"))),
        mean_respond=Avg(
            ExpressionWrapper(F("responded_at") - F("accepted_at"), output_field=DurationField()),
            filter=accepted_in & Q(responded_at__isnull=False),
        ),
        mean_resolve=Avg(
            ExpressionWrapper(F("resolved_at") - F("accepted_at"), output_field=DurationField()),
            filter=accepted_in & Q(resolved_at__isnull=False),
        ),
    )
    overdue_now = orders.overdue(now).count()
    # Ratings, reopens and bounces are events: an unsatisfied rating reopens the order, so the
    # order row alone would forget it.
    events = OrderEvent.objects.filter(_scope_filter(town=town, community=community, grid=grid, prefix="order__"))
    events = events.filter(at__gte=start, at__lt=end)
    good = [Rating.SATISFIED, Rating.BASICALLY]
    ev = events.aggregate(
        satisfied=Count("id", filter=Q(kind=OrderEvent.Kind.TRANSITION, to_status=S.CLOSED, data__rating__in=good)),
        unsatisfied=Count("id", filter=Q(kind=OrderEvent.Kind.REOPEN, data__rating=Rating.UNSATISFIED)),
        reopened=Count("id", filter=Q(kind=OrderEvent.Kind.REOPEN)),
        bounced=Count("id", filter=Q(kind=OrderEvent.Kind.BOUNCE)),
    )
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
        mean_respond=row["mean_respond"],
        mean_resolve=row["mean_resolve"],
        overdue_now=overdue_now,
        reopened=ev["reopened"],
        bounced=ev["bounced"],
    )


def open_count(*, town=None, community=None, grid=None) -> int:
    return Order.objects.filter(
        _scope_filter(town=town, community=community, grid=grid), status__in=OPEN_STATUSES
    ).count()
