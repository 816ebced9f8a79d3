"""Login, lock-out, logout, the UI switches (language, elder mode) and the notification inbox."""

import re

from django.test import Client

from linli import testing as t
from linli.accounts.models import AuditEntry, Notification


def _login(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def test_anonymous_is_sent_to_login(db):
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_page_is_chinese_by_default_with_switches(db):
    html = Client().get("/login/").content.decode()
    assert '<html lang="zh-CN"' in html
    assert "登录邻里" in html
    assert 'name="language" value="en"' in html  # visible switch to English
    assert "长辈版" in html  # visible switch to elder mode


def test_login_success_is_audited_and_redirects_home(personas):
    client = Client()
    response = _login(client, "staff_a", t.PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    entry = AuditEntry.objects.get(action=AuditEntry.Action.LOGIN)
    assert entry.actor == personas.staff_a
    assert entry.username == "staff_a"
    assert client.get("/").status_code == 200


def test_login_follows_safe_next_only(personas):
    client = Client()
    response = client.post("/login/", {"username": "staff_a", "password": t.PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == "/"
    client = Client()
    response = client.post("/login/", {"username": "staff_a", "password": t.PASSWORD, "next": "/notifications/"})
    assert response["Location"] == "/notifications/"


def test_failure_is_audited_with_username_and_never_the_password(personas):
    response = _login(Client(), "staff_a", "wrong-password-123")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.LOGIN_FAILED)
    assert entry.username == "staff_a"
    assert entry.actor is None
    assert "wrong-password-123" not in str(entry.detail)


def test_unknown_username_failure_is_audited_too(db):
    _login(Client(), "nobody", "whatever-123")
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN_FAILED, username="nobody").count() == 1


def test_five_failures_lock_the_account_with_a_clear_message(personas, settings):
    client = Client()
    for _ in range(4):
        response = _login(client, "staff_a", "bad-password-xx")
        assert "已被锁定" not in response.content.decode()
    response = _login(client, "staff_a", "bad-password-xx")
    html = response.content.decode()
    assert f"该账号已被锁定，请 {settings.LOGIN_LOCK_MINUTES} 分钟后再试" in html
    # Even the right password is refused while locked, and the attempt is recorded.
    response = _login(client, "staff_a", t.PASSWORD)
    assert "已被锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN_FAILED, username="staff_a").count() == 6
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN).exists()
    # Another account is not affected.
    assert _login(Client(), "staff_b", t.PASSWORD).status_code == 302


def test_logout_is_post_only_and_audited(personas):
    client = Client()
    _login(client, "member", t.PASSWORD)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOGOUT, actor=personas.member_user).count() == 1
    assert client.get("/").status_code == 302


def test_english_switch_renders_english(db):
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    html = client.get("/login/").content.decode()
    assert '<html lang="en"' in html
    assert "Sign in to Linli" in html
    assert "登录邻里" not in html
    assert 'name="language" value="zh-hans"' in html  # and back to Chinese


def test_english_pages_after_login(personas):
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    client.force_login(personas.staff_a)
    html = client.get(f"/communities/{personas.member.home_community_id}/").content.decode()
    for english in ("Grids", "Households", "Grid workers", "Party organisation", "Sign out"):
        assert english in html
    for chinese in ("户数", "配置标准", "党组织", "退出", "：", "、"):
        assert chinese not in html


def test_elder_cookie_adds_the_class(db):
    client = Client()
    assert 'class="elder"' not in client.get("/login/").content.decode()
    response = client.post("/elder/", {"on": "1", "next": "/login/"})
    assert response.status_code == 302
    assert response.cookies["elder"].value == "1"
    html = client.get("/login/").content.decode()
    assert '<html lang="zh-CN" class="elder">' in html
    assert "标准版" in html  # the way back
    client.post("/elder/", {"on": "0", "next": "/login/"})
    assert 'class="elder"' not in client.get("/login/").content.decode()


def test_pages_reference_no_external_url(personas):
    client = Client()
    client.force_login(personas.staff_a)
    for url in ["/login/", "/", f"/communities/{personas.member.home_community_id}/", "/notifications/"]:
        html = client.get(url).content.decode()
        assert not re.search(r"""(src|href|action)=["']?(https?:)?//""", html), url
        assert "cdn" not in html.lower()


def test_notifications_inbox_and_mark_read(personas):
    user = personas.member_user
    Notification.objects.create(user=user, title="您向幸福社区的报到已通过", url="/", dedupe_key="x:0")
    other = Notification.objects.create(user=personas.staff_b, title="B的通知", dedupe_key="x:1")
    client = Client()
    client.force_login(user)
    html = client.get("/notifications/").content.decode()
    assert "报到已通过" in html
    assert "B的通知" not in html
    mine = user.notifications.first()
    assert client.get(f"/notifications/{mine.pk}/read/").status_code == 405
    assert client.post(f"/notifications/{mine.pk}/read/").status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None
    # Someone else's notification is a 404 and stays unread.
    assert client.post(f"/notifications/{other.pk}/read/").status_code == 404
    other.refresh_from_db()
    assert other.read_at is None


def test_mark_all_read(personas):
    user = personas.member_user
    Notification.objects.create(user=user, title="另一条", dedupe_key="x:2")
    client = Client()
    client.force_login(user)
    client.post("/notifications/read-all/")
    assert not user.notifications.filter(read_at__isnull=True).exists()
