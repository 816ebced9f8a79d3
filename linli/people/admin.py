"""People in the admin: residents, members and registrations are read-only here (they change
through linli.people.actions); the skill catalogue and party positions are configuration.

Personal data never appears in full: every form lists its fields explicitly (an allow-list), the
encrypted columns and their hashes are not among them, and ID numbers and phones show masked.
An exact ID number or phone typed into the search box is found through its keyed hash.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from linli.lib import crypto, idcard
from linli.lib.admin import NOBODY, InScope, ReadOnlyAdmin, ReadOnlyInline, ScopedAdmin
from linli.people.models import (
    IdType,
    Member,
    MemberResource,
    MemberSkill,
    PartyPosition,
    Registration,
    RegistrationEvent,
    Resident,
    Skill,
)
from linli.people.registers import member_id_hash, resident_id_hash

_DAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def _phone_term(term: str) -> str | None:
    digits = term.replace(" ", "").replace("-", "")
    return digits if digits.isdigit() and 7 <= len(digits) <= 12 else None


class PersonalDataAdmin(ReadOnlyAdmin):
    """Masked ID number and phone for the forms and lists of residents and members."""

    @admin.display(description=_("证件号码"))
    def id_number_masked(self, person):
        return person.id_number_masked or "—"

    @admin.display(description=_("联系电话"))
    def phone_masked(self, person):
        return person.phone_masked or "—"

    def id_hash(self, number: str) -> str:
        raise NotImplementedError

    def get_search_results(self, request, queryset, search_term):
        """Names by substring; an exact ID number or phone by its keyed hash (within scope)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if idcard.is_valid(term):
            results |= queryset.filter(id_hash=self.id_hash(idcard.normalize(term)))
        elif phone := _phone_term(term):
            results |= queryset.filter(phone_hash=crypto.lookup_hash(phone))
        return results, may_have_duplicates


@admin.register(Resident)
class ResidentAdmin(PersonalDataAdmin):
    list_display = ("name", "gender", "household", "phone_masked", "is_party_member", "moved_out")
    list_filter = (
        "gender",
        "is_party_member",
        "moved_out",
        ("household__building__grid__community", InScope),
        ("household__building__grid", InScope),
    )
    search_fields = ("name",)
    list_select_related = ("household",)
    community_paths = ("household__building__grid__community",)
    fields = (
        "name",
        "gender",
        "birth_date",
        "id_number_masked",
        "phone_masked",
        "care_tags",
        "household",
        "relation",
        "is_party_member",
        "moved_out",
        "user",
    )
    readonly_fields = ("id_number_masked", "phone_masked", "care_tags")

    def id_hash(self, number):
        return resident_id_hash(number)

    @admin.display(description=_("关爱标签"))
    def care_tags(self, resident):
        return "、".join(resident.tag_labels()) or "—"


class MemberSkillInline(ReadOnlyInline):
    model = MemberSkill
    fields = ("skill", "level")


class MemberResourceInline(ReadOnlyInline):
    model = MemberResource
    fields = ("kind", "description")


@admin.register(Member)
class MemberAdmin(PersonalDataAdmin):
    list_display = ("member_no", "name", "gender", "phone_masked", "unit", "home_community", "is_party_member")
    list_filter = ("is_party_member", "gender", ("unit", InScope), ("home_community", InScope))
    search_fields = ("member_no", "name")
    list_select_related = ("unit", "home_community")
    inlines = (MemberSkillInline, MemberResourceInline)
    # A member is in scope where they registered (报到) or live, as in MemberQuerySet.visible_to.
    community_paths = ("registrations__community", "home_community")
    fields = (
        "member_no",
        "name",
        "gender",
        "birth_date",
        "id_type",
        "id_number_masked",
        "phone_masked",
        "residence_area",
        "service_type_list",
        "is_party_member",
        "unit",
        "home_community",
        "home_grid",
        "availability_list",
        "load_cap",
        "consent_contact_at",
        "consent_report_at",
        "joined_at",
        "user",
    )
    readonly_fields = ("id_number_masked", "phone_masked", "service_type_list", "availability_list", "joined_at")

    def id_hash(self, number):
        return member_id_hash(IdType.RESIDENT_ID, number)

    @admin.display(description=_("服务类别"))
    def service_type_list(self, member):
        return "、".join(member.service_type_labels()) or "—"

    @admin.display(description=_("每周可服务时段"))
    def availability_list(self, member):
        slots = member.availability_slots()
        labels = [
            f"{_DAYS[i // 2]}{'上午' if i % 2 == 0 else '下午'}" for i, available in enumerate(slots) if available
        ]
        return "、".join(labels) or "—"


class RegistrationEventInline(ReadOnlyInline):
    model = RegistrationEvent
    fields = ("at", "actor", "from_label", "to_label", "note")
    readonly_fields = ("from_label", "to_label")
    verbose_name = _("报到记录")
    verbose_name_plural = _("报到记录")

    @admin.display(description=_("原状态"))
    def from_label(self, event):
        return _status_label(event.from_status)

    @admin.display(description=_("新状态"))
    def to_label(self, event):
        return _status_label(event.to_status)


def _status_label(value: str) -> str:
    return Registration.Status(value).label if value in Registration.Status.values else value or "—"


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdmin):
    """Approve, decline and withdraw happen on the registration pages, through the actions."""

    list_display = ("id", "registrant", "community", "status", "requested_at", "decided_at")
    list_filter = ("status", ("community", InScope))
    search_fields = ("member__name", "member__member_no", "unit__name")
    list_select_related = ("member", "unit", "community")
    date_hierarchy = "requested_at"
    inlines = (RegistrationEventInline,)
    community_paths = ("community",)
    fields = ("member", "unit", "community", "status", "requested_at", "decided_at", "reason")

    @admin.display(description=_("报到人/单位"))
    def registrant(self, registration):
        return registration.registrant


@admin.register(RegistrationEvent)
class RegistrationEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "registration_id", "actor", "from_label", "to_label", "note")
    list_select_related = ("actor",)
    date_hierarchy = "at"
    community_paths = ("registration__community",)
    fields = ("registration", "at", "actor", "from_label", "to_label", "note")
    readonly_fields = ("from_label", "to_label")

    @admin.display(description=_("报到"), ordering="registration_id")
    def registration_id(self, event):
        return event.registration_id

    @admin.display(description=_("原状态"))
    def from_label(self, event):
        return _status_label(event.from_status)

    @admin.display(description=_("新状态"))
    def to_label(self, event):
        return _status_label(event.to_status)


@admin.register(Skill)
class SkillAdmin(ScopedAdmin):
    """One catalogue for every town: everyone in the admin reads it, the operator edits it."""

    list_display = ("code", "name")
    search_fields = ("code", "name")
    shared = True
    add_roles = change_roles = delete_roles = NOBODY


@admin.register(PartyPosition)
class PartyPositionAdmin(ScopedAdmin):
    """书记, 委员, 单元长 …: who holds which position in the party tree (configuration)."""

    list_display = ("title", "party_org", "holder")
    list_filter = ("title", ("party_org__community", InScope))
    search_fields = ("party_org__name", "resident__name", "member__name")
    list_select_related = ("party_org", "resident", "member")
    autocomplete_fields = ("party_org", "resident", "member")
    community_paths = ("party_org__community",)

    @admin.display(description=_("任职人"))
    def holder(self, position):
        return position.holder
