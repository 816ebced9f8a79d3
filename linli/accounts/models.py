"""Users, their roles with scopes, the audit table and the in-app notification inbox."""

from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    TOWN_ADMIN = "town_admin", _("街道/镇管理员")
    COMMUNITY_STAFF = "community_staff", _("社区工作人员")
    GRID_WORKER = "grid_worker", _("网格员")
    MEMBER = "member", _("下沉党员/志愿者")
    UNIT_ADMIN = "unit_admin", _("单位管理员")
    DEPARTMENT_STAFF = "department_staff", _("职能部门")
    PROPERTY_STAFF = "property_staff", _("物业")
    RESIDENT = "resident", _("居民")


# Which scope column each role uses; member and resident are scoped through their profile.
ROLE_SCOPE_FIELD = {
    Role.TOWN_ADMIN: "town",
    Role.COMMUNITY_STAFF: "community",
    Role.GRID_WORKER: "grid",
    Role.UNIT_ADMIN: "unit",
    Role.DEPARTMENT_STAFF: "department",
    Role.PROPERTY_STAFF: "company",
    Role.MEMBER: None,
    Role.RESIDENT: None,
}
_SCOPE_FIELDS = ("town", "community", "grid", "unit", "department", "company")


class User(AbstractUser):
    """A person who logs in. Their roles and scopes are RoleAssignment rows."""

    name = models.CharField(_("姓名"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self):
        return self.name or self.username

    @cached_property
    def scope(self):
        """What this user may see, computed once per request (see linli.accounts.scopes)."""
        from linli.accounts.scopes import build_scope

        return build_scope(self)

    @cached_property
    def roles(self) -> frozenset[str]:
        return frozenset(self.role_assignments.values_list("role", flat=True))

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments", verbose_name=_("用户"))
    role = models.CharField(_("角色"), max_length=24, choices=Role.choices)
    town = models.ForeignKey("orgs.Town", on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("街道/镇"))
    community = models.ForeignKey(
        "orgs.Community", on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("社区")
    )
    grid = models.ForeignKey("orgs.Grid", on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("网格"))
    unit = models.ForeignKey("orgs.Unit", on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("单位"))
    department = models.ForeignKey(
        "orgs.Department", on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("职能部门")
    )
    company = models.ForeignKey(
        "orgs.PropertyCompany", on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("物业公司")
    )

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        constraints = [
            # Exactly the scope column the role needs is set, and no other.
            models.CheckConstraint(
                condition=Q(
                    *[
                        Q(role=role) & Q(**{f"{f}__isnull": f != field for f in _SCOPE_FIELDS})
                        for role, field in ROLE_SCOPE_FIELD.items()
                    ],
                    _connector=Q.OR,
                ),
                name="roleassignment_scope_matches_role",
            ),
        ]
        indexes = [
            # Grid sizing counts grid workers per grid.
            models.Index(fields=["grid", "role"], name="role_grid_idx"),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()}"

    @property
    def scope_object(self):
        field = ROLE_SCOPE_FIELD.get(self.role)
        return getattr(self, field) if field else None


class AuditEntry(models.Model):
    """Append-only audit trail: logins, PII reveals, exports, admin changes, reports sent.

    Never holds a raw ID number or phone: details name objects by id.
    """

    class Action(models.TextChoices):
        LOGIN = "login", _("登录")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOGOUT = "logout", _("退出")
        PII_VIEW = "pii_view", _("查看个人信息")
        EXPORT = "export", _("导出")
        IMPORT = "import", _("导入")
        ADMIN_CHANGE = "admin_change", _("后台修改")
        REPORT_SENT = "report_sent", _("发送报告")

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("操作人"))
    # Kept apart from actor so failed logins of unknown names are recorded too.
    username = models.CharField(_("用户名"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=24, choices=Action.choices)
    object_type = models.CharField(_("对象类型"), max_length=50, blank=True)
    object_id = models.CharField(_("对象"), max_length=50, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        indexes = [
            # Login lock-out counts recent failures per username.
            models.Index(fields=["username", "action", "at"], name="audit_login_idx"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action}"


class Notification(models.Model):
    """An in-app message in a user's inbox. Delivery by SMS goes through linli.lib.sms."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("接收人"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=200, blank=True)
    # Identifies the cause (e.g. "registration:12:approved") so a retried task never sends twice.
    dedupe_key = models.CharField(max_length=120)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_once")]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_inbox_idx")]

    def __str__(self):
        return self.title
