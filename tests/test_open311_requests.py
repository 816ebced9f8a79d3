"""GET requests.{fmt}, requests/{id}.{fmt} and tokens/{token}.{fmt}.

Replays the spec's examples (GET requests with filters, GET request by id, token) in both
formats and checks the rules: every key emitted, ids as strings, lat/long numbers, dates UTC
with Z and seconds, the status mapping, the filters and their limits, and that a resident's
personal data never leaves.
"""

import datetime as dt
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from linli import testing as t
from linli.open311 import present, views
from linli.open311.models import ServiceRequest
from linli.open311.testing import as_xml_text, call, make_partner_key, url, xml_data
from linli.orders import actions as order_actions
from linli.orders.models import Order, Status

FORMATS = ["json", "xml"]
REQUEST_KEYS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")  # octolabs' test311.py, with the Z
NOW = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def town(world, personas, clock):
    """Orders of several kinds, ages and statuses in the town (and one elsewhere)."""
    repair = t.make_category(world.town, code="repair", name="水电维修")
    lights = t.make_category(world.town, code="001", name="路灯不亮")
    o = {}
    clock.move_to(NOW - dt.timedelta(days=120))
    o["old"] = t.make_order(world.a, category=repair, title="很久以前")
    clock.move_to(NOW - dt.timedelta(days=10))
    o["home"] = t.make_order(
        world.a,
        household=world.hh_a1,
        category=repair,
        actor=personas.resident_user,
        contact_name="居民甲",
        contact_phone="13900001111",
        description="厨房漏水，请联系我 13900001111",
    )
    clock.move_to(NOW - dt.timedelta(days=9))
    o["point"] = t.make_order(world.b, category=lights, address="和平村村口", lat="30.123456", long="115.654321")
    clock.move_to(NOW - dt.timedelta(days=8))
    o["secret"] = t.make_order(
        world.a,
        household=world.hh_a2,
        category=repair,
        anonymous=True,
        description="家暴求助",
        contact_name="匿名者",
        lat="30.1",
        long="115.1",
    )
    clock.move_to(NOW - dt.timedelta(days=7))
    o["rejected"] = t.make_order(world.b, category=lights)
    order_actions.reject_order(o["rejected"], actor=personas.staff_b, reason="不属于本村，身份证号420203198005170012")
    clock.move_to(NOW - dt.timedelta(days=6))
    o["escalated"] = t.make_order(world.a, category=repair)
    order_actions.accept_order(o["escalated"], actor=personas.staff_a, category=repair)
    order_actions.escalate_order(o["escalated"], actor=personas.staff_a, department=world.dept)
    clock.move_to(NOW - dt.timedelta(days=5))
    o["uncategorised"] = t.make_order(world.a, title="还没分类")
    other = t.make_town(code="T02")
    o["elsewhere"] = t.make_order(t.make_community(other), category=t.make_category(other, code="repair"))
    clock.move_to(NOW)
    return o


def get(client, resource, fmt, *, slash=False, query=None):
    """GET in jurisdiction T01 (the fixture's second town makes jurisdiction_id necessary)."""
    return call(client, "GET", resource, fmt, slash=slash, query={"jurisdiction_id": "T01", **(query or {})})


def items(body, fmt):
    if fmt == "json":
        assert isinstance(body, list)
        return body
    assert body.tag == "service_requests"
    assert all(r.tag == "request" for r in body)
    assert all([c.tag for c in r] == REQUEST_KEYS for r in body)
    return xml_data(body)


def ids(body, fmt):
    return [int(i["service_request_id"]) for i in items(body, fmt)]


# --- the list -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("slash", [False, True])
def test_default_list_is_the_last_90_days_of_the_towns_categorised_orders(town, fmt, slash):
    response, body = get(Client(), "requests", fmt, slash=slash, query={"jurisdiction_id": "T01"})
    assert response.status_code == 200
    assert response["Content-Type"] == ("application/json" if fmt == "json" else "text/xml") + "; charset=utf-8"
    expected = [town[k].pk for k in ("escalated", "rejected", "secret", "point", "home")]  # newest first
    assert ids(body, fmt) == expected


def test_every_key_with_its_type(town):
    _, body = get(Client(), "requests", "json")
    for item in body:
        assert list(item) == REQUEST_KEYS
        assert isinstance(item["service_request_id"], str)
        assert isinstance(item["service_code"], str)
        assert item["status"] in ("open", "closed")
        assert item["zipcode"] is None
        assert W3C.match(item["requested_datetime"]) and W3C.match(item["updated_datetime"])
        assert item["expected_datetime"] is None or W3C.match(item["expected_datetime"])
        assert item["address_id"] is None or isinstance(item["address_id"], str)
        assert item["lat"] is None or isinstance(item["lat"], float)
    point = next(i for i in body if i["service_request_id"] == str(town["point"].pk))
    assert point == {
        "service_request_id": str(town["point"].pk),
        "status": "open",
        "status_notes": "待受理",
        "service_name": "路灯不亮",
        "service_code": "001",
        "description": None,
        "agency_responsible": "和平村",
        "service_notice": "社区将在2个工作小时内响应，3个工作日内办结",
        "requested_datetime": "2026-11-14T08:00:00Z",
        "updated_datetime": "2026-11-14T08:00:00Z",
        "expected_datetime": None,
        "address": "和平村村口",
        "address_id": None,
        "zipcode": None,
        "lat": 30.123456,
        "long": 115.654321,
        "media_url": None,
    }


def test_both_formats_carry_the_same_data(town):
    client = Client()
    as_json = get(client, "requests", "json")[1]
    as_xml = get(client, "requests", "xml")[1]
    assert items(as_xml, "xml") == as_xml_text(as_json)
    xml_point = as_xml.find(f"request[service_request_id='{town['point'].pk}']")
    assert xml_point.findtext("lat") == "30.123456"
    assert xml_point.find("zipcode").text is None


def test_escalated_and_rejected_orders(town, world):
    body = get(Client(), "requests", "json")[1]
    by_id = {int(i["service_request_id"]): i for i in body}
    escalated = by_id[town["escalated"].pk]
    assert escalated["status"] == "open"
    assert escalated["agency_responsible"] == "城管局"
    assert escalated["status_notes"] == "已吹哨：城管局"
    town["escalated"].refresh_from_db()
    assert escalated["expected_datetime"] == town["escalated"].resolve_by.astimezone(dt.UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    rejected = by_id[town["rejected"].pk]
    assert rejected["status"] == "closed"
    assert rejected["status_notes"] == "不属于本村，身份证号420203********0012"
    assert rejected["agency_responsible"] == "和平村"
    assert rejected["updated_datetime"] == "2026-11-16T08:00:00Z"  # closed_at


def test_personal_data_never_leaves(town, world):
    for fmt in FORMATS:
        response = Client().get(url("requests", fmt), {"jurisdiction_id": "T01"})
        text = response.content.decode()
        for secret in ("居民甲", "匿名者", "13900001111", "家暴", world.hh_a1.address, world.hh_a2.address):
            assert secret not in text, (fmt, secret)
    body = get(Client(), "requests", "json")[1]
    by_id = {int(i["service_request_id"]): i for i in body}
    home = by_id[town["home"].pk]
    assert home["description"] == "厨房漏水，请联系我 139****1111"
    assert home["address"] == world.hh_a1.building.address  # the building, not the door
    assert home["address_id"] == str(world.hh_a1.pk)
    secret = by_id[town["secret"].pk]
    assert (secret["description"], secret["lat"], secret["long"], secret["address_id"], secret["media_url"]) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert secret["address"] == "幸福社区"


# --- status mapping -----------------------------------------------------------------------------


def test_every_status_maps_to_open_or_closed():
    assert present.OUR_STATUSES["open"].isdisjoint(present.OUR_STATUSES["closed"])
    assert present.OUR_STATUSES["open"] | present.OUR_STATUSES["closed"] == set(Status.values)


@pytest.mark.parametrize("status", Status.values)
def test_status_mapping_table(world, status):
    category = t.make_category(world.town, code="repair")
    order = t.make_order(world.a, category=category, status=status)
    body = get(Client(), f"requests/{order.pk}", "json")[1]
    closed = {"resolved", "closed", "rejected", "merged", "cancelled"}
    assert body[0]["status"] == ("closed" if status in closed else "open")


@pytest.mark.parametrize("fmt", FORMATS)
def test_status_filter(town, fmt):
    client = Client()
    assert ids(get(client, "requests", fmt, query={"status": "closed"})[1], fmt) == [town["rejected"].pk]
    opened = ids(get(client, "requests", fmt, query={"status": "open"})[1], fmt)
    assert town["rejected"].pk not in opened and len(opened) == 4
    both = ids(get(client, "requests", fmt, query={"status": "open,closed"})[1], fmt)
    assert len(both) == 5
    response, _ = get(client, "requests", fmt, query={"status": "pending"})
    assert response.status_code == 400


def test_service_code_filter_takes_a_comma_list(town):
    client = Client()
    lights = ids(get(client, "requests", "json", query={"service_code": "001"})[1], "json")
    assert lights == [town["rejected"].pk, town["point"].pk]
    both = ids(get(client, "requests", "json", query={"service_code": "001,repair"})[1], "json")
    assert len(both) == 5
    assert get(client, "requests", "json", query={"service_code": "nope"})[1] == []


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-11-14T00:00:00Z", "2026-11-16T00:00:00Z"),
        ("2026-11-14T08:00:00+08:00", "2026-11-16T08:00:00+08:00"),
        ("2026-11-14T00:00:00.000Z", "2026-11-16T00:00:00.123456789+00:00"),
        ("2026-11-14T08:00:00 08:00", "2026-11-16T08:00:00 08:00"),  # a "+" not URL-encoded
        ("2026-11-14", "2026-11-16"),  # bare dates: the server's day (Asia/Shanghai)
    ],
)
def test_date_filters_accept_z_offsets_and_fractions(town, start, end):
    body = get(Client(), "requests", "json", query={"start_date": start, "end_date": end})[1]
    assert ids(body, "json") == [town["secret"].pk, town["point"].pk]


def test_date_filters_limits(town):
    client = Client()
    too_long = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}
    backwards = {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}
    for query in (
        too_long,
        backwards,
        {"start_date": "yesterday"},
        {"end_date": "2026-11-16T08:00:00"},  # no time zone
    ):
        response, body = get(client, "requests", "xml", query=query)
        assert response.status_code == 400, query
        assert body.tag == "errors"
    # A start alone: the 90 days after it (here: the old order and nothing after the window).
    start_only = get(client, "requests", "json", query={"start_date": "2026-07-20T00:00:00Z"})[1]
    assert ids(start_only, "json") == [town["old"].pk]
    end_only = get(client, "requests", "json", query={"end_date": "2026-08-01T00:00:00Z"})[1]
    assert ids(end_only, "json") == [town["old"].pk]


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_request_id_overrides_every_other_filter(town, fmt):
    wanted = f"{town['old'].pk}, {town['point'].pk},{town['elsewhere'].pk},{town['uncategorised'].pk}"
    query = {"service_request_id": wanted, "status": "closed", "service_code": "nope", "start_date": "2020-01-01"}
    response, body = get(Client(), "requests", fmt, query=query)
    assert response.status_code == 200
    # Another town's and an uncategorised order are not public requests of this jurisdiction.
    assert ids(body, fmt) == [town["point"].pk, town["old"].pk]
    response, _ = get(Client(), "requests", fmt, query={"service_request_id": "1,abc"})
    assert response.status_code == 400


def test_paging_and_the_cap_of_1000(town, monkeypatch):
    client = Client()
    first = ids(get(client, "requests", "json", query={"page_size": "2"})[1], "json")
    second = ids(get(client, "requests", "json", query={"page_size": "2", "page": "2"})[1], "json")
    third = ids(get(client, "requests", "json", query={"page_size": "2", "page": "3"})[1], "json")
    assert first + second + third == [town[k].pk for k in ("escalated", "rejected", "secret", "point", "home")]
    for bad in ({"page": "0"}, {"page_size": "1001"}, {"page_size": "x"}):
        assert get(client, "requests", "json", query=bad)[0].status_code == 400
    monkeypatch.setattr(views, "MAX_REQUESTS", 3)
    assert len(get(client, "requests", "json")[1]) == 3


def test_query_count_of_the_list_does_not_grow(town, world, settings, tmp_path, django_assert_max_num_queries):
    settings.MEDIA_ROOT = tmp_path / "media"
    client = Client()
    client.get(url("requests", "json"), {"jurisdiction_id": "T01"})
    category = t.make_category(world.town, code="more")
    for i in range(5):
        photo = SimpleUploadedFile(f"p{i}.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 20, content_type="image/png")
        t.make_order(world.b, category=category, photos=[photo], household=world.hh_b1)
    with django_assert_max_num_queries(6):
        response = client.get(url("requests", "json"), {"jurisdiction_id": "T01"})
    assert len(response.json()) == 10


# --- one request --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("slash", [False, True])
def test_one_request_is_a_list_of_one(town, fmt, slash):
    pk = town["point"].pk
    response, body = get(Client(), f"requests/{pk}", fmt, slash=slash, query={"jurisdiction_id": "T01"})
    assert response.status_code == 200
    [item] = items(body, fmt)
    assert item["service_request_id"] == str(pk)
    listed = get(Client(), "requests", "json", query={"service_request_id": str(pk)})[1]
    assert [item] == (listed if fmt == "json" else as_xml_text(listed))


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_requests_are_404(town, fmt):
    client = Client()
    for value in ("999999", "abc", str(town["elsewhere"].pk), str(town["uncategorised"].pk)):
        response, body = get(client, f"requests/{value}", fmt)
        assert response.status_code == 404, value
        errors = body if fmt == "json" else xml_data(body)
        assert [int(e["code"]) for e in errors] == [404]
    response, _ = get(client, f"requests/{town['point'].pk}", fmt, query={"jurisdiction_id": "T02"})
    assert response.status_code == 404


def test_media_url_is_the_partners_or_the_first_photo(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    category = t.make_category(world.town, code="repair")
    photos = [
        SimpleUploadedFile(f"p{i}.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 20, content_type="image/png") for i in (1, 2)
    ]
    order = t.make_order(world.a, category=category, photos=photos)
    first = order.photos.order_by("id").first()
    body = get(Client(), f"requests/{order.pk}", "json")[1]
    assert body[0]["media_url"] == f"http://testserver/orders/{order.pk}/photos/{first.pk}/"
    _, raw = make_partner_key(world.town, community=world.a)
    data = {"api_key": raw, "service_code": "repair", "address_string": "x", "media_url": "https://img.example/1.jpg"}
    posted = call(Client(), "POST", "requests", "json", data=data)[1]
    body = get(Client(), f"requests/{posted[0]['service_request_id']}", "json")[1]
    assert body[0]["media_url"] == "https://img.example/1.jpg"


# --- tokens -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("slash", [False, True])
def test_tokens(world, fmt, slash):
    t.make_category(world.town, code="repair")
    _, raw = make_partner_key(world.town, community=world.a)
    data = {"api_key": raw, "service_code": "repair", "address_string": "幸福路8号"}
    posted = call(Client(), "POST", "requests", "json", data=data)[1]
    row = ServiceRequest.objects.get(order_id=int(posted[0]["service_request_id"]))
    response, body = get(Client(), f"tokens/{row.token}", fmt, slash=slash)
    assert response.status_code == 200
    [item] = items(body, fmt) if fmt == "json" else xml_data(body)
    assert item == {"service_request_id": str(row.order_id), "token": row.token}
    if fmt == "xml":
        assert body.tag == "service_requests" and [r.tag for r in body] == ["request"]
    response, body = get(Client(), "tokens/unknown-token", fmt)
    assert response.status_code == 404
    errors = body if fmt == "json" else xml_data(body)
    assert [int(e["code"]) for e in errors] == [404]


# --- reads are limited per client address -----------------------------------------------------------


def test_reads_over_the_limit_get_429(world, settings):
    settings.OPEN311_READ_RATE_PER_MINUTE = 3
    client = Client()
    with time_machine.travel(NOW, tick=False):
        statuses = [client.get(url("services", "json")).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        response = client.get(url("requests", "xml"))
        assert response.status_code == 429
        assert response["Retry-After"] == "60"
        assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<errors><error><code>429</code>')
        # Another address has its own count.
        assert client.get(url("services", "json"), REMOTE_ADDR="10.0.0.9").status_code == 200
    settings.OPEN311_READ_RATE_PER_MINUTE = 0
    with time_machine.travel(NOW, tick=False):
        assert client.get(url("services", "json")).status_code == 200


def test_orders_unchanged_by_reading(town):
    before = list(Order.objects.values_list("pk", "status", "updated_at").order_by("pk"))
    get(Client(), "requests", "json")
    assert list(Order.objects.values_list("pk", "status", "updated_at").order_by("pk")) == before
