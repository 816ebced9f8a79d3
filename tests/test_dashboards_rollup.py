"""The daily roll-up (OrderEventDay) gives the dashboards exactly the figures of the live computation."""

import dataclasses
import datetime as dt
import random

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from linli import testing as t
from linli.lib.errors import Conflict, DomainError
from linli.orders import actions
from linli.reports import dashboard_rollup as rollup
from linli.reports import dashboards as d
from linli.reports.metrics import order_metrics
from linli.reports.models import OrderEventDay, OrderEventDayMark

NOW = dt.datetime(2026, 3, 12, 7, 30, tzinfo=dt.UTC)  # 15:30 in Asia/Shanghai
PERIODS = ({"period": "month"}, {"period": "last_month"}, {"period": "quarter"}, {"period": "year"})
CUSTOM = {"start": "2026-02-10", "end": "2026-03-12"}


def _walk(rng, order, when, p, w, category):
    """Random transitions of one order from `when` on, each a few hours after the last, never past NOW."""

    def at(hours):
        nonlocal when
        when = min(when + dt.timedelta(hours=hours), NOW - dt.timedelta(minutes=1))
        return time_machine.travel(when, tick=False)

    resident = p.resident_user
    try:
        with at(rng.uniform(0, 30)):
            actions.accept_order(order, actor=p.staff_a, category=category)
        if rng.random() < 0.1:
            return
        for _round in range(2):
            if rng.random() < 0.3:
                with at(rng.uniform(0, 5)):
                    actions.escalate_order(order, actor=p.staff_a, department=w.dept)
                if rng.random() < 0.3:
                    with at(rng.uniform(1, 40)):
                        actions.return_order(order, actor=p.dept, reason="非本部门职责")
                    return
                with at(rng.uniform(1, 40)):
                    actions.acknowledge_order(order, actor=p.dept)
                with at(rng.uniform(1, 80)):
                    actions.resolve_order(order, actor=p.dept, note="已办")
            else:
                with at(rng.uniform(0, 5)):
                    actions.dispatch_order(order, actor=p.staff_a, member=p.member)
                with at(rng.uniform(0, 3)):
                    actions.claim_order(order, actor=p.member_user)
                    actions.start_order(order, actor=p.member_user)
                with at(rng.uniform(1, 80)):
                    actions.resolve_order(order, actor=p.member_user, note="好了", hours=1)
            if rng.random() < 0.15:
                return  # left resolved, unrated
            rating = rng.choice(["satisfied", "basically", "unsatisfied"])
            with at(rng.uniform(1, 50)):
                actions.rate_order(order, actor=resident, rating=rating)
            if rating != "unsatisfied":
                if rng.random() < 0.1:
                    with at(rng.uniform(1, 50)):
                        actions.reopen_order(order, actor=p.staff_a, reason="回访不满意")
                    continue
                return
    except (DomainError, Conflict):
        return


def _random_orders(world, personas, seed, n=40):
    p, w = personas, world
    rng = random.Random(seed)
    categories = [t.make_category(w.town, name=f"类别{i}") for i in range(3)]
    households = [(w.a, w.hh_a1), (w.a, w.hh_a2), (w.b, w.hh_b1)]
    for _ in range(n):
        # Over ~75 days up to NOW: last year's December to today, today's events included.
        when = NOW - dt.timedelta(hours=rng.uniform(0, 75 * 24))
        community, household = rng.choice(households)
        if community == w.b:
            with time_machine.travel(when, tick=False):
                order = t.make_order(community, household=household)
                if rng.random() < 0.7:
                    actions.accept_order(order, actor=p.staff_b, category=rng.choice(categories))
            continue
        with time_machine.travel(when, tick=False):
            order = t.make_order(community, actor=p.resident_user, household=household)
        _walk(rng, order, when, p, w, rng.choice(categories))
    # Today, before NOW: a whole loop, so that today's live part has closes, reopens and bounces.
    today = NOW - dt.timedelta(hours=5)
    for rating in ("satisfied", "unsatisfied"):
        with time_machine.travel(today, tick=False):
            order = t.make_order(w.a, actor=p.resident_user, household=w.hh_a1)
            actions.accept_order(order, actor=p.staff_a, category=categories[0])
            actions.dispatch_order(order, actor=p.staff_a, member=p.member)
            actions.claim_order(order, actor=p.member_user)
            actions.start_order(order, actor=p.member_user)
            actions.resolve_order(order, actor=p.member_user, note="好了", hours=1)
            actions.rate_order(order, actor=p.resident_user, rating=rating)
    with time_machine.travel(today + dt.timedelta(minutes=30), tick=False):
        order = t.make_order(w.a, household=w.hh_a2)
        actions.accept_order(order, actor=p.staff_a, category=categories[1])
        actions.escalate_order(order, actor=p.staff_a, department=w.dept)
        actions.return_order(order, actor=p.dept, reason="非本部门职责")


def _plain(value):
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    return value


def _figures(scope, params, now, today, fast=False):
    """What the dashboards show; `fast`: as the pages compute it (one pass over the orders: order_cells)."""
    period = d.parse_period(params, today)
    events = d.MonthlyEvents(scope, period)
    sizings = d.grid_sizings(scope)
    cells = d.order_cells(scope, period, now) if fast else None
    return {
        "rates": _plain(d.three_rates(scope, period, now, cells)),
        "trend": _plain(d.monthly_trend(scope, period, now, events, cells)),
        "breakdown": _plain(d.breakdown(scope, period, now, sizings, events, cells)) if scope.grid is None else None,
        "breakdown_alone": _plain(d.breakdown(scope, period, now, sizings)) if scope.grid is None else None,
        "returns": d.returns_by_department(scope, period),
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_rolled_up_figures_equal_the_live_ones(world, personas, seed):
    _random_orders(world, personas, seed)
    with time_machine.travel(NOW, tick=False):
        call_command("rollup_order_events", verbosity=0)
        now, today = timezone.now(), timezone.localdate()
        through = rollup.rolled_through()
        assert through == today - dt.timedelta(days=1)
        assert OrderEventDay.objects.filter(satisfied__gt=0).exists()
        assert OrderEventDay.objects.filter(department__isnull=False).exists()
        w = world
        for live in (d.Scope(town=w.town), d.Scope(town=w.town, community=w.a), d.Scope(w.town, w.a, w.a1)):
            rolled = dataclasses.replace(live, through=through)
            for params in (*PERIODS, CUSTOM):
                expected = _figures(live, params, now, today)
                assert _figures(rolled, params, now, today) == expected, (live.level, params)
                assert _figures(rolled, params, now, today, fast=True) == expected, (live.level, params, "cells")
            # And the live reading is order_metrics' own (events counted by metrics.py).
            period = d.parse_period({"period": "quarter"}, today)
            current, _before = d.three_rates(rolled, period, now)
            assert current == order_metrics(d.aware(period.start), d.aware(period.end), now=now, **live.metrics_kwargs)


def test_rollup_is_idempotent_and_resumes(world, personas):
    _random_orders(world, personas, 3, n=20)

    def snapshot():
        fields = ("day", "town_id", "community_id", "grid_id", "department_id", *rollup.FIGURES)
        return sorted(OrderEventDay.objects.values_list(*fields), key=repr)

    with time_machine.travel(NOW, tick=False):
        call_command("rollup_order_events", verbosity=0)
        first = snapshot()
        built_at = OrderEventDayMark.objects.get().built_at
        call_command("rollup_order_events", verbosity=0)  # nothing new to build
        assert snapshot() == first
        assert OrderEventDayMark.objects.get().built_at == built_at
        call_command("rollup_order_events", "--rebuild", verbosity=0)
        assert snapshot() == first
        call_command("rollup_order_events", since="2026-03-01", verbosity=0)
        assert snapshot() == first
    # A day is rolled up only once it is over (and settled): just after midnight, yesterday waits.
    midnight = dt.datetime(2026, 3, 12, 16, 5, tzinfo=dt.UTC)  # 00:05 on the 13th in Shanghai
    with time_machine.travel(midnight, tick=False):
        assert rollup.last_finished_day(timezone.now()) == dt.date(2026, 3, 11)
    with time_machine.travel(midnight + dt.timedelta(minutes=10), tick=False):
        assert rollup.last_finished_day(timezone.now()) == dt.date(2026, 3, 12)


def test_sweep_builds_the_rollup(world, personas):
    _random_orders(world, personas, 4, n=5)
    with time_machine.travel(NOW, tick=False):
        call_command("sweep", verbosity=0)
        assert rollup.rolled_through() == timezone.localdate() - dt.timedelta(days=1)
