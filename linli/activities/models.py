"""Community activities (社区活动), their shifts (班次), members' sign-ups and the event history.

Statuses change only in linli/activities/actions.py, as compare-and-set against the literal
tables below, each change writing one ActivityEvent. Seats are a counter on the shift moved
by compare-and-set (`seats_taken < capacity`), so the last seat cannot be taken twice.
"""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from linli.orgs.models import Community
from linli.people.models import Member, Skill


class Kind(models.TextChoices):
    CLEANUP = "cleanup", _("环境整治")
    DUTY = "duty", _("值守")
    ELDERLY_VISIT = "elderly_visit", _("探访独居老人")
    POLICY = "policy", _("政策宣传")
    TUTORING = "tutoring", _("课业辅导")
    PATROL = "patrol", _("治安巡逻")
    CULTURE = "culture", _("文体活动")
    HEALTH = "health", _("义诊健康")
    OTHER = "other", _("其他")


# 服务类别 (民政部令第67号 art. 5, linli.people.models.ServiceType) each kind counts as.
KIND_SERVICE_TYPE = {
    Kind.CLEANUP: "environment",
    Kind.DUTY: "community",
    Kind.ELDERLY_VISIT: "elderly_disabled",
    Kind.POLICY: "community",
    Kind.TUTORING: "education",
    Kind.PATROL: "safety",
    Kind.CULTURE: "culture",
    Kind.HEALTH: "health",
    Kind.OTHER: "community",
}


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff and town admins see their communities' activities in every status; members see
        published and cancelled ones of communities they registered with, and any they signed up for."""
        s = user.scope
        if s.superuser:
            return self
        q = Q(community__town_id__in=s.town_ids) | Q(community_id__in=s.community_ids)
        if s.member_id:
            q |= Q(community_id__in=s.member_community_ids) & ~Q(status=Activity.Status.DRAFT)
            q |= Q(id__in=SignUp.objects.filter(member_id=s.member_id).values("shift__activity_id"))
        return self.filter(q)

    def managed_by(self, user):
        s = user.scope
        if s.superuser:
            return self
        return self.filter(Q(community__town_id__in=s.town_ids) | Q(community_id__in=s.community_ids))


class Activity(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        CANCELLED = "cancelled", _("已取消")

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="activities", verbose_name=_("社区")
    )
    kind = models.CharField(_("活动类型"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("活动名称"), max_length=100)
    description = models.TextField(_("活动内容"), blank=True)
    place = models.CharField(_("地点"), max_length=200)
    # 民政部令第67号 art. 7: the service record names the organiser and the person in charge.
    leader = models.CharField(_("负责人"), max_length=50)
    required_skill = models.ForeignKey(
        Skill, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("所需技能")
    )
    # 单位指派: members are sent by their unit; hours count as 下沉/报到 service, never as
    # volunteer service (志愿服务), which must be voluntary.
    unit_quota = models.BooleanField(_("单位指派"), default=False)
    signup_opens_at = models.DateTimeField(_("报名开始"))
    signup_closes_at = models.DateTimeField(_("报名截止"))
    cancel_hours = models.PositiveSmallIntegerField(_("开始前多少小时内不可取消"), default=24)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("创建人")
    )
    created_at = models.DateTimeField(_("创建时间"))
    updated_at = models.DateTimeField(_("更新时间"))
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("社区活动")
        verbose_name_plural = _("社区活动")
        constraints = [
            models.CheckConstraint(
                condition=Q(signup_closes_at__gt=F("signup_opens_at")), name="activity_signup_window"
            ),
            models.CheckConstraint(condition=Q(cancel_hours__lte=720), name="activity_cancel_hours_range"),
        ]
        indexes = [
            # The community's activity list and the members' open list (published, by community).
            models.Index(fields=["community", "status"], name="activity_community_idx"),
        ]

    def __str__(self):
        return self.title

    @property
    def service_type(self) -> str:
        return KIND_SERVICE_TYPE.get(self.kind, "community")


class Shift(models.Model):
    """One time slot of an activity, with its own capacity (每班人数)."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("活动"))
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    capacity = models.PositiveSmallIntegerField(_("人数上限"))
    # Seats held by live sign-ups; moved only by compare-and-set in the actions.
    seats_taken = models.PositiveSmallIntegerField(_("已报名"), default=0)
    note = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("班次")
        verbose_name_plural = _("班次")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start"),
            models.CheckConstraint(condition=Q(capacity__gte=1, capacity__lte=1000), name="shift_capacity_range"),
            models.CheckConstraint(condition=Q(seats_taken__lte=F("capacity")), name="shift_seats_within_capacity"),
        ]
        indexes = [
            # An activity's shifts in time order (detail page, roster).
            models.Index(fields=["activity", "starts_at"], name="shift_activity_idx"),
            # Reminders (shifts starting within a day) and the no-show sweep (shifts ended).
            models.Index(fields=["starts_at"], name="shift_starts_idx"),
            models.Index(fields=["ends_at"], name="shift_ends_idx"),
        ]

    def __str__(self):
        return f"{self.activity_id}:{self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def seats_left(self) -> int:
        return max(0, self.capacity - self.seats_taken)

    @property
    def length(self) -> dt.timedelta:
        return self.ends_at - self.starts_at

    @property
    def length_hours(self) -> Decimal:
        return hours_between(self.starts_at, self.ends_at)

    def cancel_deadline(self, activity: Activity | None = None) -> dt.datetime:
        activity = activity or self.activity
        return self.starts_at - dt.timedelta(hours=activity.cancel_hours)

    def overlaps(self, other: "Shift") -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at


def hours_between(start: dt.datetime, end: dt.datetime) -> Decimal:
    """Hours from start to end, rounded half up to one decimal; never negative."""
    seconds = max(0, int((end - start).total_seconds()))
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


class SignUp(models.Model):
    class Status(models.TextChoices):
        SIGNED_UP = "signed_up", _("已报名")
        CANCELLED = "cancelled", _("已取消")
        CHECKED_IN = "checked_in", _("已签到")
        COMPLETED = "completed", _("已完成")
        NO_SHOW = "no_show", _("缺席")

    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="signups", verbose_name=_("班次"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="signups", verbose_name=_("队员"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.SIGNED_UP)
    signed_up_at = models.DateTimeField(_("报名时间"))
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("签退时间"), null=True, blank=True)
    hours = models.DecimalField(_("服务时长"), max_digits=4, decimal_places=1, null=True, blank=True)
    reminded_at = models.DateTimeField(_("提醒时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("报名")
        verbose_name_plural = _("报名")
        constraints = [
            # One live sign-up per member and shift (a cancelled one may be followed by a new one).
            models.UniqueConstraint(
                fields=["shift", "member"], condition=~Q(status="cancelled"), name="signup_one_live_per_shift"
            ),
            models.CheckConstraint(condition=Q(hours__isnull=True) | Q(hours__gte=0), name="signup_hours_positive"),
        ]
        indexes = [
            # A member's shifts (my shifts, the calendar feed, the overlap check at sign-up).
            models.Index(fields=["member", "status"], name="signup_member_idx"),
            # A shift's roster; the no-show sweep and reminders (signed_up rows of ended/near shifts).
            models.Index(fields=["status", "shift"], name="signup_status_idx"),
            models.Index(fields=["shift", "status"], name="signup_shift_idx"),
        ]

    def __str__(self):
        return f"{self.member_id}@{self.shift_id}:{self.status}"


LIVE_SIGNUP_STATUSES = frozenset(
    {SignUp.Status.SIGNED_UP, SignUp.Status.CHECKED_IN, SignUp.Status.COMPLETED, SignUp.Status.NO_SHOW}
)

A, U = Activity.Status, SignUp.Status

# The literal transitions tables: status → statuses it may move to. Nothing else decides.
ACTIVITY_TRANSITIONS: dict[str, frozenset[str]] = {
    A.DRAFT: frozenset({A.PUBLISHED, A.CANCELLED}),
    A.PUBLISHED: frozenset({A.CANCELLED}),
    A.CANCELLED: frozenset(),
}
SIGNUP_TRANSITIONS: dict[str, frozenset[str]] = {
    U.SIGNED_UP: frozenset({U.CANCELLED, U.CHECKED_IN, U.COMPLETED, U.NO_SHOW}),  # completed: marked by hand
    U.CHECKED_IN: frozenset({U.COMPLETED}),  # signed out (scan) or marked present by hand
    U.COMPLETED: frozenset(),
    U.NO_SHOW: frozenset(),  # the deduction is in the ledger; a correction is a new ledger entry
    U.CANCELLED: frozenset(),
}


class ActivityEvent(models.Model):
    """Append-only history of activities and sign-ups: one row per change."""

    class Kind(models.TextChoices):
        CREATED = "created", _("创建活动")
        EDITED = "edited", _("修改活动")
        PUBLISHED = "published", _("发布活动")
        CANCELLED = "cancelled", _("取消活动")
        SHIFT_ADDED = "shift_added", _("新增班次")
        SHIFT_CHANGED = "shift_changed", _("修改班次")
        SHIFT_REMOVED = "shift_removed", _("删除班次")
        SIGNED_UP = "signed_up", _("报名")
        SIGNUP_CANCELLED = "signup_cancelled", _("取消报名")
        CHECKED_IN = "checked_in", _("扫码签到")
        CHECKED_OUT = "checked_out", _("扫码签退")
        MARKED_PRESENT = "marked_present", _("登记出勤")
        MARKED_ABSENT = "marked_absent", _("登记缺席")
        NO_SHOW = "no_show", _("未签到（缺席）")

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="events")
    shift = models.ForeignKey(Shift, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    signup = models.ForeignKey(SignUp, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("操作人")
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("活动记录")
        verbose_name_plural = _("活动记录")
        ordering = ["at", "id"]
        indexes = [
            # A sign-up's history (replay); an activity's history.
            models.Index(fields=["signup", "at"], name="activityevent_signup_idx"),
            models.Index(fields=["activity", "at"], name="activityevent_activity_idx"),
        ]

    def __str__(self):
        return f"{self.kind} {self.from_status}→{self.to_status}"


class CalendarFeed(models.Model):
    """A member's private iCalendar feed: whoever holds the URL reads the member's shifts."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("生成时间"))

    class Meta:
        verbose_name = _("日历订阅")
        verbose_name_plural = _("日历订阅")

    def __str__(self):
        return f"feed:{self.member_id}"
