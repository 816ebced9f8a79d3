"""State changes of the Open311 app: partner keys, request counting, and filing service requests.

Creating and revoking a key write an audit row. A partner's POST becomes an order through
linli.orders.actions.submit_order (channel Open311, the key's name as the partner), with what
the order has no field for kept in a ServiceRequest row beside it, in the same transaction.
"""

import datetime as dt
import re
import secrets

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.actions import record_audit
from linli.accounts.models import AuditEntry
from linli.lib.errors import Conflict, DomainError
from linli.open311 import attributes as answers_text
from linli.open311.access import hash_key
from linli.open311.locate import Location
from linli.open311.models import PartnerKey, RateCounter, ServiceRequest
from linli.orders.actions import submit_order
from linli.orders.models import Channel, Kind, Order

KEY_PREFIX = "o311_"  # a public prefix that lets secret scanners spot leaked keys
KEY_BYTES = 32
PREFIX_LENGTH = len(KEY_PREFIX) + 8  # what lists show and `partner_key revoke` takes
MAX_RATE = 100_000
MAX_DESCRIPTION = 4000
MAX_TITLE = 100
MAX_CONTACT_NAME = 50
# last_used_at is informational: writing it at most once a minute.
TOUCH_EVERY = dt.timedelta(minutes=1)
COMMAND_USERNAME = "manage.py"  # the audit row's username when a command acts without a user

_CJK = re.compile(r"[\u3400-\u9fff]")


def default_rate() -> int:
    return getattr(settings, "OPEN311_KEY_RATE_PER_MINUTE", 60)


def _audit(actor, key: PartnerKey, verb: str, request=None) -> None:
    record_audit(
        actor,
        AuditEntry.Action.ADMIN_CHANGE,
        obj=key,
        request=request,
        username="" if getattr(actor, "pk", None) else COMMAND_USERNAME,
        detail={
            "verb": verb,
            "name": key.name,
            "prefix": key.prefix,
            "town": key.town.code,
            "community": key.community.code if key.community_id else "",
        },
    )


def create_partner_key(
    *, actor, name: str, town, community=None, rate_limit_per_minute: int | None = None, request=None
) -> tuple[PartnerKey, str]:
    """Issue an Open311 key for a partner, for the whole town or for one community of it.

    Returns the row and the key itself: the key is shown once, only its SHA-256 and its first
    characters (the prefix) are kept. Audited. `actor` is None when a command creates it.
    """
    name = (name or "").strip()
    if not name:
        raise DomainError(_("请填写合作方名称"), code="name")
    if len(name) > 100:
        raise DomainError(_("合作方名称不能超过100字"), code="name")
    if community is not None and community.town_id != town.pk:
        raise DomainError(_("社区不属于该街道/镇"), code="community")
    rate = default_rate() if rate_limit_per_minute is None else int(rate_limit_per_minute)
    if not 0 <= rate <= MAX_RATE:
        raise DomainError(_("每分钟请求上限应在 0 到 %(max)s 之间（0 表示不限）") % {"max": MAX_RATE}, code="rate")
    for _attempt in range(5):
        raw = KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)
        try:
            with transaction.atomic():
                key = PartnerKey.objects.create(
                    name=name,
                    town=town,
                    community=community,
                    prefix=raw[:PREFIX_LENGTH],
                    key_hash=hash_key(raw),
                    rate_limit_per_minute=rate,
                    created_by=actor if getattr(actor, "pk", None) else None,
                    created_at=timezone.now(),
                )
                _audit(actor, key, "open311_key_created", request)
        except IntegrityError:
            continue  # two keys drew the same prefix: draw again
        return key, raw
    raise Conflict(_("密钥生成失败，请重试"))


def revoke_partner_key(key: PartnerKey, *, actor, request=None) -> PartnerKey:
    """Revoke a key: its next POST gets 403. Compare-and-set: a key is revoked once. Audited."""
    now = timezone.now()
    with transaction.atomic():
        updated = PartnerKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor if getattr(actor, "pk", None) else None
        )
        if updated != 1:
            raise Conflict(_("该密钥已吊销"), code="key_revoked")
        _audit(actor, key, "open311_key_revoked", request)
    key.revoked_at = now
    return key


def touch_partner_key(key: PartnerKey, *, now=None) -> None:
    """Record that the key was used, at most once per TOUCH_EVERY."""
    now = now or timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < TOUCH_EVERY:
        return
    PartnerKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now


def count_request(bucket: str, *, window_seconds: int = 60, now: float | None = None) -> int:
    """Count one request of `bucket` in the current fixed window; return the window's count so far.

    One statement (INSERT … ON CONFLICT DO UPDATE … RETURNING, SQLite ≥ 3.35 and PostgreSQL), so
    two workers never lose an increment. The first request of a window deletes the bucket's older
    windows, which keeps the table as small as the number of active clients.
    """
    now = timezone.now().timestamp() if now is None else now
    start = int(now // window_seconds * window_seconds)
    table = connection.ops.quote_name(RateCounter._meta.db_table)
    bucket_col, start_col, hits_col = (connection.ops.quote_name(c) for c in ("bucket", "window_start", "hits"))
    sql = (
        f"INSERT INTO {table} ({bucket_col}, {start_col}, {hits_col}) VALUES (%s, %s, 1) "  # noqa: S608 - quoted names
        f"ON CONFLICT ({bucket_col}, {start_col}) DO UPDATE SET {hits_col} = {table}.{hits_col} + 1 "
        f"RETURNING {hits_col}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [bucket, start])
        hits = cursor.fetchone()[0]
    if hits == 1:
        RateCounter.objects.filter(bucket=bucket, window_start__lt=start).delete()
    return hits


# --- filing -------------------------------------------------------------------------------------


def _title(category, description: str) -> str:
    first_line = next((line.strip() for line in description.splitlines() if line.strip()), "")
    title = f"{category.name}：{first_line}" if first_line else category.name
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"


def _contact_name(first_name: str, last_name: str) -> str:
    """姓 + 名 for Chinese names (last_name is the family name), "First Last" otherwise."""
    first_name, last_name = first_name.strip(), last_name.strip()
    if first_name and last_name and _CJK.search(first_name + last_name):
        name = last_name + first_name
    else:
        name = " ".join(part for part in (first_name, last_name) if part)
    return name[:MAX_CONTACT_NAME]


def _with_answers(description: str, answers: list[dict]) -> str:
    """The partner's description, followed by the answers to the extra questions as far as the
    order's 4000 characters allow (the ServiceRequest row keeps them whole)."""
    if not answers:
        return description
    block = "【补充信息】\n" + answers_text.summary(answers)
    if description:
        block = "\n\n" + block
    room = MAX_DESCRIPTION - len(description)
    if len(block) <= room:
        return description + block
    if room < 40:  # not even the heading and one answer would fit
        return description
    return description + block[: room - 1] + "…"


def file_service_request(
    *,
    key: PartnerKey,
    category,
    location: Location,
    description: str = "",
    answers: list[dict] | None = None,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    email: str = "",
    device: str = "",
    account: str = "",
    media_url: str = "",
) -> Order:
    """A partner's POST becomes an order (submit_order, channel Open311, the key's name as partner)
    within the key's scope, with a ServiceRequest row for what the order has no field for."""
    if category.town_id != key.town_id:
        raise DomainError(_("类别不属于本街道"), code="category")
    if not key.communities().filter(pk=location.community.pk).exists():
        raise DomainError(_("该位置不在本密钥可提交的范围内"), code="location")
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise DomainError(_("description 不能超过%(max)s字") % {"max": MAX_DESCRIPTION}, code="description")
    answers = list(answers or [])
    with transaction.atomic():
        order = submit_order(
            actor=None,
            title=_title(category, description),
            description=_with_answers(description, answers),
            kind=Kind.NEED,
            community=location.community,
            household=location.household,
            address=location.address,
            lat=location.lat,
            long=location.long,
            category=category,
            channel=Channel.OPEN311,
            partner=key.name,
            contact_name=_contact_name(first_name, last_name),
            contact_phone=phone.strip(),
        )
        ServiceRequest.objects.create(
            order=order,
            key=key,
            token=secrets.token_urlsafe(16),
            attributes=answers,
            email=email.strip(),
            device_id=device.strip(),
            account_id=account.strip(),
            media_url=media_url.strip(),
            created_at=order.created_at,
        )
    return order
