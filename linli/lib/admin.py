"""The admin site and the base classes every Linli ModelAdmin is built on.

Who enters (`LinliAdminSite.has_permission`): active superusers, town admins and community staff.
The roles decide, read from `user.scope` (linli.accounts.scopes); Django's `is_staff` flag and
model permissions are not used. Signing in happens on the product's own login page (lock-out,
audit), never on a second admin login form.

What they see (`ScopedAdmin`): every admin names the lookups from its model to a Community
(`community_paths`) and to a Town (`town_paths`). A town admin reaches rows through the town
paths, community staff through the community paths; anything else is a 404, in change lists,
change pages, delete pages, history pages and foreign-key choices alike.

What they change: configuration without a life cycle (towns, communities, grids, buildings …) is
edited here, each admin saying which role may add, change and delete (`add_roles` …). Objects
with statuses, ledgers and the audit table are read-only (`ReadOnlyAdmin`): their states change
only through actions. See docs/decisions/0001-admin-edits-configuration.md.

Audit: every add, change and delete made here is written to the audit table as well as to
Django's admin log. lib sits below accounts (import-linter), so the accounts app plugs its
writer into the site (`LinliAdminSite.change_recorder`, set in linli/accounts/admin.py).

Django imports this module while it loads INSTALLED_APPS (it holds the AppConfig that installs
the site), so it imports nothing that needs the app registry: no models, no auth forms.
"""

import operator
from functools import reduce
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import Q
from django.db.models.constants import LOOKUP_SEP
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

# The two roles that enter the admin, named by the part of the scope they come from: only a
# town_admin role assignment fills scope.town_ids, only a community_staff one scope.community_ids.
TOWN = "town"
COMMUNITY = "community"
ADMIN_ROLES = frozenset({TOWN, COMMUNITY})
TOWN_ONLY = frozenset({TOWN})
NOBODY = frozenset()  # superusers only


def admin_roles(user) -> frozenset[str]:
    """The admin roles `user` holds: a subset of {TOWN, COMMUNITY} (superusers need none)."""
    if not (user.is_authenticated and user.is_active):
        return NOBODY
    scope = user.scope
    return frozenset(role for role, ids in ((TOWN, scope.town_ids), (COMMUNITY, scope.community_ids)) if ids)


class LinliAdminSite(admin.AdminSite):
    site_header = _("邻里 · 管理后台")
    site_title = _("邻里管理后台")
    index_title = _("基础配置与台账")
    # Writes one audit row per admin change: callable(request, obj, verb, message). Set by
    # linli/accounts/admin.py, because this module may not import accounts.
    change_recorder = None

    def has_permission(self, request):
        user = request.user
        return user.is_active and (user.is_superuser or bool(admin_roles(user)))

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request, extra_context=None):
        """Send visitors to the product's login page; signed-in users without a role get 403."""
        if request.user.is_authenticated:
            if self.has_permission(request):
                return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
            raise PermissionDenied
        target = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index", current_app=self.name)
        return HttpResponseRedirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({REDIRECT_FIELD_NAME: target})}")

    def record_change(self, request, obj, verb: str, message) -> None:
        if self.change_recorder is None:
            raise ImproperlyConfigured("No audit writer is plugged into the admin site (see linli/accounts/admin.py).")
        self.change_recorder(request, obj, verb, message)


class LinliAdminConfig(AdminConfig):
    """Installs LinliAdminSite as `admin.site`; listed in INSTALLED_APPS instead of django.contrib.admin."""

    default_site = "linli.lib.admin.LinliAdminSite"


class AuditedAdminMixin:
    """Every add, change and delete made in the admin also lands in the audit table."""

    def log_addition(self, request, obj, message):
        self.admin_site.record_change(request, obj, "add", message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self.admin_site.record_change(request, obj, "change", message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        # Called before the rows go, so each still has its pk and name.
        for obj in queryset:
            self.admin_site.record_change(request, obj, "delete", [])
        return super().log_deletions(request, queryset)


class ScopedAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """A ModelAdmin that shows and edits only the rows within the user's scope.

    Subclasses set `community_paths` (lookups to a Community) and, when the model does not hang
    below a community, `town_paths` (lookups to a Town; by default each community path + "__town").
    `shared = True` marks rows every admin user may see (e.g. the skill catalogue).
    """

    community_paths: tuple[str, ...] = ()
    town_paths: tuple[str, ...] | None = None
    shared = False
    view_roles = ADMIN_ROLES
    add_roles = ADMIN_ROLES
    change_roles = ADMIN_ROLES
    delete_roles = ADMIN_ROLES
    # Counting a whole table twice per change-list page does not scale to a province.
    show_full_result_count = False

    # --- scope ------------------------------------------------------------------------------

    def get_town_paths(self) -> tuple[str, ...]:
        if self.town_paths is not None:
            return self.town_paths
        return tuple(f"{path}{LOOKUP_SEP}town" for path in self.community_paths)

    def scope_q(self, user, roles, *, editing: bool = False) -> Q | None:
        """Q for the rows `user` reaches through `roles`; None when it reaches none.

        `editing` is True when the rows are to be changed or deleted; an admin whose paths
        reach further for reading than for writing (UnitAdmin) narrows them then.
        """
        held = admin_roles(user) & roles
        if not held:
            return None
        if self.shared:
            return Q()
        scope = user.scope
        parts = []
        if TOWN in held:
            parts += [Q(**{f"{path}__in": scope.town_ids}) for path in self.get_town_paths()]
        if COMMUNITY in held:
            parts += [Q(**{f"{path}__in": scope.community_ids}) for path in self.community_paths]
        return reduce(operator.or_, parts) if parts else None

    @cached_property
    def _scope_is_multivalued(self) -> bool:
        """True when a path crosses a to-many relation, so a plain filter could repeat rows."""
        for path in (*self.community_paths, *self.get_town_paths()):
            model = self.model
            for name in path.split(LOOKUP_SEP):
                if name == "pk":
                    break
                field = model._meta.get_field(name)
                if field.many_to_many or field.one_to_many:
                    return True
                model = field.related_model
        return False

    def scoped(self, queryset, request, roles, *, editing: bool = False):
        """`queryset` narrowed to what the request's user reaches through `roles`."""
        if request.user.is_superuser:
            return queryset
        q = self.scope_q(request.user, roles, editing=editing)
        if q is None:
            return queryset.none()
        if self._scope_is_multivalued:
            return queryset.filter(pk__in=self.model._default_manager.filter(q).values("pk"))
        return queryset.filter(q)

    def reaches(self, request, obj, roles, *, editing: bool = False, fresh: bool = False) -> bool:
        """Whether the user reaches `obj` through `roles` (one query, cached per request)."""
        cache = request.__dict__.setdefault("_linli_admin_reach", {})
        key = (self.model._meta.label, obj.pk, roles, editing)
        if fresh or key not in cache:
            rows = self.scoped(self.model._default_manager.filter(pk=obj.pk), request, roles, editing=editing)
            cache[key] = rows.exists()
        return cache[key]

    def get_queryset(self, request):
        return self.scoped(super().get_queryset(request), request, self.view_roles)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Outside the user's scope (or gone): a 404, as everywhere else in Linli, rather than
            # the admin's redirect with a message.
            raise Http404
        return obj

    # --- permissions ------------------------------------------------------------------------

    def _may(self, request, roles, obj=None, *, editing: bool = False) -> bool:
        user = request.user
        if not user.is_active:
            return False
        if user.is_superuser:
            return True
        if not admin_roles(user) & roles:
            return False
        return obj is None or self.reaches(request, obj, roles, editing=editing)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._may(request, self.view_roles, obj)

    def has_add_permission(self, request):
        return self._may(request, self.add_roles)

    def has_change_permission(self, request, obj=None):
        return self._may(request, self.change_roles, obj, editing=True)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, self.delete_roles, obj, editing=True)

    # --- forms: choices within scope, and a last check before commit -------------------------

    @cached_property
    def _scope_fk_names(self) -> frozenset[str]:
        """Foreign keys on this model that the scope runs through (their first hop)."""
        names = set()
        for path in (*self.community_paths, *self.get_town_paths()):
            first = path.split(LOOKUP_SEP)[0]
            if first != "pk" and self.model._meta.get_field(first).many_to_one:
                names.add(first)
        return frozenset(names)

    def _choices(self, db_field, request):
        related = db_field.remote_field.model
        queryset = related._default_manager.all()
        if self.admin_site.is_registered(related):
            related_admin = self.admin_site.get_model_admin(related)
            if isinstance(related_admin, ScopedAdmin):
                return related_admin.scoped(queryset, request, self.add_roles | self.change_roles)
        return queryset.none()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            kwargs["queryset"] = self._choices(db_field, request)
            if db_field.name in self._scope_fk_names:
                # Left empty, the row would fall outside the editor's own scope.
                kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            kwargs["queryset"] = self._choices(db_field, request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        roles = self.change_roles if change else self.add_roles
        if not request.user.is_superuser and not self.reaches(request, obj, roles, editing=True, fresh=True):
            # The scoped choices make this unreachable through the form; should a path run
            # through something the form cannot limit, the admin's transaction rolls back.
            raise PermissionDenied

    def _check_deletable(self, request, objs) -> None:
        if request.user.is_superuser:
            return
        pks = {obj.pk for obj in objs}
        allowed = self.scoped(self.model._default_manager.filter(pk__in=pks), request, self.delete_roles, editing=True)
        if allowed.count() != len(pks):
            raise PermissionDenied

    def log_deletions(self, request, queryset):
        # "Delete selected" checks only the model-level permission: check each row before
        # anything is logged or deleted.
        self._check_deletable(request, queryset)
        return super().log_deletions(request, queryset)

    def delete_queryset(self, request, queryset):
        self._check_deletable(request, queryset)
        super().delete_queryset(request, queryset)


class ReadOnlyAdmin(ScopedAdmin):
    """Objects with a life cycle, ledgers and logs: viewed here, changed only by actions."""

    add_roles = change_roles = delete_roles = NOBODY

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown inside a parent the user may view; never edited here."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return self.admin_site.get_model_admin(self.parent_model).has_view_permission(request, obj)

    def has_add_permission(self, request, obj):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Filters listing only values found in the user's own rows, so the sidebar names no other
# community's grids or buildings.
InScope = admin.RelatedOnlyFieldListFilter
