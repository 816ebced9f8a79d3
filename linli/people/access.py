"""The only way a view obtains a resident, member or registration: outside scope is a 404."""

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from linli.lib.errors import NotAllowed
from linli.orgs.models import Community, Pairing
from linli.people.models import Member, Registration, Resident


def get_resident_for_user(request, pk, *, write: bool = False) -> Resident:
    qs = Resident.objects.select_related("household__building__grid__community")
    resident = get_object_or_404(qs.visible_to(request.user), pk=pk)
    if write and resident.pk == request.user.scope.resident_id and not request.user.scope.superuser:
        raise NotAllowed(_("居民信息由社区维护"))
    return resident


def get_member_for_user(request, pk, *, write: bool = False) -> Member:
    qs = Member.objects.select_related("unit", "home_community", "home_grid")
    return get_object_or_404(qs.visible_to(request.user), pk=pk)


def get_registration_for_user(request, pk, *, write: bool = False) -> Registration:
    """With write=True, only staff of the registration's community (or its town) may act on it."""
    qs = Registration.objects.select_related("member", "unit", "community")
    registration = get_object_or_404(qs.visible_to(request.user), pk=pk)
    if write:
        s = request.user.scope
        if not (s.superuser or registration.community_id in s.managed_community_ids):
            raise NotAllowed(_("只有报到社区的工作人员可以审核"))
    return registration


def may_withdraw_registration(scope, registration) -> bool:
    """May the user (by their access scope) withdraw this registration? The registrant (the
    member, or the unit's admin) or the community's staff (or its town's admin). No query."""
    community = registration.community
    manages = scope.superuser or community.town_id in scope.town_ids or community.pk in scope.community_ids
    return (
        manages
        or (registration.member_id is not None and registration.member_id == scope.member_id)
        or (registration.unit_id is not None and registration.unit_id in scope.unit_ids)
    )


def registrable_communities(member: Member):
    """Communities a member may ask to register with (报到), and has no live registration with.

    Those of the towns of the member's home community and unit, and those paired with the
    member's unit (包保). Community names are not personal data, but the list stays local so a
    province's 30,000 communities never land in one select.
    """
    towns = {t for t in (getattr(member.home_community, "town_id", None), getattr(member.unit, "town_id", None)) if t}
    q = Q(town_id__in=towns)
    if member.unit_id:
        q |= Q(pk__in=Pairing.objects.filter(unit_id=member.unit_id).values("community_id"))
    live = Registration.objects.active().filter(member=member).values("community_id")
    return Community.objects.filter(q).exclude(pk__in=live).select_related("town").order_by("town__name", "code")
