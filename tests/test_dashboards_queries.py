"""Dashboards run a fixed number of queries: more communities, grids, members or orders add none."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command

from linli import testing as t
from linli.accounts.models import Role
from linli.orders import actions
from tests.conftest import login
from tests.test_dashboards_figures import MON, NOW, _loop, build_dataset

# Each page's budget: five for the session, user and scope, one or two for the object, the rest are
# the dashboard's aggregates (order_metrics twice, trend, categories, returns, members, grids,
# comparison) — measured, so that a query added by mistake shows here.
# One more reads how far the daily roll-up goes; with days rolled up, each event figure is two
# queries (the roll-up's rows, then today's from the base tables) instead of one.
BUDGET = {"town": 27, "community": 27, "grid": 23, "league": 12, "xlsx": 14}
ROLLED_UP = {"town": 31, "community": 31, "grid": 27, "league": 12, "xlsx": 15}


def _urls(w):
    return {
        "town": f"/towns/{w.town.pk}/dashboard/",
        "community": f"/communities/{w.a.pk}/dashboard/",
        "grid": f"/grids/{w.a1.pk}/dashboard/",
        "league": f"/towns/{w.town.pk}/departments/",
        "xlsx": f"/towns/{w.town.pk}/dashboard/communities.xlsx",
    }


@pytest.fixture
def dataset(world, personas):
    return build_dataset(world, personas)


def _grow(world, personas, category):
    """Three more communities with grids, households, members with hours and orders of every kind."""
    p = personas
    for i in range(3):
        c = t.make_community(world.town)
        staff = t.make_user(roles=[(Role.COMMUNITY_STAFF, c)])
        grids = [t.make_grid(c) for _ in range(2)]
        households = [t.make_household(g) for g in grids for _ in range(2)]
        t.make_user(roles=[(Role.GRID_WORKER, grids[0])])
        member_user = t.make_user()
        member = t.make_member(user=member_user, home_community=c, home_grid=grids[0])
        t.register_approved(member, c)
        resident_user = t.make_user()
        t.make_resident(households[0], user=resident_user)
        dept = t.make_department(world.town)
        dept_user = t.make_user(roles=[(Role.DEPARTMENT_STAFF, dept)])
        with time_machine.travel(MON + dt.timedelta(hours=i), tick=False):
            for rating in ("satisfied", "unsatisfied"):
                order = t.make_order(c, actor=resident_user, household=households[0])
                actions.accept_order(order, actor=staff, category=category)
                actions.dispatch_order(order, actor=staff, member=member)
                actions.claim_order(order, actor=member_user)
                actions.start_order(order, actor=member_user)
                actions.resolve_order(order, actor=member_user, note="好", hours=2)
                actions.rate_order(order, actor=resident_user, rating=rating)
            escalated = t.make_order(c, household=households[1])
            actions.accept_order(escalated, actor=staff, category=category)
            actions.escalate_order(escalated, actor=staff, department=dept)
            actions.acknowledge_order(escalated, actor=dept_user)
            bounced = t.make_order(c, household=households[2])
            actions.accept_order(bounced, actor=staff, category=t.make_category(world.town))
            actions.escalate_order(bounced, actor=staff, department=dept)
            actions.return_order(bounced, actor=dept_user, reason="退回")
            t.make_order(c, household=households[3])
    with time_machine.travel(MON, tick=False):
        for _ in range(3):
            _loop(t.make_order(world.a, actor=p.resident_user, household=world.hh_a1), p, category, "satisfied")


@pytest.mark.parametrize("rolled", [False, True], ids=["live", "rolled"])
@pytest.mark.parametrize("page", sorted(BUDGET))
def test_query_count_does_not_grow(world, dataset, page, rolled, django_assert_max_num_queries):
    client = login(dataset.town_admin)
    url = _urls(world)[page]
    budget = (ROLLED_UP if rolled else BUDGET)[page]
    with time_machine.travel(NOW, tick=False):
        if rolled:
            call_command("rollup_order_events", verbosity=0)
        client.get(url)
        with django_assert_max_num_queries(budget) as few:
            assert client.get(url).status_code == 200
    _grow(world, dataset, dataset.category)
    with time_machine.travel(NOW, tick=False):
        if rolled:
            call_command("rollup_order_events", "--rebuild", verbosity=0)  # _grow wrote past days
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get(url).status_code == 200
