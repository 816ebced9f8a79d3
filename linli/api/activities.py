"""Community activities over JSON: the open list, an activity with its shifts and seats, sign-up and
cancel, sign-in/sign-out with the scanned code, my shifts and my calendar feed.

Objects come through linli.activities.access (outside scope: 404); every change is an action of
linli.activities.actions — the same ones the pages and the scan page call.
"""

from django.db.models import Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Status
from ninja.pagination import paginate

from linli.activities import actions
from linli.activities.access import get_activity_for_user, get_shift_for_user, get_signup_for_user
from linli.activities.models import Activity, CalendarFeed, Shift, SignUp
from linli.activities.queries import shift_rows, shifts_with_mine
from linli.api.pagination import PageIn, Pagination, page_of
from linli.api.schemas import (
    ERRORS,
    ActivityFilters,
    ActivityListItem,
    ActivityOut,
    CalendarOut,
    CancelSignUpIn,
    CheckInIn,
    CheckInOut,
    SignUpFilters,
    SignUpOut,
    SignUpPage,
)

router = Router(tags=["activities"])

A, U = Activity.Status, SignUp.Status

SCAN_MESSAGES = {
    "checked_in": "签到成功。活动结束时请再次扫码签退，服务时长按签到到签退计算。",
    "checked_out": "签退成功，服务时长已记入您的服务记录。",
    "already_in": "您已签到。活动结束时请再次扫码签退。",
    "already_out": "您已签退，服务时长已记录。",
}


# --- presenting ---------------------------------------------------------------------------------------


def _manages(scope, activity) -> bool:
    return (
        scope.superuser or activity.community_id in scope.community_ids or activity.community.town_id in scope.town_ids
    )


def _annotated(qs, user, now):
    """Activities with next_start, seats_left (future shifts) and signed_up (mine): subqueries, no query per row."""
    future = Shift.objects.filter(activity=OuterRef("pk"), starts_at__gt=now).order_by()
    seats = future.values("activity").annotate(n=Sum(F("capacity") - F("seats_taken"))).values("n")
    member_id = user.scope.member_id
    mine = SignUp.objects.filter(shift__activity=OuterRef("pk"), member_id=member_id).exclude(status=U.CANCELLED)
    return qs.annotate(
        next_start=Subquery(future.order_by("starts_at").values("starts_at")[:1]),
        seats_left=Coalesce(Subquery(seats, output_field=IntegerField()), Value(0)),
        signed_up=Exists(mine) if member_id else Value(False),
    ).select_related("community__town", "required_skill")


def _signup(signup: SignUp, now) -> dict:
    shift, activity = signup.shift, signup.shift.activity
    deadline = shift.cancel_deadline(activity)
    return {
        "id": signup.pk,
        "status": signup.status,
        "status_label": str(signup.get_status_display()),
        "signed_up_at": signup.signed_up_at,
        "cancelled_at": signup.cancelled_at,
        "checked_in_at": signup.checked_in_at,
        "checked_out_at": signup.checked_out_at,
        "hours": float(signup.hours) if signup.hours is not None else None,
        "cancel_deadline": deadline,
        "can_cancel": signup.status == U.SIGNED_UP and now < deadline,
        "shift": {"id": shift.pk, "starts_at": shift.starts_at, "ends_at": shift.ends_at, "note": shift.note},
        "activity": {
            "id": activity.pk,
            "title": activity.title,
            "place": activity.place,
            "leader": activity.leader,
            "status": activity.status,
            "community": {"id": activity.community_id, "name": activity.community.name},
        },
    }


def _shift_out(row) -> dict:
    """A row of linli.activities.queries.shift_rows as the API answers it."""
    shift, mine = row["shift"], row["mine"]
    return {
        "id": shift.pk,
        "starts_at": shift.starts_at,
        "ends_at": shift.ends_at,
        "hours": float(shift.length_hours),
        "capacity": shift.capacity,
        "seats_taken": shift.seats_taken,
        "seats_left": shift.seats_left,
        "note": shift.note,
        "started": row["started"],
        "cancel_deadline": row["deadline"],
        "my_signup": {"id": mine.pk, "status": mine.status, "status_label": str(mine.get_status_display())}
        if mine
        else None,
        "can_sign_up": row["can_sign_up"],
        "reason": row["reason"] if row["member"] is not None else "",
        "can_cancel": row["can_cancel"],
    }


# --- the list and the activity ----------------------------------------------------------------------------


@router.get(
    "/activities",
    response={200: list[ActivityListItem], **ERRORS},
    operation_id="list_activities",
    summary="社区活动列表（默认：正在报名的）",
)
@paginate(Pagination)
def list_activities(request, filters: Query[ActivityFilters]):
    """Activities the caller may see (members: published ones of the communities they registered
    with, and any they signed up for; staff: their communities' in every status). With `open`
    (the default), only those taking sign-ups now with a shift still to come, soonest first."""
    now = timezone.now()
    qs = _annotated(Activity.objects.visible_to(request.user), request.user, now)
    if filters.open:
        qs = qs.filter(status=A.PUBLISHED, signup_opens_at__lte=now, signup_closes_at__gt=now, next_start__isnull=False)
    if filters.community is not None:
        qs = qs.filter(community_id=filters.community)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return qs.order_by(F("next_start").asc(nulls_last=True), "-id")


@router.get(
    "/activities/{activity_id}",
    response={200: ActivityOut, **ERRORS},
    operation_id="get_activity",
    summary="活动详情：班次、名额和我的报名",
)
def get_activity(request, activity_id: int):
    found = get_activity_for_user(request, activity_id)
    now = timezone.now()
    activity = _annotated(Activity.objects.filter(pk=found.pk), request.user, now).first()
    shifts = shifts_with_mine(activity, request.user.scope.member_id)
    rows, general = shift_rows(request.user, activity, list(shifts), now)
    return {
        **{f: getattr(activity, f) for f in ("id", "title", "kind", "status", "place", "leader", "description")},
        "kind_label": str(activity.get_kind_display()),
        "status_label": str(activity.get_status_display()),
        "community": {"id": activity.community_id, "name": activity.community.name},
        "required_skill": {"id": activity.required_skill_id, "name": activity.required_skill.name}
        if activity.required_skill_id
        else None,
        "unit_quota": activity.unit_quota,
        "signup_opens_at": activity.signup_opens_at,
        "signup_closes_at": activity.signup_closes_at,
        "next_start": activity.next_start,
        "seats_left": activity.seats_left,
        "signed_up": activity.signed_up,
        "cancel_hours": activity.cancel_hours,
        "cancel_reason": activity.cancel_reason,
        "published_at": activity.published_at,
        "manages": _manages(request.user.scope, activity),
        "signup_errors": general,
        "shifts": [_shift_out(r) for r in rows],
    }


# --- sign-up and cancel -------------------------------------------------------------------------------------


@router.post(
    "/shifts/{shift_id}/signup",
    response={201: SignUpOut, **ERRORS},
    operation_id="sign_up_shift",
    summary="报名班次",
)
def sign_up_shift(request, shift_id: int):
    """A member registered with the activity's community takes a seat. 409 `full` when the last
    seat went to someone else, `overlap` when it clashes with another of my shifts,
    `already_signed_up`; 400 `not_eligible` with the reasons (window, registration, skill)."""
    shift = get_shift_for_user(request, shift_id)
    signup = actions.sign_up(shift, actor=request.user)
    return Status(201, _signup(get_signup_for_user(request, signup.pk), timezone.now()))


@router.post(
    "/signups/{signup_id}/cancel",
    response={200: SignUpOut, **ERRORS},
    operation_id="cancel_signup",
    summary="取消报名",
)
def cancel_signup(request, signup_id: int, payload: CancelSignUpIn | None = None):
    """The member withdraws before the cancellation deadline (400 `deadline` after it). The body is optional."""
    signup = get_signup_for_user(request, signup_id)
    actions.cancel_signup(signup, actor=request.user, reason=payload.reason if payload else "")
    # Read back through the helper: the action changed the row with a compare-and-set update.
    return _signup(get_signup_for_user(request, signup.pk), timezone.now())


@router.get(
    "/signups",
    response={200: SignUpPage, **ERRORS},
    operation_id="list_my_signups",
    summary="我的班次",
)
def list_my_signups(request, filters: Query[SignUpFilters], page: Query[PageIn]):
    """My sign-ups, soonest first. `upcoming=true`: signed up or signed in, not yet over;
    `upcoming=false`: the history (done, cancelled, absent), latest first."""
    member_id = request.user.scope.member_id
    if not member_id:
        return {"items": [], "count": 0}
    now = timezone.now()
    base = SignUp.objects.filter(member_id=member_id).select_related("shift__activity__community")
    to_come = Q(status__in=[U.SIGNED_UP, U.CHECKED_IN], shift__ends_at__gt=now - actions.CHECK_OUT_GRACE)
    if filters.upcoming is True:
        qs = base.filter(to_come).order_by("shift__starts_at", "id")
    elif filters.upcoming is False:
        qs = base.exclude(to_come).order_by("-shift__starts_at", "-id")
    else:
        qs = base.order_by("shift__starts_at", "id")
    return page_of(qs, page, lambda signup: _signup(signup, now))


@router.get(
    "/signups/{signup_id}",
    response={200: SignUpOut, **ERRORS},
    operation_id="get_signup",
    summary="报名详情",
)
def get_signup(request, signup_id: int):
    """My own sign-up, or any sign-up of an activity I manage."""
    return _signup(get_signup_for_user(request, signup_id), timezone.now())


# --- sign-in and sign-out -----------------------------------------------------------------------------------


@router.post(
    "/checkin",
    response={200: CheckInOut, **ERRORS},
    operation_id="check_in",
    summary="扫码签到/签退",
)
def check_in(request, payload: CheckInIn):
    """The token of the code shown at the site (the `t` of the scanned URL): the first scan signs
    in, the second signs out and credits the hours — the scan page's action. A code older than
    two minutes (a screenshot), another shift's code or one outside the sign-in times is a 400 with
    the reason (`expired`, `tampered`, `other_shift`, `not_signed_up`, `too_early`, `ended`, …)."""
    result = actions.scan_shift_code(payload.token, actor=request.user)
    return {
        "action": result.action,
        "message": SCAN_MESSAGES[result.action],
        "hours": float(result.hours) if result.hours is not None else None,
        "signup": _signup(get_signup_for_user(request, result.signup.pk), timezone.now()),
    }


# --- the calendar feed ----------------------------------------------------------------------------------------


def _feed(request, feed: CalendarFeed | None) -> dict:
    if feed is None:
        return {"url": None, "created_at": None}
    return {
        "url": request.build_absolute_uri(reverse("shift_calendar", args=[feed.token])),
        "created_at": feed.created_at,
    }


def _member_or_404(request):
    if not request.user.scope.member_id:
        raise Http404("not a member")
    return request.user.member_profile


@router.get(
    "/calendar",
    response={200: CalendarOut, **ERRORS},
    operation_id="get_calendar_feed",
    summary="我的日历订阅地址",
)
def get_calendar_feed(request):
    """The secret iCalendar URL of my shifts (null until generated). Not a member: 404."""
    member = _member_or_404(request)
    return _feed(request, CalendarFeed.objects.filter(member=member).first())


@router.post(
    "/calendar/regenerate",
    response={200: CalendarOut, **ERRORS},
    operation_id="regenerate_calendar_feed",
    summary="生成新的日历订阅地址（旧地址立即失效）",
)
def regenerate_calendar_feed(request):
    member = _member_or_404(request)
    return _feed(request, actions.regenerate_calendar_feed(member, actor=request.user))
