"""The one renderer of the Open311 endpoint: the same Python data as JSON or as XML.

The data is what the JSON carries ("Spark convention": the XML root dropped, repeated elements as
arrays); the XML is derived from it: a dict is an element with one child per key in order, a
list is a container whose children take the singular name in LIST_ITEMS, None is an empty
element, booleans are `true`/`false`. So both formats always carry the same keys.

Also here: the W3C date-time format we write (UTC, seconds, `Z`) and the one we read.
"""

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone

JSON = "json"
XML = "xml"
CONTENT_TYPES = {JSON: "application/json; charset=utf-8", XML: "text/xml; charset=utf-8"}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'

# Container → the name of each child element in XML.
LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}

# Characters XML 1.0 cannot carry at all (not even escaped); a description pasted from a
# terminal must not make the whole document unparsable.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_ILLEGAL.sub("", str(value))


def _element(tag: str, value) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, child in value.items():
            element.append(_element(key, child))
    elif isinstance(value, list):
        item = LIST_ITEMS[tag]
        for child in value:
            element.append(_element(item, child))
    elif value is not None:
        element.text = _text(value)
    return element


def body(fmt: str, root: str, data) -> bytes:
    """`data` as a JSON document, or as an XML document whose root element is `root`."""
    if fmt == JSON:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return (XML_DECLARATION + ET.tostring(_element(root, data), encoding="unicode")).encode()


def render(fmt: str, root: str, data, *, status: int = 200, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(body(fmt, root, data), status=status, content_type=CONTENT_TYPES[fmt])
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def errors(fmt: str, status: int, *problems, headers: dict | None = None) -> HttpResponse:
    """The spec's error list: each problem is a description, or (code, description)."""
    items = []
    for problem in problems:
        code, description = problem if isinstance(problem, tuple) else (status, problem)
        items.append({"code": code, "description": str(description)})
    return render(fmt, "errors", items, status=status, headers=headers)


# --- date-times ---------------------------------------------------------------------------------


def w3c(value: dt.datetime | None) -> str | None:
    """`2010-01-01T00:00:00Z`: UTC, whole seconds, Z (what every validator accepts)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# An offset whose "+" arrived as a space: a client that did not encode the query string.
_LOST_PLUS = re.compile(r"^(.*T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


def parse_w3c(value: str) -> dt.datetime:
    """A W3C-note date-time with its time zone (`Z`, `±hh:mm`, fractions allowed) → aware datetime.

    A bare date (`2010-01-01`) is midnight of that day in the server's time zone. A date-time
    without a time zone is refused (ValueError): the spec makes the zone mandatory.
    """
    value = (value or "").strip()
    lost = _LOST_PLUS.match(value)
    if lost:
        value = f"{lost.group(1)}+{lost.group(2)}"
    if _DATE_ONLY.match(value):
        day = dt.date.fromisoformat(value)
        return timezone.make_aware(dt.datetime.combine(day, dt.time()), timezone.get_default_timezone())
    if "T" not in value.upper():
        raise ValueError("not a W3C date-time")
    if value.endswith(("z", "Z")):
        value = value[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("time zone missing")
    return parsed
