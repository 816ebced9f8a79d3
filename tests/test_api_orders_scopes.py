"""Who sees what: every order operation × every persona outside the order's scope is a 404;
lists are scoped, filtered, paginated and cost a fixed number of queries."""

import datetime as dt

import pytest
from django.utils import timezone

from linli import testing as t
from linli.accounts.models import Role
from linli.api.testing import api_client
from linli.orders.models import Order

# A valid body for each operation on one order, so that what is tested is the scope, not the shape.
# An operation added to the API without an entry here fails test_every_order_operation_has_a_policy.
VALID_BODIES = {
    "get_order": None,
    "accept_order": lambda c: {"category_id": c["category"].pk},
    "reject_order": lambda c: {"reason": "不属实"},
    "merge_order": lambda c: {"into_id": c["other"].pk},
    "cancel_order": lambda c: {},
    "dispatch_order": lambda c: {"pool": True},
    "recall_order": lambda c: {},
    "claim_order": lambda c: None,
    "decline_order": lambda c: {"reason": "没时间"},
    "start_order": lambda c: None,
    "resolve_order": lambda c: {"note": "好了", "hours": 1},
    "rate_order": lambda c: {"rating": "satisfied"},
    "reopen_order": lambda c: {"reason": "回访不满意"},
    "escalate_order": lambda c: {"department_id": c["dept"].pk},
    "acknowledge_order": lambda c: {},
    "return_order": lambda c: {"reason": "不属本部门"},
    "list_order_suggestions": None,
}


def _order_operations():
    from linli.api.urls import api

    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        if "{order_id}" in path:
            for method, operation in methods.items():
                yield path.removeprefix("/api/v1"), method, operation["operationId"]


def test_every_order_operation_has_a_policy():
    assert {op for _, _, op in _order_operations()} == set(VALID_BODIES)


@pytest.fixture
def outsiders(world, personas):
    """Users who must not see an order of community A, grid A2."""
    p = personas
    resident_b = t.make_user("resident_b")
    t.make_resident(world.hh_b1, user=resident_b)
    member_b = t.make_user("member_b")
    t.register_approved(t.make_member(user=member_b, home_community=world.b), world.b)
    return {
        "staff_b": p.staff_b,
        "grid_worker_of_a1": p.grid_worker,
        "resident_b": resident_b,
        "member_b": member_b,
        "member_a_not_assigned": p.member_user,
        "unit_admin": p.unit_admin,
        "department": p.dept,
        "property": p.property,
        "other_resident_of_a": p.resident_user,
    }


@pytest.mark.parametrize("status", ["submitted", "accepted", "dispatched", "resolved"])
def test_outsiders_get_404_on_every_operation_and_change_nothing(world, personas, outsiders, status):
    order = t.make_order(world.a, household=world.hh_a2, status=status)
    context = {
        "category": t.make_category(world.town),
        "other": t.make_order(world.a),
        "dept": world.dept,
    }
    events = order.events.count()
    for who, user in outsiders.items():
        client = api_client(user)
        for path, method, operation_id in _order_operations():
            url = path.replace("{order_id}", str(order.pk))
            body = VALID_BODIES[operation_id]
            response = client.get(url) if method == "get" else client.post(url, body(context))
            assert response.status_code == 404, (who, operation_id, response.content)
            assert response.json() == {"code": "not_found", "message": "对象不存在，或您无权查看"}
        assert order.pk not in [o["id"] for o in client.get("/orders", {"limit": 100}).json()["items"]], who
    assert Order.objects.get(pk=order.pk).status == status
    assert order.events.count() == events


def test_staff_of_b_cannot_see_or_list_a_s_orders(world, personas):
    order = t.make_order(world.a)
    t.make_order(world.b)
    staff_b = api_client(personas.staff_b)
    assert staff_b.get(f"/orders/{order.pk}").status_code == 404
    listed = staff_b.get("/orders").json()
    assert listed["count"] == 1
    assert all(o["community"]["id"] == world.b.pk for o in listed["items"])
    assert staff_b.get("/orders", {"community": world.a.pk}).json() == {"items": [], "count": 0}


def test_each_role_lists_what_it_may_see(world, personas):
    mine = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1)
    pooled = t.make_order(world.a, status="pooled")
    in_b = t.make_order(world.b, status="pooled")
    escalated = t.make_order(world.a, status="escalated")
    Order.objects.filter(pk=escalated.pk).update(department=world.dept)

    def ids(user):
        return {o["id"] for o in api_client(user).get("/orders").json()["items"]}

    assert ids(personas.town_admin) == {mine.pk, pooled.pk, in_b.pk, escalated.pk}
    assert ids(personas.staff_a) == {mine.pk, pooled.pk, escalated.pk}
    assert ids(personas.grid_worker) == {mine.pk}
    assert ids(personas.resident_user) == {mine.pk}
    assert ids(personas.member_user) == {pooled.pk}
    assert ids(personas.dept) == {escalated.pk}


def test_list_filters(world, personas):
    category = t.make_category(world.town)
    a1 = t.make_order(world.a, household=world.hh_a1, category=category)
    a2 = t.make_order(world.a, household=world.hh_a2, status="accepted")
    b1 = t.make_order(world.b, household=world.hh_b1)
    late = t.make_order(world.a, status="accepted")
    Order.objects.filter(pk=late.pk).update(resolve_by=timezone.now() - dt.timedelta(hours=1))
    mine = t.make_order(world.a, actor=personas.town_admin)
    client = api_client(personas.town_admin)

    def ids(**params):
        return {o["id"] for o in client.get("/orders", params).json()["items"]}

    assert ids(status="accepted") == {a2.pk, late.pk}
    assert ids(category=category.pk) == {a1.pk}
    assert ids(grid=world.a2.pk) == {a2.pk}
    assert ids(community=world.b.pk) == {b1.pk}
    assert ids(overdue="true") == {late.pk}
    assert ids(mine="true") == {mine.pk}
    assert ids(status="accepted", grid=world.a2.pk) == {a2.pk}
    overdue_flags = {o["id"]: o["is_overdue"] for o in client.get("/orders").json()["items"]}
    assert overdue_flags[late.pk] is True
    assert overdue_flags[a1.pk] is False


def test_list_is_paginated_newest_first(world, personas):
    orders = [t.make_order(world.a) for _ in range(5)]
    client = api_client(personas.staff_a)
    page = client.get("/orders", {"limit": 2, "offset": 1}).json()
    assert page["count"] == 5
    assert [o["id"] for o in page["items"]] == [orders[3].pk, orders[2].pk]
    assert len(client.get("/orders").json()["items"]) == 5  # default limit 20
    assert client.get("/orders", {"limit": 101}).status_code == 422
    assert client.get("/orders", {"offset": -1}).status_code == 422


@pytest.mark.parametrize("who", ["staff_a", "member_user", "resident_user"])
def test_listing_20_orders_costs_a_fixed_number_of_queries(world, personas, django_assert_max_num_queries, who):
    category = t.make_category(world.town)
    for i in range(20):
        order = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1, category=category)
        if i % 2:
            Order.objects.filter(pk=order.pk).update(status="pooled", assignee=None)
    client = api_client(getattr(personas, who))
    client.get("/me")  # the first request of a minute also stamps the token's last use
    # token + rate counter + roles + member registrations + count + page (+ the session cookie's row)
    with django_assert_max_num_queries(7):
        response = client.get("/orders")
    assert response.status_code == 200
    assert response.json()["count"] == (10 if who == "member_user" else 20)


def test_town_admin_role_sees_the_whole_town(world):
    admin = t.make_user(roles=[(Role.TOWN_ADMIN, world.town)])
    order = t.make_order(world.b)
    assert api_client(admin).get(f"/orders/{order.pk}").status_code == 200
