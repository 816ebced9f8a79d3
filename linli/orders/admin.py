"""Orders in the admin: category rules and holidays are configuration (town admins edit them);
orders and their history are read-only — they change only through linli/orders/actions.py."""

from django.contrib import admin

from linli.lib.admin import TOWN_ONLY, InScope, ReadOnlyAdmin, ReadOnlyInline, ScopedAdmin
from linli.orders.models import CategoryRule, FollowUp, Holiday, Order, OrderEvent, OrderHours


@admin.register(CategoryRule)
class CategoryRuleAdmin(ScopedAdmin):
    list_display = (
        "category",
        "respond_minutes",
        "resolve_days",
        "required_skill",
        "skill_required_to_claim",
        "max_hours",
        "auto_close_days",
    )
    list_select_related = ("category", "required_skill")
    search_fields = ("category__name", "category__code")
    town_paths = ("category__town",)
    community_paths = ("category__town__communities",)
    add_roles = change_roles = delete_roles = TOWN_ONLY


@admin.register(Holiday)
class HolidayAdmin(ScopedAdmin):
    list_display = ("date", "name", "is_workday", "town")
    list_filter = ("is_workday", ("town", InScope))
    date_hierarchy = "date"
    town_paths = ("town",)
    community_paths = ("town__communities",)
    add_roles = change_roles = delete_roles = TOWN_ONLY


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ("at", "kind", "from_status", "to_status", "actor", "member", "department", "note")
    ordering = ("at", "id")


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("id", "title", "kind", "category", "status", "community", "grid", "created_at", "resolve_by")
    list_filter = ("status", "kind", "channel", ("community", InScope))
    search_fields = ("title",)
    list_select_related = ("category", "community", "grid")
    date_hierarchy = "created_at"
    # Contact details are personal data: shown masked on the product's pages, never here.
    exclude = ("contact_phone",)
    inlines = (OrderEventInline,)
    community_paths = ("community",)


@admin.register(OrderHours)
class OrderHoursAdmin(ReadOnlyAdmin):
    list_display = ("order", "member", "hours")
    list_select_related = ("order", "member")
    community_paths = ("order__community",)


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ("order", "outcome", "note")
    list_select_related = ("order",)
    community_paths = ("order__community",)
