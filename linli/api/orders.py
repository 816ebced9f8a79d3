"""Orders over JSON: file, list, read, and one POST per transition.

Each handler parses → obtains the order through `get_order_for_user` (outside scope: 404) →
looks up the objects the body names within the caller's scope → calls the action → answers with
the order as it now stands. Errors are mapped in linli/api/errors.py.
"""

import datetime as dt
from decimal import Decimal

from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from ninja import Header, Query, Router, Status
from ninja.pagination import paginate

from linli.api.errors import invalid_reference
from linli.api.pagination import Pagination
from linli.api.schemas import (
    ERRORS,
    AcceptIn,
    CategoryOut,
    DispatchIn,
    EscalateIn,
    MergeIn,
    NoteIn,
    OptionalReasonIn,
    OrderFilters,
    OrderIn,
    OrderListItem,
    OrderOut,
    RateIn,
    ReasonIn,
    ResolveIn,
)
from linli.orders import actions
from linli.orders.access import get_order_for_user
from linli.orders.models import Channel, IdempotencyKey, Order, OrderEvent
from linli.orgs.access import get_community_for_user
from linli.orgs.models import Category, Community, Department, Household, Unit
from linli.people.access import get_member_for_user
from linli.people.models import Member, Registration

router = Router(tags=["orders"])

DETAIL = {200: OrderOut, **ERRORS}
_COORDINATE = Decimal("0.000001")


# --- presenting ---------------------------------------------------------------------------------


def _ref(obj, name_attr: str = "name"):
    return {"id": obj.pk, "name": getattr(obj, name_attr)} if obj is not None else None


def _sees_contact(user, order: Order) -> bool:
    """Staff, the order's grid worker and the submitter see who filed an anonymous order."""
    s = user.scope
    return (
        s.superuser
        or order.community_id in s.community_ids
        or order.town_id in s.town_ids
        or (order.grid_id is not None and order.grid_id in s.grid_ids)
        or order.submitted_by_id == user.pk
        or (order.resident_id is not None and order.resident_id == s.resident_id)
    )


def _present(request, order: Order) -> dict:
    """The order as `OrderOut`, with the timeline; contact details hidden per the viewer."""
    events = list(order.events.select_related("actor").order_by("at", "id"))
    privileged = _sees_contact(request.user, order)
    hide_contact = order.anonymous and not privileged

    def actor_name(event):
        if event.actor_id is None:
            return None
        if hide_contact and event.actor_id == order.submitted_by_id:
            return "居民"
        return event.actor.name or event.actor.get_username()

    return {
        "id": order.pk,
        "title": order.title,
        "description": order.description,
        "kind": order.kind,
        "status": order.status,
        "status_label": str(order.get_status_display()),
        "priority": order.priority,
        "channel": order.channel,
        "community": _ref(order.community),
        "grid": _ref(order.grid),
        "household_id": order.household_id,
        "category": _ref(order.category),
        "address": order.address,
        "lat": float(order.lat) if order.lat is not None else None,
        "long": float(order.long) if order.long is not None else None,
        "anonymous": order.anonymous,
        "contact_name": "" if hide_contact else order.contact_name,
        "contact_phone": "" if hide_contact else order.contact_phone_masked,
        "assignee": _ref(order.assignee),
        "assignee_unit": _ref(order.assignee_unit),
        "department": _ref(order.department),
        "merged_into_id": order.merged_into_id,
        "created_at": order.created_at,
        "accepted_at": order.accepted_at,
        "respond_by": order.respond_by,
        "responded_at": order.responded_at,
        "resolve_by": order.resolve_by,
        "escalation_due": order.escalation_due,
        "resolved_at": order.resolved_at,
        "closed_at": order.closed_at,
        "is_overdue": order.is_overdue(),
        "result_note": order.result_note,
        "reject_reason": order.reject_reason,
        "rating": order.rating or None,
        "rating_comment": order.rating_comment,
        "bounce_count": sum(e.kind == OrderEvent.Kind.BOUNCE for e in events),
        "reopen_count": sum(e.kind == OrderEvent.Kind.REOPEN for e in events),
        "events": [
            {
                "at": e.at,
                "kind": e.kind,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
                "actor": actor_name(e),
            }
            for e in events
        ],
    }


def _after(request, order: Order) -> dict:
    """The order as stored after the caller's action.

    Read again by primary key, not through visibility: the caller was allowed to act on it a
    moment ago, and some actions take it out of their scope (a department returning it).
    """
    fresh = Order.objects.select_related(
        "community", "grid", "category", "assignee", "assignee_unit", "department"
    ).filter(pk=order.pk)
    return _present(request, fresh.first() or order)


# --- looking up what a body names, within the caller's scope -----------------------------------


def _first(queryset, field: str, message: str):
    """The one row of an already scoped queryset, or a 400 naming the field (never saying why)."""
    obj = queryset.first()
    if obj is None:
        raise invalid_reference(field, message)
    return obj


def _community_to_file_in(request, payload: OrderIn):
    """A community the caller may file in: one they can see, or the resident's own."""
    try:
        return get_community_for_user(request, payload.community_id)
    except Http404:
        pass
    s = request.user.scope
    if s.resident_household_id:
        own = Household.objects.filter(
            pk=s.resident_household_id, building__grid__community_id=payload.community_id
        ).select_related("building__grid__community")
        household = own.first()
        if household is not None:
            return household.building.grid.community
    raise invalid_reference("community_id", "社区不存在，或不在您的范围内")


def _member_in(request, payload: DispatchIn) -> Member:
    try:
        return get_member_for_user(request, payload.member_id)
    except Http404:
        raise invalid_reference("member_id", "党员不存在，或不在您的范围内") from None


def _team(request, order: Order, payload: ResolveIn) -> dict:
    """Teammates' hours: each named once, not the caller, registered (approved) with the order's community."""
    ids = [row.member_id for row in payload.team_hours]
    if not ids:
        return {}
    if len(set(ids)) != len(ids) or request.user.scope.member_id in ids:
        raise invalid_reference("team_hours", "每位队友只能申报一次，本人的时长请填在 hours 中")
    registered = Member.objects.filter(
        pk__in=ids,
        registrations__community_id=order.community_id,
        registrations__status=Registration.Status.APPROVED,
    ).distinct()
    members = {m.pk: m for m in registered}
    missing = [i for i in ids if i not in members]
    if missing:
        raise invalid_reference("team_hours", f"党员 {missing[0]} 不存在，或未向本社区报到")
    return {members[row.member_id]: row.hours for row in payload.team_hours}


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _coordinate(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(_COORDINATE)


# --- intake, list, detail -----------------------------------------------------------------------


@router.post(
    "/orders",
    response={201: OrderOut, **DETAIL},
    operation_id="create_order",
    summary="提交诉求（群众下单）",
)
def create_order(
    request,
    payload: OrderIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        max_length=100,
        description="同一 key 重试只生成一张工单（200 返回原工单）；同一 key 不同内容返回 422",
    ),
):
    """201 with the new order; 200 with the original order when the Idempotency-Key was seen."""
    user = request.user
    s = user.scope
    household = community = category = None
    if payload.household_id is not None:
        household = _first(
            Household.objects.visible_to(user)
            .filter(pk=payload.household_id)
            .select_related("building__grid__community"),
            "household_id",
            "住户不存在，或不在您的范围内",
        )
        community = household.building.grid.community
    elif payload.community_id is not None:
        community = _community_to_file_in(request, payload)
    elif s.resident_household_id:
        # A resident who names no place files for their own household.
        household = Household.objects.select_related("building__grid__community").filter(pk=s.resident_household_id)[0]
        community = household.building.grid.community
    if payload.category_id is not None:
        town_id = community.town_id if community is not None else None
        category = _first(
            Category.objects.filter(pk=payload.category_id, town_id=town_id),
            "category_id",
            "类别不存在，或不属于该社区所在街道",
        )
    # The resident is recorded when they file about their own home; a resident who is also staff
    # or a grid worker may be filing for someone else.
    resident = None
    if s.resident_id:
        own = household.pk == s.resident_household_id if household is not None else _is_own_community(s, community)
        if own:
            resident = user.resident_profile
    key = idempotency_key or ""
    replay = bool(key) and IdempotencyKey.objects.filter(user=user, key=key).exists()
    order = actions.submit_order(
        actor=user,
        title=payload.title,
        description=payload.description,
        kind=payload.kind,
        community=community,
        household=household,
        address=payload.address,
        lat=_coordinate(payload.lat),
        long=_coordinate(payload.long),
        category=category,
        anonymous=payload.anonymous,
        channel=Channel.API,
        resident=resident,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
        idempotency_key=key,
        idempotency_body=payload.model_dump(mode="json"),
    )
    return Status(200 if replay else 201, _after(request, order))


def _is_own_community(scope, community) -> bool:
    if community is None or not scope.resident_household_id:
        return False
    return Household.objects.filter(pk=scope.resident_household_id, building__grid__community=community).exists()


@router.get(
    "/orders",
    response={200: list[OrderListItem], **ERRORS},
    operation_id="list_orders",
    summary="工单列表（按可见范围）",
)
@paginate(Pagination)
def list_orders(request, filters: Query[OrderFilters]):
    """The orders the caller may see, newest first, filtered; paginated with limit/offset."""
    user = request.user
    s = user.scope
    qs = (
        Order.objects.visible_to(user)
        .with_overdue_flag()
        .select_related("community", "grid", "category", "assignee")
        .order_by("-created_at", "-id")
    )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.category is not None:
        qs = qs.filter(category_id=filters.category)
    if filters.grid is not None:
        qs = qs.filter(grid_id=filters.grid)
    if filters.community is not None:
        qs = qs.filter(community_id=filters.community)
    if filters.overdue:
        qs = qs.overdue()
    if filters.mine:
        mine = Q(submitted_by=user)
        if s.resident_id:
            mine |= Q(resident_id=s.resident_id)
        if s.member_id:
            mine |= Q(assignee_id=s.member_id)
        qs = qs.filter(mine)
    return qs


@router.get("/orders/{order_id}", response=DETAIL, operation_id="get_order", summary="工单详情与时间线")
def get_order(request, order_id: int):
    return _present(request, get_order_for_user(request, order_id))


@router.get(
    "/categories",
    response={200: list[CategoryOut], **ERRORS},
    operation_id="list_categories",
    summary="工单类别",
)
def list_categories(request):
    """The order categories of the caller's town: the `category_id` that filing and accepting take.

    Categories are town configuration, not personal data: everyone of the town may read them.
    """
    user = request.user
    s = user.scope
    towns = Q(town_id__in=Community.objects.visible_to(user).values("town_id"))
    if s.resident_household_id:
        towns |= Q(town__communities__grids__buildings__households=s.resident_household_id)
    if s.department_ids:
        towns |= Q(town__departments__in=s.department_ids)
    if s.unit_ids:
        towns |= Q(town__units__in=s.unit_ids)
    return list(Category.objects.filter(towns).distinct().order_by("town_id", "code"))


# --- transitions: one POST each -----------------------------------------------------------------


@router.post("/orders/{order_id}/accept", response=DETAIL, operation_id="accept_order", summary="受理")
def accept_order(request, order_id: int, payload: AcceptIn):
    """Staff: set the category and priority; the deadlines start."""
    order = get_order_for_user(request, order_id, write=True)
    category = _first(
        Category.objects.filter(pk=payload.category_id, town_id=order.town_id),
        "category_id",
        "类别不存在，或不属于本街道",
    )
    actions.accept_order(
        order, actor=request.user, category=category, priority=payload.priority, kind=payload.kind, note=payload.note
    )
    return _after(request, order)


@router.post("/orders/{order_id}/reject", response=DETAIL, operation_id="reject_order", summary="不予受理")
def reject_order(request, order_id: int, payload: ReasonIn):
    order = get_order_for_user(request, order_id, write=True)
    actions.reject_order(order, actor=request.user, reason=payload.reason)
    return _after(request, order)


@router.post("/orders/{order_id}/merge", response=DETAIL, operation_id="merge_order", summary="合并重复工单")
def merge_order(request, order_id: int, payload: MergeIn):
    """Staff: merge this order into another open order of the same community."""
    order = get_order_for_user(request, order_id, write=True)
    try:
        into = get_order_for_user(request, payload.into_id)
    except Http404:
        raise invalid_reference("into_id", "目标工单不存在，或不在您的范围内") from None
    actions.merge_order(order, into=into, actor=request.user, note=payload.note)
    return _after(request, order)


@router.post("/orders/{order_id}/cancel", response=DETAIL, operation_id="cancel_order", summary="撤销")
def cancel_order(request, order_id: int, payload: OptionalReasonIn | None = None):
    """The submitter (or staff) withdraws the order before it is dispatched. The body is optional."""
    order = get_order_for_user(request, order_id, write=True)
    actions.cancel_order(order, actor=request.user, reason=payload.reason if payload else "")
    return _after(request, order)


@router.post("/orders/{order_id}/dispatch", response=DETAIL, operation_id="dispatch_order", summary="派单")
def dispatch_order(request, order_id: int, payload: DispatchIn):
    """Staff: to a member (`member_id`), a paired unit (`unit_id`) or the pool (`pool: true`)."""
    order = get_order_for_user(request, order_id, write=True)
    member = unit = None
    if payload.member_id is not None:
        member = _member_in(request, payload)
    if payload.unit_id is not None:
        unit = _first(
            Unit.objects.visible_to(request.user).filter(pk=payload.unit_id),
            "unit_id",
            "单位不存在，或不在您的范围内",
        )
    actions.dispatch_order(order, actor=request.user, member=member, unit=unit, pool=payload.pool, note=payload.note)
    return _after(request, order)


@router.post("/orders/{order_id}/recall", response=DETAIL, operation_id="recall_order", summary="收回重新派单")
def recall_order(request, order_id: int, payload: NoteIn | None = None):
    """Staff take a dispatched, pooled or claimed order back to the queue. The body is optional."""
    order = get_order_for_user(request, order_id, write=True)
    actions.recall_order(order, actor=request.user, note=payload.note if payload else "")
    return _after(request, order)


@router.post("/orders/{order_id}/claim", response=DETAIL, operation_id="claim_order", summary="接单/领单")
def claim_order(request, order_id: int):
    """A member takes an order dispatched to them or claims it from the pool; 409 if taken."""
    order = get_order_for_user(request, order_id, write=True)
    actions.claim_order(order, actor=request.user)
    return _after(request, order)


@router.post("/orders/{order_id}/decline", response=DETAIL, operation_id="decline_order", summary="拒单/退单")
def decline_order(request, order_id: int, payload: ReasonIn):
    order = get_order_for_user(request, order_id, write=True)
    actions.decline_order(order, actor=request.user, reason=payload.reason)
    return _after(request, order)


@router.post("/orders/{order_id}/start", response=DETAIL, operation_id="start_order", summary="开始办理")
def start_order(request, order_id: int):
    order = get_order_for_user(request, order_id, write=True)
    actions.start_order(order, actor=request.user)
    return _after(request, order)


@router.post("/orders/{order_id}/resolve", response=DETAIL, operation_id="resolve_order", summary="办结")
def resolve_order(request, order_id: int, payload: ResolveIn):
    """The member reports the result with hours (and teammates' hours), or the department resolves."""
    order = get_order_for_user(request, order_id, write=True)
    team = _team(request, order, payload)
    actions.resolve_order(order, actor=request.user, note=payload.note, hours=payload.hours, team_hours=team)
    return _after(request, order)


@router.post("/orders/{order_id}/rate", response=DETAIL, operation_id="rate_order", summary="评价")
def rate_order(request, order_id: int, payload: RateIn):
    """The submitter rates: satisfied/basically close the order; unsatisfied reopens it."""
    order = get_order_for_user(request, order_id, write=True)
    actions.rate_order(order, actor=request.user, rating=payload.rating, comment=payload.comment)
    return _after(request, order)


@router.post("/orders/{order_id}/reopen", response=DETAIL, operation_id="reopen_order", summary="重新办理")
def reopen_order(request, order_id: int, payload: ReasonIn):
    order = get_order_for_user(request, order_id, write=True)
    actions.reopen_order(order, actor=request.user, reason=payload.reason)
    return _after(request, order)


@router.post("/orders/{order_id}/escalate", response=DETAIL, operation_id="escalate_order", summary="吹哨")
def escalate_order(request, order_id: int, payload: EscalateIn):
    """Staff: hand the order to a department of the order's town, with a deadline."""
    order = get_order_for_user(request, order_id, write=True)
    department = _first(
        Department.objects.filter(pk=payload.department_id, town_id=order.town_id),
        "department_id",
        "职能部门不存在，或不属于本街道",
    )
    actions.escalate_order(order, actor=request.user, department=department, due=_aware(payload.due), note=payload.note)
    return _after(request, order)


@router.post("/orders/{order_id}/acknowledge", response=DETAIL, operation_id="acknowledge_order", summary="部门报到")
def acknowledge_order(request, order_id: int, payload: NoteIn | None = None):
    """The department reports for (报到) the escalated order. The body is optional."""
    order = get_order_for_user(request, order_id, write=True)
    actions.acknowledge_order(order, actor=request.user, note=payload.note if payload else "")
    return _after(request, order)


@router.post("/orders/{order_id}/return", response=DETAIL, operation_id="return_order", summary="部门退回")
def return_order(request, order_id: int, payload: ReasonIn):
    """The department returns the order to the community: a bounce, counted in `bounce_count`."""
    order = get_order_for_user(request, order_id, write=True)
    actions.return_order(order, actor=request.user, reason=payload.reason)
    return _after(request, order)
