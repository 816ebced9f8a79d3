"""Every state change of activities, shifts and sign-ups. Nothing else assigns a status.

Each public action is verb-first, takes its object positionally and the acting user as `actor`,
checks who may do it, runs in one transaction and writes one ActivityEvent per change.
Statuses move only through `_transition_activity()` / `_transition_signup()`, compare-and-set
against the literal tables in models.py. Notifications go out after commit (notify()).

Concurrency (the claims of docs/architecture.md apply here too):
* the last seat: `Shift.seats_taken` moves by compare-and-set (`seats_taken < capacity`), so of
  many members taking the last seat at once exactly one gets it;
* one member's overlapping shifts: sign-ups of one member are serialised by locking the
  member's row (PostgreSQL; SQLite's IMMEDIATE transactions serialise all writers), and the
  overlap check runs after the lock, inside the transaction;
* sign-out: compare-and-set checked_in → completed, and the ledger rows are written in the same
  transaction, so sixteen concurrent sign-outs produce one service record.

Hours land in the credits ledgers through linli.credits.actions (record_service, award_points)
with source_type="shift" and source_id = the sign-up's id: one record per member per shift.
"""

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.actions import notify
from linli.activities import qrcodes
from linli.activities.models import (
    ACTIVITY_TRANSITIONS,
    SIGNUP_TRANSITIONS,
    Activity,
    ActivityEvent,
    CalendarFeed,
    Kind,
    Shift,
    SignUp,
    hours_between,
)
from linli.credits import actions as credits
from linli.lib.errors import Conflict, DomainError, NotAllowed
from linli.people.models import Member, MemberSkill, Registration

A, U = Activity.Status, SignUp.Status
E = ActivityEvent.Kind

# Sign-in opens this long before a shift starts and closes when it ends; sign-out stays open
# this long after the end (later, staff mark attendance by hand).
CHECK_IN_EARLY = dt.timedelta(minutes=30)
CHECK_OUT_GRACE = dt.timedelta(hours=3)
# A second scan sooner than this after signing in is a double scan, not a sign-out.
MIN_STAY = dt.timedelta(minutes=5)
# Reminders go out the day before: for shifts starting within this window.
REMIND_AHEAD = dt.timedelta(hours=24)
MAX_SHIFT_LENGTH = dt.timedelta(hours=12)
SOURCE_TYPE = "shift"
# linli.credits point rules (DEFAULT_RULES there): points per hour served; the no-show deduction.
HOURS_RULE = "service_hours"
NO_SHOW_RULE = "no_show"

_LOCAL_FORMAT = "%m-%d %H:%M"


def _local(moment: dt.datetime, fmt: str = _LOCAL_FORMAT) -> str:
    return timezone.localtime(moment).strftime(fmt)


# --- who is acting ------------------------------------------------------------------------------


def _manages(actor, community_id: int, town_id: int) -> bool:
    if actor is None:
        return False
    s = actor.scope
    return s.superuser or community_id in s.community_ids or town_id in s.town_ids


def _require_staff(actor, activity: Activity) -> None:
    if not _manages(actor, activity.community_id, activity.community.town_id):
        raise NotAllowed(_("只有本社区工作人员可以执行此操作"))


def _member_of(actor) -> Member:
    member = getattr(actor, "member_profile", None)
    if member is None:
        raise NotAllowed(_("只有已登记的党员/志愿者可以参加活动"))
    return member


def _lock_member(member: Member) -> None:
    # Serialises one member's sign-ups on PostgreSQL so two overlapping shifts cannot both pass
    # the overlap check; SQLite's IMMEDIATE transactions already serialise writers.
    Member.objects.select_for_update().filter(pk=member.pk).values_list("pk", flat=True).first()


def _actor_or_none(actor):
    return actor if getattr(actor, "pk", None) else None


# --- the transitions ---------------------------------------------------------------------------


def _transition_activity(activity: Activity, to: str, *, actor, kind: str, note: str = "", **fields) -> ActivityEvent:
    """Compare-and-set the activity's status and write its event, in one transaction."""
    old = activity.status
    if to not in ACTIVITY_TRANSITIONS[old]:
        raise Conflict(_("活动当前状态为“%(status)s”，不能执行此操作") % {"status": activity.get_status_display()})
    now = timezone.now()
    with transaction.atomic():
        updated = Activity.objects.filter(pk=activity.pk, status=old).update(status=to, updated_at=now, **fields)
        if updated != 1:
            raise Conflict(_("活动已被他人修改，请刷新后重试"))
        event = ActivityEvent.objects.create(
            activity=activity, at=now, actor=_actor_or_none(actor), kind=kind, from_status=old, to_status=to, note=note
        )
    activity.status = to
    activity.updated_at = now
    for key, value in fields.items():
        setattr(activity, key, value)
    return event


def _transition_signup(
    signup: SignUp,
    to: str,
    *,
    actor,
    kind: str,
    sources=None,
    note: str = "",
    data=None,
    conflict: str = gettext_lazy("报名状态已变化，请刷新后重试"),
    **fields,
) -> ActivityEvent:
    """Compare-and-set the sign-up's status and write its event, in one transaction.

    Raises Conflict when the table forbids the move or someone else changed it first (the
    loser of sixteen concurrent sign-outs gets here)."""
    old = signup.status
    if to not in SIGNUP_TRANSITIONS[old] or (sources is not None and old not in sources):
        raise Conflict(str(conflict), code="signup_status")
    now = timezone.now()
    with transaction.atomic():
        updated = SignUp.objects.filter(pk=signup.pk, status=old).update(status=to, **fields)
        if updated != 1:
            raise Conflict(str(conflict), code="signup_status")
        event = ActivityEvent.objects.create(
            activity_id=signup.shift.activity_id,
            shift_id=signup.shift_id,
            signup=signup,
            at=now,
            actor=_actor_or_none(actor),
            kind=kind,
            from_status=old,
            to_status=to,
            note=note,
            data=data or {},
        )
    signup.status = to
    for key, value in fields.items():
        setattr(signup, key, value)
    return event


# --- activities ---------------------------------------------------------------------------------

_ACTIVITY_FIELDS = (
    "kind",
    "title",
    "description",
    "place",
    "leader",
    "required_skill",
    "unit_quota",
    "signup_opens_at",
    "signup_closes_at",
    "cancel_hours",
)


def _clean_activity_fields(values: dict) -> dict:
    """Check the activity's own fields (the form checked their shape); raise DomainError naming the field."""
    title = (values.get("title") or "").strip()
    if not title:
        raise DomainError(_("请填写活动名称"), code="title")
    if len(title) > 100:
        raise DomainError(_("活动名称不能超过100字"), code="title")
    if values.get("kind") not in Kind.values:
        raise DomainError(_("请选择活动类型"), code="kind")
    place = (values.get("place") or "").strip()
    if not place:
        raise DomainError(_("请填写活动地点"), code="place")
    leader = (values.get("leader") or "").strip()
    if not leader:
        raise DomainError(_("请填写负责人"), code="leader")
    opens, closes = values.get("signup_opens_at"), values.get("signup_closes_at")
    if opens is None or closes is None:
        raise DomainError(_("请填写报名开始和截止时间"), code="signup_closes_at")
    if closes <= opens:
        raise DomainError(_("报名截止时间应晚于报名开始时间"), code="signup_closes_at")
    cancel_hours = int(values.get("cancel_hours") if values.get("cancel_hours") is not None else 24)
    if not 0 <= cancel_hours <= 720:
        raise DomainError(_("取消截止应在活动开始前0到720小时之间"), code="cancel_hours")
    return {
        "kind": values["kind"],
        "title": title,
        "description": (values.get("description") or "").strip()[:4000],
        "place": place[:200],
        "leader": leader[:50],
        "required_skill": values.get("required_skill"),
        "unit_quota": bool(values.get("unit_quota")),
        "signup_opens_at": opens,
        "signup_closes_at": closes,
        "cancel_hours": cancel_hours,
    }


def create_activity(*, community, actor, **values) -> Activity:
    """A community's staff create an activity (a draft until published). Values: _ACTIVITY_FIELDS."""
    if not _manages(actor, community.pk, community.town_id):
        raise NotAllowed(_("只有本社区工作人员可以发起活动"))
    fields = _clean_activity_fields(values)
    now = timezone.now()
    with transaction.atomic():
        activity = Activity.objects.create(
            community=community, created_by=_actor_or_none(actor), created_at=now, updated_at=now, **fields
        )
        ActivityEvent.objects.create(
            activity=activity, at=now, actor=_actor_or_none(actor), kind=E.CREATED, to_status=A.DRAFT
        )
    return activity


def update_activity(activity: Activity, *, actor, **values) -> Activity:
    """Edit a draft or published activity. Sign-ups already made stay valid (skill, window)."""
    _require_staff(actor, activity)
    if activity.status == A.CANCELLED:
        raise Conflict(_("活动已取消，不能修改"))
    fields = _clean_activity_fields({**{f: getattr(activity, f) for f in _ACTIVITY_FIELDS}, **values})
    changed = {
        name: value
        for name, value in fields.items()
        if (value.pk if name == "required_skill" and value is not None else value)
        != (activity.required_skill_id if name == "required_skill" else getattr(activity, name))
    }
    if not changed:
        return activity
    now = timezone.now()
    with transaction.atomic():
        updated = Activity.objects.filter(pk=activity.pk).exclude(status=A.CANCELLED).update(updated_at=now, **changed)
        if updated != 1:
            raise Conflict(_("活动已取消，不能修改"))
        ActivityEvent.objects.create(
            activity=activity,
            at=now,
            actor=_actor_or_none(actor),
            kind=E.EDITED,
            note="、".join(str(Activity._meta.get_field(name).verbose_name) for name in changed),
            data={"fields": sorted(changed)},
        )
    for key, value in changed.items():
        setattr(activity, key, value)
    activity.updated_at = now
    return activity


def publish_activity(activity: Activity, *, actor) -> Activity:
    """Publish a draft: members registered with the community see it and may sign up."""
    _require_staff(actor, activity)
    if not activity.shifts.exists():
        raise DomainError(_("请先添加至少一个班次"), code="shifts")
    now = timezone.now()
    if activity.signup_closes_at <= now:
        raise DomainError(_("报名截止时间已过，请先修改报名时间"), code="signup_closes_at")
    _transition_activity(activity, A.PUBLISHED, actor=actor, kind=E.PUBLISHED, published_at=now)
    return activity


def cancel_activity(activity: Activity, *, actor, reason: str) -> Activity:
    """Cancel the activity: every sign-up not yet attended is cancelled and its member told."""
    _require_staff(actor, activity)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写取消原因"), code="reason")
    now = timezone.now()
    with transaction.atomic():
        event = _transition_activity(
            activity,
            A.CANCELLED,
            actor=actor,
            kind=E.CANCELLED,
            note=reason[:200],
            cancelled_at=now,
            cancel_reason=reason[:200],
        )
        waiting = list(
            SignUp.objects.filter(shift__activity=activity, status=U.SIGNED_UP).select_related("member__user")
        )
        # Compare-and-set in bulk: a sign-up that changed meanwhile (checked in) is left alone.
        cancelled_ids = set()
        for signup in waiting:
            if SignUp.objects.filter(pk=signup.pk, status=U.SIGNED_UP).update(status=U.CANCELLED, cancelled_at=now):
                cancelled_ids.add(signup.pk)
                Shift.objects.filter(pk=signup.shift_id, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)
        ActivityEvent.objects.bulk_create(
            [
                ActivityEvent(
                    activity=activity,
                    shift_id=s.shift_id,
                    signup=s,
                    at=now,
                    actor=_actor_or_none(actor),
                    kind=E.SIGNUP_CANCELLED,
                    from_status=U.SIGNED_UP,
                    to_status=U.CANCELLED,
                    note="活动取消",
                    data={"activity_cancelled": True},
                )
                for s in waiting
                if s.pk in cancelled_ids
            ]
        )
    users = [s.member.user for s in waiting if s.pk in cancelled_ids and s.member.user_id]
    notify(
        users,
        title=f"活动取消：{activity.title}",
        body=reason,
        url=f"/activities/{activity.pk}/",
        dedupe_key=f"activity:{activity.pk}:event:{event.pk}",
    )
    return activity


# --- shifts -------------------------------------------------------------------------------------


def _clean_shift(starts_at, ends_at, capacity) -> tuple[dt.datetime, dt.datetime, int]:
    if starts_at is None or ends_at is None:
        raise DomainError(_("请填写班次的开始和结束时间"), code="starts_at")
    if ends_at <= starts_at:
        raise DomainError(_("结束时间应晚于开始时间"), code="ends_at")
    if ends_at - starts_at > MAX_SHIFT_LENGTH:
        raise DomainError(_("一个班次不能超过12小时，请分成多个班次"), code="ends_at")
    try:
        capacity = int(capacity)
    except (TypeError, ValueError):
        raise DomainError(_("人数上限应为整数"), code="capacity") from None
    if not 1 <= capacity <= 1000:
        raise DomainError(_("人数上限应在1到1000之间"), code="capacity")
    return starts_at, ends_at, capacity


def add_shift(activity: Activity, *, actor, starts_at, ends_at, capacity, note: str = "") -> Shift:
    """Add a shift (班次) to a draft or published activity."""
    _require_staff(actor, activity)
    if activity.status == A.CANCELLED:
        raise Conflict(_("活动已取消，不能添加班次"))
    starts_at, ends_at, capacity = _clean_shift(starts_at, ends_at, capacity)
    if starts_at <= timezone.now():
        raise DomainError(_("班次开始时间应晚于现在"), code="starts_at")
    now = timezone.now()
    with transaction.atomic():
        shift = Shift.objects.create(
            activity=activity, starts_at=starts_at, ends_at=ends_at, capacity=capacity, note=(note or "").strip()[:100]
        )
        ActivityEvent.objects.create(
            activity=activity,
            shift=shift,
            at=now,
            actor=_actor_or_none(actor),
            kind=E.SHIFT_ADDED,
            note=f"{_local(starts_at)}–{_local(ends_at, '%H:%M')}，{capacity}人",
            data={"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(), "capacity": capacity},
        )
    return shift


def update_shift(shift: Shift, *, actor, starts_at=None, ends_at=None, capacity=None, note=None) -> Shift:
    """Change a shift: capacity never below the seats taken; times only while nobody has signed up
    (members chose the shift by its time; move them by cancelling and adding a shift)."""
    activity = shift.activity
    _require_staff(actor, activity)
    if activity.status == A.CANCELLED:
        raise Conflict(_("活动已取消，不能修改班次"))
    new_start = starts_at or shift.starts_at
    new_end = ends_at or shift.ends_at
    new_start, new_end, new_capacity = _clean_shift(
        new_start, new_end, shift.capacity if capacity is None else capacity
    )
    fields = {}
    if (new_start, new_end) != (shift.starts_at, shift.ends_at):
        if shift.starts_at <= timezone.now():
            raise Conflict(_("班次已开始，不能修改时间"))
        if new_start <= timezone.now():
            raise DomainError(_("班次开始时间应晚于现在"), code="starts_at")
        fields.update(starts_at=new_start, ends_at=new_end)
    if new_capacity != shift.capacity:
        fields["capacity"] = new_capacity
    if note is not None and note.strip()[:100] != shift.note:
        fields["note"] = note.strip()[:100]
    if not fields:
        return shift
    with transaction.atomic():
        qs = Shift.objects.filter(pk=shift.pk)
        if "starts_at" in fields:
            # Times move only while nobody holds a seat: compare-and-set against a sign-up racing in.
            qs = qs.filter(seats_taken=0)
        if "capacity" in fields:
            qs = qs.filter(seats_taken__lte=new_capacity)
        if qs.update(**fields) != 1:
            taken = Shift.objects.filter(pk=shift.pk).values_list("seats_taken", flat=True).first() or 0
            if "starts_at" in fields and taken:
                raise Conflict(_("已有人报名该班次，不能修改时间；可以调整人数或另加班次"))
            raise Conflict(_("已有 %(taken)s 人报名，人数上限不能少于已报名人数") % {"taken": taken})
        ActivityEvent.objects.create(
            activity=activity,
            shift=shift,
            at=timezone.now(),
            actor=_actor_or_none(actor),
            kind=E.SHIFT_CHANGED,
            data={k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in fields.items()},
        )
    for key, value in fields.items():
        setattr(shift, key, value)
    return shift


def remove_shift(shift: Shift, *, actor) -> None:
    """Delete a shift nobody ever signed up for (otherwise its history stays: cancel the activity)."""
    activity = shift.activity
    _require_staff(actor, activity)
    with transaction.atomic():
        if SignUp.objects.filter(shift=shift).exists():
            raise Conflict(_("该班次已有报名记录，不能删除"))
        ActivityEvent.objects.create(
            activity=activity,
            shift=shift,
            at=timezone.now(),
            actor=_actor_or_none(actor),
            kind=E.SHIFT_REMOVED,
            note=f"{_local(shift.starts_at)}–{_local(shift.ends_at, '%H:%M')}",
            data={"starts_at": shift.starts_at.isoformat(), "ends_at": shift.ends_at.isoformat()},
        )
        try:
            with transaction.atomic():
                shift.delete()
        except IntegrityError:  # a sign-up arrived meanwhile (PROTECT)
            raise Conflict(_("该班次刚有人报名，不能删除")) from None


# --- sign-up ------------------------------------------------------------------------------------


def activity_signup_errors(member: Member, activity: Activity, *, now=None, registered=None, skilled=None) -> list[str]:
    """Why `member` may not sign up for any shift of `activity` now (empty = may).

    `registered` / `skilled` may be passed when the caller knows them (a page showing many
    shifts), else they are queried."""
    now = now or timezone.now()
    if activity.status != A.PUBLISHED:
        return [_("活动已取消") if activity.status == A.CANCELLED else _("活动尚未发布")]
    errors = []
    if now < activity.signup_opens_at:
        errors.append(_("报名将于%(opens)s开始") % {"opens": _local(activity.signup_opens_at)})
    elif now >= activity.signup_closes_at:
        errors.append(_("报名已截止"))
    if registered is None:
        registered = Registration.objects.filter(
            member=member, community_id=activity.community_id, status=Registration.Status.APPROVED
        ).exists()
    if not registered:
        errors.append(_("您尚未向%(community)s报到，报到通过后才能报名") % {"community": activity.community.name})
    if activity.required_skill_id:
        if skilled is None:
            skilled = MemberSkill.objects.filter(member=member, skill_id=activity.required_skill_id).exists()
        if not skilled:
            errors.append(_("该活动需要“%(skill)s”技能") % {"skill": activity.required_skill.name})
    return errors


def signup_errors(member: Member, shift: Shift, *, now=None) -> list[str]:
    """Why `member` may not sign up for `shift` now (empty = may), without the seat and overlap
    checks that only the transaction can answer for sure."""
    now = now or timezone.now()
    errors = activity_signup_errors(member, shift.activity, now=now)
    if shift.starts_at <= now and shift.activity.status == A.PUBLISHED:
        errors.append(_("该班次已开始"))
    return errors


def _overlapping(member: Member, shift: Shift):
    return (
        SignUp.objects.filter(
            member=member,
            status__in=[U.SIGNED_UP, U.CHECKED_IN, U.COMPLETED],
            shift__starts_at__lt=shift.ends_at,
            shift__ends_at__gt=shift.starts_at,
        )
        .exclude(shift=shift)
        .select_related("shift__activity")
    )


def sign_up(shift: Shift, *, actor) -> SignUp:
    """A member registered with the community signs up for a shift.

    Refused (DomainError with the reason) outside the sign-up window, without the required skill
    or registration, when the member already holds an overlapping shift of any activity, or
    when the shift is full (Conflict, code "full")."""
    member = _member_of(actor)
    activity = shift.activity
    errors = signup_errors(member, shift)
    if errors:
        raise DomainError(_("不能报名：%(reasons)s") % {"reasons": "；".join(errors)}, code="not_eligible")
    now = timezone.now()
    try:
        with transaction.atomic():
            _lock_member(member)
            if SignUp.objects.filter(shift=shift, member=member).exclude(status=U.CANCELLED).exists():
                raise Conflict(_("您已报名该班次"), code="already_signed_up")
            clash = _overlapping(member, shift).first()
            if clash is not None:
                other = clash.shift
                when = f"{_local(other.starts_at)}–{_local(other.ends_at, '%H:%M')}"
                raise Conflict(
                    _("与您已报名的“%(activity)s”（%(when)s）时间冲突")
                    % {"activity": other.activity.title, "when": when},
                    code="overlap",
                )
            # The seat: compare-and-set on the counter, so the last one goes to exactly one member.
            if not Shift.objects.filter(pk=shift.pk, seats_taken__lt=F("capacity")).update(
                seats_taken=F("seats_taken") + 1
            ):
                raise Conflict(_("该班次已报满"), code="full")
            signup = SignUp.objects.create(shift=shift, member=member, signed_up_at=now)
            ActivityEvent.objects.create(
                activity=activity,
                shift=shift,
                signup=signup,
                at=now,
                actor=_actor_or_none(actor),
                kind=E.SIGNED_UP,
                to_status=U.SIGNED_UP,
            )
    except IntegrityError:
        # Two sign-ups of one member for one shift raced past the check; the unique index kept one.
        raise Conflict(_("您已报名该班次"), code="already_signed_up") from None
    return signup


def cancel_signup(signup: SignUp, *, actor, reason: str = "") -> SignUp:
    """The member withdraws before the activity's cancellation deadline; the seat is freed."""
    shift = signup.shift
    activity = shift.activity
    member = _member_of(actor)
    if signup.member_id != member.pk:
        raise NotAllowed(_("只能取消自己的报名"))
    if signup.status != U.SIGNED_UP:
        raise Conflict(
            _("报名状态为“%(status)s”，不能取消") % {"status": signup.get_status_display()}, code="signup_status"
        )
    deadline = shift.cancel_deadline(activity)
    if timezone.now() >= deadline:
        raise DomainError(
            _("已过取消截止时间（%(deadline)s，活动开始前%(hours)s小时）。如确实无法参加，请联系活动负责人%(leader)s。")
            % {"deadline": _local(deadline), "hours": activity.cancel_hours, "leader": activity.leader},
            code="deadline",
        )
    now = timezone.now()
    with transaction.atomic():
        _transition_signup(
            signup,
            U.CANCELLED,
            actor=actor,
            kind=E.SIGNUP_CANCELLED,
            sources={U.SIGNED_UP},
            note=(reason or "").strip()[:200],
            conflict=_("报名状态已变化，请刷新后重试"),
            cancelled_at=now,
        )
        Shift.objects.filter(pk=shift.pk, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)
    return signup


# --- sign-in and sign-out ----------------------------------------------------------------------


@dataclass
class ScanResult:
    signup: SignUp
    action: str  # "checked_in", "checked_out", "already_in", "already_out"
    hours: Decimal | None = None


SCAN_MESSAGES = {
    "tampered": gettext_lazy("二维码无效，请扫描活动现场屏幕上的签到二维码。"),
    "expired": gettext_lazy(
        "二维码已过期。签到二维码每30秒更新一次，有效期2分钟：请扫描现场屏幕上正在显示的二维码，不要使用截图或照片。"
    ),
}


def _ledger(signup: SignUp, *, hours: Decimal, actor) -> None:
    """Hours to the service ledger and points for them, idempotent per member and sign-up."""
    shift = signup.shift
    activity = shift.activity
    member = signup.member
    if hours <= 0:
        return
    service_date = timezone.localtime(shift.starts_at).date()
    credits.record_service(
        member,
        hours=hours,
        source_type=SOURCE_TYPE,
        source_id=signup.pk,
        community=activity.community,
        service_date=service_date,
        activity_name=activity.title,
        place=activity.place,
        content=activity.description[:500] or activity.get_kind_display(),
        organizer=activity.community.name,
        leader=activity.leader,
        recorder=_actor_or_none(actor),
        activity_kind=activity.kind,
        # 单位指派: never volunteer service, whatever the community's rules say.
        unit_quota=activity.unit_quota,
    )
    credits.award_points(
        member,
        rule=HOURS_RULE,
        source_type=SOURCE_TYPE,
        source_id=signup.pk,
        actor=_actor_or_none(actor),
        hours=hours,
        when=service_date,
        town=activity.community.town_id,
    )


def _worked_hours(shift: Shift, checked_in_at: dt.datetime, checked_out_at: dt.datetime) -> Decimal:
    """Time between sign-in and sign-out, capped by the shift's length, to one decimal."""
    return min(hours_between(checked_in_at, checked_out_at), shift.length_hours)


def _resolve_code(token: str, member: Member) -> tuple[Shift, SignUp]:
    """The shift a scanned token names and the member's live sign-up for it, or DomainError."""
    try:
        shift_id = qrcodes.read_token(token)
    except qrcodes.CodeError as exc:
        raise DomainError(str(SCAN_MESSAGES[exc.code]), code=exc.code) from None
    shift = Shift.objects.select_related("activity__community").filter(pk=shift_id).first()
    if shift is None:
        raise DomainError(_("该班次已不存在，请联系活动负责人。"), code="no_shift")
    activity = shift.activity
    if activity.status == A.CANCELLED:
        raise DomainError(_("“%(activity)s”已取消。") % {"activity": activity.title}, code="cancelled")
    signup = (
        SignUp.objects.filter(shift=shift, member=member)
        .exclude(status=U.CANCELLED)
        .select_related("shift__activity__community", "member")
        .first()
    )
    if signup is None:
        mine = (
            SignUp.objects.filter(shift__activity=activity, member=member, status__in=[U.SIGNED_UP, U.CHECKED_IN])
            .select_related("shift")
            .first()
        )
        if mine is not None:
            raise DomainError(
                _("此二维码属于%(this)s的班次，您报名的是%(mine)s的班次，请在您的班次扫码。")
                % {
                    "this": f"{_local(shift.starts_at)}–{_local(shift.ends_at, '%H:%M')}",
                    "mine": f"{_local(mine.shift.starts_at)}–{_local(mine.shift.ends_at, '%H:%M')}",
                },
                code="other_shift",
            )
        raise DomainError(
            _("您没有报名“%(activity)s”的这个班次，无法签到。") % {"activity": activity.title}, code="not_signed_up"
        )
    return shift, signup


def _next_scan_step(shift: Shift, signup: SignUp, now) -> str:
    """What a scan now would do: "check_in", "check_out", "already_in", "already_out"; or DomainError."""
    if signup.status == U.SIGNED_UP:
        if now < shift.starts_at - CHECK_IN_EARLY:
            raise DomainError(
                _("还没到签到时间：请在%(from)s之后扫码签到。") % {"from": _local(shift.starts_at - CHECK_IN_EARLY)},
                code="too_early",
            )
        if now >= shift.ends_at:
            raise DomainError(_("该班次已结束，不能再签到。如您参加了活动，请联系负责人登记。"), code="ended")
        return "check_in"
    if signup.status == U.CHECKED_IN:
        if now - signup.checked_in_at < MIN_STAY:
            return "already_in"
        if now > shift.ends_at + CHECK_OUT_GRACE:
            raise DomainError(_("签退时间已过，请联系活动负责人登记服务时长。"), code="too_late")
        return "check_out"
    if signup.status == U.COMPLETED:
        return "already_out"
    raise DomainError(_("您已被登记为缺席。如有误，请联系活动负责人。"), code="no_show")


def inspect_shift_code(token: str, *, actor) -> tuple[SignUp, str]:
    """Read-only: the member's sign-up for the scanned code and what scanning would do now.

    Raises the same DomainErrors as scan_shift_code (the landing page shows them at once)."""
    member = _member_of(actor)
    shift, signup = _resolve_code(token, member)
    return signup, _next_scan_step(shift, signup, timezone.now())


def scan_shift_code(token: str, *, actor) -> ScanResult:
    """The member scanned the code shown at the site: the first scan signs in, the second signs out.

    Raises DomainError with a message for the member: an expired code (a screenshot), a code
    that is not ours, a shift they did not sign up for, outside the sign-in times. A scan that
    loses a race (the same member's other scan signed in or out first) reports what happened.
    """
    member = _member_of(actor)
    shift, signup = _resolve_code(token, member)
    now = timezone.now()
    step = _next_scan_step(shift, signup, now)
    if step == "check_in":
        try:
            _transition_signup(
                signup, U.CHECKED_IN, actor=actor, kind=E.CHECKED_IN, sources={U.SIGNED_UP}, checked_in_at=now
            )
        except Conflict:
            signup.refresh_from_db()
            return ScanResult(signup, "already_in")
        return ScanResult(signup, "checked_in")
    if step == "check_out":
        return _check_out(signup, actor=actor, now=now)
    return ScanResult(signup, step, signup.hours)


def _check_out(signup: SignUp, *, actor, now) -> ScanResult:
    hours = _worked_hours(signup.shift, signup.checked_in_at, now)
    try:
        with transaction.atomic():
            _transition_signup(
                signup,
                U.COMPLETED,
                actor=actor,
                kind=E.CHECKED_OUT,
                sources={U.CHECKED_IN},
                data={"hours": str(hours)},
                checked_out_at=now,
                hours=hours,
            )
            _ledger(signup, hours=hours, actor=actor)
    except Conflict:
        # Another scan of the same member signed out first: one sign-out, one ledger entry.
        signup.refresh_from_db()
        return ScanResult(signup, "already_out", signup.hours)
    return ScanResult(signup, "checked_out", hours)


# --- attendance by hand and the sweep ------------------------------------------------------------


def mark_attendance(signup: SignUp, *, actor, present: bool, hours=None) -> SignUp:
    """Staff record attendance by hand once the shift has started.

    Present: hours given (capped by the shift's length), else the time from sign-in (or the
    shift's start) to the end of the shift or now, whichever is first; the hours go to the ledger.
    Absent: a member who never signed in becomes a no-show, with the no-show deduction.
    """
    shift = signup.shift
    activity = shift.activity
    _require_staff(actor, activity)
    now = timezone.now()
    if now < shift.starts_at:
        raise DomainError(_("班次开始后才能登记出勤"), code="too_early")
    if not present:
        if signup.status != U.SIGNED_UP:
            raise Conflict(
                _("报名状态为“%(status)s”，不能登记缺席") % {"status": signup.get_status_display()},
                code="signup_status",
            )
        _mark_no_show(signup, actor=actor, kind=E.MARKED_ABSENT, now=now)
        return signup
    if hours not in (None, ""):
        try:
            given = Decimal(str(hours)).quantize(Decimal("0.1"))
        except ArithmeticError:
            raise DomainError(_("服务时长应为数字"), code="hours") from None
        if given <= 0:
            raise DomainError(_("服务时长应大于0"), code="hours")
        if given > shift.length_hours:
            raise DomainError(_("服务时长不能超过班次时长%(hours)s小时") % {"hours": shift.length_hours}, code="hours")
        worked = given
    else:
        start = signup.checked_in_at or shift.starts_at
        worked = _worked_hours(shift, start, min(now, shift.ends_at))
        if worked <= 0:
            raise DomainError(_("请填写服务时长"), code="hours")
    with transaction.atomic():
        _transition_signup(
            signup,
            U.COMPLETED,
            actor=actor,
            kind=E.MARKED_PRESENT,
            sources={U.SIGNED_UP, U.CHECKED_IN},
            data={"hours": str(worked)},
            conflict=_("出勤已登记，请刷新"),
            checked_out_at=now,
            hours=worked,
        )
        _ledger(signup, hours=worked, actor=actor)
    return signup


def _mark_no_show(signup: SignUp, *, actor, kind: str, now) -> None:
    with transaction.atomic():
        _transition_signup(
            signup, U.NO_SHOW, actor=actor, kind=kind, sources={U.SIGNED_UP}, conflict=_("出勤已登记，请刷新")
        )
        credits.award_points(
            signup.member,
            rule=NO_SHOW_RULE,
            source_type=SOURCE_TYPE,
            source_id=signup.pk,
            actor=_actor_or_none(actor),
            when=timezone.localtime(signup.shift.starts_at).date(),
            town=signup.shift.activity.community.town_id,
        )


def mark_no_shows(*, now=None, batch: int = 500) -> int:
    """Sweep: signed-up members of shifts that have ended who never signed in become no-shows.

    Idempotent (compare-and-set per sign-up; award_points is idempotent per source): a second
    run, or two sweeps at once, change nothing more. Returns how many were marked.
    """
    now = now or timezone.now()
    due = (
        SignUp.objects.filter(status=U.SIGNED_UP, shift__ends_at__lte=now)
        .exclude(shift__activity__status=A.CANCELLED)
        .select_related("shift__activity__community", "member")
        .order_by("id")
    )
    marked = 0
    for signup in due.iterator(chunk_size=batch):
        try:
            _mark_no_show(signup, actor=None, kind=E.NO_SHOW, now=now)
        except Conflict:
            continue  # signed in or marked by hand meanwhile
        marked += 1
    return marked


def send_shift_reminders(*, now=None, batch: int = 500) -> int:
    """Remind members of shifts starting within a day; each sign-up is reminded once.

    `reminded_at` is set by compare-and-set before queueing, and the notification's dedupe key
    names the member and the shift, so two runs (or two at once) send one reminder.
    Returns how many reminders were queued.
    """
    now = now or timezone.now()
    due = (
        SignUp.objects.filter(
            status=U.SIGNED_UP,
            reminded_at__isnull=True,
            shift__starts_at__gt=now,
            shift__starts_at__lte=now + REMIND_AHEAD,
            shift__activity__status=A.PUBLISHED,
        )
        .select_related("shift__activity", "member__user")
        .order_by("id")
    )
    sent = 0
    for signup in due.iterator(chunk_size=batch):
        with transaction.atomic():
            if not SignUp.objects.filter(pk=signup.pk, reminded_at__isnull=True).update(reminded_at=now):
                continue
            shift, activity = signup.shift, signup.shift.activity
            if signup.member.user_id:
                notify(
                    [signup.member.user],
                    title=f"活动提醒：{activity.title}",
                    body=f"{_local(shift.starts_at, '%m月%d日 %H:%M')}–{_local(shift.ends_at, '%H:%M')}，"
                    f"地点：{activity.place}。到场后请扫描现场二维码签到。",
                    url=f"/activities/{activity.pk}/",
                    dedupe_key=f"shift:{shift.pk}:member:{signup.member_id}:reminder",
                )
        sent += 1
    return sent


# --- calendar feed ------------------------------------------------------------------------------


def regenerate_calendar_feed(member: Member, *, actor) -> CalendarFeed:
    """Give the member a new secret calendar URL; the old one stops working at once."""
    if actor is None or actor.scope.member_id != member.pk:
        raise NotAllowed(_("只能管理自己的日历订阅"))
    token = secrets.token_urlsafe(24)
    now = timezone.now()
    with transaction.atomic():
        feed, created = CalendarFeed.objects.get_or_create(member=member, defaults={"token": token, "created_at": now})
        if not created:
            CalendarFeed.objects.filter(pk=feed.pk).update(token=token, created_at=now)
            feed.token, feed.created_at = token, now
    return feed
