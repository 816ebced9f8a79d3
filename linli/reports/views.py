"""Read-only overview pages: the home page (a section per role), the community and the grid.

Objects come through the access helpers (outside scope is 404); lists through
`visible_to(request.user)`; counts through linli.reports.queries, one query per list.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.shortcuts import render

from linli.accounts.models import Role
from linli.orgs.access import get_community_for_user, get_grid_for_user
from linli.orgs.models import Building, Community, Grid, Household, Pairing, Unit
from linli.people.access import get_member_for_user, get_resident_for_user
from linli.people.forms import RegistrationRequestForm
from linli.people.models import Member, Registration, Resident
from linli.reports import queries

RESIDENTS_PER_PAGE = 50
UNIT_MEMBERS_SHOWN = 200
# A town has tens of communities; a superuser over a province is pointed to the admin instead.
COMMUNITIES_SHOWN = 200


def _manages(scope, community) -> bool:
    """Town admin of the community's town or staff of the community (no query)."""
    return scope.superuser or community.town_id in scope.town_ids or community.pk in scope.community_ids


@login_required
def home(request):
    """One section per role the user holds; nothing invented for roles whose work comes later."""
    user = request.user
    s = user.scope
    roles = user.roles
    ctx = {"no_role": not roles and not s.superuser}

    communities = Community.objects.visible_to(user).select_related("town")
    if s.superuser or Role.TOWN_ADMIN in roles:
        towns = communities if s.superuser else communities.filter(town_id__in=s.town_ids)
        listed = queries.communities_with_counts(towns).order_by("town__name", "code")
        ctx["town_communities"] = listed[:COMMUNITIES_SHOWN]
    if Role.COMMUNITY_STAFF in roles:
        staffed = communities.filter(id__in=s.community_ids)
        ctx["staff_communities"] = queries.communities_with_counts(staffed).order_by("code")
    if Role.GRID_WORKER in roles:
        own_grids = Grid.objects.visible_to(user).filter(id__in=s.grid_ids).select_related("community__town")
        grids = queries.grids_with_sizing(own_grids).prefetch_related(queries.grid_worker_prefetch())
        ctx["worker_grids"] = queries.grid_rows(grids.order_by("code"))
    if s.member_id:
        member = get_member_for_user(request, s.member_id)
        ctx["member"] = member
        ctx["member_registrations"] = (
            Registration.objects.visible_to(user)
            .filter(member=member)
            .select_related("community")
            .order_by("-requested_at", "-id")
        )
        ctx["request_form"] = RegistrationRequestForm(member=member)
    if Role.UNIT_ADMIN in roles:
        approved = Q(registrations__status=Registration.Status.APPROVED)
        ctx["units"] = (
            Unit.objects.visible_to(user)
            .filter(id__in=s.unit_ids)
            .prefetch_related(
                Prefetch("pairings", queryset=Pairing.objects.select_related("community").order_by("community__code"))
            )
        )
        unit_members = (
            Member.objects.visible_to(user)
            .filter(unit_id__in=s.unit_ids)
            .select_related("unit", "home_community")
            .annotate(n_registrations=Count("registrations", filter=approved))
            .order_by("unit__code", "name", "id")
        )
        ctx["unit_members"] = unit_members[:UNIT_MEMBERS_SHOWN]
        ctx["unit_members_total"] = unit_members.count()
    ctx["department_role"] = Role.DEPARTMENT_STAFF in roles
    ctx["property_role"] = Role.PROPERTY_STAFF in roles
    if s.resident_id:
        resident = get_resident_for_user(request, s.resident_id)
        ctx["resident"] = resident
        ctx["household"] = resident.household
    ctx["unread"] = user.notifications.filter(read_at__isnull=True).order_by("-created_at", "-id")[:5]
    return render(request, "reports/home.html", ctx)


@login_required
def community_detail(request, pk):
    """The community, its grids with sizing flags, party tree, paired units and registrations."""
    community = get_community_for_user(request, pk)
    s = request.user.scope
    manages = _manages(s, community)
    grids = (
        queries.grids_with_sizing(Grid.objects.visible_to(request.user).filter(community=community))
        .prefetch_related(queries.grid_worker_prefetch())
        .order_by("code")
    )
    rows = queries.grid_rows(grids, town=community.town)
    totals = {
        "households": sum(r["grid"].n_households for r in rows),
        "people": sum(r["grid"].n_people for r in rows),
        "workers": len({u.pk for r in rows for u in r["workers"]}),
        "flagged": sum(1 for r in rows if r["sizing"].breaks_rule),
    }
    visible_grid_ids = None if manages else [r["grid"].pk for r in rows]
    return render(
        request,
        "reports/community.html",
        {
            "community": community,
            "town": community.town,
            "manages": manages,
            "rows": rows,
            "totals": totals,
            "party_tree": queries.party_tree(community, grid_ids=visible_grid_ids),
            "pairings": Pairing.objects.filter(community=community).select_related("unit").order_by("unit__code"),
            "counts": queries.registration_counts(community),
        },
    )


@login_required
def grid_detail(request, pk):
    """Buildings and households with resident counts, and the residents (masked), paginated."""
    grid = get_grid_for_user(request, pk)
    s = request.user.scope
    community = grid.community
    annotated = (
        queries.grids_with_sizing(Grid.objects.filter(pk=grid.pk))
        .select_related("community__town")
        .prefetch_related(queries.grid_worker_prefetch())
    )
    row = queries.grid_rows(annotated)[0]
    current = Q(residents__moved_out=False)
    households = Household.objects.annotate(n_residents=Count("residents", filter=current)).order_by(
        "entrance", "door", "id"
    )
    buildings = (
        Building.objects.filter(grid=grid)
        .select_related("estate")
        .annotate(n_households=Count("households", distinct=True))
        .prefetch_related(Prefetch("households", queryset=households))
        .order_by("name", "id")
    )
    residents = (
        Resident.objects.visible_to(request.user)
        .current()
        .filter(household__building__grid=grid)
        .select_related("household__building")
        .order_by("household__building__name", "household__entrance", "household__door", "id")
    )
    page = Paginator(residents, RESIDENTS_PER_PAGE).get_page(request.GET.get("page"))
    show_tags = _manages(s, community) or grid.pk in s.grid_ids
    return render(
        request,
        "reports/grid.html",
        {
            "grid": grid,
            "community": community,
            "row": row,
            "buildings": buildings,
            "page": page,
            "show_tags": show_tags,
        },
    )
