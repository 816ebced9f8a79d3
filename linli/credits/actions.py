"""Every write to the ledgers: service records, points, corrections, star changes, certificates.

The orders and activities apps call in (credits imports neither): `record_service` and
`award_points` are idempotent per source through unique constraints, so a retried task, a
double click or sixteen concurrent sign-outs leave exactly one row. `credit_closed_order` and
`credit_reopened_order` read an order by duck typing (its `hours` and `events` relations).

Ledger rows are never updated or deleted: a correction is a new row referencing the corrected one.
"""

import datetime as dt
import secrets
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.actions import notify, record_audit
from linli.accounts.models import AuditEntry, Role, User
from linli.credits import ledger
from linli.credits.models import (
    CORRECTION_TRANSITIONS,
    LATE_AFTER_WORKING_DAYS,
    Certificate,
    CorrectionEvent,
    CorrectionRequest,
    PointEntry,
    PointRule,
    ServiceKind,
    ServiceKindRule,
    ServiceRecord,
    SourceType,
    StarEvent,
)
from linli.lib import workcal
from linli.lib.errors import Conflict, DomainError, NotAllowed
from linli.people.models import Member

# The rules every town has unless it configures its own (docs/points.md).
# code: (label, points per hour, fixed points) — exactly one of the two is set.
DEFAULT_RULES: dict[str, tuple[str, Decimal | None, Decimal | None]] = {
    "service_hours": ("服务时长积分", Decimal("1.0"), None),
    "pool_claim": ("主动领单奖励", None, Decimal("2.0")),
    "satisfied": ("群众满意奖励", None, Decimal("1.0")),
    "emergency": ("紧急任务奖励", None, Decimal("5.0")),
    "no_show": ("报名未到扣分", None, Decimal("-5.0")),
    "unsatisfied": ("群众不满意扣分", None, Decimal("-3.0")),
}
# Orders of the top priority count as emergency tasks (紧急任务).
EMERGENCY_PRIORITY = 5

_TENTH = Decimal("0.1")
_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed by hand


# --- helpers --------------------------------------------------------------------------------------


def _tenths(value, *, field: str = "hours") -> Decimal:
    try:
        return Decimal(str(value)).quantize(_TENTH, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        raise DomainError(_("服务时长应为数字"), code=field) from None


def _lock_member(member_id: int) -> None:
    # Serialises one member's ledger writes on PostgreSQL, so a star change is computed from
    # the totals every earlier writer committed; SQLite's IMMEDIATE transactions already do.
    Member.objects.select_for_update().filter(pk=member_id).values_list("pk", flat=True).first()


def _manages(actor, community) -> bool:
    if actor is None:
        return False
    s = actor.scope
    return s.superuser or community.pk in s.community_ids or community.town_id in s.town_ids


def _staff_users(community_id):
    return User.objects.filter(role_assignments__role=Role.COMMUNITY_STAFF, role_assignments__community_id=community_id)


def _actor_or_none(actor):
    return actor if getattr(actor, "pk", None) else None


# --- service kinds ---------------------------------------------------------------------------------


def service_kind(community, *, source_type: str, category=None, activity_kind: str = "", unit_quota: bool = False):
    """The ledger a service lands in, from the community's ServiceKindRule rows.

    Orders: the rule for the category, else the community's order default, else registration
    service. Activity shifts: the rule for the activity kind, else the community's activity
    default, else volunteer service. A unit quota — flagged by the caller or by the matching
    rule — is always registration service.
    """
    if source_type == SourceType.ORDER:
        source, kind = ServiceKindRule.Source.ORDER, ServiceKind.REGISTRATION
        specific = {"category_id": getattr(category, "pk", category)} if category is not None else None
    elif source_type == SourceType.SHIFT:
        source, kind = ServiceKindRule.Source.SHIFT, ServiceKind.VOLUNTEER
        specific = {"activity_kind": activity_kind} if activity_kind else None
    else:  # manual entries are registration service unless a caller says otherwise
        return ServiceKind.REGISTRATION
    rules = ServiceKindRule.objects.filter(community=community, source=source)
    row = rules.filter(**specific).first() if specific else None
    if row is None:
        row = rules.filter(category__isnull=True, activity_kind="").first()
    if row is not None:
        kind, unit_quota = row.kind, unit_quota or row.unit_quota
    return ServiceKind.REGISTRATION if unit_quota else kind


# --- service records --------------------------------------------------------------------------------


def record_service(
    member,
    *,
    hours,
    source_type: str,
    source_id: int,
    community,
    service_date: dt.date,
    activity_name: str,
    place: str,
    content: str,
    organizer: str,
    leader: str,
    recorder=None,
    category=None,
    activity_kind: str = "",
    unit_quota: bool = False,
    calendar: workcal.Calendar | None = None,
) -> ServiceRecord | None:
    """Append one service record (民政部令第67号 art. 7) for `member`; None if this source already has one.

    Idempotent per (member, source_type, source_id) through a unique constraint: of concurrent
    callers exactly one creates the row. The kind (volunteer or registration service) comes
    from the community's configuration (`service_kind`); a unit quota is never volunteer
    service. `hours` has one decimal and is > 0. A record entered more than 10 working days
    after `service_date` is flagged `late` (art. 11); `calendar` carries the town's holidays
    and make-up days (weekends only without it). A change of volunteer star is written as a
    StarEvent and notified.
    """
    hours = _tenths(hours)
    if hours <= 0:
        raise DomainError(_("服务时长应大于0"), code="hours")
    if hours >= Decimal("10000"):
        raise DomainError(_("服务时长过大"), code="hours")
    if source_type not in (SourceType.ORDER, SourceType.SHIFT, SourceType.MANUAL):
        raise DomainError(_("服务记录来源无效"), code="source_type")
    activity_name = (activity_name or "").strip()[:200]
    organizer = (organizer or "").strip()[:100]
    if not activity_name or not organizer:
        raise DomainError(_("服务记录须有活动名称和组织单位"), code="activity_name")
    today = timezone.localdate()
    if service_date > today:
        raise DomainError(_("服务日期不能晚于今天"), code="service_date")
    lookup = {"member_id": member.pk, "source_type": source_type, "source_id": source_id}
    if ServiceRecord.objects.filter(**lookup).exists():
        return None
    kind = service_kind(
        community, source_type=source_type, category=category, activity_kind=activity_kind, unit_quota=unit_quota
    )
    now = timezone.now()
    with transaction.atomic():
        _lock_member(member.pk)
        try:
            with transaction.atomic():
                record = ServiceRecord.objects.create(
                    member=member,
                    community=community,
                    kind=kind,
                    activity_name=activity_name,
                    service_date=service_date,
                    place=(place or "").strip()[:200],
                    content=(content or "").strip()[:500],
                    hours=hours,
                    organizer=organizer,
                    leader=(leader or "").strip()[:50],
                    source_type=source_type,
                    source_id=source_id,
                    category=category,
                    activity_kind=activity_kind or "",
                    recorder=_actor_or_none(recorder),
                    recorded_at=now,
                    late=ledger.working_days_after(service_date, today, calendar) > LATE_AFTER_WORKING_DAYS,
                )
        except IntegrityError:
            if ServiceRecord.objects.filter(**lookup).exists():
                return None  # a concurrent caller recorded this source first
            raise
        _write_star_change(member, record, town_id=community.town_id)
    return record


def _write_star_change(member, record: ServiceRecord, *, town_id) -> StarEvent | None:
    """After `record` joined the ledger: a StarEvent (and a notification) if the volunteer star moved."""
    if record.kind != ServiceKind.VOLUNTEER:
        return None
    after = ledger.volunteer_hours_total(member.pk)
    before = after - record.hours
    thresholds = ledger.settings_for(town_id).thresholds
    old, new = ledger.star_level(before, thresholds), ledger.star_level(after, thresholds)
    if old == new:
        return None
    event = StarEvent.objects.create(
        member=member, at=timezone.now(), from_level=old, to_level=new, hours=after, record=record
    )
    if member.user_id:
        title = f"您的志愿星级升为{new}星" if new > old else f"您的志愿星级调整为{new}星"
        notify(
            [member.user],
            title=title,
            body=f"累计志愿服务时长 {after} 小时",
            url=f"/members/{member.pk}/record/",
            dedupe_key=f"star:{event.pk}",
        )
    return event


# --- points --------------------------------------------------------------------------------------


def point_rule(town_id: int, code: str) -> PointRule:
    """The town's rule `code`, created from DEFAULT_RULES the first time a town needs it."""
    rule = PointRule.objects.filter(town_id=town_id, code=code).first()
    if rule is not None:
        return rule
    if code not in DEFAULT_RULES:
        raise DomainError(_("积分规则“%(code)s”不存在") % {"code": code}, code="rule")
    label, per_hour, fixed = DEFAULT_RULES[code]
    rule, _created = PointRule.objects.get_or_create(
        town_id=town_id, code=code, defaults={"label": label, "points_per_hour": per_hour, "points": fixed}
    )
    return rule


def ensure_point_rules(town, *, actor=None) -> list[PointRule]:
    """Create the town's default rules that are missing, so the admin can edit them."""
    return [point_rule(town.pk, code) for code in DEFAULT_RULES]


def _member_town_id(member):
    if member.home_community_id:
        return member.home_community.town_id
    reg = member.registrations.filter(status="approved").select_related("community").order_by("id").first()
    return reg.community.town_id if reg else None


def award_points(
    member,
    *,
    rule: str,
    source_type: str,
    source_id: int,
    actor=None,
    hours=None,
    when: dt.date | None = None,
    town=None,
) -> PointEntry | None:
    """Append one PointEntry from the town's rule `rule`; None if this source already has one.

    Per-hour rules multiply `hours` (negative hours give negative points: a correction);
    fixed rules give their points (negative = a deduction). Idempotent per (member, rule,
    source_type, source_id). `town` (a Town or its id) picks the rules; without it, the
    member's home community's town. `when` is the day the points count for (its year), today
    by default. A rule switched off or worth 0 writes nothing and returns None.
    """
    town_id = getattr(town, "pk", town) or _member_town_id(member)
    if town_id is None:
        raise DomainError(_("无法确定适用的积分规则（队员没有所属街道）"), code="town")
    if source_type not in SourceType.values:
        raise DomainError(_("积分来源无效"), code="source_type")
    rule_obj = point_rule(town_id, rule)
    if not rule_obj.active:
        return None
    used_hours = rate = None
    if rule_obj.per_hour:
        if hours is None:
            raise DomainError(_("积分规则“%(rule)s”需要服务时长") % {"rule": rule_obj.label}, code="hours")
        used_hours = _tenths(hours)
        rate = rule_obj.points_per_hour
        points = (rate * used_hours).quantize(_TENTH, rounding=ROUND_HALF_UP)
    else:
        points = rule_obj.points
    if not points:
        return None
    lookup = {"member_id": member.pk, "rule": rule_obj, "source_type": source_type, "source_id": source_id}
    if PointEntry.objects.filter(**lookup).exists():
        return None
    try:
        with transaction.atomic():
            return PointEntry.objects.create(
                **lookup,
                town_id=town_id,
                points=points,
                hours=used_hours,
                rate=rate,
                earned_on=when or timezone.localdate(),
                at=timezone.now(),
                actor=_actor_or_none(actor),
            )
    except IntegrityError:
        if PointEntry.objects.filter(**lookup).exists():
            return None  # a concurrent caller was first
        raise


# --- orders (duck-typed: credits does not import linli.orders) ---------------------------------------


def credit_closed_order(order, *, actor=None, calendar: workcal.Calendar | None = None) -> list[ServiceRecord]:
    """Credit the members of an order that just became CLOSED (rated, or auto-closed unrated).

    Call in the same transaction as the close. For each member of the order's LAST
    resolution (its OrderHours rows, already capped by the category at resolve): one service
    record (kind from the community's configuration), points per hour, a bonus for the
    member who claimed it from the pool, a bonus for a 满意 rating, a bonus for an emergency
    (top-priority) order. Deductions for 不满意 ratings the order collected on the way are
    written too (idempotently, so wiring credit_reopened_order as well is harmless).
    Idempotent: calling twice credits once. Returns the records created now.
    """
    created = []
    rows = list(order.hours.select_related("member__user", "event").order_by("-event_id", "id"))
    events = list(order.events.select_related("actor").order_by("at", "id"))
    if rows:
        resolution = rows[0].event
        rows = [r for r in rows if r.event_id == resolution.pk]
        before = [e for e in events if (e.at, e.pk) <= (resolution.at, resolution.pk)]
        claim = next((e for e in reversed(before) if e.to_status == "claimed"), None)
        dispatch = next((e for e in reversed(before) if e.to_status in ("dispatched", "pooled")), None)
        leader = ""
        if dispatch is not None and dispatch.actor is not None:
            leader = dispatch.actor.name or dispatch.actor.get_username()
        # The rating of this close (a rated close records it on its event; an auto-close has
        # none), not order.rating, which may be left over from an earlier round.
        closing = next((e for e in reversed(events) if e.to_status == "closed"), None)
        rating = (closing.data or {}).get("rating", "") if closing is not None else order.rating
        community = order.community
        service_date = timezone.localdate(resolution.at)
        town_id = order.town_id
        for row in rows:
            member = row.member
            record = record_service(
                member,
                hours=row.hours,
                source_type=SourceType.ORDER,
                source_id=order.pk,
                community=community,
                service_date=service_date,
                activity_name=order.title,
                place=order.address or community.name,
                content=(order.result_note or order.title)[:500],
                organizer=community.name,
                leader=leader,
                recorder=actor,
                category=order.category,
                calendar=calendar,
            )
            if record is not None:
                created.append(record)
            common = {"source_type": SourceType.ORDER, "source_id": order.pk, "town": town_id, "actor": actor}
            award_points(member, rule="service_hours", hours=row.hours, when=service_date, **common)
            if claim is not None and claim.member_id == member.pk and (claim.data or {}).get("from_pool"):
                award_points(member, rule="pool_claim", when=service_date, **common)
            if rating == "satisfied":
                award_points(member, rule="satisfied", when=service_date, **common)
            if order.priority >= EMERGENCY_PRIORITY:
                award_points(member, rule="emergency", when=service_date, **common)
    for event in events:
        if _is_unsatisfied_reopen(event):
            _deduct_unsatisfied(order, event, actor=actor)
    return created


def credit_reopened_order(order, member, *, actor=None) -> PointEntry | None:
    """The 不满意 deduction for `member`, at the moment a 不满意 rating reopened the order.

    Finds the order's latest REOPEN event caused by `member` with rating "unsatisfied" and
    deducts once per such event. None if there is none or it was already deducted.
    """
    if member is None:
        return None
    event = (
        order.events.filter(kind="reopen", member_id=member.pk, data__rating="unsatisfied")
        .order_by("-at", "-id")
        .first()
    )
    if event is None:
        return None
    return _deduct_unsatisfied(order, event, actor=actor)


def _is_unsatisfied_reopen(event) -> bool:
    return event.kind == "reopen" and event.member_id is not None and (event.data or {}).get("rating") == "unsatisfied"


def _deduct_unsatisfied(order, event, *, actor) -> PointEntry | None:
    return award_points(
        event.member,
        rule="unsatisfied",
        source_type=SourceType.REOPEN,
        source_id=event.pk,
        town=order.town_id,
        actor=actor,
        when=timezone.localdate(event.at),
    )


# --- corrections -------------------------------------------------------------------------------------


def request_correction(record: ServiceRecord, *, actor, proposed_hours, reason: str) -> CorrectionRequest:
    """A member (or the community's staff) asks to correct a record's hours to `proposed_hours`."""
    original = record.corrects or record
    s = actor.scope if actor is not None else None
    if s is None or not (s.member_id == original.member_id or _manages(actor, original.community)):
        raise NotAllowed(_("只能申请更正自己的服务记录"))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写更正理由"), code="reason")
    proposed = _tenths(proposed_hours, field="proposed_hours")
    if proposed < 0 or proposed >= Decimal("10000"):
        raise DomainError(_("更正后时长应为0或正数"), code="proposed_hours")
    if proposed == ledger.effective_hours(original):
        raise DomainError(_("更正后时长与现有时长相同"), code="proposed_hours")
    now = timezone.now()
    try:
        with transaction.atomic():
            request = CorrectionRequest.objects.create(
                record=original,
                member_id=original.member_id,
                community_id=original.community_id,
                proposed_hours=proposed,
                reason=reason[:500],
                requested_by=actor,
                requested_at=now,
            )
            CorrectionEvent.objects.create(
                request=request,
                at=now,
                actor=actor,
                from_status="",
                to_status=CorrectionRequest.Status.REQUESTED,
                note=reason[:500],
            )
    except IntegrityError:
        raise Conflict(_("该记录已有待审核的更正申请")) from None
    notify(
        _staff_users(original.community_id),
        title=f"服务记录更正申请：{original.member.name}",
        body=reason,
        url=f"/communities/{original.community_id}/corrections/",
        dedupe_key=f"correction:{request.pk}:requested",
    )
    return request


def _transition(request: CorrectionRequest, to: str, *, actor, note: str = "", **fields) -> CorrectionRequest:
    """Compare-and-set the request's status and write its event, in one transaction."""
    old = request.status
    if to not in CORRECTION_TRANSITIONS[old]:
        raise Conflict(_("更正申请状态为“%(status)s”，不能执行此操作") % {"status": request.get_status_display()})
    now = timezone.now()
    with transaction.atomic():
        updated = CorrectionRequest.objects.filter(pk=request.pk, status=old).update(
            status=to, decided_at=now, **fields
        )
        if updated != 1:
            raise Conflict(_("该更正申请已被他人处理，请刷新"))
        CorrectionEvent.objects.create(request=request, at=now, actor=actor, from_status=old, to_status=to, note=note)
    request.status = to
    request.decided_at = now
    for key, value in fields.items():
        setattr(request, key, value)
    return request


def approve_correction(request: CorrectionRequest, *, actor, note: str = "") -> CorrectionRequest:
    """The community approves: a new adjustment row brings the record to the proposed hours.

    Points per hour follow the hours when the original earned them; a volunteer star change
    is written as for any other hours.
    """
    if not _manages(actor, request.community):
        raise NotAllowed(_("只有该社区的工作人员可以审核更正"))
    note = (note or "").strip()[:500]
    original = request.record
    with transaction.atomic():
        _lock_member(original.member_id)
        _transition(request, CorrectionRequest.Status.APPROVED, actor=actor, note=note, decision_note=note)
        delta = request.proposed_hours - ledger.effective_hours(original)
        if delta == 0:
            raise Conflict(_("该记录已是申请的时长，无需更正"))
        adjustment = ServiceRecord.objects.create(
            member_id=original.member_id,
            community_id=original.community_id,
            kind=original.kind,
            activity_name=original.activity_name,
            service_date=original.service_date,
            place=original.place,
            content=f"更正：{request.reason}"[:500],
            hours=delta,
            organizer=original.organizer,
            leader=original.leader,
            source_type=SourceType.CORRECTION,
            source_id=request.pk,
            category_id=original.category_id,
            activity_kind=original.activity_kind,
            corrects=original,
            recorder=actor,
            recorded_at=timezone.now(),
        )
        CorrectionRequest.objects.filter(pk=request.pk).update(adjustment=adjustment)
        request.adjustment = adjustment
        earned = PointEntry.objects.filter(
            member_id=original.member_id,
            rule__code="service_hours",
            source_type=original.source_type,
            source_id=original.source_id,
        ).first()
        if earned is not None:
            award_points(
                original.member,
                rule="service_hours",
                source_type=SourceType.CORRECTION,
                source_id=request.pk,
                hours=delta,
                when=original.service_date,
                town=earned.town_id,
                actor=actor,
            )
        _write_star_change(original.member, adjustment, town_id=original.community.town_id)
    member = original.member
    if member.user_id:
        notify(
            [member.user],
            title=f"您的服务记录更正已通过：{original.activity_name}",
            body=f"时长更正为 {request.proposed_hours} 小时",
            url=f"/members/{member.pk}/record/",
            dedupe_key=f"correction:{request.pk}:approved",
        )
    return request


def decline_correction(request: CorrectionRequest, *, actor, reason: str) -> CorrectionRequest:
    """The community declines, with a reason the member sees."""
    if not _manages(actor, request.community):
        raise NotAllowed(_("只有该社区的工作人员可以审核更正"))
    reason = (reason or "").strip()[:500]
    if not reason:
        raise DomainError(_("请填写不通过的原因"), code="reason")
    _transition(request, CorrectionRequest.Status.DECLINED, actor=actor, note=reason, decision_note=reason)
    member = request.member
    if member.user_id:
        notify(
            [member.user],
            title=f"您的服务记录更正未通过：{reason}",
            url=f"/members/{member.pk}/record/",
            dedupe_key=f"correction:{request.pk}:declined",
        )
    return request


# --- certificates -----------------------------------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


def issue_certificate(
    member, *, actor, community, period_start: dt.date, period_end: dt.date, request=None
) -> Certificate:
    """志愿服务证明 (art. 15) from the member's VOLUNTEER-service records with `community` in the period.

    Issued by the community's staff; the certificate keeps what it says (name, masked ID,
    organisation, services, total) and gets a number and a verification code for the public
    check. Audited.
    """
    if not _manages(actor, community):
        raise NotAllowed(_("只有该社区的工作人员可以出具志愿服务证明"))
    if period_end < period_start:
        raise DomainError(_("截止日期不能早于起始日期"), code="period")
    if period_end > timezone.localdate():
        raise DomainError(_("截止日期不能晚于今天"), code="period")
    records = ServiceRecord.objects.filter(
        member=member,
        community=community,
        kind=ServiceKind.VOLUNTEER,
        service_date__gte=period_start,
        service_date__lte=period_end,
    ).order_by("service_date", "id")
    services: dict[int, dict] = {}
    for r in records:
        key = r.corrects_id or r.pk
        entry = services.setdefault(
            key,
            {
                "date": r.service_date.isoformat(),
                "name": r.activity_name,
                "place": r.place,
                "content": "" if r.corrects_id else r.content,
                "hours": Decimal(0),
            },
        )
        entry["hours"] += r.hours
    listed = [dict(s, hours=str(s["hours"])) for s in services.values() if s["hours"] > 0]
    total = sum((s["hours"] for s in services.values() if s["hours"] > 0), Decimal("0.0"))
    if total <= 0:
        raise DomainError(_("该期间在本社区没有志愿服务记录"), code="period")
    now = timezone.now()
    issuer = f"{community.town.name}{community.name}"
    for _attempt in range(5):
        number = f"ZYFW{timezone.localtime(now):%Y%m%d}{secrets.randbelow(10**6):06d}"
        try:
            with transaction.atomic():
                certificate = Certificate.objects.create(
                    number=number,
                    code=_new_code(),
                    member=member,
                    community=community,
                    member_name=member.name,
                    id_type=member.get_id_type_display(),
                    id_number_masked=member.id_number_masked,
                    issuer=issuer,
                    period_start=period_start,
                    period_end=period_end,
                    hours=total,
                    services=listed,
                    issued_by=actor,
                    issued_at=now,
                )
                record_audit(
                    actor,
                    AuditEntry.Action.EXPORT,
                    obj=certificate,
                    detail={"kind": "certificate", "member": member.pk, "hours": str(total)},
                    request=request,
                )
        except IntegrityError:
            continue  # a number or code collided: draw again
        break
    else:
        raise Conflict(_("证明编号生成失败，请重试"))
    if member.user_id:
        notify(
            [member.user],
            title=f"{issuer}为您出具了志愿服务证明",
            body=f"服务时长 {total} 小时，编号 {certificate.number}",
            url=f"/members/{member.pk}/record/",
            dedupe_key=f"certificate:{certificate.pk}",
        )
    return certificate
