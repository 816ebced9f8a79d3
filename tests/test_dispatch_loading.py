"""load_batch: the columnar loader reads exactly what a plain per-row reading of the models gives.

`_reference` is the loader as first written (values_list rows, Python loops per member); the
columnar one (binary COPY on PostgreSQL, integer columns elsewhere) must agree with it field by
field, on both backends, with a constant number of queries.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import numpy as np
import pytest
import time_machine
from django.db.models import Count, Q, Sum
from django.utils import timezone

from linli import testing as t
from linli.credits import actions as credit_actions
from linli.credits.models import ServiceRecord
from linli.dispatch import loading
from linli.dispatch.loading import RATING_DAYS, RATING_VALUES, load_batch, load_order, slot_at, weights_for_town
from linli.dispatch.models import DispatchWeights
from linli.orders.models import MEMBER_LOAD_STATUSES, CategoryRule, Order
from linli.orgs.models import Pairing
from linli.people.models import Member, MemberSkill, Registration

NOW = dt.datetime(2026, 6, 17, 3, 0, tzinfo=dt.UTC)  # a Wednesday, 11:00 in Shanghai: slot 4


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(params=["ids", "subquery", "whole"], autouse=True)
def plan(request, monkeypatch):
    """Every plan of load_batch: filter member tables in the database (by member ids or by the
    registration subquery), or read them whole."""
    monkeypatch.setattr(loading, "WHOLE_TABLE_SHARE", 0.0 if request.param == "whole" else float("inf"))
    if request.param == "subquery":
        monkeypatch.setattr(loading, "ID_LIST_MAX", 0)
    return request.param


def _reference(orders_qs, now):
    """The first loader, per row: the facts each order and member should carry."""
    rows = list(
        orders_qs.order_by("pk").values_list("pk", "community_id", "grid_id", "priority", "category_id", "resolve_by")
    )
    rules = {
        c: (s, name)
        for c, s, name in CategoryRule.objects.filter(
            category_id__in={r[4] for r in rows if r[4]}, required_skill__isnull=False, skill_required_to_claim=True
        ).values_list("category_id", "required_skill_id", "required_skill__name")
    }
    orders = [
        {
            "id": r[0],
            "community": r[1],
            "grid": -1 if r[2] is None else r[2],
            "priority": min(max(r[3], 1), 5),
            "skill": rules.get(r[4], (-1, None))[0],
            "skill_name": rules.get(r[4], (None, None))[1],
            "deadline": r[5],
        }
        for r in rows
    ]
    communities = {r[1] for r in rows}
    regs = Registration.objects.filter(
        community_id__in=communities, status=Registration.Status.APPROVED, member__isnull=False
    )
    sub = regs.values("member_id")
    members = {}
    for pk, home, grid, avail, cap, unit in Member.objects.filter(id__in=sub).values_list(
        "pk", "home_community_id", "home_grid_id", "availability", "load_cap", "unit_id"
    ):
        members[pk] = {
            "home": -1 if home is None else home,
            "grid": -1 if grid is None else grid,
            "availability": avail,
            "cap": cap,
            "unit": unit,
            "load": 0,
            "hours": 0.0,
            "rating": None,
            "skills": {},
            "registered": set(),
            "paired": set(),
        }
    for m, c in regs.values_list("member_id", "community_id"):
        members[m]["registered"].add(c)
    for m, s, lv in MemberSkill.objects.filter(member_id__in=sub).values_list("member_id", "skill_id", "level"):
        members[m]["skills"][s] = lv
    for m, n in (
        Order.objects.filter(assignee_id__in=sub, status__in=MEMBER_LOAD_STATUSES)
        .order_by()
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    ):
        members[m]["load"] = n
    for m, h in (
        ServiceRecord.objects.filter(member_id__in=sub, service_date__year=timezone.localdate(now).year)
        .order_by()
        .values("member_id")
        .annotate(h=Sum("hours"))
        .values_list("member_id", "h")
    ):
        members[m]["hours"] = float(h or 0)
    by_unit = defaultdict(set)
    for u, c in Pairing.objects.filter(community_id__in=communities).values_list("unit_id", "community_id"):
        by_unit[u].add(c)
    for m in members.values():
        m["paired"] = by_unit.get(m.pop("unit"), set())
    # Only members who could take an order: available now, with a needed skill if all need one.
    needed = {o["skill"] for o in orders}
    for pk in list(members):
        m = members[pk]
        if not m["availability"] >> slot_at(now) & 1 or (-1 not in needed and not needed & set(m["skills"])):
            del members[pk]
    total, count = defaultdict(float), defaultdict(int)
    for m, r, c in (
        Order.objects.filter(
            Q(closed_at__gte=now - dt.timedelta(days=RATING_DAYS))
            | Q(resolved_at__gte=now - dt.timedelta(days=RATING_DAYS)),
            assignee_id__in=sub,
            rating__in=list(RATING_VALUES),
        )
        .order_by()
        .values("assignee_id", "rating")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "rating", "n")
    ):
        if m in members:
            total[m] += RATING_VALUES[r] * c
            count[m] += c
    for m in total:
        members[m]["rating"] = total[m] / count[m]
    return orders, members


def _batch_facts(batch):
    ot, mt = batch.orders, batch.members
    orders = [
        {
            "id": int(batch.order_ids[i]),
            "community": int(ot.community[i]),
            "grid": int(ot.grid[i]),
            "priority": int(ot.priority[i]),
            "skill": int(ot.skill[i]),
            "skill_name": batch.order_skill_names[i],
            "deadline": batch.order_deadlines[i],
        }
        for i in range(len(batch.order_ids))
    ]
    members = {}
    for j, pk in enumerate(batch.member_ids.tolist()):
        spec = batch.member_spec(j)
        rating = float(mt.rating[j])
        members[pk] = {
            "home": int(mt.home[j]),
            "grid": int(mt.grid[j]),
            "availability": int(mt.availability[j]),
            "cap": int(mt.cap[j]),
            "load": int(mt.load[j]),
            "hours": float(mt.hours[j]),
            "rating": None if np.isnan(rating) else rating,
            "skills": dict(spec.skills),
            "registered": set(spec.registered_communities),
            "paired": set(spec.paired_communities),
        }
        assert spec.id == pk and spec.hours == members[pk]["hours"] and spec.rating == members[pk]["rating"]
    return orders, members


@pytest.fixture
def scene(world, personas):
    """Two communities' worth of members with every fact a member can carry, and open orders."""
    plumbing = t.make_skill("plumbing", "管道疏通")
    needs_plumbing = t.make_category(world.town, name="管道")
    CategoryRule.objects.create(category=needs_plumbing, required_skill=plumbing)
    optional = t.make_category(world.town, name="可选技能")
    CategoryRule.objects.create(category=optional, required_skill=world.electrical, skill_required_to_claim=False)
    free = t.make_category(world.town, name="无规则")
    other_unit = t.make_unit(world.town, code="U02", name="区教育局")
    Pairing.objects.create(unit=world.unit, community=world.a)
    Pairing.objects.create(unit=other_unit, community=world.a)
    Pairing.objects.create(unit=other_unit, community=world.b)
    members = [personas.member, personas.member_b]
    for i in range(8):
        m = t.make_member(
            unit=[None, world.unit, other_unit][i % 3],
            home_community=[None, world.a, world.b][i % 3],
            skills={world.electrical: 1 + i % 3, plumbing: 1 + (i + 1) % 3} if i % 2 else {plumbing: 3},
        )
        Member.objects.filter(pk=m.pk).update(
            home_grid=[None, world.a1, world.b1][i % 3], availability=(1 << 14) - 1 - (i << 3), load_cap=1 + i % 3
        )
        t.register_approved(m, world.a if i % 4 else world.b)
        if i % 3 == 0:
            t.register_approved(m, world.b if i % 4 else world.a)
        members.append(m)
    never_registered = t.make_member(skills={plumbing: 3})
    for k, m in enumerate(members[:6]):
        for j in range(k % 3):
            held = t.make_order(world.a, actor=personas.resident_user, status=["claimed", "dispatched"][j % 2])
            Order.objects.filter(pk=held.pk).update(assignee=m)
        credit_actions.record_service(
            m,
            hours=["2.5", "0.3", "7.1", "12", "0.1", "19.9"][k],
            source_type="manual",
            source_id=k,
            community=world.a,
            service_date=dt.date(2026, 3, 1),
            activity_name="服务",
            place="",
            content="",
            organizer="社区",
            leader="",
        )
        for j, rating in enumerate(["satisfied", "basically", "unsatisfied"][: k % 4]):
            done = t.make_order(world.a, actor=personas.resident_user, status="closed")
            Order.objects.filter(pk=done.pk).update(
                assignee=m, rating=rating, closed_at=NOW - dt.timedelta(days=10 + j * 100)
            )
    old = t.make_order(world.a, actor=personas.resident_user, status="closed")
    Order.objects.filter(pk=old.pk).update(
        assignee=members[1], rating="satisfied", closed_at=NOW - dt.timedelta(days=400)
    )
    opened = []
    for k, (community, category) in enumerate(
        [(world.a, needs_plumbing), (world.a, optional), (world.b, free), (world.b, None), (world.a, needs_plumbing)]
    ):
        o = t.make_order(community, actor=personas.resident_user, status="accepted")
        Order.objects.filter(pk=o.pk).update(
            priority=1 + k, category=category, grid=[world.a1, None][k % 2], resolve_by=NOW + dt.timedelta(days=k)
        )
        opened.append(o)
    return {"orders": opened, "never_registered": never_registered}


def test_columnar_loader_matches_the_per_row_reading(scene, django_assert_max_num_queries):
    qs = Order.objects.filter(status="accepted")
    with django_assert_max_num_queries(10):
        batch = load_batch(qs, now=NOW)
    want_orders, want_members = _reference(qs, NOW)
    got_orders, got_members = _batch_facts(batch)
    assert got_orders == want_orders
    assert got_members == want_members
    assert scene["never_registered"].pk not in got_members
    assert np.all(batch.orders.slot == slot_at(NOW)) and slot_at(NOW) == 4
    assert batch.member_ids.tolist() == sorted(batch.member_ids.tolist())
    # The facts that matter were exercised, not all defaults.
    assert {m["load"] for m in got_members.values()} >= {0, 1, 2}
    assert {m["rating"] for m in got_members.values()} >= {None, 5.0, 4.5}
    assert any(m["paired"] for m in got_members.values()) and any(m["hours"] % 1 for m in got_members.values())
    assert len(want_members) < Member.objects.count() - 1  # some are not available in slot 4
    assert [o["skill_name"] for o in got_orders].count("管道疏通") == 2


def test_query_count_is_constant(scene, world, personas, django_assert_max_num_queries):
    for _ in range(6):
        m = t.make_member(skills={world.electrical: 2}, unit=world.unit, home_community=world.a)
        t.register_approved(m, world.a)
        o = t.make_order(world.a, actor=personas.resident_user, status="claimed")
        Order.objects.filter(pk=o.pk).update(assignee=m)
    with django_assert_max_num_queries(10):
        batch = load_batch(Order.objects.filter(status="accepted"), now=NOW)
    assert len(batch.member_ids) >= 12


def test_empty_batch(world, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        batch = load_batch(Order.objects.none(), now=NOW)
    assert len(batch.order_ids) == 0 and len(batch.member_ids) == 0


def test_hours_sum_in_tenths_exactly(world, personas):
    for k, hours in enumerate(["0.1", "0.2", "0.4"]):
        credit_actions.record_service(
            personas.member,
            hours=hours,
            source_type="manual",
            source_id=100 + k,
            community=world.a,
            service_date=dt.date(2026, 2, 1),
            activity_name="服务",
            place="",
            content="",
            organizer="社区",
            leader="",
        )
    t.make_order(world.a, actor=personas.resident_user, status="accepted")
    batch = load_batch(Order.objects.filter(status="accepted"), now=NOW)
    j = batch.member_index[personas.member.pk]
    assert batch.members.hours[j] == float(Decimal("0.7")) == 0.7


def test_one_order_needing_a_skill_loads_only_members_who_have_it(scene, django_assert_max_num_queries):
    qs = Order.objects.filter(pk=scene["orders"][0].pk)
    with django_assert_max_num_queries(12):
        batch = load_batch(qs, now=NOW)
    want_orders, want_members = _reference(qs, NOW)
    got_orders, got_members = _batch_facts(batch)
    assert (got_orders, got_members) == (want_orders, want_members)
    plumbing = got_orders[0]["skill"]
    assert got_members and all(plumbing in m["skills"] for m in got_members.values())


@pytest.mark.parametrize("plan", ["ids"], indirect=True)
def test_one_order_reads_what_load_batch_reads(scene, world, plan, django_assert_max_num_queries):
    """load_order (one statement on PostgreSQL, the order page's suggestions) gives each order's
    batch exactly as load_batch does, with its town's weights."""
    DispatchWeights.objects.create(town=world.town, same_grid=150, good_rating_threshold=Decimal("4.5"), fairness=7)
    for order in scene["orders"]:
        with django_assert_max_num_queries(12):
            batch = load_order(order, now=NOW)
        want = load_batch(Order.objects.filter(pk=order.pk), now=NOW)
        assert _batch_facts(batch) == _batch_facts(want) == _reference(Order.objects.filter(pk=order.pk), NOW)
        assert batch.skill_names == want.skill_names
        assert batch.weights == weights_for_town(order.town_id) and batch.weights.same_grid == 150
    missing = Order(pk=10**9, town=world.town, community=world.a)
    empty = load_order(missing, now=NOW)
    assert len(empty.order_ids) == 0 and len(empty.member_ids) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("plan", ["whole"], indirect=True)
def test_parallel_connections_read_the_same_batch(scene, plan, monkeypatch):
    """Outside a transaction a whole-table batch spreads its queries over connections sharing one
    snapshot (PostgreSQL): the same batch as one connection reads."""
    from django.db import connection

    from linli.dispatch import columns

    if connection.vendor != "postgresql":
        pytest.skip("parallel reading is PostgreSQL's")
    assert not connection.in_atomic_block
    qs = Order.objects.filter(status="accepted")
    parallel = _batch_facts(load_batch(qs, now=NOW, parallel=True))
    monkeypatch.setattr(columns, "PARALLEL", 1)
    assert _batch_facts(load_batch(qs, now=NOW, parallel=True)) == parallel == _reference(qs, NOW)
    assert _batch_facts(load_batch(qs, now=NOW)) == parallel  # one connection, as a request reads


def test_the_slot_is_the_half_day_the_order_is_served_in():
    shanghai = dt.timezone(dt.timedelta(hours=8))
    wednesday = dt.date(2026, 6, 17)

    def at(hour, day=wednesday):
        return slot_at(dt.datetime(day.year, day.month, day.day, hour, 30, tzinfo=shanghai))

    assert at(9) == 4 and at(11) == 4  # Wednesday morning
    assert at(12) == 5 and at(17) == 5  # Wednesday afternoon
    assert at(18) == 6 and at(23) == 6  # evening: Thursday morning
    assert at(20, dt.date(2026, 6, 21)) == 0  # Sunday evening: Monday morning
