"""Registrations (报到) over JSON: a member asks, withdraws and lists their own; the community's
staff list the pending ones and approve or decline; everyone else gets 404."""

import pytest

from linli import testing as t
from linli.api.testing import api_client
from linli.people import actions as people_actions
from linli.people.models import Registration

NOT_FOUND = {"code": "not_found", "message": "对象不存在，或您无权查看"}


@pytest.fixture
def newcomer(world):
    """A member living in community A who has not registered anywhere yet."""
    user = t.make_user("newcomer", name="新党员")
    member = t.make_member(user=user, home_community=world.a, name="新党员")
    return user, member


def test_member_requests_staff_approve(world, personas, newcomer):
    user, member = newcomer
    client = api_client(user)
    communities = client.get("/registrations/communities").json()
    assert {c["id"] for c in communities["items"]} == {world.a.pk, world.b.pk}
    assert communities["items"][0]["town"] == {"id": world.town.pk, "name": "D镇"}
    response = client.post("/registrations", {"community_id": world.a.pk, "note": "住在本社区"})
    assert response.status_code == 201, response.content
    registration = response.json()
    assert (registration["status"], registration["status_label"], registration["reason"]) == (
        "requested",
        "待审核",
        "住在本社区",
    )
    assert registration["member"] == {"id": member.pk, "name": "新党员"} and registration["unit"] is None
    assert registration["can_decide"] is False and registration["can_withdraw"] is True
    assert client.post("/registrations", {"community_id": world.a.pk}).status_code == 409
    assert world.a.pk not in {c["id"] for c in client.get("/registrations/communities").json()["items"]}

    staff = api_client(personas.staff_a)
    pending = staff.get("/registrations", {"status": "requested"}).json()
    assert [r["id"] for r in pending["items"]] == [registration["id"]]
    detail = staff.get(f"/registrations/{registration['id']}").json()
    assert detail["can_decide"] is True
    approved = staff.post(f"/registrations/{registration['id']}/approve", {"note": "欢迎"})
    assert approved.status_code == 200
    body = approved.json()
    assert body["status"] == "approved" and body["decided_at"]
    assert [(e["from_status"], e["to_status"], e["actor"]) for e in body["events"]] == [
        ("", "requested", "新党员"),
        ("requested", "approved", "社区A工作人员"),
    ]
    assert staff.post(f"/registrations/{registration['id']}/approve").status_code == 409
    # Approved: the member now sees A's pool and activities.
    assert client.get("/me").json()["member"]["community_ids"] == [world.a.pk]


def test_decline_needs_a_reason_and_withdraw(world, personas, newcomer):
    user, _member = newcomer
    client = api_client(user)
    first = client.post("/registrations", {"community_id": world.a.pk}).json()
    staff = api_client(personas.staff_a)
    response = staff.post(f"/registrations/{first['id']}/decline", {"reason": ""})
    assert response.status_code == 422 and response.json()["detail"] == [{"field": "reason", "message": "不能为空"}]
    response = staff.post(f"/registrations/{first['id']}/decline", {"reason": "不在本社区居住"})
    assert response.json()["status"] == "declined" and response.json()["reason"] == "不在本社区居住"
    second = client.post("/registrations", {"community_id": world.a.pk}).json()
    withdrawn = client.post(f"/registrations/{second['id']}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    mine = client.get("/registrations", {"mine": "true"}).json()
    assert mine["count"] == 2 and {r["status"] for r in mine["items"]} == {"declined", "withdrawn"}


def test_scopes(world, personas, newcomer):
    user, _member = newcomer
    registration = api_client(user).post("/registrations", {"community_id": world.a.pk}).json()
    rid = registration["id"]
    for outsider in (personas.staff_b, personas.member_user, personas.resident_user, personas.grid_worker):
        client = api_client(outsider)
        assert client.get(f"/registrations/{rid}").json() == NOT_FOUND
        for verb, body in (("approve", {}), ("decline", {"reason": "x"}), ("withdraw", {})):
            assert client.post(f"/registrations/{rid}/{verb}", body).status_code == 404
        assert rid not in {r["id"] for r in client.get("/registrations").json()["items"]}
    # The member sees their own but may not decide it.
    response = api_client(user).post(f"/registrations/{rid}/approve")
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert Registration.objects.get(pk=rid).status == "requested"
    # Staff of B list only B's.
    listed = api_client(personas.staff_b).get("/registrations").json()
    assert {r["community"]["id"] for r in listed["items"]} == {world.b.pk}


def test_request_errors(world, personas, newcomer):
    user, _member = newcomer
    client = api_client(user)
    far = t.make_community(t.make_town(), name="别的镇社区")
    response = client.post("/registrations", {"community_id": far.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_reference"
    assert client.post("/registrations", {"community_id": 10**12}).status_code == 400
    assert client.post("/registrations", {}).status_code == 422
    response = api_client(personas.resident_user).post("/registrations", {"community_id": world.a.pk})
    assert response.status_code == 403
    assert api_client(personas.resident_user).get("/registrations/communities").json() == {"items": [], "count": 0}


def test_pending_list_is_paginated_with_a_fixed_number_of_queries(world, personas, django_assert_max_num_queries):
    for i in range(12):
        member = t.make_member(home_community=world.a, name=f"党员{i}")
        people_actions.request_registration(member, community=world.a, actor=None)
    staff = api_client(personas.staff_a)
    staff.get("/me")
    with django_assert_max_num_queries(6):
        page = staff.get("/registrations", {"status": "requested", "limit": 5, "offset": 10}).json()
    assert page["count"] == 12 and len(page["items"]) == 2


def test_registrable_communities_cost_a_fixed_number_of_queries(
    world, personas, newcomer, django_assert_max_num_queries
):
    for i in range(8):
        t.make_community(world.town, name=f"新社区{i}")
    user, _member = newcomer
    client = api_client(user)
    client.get("/me")
    with django_assert_max_num_queries(7):
        page = client.get("/registrations/communities", {"limit": 5}).json()
    assert page["count"] == 10 and len(page["items"]) == 5
