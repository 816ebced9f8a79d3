"""The notification inbox over JSON: one's own only, unread count, mark one or all read."""

import pytest

from linli import testing as t
from linli.accounts.models import Notification
from linli.api.testing import api_client


def _notify(user, n, *, prefix="通知"):
    # Arrange inbox rows directly: delivering them is the notification task's job, tested elsewhere.
    return [
        Notification.objects.create(
            user=user, title=f"{prefix}{i}", body="内容", url="/tasks/", dedupe_key=f"{prefix}:{i}"
        )
        for i in range(n)
    ]


@pytest.fixture
def inbox(personas):
    mine = _notify(personas.member_user, 5)
    theirs = _notify(personas.staff_b, 2, prefix="和平村内部通知")
    return mine, theirs


def test_list_count_and_mark_read(personas, inbox):
    mine, _theirs = inbox
    client = api_client(personas.member_user)
    body = client.get("/notifications").json()
    assert body["count"] == 5
    assert [n["id"] for n in body["items"]] == [n.pk for n in reversed(mine)]
    assert body["items"][0] | {"created_at": None} == {
        "id": mine[-1].pk,
        "title": "通知4",
        "body": "内容",
        "url": "/tasks/",
        "created_at": None,
        "read_at": None,
        "is_read": False,
    }
    assert client.get("/notifications/unread-count").json() == {"unread": 5}
    one = client.post(f"/notifications/{mine[0].pk}/read")
    assert one.status_code == 200 and one.json()["is_read"] is True and one.json()["read_at"]
    assert client.post(f"/notifications/{mine[0].pk}/read").json()["read_at"] == one.json()["read_at"]
    assert client.get("/notifications/unread-count").json() == {"unread": 4}
    assert client.get("/notifications", {"unread": "true"}).json()["count"] == 4
    assert client.post("/notifications/read-all").json() == {"marked": 4}
    assert client.post("/notifications/read-all").json() == {"marked": 0}
    assert client.get("/notifications/unread-count").json() == {"unread": 0}


def test_someone_else_s_notification_is_a_404_and_stays_unread(personas, inbox):
    _mine, theirs = inbox
    client = api_client(personas.member_user)
    response = client.post(f"/notifications/{theirs[0].pk}/read")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    client.post("/notifications/read-all")
    assert Notification.objects.filter(user=personas.staff_b, read_at__isnull=True).count() == 2
    assert "和平村" not in client.get("/notifications").content.decode()


def test_paginated_with_a_fixed_number_of_queries(personas, django_assert_max_num_queries):
    user = t.make_user("busy")
    _notify(user, 30)
    client = api_client(user)
    client.get("/me")
    with django_assert_max_num_queries(6):
        page = client.get("/notifications", {"limit": 10, "offset": 25}).json()
    assert page["count"] == 30 and len(page["items"]) == 5
    assert client.get("/notifications", {"limit": 0}).status_code == 422
