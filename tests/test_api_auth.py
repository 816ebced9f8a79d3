"""POST /api/v1/auth/token, /auth/logout, /me: bearer tokens, lock-out, expiry and revocation."""

import datetime as dt
import hashlib

import pytest
import time_machine
from django.utils import timezone

from linli import testing as t
from linli.accounts.models import AuditEntry
from linli.api.models import ApiToken
from linli.api.testing import ApiClient, api_client


def _login(username, password=t.PASSWORD, **extra):
    return api_client(**extra).post("/auth/token", {"username": username, "password": password})


def test_token_is_issued_once_and_stored_only_as_its_hash(personas):
    response = _login("resident")
    assert response.status_code == 201
    body = response.json()
    raw = body["token"]
    assert body["token_type"] == "Bearer"
    assert len(raw) >= 43  # 32 random bytes, URL-safe base64
    token = ApiToken.objects.get(user=personas.resident_user)
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    # The token itself is in no column of the row.
    assert raw not in {str(v) for v in ApiToken.objects.filter(pk=token.pk).values().first().values()}
    assert AuditEntry.objects.filter(actor=personas.resident_user, action=AuditEntry.Action.LOGIN).count() == 1


def test_token_lifetime_defaults_to_30_days_and_is_configurable(personas, settings):
    now = timezone.now()
    expires = dt.datetime.fromisoformat(_login("resident").json()["expires_at"])
    assert dt.timedelta(days=30) - dt.timedelta(minutes=1) < expires - now <= dt.timedelta(days=30, minutes=1)
    settings.API_TOKEN_DAYS = 2
    expires = dt.datetime.fromisoformat(_login("resident").json()["expires_at"])
    assert expires - now <= dt.timedelta(days=2, minutes=1)


def test_a_token_authenticates_its_user(world, personas):
    raw = _login("staff_a").json()["token"]
    response = ApiClient(raw).get("/me")
    assert response.status_code == 200
    me = response.json()
    assert me["username"] == "staff_a"
    assert me["roles"] == ["community_staff"]
    assert me["community_ids"] == [world.a.pk]
    assert ApiToken.objects.get(user=personas.staff_a).last_used_at is not None


def test_me_tells_a_resident_their_household_and_a_member_their_communities(world, personas):
    resident = api_client(personas.resident_user).get("/me").json()
    assert resident["resident"] == {"id": personas.resident.pk, "household_id": world.hh_a1.pk}
    member = api_client(personas.member_user).get("/me").json()
    assert member["member"]["community_ids"] == [world.a.pk]


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer nonsense", "Token abc", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 500],
)
def test_missing_or_unknown_token_is_401(personas, header):
    client = api_client()
    response = client.get("/orders", headers={"Authorization": header} if header else None)
    assert response.status_code == 401
    assert response.json() == {"code": "unauthenticated", "message": "请先登录：缺少访问令牌或令牌无效"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_password_is_401_and_audited(personas):
    response = _login("resident", "wrong-password")
    assert response.status_code == 401
    assert response.json() == {"code": "invalid_credentials", "message": "用户名或密码不正确"}
    failed = AuditEntry.objects.get(action=AuditEntry.Action.LOGIN_FAILED)
    assert failed.username == "resident"
    assert failed.detail == {"reason": "bad_credentials", "via": "api"}
    assert not ApiToken.objects.exists()


def test_unknown_user_is_the_same_401(personas):
    response = _login("nobody", "whatever-pass")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_login_locks_after_max_failures_like_the_web_login(personas, settings):
    settings.LOGIN_MAX_FAILURES = 3
    settings.API_LOGIN_RATE_PER_MINUTE = 0  # the lock-out is under test, not the rate limit
    codes = [_login("resident", "wrong-password").status_code for _ in range(3)]
    assert codes == [401, 401, 429]  # the third failure locks
    response = _login("resident")  # even the right password, while locked
    assert response.status_code == 429
    assert response.json()["code"] == "login_locked"
    assert "锁定" in response.json()["message"]
    assert int(response.headers["Retry-After"]) == settings.LOGIN_LOCK_MINUTES * 60
    assert not ApiToken.objects.exists()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=settings.LOGIN_LOCK_MINUTES + 1)):
        assert _login("resident").status_code == 201


def test_inactive_user_gets_no_token_and_loses_existing_ones(personas):
    client = api_client(personas.resident_user)
    personas.resident_user.is_active = False
    personas.resident_user.save(update_fields=["is_active"])
    assert client.get("/me").status_code == 401
    assert _login("resident").status_code == 401


def test_expired_token_is_401(personas):
    client = api_client(personas.resident_user)
    assert client.get("/me").status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(days=30, seconds=1)):
        response = client.get("/me")
    assert response.status_code == 401
    assert response.json() == {"code": "token_expired", "message": "访问令牌已过期，请重新登录"}


def test_logout_revokes_the_presented_token_only(personas):
    raw = _login("resident").json()["token"]
    other = ApiClient(_login("resident").json()["token"])
    client = ApiClient(raw)
    response = client.post("/auth/logout")
    assert response.status_code == 204
    assert ApiToken.objects.get(key_hash=hashlib.sha256(raw.encode()).hexdigest()).revoked_at is not None
    response = client.get("/me")
    assert response.status_code == 401
    assert response.json() == {"code": "token_revoked", "message": "访问令牌已注销，请重新登录"}
    assert client.post("/auth/logout").status_code == 401
    assert other.get("/me").status_code == 200
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOGOUT, actor=personas.resident_user).count() == 1


def test_token_request_is_validated(personas):
    response = api_client().post("/auth/token", {"username": "resident"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["detail"] == [{"field": "password", "message": "必填"}]
    assert "password" in body["message"]


def test_body_must_be_a_json_object(personas):
    client = api_client()
    for data in ("{broken", '"a string"', "[1, 2]"):
        response = client.client.post("/api/v1/auth/token", data, content_type="application/json")
        assert response.status_code == 400
        assert response.json() == {"code": "invalid_json", "message": "请求体应为 JSON 对象"}


def test_session_cookie_alone_does_not_authenticate(personas, as_user):
    # The API is bearer-only: a browser session cannot be ridden by a cross-site request.
    response = as_user(personas.staff_a).get("/api/v1/orders")
    assert response.status_code == 401
