"""Open311 partners and what the GeoReport v2 endpoint needs beyond orders.

- PartnerKey: a partner system's API key for POSTing service requests, scoped to a town or to one
  community. Only a hash and a short visible prefix are stored; the key is shown once.
- ServiceRequest: what a partner sent with an order that the order itself has no field for (the
  answers to the category's extra questions, e-mail, device and account ids, media URL), and the
  token minted for it.
- ServiceAttribute / ServiceAttributeValue: a category's extra questions ("service definition").
- RateCounter: fixed-window request counts (per key, per client address), counted in the database.

Rows change only in linli/open311/actions.py (the questions: in the admin, as configuration).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.lib.fields import EncryptedTextField
from linli.orders.models import Order
from linli.orgs.models import Category, Community, Household, Town


class PartnerKeyQuerySet(models.QuerySet):
    def live(self):
        return self.filter(revoked_at__isnull=True)

    def managed_by(self, user):
        """Keys a user may manage: the town admins of the key's town (superusers: all)."""
        s = user.scope
        if s.superuser:
            return self
        return self.filter(town_id__in=s.town_ids)


class PartnerKey(models.Model):
    """An Open311 partner's API key. The key itself is never stored: its SHA-256 and a prefix are."""

    name = models.CharField(_("合作方名称"), max_length=100)
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="partner_keys", verbose_name=_("街道/镇"))
    # Empty: the whole town; set: the partner may file into this community only.
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="partner_keys",
        verbose_name=_("限定社区"),
    )
    # The first characters of the key, shown in lists and used to revoke it from the command line.
    prefix = models.CharField(_("密钥前缀"), max_length=16, unique=True)
    # hex SHA-256 of the key; unique, so it is also the index every POST looks the key up by.
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True)
    rate_limit_per_minute = models.PositiveIntegerField(_("每分钟请求上限"), default=60)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("吊销人"),
    )

    objects = PartnerKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("Open311 接入密钥")
        verbose_name_plural = _("Open311 接入密钥")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None

    def communities(self):
        """The communities this key may file into."""
        if self.community_id:
            return Community.objects.filter(pk=self.community_id)
        return Community.objects.filter(town_id=self.town_id)

    def households(self):
        """The households this key may name as `address_id`."""
        if self.community_id:
            return Household.objects.filter(building__grid__community_id=self.community_id)
        return Household.objects.filter(building__grid__community__town_id=self.town_id)


class ServiceRequest(models.Model):
    """What a partner sent with an order beyond the order's own fields, and its token."""

    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, primary_key=True, related_name="open311", verbose_name=_("工单")
    )
    key = models.ForeignKey(
        PartnerKey, on_delete=models.PROTECT, related_name="service_requests", verbose_name=_("接入密钥")
    )
    token = models.CharField(_("令牌"), max_length=40, unique=True)
    # [{"code": …, "question": …, "value": str | [str, …]}] in the definition's order.
    attributes = models.JSONField(_("补充信息"), default=list, blank=True)
    email = EncryptedTextField(_("电子邮箱"), blank=True)
    device_id = models.CharField(_("设备标识"), max_length=100, blank=True)
    account_id = models.CharField(_("账号标识"), max_length=100, blank=True)
    media_url = models.URLField(_("媒体链接"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)

    class Meta:
        verbose_name = _("Open311 诉求")
        verbose_name_plural = _("Open311 诉求")

    def __str__(self):
        return str(self.order_id)


class Datatype(models.TextChoices):
    STRING = "string", _("单行文字")
    NUMBER = "number", _("数字")
    DATETIME = "datetime", _("日期时间")
    TEXT = "text", _("多行文字")
    SINGLE = "singlevaluelist", _("单选")
    MULTI = "multivaluelist", _("多选")


LIST_DATATYPES = frozenset({Datatype.SINGLE, Datatype.MULTI})


class ServiceAttribute(models.Model):
    """One extra question of a category, published in its Open311 service definition."""

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="open311_attributes", verbose_name=_("类别")
    )
    code = models.CharField(_("编码"), max_length=50, help_text=_("字母、数字、下划线或连字符"))
    order = models.PositiveIntegerField(_("顺序"), default=1, help_text=_("从 1 开始，同一类别内不重复"))
    # False: an informational line shown to the user, taking no input.
    variable = models.BooleanField(_("需要填写"), default=True)
    datatype = models.CharField(_("类型"), max_length=16, choices=Datatype.choices, default=Datatype.STRING)
    required = models.BooleanField(_("必填"), default=False)
    description = models.CharField(_("问题"), max_length=500)
    datatype_description = models.CharField(_("填写说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("Open311 补充问题")
        verbose_name_plural = _("Open311 补充问题")
        ordering = ["category", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="open311_attribute_unique_code"),
            models.UniqueConstraint(fields=["category", "order"], name="open311_attribute_unique_order"),
            models.CheckConstraint(condition=Q(order__gte=1), name="open311_attribute_order_positive"),
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Za-z0-9_-]+$"), name="open311_attribute_code_characters"
            ),
        ]

    def __str__(self):
        return f"{self.category_id}:{self.code}"


class ServiceAttributeValue(models.Model):
    """One choice of a single- or multi-value list question."""

    attribute = models.ForeignKey(
        ServiceAttribute, on_delete=models.CASCADE, related_name="values", verbose_name=_("问题")
    )
    key = models.CharField(_("取值"), max_length=50)
    name = models.CharField(_("显示名称"), max_length=100)

    class Meta:
        verbose_name = _("选项")
        verbose_name_plural = _("选项")
        ordering = ["attribute", "id"]
        constraints = [models.UniqueConstraint(fields=["attribute", "key"], name="open311_value_unique_key")]

    def __str__(self):
        return self.name


class RateCounter(models.Model):
    """Requests of one bucket (a partner key, or a client address for reads) in one fixed window.

    Incremented with one INSERT … ON CONFLICT DO UPDATE, so concurrent requests in several worker
    processes count exactly, on SQLite as on PostgreSQL.
    """

    bucket = models.CharField(max_length=100)
    # Start of the window in Unix seconds (a multiple of the window length).
    window_start = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("Open311 限流计数")
        verbose_name_plural = _("Open311 限流计数")
        constraints = [
            # The conflict target of the upsert; also the lookup of the clean-up of old windows.
            models.UniqueConstraint(fields=["bucket", "window_start"], name="open311_ratecounter_one_per_window"),
        ]

    def __str__(self):
        return f"{self.bucket}@{self.window_start}: {self.hits}"
