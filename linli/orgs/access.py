"""The only way a view obtains an organisation object: outside the user's scope is a 404."""

from django.shortcuts import get_object_or_404

from linli.lib.errors import NotAllowed
from linli.orgs.models import Community, Grid, Town


def get_community_for_user(request, pk, *, write: bool = False) -> Community:
    """The community if the user may see it; with write=True, only if they manage it."""
    qs = Community.objects.select_related("town")
    community = get_object_or_404(qs.visible_to(request.user), pk=pk)
    if write and not qs.staffed_by(request.user).filter(pk=pk).exists():
        raise NotAllowed("您不是该社区的工作人员")
    return community


def get_grid_for_user(request, pk, *, write: bool = False) -> Grid:
    return get_object_or_404(Grid.objects.select_related("community__town").visible_to(request.user), pk=pk)


def get_town_for_user(request, pk, *, write: bool = False) -> Town:
    """The town if the user administers it (a town admin of it) or is a superuser; otherwise 404.

    Reading and writing need the same role, so `write` changes nothing; it is there for the
    helpers' common signature.
    """
    s = request.user.scope
    towns = Town.objects.all() if s.superuser else Town.objects.filter(id__in=s.town_ids)
    return get_object_or_404(towns, pk=pk)
