"""Dispatch in the admin: a town's score weights are configuration (town admins edit them);
auto-dispatch runs are read-only — they change only through linli/dispatch/actions.py."""

from django.contrib import admin

from linli.dispatch.models import DispatchRun, DispatchWeights
from linli.lib.admin import TOWN_ONLY, ReadOnlyAdmin, ScopedAdmin


@admin.register(DispatchWeights)
class DispatchWeightsAdmin(ScopedAdmin):
    list_display = (
        "town",
        "priority",
        "skill_level",
        "same_grid",
        "same_community",
        "paired_community",
        "fairness",
        "annual_hours_target",
        "good_rating",
        "good_rating_threshold",
        "load_penalty",
    )
    list_select_related = ("town",)
    town_paths = ("town",)
    community_paths = ("town__communities",)
    # Weights are the town's rule: community staff neither see nor change them here.
    view_roles = add_roles = change_roles = delete_roles = TOWN_ONLY


@admin.register(DispatchRun)
class DispatchRunAdmin(ReadOnlyAdmin):
    """A town's runs for its admins; community staff see their own runs on the dispatch page
    (a run's scope is a grid or community id, not a key the admin's scope paths could follow)."""

    list_display = (
        "id",
        "scope_label",
        "status",
        "created_at",
        "created_by",
        "n_orders",
        "n_assigned",
        "n_applied",
        "total_score",
        "exact",
    )
    list_filter = ("status", "scope_kind")
    list_select_related = ("created_by",)
    date_hierarchy = "created_at"
    town_paths = ("town",)
    community_paths = ("town__communities",)
    view_roles = TOWN_ONLY
