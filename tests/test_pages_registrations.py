"""The registration (报到) queue and its POST-only verbs, through HTTP."""

import pytest

from linli import testing as t
from linli.people import actions
from linli.people.models import Registration
from tests.conftest import login


@pytest.fixture
def pending(world, personas):
    return actions.request_registration(t.make_member(name="申请人", unit=world.unit), community=world.a, actor=None)


def test_queue_lists_pending_for_staff(world, personas, pending):
    response = login(personas.staff_a).get(f"/communities/{world.a.pk}/registrations/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "申请人" in html
    assert f'action="/registrations/{pending.pk}/approve/"' in html
    assert f'action="/registrations/{pending.pk}/decline/"' in html


def test_queue_is_404_for_other_community_and_403_for_non_staff_who_see_it(world, personas):
    assert login(personas.staff_b).get(f"/communities/{world.a.pk}/registrations/").status_code == 404
    assert login(personas.grid_worker).get(f"/communities/{world.a.pk}/registrations/").status_code == 403
    assert login(personas.member_user).get(f"/communities/{world.a.pk}/registrations/").status_code == 403
    assert login(personas.town_admin).get(f"/communities/{world.a.pk}/registrations/").status_code == 200


def test_approve_through_http_writes_the_event(world, personas, pending):
    client = login(personas.staff_a)
    assert client.get(f"/registrations/{pending.pk}/approve/").status_code == 405
    response = client.post(
        f"/registrations/{pending.pk}/approve/", {"next": f"/communities/{world.a.pk}/registrations/"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/communities/{world.a.pk}/registrations/"
    pending.refresh_from_db()
    assert pending.status == Registration.Status.APPROVED
    last = pending.events.last()
    assert (last.from_status, last.to_status, last.actor) == ("requested", "approved", personas.staff_a)
    html = client.get(response["Location"]).content.decode()
    assert "已通过 申请人 的报到" in html


def test_decline_needs_a_reason_and_writes_the_event(world, personas, pending):
    client = login(personas.staff_a)
    response = client.post(f"/registrations/{pending.pk}/decline/", {"reason": "  "}, follow=True)
    assert "请填写不通过的原因" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Registration.Status.REQUESTED
    client.post(f"/registrations/{pending.pk}/decline/", {"reason": "不在本社区居住"})
    pending.refresh_from_db()
    assert pending.status == Registration.Status.DECLINED
    assert pending.reason == "不在本社区居住"
    assert pending.events.last().note == "不在本社区居住"


def test_domain_error_is_shown_as_a_message(world, personas, pending):
    client = login(personas.staff_a)
    client.post(f"/registrations/{pending.pk}/approve/")
    response = client.post(f"/registrations/{pending.pk}/decline/", {"reason": "重复"}, follow=True)
    assert "不能执行此操作" in response.content.decode()
    assert pending.events.count() == 2


def test_htmx_gets_the_row_back(world, personas, pending):
    client = login(personas.staff_a)
    response = client.post(f"/registrations/{pending.pk}/approve/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith("<li")
    assert f'id="reg-{pending.pk}"' in html
    assert "已通过" in html
    assert "<html" not in html


def test_staff_of_b_cannot_touch_a_registration(world, personas, pending):
    client = login(personas.staff_b)
    assert client.post(f"/registrations/{pending.pk}/approve/").status_code == 404
    assert client.post(f"/registrations/{pending.pk}/decline/", {"reason": "x"}).status_code == 404
    assert client.get(f"/registrations/{pending.pk}/").status_code == 404
    pending.refresh_from_db()
    assert pending.status == Registration.Status.REQUESTED


def test_member_cannot_approve_their_own_registration(world, personas):
    reg = actions.request_registration(personas.member, community=world.b, actor=personas.member_user)
    client = login(personas.member_user)
    response = client.post(f"/registrations/{reg.pk}/approve/", follow=True)
    assert "只有报到社区的工作人员可以审核" in response.content.decode()
    reg.refresh_from_db()
    assert reg.status == Registration.Status.REQUESTED


def test_member_requests_and_withdraws_from_home(world, personas):
    client = login(personas.member_user)
    response = client.post("/registrations/request/", {"community": world.b.pk}, follow=True)
    assert "已向和平村提交报到申请" in response.content.decode()
    reg = Registration.objects.get(member=personas.member, community=world.b)
    assert reg.status == Registration.Status.REQUESTED
    assert reg.events.get().actor == personas.member_user
    # Asking again is refused (no live duplicate): the community is no longer offered.
    response = client.post("/registrations/request/", {"community": world.b.pk}, follow=True)
    assert "不能向该社区报到" in response.content.decode()
    response = client.post(f"/registrations/{reg.pk}/withdraw/", {"next": "/"}, follow=True)
    assert "已撤回" in response.content.decode()
    reg.refresh_from_db()
    assert reg.status == Registration.Status.WITHDRAWN
    assert reg.events.last().actor == personas.member_user


def test_member_cannot_request_an_unrelated_community(world, personas):
    elsewhere = t.make_community(name="外镇社区")
    client = login(personas.member_user)
    client.post("/registrations/request/", {"community": elsewhere.pk})
    assert not Registration.objects.filter(community=elsewhere).exists()


def test_non_member_cannot_request(world, personas):
    assert login(personas.staff_a).post("/registrations/request/", {"community": world.b.pk}).status_code == 404


def test_member_cannot_withdraw_someone_elses_registration(world, personas, pending):
    assert login(personas.member_user).post(f"/registrations/{pending.pk}/withdraw/").status_code == 404
    pending.refresh_from_db()
    assert pending.status == Registration.Status.REQUESTED


def test_registration_detail_shows_history(world, personas, pending):
    client = login(personas.staff_a)
    client.post(f"/registrations/{pending.pk}/approve/", {"note": "欢迎"})
    html = client.get(f"/registrations/{pending.pk}/").content.decode()
    assert "待审核" in html and "已通过" in html and "欢迎" in html
