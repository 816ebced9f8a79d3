"""Feedback to units (信息反馈/结果运用) and red/black lists of property companies (红黑榜).

* UnitReport — one frozen report per unit and period: the rows computed at generation (by
  linli.reports.feedback) are stored as JSON, so the PDF printed next year says what was sent.
  Written only by linli/reports/actions.py; a unique constraint makes generation idempotent.
* FeedbackSettings — a town's report period and the "declined more than N dispatches" flag.
* ListRule — a town's red/black list rule: weights, thresholds, minimum orders, notice days.
* Inspection — a staff inspection score (0–100) of a property company in one estate.
* PropertyList → ListEntry → ListEvent — a town's red/black list for a period: proposed, under
  public notice (appeals), published; statuses move only by compare-and-set against the
  literal tables below, each step writing one ListEvent.
* OrderEventDay, OrderEventDayMark — the dashboards' daily roll-up of order events (derived data,
  rebuilt by `manage.py rollup_order_events`; docs/metrics.md).
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.orgs.models import Estate, PropertyCompany, Town, Unit


class Preset(models.TextChoices):
    MONTHLY = "monthly", _("月度")
    QUARTERLY = "quarterly", _("季度")
    HALF_YEARLY = "half_yearly", _("半年度")
    YEARLY = "yearly", _("年度")


DEFAULT_PRESET = Preset.QUARTERLY
DEFAULT_DECLINE_THRESHOLD = 3


class FeedbackSettings(models.Model):
    """A town's feedback settings. Missing row = the defaults (quarterly, flag after 3 declines)."""

    town = models.OneToOneField(
        Town, on_delete=models.CASCADE, primary_key=True, related_name="feedback_settings", verbose_name=_("街道/镇")
    )
    preset = models.CharField(_("反馈周期"), max_length=12, choices=Preset.choices, default=DEFAULT_PRESET)
    decline_threshold = models.PositiveSmallIntegerField(
        _("拒单提示阈值（次）"),
        default=DEFAULT_DECLINE_THRESHOLD,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("一个周期内拒单超过此次数的党员在反馈中被提示"),
    )

    class Meta:
        verbose_name = _("单位反馈设置")
        verbose_name_plural = _("单位反馈设置")

    def __str__(self):
        return str(self.town_id)


class UnitReport(models.Model):
    """One unit's feedback report for one period, frozen at generation (rows and summary as JSON)."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="feedback_reports", verbose_name=_("单位"))
    # "2026Q3", "2026-07", "2026H2", "2026": see linli.reports.feedback.Period.
    period = models.CharField(_("周期"), max_length=8)
    preset = models.CharField(_("周期类型"), max_length=12, choices=Preset.choices)
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))  # inclusive: the period's last day
    summary = models.JSONField(_("汇总"), default=dict)
    rows = models.JSONField(_("党员明细"), default=list)
    generated_at = models.DateTimeField(_("生成时间"))
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("生成人"),
    )

    class Meta:
        verbose_name = _("单位反馈报告")
        verbose_name_plural = _("单位反馈报告")
        ordering = ["-period_start", "unit_id"]
        constraints = [
            # One report per unit and period: the task, the command and the button are idempotent.
            models.UniqueConstraint(fields=["unit", "period"], name="unitreport_once_per_period"),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="unitreport_period"),
        ]
        indexes = [
            # The unit's reports list, newest first (the unique index above leads with unit too,
            # but orders by the period code, not by date).
            models.Index(fields=["unit", "-period_start"], name="unitreport_unit_idx"),
        ]

    def __str__(self):
        return f"{self.unit_id}:{self.period}"


# --- red/black lists ---------------------------------------------------------------------------------

DEFAULT_WEIGHTS = {"satisfaction": 40, "on_time": 25, "reopen": 15, "inspection": 20}


class ListRule(models.Model):
    """A town's rule for red/black lists of property companies. Missing row = the defaults.

    The score (0–100) is the weighted mean of the components a company has data for: residents'
    satisfaction with property orders, orders resolved in time, orders not reopened, and the
    mean staff inspection score.
    """

    town = models.OneToOneField(
        Town, on_delete=models.CASCADE, primary_key=True, related_name="list_rule", verbose_name=_("街道/镇")
    )
    weight_satisfaction = models.PositiveSmallIntegerField(
        _("权重：群众满意率"), default=DEFAULT_WEIGHTS["satisfaction"]
    )
    weight_on_time = models.PositiveSmallIntegerField(_("权重：按时办结率"), default=DEFAULT_WEIGHTS["on_time"])
    weight_reopen = models.PositiveSmallIntegerField(_("权重：未重新办理率"), default=DEFAULT_WEIGHTS["reopen"])
    weight_inspection = models.PositiveSmallIntegerField(_("权重：巡查评分"), default=DEFAULT_WEIGHTS["inspection"])
    red_threshold = models.DecimalField(
        _("红榜分数线（≥）"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("90.0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    black_threshold = models.DecimalField(
        _("黑榜分数线（<）"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("60.0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    min_orders = models.PositiveSmallIntegerField(
        _("最少工单数"), default=5, help_text=_("周期内受理的物业类工单少于此数的公司不参评")
    )
    notice_days = models.PositiveSmallIntegerField(
        _("公示天数"), default=7, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )

    class Meta:
        verbose_name = _("红黑榜规则")
        verbose_name_plural = _("红黑榜规则")
        constraints = [
            models.CheckConstraint(condition=Q(black_threshold__lt=models.F("red_threshold")), name="listrule_bands"),
            models.CheckConstraint(
                condition=Q(weight_satisfaction__gt=0)
                | Q(weight_on_time__gt=0)
                | Q(weight_reopen__gt=0)
                | Q(weight_inspection__gt=0),
                name="listrule_some_weight",
            ),
        ]

    def __str__(self):
        return str(self.town_id)

    def clean(self):
        both = self.black_threshold is not None and self.red_threshold is not None
        if both and self.black_threshold >= self.red_threshold:
            raise ValidationError({"black_threshold": _("黑榜分数线应低于红榜分数线")})
        if not any(self.weights.values()):
            raise ValidationError(_("至少一项权重应大于0"))

    @property
    def weights(self) -> dict[str, int]:
        return {
            "satisfaction": self.weight_satisfaction,
            "on_time": self.weight_on_time,
            "reopen": self.weight_reopen,
            "inspection": self.weight_inspection,
        }

    def snapshot(self) -> dict:
        """The rule as JSON, kept on each list so a list reads the same after the rule changes."""
        return {
            "weights": self.weights,
            "red_threshold": str(self.red_threshold),
            "black_threshold": str(self.black_threshold),
            "min_orders": self.min_orders,
            "notice_days": self.notice_days,
        }


class Inspection(models.Model):
    """A staff inspection (巡查/考评) of a property company in one estate, scored 0–100."""

    company = models.ForeignKey(
        PropertyCompany, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("物业公司")
    )
    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("小区"))
    date = models.DateField(_("巡查日期"))
    score = models.PositiveSmallIntegerField(_("评分"), validators=[MaxValueValidator(100)])
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("巡查人")
    )
    note = models.CharField(_("说明"), max_length=500, blank=True)
    recorded_at = models.DateTimeField(_("记录时间"))

    class Meta:
        verbose_name = _("物业巡查")
        verbose_name_plural = _("物业巡查")
        ordering = ["-date", "-id"]
        constraints = [models.CheckConstraint(condition=Q(score__lte=100), name="inspection_score_0_100")]
        indexes = [
            # Scores per company and period (the list's inspection component).
            models.Index(fields=["company", "date"], name="inspection_company_idx"),
        ]

    def __str__(self):
        return f"{self.company_id}@{self.estate_id} {self.date}: {self.score}"


class PropertyList(models.Model):
    """A town's red/black list of property companies for one period."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("拟定")
        NOTICE = "notice", _("公示中")
        PUBLISHED = "published", _("已发布")
        WITHDRAWN = "withdrawn", _("已撤销")

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="property_lists", verbose_name=_("街道/镇"))
    period = models.CharField(_("周期"), max_length=8)
    preset = models.CharField(_("周期类型"), max_length=12, choices=Preset.choices)
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))  # inclusive
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PROPOSED)
    rule = models.JSONField(_("评分规则"), default=dict)
    # Every company scored, listed or not ("样本不足" included): the staff page's table.
    scores = models.JSONField(_("各公司得分"), default=list)
    proposed_at = models.DateTimeField(_("拟定时间"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    notice_starts_at = models.DateTimeField(_("公示开始"), null=True, blank=True)
    notice_ends_at = models.DateTimeField(_("公示截止"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("红黑榜")
        verbose_name_plural = _("红黑榜")
        ordering = ["-period_start", "-id"]
        constraints = [
            # One live list per town and period; a withdrawn one may be proposed again.
            models.UniqueConstraint(
                fields=["town", "period"], condition=~Q(status="withdrawn"), name="propertylist_one_live"
            ),
        ]
        indexes = [
            # The public page: a town's published lists, newest period first.
            models.Index(fields=["town", "status", "-period_start"], name="propertylist_town_idx"),
        ]

    def __str__(self):
        return f"{self.town_id}:{self.period}:{self.status}"


class ListEntry(models.Model):
    """A company on a list (red or black) with its score, figures and reasons; appealable if black."""

    class Kind(models.TextChoices):
        RED = "red", _("红榜")
        BLACK = "black", _("黑榜")

    class Status(models.TextChoices):
        LISTED = "listed", _("在榜")
        APPEALED = "appealed", _("申诉中")
        REMOVED = "removed", _("申诉成立，已移出")
        CONFIRMED = "confirmed", _("申诉未采纳，维持")

    plist = models.ForeignKey(PropertyList, on_delete=models.PROTECT, related_name="entries", verbose_name=_("榜单"))
    company = models.ForeignKey(
        PropertyCompany, on_delete=models.PROTECT, related_name="list_entries", verbose_name=_("物业公司")
    )
    # As at proposal: the list reads the same after a company is renamed or an estate changes hands.
    company_name = models.CharField(_("公司名称"), max_length=100)
    estates = models.JSONField(_("服务小区"), default=list)
    kind = models.CharField(_("榜单"), max_length=8, choices=Kind.choices)
    score = models.DecimalField(_("综合得分"), max_digits=4, decimal_places=1)
    figures = models.JSONField(_("指标"), default=dict)
    reasons = models.JSONField(_("理由"), default=list)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.LISTED)
    appeal_statement = models.TextField(_("申诉理由"), max_length=2000, blank=True)
    appealed_at = models.DateTimeField(_("申诉时间"), null=True, blank=True)
    appealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.CharField(_("复核意见"), max_length=500, blank=True)
    decided_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("榜单条目")
        verbose_name_plural = _("榜单条目")
        ordering = ["kind", "-score", "company_name"]
        constraints = [models.UniqueConstraint(fields=["plist", "company"], name="listentry_once_per_list")]
        indexes = [
            # A property company's entries (its appeal page).
            models.Index(fields=["company", "status"], name="listentry_company_idx"),
        ]

    def __str__(self):
        return f"{self.plist_id}:{self.company_id}:{self.kind}"

    @property
    def on_list(self) -> bool:
        return self.status != self.Status.REMOVED


L, N = PropertyList.Status, ListEntry.Status

# The literal transitions tables: status → statuses it may move to. Nothing else decides.
LIST_TRANSITIONS: dict[str, frozenset[str]] = {
    L.PROPOSED: frozenset({L.NOTICE, L.WITHDRAWN}),
    L.NOTICE: frozenset({L.PUBLISHED, L.WITHDRAWN}),
    L.PUBLISHED: frozenset({L.WITHDRAWN}),  # a list found wrong is withdrawn, with a reason, never edited
    L.WITHDRAWN: frozenset(),
}
ENTRY_TRANSITIONS: dict[str, frozenset[str]] = {
    N.LISTED: frozenset({N.APPEALED}),
    N.APPEALED: frozenset({N.REMOVED, N.CONFIRMED}),
    N.REMOVED: frozenset(),
    N.CONFIRMED: frozenset(),
}


class ListEvent(models.Model):
    """Append-only history of a list and its entries: proposed, notice, appeal, decision, published."""

    class Kind(models.TextChoices):
        PROPOSED = "proposed", _("拟定")
        NOTICE = "notice", _("开始公示")
        APPEAL = "appeal", _("申诉")
        DECISION = "decision", _("复核")
        PUBLISHED = "published", _("发布")
        WITHDRAWN = "withdrawn", _("撤销")

    plist = models.ForeignKey(PropertyList, on_delete=models.PROTECT, related_name="events")
    entry = models.ForeignKey(ListEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("操作人")
    )
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("榜单记录")
        verbose_name_plural = _("榜单记录")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.plist_id}: {self.kind} {self.from_status}→{self.to_status}"


class OrderEventDay(models.Model):
    """A daily roll-up of orders and their events (derived data, like a cache; never edited by hand).

    One row per local day, town, community, grid (none: orders filed without one) and department:
    the rating, reopen and bounce events of that day, as linli.reports.metrics counts them.
    Bounces sit under the department that returned the order,
    reopens under the department that resolved it last (none: a member or unit did); the other
    figures under no department. Rebuilt, a day at a time, only for finished days, by
    `manage.py rollup_order_events` (linli.reports.dashboard_rollup), which the sweep runs; the
    dashboards add the days after OrderEventDayMark.through from the base tables, so every figure
    equals the live computation. Events are written with the time of writing and never change, so a
    finished day's rows stay true.
    """

    day = models.DateField(_("日期"))
    town = models.ForeignKey(Town, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("orgs.Community", on_delete=models.CASCADE, related_name="+")
    grid = models.ForeignKey("orgs.Grid", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    department = models.ForeignKey("orgs.Department", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    satisfied = models.PositiveIntegerField(default=0)
    unsatisfied = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    bounced = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("工单日汇总")
        verbose_name_plural = _("工单日汇总")
        indexes = [
            # Town dashboards: a town's days in a period; the rebuild of a day.
            models.Index(fields=["town", "day"], name="ordereventday_town_idx"),
            # Community and grid dashboards.
            models.Index(fields=["community", "day"], name="ordereventday_community_idx"),
            models.Index(fields=["day"], name="ordereventday_day_idx"),
        ]

    def __str__(self):
        return f"{self.day} {self.community_id}/{self.grid_id}"


class OrderEventDayMark(models.Model):
    """How far OrderEventDay is built: every day up to `through` (inclusive). One row (pk 1)."""

    through = models.DateField(_("汇总至"))
    built_at = models.DateTimeField(_("汇总时间"))

    class Meta:
        verbose_name = _("工单日汇总进度")
        verbose_name_plural = _("工单日汇总进度")

    def __str__(self):
        return str(self.through)
