"""What a user may see: one Scope computed from their roles and profiles.

QuerySets' `visible_to(user)` read `user.scope`; nothing else decides visibility.
"""

from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q

from linli.orgs.models import Community, Grid


@dataclass(frozen=True)
class Scope:
    superuser: bool = False
    town_ids: frozenset = frozenset()
    community_ids: frozenset = frozenset()  # community staff
    grid_ids: frozenset = frozenset()  # grid worker
    grid_community_ids: frozenset = frozenset()  # communities of those grids
    unit_ids: frozenset = frozenset()
    department_ids: frozenset = frozenset()
    company_ids: frozenset = frozenset()
    member_id: int | None = None
    member_unit_id: int | None = None
    member_community_ids: frozenset = frozenset()  # approved registrations
    resident_id: int | None = None
    resident_household_id: int | None = None

    @property
    def managed_community_ids(self) -> frozenset:
        """Communities the user manages: as town admin or as community staff."""
        if not self.town_ids:
            return self.community_ids
        return self.community_ids | frozenset(
            Community.objects.filter(town_id__in=self.town_ids).values_list("id", flat=True)
        )


EMPTY = Scope()


def build_scope(user) -> Scope:
    if not user.is_authenticated or not user.is_active:
        return EMPTY
    if user.is_superuser:
        return Scope(superuser=True)
    ids: dict[str, set] = {f: set() for f in ("town", "community", "grid", "unit", "department", "company")}
    for row in user.role_assignments.values(
        "town_id", "community_id", "grid_id", "unit_id", "department_id", "company_id"
    ):
        for field, bucket in ids.items():
            if row[f"{field}_id"] is not None:
                bucket.add(row[f"{field}_id"])
    grid_communities = (
        frozenset(Grid.objects.filter(id__in=ids["grid"]).values_list("community_id", flat=True))
        if ids["grid"]
        else frozenset()
    )
    member = _profile(user, "member_profile")
    resident = _profile(user, "resident_profile")
    member_communities = frozenset()
    if member is not None:
        member_communities = frozenset(
            member.registrations.filter(status="approved").values_list("community_id", flat=True)
        )
    return Scope(
        town_ids=frozenset(ids["town"]),
        community_ids=frozenset(ids["community"]),
        grid_ids=frozenset(ids["grid"]),
        grid_community_ids=grid_communities,
        unit_ids=frozenset(ids["unit"]),
        department_ids=frozenset(ids["department"]),
        company_ids=frozenset(ids["company"]),
        member_id=member.pk if member else None,
        member_unit_id=member.unit_id if member else None,
        member_community_ids=member_communities,
        resident_id=resident.pk if resident else None,
        resident_household_id=resident.household_id if resident else None,
    )


def _profile(user, attr: str):
    try:
        return getattr(user, attr)
    except ObjectDoesNotExist:  # the user has no such profile
        return None


def community_filter(scope: Scope, path: str) -> Q:
    """Q for rows whose community (reached by `path`) the user manages."""
    return Q(**{f"{path}__town_id__in": scope.town_ids}) | Q(**{f"{path}_id__in": scope.community_ids})
