"""The one renderer (JSON and XML from the same data) and the W3C date-times of Open311."""

import datetime as dt
import json
import xml.etree.ElementTree as ET
import zoneinfo

import pytest

from linli.open311.render import body, errors, parse_w3c, w3c

DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'


def test_json_drops_the_root_and_keeps_types():
    data = [{"service_code": "001", "metadata": True, "lat": 30.5, "group": None}]
    assert json.loads(body("json", "services", data)) == data


def test_xml_names_containers_and_their_items():
    data = {"service_code": "001", "attributes": [{"code": "A", "values": [{"key": "1", "name": "一"}]}]}
    document = body("xml", "service_definition", data)
    assert document.startswith(DECLARATION)
    root = ET.fromstring(document)
    assert root.tag == "service_definition"
    assert root.find("attributes/attribute/values/value/name").text == "一"


def test_xml_values():
    root = ET.fromstring(body("xml", "request", {"a": True, "b": False, "c": None, "d": 1.25, "e": "", "f": 7}))
    assert [(c.tag, c.text) for c in root] == [
        ("a", "true"),
        ("b", "false"),
        ("c", None),
        ("d", "1.25"),
        ("e", None),
        ("f", "7"),
    ]


def test_xml_escapes_markup_and_drops_characters_xml_cannot_carry():
    document = body("xml", "request", {"description": "a < b & <c>\x01\x0b ok\n"})
    assert ET.fromstring(document).findtext("description") == "a < b & <c> ok\n"
    assert b"<c>" not in document.split(b"<description>")[1]


def test_errors_may_carry_several_and_more_specific_codes():
    response = errors("json", 400, "缺少 service_code", (405, "不支持 PUT"))
    assert response.status_code == 400
    assert json.loads(response.content) == [
        {"code": 400, "description": "缺少 service_code"},
        {"code": 405, "description": "不支持 PUT"},
    ]
    xml = errors("xml", 404, "不存在")
    expected = "<errors><error><code>404</code><description>不存在</description></error></errors>"
    assert xml.content == DECLARATION + expected.encode()


def test_w3c_output_is_utc_with_seconds_and_z():
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    assert w3c(dt.datetime(2010, 1, 1, 8, 0, 0, 999999, tzinfo=shanghai)) == "2010-01-01T00:00:00Z"
    assert w3c(None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2010-01-01T00:00:00Z", dt.datetime(2010, 1, 1, tzinfo=dt.UTC)),
        ("2010-01-01T00:00:00z", dt.datetime(2010, 1, 1, tzinfo=dt.UTC)),
        ("2010-01-01T08:00:00+08:00", dt.datetime(2010, 1, 1, tzinfo=dt.UTC)),
        ("2009-12-31T19:00:00-05:00", dt.datetime(2010, 1, 1, tzinfo=dt.UTC)),
        ("2010-01-01T00:00:00.5Z", dt.datetime(2010, 1, 1, 0, 0, 0, 500000, tzinfo=dt.UTC)),
        ("2010-01-01T00:00:00.123456789Z", dt.datetime(2010, 1, 1, 0, 0, 0, 123456, tzinfo=dt.UTC)),
        ("2010-01-01T08:00+08:00", dt.datetime(2010, 1, 1, tzinfo=dt.UTC)),
        ("2010-01-01T08:00:00 08:00", dt.datetime(2010, 1, 1, tzinfo=dt.UTC)),  # "+" lost in a query
        ("2010-01-01", dt.datetime(2009, 12, 31, 16, tzinfo=dt.UTC)),  # midnight in Asia/Shanghai
    ],
)
def test_parse_w3c_accepts_z_offsets_and_fractions(text, expected):
    assert parse_w3c(text) == expected


@pytest.mark.parametrize("text", ["2010-01-01T00:00:00", "yesterday", "", "2010-13-01T00:00:00Z", "20100101"])
def test_parse_w3c_refuses_datetimes_without_zone_and_garbage(text):
    with pytest.raises(ValueError):
        parse_w3c(text)
