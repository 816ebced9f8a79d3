"""Service records (志愿服务记录 / 下沉服务时长), points (奉献积分), stars and certificates.

Two append-only ledgers:

* ServiceRecord — hours with the fields of 民政部令第67号《志愿服务记录与证明出具办法》 art. 7,
  of one of two kinds kept apart: volunteer service (the basis of certificates, art. 15) and
  registration service (下沉/报到, the basis of feedback to units). A correction is a new row
  that references the corrected one (`corrects`), never an edit.
* PointEntry — points with the rule that produced them and their source.

No balance is stored anywhere: every total is a SUM over ledger rows (see linli.credits.ledger).
Rows are written only by linli/credits/actions.py.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.lib import masking
from linli.orgs.models import Category, Community, Town
from linli.people.models import Member


class ServiceKind(models.TextChoices):
    VOLUNTEER = "volunteer", _("志愿服务")
    REGISTRATION = "registration", _("下沉/报到服务")


class SourceType(models.TextChoices):
    ORDER = "order", _("工单")
    SHIFT = "shift", _("活动班次")
    CORRECTION = "correction", _("更正")
    REOPEN = "reopen", _("群众不满意重办")
    MANUAL = "manual", _("手工录入")


# Volunteer stars by cumulative volunteer-service hours: hours needed for 1…5 stars.
STAR_PRESETS = {
    "standard": (100, 300, 600, 1000, 1500),
    "compact": (100, 200, 500, 800, 1000),
}
DEFAULT_STAR_THRESHOLDS = STAR_PRESETS["standard"]
# Annual 星级评定 by the year's score (base score + points, floor 0): [minimum score, stars],
# highest first; a score below every band is 0 stars (未达标).
DEFAULT_RATING_BANDS = ((100, 5), (90, 4), (80, 3), (70, 2), (60, 1))
DEFAULT_TARGET_HOURS = Decimal("20.0")
DEFAULT_BASE_SCORE = 60
# 民政部令第67号 art. 11: records are entered within 10 working days of the service.
LATE_AFTER_WORKING_DAYS = 10


def _thresholds_ok(value) -> bool:
    try:
        numbers = [Decimal(str(v)) for v in value]
    except Exception:  # any non-number fails the check
        return False
    return len(numbers) == 5 and all(n > 0 for n in numbers) and numbers == sorted(set(numbers))


def _bands_ok(value) -> bool:
    try:
        pairs = [(Decimal(str(minimum)), int(stars)) for minimum, stars in value]
    except Exception:  # any malformed band fails the check
        return False
    minimums = [m for m, _s in pairs]
    return bool(pairs) and minimums == sorted(set(minimums), reverse=True) and all(1 <= s <= 5 for _m, s in pairs)


class CreditSettings(models.Model):
    """A town's targets, base score and star thresholds. Missing row = the defaults."""

    town = models.OneToOneField(
        Town, on_delete=models.CASCADE, primary_key=True, related_name="credit_settings", verbose_name=_("街道/镇")
    )
    target_hours = models.DecimalField(
        _("年度服务时长目标（小时）"), max_digits=5, decimal_places=1, default=DEFAULT_TARGET_HOURS
    )
    base_score = models.PositiveIntegerField(_("年度基础分"), default=DEFAULT_BASE_SCORE)
    star_thresholds = models.JSONField(
        _("志愿星级时长门槛（1–5星，小时）"), default=list, blank=True, help_text=_("例如 [100, 300, 600, 1000, 1500]")
    )
    rating_bands = models.JSONField(
        _("年度星级评定分档"), default=list, blank=True, help_text=_("[[最低分, 星级], …]，从高到低")
    )

    class Meta:
        verbose_name = _("积分与星级设置")
        verbose_name_plural = _("积分与星级设置")

    def __str__(self):
        return str(self.town_id)

    def clean(self):
        if self.star_thresholds and not _thresholds_ok(self.star_thresholds):
            raise ValidationError({"star_thresholds": _("应为5个递增的正数")})
        if self.rating_bands and not _bands_ok(self.rating_bands):
            raise ValidationError({"rating_bands": _("应为从高到低的 [最低分, 星级] 列表，星级1–5")})

    @property
    def thresholds(self) -> tuple[Decimal, ...]:
        values = self.star_thresholds if _thresholds_ok(self.star_thresholds) else DEFAULT_STAR_THRESHOLDS
        return tuple(Decimal(str(v)) for v in values)

    @property
    def bands(self) -> tuple[tuple[Decimal, int], ...]:
        values = self.rating_bands if _bands_ok(self.rating_bands) else DEFAULT_RATING_BANDS
        return tuple((Decimal(str(m)), int(s)) for m, s in values)


class ServiceKindRule(models.Model):
    """Which kind of service a community's orders (by category) and activities (by kind) count as.

    Without a row: orders are registration service (下沉/报到), activity shifts volunteer
    service. A rule with no category / activity kind is the community's default for its
    source. A unit quota (a unit sending its members to meet a number) is never volunteer
    service (民政部令第67号: volunteering is voluntary): the constraint below and
    record_service both hold it.
    """

    class Source(models.TextChoices):
        ORDER = "order", _("工单")
        SHIFT = "shift", _("活动")

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="service_kind_rules", verbose_name=_("社区")
    )
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices)
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("工单类别")
    )
    activity_kind = models.CharField(_("活动类型"), max_length=32, blank=True)
    kind = models.CharField(_("记为"), max_length=16, choices=ServiceKind.choices)
    unit_quota = models.BooleanField(_("单位摊派任务"), default=False)

    class Meta:
        verbose_name = _("服务记录类型规则")
        verbose_name_plural = _("服务记录类型规则")
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_quota=False) | Q(kind=ServiceKind.REGISTRATION),
                name="servicekindrule_quota_not_volunteer",
            ),
            models.CheckConstraint(
                condition=Q(source="order", activity_kind="") | Q(source="shift", category__isnull=True),
                name="servicekindrule_key_matches_source",
            ),
            # One rule per key; two partial indexes because NULLs are distinct in a unique index.
            models.UniqueConstraint(
                fields=["community", "source", "category"],
                condition=Q(category__isnull=False),
                name="servicekindrule_unique_category",
            ),
            models.UniqueConstraint(
                fields=["community", "source", "activity_kind"],
                condition=Q(category__isnull=True),
                name="servicekindrule_unique_kind",
            ),
        ]

    def __str__(self):
        return f"{self.community_id}:{self.source}:{self.category_id or self.activity_kind or '*'}→{self.kind}"

    def clean(self):
        if self.unit_quota and self.kind != ServiceKind.REGISTRATION:
            raise ValidationError({"kind": _("单位摊派的任务只能记为下沉/报到服务")})


class ServiceRecordQuerySet(models.QuerySet):
    def volunteer(self):
        return self.filter(kind=ServiceKind.VOLUNTEER)

    def in_year(self, year: int):
        return self.filter(service_date__year=year)


class ServiceRecord(models.Model):
    """One entry of service hours (民政部令第67号 art. 7). Append-only; corrections are new rows."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="service_records", verbose_name=_("队员"))
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="service_records", verbose_name=_("社区")
    )
    kind = models.CharField(_("类型"), max_length=16, choices=ServiceKind.choices)
    # art. 7: 活动名称、日期、地点、服务内容、服务时长、组织单位、负责人
    activity_name = models.CharField(_("活动名称"), max_length=200)
    service_date = models.DateField(_("服务日期"))
    place = models.CharField(_("服务地点"), max_length=200, blank=True)
    content = models.CharField(_("服务内容"), max_length=500, blank=True)
    hours = models.DecimalField(_("服务时长（小时）"), max_digits=5, decimal_places=1)
    organizer = models.CharField(_("组织单位"), max_length=100)
    leader = models.CharField(_("负责人"), max_length=50, blank=True)
    source_type = models.CharField(_("来源"), max_length=12, choices=SourceType.choices)
    source_id = models.BigIntegerField(_("来源编号"))
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("工单类别")
    )
    activity_kind = models.CharField(_("活动类型"), max_length=32, blank=True)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjustments",
        verbose_name=_("更正的记录"),
    )
    recorder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("记录人")
    )
    recorded_at = models.DateTimeField(_("记录时间"))
    # art. 11: entered more than 10 working days after the service. A fact of the entry itself.
    late = models.BooleanField(_("超期录入"), default=False)

    objects = ServiceRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("服务记录")
        verbose_name_plural = _("服务记录")
        constraints = [
            # One entry per member and source: concurrent callers create exactly one.
            models.UniqueConstraint(fields=["member", "source_type", "source_id"], name="servicerecord_once"),
            # An entry adds hours; only an adjustment (a correction) may be negative.
            models.CheckConstraint(
                condition=Q(corrects__isnull=True, hours__gt=0) | (Q(corrects__isnull=False) & ~Q(hours=0)),
                name="servicerecord_hours_sign",
            ),
        ]
        indexes = [
            # The member record page and yearly/cumulative sums per member and kind.
            models.Index(fields=["member", "kind", "service_date"], name="servicerecord_member_idx"),
            # Community and unit pages: a community's records in a period.
            models.Index(fields=["community", "service_date"], name="servicerecord_community_idx"),
        ]

    def __str__(self):
        return f"{self.member_id} {self.service_date} {self.hours}h"

    @property
    def is_adjustment(self) -> bool:
        return self.corrects_id is not None


class StarEvent(models.Model):
    """A member's volunteer star level changed (written by the action that changed the hours)."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="star_events", verbose_name=_("队员"))
    at = models.DateTimeField(_("时间"))
    from_level = models.PositiveSmallIntegerField(_("原星级"))
    to_level = models.PositiveSmallIntegerField(_("新星级"))
    hours = models.DecimalField(_("累计志愿服务时长"), max_digits=8, decimal_places=1)
    record = models.OneToOneField(
        ServiceRecord, on_delete=models.PROTECT, related_name="star_event", verbose_name=_("引起变化的记录")
    )

    class Meta:
        verbose_name = _("星级变化")
        verbose_name_plural = _("星级变化")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["member", "at"], name="starevent_member_idx")]

    def __str__(self):
        return f"{self.member_id}: {self.from_level}→{self.to_level}"


class CorrectionRequest(models.Model):
    """A member asks to correct a service record; the community approves or declines."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("待审核")
        APPROVED = "approved", _("已更正")
        DECLINED = "declined", _("未通过")

    record = models.ForeignKey(
        ServiceRecord, on_delete=models.PROTECT, related_name="correction_requests", verbose_name=_("服务记录")
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="correction_requests")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="correction_requests")
    proposed_hours = models.DecimalField(_("更正后时长（小时）"), max_digits=5, decimal_places=1)
    reason = models.CharField(_("更正理由"), max_length=500)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("申请人")
    )
    requested_at = models.DateTimeField(_("申请时间"))
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.CharField(_("审核意见"), max_length=500, blank=True)
    adjustment = models.OneToOneField(
        ServiceRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="correction",
        verbose_name=_("更正记录"),
    )

    class Meta:
        verbose_name = _("更正申请")
        verbose_name_plural = _("更正申请")
        constraints = [
            models.CheckConstraint(condition=Q(proposed_hours__gte=0), name="correction_hours_not_negative"),
            # One open request per record at a time.
            models.UniqueConstraint(fields=["record"], condition=Q(status="requested"), name="correction_one_open"),
        ]
        indexes = [
            # The community's correction queue.
            models.Index(fields=["community", "status"], name="correction_queue_idx"),
        ]

    def __str__(self):
        return f"{self.record_id}→{self.proposed_hours}"


CORRECTION_TRANSITIONS: dict[str, frozenset[str]] = {
    CorrectionRequest.Status.REQUESTED: frozenset(
        {CorrectionRequest.Status.APPROVED, CorrectionRequest.Status.DECLINED}
    ),
    CorrectionRequest.Status.APPROVED: frozenset(),
    CorrectionRequest.Status.DECLINED: frozenset(),
}


class CorrectionEvent(models.Model):
    """Append-only history of a correction request."""

    request = models.ForeignKey(CorrectionRequest, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, verbose_name=_("操作人"))
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12)
    note = models.CharField(_("说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("更正记录")
        verbose_name_plural = _("更正记录")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.from_status}→{self.to_status}"


class PointRule(models.Model):
    """A town's rule: points per hour of service, or a fixed bonus (positive) / deduction (negative)."""

    town = models.ForeignKey(Town, on_delete=models.CASCADE, related_name="point_rules", verbose_name=_("街道/镇"))
    code = models.CharField(_("编码"), max_length=32)
    label = models.CharField(_("名称"), max_length=100)
    points_per_hour = models.DecimalField(_("每小时积分"), max_digits=6, decimal_places=1, null=True, blank=True)
    points = models.DecimalField(_("固定积分"), max_digits=6, decimal_places=1, null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("积分规则")
        verbose_name_plural = _("积分规则")
        constraints = [
            models.UniqueConstraint(fields=["town", "code"], name="pointrule_unique_code"),
            models.CheckConstraint(
                condition=Q(points_per_hour__isnull=True, points__isnull=False)
                | Q(points_per_hour__isnull=False, points__isnull=True),
                name="pointrule_per_hour_xor_fixed",
            ),
        ]
        ordering = ["code"]

    def __str__(self):
        return self.label

    @property
    def per_hour(self) -> bool:
        return self.points_per_hour is not None


class PointEntry(models.Model):
    """One ledger row of 奉献积分, with the rule that produced it and its source."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="point_entries", verbose_name=_("队员"))
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="+", verbose_name=_("街道/镇"))
    rule = models.ForeignKey(PointRule, on_delete=models.PROTECT, related_name="entries", verbose_name=_("规则"))
    points = models.DecimalField(_("积分"), max_digits=7, decimal_places=1)
    # For per-hour rules: the hours and the rate used (the rule may change later).
    hours = models.DecimalField(_("时长（小时）"), max_digits=5, decimal_places=1, null=True, blank=True)
    rate = models.DecimalField(_("每小时积分"), max_digits=6, decimal_places=1, null=True, blank=True)
    source_type = models.CharField(_("来源"), max_length=12, choices=SourceType.choices)
    source_id = models.BigIntegerField(_("来源编号"))
    earned_on = models.DateField(_("计入日期"))
    at = models.DateTimeField(_("记录时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("操作人")
    )

    class Meta:
        verbose_name = _("积分记录")
        verbose_name_plural = _("积分记录")
        constraints = [
            models.UniqueConstraint(fields=["member", "rule", "source_type", "source_id"], name="pointentry_once"),
        ]
        indexes = [
            # Yearly totals per member.
            models.Index(fields=["member", "earned_on"], name="pointentry_member_idx"),
        ]

    def __str__(self):
        return f"{self.member_id} {self.points:+}"


class Certificate(models.Model):
    """志愿服务证明 (民政部令第67号 art. 15), issued from volunteer-service records only.

    What the certificate says is kept as issued (name, ID, organisation, services), so the
    PDF printed again later says the same and the public check can confirm it.
    """

    number = models.CharField(_("证明编号"), max_length=32, unique=True)
    code = models.CharField(_("验证码"), max_length=16, unique=True)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("队员"))
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("出具社区"))
    member_name = models.CharField(_("姓名"), max_length=50)
    id_type = models.CharField(_("证件类型"), max_length=32)
    id_number_masked = models.CharField(_("证件号码"), max_length=32)
    issuer = models.CharField(_("出具单位"), max_length=100)
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))
    hours = models.DecimalField(_("服务时长（小时）"), max_digits=8, decimal_places=1)
    services = models.JSONField(_("服务记录摘要"), default=list)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("出具人")
    )
    issued_at = models.DateTimeField(_("出具时间"))

    class Meta:
        verbose_name = _("志愿服务证明")
        verbose_name_plural = _("志愿服务证明")
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0), name="certificate_hours_positive"),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="certificate_period"),
        ]

    def __str__(self):
        return self.number

    @property
    def masked_name(self) -> str:
        return masking.mask_name(self.member_name)
