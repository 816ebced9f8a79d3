"""The organisation tree in the admin: configuration edited here, each change audited.

Town admins edit their town's communities, categories, units, departments and property
companies; community staff edit their community's grids, estates, buildings, households and
party organisations. Both see, read-only, the town-level objects of their scope.
"""

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.lib.admin import NOBODY, TOWN, TOWN_ONLY, InScope, ScopedAdmin
from linli.orgs.models import (
    Building,
    Category,
    Community,
    Department,
    Estate,
    Grid,
    Household,
    Pairing,
    PartyOrg,
    PropertyCompany,
    Town,
    Unit,
)


@admin.register(Town)
class TownAdmin(ScopedAdmin):
    list_display = ("code", "name", "households_per_grid_worker", "people_per_grid_worker")
    search_fields = ("code", "name")
    town_paths = ("pk",)
    community_paths = ("communities",)
    # A town is opened by the operator; its admin then sets its rules (grid sizing).
    add_roles = delete_roles = NOBODY
    change_roles = TOWN_ONLY


@admin.register(Community)
class CommunityAdmin(ScopedAdmin):
    list_display = ("code", "name", "kind", "town")
    list_filter = ("kind", ("town", InScope))
    search_fields = ("code", "name")
    list_select_related = ("town",)
    town_paths = ("town",)
    community_paths = ("pk",)
    add_roles = change_roles = delete_roles = TOWN_ONLY


@admin.register(Grid)
class GridAdmin(ScopedAdmin):
    list_display = ("code", "name", "kind", "community")
    list_filter = ("kind", ("community", InScope))
    search_fields = ("code", "name")
    list_select_related = ("community",)
    community_paths = ("community",)


@admin.register(Estate)
class EstateAdmin(ScopedAdmin):
    list_display = ("name", "community", "company")
    list_filter = (("community", InScope), ("company", InScope))
    search_fields = ("name",)
    list_select_related = ("community", "company")
    community_paths = ("community",)


@admin.register(Building)
class BuildingAdmin(ScopedAdmin):
    list_display = ("name", "address", "grid", "estate")
    list_filter = (("grid__community", InScope), ("grid", InScope))
    search_fields = ("name", "address")
    list_select_related = ("grid", "estate")
    community_paths = ("grid__community",)


@admin.register(Household)
class HouseholdAdmin(ScopedAdmin):
    list_display = ("address", "building", "entrance", "door")
    list_filter = (("building__grid__community", InScope), ("building__grid", InScope))
    search_fields = ("address", "door", "building__name")
    list_select_related = ("building",)
    # A town has thousands of buildings: search instead of one long select.
    autocomplete_fields = ("building",)
    community_paths = ("building__grid__community",)


@admin.register(PartyOrg)
class PartyOrgAdmin(ScopedAdmin):
    list_display = ("name", "kind", "community", "parent")
    list_filter = ("kind", ("community", InScope))
    search_fields = ("name",)
    list_select_related = ("community", "parent")
    autocomplete_fields = ("building",)
    community_paths = ("community",)


@admin.register(Category)
class CategoryAdmin(ScopedAdmin):
    list_display = ("code", "name", "group", "is_property", "town")
    list_filter = ("is_property", "group", ("town", InScope))
    search_fields = ("code", "name", "group")
    list_select_related = ("town",)
    town_paths = ("town",)
    # Community staff see the categories of their town.
    community_paths = ("town__communities",)
    add_roles = change_roles = delete_roles = TOWN_ONLY


@admin.register(Unit)
class UnitAdmin(ScopedAdmin):
    list_display = ("code", "name", "kind", "town", "party_branch")
    list_filter = ("kind", ("town", InScope))
    search_fields = ("code", "name", "party_branch")
    list_select_related = ("town",)
    # Seen by the town the unit belongs to and by the communities it is paired with (包保).
    town_paths = ("town", "pairings__community__town")
    community_paths = ("pairings__community",)
    add_roles = change_roles = delete_roles = TOWN_ONLY

    def scope_q(self, user, roles, *, editing=False):
        if not editing:
            return super().scope_q(user, roles)
        # Only the unit's own town edits it: a unit paired across towns is not theirs to rename.
        return Q(town__in=user.scope.town_ids) if TOWN in roles and user.scope.town_ids else None


class PairingForm(forms.ModelForm):
    class Meta:
        model = Pairing
        fields = ("unit", "community", "since")
        # The model's relations carry no verbose names.
        labels = {"unit": _("单位"), "community": _("社区")}


@admin.register(Pairing)
class PairingAdmin(ScopedAdmin):
    form = PairingForm
    list_display = ("unit_name", "community_name", "since")
    list_filter = (("community", InScope),)
    search_fields = ("unit__name", "community__name")
    list_select_related = ("unit", "community")
    community_paths = ("community",)
    add_roles = change_roles = delete_roles = TOWN_ONLY

    @admin.display(description=_("单位"), ordering="unit__name")
    def unit_name(self, pairing):
        return pairing.unit.name

    @admin.display(description=_("社区"), ordering="community__name")
    def community_name(self, pairing):
        return pairing.community.name


@admin.register(Department)
class DepartmentAdmin(ScopedAdmin):
    list_display = ("name", "town")
    list_filter = (("town", InScope),)
    search_fields = ("name",)
    list_select_related = ("town",)
    filter_horizontal = ("categories",)
    town_paths = ("town",)
    community_paths = ("town__communities",)
    add_roles = change_roles = delete_roles = TOWN_ONLY


@admin.register(PropertyCompany)
class PropertyCompanyAdmin(ScopedAdmin):
    list_display = ("name", "credit_code", "town")
    list_filter = (("town", InScope),)
    search_fields = ("name", "credit_code")
    list_select_related = ("town",)
    town_paths = ("town",)
    community_paths = ("town__communities",)
    add_roles = change_roles = delete_roles = TOWN_ONLY
