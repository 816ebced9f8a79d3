"""Authentication of the JSON API: bearer tokens, the token endpoints, and the rate limits.

`POST /auth/token` trades a username and password for a token (audited and locked out exactly
like the web login); every other endpoint needs `Authorization: Bearer <token>`.
"""

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle

from linli.accounts.actions import login_locked, record_audit
from linli.accounts.models import AuditEntry
from linli.api import actions
from linli.api.errors import ApiError
from linli.api.models import ApiToken
from linli.api.schemas import ERRORS, MeOut, TokenIn, TokenOut

WINDOW_SECONDS = 60


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the address the trusted proxies saw.

    With TRUSTED_PROXY_COUNT = n > 0, the n-th address from the right of X-Forwarded-For is the
    client (each trusted proxy appends the address it received from); anything further left is
    the client's own claim and never trusted.
    """
    remote = request.META.get("REMOTE_ADDR") or ""
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
    return addresses[-min(proxies, len(addresses))] if addresses else remote


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`: the token's user becomes `request.user`."""

    def authenticate(self, request, token):
        if not token or len(token) > 200:
            return None
        row = (
            ApiToken.objects.select_related("user__member_profile", "user__resident_profile")
            .filter(key_hash=actions.hash_token(token))
            .first()
        )
        if row is None or not row.user.is_active:
            return None
        if row.revoked_at is not None:
            raise ApiError(401, "token_revoked", _("访问令牌已注销，请重新登录"), headers=_challenge())
        now = timezone.now()
        if row.expires_at <= now:
            raise ApiError(401, "token_expired", _("访问令牌已过期，请重新登录"), headers=_challenge())
        actions.touch_api_token(row, now=now)
        request.user = row.user
        return row


def _challenge() -> dict:
    return {"WWW-Authenticate": 'Bearer realm="linli", error="invalid_token"'}


class _FixedWindowThrottle(BaseThrottle):
    """Requests per minute of one bucket, counted in the database (all workers share the count)."""

    setting = ""
    default = 0

    def bucket(self, request) -> str:
        raise NotImplementedError

    def limit(self) -> int:
        return getattr(settings, self.setting, self.default)

    def allow_request(self, request) -> bool:
        limit = self.limit()
        if limit <= 0:  # 0 switches the limit off
            return True
        return actions.count_api_request(self.bucket(request), window_seconds=WINDOW_SECONDS) <= limit

    def wait(self) -> float:
        # Fixed windows: the next one starts at the next multiple of the window length.
        now = timezone.now().timestamp()
        return WINDOW_SECONDS - now % WINDOW_SECONDS


class TokenRateThrottle(_FixedWindowThrottle):
    """API_RATE_PER_MINUTE requests per token (runs after authentication)."""

    setting = "API_RATE_PER_MINUTE"
    default = 120

    def bucket(self, request) -> str:
        token = getattr(request, "auth", None)
        if isinstance(token, ApiToken):
            return f"token:{token.pk}"
        return f"ip:{client_ip(request)}"


class LoginRateThrottle(_FixedWindowThrottle):
    """API_LOGIN_RATE_PER_MINUTE token requests per client address: slows password guessing."""

    setting = "API_LOGIN_RATE_PER_MINUTE"
    default = 10

    def bucket(self, request) -> str:
        return f"login:{client_ip(request)}"


router = Router(tags=["auth"])


@router.post(
    "/auth/token",
    response={201: TokenOut, **ERRORS},
    auth=None,
    throttle=[LoginRateThrottle()],
    operation_id="create_token",
    summary="用用户名和密码换取访问令牌",
)
def create_token(request, payload: TokenIn):
    """Returns a bearer token valid for API_TOKEN_DAYS days. Failures are audited; after
    LOGIN_MAX_FAILURES failures in a row the username is locked for LOGIN_LOCK_MINUTES (429)."""
    username = payload.username
    if login_locked(username):
        record_audit(
            None,
            AuditEntry.Action.LOGIN_FAILED,
            username=username,
            request=request,
            detail={"reason": "locked", "via": "api"},
        )
        raise _locked()
    user = authenticate(request, username=username, password=payload.password)
    if user is None:
        record_audit(
            None,
            AuditEntry.Action.LOGIN_FAILED,
            username=username,
            request=request,
            detail={"reason": "bad_credentials", "via": "api"},
        )
        if login_locked(username):
            raise _locked()
        raise ApiError(401, "invalid_credentials", _("用户名或密码不正确"))
    token, raw = actions.create_api_token(actor=user, request=request)
    return Status(201, {"token": raw, "token_type": "Bearer", "expires_at": token.expires_at})


def _locked() -> ApiError:
    minutes = settings.LOGIN_LOCK_MINUTES
    return ApiError(
        429,
        "login_locked",
        _("登录失败次数过多，该账号已被锁定，请 %(minutes)s 分钟后再试") % {"minutes": minutes},
        headers={"Retry-After": str(minutes * 60)},
    )


@router.post(
    "/auth/logout",
    response={204: None, **ERRORS},
    operation_id="revoke_token",
    summary="注销当前访问令牌",
)
def revoke_token(request):
    actions.revoke_api_token(request.auth, actor=request.user, request=request)
    return Status(204, None)


@router.get("/me", response={200: MeOut, **ERRORS}, operation_id="get_me", summary="当前用户")
def me(request):
    """Who the token belongs to: roles, and the resident's household or the member's profile."""
    user = request.user
    s = user.scope
    resident = getattr(user, "resident_profile", None) if s.resident_id else None
    member = getattr(user, "member_profile", None) if s.member_id else None
    return {
        "id": user.pk,
        "username": user.get_username(),
        "name": user.name or user.get_username(),
        "roles": sorted(user.roles),
        "resident": {"id": resident.pk, "household_id": resident.household_id} if resident else None,
        "member": {"id": member.pk, "name": member.name, "community_ids": sorted(s.member_community_ids)}
        if member
        else None,
        "community_ids": sorted(s.managed_community_ids),
        "grid_ids": sorted(s.grid_ids),
        "department_ids": sorted(s.department_ids),
    }
