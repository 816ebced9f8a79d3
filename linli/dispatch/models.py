"""Auto-dispatch runs: a preview of who gets which order, then (once confirmed) what was applied.

A run is written by linli/dispatch/actions.py only. Its assignments are a record of the plan and
its outcome; orders themselves change only through linli.orders.actions.dispatch_order.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.orders.models import Order
from linli.orgs.models import Town
from linli.people.models import Member


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

    run = models.ForeignKey(DispatchRun, on_delete=models.CASCADE, related_name="assignments")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+", verbose_name=_("工单"))
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("党员")
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
