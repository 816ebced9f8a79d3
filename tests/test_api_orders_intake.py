"""POST /api/v1/orders: who may file where, what is validated, what is recorded."""

from decimal import Decimal

import pytest

from linli import testing as t
from linli.api.testing import api_client
from linli.orders.models import Channel, Order, OrderEvent


def test_resident_naming_no_place_files_for_their_own_household(world, personas):
    response = api_client(personas.resident_user).post("/orders", {"title": "楼道灯坏了", "description": "三楼"})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "submitted"
    assert body["status_label"] == "待受理"
    assert body["household_id"] == world.hh_a1.pk
    assert body["community"] == {"id": world.a.pk, "name": "幸福社区"}
    assert body["grid"] == {"id": world.a1.pk, "name": "幸福一网格"}
    assert [(e["to_status"], e["actor"]) for e in body["events"]] == [("submitted", "居民甲")]
    order = Order.objects.get(pk=body["id"])
    assert (order.channel, order.submitted_by, order.resident) == (
        Channel.API,
        personas.resident_user,
        personas.resident,
    )
    assert OrderEvent.objects.filter(order=order).count() == 1


def test_resident_may_file_about_a_place_in_their_own_community(world, personas):
    response = api_client(personas.resident_user).post(
        "/orders",
        {
            "title": "路灯不亮",
            "community_id": world.a.pk,
            "address": "幸福路口",
            "lat": 30.5928123456,
            "long": 114.30525,
        },
    )
    assert response.status_code == 201
    order = Order.objects.get(pk=response.json()["id"])
    assert (order.community, order.household, order.resident) == (world.a, None, personas.resident)
    assert order.lat == Decimal("30.592812")  # GPS noise rounded to the column's 6 places
    assert response.json()["lat"] == pytest.approx(30.592812)


@pytest.mark.parametrize(
    ("field", "make_value", "message"),
    [
        ("household_id", lambda w: w.hh_b1.pk, "住户不存在，或不在您的范围内"),
        ("household_id", lambda w: 999999, "住户不存在，或不在您的范围内"),
        ("community_id", lambda w: w.b.pk, "社区不存在，或不在您的范围内"),
    ],
)
def test_resident_cannot_file_outside_their_scope(world, personas, field, make_value, message):
    before = Order.objects.count()
    response = api_client(personas.resident_user).post("/orders", {"title": "x", field: make_value(world)})
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_reference",
        "message": message,
        "detail": [{"field": field, "message": message}],
    }
    assert Order.objects.count() == before


def test_staff_files_for_a_household_of_their_community(world, personas):
    response = api_client(personas.staff_a).post(
        "/orders",
        {
            "title": "独居老人需要买药",
            "household_id": world.hh_a2.pk,
            "contact_name": "王阿姨",
            "contact_phone": "13912345678",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["grid"]["id"] == world.a2.pk
    assert body["contact_phone"] == "139****5678"  # masked in every answer
    order = Order.objects.get(pk=body["id"])
    assert order.resident is None  # staff file on someone's behalf
    assert order.contact_phone == "13912345678"


def test_staff_cannot_file_in_another_community(world, personas):
    response = api_client(personas.staff_b).post("/orders", {"title": "x", "household_id": world.hh_a1.pk})
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "household_id"


def test_grid_worker_files_in_their_grid(world, personas):
    client = api_client(personas.grid_worker)
    assert client.post("/orders", {"title": "x", "household_id": world.hh_a1.pk}).status_code == 201
    assert client.post("/orders", {"title": "x", "household_id": world.hh_a2.pk}).status_code == 400


def test_category_must_belong_to_the_community_s_town(world, personas):
    own = t.make_category(world.town)
    foreign = t.make_category(t.make_town())
    client = api_client(personas.resident_user)
    assert client.post("/orders", {"title": "x", "category_id": own.pk}).status_code == 201
    response = client.post("/orders", {"title": "x", "category_id": foreign.pk})
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "category_id"


def test_someone_with_no_place_gets_a_domain_error(world, personas):
    response = api_client(personas.unit_admin).post("/orders", {"title": "x"})
    assert response.status_code == 400
    assert response.json() == {"code": "location", "message": "请选择所在社区或住户地址"}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["title"]),
        ({"title": ""}, ["title"]),
        ({"title": "x" * 101}, ["title"]),
        ({"title": "x", "kind": "gossip"}, ["kind"]),
        ({"title": "x", "lat": 91, "long": "east"}, ["lat", "long"]),
        ({"title": "x", "contact_phone": "call me"}, ["contact_phone"]),
        ({"title": "x", "household_id": "one"}, ["household_id"]),
    ],
)
def test_invalid_bodies_are_422_naming_each_field(personas, body, fields):
    response = api_client(personas.resident_user).post("/orders", body)
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["detail"]] == fields
    assert all(d["message"] for d in error["detail"])
    assert error["message"].startswith("请求内容有误：")


def test_anonymous_order_hides_the_resident_from_members(world, personas):
    client = api_client(personas.resident_user)
    order_id = client.post("/orders", {"title": "邻居噪音", "anonymous": True, "contact_name": "甲"}).json()["id"]
    Order.objects.filter(pk=order_id).update(status="pooled")  # arrange: in the pool of community A
    member_view = api_client(personas.member_user).get(f"/orders/{order_id}").json()
    assert member_view["contact_name"] == ""
    assert member_view["events"][0]["actor"] == "居民"
    staff_view = api_client(personas.staff_a).get(f"/orders/{order_id}").json()
    assert staff_view["contact_name"] == "甲"
    assert staff_view["events"][0]["actor"] == "居民甲"


def test_categories_of_the_caller_s_town_are_listed(world, personas):
    own = t.make_category(world.town, code="water", name="水电维修")
    t.make_category(t.make_town(), code="water", name="外镇水电")
    for user in (personas.resident_user, personas.staff_a, personas.member_user, personas.dept, personas.unit_admin):
        response = api_client(user).get("/categories")
        assert response.status_code == 200
        assert response.json() == [
            {"id": own.pk, "code": "water", "name": "水电维修", "group": "", "is_property": False}
        ], user
