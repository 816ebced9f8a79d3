"""The only way a view obtains an activity, a shift, a sign-up or a calendar feed.

Outside the user's scope is a 404 (Activity.objects.visible_to). With write=True the user must
manage the activity's community (its staff, or the town's admin), else NotAllowed.
"""

from django.http import Http404

from linli.activities.models import Activity, CalendarFeed, Shift, SignUp
from linli.lib.errors import NotAllowed


def _pk(pk) -> int:
    try:
        return int(pk)
    except (TypeError, ValueError):
        raise Http404("no such object") from None


def _check_write(request, activity: Activity) -> None:
    s = request.user.scope
    if not (s.superuser or activity.community_id in s.community_ids or activity.community.town_id in s.town_ids):
        raise NotAllowed("只有本社区工作人员可以管理活动")


def get_activity_for_user(request, pk, *, write: bool = False) -> Activity:
    """The activity if `request.user` may see it, else Http404; with write=True, only its managers."""
    qs = Activity.objects.visible_to(request.user).select_related("community__town", "required_skill")
    activity = qs.filter(pk=_pk(pk)).first()
    if activity is None:
        raise Http404("no such activity")
    if write:
        _check_write(request, activity)
    return activity


def get_shift_for_user(request, pk, *, write: bool = False) -> Shift:
    """The shift if the user may see its activity, else Http404; with write=True, only its managers."""
    visible = Activity.objects.visible_to(request.user).values("id")
    shift = (
        Shift.objects.filter(pk=_pk(pk), activity_id__in=visible)
        .select_related("activity__community__town", "activity__required_skill")
        .first()
    )
    if shift is None:
        raise Http404("no such shift")
    if write:
        _check_write(request, shift.activity)
    return shift


def get_signup_for_user(request, pk, *, write: bool = False) -> SignUp:
    """A sign-up: the member's own, or any of an activity the user manages; else Http404.

    With write=True (attendance), only the activity's managers."""
    s = request.user.scope
    qs = SignUp.objects.select_related("shift__activity__community__town", "member")
    signup = qs.filter(pk=_pk(pk)).first()
    if signup is None:
        raise Http404("no such sign-up")
    activity = signup.shift.activity
    manages = s.superuser or activity.community_id in s.community_ids or activity.community.town_id in s.town_ids
    if not manages and signup.member_id != s.member_id:
        raise Http404("no such sign-up")
    if write and not manages:
        raise NotAllowed("只有本社区工作人员可以登记出勤")
    return signup


def get_feed_for_token(token: str) -> CalendarFeed:
    """The calendar feed whose secret is `token` (no login: calendar apps cannot log in)."""
    token = (token or "").strip()
    if not token or len(token) > 64:
        raise Http404("no such feed")
    feed = CalendarFeed.objects.select_related("member").filter(token=token).first()
    if feed is None:
        raise Http404("no such feed")
    return feed
