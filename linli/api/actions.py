"""State changes of the JSON API itself: issuing and revoking tokens, counting requests."""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.actions import record_audit
from linli.accounts.models import AuditEntry
from linli.api.models import ApiToken, RateCounter
from linli.lib.errors import Conflict

TOKEN_PREFIX = "linli_"  # noqa: S105 - a public prefix that lets secret scanners spot leaked tokens
TOKEN_BYTES = 32
# last_used_at is informational: writing it at most once a minute keeps reads read-only.
TOUCH_EVERY = dt.timedelta(minutes=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_lifetime() -> dt.timedelta:
    return dt.timedelta(days=getattr(settings, "API_TOKEN_DAYS", 30))


def create_api_token(*, actor, request=None) -> tuple[ApiToken, str]:
    """Issue a bearer token for `actor` (who has just proved their password).

    Returns the row and the token itself; the token is shown once and only its SHA-256 is kept.
    Audited as a login through the API.
    """
    raw = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=actor, key_hash=hash_token(raw), created_at=now, expires_at=now + token_lifetime()
        )
        record_audit(actor, AuditEntry.Action.LOGIN, obj=token, request=request, detail={"via": "api"})
    return token, raw


def revoke_api_token(token: ApiToken, *, actor, request=None) -> ApiToken:
    """Revoke a token (API logout). Compare-and-set: a token is revoked once."""
    now = timezone.now()
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
        if updated != 1:
            raise Conflict(_("令牌已注销"), code="token_revoked")
        record_audit(actor, AuditEntry.Action.LOGOUT, obj=token, request=request, detail={"via": "api"})
    token.revoked_at = now
    return token


def touch_api_token(token: ApiToken, *, now=None) -> None:
    """Record that the token was used, at most once per TOUCH_EVERY."""
    now = now or timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


def count_api_request(bucket: str, *, window_seconds: int = 60, now: float | None = None) -> int:
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
    # No transaction around the two statements: each is correct alone, and the common case is
    # the upsert only.
    with connection.cursor() as cursor:
        cursor.execute(sql, [bucket, start])
        hits = cursor.fetchone()[0]
    if hits == 1:
        RateCounter.objects.filter(bucket=bucket, window_start__lt=start).delete()
    return hits
