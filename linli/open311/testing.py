"""Helpers for Open311 tests: keys through the actions, and a client that reads both formats.

`call()` makes a request and returns the response with its body parsed: JSON as is, XML as an
ElementTree root. `xml_data()` turns an XML document into the JSON-shaped data the spec's
"Spark convention" says it must mirror, written independently of the renderer so that a test
comparing both formats checks the renderer rather than repeating it.
"""

import json
import xml.etree.ElementTree as ET

from linli.open311 import actions

BASE = "/open311/v2"
# The containers of repeated elements and the name of their children, as the spec lists them.
CONTAINERS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


def make_partner_key(town, *, community=None, name="市民热线", rate=0, actor=None):
    """(key, raw key) made through the action, unlimited unless `rate` says otherwise."""
    return actions.create_partner_key(
        actor=actor, name=name, town=town, community=community, rate_limit_per_minute=rate
    )


def url(resource: str, fmt: str, *, slash: bool = False) -> str:
    """`{base}/{resource}.{fmt}` as a client concatenates it; `slash`: the base ends in "/"."""
    base = BASE + "/" if slash else BASE
    return f"{base}/{resource}.{fmt}"


def parse(response):
    """The body as data (JSON) or as the root element (XML)."""
    text = response.content.decode("utf-8")
    if response["Content-Type"].startswith("application/json"):
        return json.loads(text)
    return ET.fromstring(response.content)  # noqa: S314 - our own answer, in tests


def call(client, method: str, resource: str, fmt: str, *, slash: bool = False, query=None, data=None):
    """One request; returns (response, parsed body)."""
    path = url(resource, fmt, slash=slash)
    if method == "GET":
        response = client.get(path, query or {})
    else:
        if query:
            from urllib.parse import urlencode

            path = f"{path}?{urlencode(query, doseq=True)}"
        response = client.post(path, data or {})
    return response, parse(response)


def xml_data(element):
    """An XML element as the JSON the Spark convention maps it to (text values as strings)."""
    children = list(element)
    if element.tag in CONTAINERS:
        item = CONTAINERS[element.tag]
        assert all(child.tag == item for child in children), (element.tag, [c.tag for c in children])
        return [xml_data(child) for child in children]
    if children:
        tags = [child.tag for child in children]
        assert len(tags) == len(set(tags)), f"repeated elements in <{element.tag}>: {tags}"
        return {child.tag: xml_data(child) for child in children}
    return element.text


def as_xml_text(value):
    """A JSON value as the text XML carries for it (None and "" both become an empty element)."""
    if isinstance(value, dict):
        return {k: as_xml_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_xml_text(v) for v in value]
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
