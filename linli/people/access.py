"""The only way a view obtains a resident, member or registration: outside scope is a 404."""

from django.shortcuts import get_object_or_404

from linli.lib.errors import NotAllowed
from linli.people.models import Member, Registration, Resident


def get_resident_for_user(request, pk, *, write: bool = False) -> Resident:
    qs = Resident.objects.select_related("household__building__grid__community")
    resident = get_object_or_404(qs.visible_to(request.user), pk=pk)
    if write and resident.pk == request.user.scope.resident_id and not request.user.scope.superuser:
        raise NotAllowed("居民信息由社区维护")
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
            raise NotAllowed("只有报到社区的工作人员可以审核")
    return registration
