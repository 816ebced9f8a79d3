"""Activities over JSON: the open list, the detail with shifts and seats, sign-up and cancel,
sign-in/out with the scanned code, my shifts, the calendar feed; scopes, pages, errors, queries."""

import datetime as dt

import pytest
import time_machine

from linli import testing as t
from linli.activities import qrcodes
from linli.activities.models import CalendarFeed, SignUp
from linli.activities.testing import make_activity
from linli.api.testing import api_client
from linli.credits.models import ServiceRecord

NOT_FOUND = {"code": "not_found", "message": "对象不存在，或您无权查看"}


@pytest.fixture
def activity(world, personas):
    return make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(48, 2, 2), (72, 3, 1)])


@pytest.fixture
def activity_b(world, personas):
    return make_activity(world.b, actor=personas.staff_b, publish=True, shifts=[(48, 2, 5)], title="和平村植树")


def test_member_lists_open_activities_of_their_communities(world, personas, activity, activity_b):
    draft = make_activity(world.a, actor=personas.staff_a, shifts=[(48, 1, 3)], title="草稿活动")
    body = api_client(personas.member_user).get("/activities").json()
    assert body["count"] == 1
    item = body["items"][0]
    assert (item["id"], item["title"], item["status"], item["kind_label"]) == (
        activity.pk,
        "楼道清理",
        "published",
        "环境整治",
    )
    assert item["community"] == {"id": world.a.pk, "name": "幸福社区"}
    assert item["seats_left"] == 3 and item["signed_up"] is False and item["next_start"]
    # Staff see their community's drafts with open=false, never B's.
    staff = api_client(personas.staff_a).get("/activities", {"open": "false"}).json()
    assert {a["id"] for a in staff["items"]} == {activity.pk, draft.pk}
    assert activity_b.pk not in {a["id"] for a in api_client(personas.staff_a).get("/activities").json()["items"]}


def test_the_detail_shows_shifts_seats_and_why_not(world, personas, activity):
    client = api_client(personas.member_user)
    body = client.get(f"/activities/{activity.pk}").json()
    assert body["manages"] is False and body["signup_errors"] == []
    first, _second = body["shifts"]
    assert (first["capacity"], first["seats_left"], first["hours"], first["can_sign_up"]) == (2, 2, 2.0, True)
    assert first["my_signup"] is None and first["reason"] == ""
    client.post(f"/shifts/{first['id']}/signup")
    body = client.get(f"/activities/{activity.pk}").json()
    first = body["shifts"][0]
    assert first["seats_left"] == 1 and first["my_signup"]["status"] == "signed_up" and first["can_cancel"] is True
    assert body["signed_up"] is True
    # A member not registered with the community is told why.
    outsider = t.make_user("outsider")
    t.make_member(user=outsider, home_community=world.b)
    assert api_client(outsider).get(f"/activities/{activity.pk}").status_code == 404  # not visible at all


def test_sign_up_then_cancel(world, personas, activity):
    client = api_client(personas.member_user)
    shift = activity.shifts.order_by("starts_at").first()
    response = client.post(f"/shifts/{shift.pk}/signup")
    assert response.status_code == 201
    signup = response.json()
    assert signup["status"] == "signed_up" and signup["can_cancel"] is True
    assert signup["activity"]["id"] == activity.pk and signup["shift"]["id"] == shift.pk
    again = client.post(f"/shifts/{shift.pk}/signup")
    assert again.status_code == 409 and again.json()["code"] == "already_signed_up"
    cancelled = client.post(f"/signups/{signup['id']}/cancel", {"reason": "临时有事"})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert client.post(f"/signups/{signup['id']}/cancel").status_code == 409
    shift.refresh_from_db()
    assert shift.seats_taken == 0


def test_the_last_seat_goes_once(world, personas, activity):
    shift = activity.shifts.order_by("starts_at").last()  # capacity 1
    other = t.make_user("member2")
    t.register_approved(t.make_member(user=other, home_community=world.a), world.a)
    assert api_client(personas.member_user).post(f"/shifts/{shift.pk}/signup").status_code == 201
    response = api_client(other).post(f"/shifts/{shift.pk}/signup")
    assert response.status_code == 409
    assert response.json() == {"code": "full", "message": "该班次已报满"}


def test_non_members_and_outsiders(world, personas, activity, activity_b):
    shift_b = activity_b.shifts.get()
    # A member of A may not even see B's shift: 404, and nothing happens.
    response = api_client(personas.member_user).post(f"/shifts/{shift_b.pk}/signup")
    assert response.status_code == 404 and response.json() == NOT_FOUND
    assert api_client(personas.staff_a).get(f"/activities/{activity_b.pk}").json() == NOT_FOUND
    # Staff who see the shift but are not members: 403.
    shift = activity.shifts.first()
    response = api_client(personas.staff_a).post(f"/shifts/{shift.pk}/signup")
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    # Someone else's sign-up is a 404 for a member, readable by the community's staff.
    signup = api_client(personas.member_user).post(f"/shifts/{shift.pk}/signup").json()
    other = t.make_user("member2")
    t.register_approved(t.make_member(user=other, home_community=world.a), world.a)
    assert api_client(other).get(f"/signups/{signup['id']}").status_code == 404
    assert api_client(other).post(f"/signups/{signup['id']}/cancel").status_code == 404
    assert api_client(personas.staff_a).get(f"/signups/{signup['id']}").status_code == 200
    assert api_client(personas.staff_b).get(f"/signups/{signup['id']}").status_code == 404
    assert SignUp.objects.get(pk=signup["id"]).status == "signed_up"


def test_check_in_and_out_with_the_scanned_token(world, personas, activity):
    client = api_client(personas.member_user)
    shift = activity.shifts.order_by("starts_at").first()
    signup_id = client.post(f"/shifts/{shift.pk}/signup").json()["id"]
    with time_machine.travel(shift.starts_at - dt.timedelta(minutes=5), tick=False):
        response = client.post("/checkin", {"token": qrcodes.make_token(shift.pk)})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["action"], body["hours"], body["signup"]["status"]) == ("checked_in", None, "checked_in")
    with time_machine.travel(shift.starts_at + dt.timedelta(minutes=85), tick=False):
        body = client.post("/checkin", {"token": qrcodes.make_token(shift.pk)}).json()
    assert (body["action"], body["hours"]) == ("checked_out", 1.5)
    assert body["signup"]["hours"] == 1.5 and body["signup"]["status"] == "completed"
    assert ServiceRecord.objects.get(source_type="shift", source_id=signup_id).hours == 1.5


def test_check_in_errors_are_400_with_the_reason(world, personas, activity):
    client = api_client(personas.member_user)
    shift = activity.shifts.first()
    response = client.post("/checkin", {"token": "not-a-token"})
    assert response.status_code == 400 and response.json()["code"] == "tampered"
    response = client.post("/checkin", {"token": qrcodes.make_token(shift.pk)})
    assert response.status_code == 400 and response.json()["code"] == "not_signed_up"
    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10), tick=False):
        old = qrcodes.make_token(shift.pk)
    client.post(f"/shifts/{shift.pk}/signup")
    assert client.post("/checkin", {"token": old}).json()["code"] == "expired"
    response = client.post("/checkin", {})
    assert response.status_code == 422 and response.json()["detail"] == [{"field": "token", "message": "必填"}]


def test_my_shifts_upcoming_and_history_paginated(world, personas, django_assert_max_num_queries):
    client = api_client(personas.member_user)
    activity = make_activity(
        world.a, actor=personas.staff_a, publish=True, shifts=[(24 * d, 1, 3) for d in range(2, 7)]
    )
    ids = [client.post(f"/shifts/{s.pk}/signup").json()["id"] for s in activity.shifts.order_by("starts_at")]
    client.post(f"/signups/{ids[0]}/cancel")
    client.get("/me")
    with django_assert_max_num_queries(7):
        page = client.get("/signups", {"upcoming": "true", "limit": 2, "offset": 1}).json()
    assert page["count"] == 4
    assert [s["id"] for s in page["items"]] == ids[2:4]
    history = client.get("/signups", {"upcoming": "false"}).json()
    assert [s["id"] for s in history["items"]] == [ids[0]]
    assert client.get("/signups").json()["count"] == 5
    # Nobody else's shifts, and a non-member has none.
    assert api_client(personas.staff_a).get("/signups").json() == {"items": [], "count": 0}


def test_listing_activities_costs_a_fixed_number_of_queries(world, personas, django_assert_max_num_queries):
    for i in range(15):
        make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(48 + i, 1, 3)], title=f"活动{i}")
    client = api_client(personas.member_user)
    client.get("/me")
    # token + rate counter + scope (roles, member registrations) + count + page
    with django_assert_max_num_queries(7):
        body = client.get("/activities").json()
    assert body["count"] == 15 and len(body["items"]) == 15
    page = client.get("/activities", {"limit": 5, "offset": 10}).json()
    assert page["count"] == 15 and len(page["items"]) == 5


def test_the_detail_costs_a_fixed_number_of_queries(world, personas, django_assert_max_num_queries):
    activity = make_activity(
        world.a, actor=personas.staff_a, publish=True, shifts=[(48 + 3 * i, 1, 3) for i in range(10)]
    )
    client = api_client(personas.member_user)
    client.get("/me")
    with django_assert_max_num_queries(10):
        body = client.get(f"/activities/{activity.pk}").json()
    assert len(body["shifts"]) == 10


def test_calendar_feed_url_and_regenerate(world, personas):
    client = api_client(personas.member_user)
    assert client.get("/calendar").json() == {"url": None, "created_at": None}
    first = client.post("/calendar/regenerate").json()
    assert first["url"].startswith("http://testserver/calendar/") and first["url"].endswith(".ics")
    assert client.get("/calendar").json() == first
    second = client.post("/calendar/regenerate").json()
    assert second["url"] != first["url"]
    assert CalendarFeed.objects.get(member=personas.member).token in second["url"]
    # The old URL stops working; the new one serves the feed.
    assert client.client.get(first["url"].removeprefix("http://testserver")).status_code == 404
    assert client.client.get(second["url"].removeprefix("http://testserver")).status_code == 200
    assert api_client(personas.staff_a).get("/calendar").json() == NOT_FOUND
    assert api_client(personas.staff_a).post("/calendar/regenerate").status_code == 404
