"""The administrative tree (town → community → grid → building → household), the party
organisation tree beside it, and the other organisations that take part: units, departments,
property companies and the estates they serve.

Visibility: every QuerySet here has `visible_to(user)`, which reads `user.scope` (built by
linli.accounts.scopes) without importing accounts, so the layers stay one-way.
"""

import math

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def _scope(user):
    return user.scope


class Town(models.Model):
    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    # Grid sizing rule (seed 000): one grid worker per N households or per M people.
    households_per_grid_worker = models.PositiveIntegerField(_("每名网格员户数上限"), default=400)
    people_per_grid_worker = models.PositiveIntegerField(_("每名网格员人数上限"), default=1200)

    class Meta:
        verbose_name = _("街道/镇")
        verbose_name_plural = _("街道/镇")

    def __str__(self):
        return self.name


class CommunityQuerySet(models.QuerySet):
    def visible_to(self, user):
        s = _scope(user)
        if s.superuser:
            return self
        q = (
            Q(town_id__in=s.town_ids)
            | Q(id__in=s.community_ids)
            | Q(id__in=s.grid_community_ids)
            | Q(id__in=s.member_community_ids)
        )
        # Residents are not here: the community page is a working view (grid workers, party
        # positions); a resident's orders find their community through their household.
        return self.filter(q)

    def staffed_by(self, user):
        """Communities where the user may manage (town admin or community staff)."""
        s = _scope(user)
        if s.superuser:
            return self
        return self.filter(Q(town_id__in=s.town_ids) | Q(id__in=s.community_ids))


class Community(models.Model):
    class Kind(models.TextChoices):
        URBAN = "urban", _("城市社区")
        RURAL = "rural", _("农村社区/村")

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="communities", verbose_name=_("街道/镇"))
    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices, default=Kind.URBAN)

    objects = CommunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("社区/村")
        verbose_name_plural = _("社区/村")
        ordering = ["code"]

    def __str__(self):
        return self.name


class GridQuerySet(models.QuerySet):
    def visible_to(self, user):
        s = _scope(user)
        if s.superuser:
            return self
        return self.filter(
            Q(community__town_id__in=s.town_ids) | Q(community_id__in=s.community_ids) | Q(id__in=s.grid_ids)
        )


class Grid(models.Model):
    class Kind(models.TextChoices):
        COMPREHENSIVE = "comprehensive", _("综合网格")
        DEDICATED = "dedicated", _("专属网格")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="grids", verbose_name=_("社区"))
    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.COMPREHENSIVE)
    # GeoJSON polygon (WGS84), optional: most communities draw grids on paper.
    boundary = models.JSONField(_("边界"), null=True, blank=True)

    objects = GridQuerySet.as_manager()

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["code"]

    def __str__(self):
        return self.name


class GridSizing:
    """How a grid measures against its town's rule (one worker per N households or M people)."""

    def __init__(self, grid, town):
        self.grid = grid
        self.households = grid.n_households
        self.people = grid.n_people
        self.workers = grid.n_workers
        self.households_per_worker = town.households_per_grid_worker
        self.people_per_worker = town.people_per_grid_worker
        self.needed = max(
            math.ceil(self.households / self.households_per_worker) if self.households else 0,
            math.ceil(self.people / self.people_per_worker) if self.people else 0,
            1 if (self.households or self.people) else 0,
        )
        capacity_h = self.workers * self.households_per_worker
        capacity_p = self.workers * self.people_per_worker
        self.excess_households = max(0, self.households - capacity_h)
        self.excess_people = max(0, self.people - capacity_p)
        self.short_workers = max(0, self.needed - self.workers)
        self.breaks_rule = self.short_workers > 0


class Estate(models.Model):
    """小区: a residential estate, usually served by one property company."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="estates", verbose_name=_("社区"))
    name = models.CharField(_("名称"), max_length=100)
    company = models.ForeignKey(
        "PropertyCompany",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="estates",
        verbose_name=_("物业公司"),
    )

    class Meta:
        verbose_name = _("小区")
        verbose_name_plural = _("小区")

    def __str__(self):
        return self.name


class Building(models.Model):
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("网格"))
    estate = models.ForeignKey(
        Estate, on_delete=models.SET_NULL, null=True, blank=True, related_name="buildings", verbose_name=_("小区")
    )
    name = models.CharField(_("楼栋"), max_length=100)
    address = models.CharField(_("地址"), max_length=200)

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        constraints = [models.UniqueConstraint(fields=["grid", "name"], name="building_unique_name_in_grid")]

    def __str__(self):
        return self.name


class HouseholdQuerySet(models.QuerySet):
    def visible_to(self, user):
        s = _scope(user)
        if s.superuser:
            return self
        q = (
            Q(building__grid__community__town_id__in=s.town_ids)
            | Q(building__grid__community_id__in=s.community_ids)
            | Q(building__grid_id__in=s.grid_ids)
        )
        if s.resident_household_id:
            q |= Q(id=s.resident_household_id)
        return self.filter(q)


class Household(models.Model):
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="households", verbose_name=_("楼栋"))
    entrance = models.CharField(_("单元"), max_length=20, blank=True)
    door = models.CharField(_("门牌号"), max_length=20)
    address = models.CharField(_("地址"), max_length=200)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")
        constraints = [
            models.UniqueConstraint(fields=["building", "entrance", "door"], name="household_unique_door"),
        ]

    def __str__(self):
        return self.address


class PartyOrg(models.Model):
    """社区党委 → 网格党支部 → 楼栋党小组."""

    class Kind(models.TextChoices):
        COMMITTEE = "committee", _("社区党委")
        BRANCH = "branch", _("网格党支部")
        GROUP = "group", _("楼栋党小组")

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="party_orgs", verbose_name=_("社区")
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("上级组织")
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100)
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("网格"))
    building = models.ForeignKey(Building, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("楼栋"))

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="committee", parent__isnull=True) | (~Q(kind="committee") & Q(parent__isnull=False)),
                name="partyorg_only_committee_is_root",
            ),
        ]

    def __str__(self):
        return self.name


class Category(models.Model):
    """An order category (e.g. 水电维修, 环境卫生), configured per town.

    The orders issue adds deadlines and required skills; departments and property companies
    refer to categories to say what they handle.
    """

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="categories", verbose_name=_("街道/镇"))
    code = models.CharField(_("编码"), max_length=32)
    name = models.CharField(_("名称"), max_length=100)
    group = models.CharField(_("分组"), max_length=50, blank=True)
    is_property = models.BooleanField(_("物业类"), default=False)

    class Meta:
        verbose_name = _("工单类别")
        verbose_name_plural = _("工单类别")
        constraints = [models.UniqueConstraint(fields=["town", "code"], name="category_unique_code_in_town")]
        ordering = ["code"]

    def __str__(self):
        return self.name


class UnitQuerySet(models.QuerySet):
    def visible_to(self, user):
        s = _scope(user)
        if s.superuser:
            return self
        return self.filter(
            Q(id__in=s.unit_ids)
            | Q(town_id__in=s.town_ids)
            | Q(pairings__community_id__in=s.community_ids)
            | Q(id=s.member_unit_id)
        ).distinct()


class Unit(models.Model):
    """机关企事业单位 whose members register with communities (报到单位/包保单位)."""

    class Kind(models.TextChoices):
        ORGAN = "organ", _("机关")
        INSTITUTION = "institution", _("事业单位")
        ENTERPRISE = "enterprise", _("企业")
        SOCIAL = "social", _("社会组织")

    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, null=True, blank=True, related_name="units", verbose_name=_("所在街道/镇")
    )
    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.ORGAN)
    party_branch = models.CharField(_("党组织名称"), max_length=100, blank=True)
    communities = models.ManyToManyField(
        Community, through="Pairing", related_name="paired_units", verbose_name=_("包保社区")
    )

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Pairing(models.Model):
    """包保: a unit paired with a community."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="pairings")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="pairings")
    since = models.DateField(_("起始日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("包保关系")
        verbose_name_plural = _("包保关系")
        constraints = [models.UniqueConstraint(fields=["unit", "community"], name="pairing_unique")]

    def __str__(self):
        return f"{self.unit_id}→{self.community_id}"


class Department(models.Model):
    """职能部门 that receive escalated orders (吹哨报到)."""

    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="departments", verbose_name=_("街道/镇"))
    name = models.CharField(_("名称"), max_length=100)
    categories = models.ManyToManyField(Category, blank=True, related_name="departments", verbose_name=_("负责类别"))

    class Meta:
        verbose_name = _("职能部门")
        verbose_name_plural = _("职能部门")
        constraints = [models.UniqueConstraint(fields=["town", "name"], name="department_unique_name")]

    def __str__(self):
        return self.name


class PropertyCompany(models.Model):
    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, related_name="property_companies", verbose_name=_("街道/镇")
    )
    name = models.CharField(_("名称"), max_length=100)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)

    class Meta:
        verbose_name = _("物业公司")
        verbose_name_plural = _("物业公司")

    def __str__(self):
        return self.name
