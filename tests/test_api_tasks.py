"""My tasks and the pool over JSON: what is assigned to me (or my unit), and what I may claim,
best fit first, with the reasons; scopes, pages and a fixed number of queries."""

import pytest

from linli import testing as t
from linli.api.testing import api_client
from linli.orders import actions
from linli.orders.models import CategoryRule
from linli.orgs.models import Pairing


@pytest.fixture(autouse=True)
def _paired(world):
    Pairing.objects.create(unit=world.unit, community=world.a)


@pytest.fixture
def skill_category(world):
    category = t.make_category(world.town, name="水电维修")
    CategoryRule.objects.create(category=category, required_skill=world.electrical)
    return category


def _accepted(world, personas, *, category=None, household=None, community=None):
    community = community or world.a
    order = t.make_order(community, actor=personas.resident_user if community == world.a else None, household=household)
    staff = personas.staff_a if community == world.a else personas.staff_b
    actions.accept_order(order, actor=staff, category=category or t.make_category(world.town))
    return order


def test_my_tasks_are_what_is_assigned_to_me_or_my_unit(world, personas):
    mine = _accepted(world, personas)
    actions.dispatch_order(mine, actor=personas.staff_a, member=personas.member)
    to_unit = _accepted(world, personas)
    actions.dispatch_order(to_unit, actor=personas.staff_a, unit=world.unit)
    pooled = _accepted(world, personas)
    actions.dispatch_order(pooled, actor=personas.staff_a, pool=True)
    client = api_client(personas.member_user)
    body = client.get("/tasks").json()
    assert {o["id"] for o in body["items"]} == {mine.pk, to_unit.pk}
    assert body["count"] == 2
    claimed = client.post(f"/orders/{mine.pk}/claim").json()
    assert claimed["status"] == "claimed"
    assert mine.pk in {o["id"] for o in client.get("/tasks").json()["items"]}
    # Not a member: no tasks; B's member sees none of these.
    assert api_client(personas.staff_a).get("/tasks").json() == {"items": [], "count": 0}
    member_b = t.make_user("member_b")
    t.register_approved(t.make_member(user=member_b, home_community=world.b), world.b)
    assert api_client(member_b).get("/tasks").json() == {"items": [], "count": 0}


def test_the_pool_is_ranked_with_reasons_and_blockers(world, personas, skill_category):
    plain = _accepted(world, personas)
    skilled = _accepted(world, personas, category=skill_category, household=world.hh_a1)
    for order in (plain, skilled):
        actions.dispatch_order(order, actor=personas.staff_a, pool=True)
    in_b = _accepted(world, personas, community=world.b)
    actions.dispatch_order(in_b, actor=personas.staff_b, pool=True)
    body = api_client(personas.member_user).get("/pool").json()
    assert body["count"] == 2 and (body["load"], body["load_cap"]) == (0, 3)
    first, second = body["items"]
    assert first["order"]["id"] == skilled.pk and first["fit"] == 2 and first["can_claim"] is True
    assert first["reasons"] == ["具备所需技能“水电维修”"] and first["blockers"] == []
    assert second["order"]["id"] == plain.pk and second["reasons"] == ["无技能要求"]
    # A member without the skill is told why not.
    novice = t.make_user("novice")
    t.register_approved(t.make_member(user=novice, home_community=world.a), world.a)
    rows = {r["order"]["id"]: r for r in api_client(novice).get("/pool").json()["items"]}
    assert rows[skilled.pk]["can_claim"] is False
    assert rows[skilled.pk]["blockers"] == ["不具备所需技能“水电维修”"]
    assert rows[plain.pk]["can_claim"] is True
    # B's order is in nobody's pool of A; a non-member's pool is empty.
    assert in_b.pk not in rows
    assert api_client(personas.staff_a).get("/pool").json() == {"items": [], "count": 0, "load": 0, "load_cap": 0}


def test_the_load_cap_blocks_claiming(world, personas):
    for _ in range(3):
        order = _accepted(world, personas)
        actions.dispatch_order(order, actor=personas.staff_a, member=personas.member)
    pooled = _accepted(world, personas)
    actions.dispatch_order(pooled, actor=personas.staff_a, pool=True)
    body = api_client(personas.member_user).get("/pool").json()
    assert body["load"] == 3
    assert body["items"][0]["blockers"] == ["当前已承接3单，达到上限3单"]


@pytest.mark.parametrize("path", ["/tasks", "/pool"])
def test_lists_are_paginated_with_a_fixed_number_of_queries(world, personas, django_assert_max_num_queries, path):
    category = t.make_category(world.town)
    for i in range(12):
        order = _accepted(world, personas, category=category)
        if path == "/pool" or i % 4:
            actions.dispatch_order(order, actor=personas.staff_a, pool=True)
        else:
            actions.dispatch_order(order, actor=personas.staff_a, unit=world.unit)
    client = api_client(personas.member_user)
    client.get("/me")
    with django_assert_max_num_queries(9):
        page = client.get(path, {"limit": 2, "offset": 1}).json()
    assert page["count"] == (12 if path == "/pool" else 3)
    assert len(page["items"]) == 2
    assert client.get(path, {"offset": 10**10}).status_code == 422
