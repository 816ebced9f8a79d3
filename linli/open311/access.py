"""How Open311 views obtain objects: outside what the caller may see is a 404.

GeoReport v2 reads are public: the reader is anyone, and sees the service requests of one
jurisdiction (a town) that have a service code (orders with a category), presented without
personal data (linli.open311.present). Writes need a partner key, whose scope limits where the
partner may file. The keys page is for the town admins of the key's town.
"""

import hashlib

from django.db.models import Count, Prefetch
from django.http import Http404

from linli.open311.models import PartnerKey, ServiceAttribute, ServiceAttributeValue, ServiceRequest
from linli.orders.models import Order, OrderPhoto
from linli.orgs.models import Category, Town


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def partner_key_from_raw(raw: str) -> PartnerKey | None:
    """The live key whose hash matches `raw`, or None (unknown, malformed or revoked)."""
    if not raw or len(raw) > 200:
        return None
    return PartnerKey.objects.live().select_related("town", "community").filter(key_hash=hash_key(raw)).first()


def town_by_code(code: str) -> Town | None:
    return Town.objects.filter(code=code).first()


def any_town() -> bool:
    return Town.objects.exists()


def only_town() -> Town | None:
    """The town when the server hosts exactly one; None when it hosts none or several."""
    towns = list(Town.objects.order_by("pk")[:2])
    return towns[0] if len(towns) == 1 else None


def services(town: Town):
    """The town's categories, each with `n_attributes` (its extra questions), by code."""
    return Category.objects.filter(town=town).annotate(n_attributes=Count("open311_attributes")).order_by("code")


def public_requests(town: Town):
    """Orders of the town a public reader sees: those with a category (a service code)."""
    submitted_photos = OrderPhoto.objects.filter(stage=OrderPhoto.Stage.SUBMITTED).order_by("id")
    return (
        Order.objects.filter(town=town, category__isnull=False)
        .select_related("category__rule", "community", "department", "household__building", "open311")
        .prefetch_related(Prefetch("photos", queryset=submitted_photos, to_attr="submitted_photos"))
    )


def get_service_for_user(request, code: str, *, town: Town) -> Category:
    """A category of the town by its code (public); Http404 when there is none."""
    category = Category.objects.filter(town=town, code=code).select_related("rule").first()
    if category is None:
        raise Http404(f"service_code “{code[:50]}” 不存在")
    return category


def service_attributes(category: Category) -> list[ServiceAttribute]:
    values = Prefetch("values", queryset=ServiceAttributeValue.objects.order_by("id"))
    return list(ServiceAttribute.objects.filter(category=category).prefetch_related(values).order_by("order", "id"))


def get_service_request_for_user(request, value, *, town: Town) -> Order:
    """A public service request of the town by id; Http404 for an unknown or malformed id."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise Http404(f"service_request_id “{str(value)[:50]}” 不存在") from None
    order = public_requests(town).filter(pk=pk).first()
    if order is None:
        raise Http404(f"service_request_id “{str(value)[:50]}” 不存在")
    return order


def get_token_for_user(request, token: str, *, town: Town) -> ServiceRequest:
    """The token minted for a partner's request in this town; Http404 when unknown."""
    row = ServiceRequest.objects.filter(token=token, order__town=town).first() if token else None
    if row is None:
        raise Http404("token 不存在")
    return row


def get_partner_key_for_user(request, value) -> PartnerKey:
    """A key the user manages (a town admin of its town); Http404 otherwise."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise Http404("no such key") from None
    key = PartnerKey.objects.managed_by(request.user).select_related("town", "community").filter(pk=pk).first()
    if key is None:
        raise Http404("no such key")
    return key
