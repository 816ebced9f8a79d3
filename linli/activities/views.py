"""Pages of community activities: the members' list, the activity with its shifts, my shifts and
calendar feed; staff create, edit, publish and cancel activities, keep the roster and show the
rotating sign-in code; the scan landing page signs members in and out.

parse → access (linli.activities.access) → act (linli.activities.actions) → respond. Every
state change is a POST to a verb URL; a DomainError becomes a message (or, for htmx, the row
again with it). Lists annotate what they show, so no row costs a query.
"""

import datetime as dt
import functools
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from linli.activities import actions, ical, qrcodes
from linli.activities.access import (
    get_activity_for_user,
    get_feed_for_token,
    get_shift_for_user,
    get_signup_for_user,
)
from linli.activities.forms import ActivityForm, AttendanceForm, CancelForm, CapacityForm, ShiftForm
from linli.activities.models import Activity, CalendarFeed, Shift, SignUp
from linli.activities.queries import shift_rows, shifts_with_mine
from linli.lib.errors import DomainError, NotAllowed
from linli.orgs.access import get_community_for_user
from linli.orgs.models import Community

A, U = Activity.Status, SignUp.Status
PER_PAGE = 20
HISTORY_SHOWN = 30
# The calendar feed: shifts from this long ago onwards (calendar apps keep older events).
FEED_PAST = dt.timedelta(days=90)


# --- helpers --------------------------------------------------------------------------------------


def _manages(scope, activity) -> bool:
    return (
        scope.superuser or activity.community_id in scope.community_ids or activity.community.town_id in scope.town_ids
    )


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _first_error(form) -> str:
    for errors in form.errors.values():
        return errors[0]
    return _("提交的内容无效")


def _not_allowed_is_403(view):
    """A visible object the user may not manage (an access helper's write=True) is a 403, not a 404."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from None

    return wrapped


def _seats_left_of_future_shifts(now):
    """Correlated SUM of seats left over an activity's shifts not yet started: one subquery."""
    left = (
        Shift.objects.filter(activity=OuterRef("pk"), starts_at__gt=now)
        .order_by()
        .values("activity")
        .annotate(n=Sum(F("capacity") - F("seats_taken")))
        .values("n")
    )
    return Coalesce(Subquery(left, output_field=IntegerField()), Value(0))


def _next_start(now):
    first = (
        Shift.objects.filter(activity=OuterRef("pk"), starts_at__gt=now).order_by("starts_at").values("starts_at")[:1]
    )
    return Subquery(first)


# --- the members' list, my shifts -------------------------------------------------------------------


@login_required
def activity_list(request):
    """Members: activities open for sign-up in their communities, with seats left. Staff: their
    communities' activities to come, in every status."""
    user = request.user
    s = user.scope
    now = timezone.now()
    ctx = {"now": now}
    if s.member_id:
        mine = SignUp.objects.filter(shift__activity=OuterRef("pk"), member_id=s.member_id).exclude(status=U.CANCELLED)
        open_qs = (
            Activity.objects.visible_to(user)
            .filter(
                status=A.PUBLISHED,
                community_id__in=s.member_community_ids,
                signup_opens_at__lte=now,
                signup_closes_at__gt=now,
            )
            .annotate(next_start=_next_start(now), seats_left=_seats_left_of_future_shifts(now), mine=Exists(mine))
            .filter(next_start__isnull=False)
            .select_related("community", "required_skill")
            .order_by("next_start", "id")
        )
        ctx["page"] = Paginator(open_qs, PER_PAGE).get_page(request.GET.get("page"))
        ctx["is_member"] = True
    if s.superuser or s.community_ids or s.town_ids:
        managed = Community.objects.staffed_by(user)
        ctx["managed_communities"] = list(managed.order_by("code")[:50])
        ctx["staff_activities"] = list(
            Activity.objects.managed_by(user)
            .exclude(status=A.CANCELLED)
            .annotate(next_start=_next_start(now), seats_left=_seats_left_of_future_shifts(now))
            .filter(Q(next_start__isnull=False) | Q(status=A.DRAFT))
            .select_related("community")
            .order_by(F("next_start").asc(nulls_last=True), "id")[:PER_PAGE]
        )
    if not ctx.get("is_member") and "managed_communities" not in ctx:
        raise Http404("no activities for this user")
    return render(request, "activities/list.html", ctx)


@login_required
def my_shifts(request):
    """The member's shifts to come and their history with hours; the calendar subscription."""
    s = request.user.scope
    if not s.member_id:
        raise Http404("not a member")
    now = timezone.now()
    base = SignUp.objects.filter(member_id=s.member_id).select_related("shift__activity__community")
    upcoming = base.filter(status__in=[U.SIGNED_UP, U.CHECKED_IN], shift__ends_at__gt=now - actions.CHECK_OUT_GRACE)
    history = base.exclude(pk__in=upcoming.values("pk")).order_by("-shift__starts_at", "-id")[:HISTORY_SHOWN]
    feed = CalendarFeed.objects.filter(member_id=s.member_id).first()
    totals = base.filter(status=U.COMPLETED, shift__starts_at__year=timezone.localdate().year).aggregate(
        hours=Sum("hours"), n=Count("id")
    )
    return render(
        request,
        "activities/mine.html",
        {
            "upcoming": upcoming.order_by("shift__starts_at", "id"),
            "history": history,
            "feed_url": request.build_absolute_uri(reverse("shift_calendar", args=[feed.token])) if feed else "",
            # SUM over a decimal column comes back as a float on SQLite: one decimal, like the ledger.
            "year_hours": Decimal(str(totals["hours"] or 0)).quantize(Decimal("0.1")),
            "year_count": totals["n"],
            "now": now,
        },
    )


# --- the activity -----------------------------------------------------------------------------------


@login_required
def activity_detail(request, pk):
    activity = get_activity_for_user(request, pk)
    s = request.user.scope
    now = timezone.now()
    manages = _manages(s, activity)
    shifts = shifts_with_mine(activity, s.member_id)
    if manages:
        shifts = shifts.annotate(
            n_in=Count("signups", filter=Q(signups__status=U.CHECKED_IN)),
            n_done=Count("signups", filter=Q(signups__status=U.COMPLETED)),
        )
    return render(
        request,
        "activities/detail.html",
        {
            "activity": activity,
            "rows": shift_rows(request.user, activity, list(shifts), now)[0],
            "manages": manages,
            "shift_form": ShiftForm() if manages else None,
            "cancel_form": CancelForm() if manages else None,
            "now": now,
        },
    )


def _respond_shift(request, activity, shift, *, ok=None, error=None):
    """For htmx, the shift's row again with the outcome; otherwise a message and back to the activity."""
    if request.htmx:
        now = timezone.now()
        shift = shifts_with_mine(activity, request.user.scope.member_id).get(pk=shift.pk)
        row = shift_rows(request.user, activity, [shift], now)[0][0]
        return render(
            request,
            "activities/detail.html#shift_row",
            {"row": row, "activity": activity, "row_ok": ok, "row_error": error, "manages": False},
        )
    if ok:
        messages.success(request, ok)
    if error:
        messages.error(request, error)
    return redirect(_safe_next(request, reverse("activity", args=[activity.pk])))


@require_POST
@login_required
def shift_sign_up(request, pk):
    shift = get_shift_for_user(request, pk)
    activity = shift.activity
    try:
        actions.sign_up(shift, actor=request.user)
    except DomainError as exc:
        return _respond_shift(request, activity, shift, error=exc.message)
    local = timezone.localtime(shift.starts_at)
    return _respond_shift(
        request,
        activity,
        shift,
        ok=_("报名成功：%(when)s，%(place)s。活动前一天会提醒您。")
        % {"when": local.strftime("%m-%d %H:%M"), "place": activity.place},
    )


@require_POST
@login_required
def shift_cancel_sign_up(request, pk):
    shift = get_shift_for_user(request, pk)
    activity = shift.activity
    s = request.user.scope
    signup = (
        SignUp.objects.filter(shift=shift, member_id=s.member_id, status=U.SIGNED_UP).first() if s.member_id else None
    )
    if signup is None:
        return _respond_shift(request, activity, shift, error=_("您没有报名该班次"))
    signup.shift = shift
    try:
        actions.cancel_signup(signup, actor=request.user)
    except DomainError as exc:
        return _respond_shift(request, activity, shift, error=exc.message)
    return _respond_shift(request, activity, shift, ok=_("已取消报名。"))


# --- staff: create, edit, publish, cancel; shifts ------------------------------------------------


@_not_allowed_is_403
@login_required
def community_activities(request, pk):
    """A community's activities in every status, for its staff."""
    community = get_community_for_user(request, pk, write=True)
    now = timezone.now()
    qs = (
        Activity.objects.managed_by(request.user)
        .filter(community=community)
        .annotate(
            next_start=_next_start(now),
            seats_left=_seats_left_of_future_shifts(now),
            n_shifts=Count("shifts"),
            last_end=Subquery(Shift.objects.filter(activity=OuterRef("pk")).order_by("-ends_at").values("ends_at")[:1]),
        )
        .order_by(F("next_start").asc(nulls_last=True), "-id")
    )
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "activities/community.html", {"community": community, "page": page, "now": now})


def _activity_values(form) -> dict:
    return dict(form.cleaned_data)


@_not_allowed_is_403
@login_required
def activity_new(request, pk):
    community = get_community_for_user(request, pk, write=True)
    now = timezone.localtime()
    initial = {
        "leader": request.user.name or request.user.get_username(),
        "signup_opens_at": now.replace(minute=0, second=0, microsecond=0),
        "signup_closes_at": (now + dt.timedelta(days=7)).replace(minute=0, second=0, microsecond=0),
        "cancel_hours": 24,
    }
    form = ActivityForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            activity = actions.create_activity(community=community, actor=request.user, **_activity_values(form))
        except DomainError as exc:
            form.add_error(exc.code if exc.code in form.fields else None, exc.message)
        else:
            messages.success(request, _("活动已创建（草稿）。请添加班次，然后发布。"))
            return redirect("activity", activity.pk)
    return render(request, "activities/form.html", {"form": form, "community": community, "activity": None})


@_not_allowed_is_403
@login_required
def activity_edit(request, pk):
    activity = get_activity_for_user(request, pk, write=True)
    if activity.status == A.CANCELLED:
        messages.error(request, _("活动已取消，不能修改"))
        return redirect("activity", activity.pk)
    initial = {
        "title": activity.title,
        "kind": activity.kind,
        "place": activity.place,
        "leader": activity.leader,
        "description": activity.description,
        "required_skill": activity.required_skill_id,
        "unit_quota": activity.unit_quota,
        "signup_opens_at": timezone.localtime(activity.signup_opens_at),
        "signup_closes_at": timezone.localtime(activity.signup_closes_at),
        "cancel_hours": activity.cancel_hours,
    }
    form = ActivityForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_activity(activity, actor=request.user, **_activity_values(form))
        except DomainError as exc:
            form.add_error(exc.code if exc.code in form.fields else None, exc.message)
        else:
            messages.success(request, _("已保存。"))
            return redirect("activity", activity.pk)
    return render(
        request, "activities/form.html", {"form": form, "community": activity.community, "activity": activity}
    )


def _after_staff_verb(request, activity, *, ok=None, error=None):
    if ok:
        messages.success(request, ok)
    if error:
        messages.error(request, error)
    return redirect(_safe_next(request, reverse("activity", args=[activity.pk])))


@_not_allowed_is_403
@require_POST
@login_required
def activity_publish(request, pk):
    activity = get_activity_for_user(request, pk, write=True)
    try:
        actions.publish_activity(activity, actor=request.user)
    except DomainError as exc:
        return _after_staff_verb(request, activity, error=exc.message)
    return _after_staff_verb(request, activity, ok=_("活动已发布，报到的队员可以报名了。"))


@_not_allowed_is_403
@require_POST
@login_required
def activity_cancel(request, pk):
    activity = get_activity_for_user(request, pk, write=True)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _after_staff_verb(request, activity, error=_first_error(form))
    try:
        actions.cancel_activity(activity, actor=request.user, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        return _after_staff_verb(request, activity, error=exc.message)
    return _after_staff_verb(request, activity, ok=_("活动已取消，已通知报名的队员。"))


@_not_allowed_is_403
@require_POST
@login_required
def shift_add(request, pk):
    activity = get_activity_for_user(request, pk, write=True)
    form = ShiftForm(request.POST)
    if not form.is_valid():
        return _after_staff_verb(request, activity, error=_first_error(form))
    d = form.cleaned_data
    try:
        actions.add_shift(
            activity,
            actor=request.user,
            starts_at=d["starts_at"],
            ends_at=d["ends_at"],
            capacity=d["capacity"],
            note=d["note"],
        )
    except DomainError as exc:
        return _after_staff_verb(request, activity, error=exc.message)
    return _after_staff_verb(request, activity, ok=_("已添加班次。"))


@_not_allowed_is_403
@require_POST
@login_required
def shift_capacity(request, pk):
    shift = get_shift_for_user(request, pk, write=True)
    form = CapacityForm(request.POST)
    if not form.is_valid():
        return _after_staff_verb(request, shift.activity, error=_first_error(form))
    try:
        actions.update_shift(shift, actor=request.user, capacity=form.cleaned_data["capacity"])
    except DomainError as exc:
        return _after_staff_verb(request, shift.activity, error=exc.message)
    return _after_staff_verb(request, shift.activity, ok=_("已修改人数上限。"))


@_not_allowed_is_403
@require_POST
@login_required
def shift_remove(request, pk):
    shift = get_shift_for_user(request, pk, write=True)
    try:
        actions.remove_shift(shift, actor=request.user)
    except DomainError as exc:
        return _after_staff_verb(request, shift.activity, error=exc.message)
    return _after_staff_verb(request, shift.activity, ok=_("已删除班次。"))


# --- staff: the roster and attendance ------------------------------------------------------------


def _roster(shift):
    return SignUp.objects.filter(shift=shift).select_related("member").order_by("signed_up_at", "id")


@_not_allowed_is_403
@login_required
def shift_roster(request, pk):
    """The shift's sign-ups with sign-in/out times and hours; attendance marked by hand."""
    shift = get_shift_for_user(request, pk, write=True)
    now = timezone.now()
    signups = list(_roster(shift))
    live = [x for x in signups if x.status != U.CANCELLED]
    counts = {status: sum(1 for x in live if x.status == status) for status in U.values}
    return render(
        request,
        "activities/roster.html",
        {
            "shift": shift,
            "activity": shift.activity,
            "signups": live,
            "cancelled": [x for x in signups if x.status == U.CANCELLED],
            "counts": counts,
            "started": shift.starts_at <= now,
            "now": now,
        },
    )


@_not_allowed_is_403
@require_POST
@login_required
def signup_attendance(request, pk):
    signup = get_signup_for_user(request, pk, write=True)
    form = AttendanceForm(request.POST)
    ok = error = None
    if not form.is_valid():
        error = _first_error(form) or _("请选择出勤或缺席")
    else:
        present = form.cleaned_data["present"]
        try:
            actions.mark_attendance(signup, actor=request.user, present=present, hours=form.cleaned_data["hours"])
        except DomainError as exc:
            error = exc.message
        else:
            ok = _("已登记出勤 %(h)s 小时") % {"h": signup.hours} if present else _("已登记缺席")
    shift = signup.shift
    if request.htmx:
        signup = _roster(shift).get(pk=signup.pk)
        return render(
            request,
            "activities/roster.html#row",
            {"x": signup, "row_ok": ok, "row_error": error, "started": shift.starts_at <= timezone.now()},
        )
    if ok:
        messages.success(request, f"{signup.member.name}：{ok}")
    if error:
        messages.error(request, f"{signup.member.name}：{error}")
    return redirect(_safe_next(request, reverse("shift_roster", args=[shift.pk])))


# --- the rotating code and the scan -------------------------------------------------------------------


def _code_context(request, shift):
    token = qrcodes.make_token(shift.pk)
    url = request.build_absolute_uri(reverse("shift_scan") + "?t=" + token)
    counts = dict(
        SignUp.objects.filter(shift=shift)
        .exclude(status=U.CANCELLED)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    now = timezone.now()
    return {
        "shift": shift,
        "activity": shift.activity,
        "svg": qrcodes.qr_svg(url),
        "scan_url": url,
        "refresh": qrcodes.REFRESH_SECONDS,
        "valid_minutes": qrcodes.MAX_AGE_SECONDS // 60,
        "generated_at": now,
        "n_signed_up": sum(counts.values()),
        "n_in": counts.get(U.CHECKED_IN, 0),
        "n_done": counts.get(U.COMPLETED, 0),
        "too_early": now < shift.starts_at - actions.CHECK_IN_EARLY,
        "over": now > shift.ends_at + actions.CHECK_OUT_GRACE,
    }


@_not_allowed_is_403
@never_cache
@login_required
def shift_code(request, pk):
    """The staff's screen at the site: a big QR code that changes every 30 seconds (htmx)."""
    shift = get_shift_for_user(request, pk, write=True)
    if shift.activity.status == A.CANCELLED:
        raise Http404("cancelled activity")
    ctx = _code_context(request, shift)
    if request.htmx:
        return render(request, "activities/code.html#code", ctx)
    return render(request, "activities/code.html", ctx)


@never_cache
@login_required
def shift_scan(request):
    """Where the scanned code leads: the member confirms sign-in (first scan) or sign-out (second)."""
    token = (request.POST.get("t") if request.method == "POST" else request.GET.get("t")) or ""
    ctx = {"token": token}
    if request.method == "POST":
        try:
            result = actions.scan_shift_code(token, actor=request.user)
        except DomainError as exc:
            ctx["error"] = exc.message
            ctx["error_code"] = exc.code
        else:
            ctx["result"] = result
            ctx["signup"] = result.signup
        return render(request, "activities/scan.html", ctx, status=400 if "error" in ctx else 200)
    try:
        signup, step = actions.inspect_shift_code(token, actor=request.user)
    except DomainError as exc:
        ctx["error"] = exc.message
        ctx["error_code"] = exc.code
        return render(request, "activities/scan.html", ctx, status=400)
    ctx.update(signup=signup, step=step)
    return render(request, "activities/scan.html", ctx)


# --- the calendar feed ------------------------------------------------------------------------------


def shift_calendar(request, token):
    """A member's shifts as iCalendar (RFC 5545), at a secret URL calendar apps poll without a login."""
    feed = get_feed_for_token(token)
    now = timezone.now()
    signups = (
        SignUp.objects.filter(member_id=feed.member_id, shift__ends_at__gte=now - FEED_PAST)
        .select_related("shift__activity__community")
        .order_by("shift__starts_at", "id")
    )
    # One event per shift: the latest sign-up decides (a cancelled one followed by a new one).
    latest = {}
    for signup in signups:
        previous = latest.get(signup.shift_id)
        if previous is None or signup.pk > previous.pk:
            latest[signup.shift_id] = signup
    host = request.get_host().split(":")[0] or "linli"
    events = []
    for signup in sorted(latest.values(), key=lambda x: (x.shift.starts_at, x.pk)):
        shift, activity = signup.shift, signup.shift.activity
        cancelled = signup.status == U.CANCELLED or activity.status == A.CANCELLED
        lines = [f"{activity.get_kind_display()} · {activity.community.name}", f"负责人：{activity.leader}"]
        if activity.description:
            lines.append(activity.description)
        lines.append(f"状态：{signup.get_status_display()}")
        events.append(
            ical.Event(
                uid=f"shift-{shift.pk}-member-{feed.member_id}@{host}",
                start=shift.starts_at,
                end=shift.ends_at,
                summary=(f"{activity.title}（{shift.note}）" if shift.note else activity.title),
                location=activity.place,
                description="\n".join(lines),
                status="CANCELLED" if cancelled else "CONFIRMED",
                url=request.build_absolute_uri(reverse("activity", args=[activity.pk])),
                stamp=now,
                sequence=0 if signup.status == U.SIGNED_UP else 1,
            )
        )
    body = ical.calendar(events, name=_("邻里 · 我的活动"), now=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="linli-shifts.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_POST
@login_required
def calendar_regenerate(request):
    s = request.user.scope
    if not s.member_id:
        raise Http404("not a member")
    member = request.user.member_profile
    had = CalendarFeed.objects.filter(member_id=s.member_id).exists()
    try:
        actions.regenerate_calendar_feed(member, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("已生成新的订阅地址，旧地址已失效。请在日历应用中重新订阅。") if had else _("已生成日历订阅地址。"),
        )
    return redirect("my_shifts")
