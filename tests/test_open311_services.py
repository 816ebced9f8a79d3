"""GeoReport v2 discovery, service list and service definition, in both formats.

Replays the spec's examples (GET services, GET service definition) and checks the rules of
docs/open311.md: Content-Type with charset, the XML declaration, no namespace, the Spark
convention (root dropped, containers as arrays, definition and discovery as objects), every key
emitted, codes as strings, both forms of the base URL, errors as the spec's lists.
"""

import datetime as dt

import pytest
from django.test import Client

from linli import testing as t
from linli.open311.models import ServiceAttribute, ServiceAttributeValue
from linli.open311.testing import as_xml_text, call, url, xml_data

FORMATS = ["json", "xml"]
SERVICE_KEYS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
ATTRIBUTE_KEYS = {
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
}


def add_attribute(category, code, datatype="string", *, order, required=False, variable=True, values=(), **kw):
    attribute = ServiceAttribute.objects.create(
        category=category,
        code=code,
        datatype=datatype,
        order=order,
        required=required,
        variable=variable,
        description=kw.pop("description", f"问题 {code}"),
        **kw,
    )
    for key, name in values:
        ServiceAttributeValue.objects.create(attribute=attribute, key=key, name=name)
    return attribute


@pytest.fixture
def catalogue(world):
    repair = t.make_category(world.town, code="repair", name="水电维修", group="生活服务")
    lights = t.make_category(world.town, code="001", name="路灯不亮", group="")
    add_attribute(lights, "WHISPER", "string", order=1, variable=False, description="请看清灯杆编号")
    add_attribute(lights, "POLE", "number", order=2, required=True, description="灯杆编号", datatype_description="数字")
    add_attribute(
        lights,
        "KIND",
        "singlevaluelist",
        order=3,
        values=[("1", "完全不亮"), ("2", "闪烁")],
        description="故障情况",
    )
    add_attribute(lights, "SEEN", "datetime", order=4, description="发现时间")
    add_attribute(lights, "NOTE", "text", order=5, description="补充说明")
    add_attribute(
        lights,
        "WHERE",
        "multivaluelist",
        order=6,
        values=[("road", "路边"), ("yard", "小区内")],
        description="位置",
    )
    return {"repair": repair, "lights": lights}


def check_headers(response, fmt):
    expected = "application/json; charset=utf-8" if fmt == "json" else "text/xml; charset=utf-8"
    assert response["Content-Type"] == expected
    if fmt == "xml":
        assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
        assert b"xmlns" not in response.content


# --- discovery ----------------------------------------------------------------------------------


@pytest.mark.parametrize("slash", [False, True])
def test_discovery_in_both_formats(db, slash):
    client = Client()
    j, data = call(client, "GET", "discovery", "json", slash=slash)
    x, root = call(client, "GET", "discovery", "xml", slash=slash)
    assert j.status_code == x.status_code == 200
    check_headers(j, "json")
    check_headers(x, "xml")
    assert isinstance(data, dict)
    assert set(data) == {"changeset", "contact", "key_service", "endpoints"}
    assert data["contact"] and data["key_service"]
    changeset = dt.datetime.fromisoformat(data["changeset"].replace("Z", "+00:00"))
    assert changeset < dt.datetime.now(dt.UTC)
    [endpoint] = data["endpoints"]
    assert set(endpoint) == {"specification", "url", "changeset", "type", "formats"}
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["type"] in ("production", "test")
    assert "text/xml" in endpoint["formats"] and "application/json" in endpoint["formats"]
    # XML: <discovery><endpoints><endpoint>…<formats><format>…
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("./endpoints/endpoint/formats/format")] == endpoint["formats"]
    assert xml_data(root) == as_xml_text(data)


# --- services -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("slash", [False, True])
def test_service_list(catalogue, fmt, slash):
    response, body = call(Client(), "GET", "services", fmt, slash=slash, query={"jurisdiction_id": "T01"})
    assert response.status_code == 200
    check_headers(response, fmt)
    if fmt == "xml":
        assert body.tag == "services"
        assert [s.tag for s in body] == ["service", "service"]
        for service in body:
            assert {c.tag for c in service} == SERVICE_KEYS
        body = xml_data(body)
        expected = [
            {
                "service_code": "001",
                "service_name": "路灯不亮",
                "description": None,
                "metadata": "true",
                "type": "realtime",
                "keywords": None,
                "group": None,
            },
            {
                "service_code": "repair",
                "service_name": "水电维修",
                "description": None,
                "metadata": "false",
                "type": "realtime",
                "keywords": None,
                "group": "生活服务",
            },
        ]
    else:
        expected = [
            {
                "service_code": "001",  # a string: a bare 001 is not JSON
                "service_name": "路灯不亮",
                "description": "",
                "metadata": True,
                "type": "realtime",
                "keywords": "",
                "group": "",
            },
            {
                "service_code": "repair",
                "service_name": "水电维修",
                "description": "",
                "metadata": False,
                "type": "realtime",
                "keywords": "",
                "group": "生活服务",
            },
        ]
    assert body == expected


def test_service_list_of_one_town_needs_no_jurisdiction_and_empty_means_absent(catalogue):
    client = Client()
    absent = call(client, "GET", "services", "json")[1]
    empty = call(client, "GET", "services", "json", query={"jurisdiction_id": ""})[1]
    named = call(client, "GET", "services", "json", query={"jurisdiction_id": "T01"})[1]
    assert absent == empty == named
    assert len(named) == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_jurisdictions_unknown_is_404_and_missing_among_several_is_400(catalogue, fmt):
    client = Client()
    response, body = call(client, "GET", "services", fmt, query={"jurisdiction_id": "NOPE"})
    assert response.status_code == 404
    check_headers(response, fmt)
    assert_errors(body, fmt, [404])
    other = t.make_town(code="T02", name="E镇")
    t.make_category(other, code="repair", name="水电维修")
    response, body = call(client, "GET", "services", fmt)
    assert response.status_code == 400
    assert_errors(body, fmt, [400])
    response, body = call(client, "GET", "services", fmt, query={"jurisdiction_id": "T02"})
    assert response.status_code == 200
    codes = [s["service_code"] for s in body] if fmt == "json" else [s.findtext("service_code") for s in body]
    assert codes == ["repair"]


def assert_errors(body, fmt, codes):
    """The spec's error list: [{"code": 404, "description": "…"}] / <errors><error><code>…"""
    if fmt == "json":
        assert isinstance(body, list)
        assert all(set(e) == {"code", "description"} for e in body)
        assert all(isinstance(e["code"], int) and e["description"] for e in body)
        assert [e["code"] for e in body] == codes
    else:
        assert body.tag == "errors"
        assert all(e.tag == "error" and {c.tag for c in e} == {"code", "description"} for e in body)
        assert [int(e.findtext("code")) for e in body] == codes
        assert all(e.findtext("description") for e in body)


# --- service definition -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("slash", [False, True])
def test_service_definition(catalogue, fmt, slash):
    response, body = call(Client(), "GET", "services/001", fmt, slash=slash, query={"jurisdiction_id": "T01"})
    assert response.status_code == 200
    check_headers(response, fmt)
    if fmt == "xml":
        assert body.tag == "service_definition"
        assert [c.tag for c in body] == ["service_code", "attributes"]
        assert all(a.tag == "attribute" for a in body.find("attributes"))
        kind = body.find("attributes/attribute[code='KIND']")
        assert [(v.findtext("key"), v.findtext("name")) for v in kind.findall("values/value")] == [
            ("1", "完全不亮"),
            ("2", "闪烁"),
        ]
        data = xml_data(body)
    else:
        data = body
        assert isinstance(data, dict)
    assert set(data) == {"service_code", "attributes"}
    assert data["service_code"] == "001"
    attributes = data["attributes"]
    assert [a["code"] for a in attributes] == ["WHISPER", "POLE", "KIND", "SEEN", "NOTE", "WHERE"]
    assert all(set(a) == ATTRIBUTE_KEYS for a in attributes)
    assert [a["datatype"] for a in attributes] == [
        "string",
        "number",
        "singlevaluelist",
        "datetime",
        "text",
        "multivaluelist",
    ]
    pole = attributes[1]
    if fmt == "json":
        assert pole == {
            "variable": True,
            "code": "POLE",
            "datatype": "number",
            "required": True,
            "datatype_description": "数字",
            "order": 1 + 1,
            "description": "灯杆编号",
            "values": [],
        }
        assert attributes[0]["variable"] is False
        assert [a["order"] for a in attributes] == [1, 2, 3, 4, 5, 6]
        assert attributes[5]["values"] == [{"key": "road", "name": "路边"}, {"key": "yard", "name": "小区内"}]
    else:
        assert pole["required"] == "true" and pole["order"] == "2" and pole["values"] == []
        assert attributes[0]["variable"] == "false"


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_of_a_service_without_questions_and_of_an_unknown_one(catalogue, fmt):
    client = Client()
    response, body = call(client, "GET", "services/repair", fmt)
    assert response.status_code == 200
    data = body if fmt == "json" else xml_data(body)
    assert data == {"service_code": "repair", "attributes": []}
    response, body = call(client, "GET", "services/nope", fmt)
    assert response.status_code == 404
    check_headers(response, fmt)
    assert_errors(body, fmt, [404])
    # Another town's category is not a service of this jurisdiction.
    other = t.make_town(code="T02", name="E镇")
    t.make_category(other, code="elsewhere")
    response, body = call(client, "GET", "services/elsewhere", fmt, query={"jurisdiction_id": "T01"})
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/open311/v2/services.html", "/open311/v2/nothing.json", "/open311/v2/"])
def test_unknown_resources_are_404_in_the_spec_shape(db, path):
    response = Client().get(path)
    assert response.status_code == 404
    fmt = "json" if path.endswith(".json") else "xml"
    check_headers(response, fmt)


def test_wrong_method_is_400_with_code_405(catalogue):
    response = Client().post(url("services", "json"))
    assert response.status_code == 400
    assert response.json()[0]["code"] == 405
    assert response["Allow"] == "GET, HEAD"


def test_query_count_of_the_service_list_does_not_grow(catalogue, world, django_assert_max_num_queries):
    client = Client()
    call(client, "GET", "services", "json")
    for i in range(5):
        category = t.make_category(world.town, code=f"more{i}")
        add_attribute(category, "X", order=1)
    with django_assert_max_num_queries(4):
        response = client.get(url("services", "json"))
    assert len(response.json()) == 7


def test_head_answers_like_get_without_a_body(catalogue):
    response = Client().head(url("services", "xml"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content == b""
