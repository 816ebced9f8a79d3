"""Staff pages: the community's activities, create/edit, publish/cancel, shifts, the roster with
attendance, and the rotating sign-in code."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from linli import testing as t
from linli.activities import actions, qrcodes
from linli.activities.models import Activity, Shift, SignUp
from linli.activities.testing import make_activity
from linli.credits.models import ServiceRecord
from tests.conftest import login

A, U = Activity.Status, SignUp.Status


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def activity(world, personas):
    return make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(48, 2, 5)], title="环境整治")


def test_community_list_for_staff_only(world, personas, activity, django_assert_max_num_queries):
    for k in range(10):
        make_activity(world.a, actor=personas.staff_a, shifts=[(60 + k, 1, 3)], title=f"草稿{k}")
    client = login(personas.staff_a)
    client.get(reverse("home"))
    with django_assert_max_num_queries(10):
        html = client.get(reverse("community_activities", args=[world.a.pk])).content.decode()
    assert "环境整治" in html and "草稿9" in html and "发起活动" in html
    assert login(personas.staff_b).get(reverse("community_activities", args=[world.a.pk])).status_code == 404
    assert login(personas.member_user).get(reverse("community_activities", args=[world.a.pk])).status_code == 403
    assert login(personas.town_admin).get(reverse("community_activities", args=[world.a.pk])).status_code == 200


def test_staff_list_on_the_activities_page(world, personas, activity, django_assert_max_num_queries):
    client = login(personas.staff_a)
    client.get(reverse("home"))
    with django_assert_max_num_queries(10):
        html = client.get(reverse("activities")).content.decode()
    assert "我管理的活动" in html and "环境整治" in html


def test_create_edit_publish_through_the_pages(world, personas):
    client = login(personas.staff_a)
    assert client.get(reverse("activity_new", args=[world.a.pk])).status_code == 200
    now = timezone.now()
    data = {
        "title": "政策宣传进小区",
        "kind": "policy",
        "place": "幸福广场",
        "leader": "李书记",
        "description": "发放医保政策资料",
        "signup_opens_at": _local(now),
        "signup_closes_at": _local(now + dt.timedelta(days=5)),
        "cancel_hours": "12",
        "unit_quota": "on",
    }
    bad = client.post(reverse("activity_new", args=[world.a.pk]), {**data, "place": ""})
    assert bad.status_code == 200 and "请填写活动地点" in bad.content.decode()
    response = client.post(reverse("activity_new", args=[world.a.pk]), data)
    activity = Activity.objects.get(title="政策宣传进小区")
    assert response.status_code == 302 and activity.unit_quota and activity.cancel_hours == 12
    assert activity.status == A.DRAFT
    start = now + dt.timedelta(days=6)
    client.post(
        reverse("shift_add", args=[activity.pk]),
        {"starts_at": _local(start), "ends_at": _local(start + dt.timedelta(hours=3)), "capacity": "8", "note": "上午"},
    )
    shift = activity.shifts.get()
    assert shift.capacity == 8 and shift.note == "上午"
    assert client.get(reverse("activity_publish", args=[activity.pk])).status_code == 405
    client.post(reverse("activity_publish", args=[activity.pk]))
    assert Activity.objects.get(pk=activity.pk).status == A.PUBLISHED
    edit = client.post(reverse("activity_edit", args=[activity.pk]), {**data, "place": "幸福广场东侧"})
    assert edit.status_code == 302 and Activity.objects.get(pk=activity.pk).place == "幸福广场东侧"
    client.post(reverse("shift_capacity", args=[shift.pk]), {"capacity": "10"})
    assert Shift.objects.get(pk=shift.pk).capacity == 10


def test_other_communities_staff_and_members_cannot_manage(world, personas, activity):
    shift = activity.shifts.get()
    b = login(personas.staff_b)
    for url in (
        reverse("activity_edit", args=[activity.pk]),
        reverse("shift_roster", args=[shift.pk]),
        reverse("shift_code", args=[shift.pk]),
    ):
        assert b.get(url).status_code == 404
    assert b.post(reverse("activity_cancel", args=[activity.pk]), {"reason": "x"}).status_code == 404
    member = login(personas.member_user)
    assert member.get(reverse("shift_code", args=[shift.pk])).status_code == 403
    assert member.get(reverse("shift_roster", args=[shift.pk])).status_code == 403
    assert member.post(reverse("activity_publish", args=[activity.pk])).status_code == 403
    assert Activity.objects.get(pk=activity.pk).status == A.PUBLISHED


def test_cancel_through_the_page_needs_a_reason(world, personas, activity):
    client = login(personas.staff_a)
    response = client.post(reverse("activity_cancel", args=[activity.pk]), {"reason": ""}, follow=True)
    assert "请填写取消原因" in response.content.decode()
    client.post(reverse("activity_cancel", args=[activity.pk]), {"reason": "场地临时被占用"})
    assert Activity.objects.get(pk=activity.pk).status == A.CANCELLED


def test_roster_and_attendance_by_hand(world, personas, activity, django_assert_max_num_queries):
    shift = activity.shifts.get()
    others = []
    for _ in range(4):
        user = t.make_user()
        t.register_approved(t.make_member(user=user), world.a)
        actions.sign_up(shift, actor=user)
        others.append(user)
    mine = actions.sign_up(shift, actor=personas.member_user)
    with time_machine.travel(shift.starts_at + dt.timedelta(minutes=5), tick=False):
        client = login(personas.staff_a)
        client.get(reverse("home"))
        with django_assert_max_num_queries(10):
            html = client.get(reverse("shift_roster", args=[shift.pk])).content.decode()
        assert html.count("data-signup=") == 5 and "出勤" in html and "缺席" in html
        assert "138****" in html  # phones masked
        response = client.post(reverse("signup_attendance", args=[mine.pk]), {"present": "0"}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and "已登记缺席" in response.content.decode()
    with time_machine.travel(shift.ends_at, tick=False):
        client = login(personas.staff_a)
        other = SignUp.objects.get(shift=shift, member__user=others[0])
        client.post(reverse("signup_attendance", args=[other.pk]), {"present": "1", "hours": "1.5"})
        bad = client.post(reverse("signup_attendance", args=[other.pk]), {"present": "1"}, follow=True)
        assert "出勤已登记" in bad.content.decode() or "不能" in bad.content.decode()
    assert SignUp.objects.get(pk=mine.pk).status == U.NO_SHOW
    assert ServiceRecord.objects.get(source_type="shift", source_id=other.pk).hours == 1.5
    member = login(personas.member_user)
    assert member.post(reverse("signup_attendance", args=[other.pk]), {"present": "0"}).status_code == 404
    assert member.post(reverse("signup_attendance", args=[mine.pk]), {"present": "1"}).status_code == 403


def test_the_code_page_shows_a_fresh_qr_and_refreshes_it(world, personas, activity):
    shift = activity.shifts.get()
    client = login(personas.staff_a)
    response = client.get(reverse("shift_code", args=[shift.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and "<svg" in html and 'hx-trigger="every 30s"' in html
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    partial = client.get(reverse("shift_code", args=[shift.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "<svg" in partial and "<html" not in partial
    # The encoded URL carries a token for this shift that the scan page accepts.
    url = client.get(reverse("shift_code", args=[shift.pk])).context["scan_url"]
    token = re.search(r"\?t=(.+)$", url).group(1)
    assert url.startswith("http://testserver/checkin/?t=") and qrcodes.read_token(token) == shift.pk
    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=40), tick=False):
        later = login(personas.staff_a).get(reverse("shift_code", args=[shift.pk])).context["scan_url"]
    assert later != url  # it rotates


def test_code_page_of_a_cancelled_activity_is_gone(world, personas, activity):
    actions.cancel_activity(activity, actor=personas.staff_a, reason="取消")
    assert login(personas.staff_a).get(reverse("shift_code", args=[activity.shifts.get().pk])).status_code == 404


def test_admin_shows_activities_read_only_within_scope(world, personas, activity):
    other = make_activity(world.b, actor=personas.staff_b, publish=True, shifts=[(48, 2, 5)], title="和平村义诊")
    actions.sign_up(activity.shifts.get(), actor=personas.member_user)
    client = login(personas.staff_a)
    html = client.get("/admin/activities/activity/").content.decode()
    assert "环境整治" in html and "和平村义诊" not in html
    assert client.get(f"/admin/activities/activity/{other.pk}/change/").status_code in (302, 404)
    assert client.get(f"/admin/activities/activity/{activity.pk}/change/").status_code == 200
    assert client.get("/admin/activities/activity/add/").status_code == 403
    assert client.get("/admin/activities/signup/").status_code == 200
