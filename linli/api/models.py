"""Bearer tokens of the JSON API and the fixed-window counters of its rate limits.

Both change only in linli/api/actions.py.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored: a stolen database backup holds no usable token."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("用户")
    )
    # hex SHA-256 of the token; unique, so it is also the index every authenticated request uses.
    key_hash = models.CharField(_("令牌摘要"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("过期时间"))
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("注销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")

    def __str__(self):
        return f"{self.user_id}:{self.pk}"

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


class RateCounter(models.Model):
    """Requests of one bucket (a token, or a client address for logins) in one fixed window.

    Incremented with one INSERT … ON CONFLICT DO UPDATE, so concurrent requests in several
    worker processes count exactly, on SQLite as on PostgreSQL.
    """

    bucket = models.CharField(max_length=100)
    # Start of the window in Unix seconds (a multiple of the window length).
    window_start = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("限流计数")
        verbose_name_plural = _("限流计数")
        constraints = [
            # The conflict target of the upsert; also the lookup of the clean-up of old windows.
            models.UniqueConstraint(fields=["bucket", "window_start"], name="ratecounter_one_per_window"),
        ]

    def __str__(self):
        return f"{self.bucket}@{self.window_start}: {self.hits}"
