"""Our objects as GeoReport v2 data: services, service definitions, service requests.

Every key of the spec is emitted, null where there is no value; ids and codes are strings,
lat/long numbers, date-times W3C in UTC (linli.open311.render.w3c).

Status mapping (docs/open311.md):

| Open311 | our statuses |
|---|---|
| open | submitted, accepted, dispatched, pooled, claimed, in_progress, escalated, acknowledged |
| closed | resolved (work done, awaiting the resident's rating), closed, rejected, merged, cancelled |

A resolved order the resident rates 不满意 is reopened (accepted): it reads `open` again.

Personal data: a resident's name, phone or e-mail is never emitted. Free text (description,
status notes) has mobile and ID numbers masked. A household's address is given at building
precision (the door is withheld); an anonymous order (对党员匿名) shows only its community, with
no description, coordinates, household id or media.
"""

import re

from django.urls import reverse

from linli.lib import masking
from linli.open311.models import LIST_DATATYPES, ServiceAttribute
from linli.open311.render import w3c
from linli.orders.models import OPEN_STATUSES, CategoryRule, Order, OrderPhoto, Status

S = Status

OPEN = "open"
CLOSED = "closed"
CLOSED_STATUSES = frozenset({S.RESOLVED, S.CLOSED, S.REJECTED, S.MERGED, S.CANCELLED})
OUR_STATUSES = {OPEN: OPEN_STATUSES, CLOSED: CLOSED_STATUSES}
ESCALATED_STATUSES = frozenset({S.ESCALATED, S.ACKNOWLEDGED})

SERVICE_TYPE = "realtime"  # a POST answers with the service_request_id at once


def open311_status(status: str) -> str:
    return OPEN if status in OPEN_STATUSES else CLOSED


# --- personal data in free text -----------------------------------------------------------------

_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9Xx])\d{17}[0-9Xx](?![0-9Xx])")


def masked(text: str | None) -> str | None:
    """Free text with mobile numbers (138****1234) and ID numbers (420203********1234) masked."""
    if not text:
        return None
    text = _ID_NUMBER.sub(lambda m: masking.mask_id_number(m.group()), text)
    return _MOBILE.sub(lambda m: masking.mask_phone(m.group()), text)


# --- services -----------------------------------------------------------------------------------


def service(category) -> dict:
    """One entry of GET services: all seven keys, "" where we have no text."""
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": "",
        "metadata": bool(getattr(category, "n_attributes", 0)),
        "type": SERVICE_TYPE,
        "keywords": "",
        "group": category.group or "",
    }


def attribute(a: ServiceAttribute) -> dict:
    return {
        "variable": a.variable,
        "code": a.code,
        "datatype": a.datatype,
        "required": a.required,
        "datatype_description": a.datatype_description or None,
        "order": a.order,
        "description": a.description,
        "values": [{"key": v.key, "name": v.name} for v in a.values.all()] if a.datatype in LIST_DATATYPES else [],
    }


def definition(category, attributes: list[ServiceAttribute]) -> dict:
    return {"service_code": category.code, "attributes": [attribute(a) for a in attributes]}


def _rule(category) -> CategoryRule:
    try:
        return category.rule
    except CategoryRule.DoesNotExist:
        return CategoryRule(category=category)  # the defaults, as orders.actions uses them


def _duration(minutes: int) -> str:
    if minutes % 60 == 0:
        return f"{minutes // 60}个工作小时"
    return f"{minutes}个工作分钟"


def service_notice(category) -> str:
    """The category's service level: response and resolution limits in working time."""
    rule = _rule(category)
    return f"社区将在{_duration(rule.respond_minutes)}内响应，{rule.resolve_days}个工作日内办结"


# --- service requests ---------------------------------------------------------------------------


def status_notes(order: Order) -> str | None:
    label = str(order.get_status_display())
    if order.status == S.REJECTED:
        return masked(order.reject_reason) or label
    if order.status in (S.RESOLVED, S.CLOSED):
        return masked(order.result_note) or label
    if order.status == S.MERGED:
        return f"{label}：与同类诉求 #{order.merged_into_id} 合并办理" if order.merged_into_id else label
    if order.status in ESCALATED_STATUSES and order.department_id:
        return f"{label}：{order.department.name}"
    return label


def agency_responsible(order: Order) -> str:
    """The department while the order is escalated to it (吹哨报到), else the community."""
    if order.status in ESCALATED_STATUSES and order.department_id:
        return order.department.name
    return order.community.name


def updated_datetime(order: Order):
    if order.status in CLOSED_STATUSES:
        return order.closed_at or order.resolved_at or order.updated_at
    return order.updated_at


def _extra(order: Order):
    try:
        return order.open311
    except Order.open311.RelatedObjectDoesNotExist:
        return None


def media_url(request, order: Order) -> str | None:
    """The partner's media URL, else the first photo filed with the order (signed-in staff only)."""
    extra = _extra(order)
    if extra is not None and extra.media_url:
        return extra.media_url
    photos = getattr(order, "submitted_photos", None)
    if photos is None:
        photos = list(order.photos.filter(stage=OrderPhoto.Stage.SUBMITTED).order_by("id")[:1])
    if not photos:
        return None
    return request.build_absolute_uri(reverse("order_photo", args=[order.pk, photos[0].pk]))


def _coordinate(value):
    return float(value) if value is not None else None


def service_request(request, order: Order) -> dict:
    """One request of GET requests / requests/{id}: every key, null where empty."""
    anonymous = order.anonymous
    if anonymous:
        address = order.community.name
    elif order.household_id:
        address = order.household.building.address
    else:
        address = order.address or None
    return {
        "service_request_id": str(order.pk),
        "status": open311_status(order.status),
        "status_notes": status_notes(order),
        "service_name": order.category.name,
        "service_code": order.category.code,
        "description": None if anonymous else masked(order.description),
        "agency_responsible": agency_responsible(order),
        "service_notice": service_notice(order.category),
        "requested_datetime": w3c(order.created_at),
        "updated_datetime": w3c(updated_datetime(order)),
        "expected_datetime": w3c(order.resolve_by),
        "address": address,
        "address_id": str(order.household_id) if order.household_id and not anonymous else None,
        "zipcode": None,
        "lat": None if anonymous else _coordinate(order.lat),
        "long": None if anonymous else _coordinate(order.long),
        "media_url": None if anonymous else media_url(request, order),
    }


def created(order: Order, *, account: str = "") -> dict:
    """The one request of a POST reply: the id (we are realtime: never a token), notice, account."""
    return {
        "service_request_id": str(order.pk),
        "service_notice": service_notice(order.category),
        "account_id": account or None,
    }


def token(row) -> dict:
    return {"service_request_id": str(row.order_id), "token": row.token}
