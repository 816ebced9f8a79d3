"""POST requests.{fmt}: a partner files a service request with its key.

Replays the spec's example POST (form-encoded, attributes, contact fields), in both formats and
with both forms of the base URL, and checks keys (403), scope, location, attributes (400),
unknown codes and jurisdictions (404), the rate limit (429) and what is stored on the order.
"""

import datetime as dt

import pytest
import time_machine
from django.test import Client

from linli import testing as t
from linli.accounts.models import AuditEntry
from linli.open311 import actions
from linli.open311.models import ServiceAttribute, ServiceAttributeValue, ServiceRequest
from linli.open311.testing import call, make_partner_key, url, xml_data
from linli.orders.models import Channel, Order, OrderEvent, Status

FORMATS = ["json", "xml"]

# A square around (30.2, 115.1), WGS84, GeoJSON order [long, lat].
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[115.0, 30.1], [115.2, 30.1], [115.2, 30.3], [115.0, 30.3], [115.0, 30.1]]],
}


def add_attribute(category, code, datatype="string", *, order, required=False, values=(), **kw):
    attribute = ServiceAttribute.objects.create(
        category=category,
        code=code,
        datatype=datatype,
        order=order,
        required=required,
        description=kw.pop("description", f"问题 {code}"),
        **kw,
    )
    for key, name in values:
        ServiceAttributeValue.objects.create(attribute=attribute, key=key, name=name)
    return attribute


@pytest.fixture
def setup(world):
    lights = t.make_category(world.town, code="001", name="路灯不亮", group="市政设施")
    add_attribute(lights, "WHISPER", order=1, variable=False, description="请看清灯杆编号")
    add_attribute(lights, "POLE", "number", order=2, required=True, description="灯杆编号")
    add_attribute(lights, "KIND", "singlevaluelist", order=3, values=[("1", "完全不亮"), ("2", "闪烁")])
    add_attribute(lights, "SEEN", "datetime", order=4, description="发现时间")
    add_attribute(lights, "WHERE", "multivaluelist", order=5, values=[("road", "路边"), ("yard", "小区内")])
    repair = t.make_category(world.town, code="repair", name="水电维修")
    town_key, town_raw = make_partner_key(world.town, name="市民热线")
    a_key, a_raw = make_partner_key(world.town, community=world.a, name="幸福社区小程序")
    return {"lights": lights, "repair": repair, "town_key": town_key, "town": town_raw, "a_key": a_key, "a": a_raw}


def example(api_key, **extra):
    """The spec's example POST, with attributes and every optional argument."""
    data = {
        "api_key": api_key,
        "jurisdiction_id": "T01",
        "service_code": "001",
        "lat": "30.2",
        "long": "115.1",
        "address_string": "幸福路8号路口",
        "email": "smith@example.com",
        "device_id": "tt222111",
        "account_id": "123456",
        "first_name": "三",
        "last_name": "张",
        "phone": "13912345678",
        "description": "路口的路灯一直不亮\n晚上很黑",
        "media_url": "https://example.com/photo.jpg",
        "attribute[POLE]": "12",
        "attribute[KIND]": "1",
        "attribute[SEEN]": "2026-11-20T19:30:00.5+08:00",
        "attribute[WHERE][]": ["road", "yard"],
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def reply(body, fmt):
    if fmt == "json":
        return body
    assert body.tag == "service_requests"
    assert [r.tag for r in body] == ["request"]
    return xml_data(body)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("slash", [False, True])
def test_the_spec_example_post_files_an_order(setup, world, fmt, slash):
    response, body = call(Client(), "POST", "requests", fmt, slash=slash, data=example(setup["a"]))
    assert response.status_code == 200, response.content
    expected_type = "application/json" if fmt == "json" else "text/xml"
    assert response["Content-Type"] == f"{expected_type}; charset=utf-8"
    [item] = reply(body, fmt)
    # Realtime: the id, never a token as well.
    assert set(item) == {"service_request_id", "service_notice", "account_id"}
    assert item["account_id"] == "123456"
    assert "办结" in item["service_notice"]
    order = Order.objects.get(pk=int(item["service_request_id"]))
    assert isinstance(item["service_request_id"], str)
    assert order.channel == Channel.OPEN311
    assert order.partner == "幸福社区小程序"
    assert order.status == Status.SUBMITTED
    assert order.category == setup["lights"]
    assert order.community == world.a  # the key's community
    assert order.household is None
    assert order.address == "幸福路8号路口"
    assert (float(order.lat), float(order.long)) == (30.2, 115.1)
    assert order.title == "路灯不亮：路口的路灯一直不亮"
    assert order.contact_name == "张三"
    assert order.contact_phone == "13912345678"
    assert order.description.startswith("路口的路灯一直不亮\n晚上很黑\n\n【补充信息】\n")
    assert "灯杆编号：12" in order.description
    assert "问题 KIND：完全不亮" in order.description
    assert "问题 WHERE：路边、小区内" in order.description
    assert "请看清灯杆编号" not in order.description  # informational: no input
    extra = ServiceRequest.objects.get(order=order)
    assert extra.key == setup["a_key"]
    assert extra.email == "smith@example.com"
    assert (extra.device_id, extra.account_id) == ("tt222111", "123456")
    assert extra.media_url == "https://example.com/photo.jpg"
    assert extra.token
    assert extra.attributes == [
        {"code": "POLE", "question": "灯杆编号", "value": "12"},
        {"code": "KIND", "question": "问题 KIND", "value": "1", "names": ["完全不亮"]},
        {"code": "SEEN", "question": "发现时间", "value": "2026-11-20T11:30:00Z"},
        {"code": "WHERE", "question": "问题 WHERE", "value": ["road", "yard"], "names": ["路边", "小区内"]},
    ]
    [event] = OrderEvent.objects.filter(order=order)
    assert event.to_status == Status.SUBMITTED and event.data == {"channel": "open311"}


def test_the_email_is_encrypted_at_rest(setup):
    from django.db import connection

    _, body = call(Client(), "POST", "requests", "json", data=example(setup["a"]))
    pk = int(body[0]["service_request_id"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM open311_servicerequest WHERE order_id = %s", [pk])
        stored = cursor.fetchone()[0]
    assert "smith" not in stored and stored


def test_api_key_and_jurisdiction_in_the_query_string(setup):
    """The legacy `open311` package sends them in the query string."""
    data = example(None, jurisdiction_id=None)
    response, body = call(
        Client(), "POST", "requests", "json", query={"api_key": setup["a"], "jurisdiction_id": "T01"}, data=data
    )
    assert response.status_code == 200, body
    assert Order.objects.filter(pk=int(body[0]["service_request_id"])).exists()


def test_empty_jurisdiction_is_the_keys_town(setup):
    response, body = call(Client(), "POST", "requests", "json", data=example(setup["a"], jurisdiction_id=""))
    assert response.status_code == 200, body


def test_a_multivaluelist_sent_once_without_brackets_and_optional_attributes_left_out(setup):
    data = example(setup["a"], **{"attribute[WHERE][]": None, "attribute[KIND]": None, "attribute[SEEN]": None})
    data["attribute[WHERE]"] = "road"
    response, body = call(Client(), "POST", "requests", "json", data=data)
    assert response.status_code == 200, body
    extra = ServiceRequest.objects.get(order_id=int(body[0]["service_request_id"]))
    assert [a["code"] for a in extra.attributes] == ["POLE", "WHERE"]
    assert extra.attributes[1]["value"] == ["road"]


def test_a_minimal_post_without_questions(setup, world):
    data = {"api_key": setup["a"], "service_code": "repair", "address_string": "幸福路8号"}
    response, body = call(Client(), "POST", "requests", "xml", data=data)
    assert response.status_code == 200
    order = Order.objects.get(pk=int(body.findtext("request/service_request_id")))
    assert order.title == "水电维修"
    assert order.description == ""
    assert order.contact_name == "" and order.contact_phone == ""
    assert body.find("request/token") is None


# --- keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_invalid_revoked_and_foreign_keys_are_403(setup, world, fmt):
    client = Client()
    cases = {
        "missing": example(""),
        "invalid": example("o311_not-a-key"),
    }
    revoked_key, revoked_raw = make_partner_key(world.town, name="旧合作方")
    actions.revoke_partner_key(revoked_key, actor=None)
    cases["revoked"] = example(revoked_raw)
    other = t.make_town(code="T02", name="E镇")
    t.make_category(other, code="001")
    cases["another town"] = example(setup["a"], jurisdiction_id="T02")
    for case, data in cases.items():
        response, body = call(client, "POST", "requests", fmt, data=data)
        assert response.status_code == 403, case
        errors = body if fmt == "json" else xml_data(body)
        assert [int(e["code"]) for e in errors] == [403], case
        assert errors[0]["description"], case
    assert not Order.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_jurisdiction_and_service_code_are_404(setup, fmt):
    client = Client()
    response, _ = call(client, "POST", "requests", fmt, data=example(setup["a"], jurisdiction_id="NOPE"))
    assert response.status_code == 404
    response, body = call(client, "POST", "requests", fmt, data=example(setup["a"], service_code="nope"))
    assert response.status_code == 404
    errors = body if fmt == "json" else xml_data(body)
    assert [int(e["code"]) for e in errors] == [404]
    assert not Order.objects.exists()


# --- 400s ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"service_code": None}, "service_code"),
        ({"lat": None, "long": None, "address_string": None}, "位置"),
        ({"long": None}, "lat 与 long"),
        ({"lat": "91"}, "lat"),
        ({"long": "east"}, "long"),
        ({"attribute[POLE]": None}, "attribute[POLE]"),
        ({"attribute[POLE]": "twelve"}, "attribute[POLE]"),
        ({"attribute[KIND]": "9"}, "attribute[KIND]"),
        ({"attribute[KIND]": ["1", "2"]}, "attribute[KIND]"),
        ({"attribute[WHERE][]": ["road", "sky"]}, "attribute[WHERE]"),
        ({"attribute[SEEN]": "2026-11-20T19:30:00"}, "attribute[SEEN]"),
        ({"description": "长" * 4001}, "description"),
        ({"email": "not-an-email"}, "email"),
        ({"media_url": "javascript:alert(1)"}, "media_url"),
        ({"phone": "<script>"}, "phone"),
        ({"address_string": "路" * 201}, "address_string"),
    ],
)
def test_bad_arguments_are_400_naming_the_argument(setup, fmt, change, words):
    response, body = call(Client(), "POST", "requests", fmt, data=example(setup["a"], **change))
    assert response.status_code == 400, change
    errors = body if fmt == "json" else xml_data(body)
    assert all(int(e["code"]) == 400 for e in errors)
    assert any(words in e["description"] for e in errors), errors
    assert not Order.objects.exists()


def test_several_problems_come_back_together(setup):
    data = example(setup["a"], **{"attribute[POLE]": None, "lat": None, "long": None, "address_string": None})
    response, body = call(Client(), "POST", "requests", "json", data=data)
    assert response.status_code == 400
    assert len(body) == 2


def test_a_description_of_exactly_4000_characters_is_accepted(setup):
    response, body = call(Client(), "POST", "requests", "json", data=example(setup["a"], description="长" * 4000))
    assert response.status_code == 200, body
    order = Order.objects.get(pk=int(body[0]["service_request_id"]))
    assert order.description == "长" * 4000  # no room for the answers: kept whole on the row
    assert len(ServiceRequest.objects.get(order=order).attributes) == 4


# --- where the order goes -----------------------------------------------------------------------


def test_address_id_names_a_household_in_the_keys_scope(setup, world):
    client = Client()
    data = example(setup["a"], lat=None, long=None, address_string=None, address_id=str(world.hh_a2.pk))
    response, body = call(client, "POST", "requests", "json", data=data)
    assert response.status_code == 200, body
    order = Order.objects.get(pk=int(body[0]["service_request_id"]))
    assert order.household == world.hh_a2
    assert order.grid == world.a2
    assert order.address == world.hh_a2.address
    # Community A's key may not file into community B; the town's key may.
    outside = example(setup["a"], lat=None, long=None, address_string=None, address_id=str(world.hh_b1.pk))
    response, body = call(client, "POST", "requests", "json", data=outside)
    assert response.status_code == 400
    assert "address_id" in body[0]["description"]
    response, body = call(client, "POST", "requests", "json", data={**outside, "api_key": setup["town"]})
    assert response.status_code == 200, body
    assert Order.objects.get(pk=int(body[0]["service_request_id"])).community == world.b
    # A household of another town, and an id that is not a number.
    other = t.make_household(t.make_grid(t.make_community(t.make_town(code="T02"))))
    for value in (str(other.pk), "abc"):
        response, _ = call(client, "POST", "requests", "json", data={**outside, "address_id": value})
        assert response.status_code == 400


def test_a_town_key_places_coordinates_by_grid_boundary(setup, world):
    client = Client()
    data = example(setup["town"], address_string=None)
    response, body = call(client, "POST", "requests", "json", data=data)
    assert response.status_code == 400  # two communities, no boundary: say what to send instead
    assert "address_id" in body[0]["description"]
    world.b1.boundary = SQUARE
    world.b1.save()
    response, body = call(client, "POST", "requests", "json", data=data)
    assert response.status_code == 200, body
    assert Order.objects.get(pk=int(body[0]["service_request_id"])).community == world.b
    # Outside every boundary: still a 400.
    response, _ = call(client, "POST", "requests", "json", data={**data, "lat": "31.5"})
    assert response.status_code == 400


def test_a_town_key_of_a_town_with_one_community_needs_no_boundary(db):
    town = t.make_town(code="SOLO")
    community = t.make_community(town)
    t.make_category(town, code="repair")
    _, raw = make_partner_key(town)
    data = {"api_key": raw, "service_code": "repair", "address_string": "某路1号"}
    response, body = call(Client(), "POST", "requests", "json", data=data)
    assert response.status_code == 200, body
    assert Order.objects.get(pk=int(body[0]["service_request_id"])).community == community


# --- rate limit ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_key_over_its_rate_limit_gets_429_until_the_next_minute(world, fmt):
    t.make_category(world.town, code="repair")
    _, raw = make_partner_key(world.town, community=world.a, rate=2)
    data = {"api_key": raw, "service_code": "repair", "address_string": "幸福路8号"}
    client = Client()
    start = dt.datetime(2026, 11, 23, 8, 0, 5, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        assert [call(client, "POST", "requests", fmt, data=data)[0].status_code for _ in range(2)] == [200, 200]
        response, body = call(client, "POST", "requests", fmt, data=data)
        assert response.status_code == 429
        assert response["Retry-After"] == "55"
        errors = body if fmt == "json" else xml_data(body)
        assert [int(e["code"]) for e in errors] == [429]
        assert "2" in errors[0]["description"]
    with time_machine.travel(start + dt.timedelta(minutes=1), tick=False):
        assert call(client, "POST", "requests", fmt, data=data)[0].status_code == 200
    assert Order.objects.count() == 3


def test_the_key_records_its_last_use(setup):
    assert setup["a_key"].last_used_at is None
    call(Client(), "POST", "requests", "json", data=example(setup["a"]))
    setup["a_key"].refresh_from_db()
    assert setup["a_key"].last_used_at is not None


def test_posting_needs_no_csrf_token(setup):
    client = Client(enforce_csrf_checks=True)
    response = client.post(url("requests", "json"), example(setup["a"]))
    assert response.status_code == 200


def test_key_creation_and_revocation_are_audited(world, personas):
    key, raw = actions.create_partner_key(actor=personas.town_admin, name="热线", town=world.town)
    assert raw.startswith(key.prefix) and len(raw) > 40
    assert key.key_hash != raw and raw not in key.key_hash
    actions.revoke_partner_key(key, actor=personas.town_admin)
    rows = AuditEntry.objects.filter(object_type="open311.partnerkey", object_id=str(key.pk)).order_by("id")
    assert [r.detail["verb"] for r in rows] == ["open311_key_created", "open311_key_revoked"]
    assert all(r.actor == personas.town_admin for r in rows)
    assert all(raw not in str(r.detail) for r in rows)
