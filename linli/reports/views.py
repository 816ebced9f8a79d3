"""Read-only overview pages: the home page (a section per role), the community and the grid.

Objects come through the access helpers (outside scope is 404); lists through
`visible_to(request.user)`; counts through linli.reports.queries, one query per list.
"""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from linli.accounts.models import Role
from linli.orders.models import MEMBER_LOAD_STATUSES, OPEN_STATUSES, FollowUp, Order
from linli.orders.models import Status as OrderStatus
from linli.orgs.access import get_community_for_user, get_grid_for_user
from linli.orgs.models import Building, Community, Grid, Household, Pairing, Town, Unit
from linli.people.access import get_member_for_user, get_resident_for_user
from linli.people.forms import RegistrationRequestForm
from linli.people.models import Member, Registration, Resident
from linli.reports import queries
from linli.reports.metrics import order_metrics

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
        listed = _with_order_counts(queries.communities_with_counts(towns)).order_by("town__name", "code")
        ctx["town_communities"] = listed[:COMMUNITIES_SHOWN]
        # Feedback to units and red/black lists are run per town (linli.reports.feedback_urls).
        ctx["admin_towns"] = Town.objects.filter(id__in=s.town_ids).order_by("code")
    if Role.COMMUNITY_STAFF in roles:
        staffed = communities.filter(id__in=s.community_ids)
        ctx["staff_communities"] = _with_order_counts(queries.communities_with_counts(staffed)).order_by("code")
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
    ctx["orders"] = _order_counters(user)
    ctx["unread"] = user.notifications.filter(read_at__isnull=True).order_by("-created_at", "-id")[:5]
    return render(request, "reports/home.html", ctx)


def _with_order_counts(communities):
    """Annotate communities with their open and overdue orders (two subqueries, no query per row)."""
    open_orders = Order.objects.filter(community=OuterRef("pk"), status__in=OPEN_STATUSES)
    return communities.annotate(
        n_open_orders=queries._count(open_orders, "community"),
        n_overdue_orders=queries._count(open_orders.overdue(), "community"),
    )


def _order_counters(user) -> dict:
    """The counts behind the home page's order links: one query per role that has them."""
    s = user.scope
    counts = {}
    if s.resident_id:
        mine = Q(submitted_by=user) | Q(resident_id=s.resident_id)
        counts["mine_open"] = Order.objects.filter(mine, status__in=OPEN_STATUSES).count()
    if s.member_id:
        tasks = Q(assignee_id=s.member_id, status__in=MEMBER_LOAD_STATUSES)
        if s.member_unit_id:
            tasks |= Q(status=OrderStatus.DISPATCHED, assignee__isnull=True, assignee_unit_id=s.member_unit_id)
        pooled = Q(status=OrderStatus.POOLED, community_id__in=s.member_community_ids)
        counts.update(
            Order.objects.filter(tasks | pooled).aggregate(
                tasks=Count("id", filter=tasks), pool=Count("id", filter=pooled)
            )
        )
    if s.department_ids:
        counts["escalated"] = Order.objects.filter(
            department_id__in=s.department_ids, status__in=[OrderStatus.ESCALATED, OrderStatus.ACKNOWLEDGED]
        ).count()
    if s.grid_ids:
        counts["follow_ups"] = (
            Order.objects.filter(grid_id__in=s.grid_ids, status__in=[OrderStatus.RESOLVED, OrderStatus.CLOSED])
            .filter(~Exists(FollowUp.objects.filter(order=OuterRef("pk"))))
            .count()
        )
    return counts


@login_required
def community_detail(request, pk):
    """The community, its grids with sizing flags, party tree, paired units and registrations."""
    community = get_community_for_user(request, pk)
    s = request.user.scope
    manages = _manages(s, community)
    if manages and request.htmx and request.GET.get("part") == "metrics":
        return render(request, "reports/community.html#metrics", _metrics(request, community))
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
    ctx = {
        "community": community,
        "town": community.town,
        "manages": manages,
        "rows": rows,
        "totals": totals,
        "party_tree": queries.party_tree(community, grid_ids=visible_grid_ids),
        "pairings": Pairing.objects.filter(community=community).select_related("unit").order_by("unit__code"),
        "counts": queries.registration_counts(community),
    }
    # The metrics aggregate over the community's orders: loaded after the page (htmx) so the page
    # stays fast, and rendered in place when a period is asked for (the links work without JS).
    if manages and any(k in request.GET for k in ("period", "start", "end")):
        ctx.update(_metrics(request, community), metrics_inline=True)
    return render(request, "reports/community.html", ctx)


METRIC_PRESETS = ("month", "last_month", "year")


def _month_start(day: dt.date, months_back: int = 0) -> dt.date:
    month = day.year * 12 + day.month - 1 - months_back
    return dt.date(month // 12, month % 12 + 1, 1)


def _period(request):
    """(preset, start, end, previous start, previous end, error) as dates; ends are exclusive.

    ?period=month|last_month|year, or ?start=&end= (inclusive dates); this month by default.
    The previous period is the month, year or same number of days just before.
    """
    today = timezone.localdate()
    raw_start, raw_end = request.GET.get("start") or "", request.GET.get("end") or ""
    try:
        start, end = parse_date(raw_start), parse_date(raw_end)
    except ValueError:
        start = end = None
    if start and end and start <= end:
        end = end + dt.timedelta(days=1)
        length = end - start
        return "custom", start, end, start - length, start, False
    error = bool(raw_start or raw_end)
    preset = request.GET.get("period") if request.GET.get("period") in METRIC_PRESETS else "month"
    if preset == "year":
        start = dt.date(today.year, 1, 1)
        return preset, start, dt.date(today.year + 1, 1, 1), dt.date(today.year - 1, 1, 1), start, error
    back = 1 if preset == "last_month" else 0
    start, end = _month_start(today, back), _month_start(today, back - 1)
    return preset, start, end, _month_start(today, back + 1), start, error


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _rate(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _duration(value) -> str:
    if value is None:
        return "—"
    hours = value.total_seconds() / 3600
    if hours < 1:
        return _("%(n)d 分钟") % {"n": round(hours * 60)}
    if hours < 48:
        return _("%(n).1f 小时") % {"n": hours}
    return _("%(n).1f 天") % {"n": hours / 24}


def _metrics(request, community) -> dict:
    """The figures of docs/metrics.md for the chosen period and the one before it."""
    preset, start, end, prev_start, prev_end, error = _period(request)
    now = timezone.now()
    m = order_metrics(_aware(start), _aware(end), community=community, now=now)
    pm = order_metrics(_aware(prev_start), _aware(prev_end), community=community, now=now)

    def ratio(num, den):
        return f"{num}/{den}"

    rows = [
        (_("新增诉求"), m.submitted, pm.submitted, ""),
        (_("受理量"), m.accepted, pm.accepted, ""),
        (_("响应率"), _rate(m.response_rate), _rate(pm.response_rate), ratio(m.responded_in_time, m.accepted)),
        (_("办结率"), _rate(m.resolve_rate), _rate(pm.resolve_rate), ratio(m.resolved_in_time, m.due)),
        (_("满意率"), _rate(m.satisfaction_rate), _rate(pm.satisfaction_rate), ratio(m.satisfied, m.rated)),
        (_("平均响应时长"), _duration(m.mean_respond), _duration(pm.mean_respond), ""),
        (_("平均办结时长"), _duration(m.mean_resolve), _duration(pm.mean_resolve), ""),
        (_("重新办理"), m.reopened, pm.reopened, ""),
        (_("部门退回"), m.bounced, pm.bounced, ""),
    ]
    return {
        "community": community,
        "metric_presets": [("month", _("本月")), ("last_month", _("上月")), ("year", _("今年"))],
        "metric_rows": [{"label": r[0], "now": r[1], "before": r[2], "detail": r[3]} for r in rows],
        "overdue_now": m.overdue_now,
        "period": {
            "preset": preset,
            "start": start,
            "last": end - dt.timedelta(days=1),
            "prev_start": prev_start,
            "prev_last": prev_end - dt.timedelta(days=1),
            "error": error,
        },
    }


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
