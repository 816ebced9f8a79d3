"""Every state change of an order. Nothing else assigns `Order.status`.

Each public action is verb-first, takes the order positionally and the acting user as `actor`,
checks who may do it, and calls `_transition()`, which compare-and-sets the status against the
TRANSITIONS table and writes one OrderEvent in the same transaction. Notifications go out after
commit through linli.accounts.actions.notify (django-tasks).
"""

import datetime as dt
import hashlib
import json
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from linli.accounts.actions import notify
from linli.accounts.models import Role, User
from linli.credits import actions as credits
from linli.lib import workcal
from linli.lib.errors import Conflict, DomainError, NotAllowed
from linli.orders.models import (
    MEMBER_LOAD_STATUSES,
    TRANSITIONS,
    CategoryRule,
    Channel,
    FollowUp,
    Holiday,
    IdempotencyKey,
    Kind,
    Order,
    OrderEvent,
    OrderHours,
    OrderPhoto,
    Rating,
)
from linli.orders.models import Status as S
from linli.orgs.models import Category, Community, Department, Household, Unit
from linli.people.models import Member, MemberSkill, Registration

MAX_PHOTOS = 3
MAX_PHOTO_BYTES = 5 * 1024 * 1024
_PHOTO_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF")

EVENT_LABELS = {
    S.SUBMITTED: "提交了诉求",
    S.ACCEPTED: "受理",
    S.REJECTED: "不予受理",
    S.MERGED: "合并",
    S.CANCELLED: "撤销",
    S.DISPATCHED: "派单",
    S.POOLED: "发布到领单池",
    S.CLAIMED: "接单",
    S.IN_PROGRESS: "开始办理",
    S.ESCALATED: "吹哨至职能部门",
    S.ACKNOWLEDGED: "部门报到",
    S.RESOLVED: "办结",
    S.CLOSED: "关闭",
}
# The same actions as a verb in the refusal message of `_transition` ("…，不能撤销"), translated
# there; EVENT_LABELS stay untranslated because they are stored as event notes.
_REFUSED_ACTIONS = {
    S.SUBMITTED: pgettext_lazy("order action", "提交了诉求"),
    S.ACCEPTED: pgettext_lazy("order action", "受理"),
    S.REJECTED: pgettext_lazy("order action", "不予受理"),
    S.MERGED: pgettext_lazy("order action", "合并"),
    S.CANCELLED: pgettext_lazy("order action", "撤销"),
    S.DISPATCHED: pgettext_lazy("order action", "派单"),
    S.POOLED: pgettext_lazy("order action", "发布到领单池"),
    S.CLAIMED: pgettext_lazy("order action", "接单"),
    S.IN_PROGRESS: pgettext_lazy("order action", "开始办理"),
    S.ESCALATED: pgettext_lazy("order action", "吹哨至职能部门"),
    S.ACKNOWLEDGED: pgettext_lazy("order action", "部门报到"),
    S.RESOLVED: pgettext_lazy("order action", "办结"),
    S.CLOSED: pgettext_lazy("order action", "关闭"),
}


# --- who is acting ------------------------------------------------------------------------------


def _is_staff_for(actor, order) -> bool:
    s = actor.scope
    return s.superuser or order.community_id in s.community_ids or order.town_id in s.town_ids


def _require_staff(actor, order):
    if actor is None or not _is_staff_for(actor, order):
        raise NotAllowed(_("只有本社区工作人员可以执行此操作"))


def _member_of(actor) -> Member:
    member = getattr(actor, "member_profile", None)
    if member is None:
        raise NotAllowed(_("只有已登记的党员/志愿者可以执行此操作"))
    return member


def _is_submitter(actor, order) -> bool:
    if actor is None:
        return False
    if order.submitted_by_id == actor.pk:
        return True
    return bool(order.resident_id and actor.scope.resident_id == order.resident_id)


# --- the transition -----------------------------------------------------------------------------


def _transition(
    order: Order,
    to: str,
    *,
    actor,
    sources=None,
    verb=None,
    event_kind=OrderEvent.Kind.TRANSITION,
    note: str = "",
    member=None,
    department=None,
    data=None,
    **fields,
) -> OrderEvent:
    """Compare-and-set `order.status` to `to` and write its event, in one transaction.

    `sources` narrows the table for one action: several actions lead to the same status (accept,
    decline, recall, return and reopen all lead to ACCEPTED) from different starting points.
    Raises Conflict when the move is not allowed or someone else changed the order first.
    """
    old = order.status
    if to not in TRANSITIONS[old] or (sources is not None and old not in sources):
        raise Conflict(
            _("工单当前状态为“%(status)s”，不能%(action)s")
            % {
                "status": order.get_status_display(),
                "action": verb if verb is not None else _REFUSED_ACTIONS.get(to, to),
            }
        )
    now = timezone.now()
    with transaction.atomic():
        updated = Order.objects.filter(pk=order.pk, status=old).update(status=to, updated_at=now, **fields)
        if updated != 1:
            raise Conflict(_("工单已被他人处理，请刷新后重试"), code="already_taken")
        event = OrderEvent.objects.create(
            order=order,
            at=now,
            actor=actor if getattr(actor, "pk", None) else None,
            kind=event_kind,
            from_status=old,
            to_status=to,
            note=note,
            member=member,
            department=department,
            data=data or {},
        )
    order.status = to
    order.updated_at = now
    for key, value in fields.items():
        setattr(order, key, value)
    return event


# --- deadlines ----------------------------------------------------------------------------------


def town_calendar(town_id: int, start: dt.date) -> workcal.Calendar:
    """The town's working calendar for the coming months (holidays and make-up days)."""
    rows = Holiday.objects.filter(town_id=town_id, date__gte=start, date__lte=start + dt.timedelta(days=400))
    holidays, makeup = set(), set()
    for day, is_workday in rows.values_list("date", "is_workday"):
        (makeup if is_workday else holidays).add(day)
    return workcal.Calendar(holidays=frozenset(holidays), makeup_workdays=frozenset(makeup))


def _rule(category: Category) -> CategoryRule:
    try:
        return category.rule
    except CategoryRule.DoesNotExist:
        return CategoryRule(category=category)  # defaults, unsaved


def _deadlines(order: Order, category: Category, start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    rule = _rule(category)
    local = timezone.localtime(start)
    cal = town_calendar(order.town_id, local.date())
    return (
        workcal.add_working_minutes(local, rule.respond_minutes, cal),
        workcal.add_working_days(local, rule.resolve_days, cal),
    )


# --- intake -------------------------------------------------------------------------------------


def _check_photos(photos) -> list:
    photos = [p for p in (photos or []) if p]
    if len(photos) > MAX_PHOTOS:
        raise DomainError(_("最多上传%(max)s张照片") % {"max": MAX_PHOTOS}, code="photos")
    for photo in photos:
        if photo.size > MAX_PHOTO_BYTES:
            raise DomainError(_("照片“%(name)s”超过5MB") % {"name": photo.name}, code="photos")
        head = photo.read(8)
        photo.seek(0)
        if not head.startswith(_PHOTO_MAGIC):
            raise DomainError(_("“%(name)s”不是 JPEG/PNG/WebP 图片") % {"name": photo.name}, code="photos")
    return photos


def body_hash(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def submit_order(
    *,
    actor,
    title: str,
    description: str = "",
    kind: str = Kind.NEED,
    community: Community | None = None,
    household: Household | None = None,
    address: str = "",
    lat=None,
    long=None,
    category=None,
    anonymous: bool = False,
    channel: str = Channel.WEB,
    resident=None,
    contact_name: str = "",
    contact_phone: str = "",
    photos=(),
    partner: str = "",
    idempotency_key: str = "",
    idempotency_body: dict | None = None,
) -> Order:
    """File an order (群众下单) — by a resident, by staff or a grid worker on a resident's behalf,
    or through the API/Open311. Location: a household, or an address within a community.

    With `idempotency_key`, the same key and body return the order made the first time; the same
    key with another body raises DomainError(code="idempotency_mismatch").
    """
    title = (title or "").strip()
    if not title:
        raise DomainError(_("请填写诉求标题"), code="title")
    if len(title) > 100:
        raise DomainError(_("标题不能超过100字"), code="title")
    if len(description or "") > 4000:
        raise DomainError(_("描述不能超过4000字"), code="description")
    if kind not in Kind.values:
        raise DomainError(_("诉求类型无效"), code="kind")
    if household is not None:
        household = Household.objects.select_related("building__grid__community").get(pk=household.pk)
        community = household.building.grid.community
        address = address or household.address
    if community is None:
        raise DomainError(_("请选择所在社区或住户地址"), code="location")
    if not household and not (address or "").strip() and lat is None:
        raise DomainError(_("请填写地址或选择住户"), code="location")
    if category is not None and category.town_id != community.town_id:
        raise DomainError(_("类别不属于本街道"), code="category")
    photos = _check_photos(photos)
    if idempotency_key:
        existing = _idempotent_order(actor, idempotency_key, idempotency_body or {})
        if existing is not None:
            return existing
    if resident is None and actor is not None and channel == Channel.WEB:
        resident = getattr(actor, "resident_profile", None)
    now = timezone.now()
    order = Order(
        town_id=community.town_id,
        community=community,
        household=household,
        building=household.building if household else None,
        grid=household.building.grid if household else None,
        address=(address or "").strip(),
        lat=lat,
        long=long,
        kind=kind,
        category=category,
        title=title,
        description=description or "",
        channel=channel,
        partner=partner,
        submitted_by=actor if getattr(actor, "pk", None) else None,
        resident=resident,
        contact_name=contact_name,
        contact_phone=contact_phone,
        anonymous=anonymous,
        created_at=now,
        updated_at=now,
    )
    try:
        with transaction.atomic():
            order.save()
            OrderEvent.objects.create(
                order=order,
                at=now,
                actor=order.submitted_by,
                from_status="",
                to_status=S.SUBMITTED,
                note=EVENT_LABELS[S.SUBMITTED],
                data={"channel": channel},
            )
            for photo in photos:
                OrderPhoto.objects.create(order=order, stage=OrderPhoto.Stage.SUBMITTED, image=photo)
            if idempotency_key:
                IdempotencyKey.objects.create(
                    user=actor, key=idempotency_key, body_hash=body_hash(idempotency_body or {}), order=order
                )
    except IntegrityError:
        if idempotency_key:  # a concurrent retry with the same key won the race
            existing = _idempotent_order(actor, idempotency_key, idempotency_body or {})
            if existing is not None:
                return existing
        raise
    notify(
        _staff_users(order.community_id),
        title=f"新诉求：{order.title}",
        url=f"/orders/{order.pk}/",
        dedupe_key=f"order:{order.pk}:submitted",
    )
    return order


def _idempotent_order(actor, key: str, body: dict) -> Order | None:
    row = IdempotencyKey.objects.filter(user=actor, key=key).select_related("order").first()
    if row is None:
        return None
    if row.body_hash != body_hash(body):
        raise DomainError(_("同一 Idempotency-Key 对应的请求内容不同"), code="idempotency_mismatch")
    return row.order


def duplicate_candidates(*, category, household=None, grid=None, exclude_pk=None, limit: int = 5):
    """Open orders of the same category in the same building (else grid): shown before submitting."""
    qs = Order.objects.open().filter(category=category)
    if household is not None:
        qs = qs.filter(building_id=household.building_id)
    elif grid is not None:
        qs = qs.filter(grid=grid)
    else:
        return Order.objects.none()
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.order_by("-created_at")[:limit]


# --- triage -------------------------------------------------------------------------------------


def accept_order(
    order: Order, *, actor, category: Category, priority: int = 3, kind: str | None = None, note: str = ""
) -> Order:
    """Triage (受理): set category and priority; stamp the response and resolve deadlines."""
    _require_staff(actor, order)
    if category.town_id != order.town_id:
        raise DomainError(_("类别不属于本街道"), code="category")
    if not 1 <= int(priority) <= 5:
        raise DomainError(_("优先级应为1到5"), code="priority")
    now = timezone.now()
    respond_by, resolve_by = _deadlines(order, category, now)
    fields = {
        "category": category,
        "priority": int(priority),
        "accepted_at": now,
        "respond_by": respond_by,
        "resolve_by": resolve_by,
    }
    if kind:
        if kind not in Kind.values:
            raise DomainError(_("诉求类型无效"), code="kind")
        fields["kind"] = kind
    event = _transition(
        order, S.ACCEPTED, actor=actor, sources={S.SUBMITTED}, note=note or EVENT_LABELS[S.ACCEPTED], **fields
    )
    _notify_resident(order, event, f"您的诉求“{order.title}”已受理")
    return order


def reject_order(order: Order, *, actor, reason: str) -> Order:
    """Refuse with a reason the resident sees."""
    _require_staff(actor, order)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写不予受理的原因"), code="reason")
    now = timezone.now()
    event = _transition(
        order,
        S.REJECTED,
        actor=actor,
        note=reason,
        reject_reason=reason,
        closed_at=now,
        responded_at=order.responded_at or now,
    )
    _notify_resident(order, event, f"您的诉求“{order.title}”不予受理：{reason}")
    return order


def merge_order(order: Order, *, into: Order, actor, note: str = "") -> Order:
    """Merge a duplicate into an open order of the same community."""
    _require_staff(actor, order)
    if into.pk == order.pk or into.community_id != order.community_id:
        raise DomainError(_("只能合并到本社区的其他工单"), code="into")
    if not into.is_open:
        raise DomainError(_("目标工单已结束，不能合并"), code="into")
    event = _transition(
        order,
        S.MERGED,
        actor=actor,
        note=note or f"合并至 #{into.pk}",
        merged_into=into,
        closed_at=timezone.now(),
        data={"into": into.pk},
    )
    _notify_resident(order, event, f"您的诉求“{order.title}”已与同类诉求合并办理")
    return order


def cancel_order(order: Order, *, actor, reason: str = "") -> Order:
    """The resident withdraws the order before it is dispatched."""
    if not (_is_submitter(actor, order) or _is_staff_for(actor, order)):
        raise NotAllowed(_("只有提交人可以撤销"))
    _transition(order, S.CANCELLED, actor=actor, note=reason or "居民撤销", closed_at=timezone.now())
    return order


# --- dispatch and claims --------------------------------------------------------------------------


def member_fit_errors(member: Member, order: Order) -> list[str]:
    """Hard constraints for a member to take an order; empty list = may take it."""
    errors = []
    if not Registration.objects.filter(
        member=member, community_id=order.community_id, status=Registration.Status.APPROVED
    ).exists():
        errors.append(_("未向该社区报到"))
    if order.category_id:
        rule = _rule(order.category)
        if (
            rule.required_skill_id
            and rule.skill_required_to_claim
            and not MemberSkill.objects.filter(member=member, skill_id=rule.required_skill_id).exists()
        ):
            errors.append(_("不具备所需技能“%(skill)s”") % {"skill": rule.required_skill})
    load = Order.objects.filter(assignee=member, status__in=MEMBER_LOAD_STATUSES).exclude(pk=order.pk).count()
    if load >= member.load_cap:
        errors.append(_("当前已承接%(load)s单，达到上限%(cap)s单") % {"load": load, "cap": member.load_cap})
    return errors


def _lock_member(member: Member) -> None:
    # Serialises one member's claims on PostgreSQL so two claims cannot both pass the load cap;
    # SQLite's IMMEDIATE transactions already serialise writers.
    Member.objects.select_for_update().filter(pk=member.pk).values_list("pk", flat=True).first()


def dispatch_order(
    order: Order, *, actor, member: Member | None = None, unit: Unit | None = None, pool: bool = False, note: str = ""
) -> Order:
    """派单: to a chosen member (因人下单), to a unit or team (集体派单), or to the open pool (灵活下单)."""
    _require_staff(actor, order)
    if sum([member is not None, unit is not None, bool(pool)]) != 1:
        raise DomainError(_("请选择派给党员、单位或领单池之一"), code="target")
    now = timezone.now()
    responded = {"responded_at": order.responded_at or now}
    with transaction.atomic():
        if member is not None:
            _lock_member(member)
            errors = member_fit_errors(member, order)
            if errors:
                raise DomainError(
                    _("不能派给%(name)s：%(reasons)s") % {"name": member.name, "reasons": "；".join(errors)},
                    code="member",
                )
            event = _transition(
                order,
                S.DISPATCHED,
                actor=actor,
                member=member,
                note=note or f"派给{member.name}",
                assignee=member,
                assignee_unit=None,
                **responded,
            )
        elif unit is not None:
            if not unit.pairings.filter(community_id=order.community_id).exists():
                raise DomainError(_("%(unit)s未与本社区结对") % {"unit": unit.name}, code="unit")
            event = _transition(
                order,
                S.DISPATCHED,
                actor=actor,
                note=note or f"派给{unit.name}",
                assignee=None,
                assignee_unit=unit,
                data={"unit": unit.pk},
                **responded,
            )
        else:
            event = _transition(
                order,
                S.POOLED,
                actor=actor,
                note=note or EVENT_LABELS[S.POOLED],
                assignee=None,
                assignee_unit=None,
                **responded,
            )
    if member is not None and member.user_id:
        notify(
            [member.user],
            title=f"派给您的工单：{order.title}",
            url=f"/orders/{order.pk}/",
            dedupe_key=f"order:{order.pk}:event:{event.pk}",
        )
    if unit is not None:
        notify(
            User.objects.filter(role_assignments__role=Role.UNIT_ADMIN, role_assignments__unit=unit),
            title=f"集体派单：{order.title}",
            url=f"/orders/{order.pk}/",
            dedupe_key=f"order:{order.pk}:event:{event.pk}",
        )
    _notify_resident(order, event, f"您的诉求“{order.title}”已派单办理")
    return order


def recall_order(order: Order, *, actor, note: str = "") -> Order:
    """Staff take a dispatched or pooled order back to the queue."""
    _require_staff(actor, order)
    _transition(
        order,
        S.ACCEPTED,
        actor=actor,
        sources={S.DISPATCHED, S.POOLED, S.CLAIMED, S.IN_PROGRESS},
        verb=pgettext_lazy("order action", "收回"),
        note=note or "收回重新派单",
        assignee=None,
        assignee_unit=None,
    )
    return order


def claim_order(order: Order, *, actor) -> Order:
    """接单/领单: a member accepts an order dispatched to them (or their unit), or claims one from the pool.

    Compare-and-set: of many members claiming one pooled order at once, exactly one wins; the
    others get Conflict(code="already_taken").
    """
    member = _member_of(actor)
    with transaction.atomic():
        _lock_member(member)
        if order.status == S.DISPATCHED:
            if order.assignee_id and order.assignee_id != member.pk:
                raise NotAllowed(_("该工单已派给其他党员"))
            if order.assignee_unit_id and order.assignee_unit_id != member.unit_id:
                raise NotAllowed(_("该工单派给了其他单位"))
        elif order.status != S.POOLED:
            raise Conflict(_("该工单已被接走"), code="already_taken")
        errors = member_fit_errors(member, order)
        if errors:
            raise DomainError(_("不能接单：%(reasons)s") % {"reasons": "；".join(errors)}, code="not_eligible")
        event = _transition(
            order,
            S.CLAIMED,
            actor=actor,
            member=member,
            note=f"{member.name}接单",
            assignee=member,
            data={"from_pool": order.status == S.POOLED},
        )
    _notify_resident(order, event, f"党员已接单办理您的诉求“{order.title}”")
    return order


def decline_order(order: Order, *, actor, reason: str) -> Order:
    """The member declines a dispatch, or gives back a claimed order, with a reason: back to the queue."""
    member = _member_of(actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写拒单原因"), code="reason")
    if order.status == S.DISPATCHED and order.assignee_unit_id and not order.assignee_id:
        if order.assignee_unit_id != member.unit_id:
            raise NotAllowed(_("该工单不是派给您的"))
    elif order.assignee_id != member.pk:
        raise NotAllowed(_("该工单不是派给您的"))
    event = _transition(
        order,
        S.ACCEPTED,
        actor=actor,
        sources={S.DISPATCHED, S.CLAIMED, S.IN_PROGRESS},
        verb=pgettext_lazy("order action", "退单"),
        member=member,
        note=reason,
        assignee=None,
        assignee_unit=None,
        data={"declined": True},
    )
    notify(
        _staff_users(order.community_id),
        title=f"{member.name}拒单：{order.title}",
        body=reason,
        url=f"/orders/{order.pk}/",
        dedupe_key=f"order:{order.pk}:event:{event.pk}",
    )
    return order


def start_order(order: Order, *, actor) -> Order:
    member = _member_of(actor)
    if order.assignee_id != member.pk:
        raise NotAllowed(_("该工单不是您承办的"))
    _transition(order, S.IN_PROGRESS, actor=actor, member=member, note=EVENT_LABELS[S.IN_PROGRESS])
    return order


def _hours(value, cap: Decimal) -> Decimal:
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        raise DomainError(_("服务时长应为数字"), code="hours") from None
    if hours <= 0:
        raise DomainError(_("服务时长应大于0"), code="hours")
    if hours > cap:
        raise DomainError(_("单次服务时长不能超过%(cap)s小时") % {"cap": cap}, code="hours")
    return hours


def resolve_order(order: Order, *, actor, note: str, hours=None, team_hours: dict | None = None, photos=()) -> Order:
    """办结: the member reports the result with hours spent (per member for a team), or the
    department resolves an escalated order."""
    note = (note or "").strip()
    if not note:
        raise DomainError(_("请填写办理结果"), code="note")
    photos = _check_photos(photos)
    now = timezone.now()
    if order.status == S.ACKNOWLEDGED:
        if actor is None or order.department_id not in actor.scope.department_ids:
            raise NotAllowed(_("只有承办部门可以办结"))
        with transaction.atomic():
            event = _transition(
                order,
                S.RESOLVED,
                actor=actor,
                department=order.department,
                note=note,
                result_note=note,
                resolved_at=now,
            )
            _save_photos(order, photos)
    else:
        member = _member_of(actor)
        if order.assignee_id != member.pk:
            raise NotAllowed(_("该工单不是您承办的"))
        cap = _rule(order.category).max_hours if order.category_id else Decimal("8")
        declared = {member: _hours(hours, cap)}
        for other, value in (team_hours or {}).items():
            declared[other] = _hours(value, cap)
        with transaction.atomic():
            event = _transition(
                order, S.RESOLVED, actor=actor, member=member, note=note, result_note=note, resolved_at=now
            )
            OrderHours.objects.bulk_create(
                [OrderHours(event=event, order=order, member=m, hours=h) for m, h in declared.items()]
            )
            _save_photos(order, photos)
    _notify_resident(order, event, f"您的诉求“{order.title}”已办结，请评价")
    return order


def _save_photos(order, photos):
    for photo in photos:
        OrderPhoto.objects.create(order=order, stage=OrderPhoto.Stage.RESULT, image=photo)


def rate_order(order: Order, *, actor, rating: str, comment: str = "") -> Order:
    """The resident rates: 满意/基本满意 closes the order; 不满意 reopens it to the queue."""
    if not _is_submitter(actor, order):
        raise NotAllowed(_("只有提交人可以评价"))
    if rating not in Rating.values:
        raise DomainError(_("评价无效"), code="rating")
    now = timezone.now()
    comment = (comment or "").strip()[:500]
    if rating == Rating.UNSATISFIED:
        return _reopen(
            order,
            actor=actor,
            reason=comment or "群众不满意",
            sources={S.RESOLVED},
            rating=rating,
            rating_comment=comment,
        )
    with transaction.atomic():
        _transition(
            order,
            S.CLOSED,
            actor=actor,
            note=comment or Rating(rating).label,
            rating=rating,
            rating_comment=comment,
            closed_at=now,
            data={"rating": rating},
        )
        _credit_closed(order, actor=actor)
    return order


def _credit_closed(order: Order, *, actor) -> None:
    """Hours and points for the members of a just-closed order (the ledgers are append-only and
    idempotent per member and order), with the town's calendar for the art. 11 lateness flag."""
    resolved = timezone.localtime(order.resolved_at).date() if order.resolved_at else timezone.localdate()
    credits.credit_closed_order(order, actor=actor, calendar=town_calendar(order.town_id, resolved))


def reopen_order(order: Order, *, actor, reason: str) -> Order:
    """Staff reopen a resolved or closed order (e.g. after a follow-up call)."""
    _require_staff(actor, order)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写重新办理的原因"), code="reason")
    return _reopen(order, actor=actor, reason=reason)


def _reopen(order: Order, *, actor, reason: str, sources=frozenset({S.RESOLVED, S.CLOSED}), **fields) -> Order:
    previous = order.assignee
    now = timezone.now()
    resolve_by = _deadlines(order, order.category, now)[1] if order.category_id else order.resolve_by
    with transaction.atomic():
        event = _transition(
            order,
            S.ACCEPTED,
            actor=actor,
            sources=sources,
            verb=pgettext_lazy("order action", "重新办理"),
            event_kind=OrderEvent.Kind.REOPEN,
            note=reason,
            member=previous,
            assignee=None,
            assignee_unit=None,
            department_id=None,
            resolved_at=None,
            closed_at=None,
            resolve_by=resolve_by,
            data={"rating": fields.get("rating", "")},
            **fields,
        )
        if fields.get("rating") == Rating.UNSATISFIED and previous is not None:
            credits.credit_reopened_order(order, previous, actor=actor)  # the 不满意 deduction
    users = list(_staff_users(order.community_id))
    if previous is not None and previous.user_id:
        users.append(previous.user)
    notify(
        users,
        title=f"工单重新办理：{order.title}",
        body=reason,
        url=f"/orders/{order.pk}/",
        dedupe_key=f"order:{order.pk}:event:{event.pk}",
    )
    return order


# --- escalation (吹哨报到) ------------------------------------------------------------------------


def escalate_order(
    order: Order, *, actor, department: Department, due: dt.datetime | None = None, note: str = ""
) -> Order:
    """吹哨: hand an accepted order to a functional department with a deadline."""
    _require_staff(actor, order)
    if department.town_id != order.town_id:
        raise DomainError(_("只能吹哨至本街道的职能部门"), code="department")
    now = timezone.now()
    if due is None:
        due = order.resolve_by or workcal.add_working_days(
            timezone.localtime(now), 3, town_calendar(order.town_id, now.date())
        )
    if due <= now:
        raise DomainError(_("部门办理时限应晚于现在"), code="due")
    event = _transition(
        order,
        S.ESCALATED,
        actor=actor,
        department=department,
        note=note or f"吹哨至{department.name}",
        department_id=department.pk,
        escalation_due=due,
        responded_at=order.responded_at or now,
    )
    notify(
        User.objects.filter(role_assignments__role=Role.DEPARTMENT_STAFF, role_assignments__department=department),
        title=f"社区吹哨：{order.title}",
        url=f"/orders/{order.pk}/",
        dedupe_key=f"order:{order.pk}:event:{event.pk}",
    )
    return order


def _require_department(actor, order):
    if actor is None or order.department_id not in actor.scope.department_ids:
        raise NotAllowed(_("只有被吹哨的部门可以执行此操作"))


def acknowledge_order(order: Order, *, actor, note: str = "") -> Order:
    """报到: the department acknowledges the escalated order."""
    _require_department(actor, order)
    _transition(order, S.ACKNOWLEDGED, actor=actor, department=order.department, note=note or "部门报到")
    return order


def return_order(order: Order, *, actor, reason: str) -> Order:
    """The department returns the order with a reason: a bounce, counted and shown, never silent."""
    _require_department(actor, order)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写退回原因"), code="reason")
    department = order.department
    event = _transition(
        order,
        S.ACCEPTED,
        actor=actor,
        sources={S.ESCALATED, S.ACKNOWLEDGED},
        verb=pgettext_lazy("order action", "退回"),
        event_kind=OrderEvent.Kind.BOUNCE,
        department=department,
        note=reason,
        department_id=None,
        escalation_due=None,
    )
    notify(
        _staff_users(order.community_id),
        title=f"{department.name}退回：{order.title}",
        body=reason,
        url=f"/orders/{order.pk}/",
        dedupe_key=f"order:{order.pk}:event:{event.pk}",
    )
    return order


# --- follow-up and sweeps -------------------------------------------------------------------------


def record_follow_up(order: Order, *, actor, outcome: str, note: str = "") -> FollowUp:
    """回访: a grid worker (or staff) records the call back on a closed order."""
    s = actor.scope
    if not (s.superuser or order.grid_id in s.grid_ids or _is_staff_for(actor, order)):
        raise NotAllowed(_("只有本网格网格员或社区工作人员可以回访"))
    if order.status not in (S.CLOSED, S.RESOLVED):
        raise Conflict(_("只能回访已办结的工单"))
    if outcome not in FollowUp.Outcome.values:
        raise DomainError(_("回访结果无效"), code="outcome")
    with transaction.atomic():
        event = OrderEvent.objects.create(
            order=order,
            actor=actor,
            kind=OrderEvent.Kind.FOLLOW_UP,
            note=note or FollowUp.Outcome(outcome).label,
            data={"outcome": outcome},
        )
        follow_up = FollowUp.objects.create(order=order, event=event, outcome=outcome, note=note)
    if outcome == FollowUp.Outcome.UNSATISFIED:
        notify(
            _staff_users(order.community_id),
            title=f"回访不满意：{order.title}",
            body=note,
            url=f"/orders/{order.pk}/",
            dedupe_key=f"order:{order.pk}:event:{event.pk}",
        )
    return follow_up


def close_unrated_order(order: Order, *, actor=None) -> Order:
    """Close a resolved order nobody rated within the category's auto-close days (sweep)."""
    with transaction.atomic():
        _transition(
            order, S.CLOSED, actor=actor, note="超期未评价，自动关闭", closed_at=timezone.now(), data={"auto": True}
        )
        _credit_closed(order, actor=actor)
    return order


def flag_overdue_order(order: Order, *, now=None) -> bool:
    """Mark an overdue order for staff attention once per deadline; True if newly flagged."""
    now = now or timezone.now()
    if order.resolve_by and order.resolve_by < now:
        which, deadline = "resolve", order.resolve_by
    elif order.respond_by and order.respond_by < now and order.status in (S.SUBMITTED, S.ACCEPTED):
        which, deadline = "respond", order.respond_by
    else:
        return False
    key = f"overdue:{which}:{deadline.isoformat()}"
    try:
        with transaction.atomic():
            event = OrderEvent.objects.create(
                order=order,
                kind=OrderEvent.Kind.OVERDUE,
                dedupe_key=key,
                note="超过响应时限" if which == "respond" else "超过办结时限",
                data={"which": which},
            )
    except IntegrityError:
        return False
    notify(
        _staff_users(order.community_id),
        title=f"工单超时：{order.title}",
        url=f"/orders/{order.pk}/",
        dedupe_key=f"order:{order.pk}:event:{event.pk}",
    )
    return True


# --- recipients ---------------------------------------------------------------------------------


def _staff_users(community_id):
    return User.objects.filter(role_assignments__role=Role.COMMUNITY_STAFF, role_assignments__community_id=community_id)


def _notify_resident(order: Order, event: OrderEvent, title: str) -> None:
    users = []
    if order.submitted_by_id:
        users.append(order.submitted_by)
    if order.resident_id and order.resident.user_id and order.resident.user_id != order.submitted_by_id:
        users.append(order.resident.user)
    notify(users, title=title, url=f"/orders/{order.pk}/", dedupe_key=f"order:{order.pk}:event:{event.pk}")
