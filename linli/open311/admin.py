"""Open311 in the admin: a category's extra questions are configuration (town admins edit them);
partner keys and partners' requests are read-only — keys change only through
linli/open311/actions.py (the keys page or `manage.py partner_key`)."""

from django.contrib import admin

from linli.lib.admin import TOWN_ONLY, InScope, ReadOnlyAdmin, ScopedAdmin
from linli.open311.models import PartnerKey, ServiceAttribute, ServiceAttributeValue, ServiceRequest


class ServiceAttributeValueInline(admin.TabularInline):
    model = ServiceAttributeValue
    extra = 1
    fields = ("key", "name")

    # The inline's rows belong to the question: whoever may edit the question edits its choices.
    def _parent(self):
        return self.admin_site.get_model_admin(self.parent_model)

    def has_view_permission(self, request, obj=None):
        return self._parent().has_view_permission(request, obj)

    def has_add_permission(self, request, obj):
        return self._parent().has_change_permission(request, obj) if obj else self._parent().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._parent().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._parent().has_change_permission(request, obj)


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(ScopedAdmin):
    list_display = ("category", "order", "code", "description", "datatype", "required", "variable")
    list_display_links = ("code",)
    list_filter = ("datatype", "required", ("category", InScope))
    list_select_related = ("category",)
    search_fields = ("code", "description", "category__name", "category__code")
    ordering = ("category__code", "order")
    inlines = (ServiceAttributeValueInline,)
    town_paths = ("category__town",)
    community_paths = ("category__town__communities",)
    add_roles = change_roles = delete_roles = TOWN_ONLY


@admin.register(PartnerKey)
class PartnerKeyAdmin(ReadOnlyAdmin):
    list_display = ("name", "prefix", "town", "community", "rate_limit_per_minute", "created_at", "revoked_at")
    list_filter = (("town", InScope),)
    list_select_related = ("town", "community")
    search_fields = ("name", "prefix")
    # The hash is useless to a reader and is the one thing that identifies a key: never shown.
    exclude = ("key_hash",)
    view_roles = TOWN_ONLY
    town_paths = ("town",)


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ReadOnlyAdmin):
    list_display = ("order", "key", "created_at")
    list_select_related = ("order", "key")
    # Personal data and identifiers the partner sent: shown on no admin page.
    exclude = ("email", "device_id", "account_id", "token")
    community_paths = ("order__community",)
