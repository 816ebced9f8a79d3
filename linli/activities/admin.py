"""Activities in the admin: read-only. They change only through linli/activities/actions.py
(the staff's activity pages); the admin is for looking things up within one's scope."""

from django.contrib import admin

from linli.activities.models import Activity, ActivityEvent, Shift, SignUp
from linli.lib.admin import InScope, ReadOnlyAdmin, ReadOnlyInline


class ShiftInline(ReadOnlyInline):
    model = Shift
    fields = ("starts_at", "ends_at", "capacity", "seats_taken", "note")
    ordering = ("starts_at", "id")


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("id", "title", "kind", "status", "community", "unit_quota", "signup_closes_at")
    list_filter = ("status", "kind", "unit_quota", ("community", InScope))
    search_fields = ("title",)
    list_select_related = ("community",)
    date_hierarchy = "created_at"
    inlines = (ShiftInline,)
    community_paths = ("community",)


class ActivityEventInline(ReadOnlyInline):
    model = ActivityEvent
    fk_name = "signup"
    fields = ("at", "kind", "from_status", "to_status", "actor", "note")
    ordering = ("at", "id")


@admin.register(SignUp)
class SignUpAdmin(ReadOnlyAdmin):
    list_display = ("id", "member", "shift", "status", "checked_in_at", "checked_out_at", "hours")
    list_filter = ("status",)
    list_select_related = ("member", "shift")
    inlines = (ActivityEventInline,)
    community_paths = ("shift__activity__community",)


@admin.register(ActivityEvent)
class ActivityEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "activity", "kind", "from_status", "to_status", "actor")
    list_filter = ("kind",)
    list_select_related = ("activity", "actor")
    community_paths = ("activity__community",)
