"""Feedback and lists in the admin: a town's feedback settings and list rule are town
configuration; reports, inspections and lists are read-only — they change only through
linli/reports/actions.py.
"""

from django.contrib import admin

from linli.lib.admin import TOWN_ONLY, InScope, ReadOnlyAdmin, ReadOnlyInline, ScopedAdmin
from linli.reports.models import (
    FeedbackSettings,
    Inspection,
    ListEntry,
    ListEvent,
    ListRule,
    PropertyList,
    UnitReport,
)


@admin.register(FeedbackSettings)
class FeedbackSettingsAdmin(ScopedAdmin):
    list_display = ("town", "preset", "decline_threshold")
    town_paths = ("town",)
    community_paths = ("town__communities",)
    add_roles = change_roles = delete_roles = TOWN_ONLY


@admin.register(ListRule)
class ListRuleAdmin(ScopedAdmin):
    list_display = (
        "town",
        "weight_satisfaction",
        "weight_on_time",
        "weight_reopen",
        "weight_inspection",
        "red_threshold",
        "black_threshold",
        "min_orders",
        "notice_days",
    )
    town_paths = ("town",)
    community_paths = ("town__communities",)
    add_roles = change_roles = delete_roles = TOWN_ONLY


@admin.register(UnitReport)
class UnitReportAdmin(ReadOnlyAdmin):
    """Town admins see their town's units' reports; members' rows are on the report page, not here."""

    list_display = ("unit", "period", "period_start", "period_end", "generated_at", "generated_by")
    list_filter = ("preset",)
    list_select_related = ("unit", "generated_by")
    exclude = ("rows",)
    town_paths = ("unit__town",)
    view_roles = TOWN_ONLY


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    list_display = ("company", "estate", "date", "score", "inspector", "recorded_at")
    list_filter = (("company", InScope),)
    list_select_related = ("company", "estate", "inspector")
    date_hierarchy = "date"
    community_paths = ("estate__community",)


class ListEntryInline(ReadOnlyInline):
    model = ListEntry
    fields = ("company_name", "kind", "score", "status", "appealed_at", "decided_at")
    ordering = ("kind", "-score")


class ListEventInline(ReadOnlyInline):
    model = ListEvent
    fields = ("at", "kind", "entry", "from_status", "to_status", "actor", "note")
    ordering = ("at", "id")


@admin.register(PropertyList)
class PropertyListAdmin(ReadOnlyAdmin):
    list_display = ("town", "period", "status", "proposed_at", "notice_ends_at", "published_at")
    list_filter = ("status",)
    list_select_related = ("town",)
    exclude = ("scores",)
    inlines = (ListEntryInline, ListEventInline)
    town_paths = ("town",)
    view_roles = TOWN_ONLY
