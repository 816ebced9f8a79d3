"""Credits in the admin: point rules and the town's targets/stars are town configuration; the
community's service-kind rules are community configuration; ledgers, corrections, star events
and certificates are read-only — they change only through linli/credits/actions.py.
"""

from django.contrib import admin

from linli.credits.models import (
    Certificate,
    CorrectionEvent,
    CorrectionRequest,
    CreditSettings,
    PointEntry,
    PointRule,
    ServiceKindRule,
    ServiceRecord,
    StarEvent,
)
from linli.lib.admin import ADMIN_ROLES, TOWN_ONLY, InScope, ReadOnlyAdmin, ReadOnlyInline, ScopedAdmin


@admin.register(CreditSettings)
class CreditSettingsAdmin(ScopedAdmin):
    list_display = ("town", "target_hours", "base_score", "star_thresholds", "rating_bands")
    town_paths = ("town",)
    community_paths = ("town__communities",)
    add_roles = change_roles = delete_roles = TOWN_ONLY


@admin.register(PointRule)
class PointRuleAdmin(ScopedAdmin):
    list_display = ("code", "label", "points_per_hour", "points", "active", "town")
    list_filter = ("active", ("town", InScope))
    town_paths = ("town",)
    community_paths = ("town__communities",)
    add_roles = change_roles = delete_roles = TOWN_ONLY


@admin.register(ServiceKindRule)
class ServiceKindRuleAdmin(ScopedAdmin):
    list_display = ("community", "source", "category", "activity_kind", "kind", "unit_quota")
    list_filter = ("source", "kind", "unit_quota", ("community", InScope))
    list_select_related = ("community", "category")
    community_paths = ("community",)
    add_roles = change_roles = delete_roles = ADMIN_ROLES


@admin.register(ServiceRecord)
class ServiceRecordAdmin(ReadOnlyAdmin):
    list_display = ("id", "member", "kind", "activity_name", "service_date", "hours", "community", "late")
    list_filter = ("kind", "source_type", "late", ("community", InScope))
    list_select_related = ("member", "community")
    date_hierarchy = "service_date"
    community_paths = ("community",)


@admin.register(PointEntry)
class PointEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "member", "rule", "points", "source_type", "source_id", "earned_on")
    list_select_related = ("member", "rule")
    town_paths = ("town",)
    community_paths = ("town__communities",)


@admin.register(StarEvent)
class StarEventAdmin(ReadOnlyAdmin):
    list_display = ("member", "from_level", "to_level", "hours", "at")
    list_select_related = ("member",)
    community_paths = ("record__community",)


class CorrectionEventInline(ReadOnlyInline):
    model = CorrectionEvent
    fields = ("at", "from_status", "to_status", "actor", "note")
    ordering = ("at", "id")


@admin.register(CorrectionRequest)
class CorrectionRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "member", "record", "proposed_hours", "status", "requested_at")
    list_filter = ("status", ("community", InScope))
    list_select_related = ("member", "record")
    inlines = (CorrectionEventInline,)
    community_paths = ("community",)


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ("number", "member_name", "hours", "period_start", "period_end", "issuer", "issued_at")
    search_fields = ("number",)
    # The verification code is the certificate holder's to share: not listed here.
    exclude = ("code",)
    community_paths = ("community",)
