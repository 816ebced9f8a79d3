"""Residents, members (下沉党员/志愿者) with their skills and resources, and registrations (报到).

Personal data (ID numbers, phones, care tags) is stored encrypted (linli.lib.fields) with a keyed
hash beside it for exact lookups; templates show it through the masking properties.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.lib import masking
from linli.lib.fields import EncryptedJSONField, EncryptedTextField
from linli.orgs.models import Community, Grid, Household, Unit


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class CareTag(models.TextChoices):
    """Groups who need care; stored encrypted on the resident."""

    ELDERLY_ALONE = "elderly_alone", _("独居老人")
    LEFT_BEHIND_CHILD = "left_behind_child", _("留守儿童")
    DISABLED = "disabled", _("残疾人")
    HARDSHIP = "hardship", _("困难家庭")
    DIBAO = "dibao", _("低保")
    BEREAVED = "bereaved", _("失独家庭")


class ResidentQuerySet(models.QuerySet):
    def visible_to(self, user):
        s = user.scope
        if s.superuser:
            return self
        q = (
            Q(household__building__grid__community__town_id__in=s.town_ids)
            | Q(household__building__grid__community_id__in=s.community_ids)
            | Q(household__building__grid_id__in=s.grid_ids)
        )
        if s.resident_id:
            q |= Q(id=s.resident_id)
        return self.filter(q)

    def current(self):
        return self.filter(moved_out=False)


class Resident(models.Model):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="residents", verbose_name=_("户"))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resident_profile",
        verbose_name=_("账号"),
    )
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    phone = EncryptedTextField(_("联系电话"), blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    id_number = EncryptedTextField(_("身份证号"), blank=True)
    # Keyed hash for exact lookup; unique so one person is not registered twice.
    id_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    tags = EncryptedJSONField(_("关爱标签"), default=list, blank=True)
    is_party_member = models.BooleanField(_("党员"), default=False)
    relation = models.CharField(_("与户主关系"), max_length=20, blank=True)
    moved_out = models.BooleanField(_("已迁出"), default=False)

    objects = ResidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")

    def __str__(self):
        return self.name

    @property
    def id_number_masked(self) -> str:
        return masking.mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return masking.mask_phone(self.phone)

    def tag_labels(self) -> list[str]:
        labels = dict(CareTag.choices)
        return [str(labels.get(tag, tag)) for tag in self.tags or []]


class Skill(models.Model):
    """A skill members declare (资源清单: 专业技能); categories may require one."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=50)

    class Meta:
        verbose_name = _("技能")
        verbose_name_plural = _("技能")
        ordering = ["code"]

    def __str__(self):
        return self.name


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    HK_MACAO = "hk_macao", _("港澳居民来往内地通行证")
    TAIWAN = "taiwan", _("台湾居民来往大陆通行证")
    PASSPORT = "passport", _("护照")
    FOREIGN_PR = "foreign_pr", _("外国人永久居留身份证")


class ServiceType(models.TextChoices):
    """服务类别 a member offers (民政部令第67号 art. 5)."""

    COMMUNITY = "community", _("社区服务")
    ELDERLY_DISABLED = "elderly_disabled", _("助老助残")
    POVERTY = "poverty", _("扶贫济困")
    EDUCATION = "education", _("教育辅导")
    HEALTH = "health", _("医疗卫生")
    LEGAL = "legal", _("法律服务")
    ENVIRONMENT = "environment", _("环境保护")
    CULTURE = "culture", _("文化体育")
    SAFETY = "safety", _("治安巡逻")
    EMERGENCY = "emergency", _("应急救援")


# Weekly availability: 14 half-day slots, bit i = day i//2 (Monday=0), morning if i is even.
ALL_SLOTS = (1 << 14) - 1


class MemberQuerySet(models.QuerySet):
    def visible_to(self, user):
        s = user.scope
        if s.superuser:
            return self
        managed = Q(community__town_id__in=s.town_ids) | Q(community_id__in=s.community_ids)
        registered = Registration.objects.filter(
            managed, member__isnull=False, status__in=Registration.LIVE_STATUSES
        ).values("member_id")
        in_grid_communities = Registration.objects.filter(
            community_id__in=s.grid_community_ids, status=Registration.Status.APPROVED, member__isnull=False
        ).values("member_id")
        q = (
            Q(id__in=registered)
            | Q(home_community__town_id__in=s.town_ids)
            | Q(home_community_id__in=s.community_ids)
            | Q(id__in=in_grid_communities)
            | Q(unit_id__in=s.unit_ids)
        )
        if s.member_id:
            q |= Q(id=s.member_id)
        return self.filter(q)


class Member(models.Model):
    """下沉党员 or volunteer, with the fields of 民政部令第67号 art. 5."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="member_profile",
        verbose_name=_("账号"),
    )
    # Public identifier; the ID number is never used as one.
    member_no = models.CharField(_("队员编号"), max_length=16, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"))
    id_type = models.CharField(_("证件类型"), max_length=16, choices=IdType.choices, default=IdType.RESIDENT_ID)
    id_number = EncryptedTextField(_("证件号码"))
    id_hash = models.CharField(max_length=64, unique=True)
    residence_area = models.CharField(_("居住区域"), max_length=200, blank=True)
    phone = EncryptedTextField(_("联系方式"))
    phone_hash = models.CharField(max_length=64, db_index=True)
    service_types = models.JSONField(_("服务类别"), default=list, blank=True)
    is_party_member = models.BooleanField(_("党员"), default=True)
    unit = models.ForeignKey(
        Unit, on_delete=models.SET_NULL, null=True, blank=True, related_name="members", verbose_name=_("单位")
    )
    home_community = models.ForeignKey(
        Community,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="home_members",
        verbose_name=_("居住地社区"),
    )
    home_grid = models.ForeignKey(
        Grid, on_delete=models.SET_NULL, null=True, blank=True, related_name="home_members", verbose_name=_("居住网格")
    )
    availability = models.PositiveIntegerField(_("每周可服务时段"), default=ALL_SLOTS)
    load_cap = models.PositiveSmallIntegerField(_("同时承接工单上限"), default=3)
    consent_contact_at = models.DateTimeField(_("同意联系时间"), null=True, blank=True)
    consent_report_at = models.DateTimeField(_("同意向单位反馈时间"), null=True, blank=True)
    joined_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("下沉党员/志愿者")
        verbose_name_plural = _("下沉党员/志愿者")
        constraints = [
            models.CheckConstraint(condition=Q(availability__lte=ALL_SLOTS), name="member_availability_14_slots"),
            models.CheckConstraint(condition=Q(load_cap__gte=1, load_cap__lte=20), name="member_load_cap_range"),
        ]

    def __str__(self):
        return f"{self.name}（{self.member_no}）"

    @property
    def id_number_masked(self) -> str:
        return masking.mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return masking.mask_phone(self.phone)

    def service_type_labels(self) -> list[str]:
        labels = dict(ServiceType.choices)
        return [str(labels.get(code, code)) for code in self.service_types or []]

    def availability_slots(self) -> list[bool]:
        return [bool(self.availability >> i & 1) for i in range(14)]


class MemberSkill(models.Model):
    class Level(models.IntegerChoices):
        BASIC = 1, _("了解")
        SKILLED = 2, _("熟练")
        EXPERT = 3, _("专业")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="member_skills", verbose_name=_("技能"))
    level = models.PositiveSmallIntegerField(_("水平"), choices=Level.choices, default=Level.SKILLED)

    class Meta:
        verbose_name = _("技能")
        verbose_name_plural = _("技能")
        constraints = [models.UniqueConstraint(fields=["member", "skill"], name="memberskill_unique")]

    def __str__(self):
        return f"{self.skill_id}:{self.level}"


class MemberResource(models.Model):
    """资源清单: what a member can bring (a vehicle, legal advice, medical care …)."""

    class Kind(models.TextChoices):
        VEHICLE = "vehicle", _("车辆")
        LEGAL = "legal", _("法律咨询")
        MEDICAL = "medical", _("医疗服务")
        VENUE = "venue", _("场地")
        FUNDS = "funds", _("资金/物资")
        TECH = "tech", _("技术支持")
        OTHER = "other", _("其他")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="resources")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    description = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("资源")
        verbose_name_plural = _("资源")

    def __str__(self):
        return self.get_kind_display()


class RegistrationQuerySet(models.QuerySet):
    def visible_to(self, user):
        s = user.scope
        if s.superuser:
            return self
        q = Q(community__town_id__in=s.town_ids) | Q(community_id__in=s.community_ids) | Q(unit_id__in=s.unit_ids)
        q |= Q(member__unit_id__in=s.unit_ids)
        if s.member_id:
            q |= Q(member_id=s.member_id)
        return self.filter(q)

    def active(self):
        return self.filter(status__in=Registration.LIVE_STATUSES)


class Registration(models.Model):
    """报到: a member or a unit registers with a community; the community decides."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("待审核")
        APPROVED = "approved", _("已通过")
        DECLINED = "declined", _("未通过")
        WITHDRAWN = "withdrawn", _("已撤回")

    # Asked for or approved: what gives a community's staff a view of the member.
    LIVE_STATUSES = (Status.REQUESTED, Status.APPROVED)

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="registrations", verbose_name=_("队员")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="registrations", verbose_name=_("单位")
    )
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="registrations", verbose_name=_("报到社区")
    )
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.REQUESTED)
    requested_at = models.DateTimeField(_("申请时间"))
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reason = models.CharField(_("说明"), max_length=200, blank=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("报到")
        verbose_name_plural = _("报到")
        constraints = [
            models.CheckConstraint(
                condition=Q(member__isnull=False, unit__isnull=True) | Q(member__isnull=True, unit__isnull=False),
                name="registration_member_xor_unit",
            ),
            # One live registration per member (or unit) and community.
            models.UniqueConstraint(
                fields=["member", "community"],
                condition=Q(status__in=["requested", "approved"], member__isnull=False),
                name="registration_one_live_per_member",
            ),
            models.UniqueConstraint(
                fields=["unit", "community"],
                condition=Q(status__in=["requested", "approved"], unit__isnull=False),
                name="registration_one_live_per_unit",
            ),
        ]
        indexes = [
            # Community queue of pending registrations; member scope (approved per member).
            models.Index(fields=["community", "status"], name="registration_queue_idx"),
            models.Index(fields=["member", "status"], name="registration_member_idx"),
        ]

    def __str__(self):
        who = self.member or self.unit
        return f"{who} → {self.community}"

    @property
    def registrant(self):
        return self.member or self.unit


# The literal transitions table: status → statuses it may move to.
REGISTRATION_TRANSITIONS: dict[str, frozenset[str]] = {
    Registration.Status.REQUESTED: frozenset(
        {Registration.Status.APPROVED, Registration.Status.DECLINED, Registration.Status.WITHDRAWN}
    ),
    Registration.Status.APPROVED: frozenset({Registration.Status.WITHDRAWN}),
    Registration.Status.DECLINED: frozenset(),
    Registration.Status.WITHDRAWN: frozenset(),
}


class RegistrationEvent(models.Model):
    """Append-only history of a registration."""

    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, verbose_name=_("操作人"))
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("报到记录")
        verbose_name_plural = _("报到记录")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.from_status}→{self.to_status}"


class PartyPosition(models.Model):
    """A position in the party tree (书记, 委员, 单元长, 党员中心户) held by a person."""

    class Title(models.TextChoices):
        SECRETARY = "secretary", _("书记")
        DEPUTY = "deputy", _("副书记")
        COMMITTEE_MEMBER = "committee_member", _("委员")
        GROUP_LEADER = "group_leader", _("党小组长")
        ENTRANCE_LEADER = "entrance_leader", _("单元长")
        CENTRAL_HOUSEHOLD = "central_household", _("党员中心户")

    party_org = models.ForeignKey(
        "orgs.PartyOrg", on_delete=models.CASCADE, related_name="positions", verbose_name=_("党组织")
    )
    title = models.CharField(_("职务"), max_length=20, choices=Title.choices)
    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="party_positions",
        verbose_name=_("居民"),
    )
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="party_positions", verbose_name=_("队员")
    )
    since = models.DateField(_("任职日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("党内职务")
        verbose_name_plural = _("党内职务")
        constraints = [
            models.CheckConstraint(
                condition=Q(resident__isnull=False) | Q(member__isnull=False), name="partyposition_has_holder"
            ),
        ]

    def __str__(self):
        return self.get_title_display()

    @property
    def holder(self):
        return self.resident or self.member
