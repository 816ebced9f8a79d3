"""Login, logout, the notification inbox and the per-browser UI switches (elder mode)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from linli.accounts import actions
from linli.accounts.forms import LoginForm
from linli.accounts.models import AuditEntry

ELDER_COOKIE = "elder"
ELDER_COOKIE_AGE = 365 * 24 * 3600


def _safe_next(request, fallback: str = "/") -> str:
    """The `next` target if it stays on this site, else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@sensitive_post_parameters("password")
@never_cache
def login_view(request):
    """Username + password. A name with LOGIN_MAX_FAILURES recent failures is locked for a while.

    Every attempt is audited (success, failure, attempt while locked); the password never is.
    """
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(_safe_next(request, "/"))
    form = LoginForm(request.POST or None)
    locked = False
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        if actions.login_locked(username):
            actions.record_audit(
                None, AuditEntry.Action.LOGIN_FAILED, username=username, request=request, detail={"reason": "locked"}
            )
            locked = True
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                actions.record_audit(
                    None,
                    AuditEntry.Action.LOGIN_FAILED,
                    username=username,
                    request=request,
                    detail={"reason": "bad_credentials"},
                )
                locked = actions.login_locked(username)
                if not locked:
                    form.add_error(None, _("用户名或密码不正确。"))
            else:
                login(request, user)
                actions.record_audit(user, AuditEntry.Action.LOGIN, request=request)
                return redirect(_safe_next(request, "/"))
    if locked:
        form.add_error(
            None,
            _("登录失败次数过多，该账号已被锁定，请 %(minutes)d 分钟后再试。")
            % {"minutes": settings.LOGIN_LOCK_MINUTES},
        )
    status = 429 if locked else 200
    context = {
        "form": form,
        "next": _safe_next(request, ""),
        "lock_minutes": settings.LOGIN_LOCK_MINUTES,
        "max_failures": settings.LOGIN_MAX_FAILURES,
    }
    return render(request, "accounts/login.html", context, status=status)


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        actions.record_audit(request.user, AuditEntry.Action.LOGOUT, request=request)
    logout(request)
    return redirect("login")


@login_required
def notifications(request):
    inbox = request.user.notifications.order_by("-created_at", "-id")
    page = Paginator(inbox, 30).get_page(request.GET.get("page"))
    unread = request.user.notifications.filter(read_at__isnull=True).count()
    return render(request, "accounts/notifications.html", {"page": page, "unread": unread})


@require_POST
@login_required
def notification_read(request, pk):
    """Mark one notification read and follow its link when it stays on this site."""
    notification = get_object_or_404(request.user.notifications, pk=pk)
    actions.mark_notifications_read(actor=request.user, ids=[notification.pk])
    if request.POST.get("open") and notification.url:
        request_next = notification.url
        if url_has_allowed_host_and_scheme(request_next, allowed_hosts={request.get_host()}):
            return redirect(request_next)
    return redirect(_safe_next(request, "/notifications/"))


@require_POST
@login_required
def notifications_read_all(request):
    count = actions.mark_notifications_read(actor=request.user)
    if count:
        messages.success(request, _("已将 %(count)d 条通知标为已读。") % {"count": count})
    return redirect("notifications")


@require_POST
def elder_mode(request):
    """Switch elder mode (长辈版) on or off for this browser: a cookie, nothing stored."""
    response = redirect(_safe_next(request, "/"))
    if request.POST.get("on") == "1":
        response.set_cookie(
            ELDER_COOKIE, "1", max_age=ELDER_COOKIE_AGE, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE
        )
    else:
        response.delete_cookie(ELDER_COOKIE, samesite="Lax")
    return response
