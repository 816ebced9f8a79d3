"""Orders and their history.

`Order.status` changes only in linli/orders/actions.py through `_transition()`, as a
compare-and-set against TRANSITIONS below, writing one OrderEvent per change. Deadlines are
stored when an order is accepted; "overdue" is derived at query time (see OrderQuerySet).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.lib import masking
from linli.lib.fields import EncryptedTextField
from linli.orgs.models import Building, Category, Community, Department, Grid, Household, Town, Unit
from linli.people.models import Member, Resident, Skill


class Kind(models.TextChoices):
    NEED = "need", _("需求/求助")
    COMPLAINT = "complaint", _("投诉")
    SUGGESTION = "suggestion", _("建议")
    CONSULTATION = "consultation", _("咨询")
    MICRO_WISH = "micro_wish", _("微心愿")
    PROJECT = "project", _("社区项目")


class Channel(models.TextChoices):
    WEB = "web", _("居民自助")
    GRID_WORKER = "grid_worker", _("网格员代办")
    PHONE = "phone", _("电话")
    VISIT = "visit", _("来访")
    API = "api", _("接口")
    OPEN311 = "open311", _("Open311 合作方")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("待受理")
    ACCEPTED = "accepted", _("待派单")
    REJECTED = "rejected", _("不予受理")
    MERGED = "merged", _("已合并")
    CANCELLED = "cancelled", _("已撤销")
    DISPATCHED = "dispatched", _("已派单")
    POOLED = "pooled", _("待领单")
    CLAIMED = "claimed", _("已接单")
    IN_PROGRESS = "in_progress", _("办理中")
    ESCALATED = "escalated", _("已吹哨")
    ACKNOWLEDGED = "acknowledged", _("部门已报到")
    RESOLVED = "resolved", _("已办结")
    CLOSED = "closed", _("已关闭")


S = Status

# The literal transitions table: status → statuses it may move to. Nothing else decides.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.SUBMITTED: frozenset({S.ACCEPTED, S.REJECTED, S.MERGED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.DISPATCHED, S.POOLED, S.ESCALATED, S.MERGED, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.CLAIMED, S.ACCEPTED}),  # accepted by the member, or declined → queue
    S.POOLED: frozenset({S.CLAIMED, S.ACCEPTED}),  # claimed from the pool, or recalled by staff
    S.CLAIMED: frozenset({S.IN_PROGRESS, S.ACCEPTED}),  # started, or given back → queue
    S.IN_PROGRESS: frozenset({S.RESOLVED, S.ACCEPTED}),
    S.ESCALATED: frozenset({S.ACKNOWLEDGED, S.ACCEPTED}),  # 报到, or returned (a bounce)
    S.ACKNOWLEDGED: frozenset({S.RESOLVED, S.ACCEPTED}),  # resolved, or returned (a bounce)
    S.RESOLVED: frozenset({S.CLOSED, S.ACCEPTED}),  # rated/auto-closed, or 不满意 → reopened
    S.CLOSED: frozenset({S.ACCEPTED}),  # reopened after follow-up
    S.REJECTED: frozenset(),
    S.MERGED: frozenset(),
    S.CANCELLED: frozenset(),
}

OPEN_STATUSES = frozenset(
    {S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.POOLED, S.CLAIMED, S.IN_PROGRESS, S.ESCALATED, S.ACKNOWLEDGED}
)
# Orders that count against a member's load cap.
MEMBER_LOAD_STATUSES = frozenset({S.DISPATCHED, S.CLAIMED, S.IN_PROGRESS})
# "Responded" = the community acted: dispatched, pooled or escalated it (or rejected it).
RESPONDED_STATUSES = frozenset({S.DISPATCHED, S.POOLED, S.ESCALATED, S.REJECTED})


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class Holiday(models.Model):
    """A day off on a weekday, or a make-up working day (调休) on a weekend, for a town."""

    town = models.ForeignKey(Town, on_delete=models.CASCADE, related_name="holidays", verbose_name=_("街道/镇"))
    date = models.DateField(_("日期"))
    is_workday = models.BooleanField(_("调休上班"), default=False)
    name = models.CharField(_("名称"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("节假日")
        verbose_name_plural = _("节假日")
        constraints = [models.UniqueConstraint(fields=["town", "date"], name="holiday_unique_day")]

    def __str__(self):
        return f"{self.date} {self.name}"


class CategoryRule(models.Model):
    """How orders of a category are handled: deadlines in working time, needed skill, hour cap."""

    category = models.OneToOneField(
        Category, on_delete=models.CASCADE, primary_key=True, related_name="rule", verbose_name=_("类别")
    )
    respond_minutes = models.PositiveIntegerField(_("响应时限（工作分钟）"), default=120)
    resolve_days = models.PositiveIntegerField(_("办结时限（工作日）"), default=3)
    required_skill = models.ForeignKey(
        Skill, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("所需技能")
    )
    # Whether members without the skill may claim (configurable per category).
    skill_required_to_claim = models.BooleanField(_("须具备技能才能接单"), default=True)
    max_hours = models.DecimalField(_("单次服务时长上限（小时）"), max_digits=4, decimal_places=1, default=8)
    auto_close_days = models.PositiveIntegerField(_("未评价自动关闭（天）"), default=7)

    class Meta:
        verbose_name = _("类别规则")
        verbose_name_plural = _("类别规则")

    def __str__(self):
        return str(self.category_id)


class OrderQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Orders a user may see.

        Staff and town admins: their communities; grid workers: their grids; members: orders
        dispatched to them, in the pool of their communities, or ones they worked on; residents:
        their own; departments: escalated to them; property staff: property orders in their estates.
        """
        s = user.scope
        if s.superuser:
            return self
        # Only the clauses the user has, each on an indexed column (and the events as a subquery,
        # not a join), so the database can answer with an index per clause (PostgreSQL's BitmapOr,
        # SQLite's OR-by-union) instead of scanning every order.
        clauses = []
        if s.town_ids:
            clauses.append(Q(town_id__in=s.town_ids))
        if s.community_ids:
            clauses.append(Q(community_id__in=s.community_ids))
        if s.grid_ids:
            clauses.append(Q(grid_id__in=s.grid_ids))
        if s.member_id:
            clauses.append(Q(assignee_id=s.member_id))
            if s.member_community_ids:
                clauses.append(Q(status=S.POOLED, community_id__in=s.member_community_ids))
            clauses.append(Q(id__in=OrderEvent.objects.filter(member_id=s.member_id).values("order_id")))
        if s.member_unit_id:
            clauses.append(Q(status=S.DISPATCHED, assignee_unit_id=s.member_unit_id))
        if s.unit_ids:
            clauses.append(Q(assignee_unit_id__in=s.unit_ids))
        if s.department_ids:
            clauses.append(Q(department_id__in=s.department_ids))
        if s.company_ids:
            clauses.append(
                Q(
                    category_id__in=Category.objects.filter(is_property=True).values("id"),
                    household_id__in=Household.objects.filter(building__estate__company_id__in=s.company_ids).values(
                        "id"
                    ),
                )
            )
        if user.is_authenticated:
            clauses.append(Q(submitted_by=user))
        if s.resident_id:
            clauses.append(Q(resident_id=s.resident_id))
        if not clauses:
            return self.none()
        q = clauses[0]
        for clause in clauses[1:]:
            q |= clause
        return self.filter(q)

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def in_grid(self, grid):
        return self.filter(grid=grid)

    def overdue(self, now=None):
        """Open orders past their response or resolve deadline (derived, never stored)."""
        now = now or timezone.now()
        late_response = Q(status__in=[S.SUBMITTED, S.ACCEPTED], respond_by__lt=now)
        late_resolve = Q(status__in=OPEN_STATUSES, resolve_by__lt=now)
        return self.filter(late_response | late_resolve)

    def with_overdue_flag(self, now=None):
        now = now or timezone.now()
        return self.annotate(
            is_overdue=models.Case(
                models.When(Q(status__in=OPEN_STATUSES, resolve_by__lt=now), then=True),
                models.When(Q(status__in=[S.SUBMITTED, S.ACCEPTED], respond_by__lt=now), then=True),
                default=False,
                output_field=models.BooleanField(),
            )
        )


class Order(models.Model):
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="orders", verbose_name=_("街道/镇"))
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="orders", verbose_name=_("社区"))
    grid = models.ForeignKey(
        Grid, on_delete=models.PROTECT, null=True, blank=True, related_name="orders", verbose_name=_("网格")
    )
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, null=True, blank=True, related_name="orders", verbose_name=_("楼栋")
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="orders", verbose_name=_("户")
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lat = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    long = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.NEED)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="orders", verbose_name=_("类别")
    )
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("描述"), max_length=4000, blank=True)
    priority = models.PositiveSmallIntegerField(_("优先级"), default=3)  # 1 lowest … 5 urgent
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices, default=Channel.WEB)
    partner = models.CharField(_("合作方"), max_length=100, blank=True)

    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="submitted_orders",
        verbose_name=_("提交人"),
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, null=True, blank=True, related_name="orders", verbose_name=_("居民")
    )
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = EncryptedTextField(_("联系电话"), blank=True)
    anonymous = models.BooleanField(_("对党员匿名"), default=False)

    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    assignee = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="orders", verbose_name=_("承办党员")
    )
    assignee_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="orders", verbose_name=_("承办单位")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="orders", verbose_name=_("职能部门")
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_orders", verbose_name=_("合并至")
    )

    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    respond_by = models.DateTimeField(_("响应时限"), null=True, blank=True)
    responded_at = models.DateTimeField(_("响应时间"), null=True, blank=True)
    resolve_by = models.DateTimeField(_("办结时限"), null=True, blank=True)
    escalation_due = models.DateTimeField(_("部门办理时限"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    result_note = models.TextField(_("办理结果"), blank=True)
    reject_reason = models.CharField(_("不予受理原因"), max_length=200, blank=True)
    rating = models.CharField(_("评价"), max_length=12, choices=Rating.choices, blank=True)
    rating_comment = models.CharField(_("评价意见"), max_length=500, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(priority__gte=1, priority__lte=5), name="order_priority_1_5"),
        ]
        indexes = [
            # Dispatcher queue: a community's orders by status, newest first.
            models.Index(fields=["community", "status", "created_at"], name="order_queue_idx"),
            # Grid worker lists and duplicate hints (same category in the same grid/building).
            models.Index(fields=["grid", "status"], name="order_grid_idx"),
            models.Index(fields=["building", "category", "status"], name="order_dup_idx"),
            # A member's tasks and load count.
            models.Index(fields=["assignee", "status"], name="order_member_idx"),
            # Metrics per town and period.
            models.Index(fields=["town", "created_at"], name="order_town_period_idx"),
            models.Index(fields=["department", "status"], name="order_department_idx"),
            # Dashboards: a town's orders changed since a period's start (reports.dashboards.touched_since):
            # the one pass over its orders (OrderCells), today's events of those orders.
            models.Index(fields=["town", "updated_at"], name="order_town_updated_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now=None) -> bool:
        now = now or timezone.now()
        if self.status not in OPEN_STATUSES:
            return False
        if self.resolve_by and self.resolve_by < now:
            return True
        return bool(self.status in (S.SUBMITTED, S.ACCEPTED) and self.respond_by and self.respond_by < now)

    @property
    def contact_phone_masked(self) -> str:
        return masking.mask_phone(self.contact_phone)


class OrderEvent(models.Model):
    """Append-only: the history, the audit trail and the notification queue of an order."""

    class Kind(models.TextChoices):
        TRANSITION = "transition", _("状态变更")
        BOUNCE = "bounce", _("部门退回")
        REOPEN = "reopen", _("重新办理")
        OVERDUE = "overdue", _("超时提醒")
        FOLLOW_UP = "follow_up", _("回访")
        NOTE = "note", _("备注")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("操作人")
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.TRANSITION)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, blank=True)
    note = models.TextField(_("说明"), blank=True)
    # The member the event concerns (dispatched to, claimed by, resolved by).
    member = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True, related_name="order_events")
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="order_events"
    )
    data = models.JSONField(default=dict, blank=True)
    # Makes a sweep's event happen once (e.g. "overdue:resolve:<deadline>").
    dedupe_key = models.CharField(max_length=120, null=True, blank=True)

    class Meta:
        verbose_name = _("工单记录")
        verbose_name_plural = _("工单记录")
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["order", "dedupe_key"], name="orderevent_once")]
        indexes = [
            # Metrics: bounces and reopens per period; a member's history.
            models.Index(fields=["kind", "at"], name="orderevent_kind_idx"),
            models.Index(fields=["member", "kind"], name="orderevent_member_idx"),
            # Dashboards: the events of a period of the orders found by order_town_updated_idx.
            models.Index(fields=["order", "at"], name="orderevent_order_at_idx"),
            # Department league: a department's events in a period.
            models.Index(fields=["department", "at"], name="orderevent_department_at_idx"),
            # Dashboards on SQLite: a period's closes (with their rating) without every other transition.
            models.Index(fields=["kind", "to_status", "at"], name="orderevent_kind_status_idx"),
        ]

    def __str__(self):
        return f"{self.order_id}: {self.from_status}→{self.to_status}"


class OrderHours(models.Model):
    """Hours a member spent on an order, declared at resolution (capped by the category)."""

    event = models.ForeignKey(OrderEvent, on_delete=models.PROTECT, related_name="hours")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="hours")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="order_hours")
    hours = models.DecimalField(_("时长（小时）"), max_digits=4, decimal_places=1)

    class Meta:
        verbose_name = _("服务时长申报")
        verbose_name_plural = _("服务时长申报")
        constraints = [
            models.UniqueConstraint(fields=["event", "member"], name="orderhours_once_per_resolution"),
            models.CheckConstraint(condition=Q(hours__gt=0), name="orderhours_positive"),
        ]

    def __str__(self):
        return f"{self.member_id}: {self.hours}"


def photo_path(instance, filename):
    return f"orders/{instance.order_id}/{filename}"


class OrderPhoto(models.Model):
    class Stage(models.TextChoices):
        SUBMITTED = "submitted", _("提交时")
        RESULT = "result", _("办结时")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="photos")
    stage = models.CharField(max_length=12, choices=Stage.choices)
    image = models.FileField(upload_to=photo_path)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("照片")
        verbose_name_plural = _("照片")

    def __str__(self):
        return self.image.name


class FollowUp(models.Model):
    """回访: a grid worker calls back after an order is closed and records the outcome."""

    class Outcome(models.TextChoices):
        SATISFIED = "satisfied", _("群众满意")
        UNSATISFIED = "unsatisfied", _("群众不满意")
        UNREACHABLE = "unreachable", _("未联系上")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="follow_ups")
    event = models.OneToOneField(OrderEvent, on_delete=models.PROTECT, related_name="follow_up")
    outcome = models.CharField(_("回访结果"), max_length=12, choices=Outcome.choices)
    note = models.CharField(_("说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("回访")
        verbose_name_plural = _("回访")

    def __str__(self):
        return self.get_outcome_display()


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key for an order POST: same key → same order; other body → 422."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=100)
    body_hash = models.CharField(max_length=64)
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique")]

    def __str__(self):
        return self.key
