"""Accounts in the admin: users and their roles (superusers only), the audit table and the
notification inboxes (read-only, superusers only).

This module also plugs the audit writer into the admin site, so that every change made in any
admin lands in the audit table (see linli.lib.admin).
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from linli.accounts.actions import record_audit
from linli.accounts.models import ROLE_SCOPE_FIELD, AuditEntry, Notification, Role, RoleAssignment, User
from linli.lib.admin import NOBODY, AuditedAdminMixin, ReadOnlyAdmin


def record_admin_change(request, obj, verb: str, message) -> None:
    """One audit row per admin add, change or delete: which object, which fields, never values."""
    record_audit(
        request.user,
        AuditEntry.Action.ADMIN_CHANGE,
        obj=obj,
        request=request,
        detail={"verb": verb, "changes": message, "object": str(obj)[:100]},
    )


# linli.lib cannot import accounts (the layers run one way), so accounts hands the site its writer.
admin.site.change_recorder = record_admin_change

# Roles are RoleAssignment rows; Django's groups and model permissions are not used anywhere.
admin.site.unregister(Group)


class RoleAssignmentForm(forms.ModelForm):
    class Meta:
        model = RoleAssignment
        fields = ("user", "role", "town", "community", "grid", "unit", "department", "company")

    def clean(self):
        """Exactly the scope column the role needs, named in the message (the table's constraint)."""
        data = super().clean()
        role = data.get("role")
        if role:
            needed = ROLE_SCOPE_FIELD[role]
            for name in ("town", "community", "grid", "unit", "department", "company"):
                if name == needed and not data.get(name):
                    self.add_error(name, _("角色“%(role)s”需要填写此项。") % {"role": Role(role).label})
                elif name != needed and data.get(name):
                    self.add_error(name, _("角色“%(role)s”不使用此项。") % {"role": Role(role).label})
        return data


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    form = RoleAssignmentForm
    extra = 0
    fields = ("role", "town", "community", "grid", "unit", "department", "company")


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    """Superusers only (Django's model permissions, which no other user holds)."""

    list_display = ("username", "name", "role_list", "is_active", "is_superuser", "last_login")
    list_filter = ("is_active", "is_superuser", "role_assignments__role")
    search_fields = ("username", "name", "email")
    ordering = ("username",)
    inlines = (RoleAssignmentInline,)
    # is_staff, groups and permissions play no part: roles decide who enters the admin.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("name", "email")}),
        (_("状态"), {"fields": ("is_active", "is_superuser", "last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "name", "password1", "password2")}),)
    readonly_fields = ("last_login", "date_joined")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("role_assignments")

    @admin.display(description=_("角色"))
    def role_list(self, user):
        return "、".join(sorted({a.get_role_display() for a in user.role_assignments.all()}))


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = RoleAssignmentForm
    list_display = ("user", "role", "scope_object")
    list_filter = ("role",)
    search_fields = ("user__username", "user__name")
    list_select_related = ("user", "town", "community", "grid", "unit", "department", "company")
    autocomplete_fields = ("user",)

    @admin.display(description=_("范围"))
    def scope_object(self, assignment):
        return assignment.scope_object or "—"


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    view_roles = NOBODY
    list_display = ("at", "username", "action", "object_type", "object_id", "ip")
    list_filter = ("action", "object_type")
    search_fields = ("username", "object_id")
    date_hierarchy = "at"
    fields = ("at", "actor", "username", "action", "object_type", "object_id", "detail", "ip")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    view_roles = NOBODY
    list_display = ("created_at", "user", "title", "read_at")
    list_filter = (("read_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "title", "dedupe_key")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    fields = ("created_at", "user", "title", "body", "url", "dedupe_key", "read_at")
