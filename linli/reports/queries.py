"""Read-only queries behind the pages and dashboards: one query per list, never one per row."""

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce

from linli.accounts.models import Role, RoleAssignment
from linli.orgs.models import Community, Grid, GridSizing, Household, PartyOrg
from linli.people.models import PartyPosition, Registration, Resident


def _count(queryset, group_by: str):
    """A correlated `COUNT(*)` subquery over `queryset` grouped by `group_by` (0 when no rows)."""
    counted = queryset.order_by().values(group_by).annotate(c=Count("pk")).values("c")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def grids_with_sizing(queryset):
    """Annotate grids with n_households, n_people (current residents) and n_workers.

    One SQL statement with three correlated subqueries, whatever the number of grids; the
    result feeds linli.orgs.models.GridSizing. Grid workers are distinct users holding the
    grid_worker role on the grid.
    """
    households = Household.objects.filter(building__grid=OuterRef("pk"))
    people = Resident.objects.current().filter(household__building__grid=OuterRef("pk"))
    workers = (
        RoleAssignment.objects.filter(grid=OuterRef("pk"), role=Role.GRID_WORKER)
        .order_by()
        .values("grid")
        .annotate(c=Count("user", distinct=True))
        .values("c")
    )
    return queryset.annotate(
        n_households=_count(households, "building__grid"),
        n_people=_count(people, "household__building__grid"),
        n_workers=Coalesce(Subquery(workers, output_field=IntegerField()), Value(0)),
    )


def grid_worker_prefetch():
    """Prefetch each grid's grid-worker assignments with their users (to_attr `worker_roles`)."""
    return Prefetch(
        "roleassignment_set",
        queryset=RoleAssignment.objects.filter(role=Role.GRID_WORKER).select_related("user").order_by("user__name"),
        to_attr="worker_roles",
    )


def grid_rows(grids, *, town=None):
    """Pair each annotated grid with its GridSizing and its distinct grid-worker users.

    Without `town`, each grid's own town is used (select_related("community__town") first).
    """
    rows = []
    for grid in grids:
        seen = {}
        for assignment in getattr(grid, "worker_roles", []):
            seen.setdefault(assignment.user_id, assignment.user)
        sizing = GridSizing(grid, town or grid.community.town)
        rows.append({"grid": grid, "sizing": sizing, "workers": list(seen.values())})
    return rows


def communities_with_counts(queryset):
    """Communities annotated with grids, households, current residents and registrations."""
    return queryset.annotate(
        n_grids=_count(Grid.objects.filter(community=OuterRef("pk")), "community"),
        n_households=_count(
            Household.objects.filter(building__grid__community=OuterRef("pk")), "building__grid__community"
        ),
        n_people=_count(
            Resident.objects.current().filter(household__building__grid__community=OuterRef("pk")),
            "household__building__grid__community",
        ),
        n_members=_count(
            Registration.objects.filter(
                community=OuterRef("pk"), status=Registration.Status.APPROVED, member__isnull=False
            ),
            "community",
        ),
        n_pending=_count(
            Registration.objects.filter(community=OuterRef("pk"), status=Registration.Status.REQUESTED), "community"
        ),
    )


def registration_counts(community: Community) -> dict:
    """Approved members, approved units and pending requests of a community, in one query."""
    s = Registration.Status
    return Registration.objects.filter(community=community).aggregate(
        members=Count("pk", filter=Q(status=s.APPROVED, member__isnull=False)),
        units=Count("pk", filter=Q(status=s.APPROVED, unit__isnull=False)),
        pending=Count("pk", filter=Q(status=s.REQUESTED)),
    )


def party_tree(community: Community, *, grid_ids=None):
    """The community's party organisations as nested dicts, with position holders.

    Two queries (organisations, then positions with their holders). With `grid_ids`, branches
    tied to other grids (and their groups) are left out: a grid worker sees the committee and
    their own grids' branches.
    """
    positions = PartyPosition.objects.select_related("resident", "member").order_by("title", "id")
    orgs = list(
        PartyOrg.objects.filter(community=community)
        .select_related("grid", "building")
        .prefetch_related(Prefetch("positions", queryset=positions))
        .order_by("grid__code", "building__name", "name", "id")
    )
    nodes = {org.pk: {"org": org, "positions": list(org.positions.all()), "children": []} for org in orgs}
    roots = []
    for org in orgs:
        node = nodes[org.pk]
        if org.parent_id is None:
            roots.append(node)
        elif org.parent_id in nodes:
            nodes[org.parent_id]["children"].append(node)
    if grid_ids is not None:
        allowed = set(grid_ids)

        def keep(node):
            org = node["org"]
            if org.kind == PartyOrg.Kind.BRANCH and org.grid_id is not None and org.grid_id not in allowed:
                return False
            node["children"] = [child for child in node["children"] if keep(child)]
            return True

        roots = [root for root in roots if keep(root)]
    return roots
