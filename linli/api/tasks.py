"""A member's work over JSON: my tasks (orders assigned to me or my unit) and the pool (领单池).

The same lists as the pages /tasks/ and /pool/: the pool's query and fit are
linli.orders.queries.pool_orders (best fit first); claiming is POST /orders/{id}/claim.
A user who is not a member has no tasks and an empty pool.
"""

from django.db.models import F, Q
from ninja import Query, Router
from ninja.pagination import paginate

from linli.api.pagination import PageIn, Pagination, page_of
from linli.api.schemas import ERRORS, OrderListItem, PoolPage
from linli.orders.models import MEMBER_LOAD_STATUSES, Order, Status
from linli.orders.queries import pool_fit, pool_orders
from linli.people.access import get_member_for_user

router = Router(tags=["tasks"])


def _own_member(request):
    """The caller's member profile (through the access helper), or None for a non-member."""
    member_id = request.user.scope.member_id
    return get_member_for_user(request, member_id) if member_id else None


@router.get(
    "/tasks",
    response={200: list[OrderListItem], **ERRORS},
    operation_id="list_tasks",
    summary="我的任务（派给我或我所在单位的工单）",
)
@paginate(Pagination)
def list_tasks(request):
    """Orders dispatched to me, claimed or in progress, and those dispatched to my unit;
    overdue first, then by resolve deadline and priority."""
    s = request.user.scope
    if not s.member_id:
        return Order.objects.none()
    mine = Q(assignee_id=s.member_id, status__in=MEMBER_LOAD_STATUSES)
    if s.member_unit_id:
        mine |= Q(status=Status.DISPATCHED, assignee__isnull=True, assignee_unit_id=s.member_unit_id)
    return (
        Order.objects.visible_to(request.user)
        .filter(mine)
        .with_overdue_flag()
        .select_related("community", "grid", "category", "assignee")
        .order_by("-is_overdue", F("resolve_by").asc(nulls_last=True), "-priority", "id")
    )


def _fit(order, *, member, load) -> dict:
    """Why this pooled order suits me and what stops me claiming it (linli.orders.queries.pool_fit)."""
    reasons, blockers = pool_fit(order, member=member, load=load)
    return {
        "order": order,
        "fit": order.fit,
        "same_grid": bool(order.same_grid),
        "can_claim": not blockers,
        "reasons": reasons,
        "blockers": blockers,
    }


@router.get(
    "/pool",
    response={200: PoolPage, **ERRORS},
    operation_id="list_pool",
    summary="领单池（按适配度排序，附理由）",
)
def list_pool(request, page: Query[PageIn]):
    """Pooled orders of the communities I am registered with, best fit first: with the skill the
    category needs, then in my own grid, then by priority, oldest first. Each with its reasons and,
    when I cannot claim it now, why (`blockers`)."""
    member = _own_member(request)
    if member is None:
        return {"items": [], "count": 0, "load": 0, "load_cap": 0}
    load = Order.objects.filter(assignee_id=member.pk, status__in=MEMBER_LOAD_STATUSES).count()
    body = page_of(pool_orders(request.user, member), page, lambda o: _fit(o, member=member, load=load))
    return {**body, "load": load, "load_cap": member.load_cap}
