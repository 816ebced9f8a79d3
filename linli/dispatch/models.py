"""Auto-dispatch runs (a preview of who gets which order, then what was applied) and each town's
score weights.

A run is written by linli/dispatch/actions.py only. Its assignments are a record of the plan and
its outcome; orders themselves change only through linli.orders.actions.dispatch_order.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.orders.models import Order
from linli.orgs.models import Grid, Town
from linli.people.models import Member
from matching import Weights


class DispatchRunQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Runs whose scope the user may run dispatch for (DispatchScope.allowed_for as a filter):
        a town admin, the town's runs; community staff, their communities' runs and their grids'."""
        s = user.scope
        if s.superuser:
            return self
        grids = Grid.objects.filter(community_id__in=s.community_ids).values("id")
        return self.filter(
            Q(town_id__in=s.town_ids)
            | Q(scope_kind="community", scope_id__in=s.community_ids)
            | Q(scope_kind="grid", scope_id__in=grids)
        )


class DispatchRun(models.Model):
    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("待确认")
        CONFIRMED = "confirmed", _("已派单")
        DISCARDED = "discarded", _("已放弃")

    class ScopeKind(models.TextChoices):
        GRID = "grid", _("网格")
        COMMUNITY = "community", _("社区")
        TOWN = "town", _("街道/镇")

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="dispatch_runs", verbose_name=_("街道/镇"))
    scope_kind = models.CharField(_("范围类型"), max_length=12, choices=ScopeKind.choices)
    scope_id = models.PositiveIntegerField(_("范围"))
    scope_label = models.CharField(_("范围名称"), max_length=120, blank=True)
    parameters = models.JSONField(_("参数"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("发起人")
    )
    created_at = models.DateTimeField(_("发起时间"), default=timezone.now)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PREVIEWED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("确认人"),
    )
    decided_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    n_orders = models.PositiveIntegerField(_("待派工单"), default=0)
    n_members = models.PositiveIntegerField(_("候选党员"), default=0)
    n_assigned = models.PositiveIntegerField(_("拟派"), default=0)
    n_applied = models.PositiveIntegerField(_("已派"), default=0)
    total_score = models.IntegerField(_("总分"), default=0)
    exact = models.BooleanField(_("最优解"), default=True)
    gap = models.FloatField(_("最优性差距"), null=True, blank=True)

    objects = DispatchRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("智能派单")
        verbose_name_plural = _("智能派单")
        indexes = [
            # The runs page of a town / community: newest first.
            models.Index(fields=["town", "-created_at"], name="dispatchrun_town_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.scope_label}"


class DispatchAssignment(models.Model):
    """One order of a run: the member proposed (none: unassigned, with the reason), and whether
    the confirmed dispatch was applied (and why not)."""

    # Plans are read by run only (the run page, the API, confirm): the unique (run, order) index
    # serves that, and no other index is kept — each costs a B-tree insert per row of a plan.
    # No database-level foreign keys at all (decision 0007): a plan of a province holds 100,000
    # rows, and PostgreSQL checks each such key at commit by locking the row it points to
    # (SELECT … FOR KEY SHARE) — the order and member keys took 5 of the 9 seconds of writing
    # one, the run's key alone 0.35 s of the remaining 1.1. A run and its rows are written in one
    # transaction by record_plan and deleted only through the ORM, which cascades; orders and
    # members are never deleted (they are PROTECTed by their events and ledgers), the ids come
    # from the snapshot the plan was computed on, and confirm_dispatch re-reads every order
    # anyway. The ORM still applies on_delete.
    run = models.ForeignKey(
        DispatchRun, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="assignments"
    )
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+", verbose_name=_("工单")
    )
    member = models.ForeignKey(
        Member,
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("党员"),
    )
    score = models.IntegerField(_("匹配分"), null=True, blank=True)
    reasons = models.JSONField(_("理由"), default=list, blank=True)
    applied = models.BooleanField(_("已派单"), default=False)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("派单建议")
        verbose_name_plural = _("派单建议")
        constraints = [models.UniqueConstraint(fields=["run", "order"], name="dispatchassignment_unique_order")]

    def __str__(self):
        return f"{self.run_id}:{self.order_id}→{self.member_id}"


_DEFAULT = Weights()
_POINTS = [MinValueValidator(0), MaxValueValidator(1000)]


class DispatchWeights(models.Model):
    """How a town's dispatch scores a member for an order (matching.Weights). Missing row = the
    engine's defaults. Configuration: town admins edit it in the admin (decision 0001)."""

    town = models.OneToOneField(
        Town, on_delete=models.CASCADE, primary_key=True, related_name="dispatch_weights", verbose_name=_("街道/镇")
    )
    priority = models.PositiveSmallIntegerField(
        _("紧急程度（每级）"), default=_DEFAULT.priority, validators=_POINTS, help_text=_("工单优先级 1–5，每级加分")
    )
    skill_level = models.PositiveSmallIntegerField(
        _("技能水平（每级）"),
        default=_DEFAULT.skill_level,
        validators=_POINTS,
        help_text=_("了解 1 级、熟练 2 级、专业 3 级，每级加分"),
    )
    same_grid = models.PositiveSmallIntegerField(_("同网格"), default=_DEFAULT.same_grid, validators=_POINTS)
    same_community = models.PositiveSmallIntegerField(_("同社区"), default=_DEFAULT.same_community, validators=_POINTS)
    paired_community = models.PositiveSmallIntegerField(
        _("结对社区"), default=_DEFAULT.paired_community, validators=_POINTS
    )
    fairness = models.PositiveSmallIntegerField(
        _("服务时长均衡"),
        default=_DEFAULT.fairness,
        validators=_POINTS,
        help_text=_("今年尚未服务的党员得满分，服务满年度目标时长的得 0 分"),
    )
    annual_hours_target = models.PositiveSmallIntegerField(
        _("年度服务时长目标（小时）"),
        default=_DEFAULT.annual_hours_target,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
    )
    good_rating = models.PositiveSmallIntegerField(
        _("近期评价"), default=_DEFAULT.good_rating, validators=_POINTS, help_text=_("近期平均评价 5 分得满分")
    )
    good_rating_threshold = models.DecimalField(
        _("“评价好”门槛"),
        max_digits=2,
        decimal_places=1,
        default=Decimal(str(_DEFAULT.good_rating_threshold)),
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    load_penalty = models.PositiveSmallIntegerField(
        _("在办工单（每单扣分）"), default=_DEFAULT.load_penalty, validators=_POINTS
    )

    class Meta:
        verbose_name = _("派单权重")
        verbose_name_plural = _("派单权重")
        constraints = [
            # The engine's own rule (matching.Weights): closer is never worth less.
            models.CheckConstraint(
                condition=Q(same_grid__gte=models.F("same_community"))
                & Q(same_community__gte=models.F("paired_community")),
                name="dispatchweights_closeness_order",
            ),
            models.CheckConstraint(condition=Q(annual_hours_target__gte=1), name="dispatchweights_hours_target"),
        ]

    def __str__(self):
        return str(self.town_id)

    def clean(self):
        if None in (self.same_grid, self.same_community, self.paired_community):
            return
        if not self.same_grid >= self.same_community >= self.paired_community:
            raise ValidationError(_("须满足：同网格 ≥ 同社区 ≥ 结对社区"))

    def as_weights(self) -> Weights:
        return Weights(
            priority=self.priority,
            skill_level=self.skill_level,
            same_grid=self.same_grid,
            same_community=self.same_community,
            paired_community=self.paired_community,
            fairness=self.fairness,
            annual_hours_target=self.annual_hours_target,
            good_rating=self.good_rating,
            good_rating_threshold=float(self.good_rating_threshold),
            load_penalty=self.load_penalty,
        )


class DispatchRunEvent(models.Model):
    """One step of a run's life (planned → confirmed / discarded): append-only, written by
    linli/dispatch/actions.py in the same transaction as the step."""

    class Kind(models.TextChoices):
        PLANNED = "planned", _("生成方案")
        CONFIRMED = "confirmed", _("确认派单")
        DISCARDED = "discarded", _("放弃")

    run = models.ForeignKey(DispatchRun, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("智能派单记录")
        verbose_name_plural = _("智能派单记录")
        ordering = ["run", "at", "pk"]

    def __str__(self):
        return f"{self.run_id}:{self.kind}"
