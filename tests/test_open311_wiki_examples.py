"""The GeoReport v2 wiki's own example requests, replayed literally (wiki.open311.org/GeoReport_v2).

The jurisdiction is `city.gov`, the services `001` and `DMV66`, the POST body the wiki's byte for
byte (with our key for `xyz`), the request query the wiki's sample URL. The answers must have the
wiki's shapes, with ids and keys as strings where the wiki's JSON shows bare numbers.
"""

import datetime as dt

import pytest
import time_machine
from django.test import Client

from linli import testing as t
from linli.open311.models import ServiceAttribute, ServiceAttributeValue, ServiceRequest
from linli.open311.testing import BASE, make_partner_key, parse, xml_data
from linli.orders.models import Channel, Order

WIKI_POST = (
    "api_key=xyz&jurisdiction_id=city.gov&service_code=001&lat=37.76524078&long=-122.4212043"
    "&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111&account_id=123456"
    "&first_name=john&last_name=smith&phone=111111111&description=A+large+sinkhole+is+destroying+the+street"
    "&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg"
    "&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001"
)
WIKI_REQUESTS = (
    "/requests.{fmt}?start_date=2010-05-24T00:00:00Z&end_date=2010-06-24T00:00:00Z&status=open&jurisdiction_id=city.gov"
)
FORM = "application/x-www-form-urlencoded; charset=utf-8"


@pytest.fixture
def city(db):
    town = t.make_town(code="city.gov", name="City")
    community = t.make_community(town, name="Mission")
    cans = t.make_category(town, code="001", name="Cans left out 24x7", group="sanitation")
    for order, code in enumerate(("WHISPAWN", "WHISDORN"), start=1):
        ServiceAttribute.objects.create(category=cans, code=code, order=order, description=code)
    dmv = t.make_category(town, code="DMV66", name="DMV", group="")
    whishetn = ServiceAttribute.objects.create(
        category=dmv,
        code="WHISHETN",
        datatype="singlevaluelist",
        required=True,
        order=1,
        description="What is the ticket/tag/DL number?",
    )
    ServiceAttributeValue.objects.create(attribute=whishetn, key="123", name="Ford")
    ServiceAttributeValue.objects.create(attribute=whishetn, key="124", name="Chrysler")
    _, raw = make_partner_key(town, community=community, name="SF311")
    return {"town": town, "community": community, "key": raw}


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_get_service_list(city, fmt):
    response = Client().get(f"{BASE}/services.{fmt}?jurisdiction_id=city.gov")
    assert response.status_code == 200
    body = parse(response)
    data = body if fmt == "json" else xml_data(body)
    assert [s["service_code"] for s in data] == ["001", "DMV66"]
    assert all(s["type"] == "realtime" for s in data)


def test_get_service_definition_matches_the_wiki_json(city):
    response = Client().get(f"{BASE}/services/DMV66.json?jurisdiction_id=city.gov")
    assert response.json() == {
        "service_code": "DMV66",
        "attributes": [
            {
                "variable": True,
                "code": "WHISHETN",
                "datatype": "singlevaluelist",
                "required": True,
                "datatype_description": None,
                "order": 1,
                "description": "What is the ticket/tag/DL number?",
                "values": [{"key": "123", "name": "Ford"}, {"key": "124", "name": "Chrysler"}],
            }
        ],
    }
    xml = parse(Client().get(f"{BASE}/services/DMV66.xml?jurisdiction_id=city.gov"))
    assert xml.tag == "service_definition"
    assert xml.findtext("attributes/attribute/values/value/name") == "Ford"


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_post_then_query_then_read_one(city, fmt):
    client = Client()
    with time_machine.travel(dt.datetime(2010, 6, 1, 12, tzinfo=dt.UTC), tick=False):
        response = client.post(
            f"{BASE}/requests.{fmt}", WIKI_POST.replace("api_key=xyz", f"api_key={city['key']}"), content_type=FORM
        )
    assert response.status_code == 200, response.content
    body = parse(response)
    if fmt == "xml":
        assert body.tag == "service_requests" and [r.tag for r in body] == ["request"]
        assert [c.tag for c in body[0]] == ["service_request_id", "service_notice", "account_id"]
        created = xml_data(body)[0]
    else:
        [created] = body
        assert set(created) == {"service_request_id", "service_notice", "account_id"}
    order = Order.objects.get(pk=int(created["service_request_id"]))
    assert order.channel == Channel.OPEN311 and order.partner == "SF311"
    assert order.community == city["community"]
    assert order.address == "1234 5th street"
    assert (str(order.lat), str(order.long)) == ("37.765241", "-122.421204")
    assert order.contact_name == "john smith" and order.contact_phone == "111111111"
    assert order.description.startswith("A large sinkhole is destroying the street")
    extra = ServiceRequest.objects.get(order=order)
    assert extra.email == "smit333@sfgov.edu"
    assert extra.media_url == "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg"
    assert [(a["code"], a["value"]) for a in extra.attributes] == [("WHISPAWN", "123456"), ("WHISDORN", "COISL001")]

    listed = parse(client.get(BASE + WIKI_REQUESTS.format(fmt=fmt)))
    items = listed if fmt == "json" else xml_data(listed)
    assert [i["service_request_id"] for i in items] == [str(order.pk)]
    assert items[0]["requested_datetime"] == "2010-06-01T12:00:00Z"
    assert items[0]["status"] == "open"

    one = parse(client.get(f"{BASE}/requests/{order.pk}.{fmt}?jurisdiction_id=city.gov"))
    assert (one if fmt == "json" else xml_data(one)) == items

    token = extra.token
    found = parse(client.get(f"{BASE}/tokens/{token}.{fmt}?jurisdiction_id=city.gov"))
    assert (found if fmt == "json" else xml_data(found)) == [{"service_request_id": str(order.pk), "token": token}]
    missing = client.get(f"{BASE}/tokens/123456.{fmt}?jurisdiction_id=city.gov")
    assert missing.status_code == 404


def test_filters_declared_multiple_times(city):
    client = Client()
    with time_machine.travel(dt.datetime(2010, 6, 1, 12, tzinfo=dt.UTC), tick=False):
        client.post(
            f"{BASE}/requests.json", WIKI_POST.replace("api_key=xyz", f"api_key={city['key']}"), content_type=FORM
        )
    query = "start_date=2010-05-24T00:00:00Z&end_date=2010-06-24T00:00:00Z&jurisdiction_id=city.gov"
    repeated = client.get(f"{BASE}/requests.json?{query}&status=open&status=closed&service_code=001&service_code=x")
    assert len(repeated.json()) == 1
