"""The member's pages: open activities, the activity with sign-up/cancel, my shifts, the scan landing page."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from linli import testing as t
from linli.activities import actions, qrcodes
from linli.activities.models import SignUp
from linli.activities.testing import make_activity
from linli.credits.models import ServiceRecord
from tests.conftest import login

U = SignUp.Status


@pytest.fixture
def activity(world, personas):
    return make_activity(
        world.a, actor=personas.staff_a, publish=True, shifts=[(48, 2, 2), (72, 2, 1)], title="楼道大扫除"
    )


def test_list_shows_open_activities_of_my_communities_with_seats_left(
    world, personas, activity, django_assert_max_num_queries
):
    make_activity(world.a, actor=personas.staff_a, shifts=[(48, 2, 5)], title="草稿活动")  # not published
    make_activity(world.b, actor=personas.staff_b, publish=True, shifts=[(48, 2, 5)], title="和平村活动")
    for k in range(25):
        make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(100 + k, 1, 3)], title=f"活动{k}")
    client = login(personas.member_user)
    client.get(reverse("home"))  # the session's first write is not the page's
    with django_assert_max_num_queries(9):
        response = client.get(reverse("activities"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "楼道大扫除" in html and "余 3 个名额" in html
    assert "草稿活动" not in html and "和平村活动" not in html
    assert html.count('class="list-item"') == 20  # a page of 20, soonest first
    page2 = client.get(reverse("activities") + "?page=2").content.decode()
    assert "活动24" in page2


def test_list_query_count_does_not_grow_with_rows(world, personas, django_assert_max_num_queries):
    client = login(personas.member_user)
    client.get(reverse("home"))  # the session's first write is not the page's
    for k in range(3):
        make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(50 + k, 1, 3)], title=f"活动{k}")
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("activities"))
    for k in range(15):
        make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(60 + k, 1, 3)], title=f"更多{k}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("activities"))


def test_detail_sign_up_and_cancel_through_the_page(personas, activity):
    client = login(personas.member_user)
    first = activity.shifts.order_by("starts_at").first()
    html = client.get(reverse("activity", args=[activity.pk])).content.decode()
    assert "报名" in html and "已报 0/2" in html
    assert client.get(reverse("shift_sign_up", args=[first.pk])).status_code == 405
    response = client.post(reverse("shift_sign_up", args=[first.pk]), follow=True)
    assert "报名成功" in response.content.decode()
    assert SignUp.objects.get(shift=first, member=personas.member).status == U.SIGNED_UP
    # htmx: the row comes back with the outcome.
    response = client.post(reverse("shift_cancel_sign_up", args=[first.pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "已取消报名" in html and 'id="shift-' in html and "<html" not in html
    assert SignUp.objects.get(shift=first, member=personas.member).status == U.CANCELLED


def test_detail_says_why_not_and_errors_come_back_as_messages(world, personas, activity):
    full = activity.shifts.order_by("starts_at").last()  # capacity 1
    other = t.make_user()
    t.register_approved(t.make_member(user=other), world.a)
    actions.sign_up(full, actor=other)
    client = login(personas.member_user)
    html = client.get(reverse("activity", args=[activity.pk])).content.decode()
    assert "已报满" in html
    response = client.post(reverse("shift_sign_up", args=[full.pk]), follow=True)
    assert "该班次已报满" in response.content.decode()


def test_detail_query_count(world, personas, activity, django_assert_max_num_queries):
    client = login(personas.member_user)
    client.get(reverse("home"))  # the session's first write is not the page's
    with django_assert_max_num_queries(10):
        assert client.get(reverse("activity", args=[activity.pk])).status_code == 200


def test_outside_scope_is_404(world, personas, activity):
    draft = make_activity(world.a, actor=personas.staff_a, shifts=[(48, 2, 5)])
    outsider = t.make_user()
    t.register_approved(t.make_member(user=outsider), world.b)  # registered with community B only
    client = login(outsider)
    assert client.get(reverse("activity", args=[activity.pk])).status_code == 404
    assert client.post(reverse("shift_sign_up", args=[activity.shifts.first().pk])).status_code == 404
    assert login(personas.member_user).get(reverse("activity", args=[draft.pk])).status_code == 404
    assert login(personas.resident_user).get(reverse("activity", args=[activity.pk])).status_code == 404
    assert login(personas.resident_user).get(reverse("activities")).status_code == 404


def test_my_shifts_shows_upcoming_and_history(world, personas, activity, django_assert_max_num_queries):
    first, second = activity.shifts.order_by("starts_at")
    actions.sign_up(first, actor=personas.member_user)
    actions.sign_up(second, actor=personas.member_user)
    client = login(personas.member_user)
    client.get(reverse("home"))  # the session's first write is not the page's
    with django_assert_max_num_queries(10):
        html = client.get(reverse("my_shifts")).content.decode()
    assert html.count("楼道大扫除") == 2 and "生成日历订阅地址" in html
    with time_machine.travel(first.starts_at, tick=False):
        actions.scan_shift_code(qrcodes.make_token(first.pk), actor=personas.member_user)
    with time_machine.travel(first.ends_at, tick=False):
        actions.scan_shift_code(qrcodes.make_token(first.pk), actor=personas.member_user)
        html = login(personas.member_user).get(reverse("my_shifts")).content.decode()
    assert "已完成" in html and "2.0 小时" in html
    assert login(personas.staff_a).get(reverse("my_shifts")).status_code == 404


def test_scan_page_confirms_then_signs_in_and_out(personas, activity):
    shift = activity.shifts.order_by("starts_at").first()
    actions.sign_up(shift, actor=personas.member_user)
    with time_machine.travel(shift.starts_at, tick=False):
        client = login(personas.member_user)  # logged in at the site (sessions time out when idle)
        token = qrcodes.make_token(shift.pk)
        page = client.get(reverse("shift_scan") + "?t=" + token)
        assert page.status_code == 200 and "确认签到" in page.content.decode()
        assert SignUp.objects.get(shift=shift).status == U.SIGNED_UP  # GET changes nothing
        done = client.post(reverse("shift_scan"), {"t": token})
        assert "签到成功" in done.content.decode()
    with time_machine.travel(shift.starts_at + dt.timedelta(hours=1), tick=False):
        client = login(personas.member_user)
        token = qrcodes.make_token(shift.pk)
        assert "确认签退" in client.get(reverse("shift_scan") + "?t=" + token).content.decode()
        html = client.post(reverse("shift_scan"), {"t": token}).content.decode()
    assert "签退成功" in html and "1.0 小时" in html
    assert ServiceRecord.objects.filter(source_type="shift").count() == 1


def test_scan_page_refuses_yesterdays_screenshot_in_plain_chinese(personas, activity):
    shift = activity.shifts.order_by("starts_at").first()
    actions.sign_up(shift, actor=personas.member_user)
    with time_machine.travel(shift.starts_at - dt.timedelta(days=1), tick=False):
        old = qrcodes.make_token(shift.pk)
    with time_machine.travel(shift.starts_at, tick=False):
        client = login(personas.member_user)
        response = client.get(reverse("shift_scan") + "?t=" + old)
        posted = client.post(reverse("shift_scan"), {"t": old})
    html = response.content.decode()
    assert response.status_code == 400 and "二维码已过期" in html and "不要使用截图" in html
    assert posted.status_code == 400 and SignUp.objects.get(shift=shift).status == U.SIGNED_UP


def test_scan_page_needs_a_login_and_comes_back(personas, activity):
    shift = activity.shifts.first()
    url = reverse("shift_scan") + "?t=" + qrcodes.make_token(shift.pk)
    response = Client().get(url)
    assert response.status_code == 302 and "/login/" in response["Location"] and "checkin" in response["Location"]
