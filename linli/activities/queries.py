"""Reusable activity queries shared by the pages and the API (no side effects)."""

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from linli.activities import actions
from linli.activities.models import Shift, SignUp
from linli.people.models import MemberSkill

U = SignUp.Status


def shifts_with_mine(activity, member_id):
    """The activity's shifts in time order, each with `mine`: the member's live sign-up (a list of
    at most one), when a member is viewing."""
    shifts = Shift.objects.filter(activity=activity).order_by("starts_at", "id")
    if member_id:
        shifts = shifts.prefetch_related(
            Prefetch(
                "signups",
                queryset=SignUp.objects.filter(member_id=member_id).exclude(status=U.CANCELLED),
                to_attr="mine",
            )
        )
    return shifts


def shift_rows(user, activity, shifts, now) -> tuple[list[dict], list[str]]:
    """Per shift (from `shifts_with_mine`): my sign-up, whether (or why not) I may sign up or
    cancel; and the reasons I may not sign up for any shift of the activity. Three queries for the
    whole activity at most, none per row."""
    s = user.scope
    member = getattr(user, "member_profile", None) if s.member_id else None
    general: list[str] = []
    taken: list[SignUp] = []
    if member is not None:
        skilled = (
            MemberSkill.objects.filter(member=member, skill_id=activity.required_skill_id).exists()
            if activity.required_skill_id
            else True
        )
        general = actions.activity_signup_errors(
            member, activity, now=now, registered=activity.community_id in s.member_community_ids, skilled=skilled
        )
        taken = list(
            SignUp.objects.filter(member=member, status__in=[U.SIGNED_UP, U.CHECKED_IN, U.COMPLETED])
            .filter(shift__ends_at__gt=now)
            .select_related("shift__activity")
        )
    rows = []
    for shift in shifts:
        mine = shift.mine[0] if getattr(shift, "mine", None) else None
        reason = ""
        if member is not None and mine is None:
            if general:
                reason = general[0]
            elif shift.starts_at <= now:
                reason = _("该班次已开始")
            elif shift.seats_left <= 0:
                reason = _("已报满")
            else:
                clash = next((t for t in taken if t.shift_id != shift.pk and t.shift.overlaps(shift)), None)
                if clash is not None:
                    reason = _("与“%(title)s”时间冲突") % {"title": clash.shift.activity.title}
        deadline = shift.cancel_deadline(activity)
        rows.append(
            {
                "shift": shift,
                "mine": mine,
                "member": member,
                "can_sign_up": member is not None and mine is None and not reason,
                "reason": reason,
                "can_cancel": mine is not None and mine.status == U.SIGNED_UP and now < deadline,
                "deadline": deadline,
                "started": shift.starts_at <= now,
            }
        )
    return rows, general
