"""company_scores: property companies scored from residents' ratings, resolve-in-time and reopen
rates and staff inspections, by SQL aggregation; the rule's thresholds and minimum orders.

The `companies` fixture here is shared by the other tests/test_lists_*.py files.
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli import testing as t
from linli.accounts.models import Role
from linli.orders.models import Order, OrderEvent, Rating
from linli.orders.models import Status as S
from linli.orgs.models import Building
from linli.reports.feedback import Period, company_scores
from linli.reports.models import Inspection, ListRule

TZ = dt.timezone(dt.timedelta(hours=8))
Q2 = Period.parse("2026Q2")


def at(month, day, hour=10):
    return dt.datetime(2026, month, day, hour, 0, tzinfo=TZ)


@pytest.fixture
def clock(db):
    with time_machine.travel(at(7, 2), tick=False) as traveller:
        yield traveller


def property_order(household, category, *, accepted, due, resolved=None, rating=None, reopened=False):
    """An order whose facts and events are arranged directly (the scores read only these)."""
    order = t.make_order(household.building.grid.community, household=household, category=category)
    Order.objects.filter(pk=order.pk).update(  # arrange only
        status=S.CLOSED if rating in (Rating.SATISFIED, Rating.BASICALLY) else S.ACCEPTED,
        accepted_at=accepted,
        resolve_by=due,
        resolved_at=None if reopened else resolved,
    )
    if resolved:
        OrderEvent.objects.create(order=order, at=resolved, from_status=S.IN_PROGRESS, to_status=S.RESOLVED)
    if rating in (Rating.SATISFIED, Rating.BASICALLY):
        OrderEvent.objects.create(
            order=order,
            at=resolved + dt.timedelta(hours=5),
            from_status=S.RESOLVED,
            to_status=S.CLOSED,
            data={"rating": rating},
        )
    if reopened:
        OrderEvent.objects.create(
            order=order,
            at=resolved + dt.timedelta(hours=5),
            kind=OrderEvent.Kind.REOPEN,
            from_status=S.RESOLVED,
            to_status=S.ACCEPTED,
            data={"rating": Rating.UNSATISFIED if rating == Rating.UNSATISFIED else ""},
        )
    return order


def inspect(company, estate, day, score, inspector):
    return Inspection.objects.create(
        company=company, estate=estate, date=day, score=score, inspector=inspector, recorded_at=at(6, 30)
    )


@pytest.fixture
def companies(clock, personas, world):
    return build_companies(personas, world)


def build_companies(personas, world):
    """Q2 2026 in world.town: 安居物业 (world.company) does badly, 良好物业 well, 小物业 has too few orders."""
    w = world
    category = t.make_category(w.town, name="物业管理", is_property=True)
    other = t.make_category(w.town, name="水电维修")
    good = t.make_company(w.town, name="良好物业")
    small = t.make_company(w.town, name="小物业")
    bad_estate = t.make_estate(w.a, w.company, name="幸福家园")
    good_estate = t.make_estate(w.a, good, name="阳光小区")
    small_estate = t.make_estate(w.b, small, name="和平苑")
    Building.objects.filter(pk=w.hh_a1.building_id).update(estate=bad_estate)  # arrange only
    Building.objects.filter(pk=w.hh_a2.building_id).update(estate=good_estate)
    Building.objects.filter(pk=w.hh_b1.building_id).update(estate=small_estate)
    for hh in (w.hh_a1, w.hh_a2, w.hh_b1):
        hh.refresh_from_db()

    # 安居物业: 6 orders due, 2 on time; 1 满意, 3 不满意 (reopened); 6 resolutions, 3 reopenings.
    for i in range(6):
        accepted = at(4, 1 + i)
        due = accepted + dt.timedelta(days=3)
        resolved = due - dt.timedelta(hours=1) if i < 2 else due + dt.timedelta(days=2)
        rating = Rating.SATISFIED if i == 0 else Rating.UNSATISFIED if i in (2, 3, 4) else None
        property_order(
            w.hh_a1, category, accepted=accepted, due=due, resolved=resolved, rating=rating, reopened=i in (2, 3, 4)
        )
    # Not property, or outside the period: not counted.
    property_order(
        w.hh_a1, other, accepted=at(5, 1), due=at(5, 4), resolved=at(5, 9), rating=Rating.UNSATISFIED, reopened=True
    )
    property_order(w.hh_a1, category, accepted=at(3, 1), due=at(3, 4), resolved=at(3, 9))
    inspect(w.company, bad_estate, dt.date(2026, 5, 10), 40, personas.town_admin)
    inspect(w.company, bad_estate, dt.date(2026, 3, 10), 100, personas.town_admin)  # Q1: not counted

    # 良好物业: 5 orders all on time and 满意; inspections 90 and 100.
    for i in range(5):
        accepted = at(5, 1 + i)
        property_order(
            w.hh_a2,
            category,
            accepted=accepted,
            due=accepted + dt.timedelta(days=3),
            resolved=accepted + dt.timedelta(days=1),
            rating=Rating.SATISFIED if i % 2 else Rating.BASICALLY,
        )
    inspect(good, good_estate, dt.date(2026, 6, 1), 90, personas.town_admin)
    inspect(good, good_estate, dt.date(2026, 6, 15), 100, personas.town_admin)

    # 小物业: 2 orders, both fine — too few to be scored onto a list.
    for i in range(2):
        accepted = at(6, 1 + i)
        property_order(
            w.hh_b1,
            category,
            accepted=accepted,
            due=accepted + dt.timedelta(days=3),
            resolved=accepted + dt.timedelta(hours=3),
            rating=Rating.SATISFIED,
        )
    staff = t.make_user("property_good", roles=[(Role.PROPERTY_STAFF, good)], name="良好物业员工")
    return SimpleNamespace(
        bad=w.company,
        good=good,
        small=small,
        estates=(bad_estate, good_estate, small_estate),
        category=category,
        good_staff=staff,
    )


def by_name(scores):
    return {s.name: s for s in scores}


def test_each_company_is_scored_from_its_property_orders_and_inspections(companies, world):
    scores = by_name(company_scores(world.town, period=Q2, rule=ListRule(town=world.town)))
    bad = scores["安居物业"]
    assert (bad.orders, bad.due, bad.on_time) == (6, 6, 2)
    assert (bad.satisfied, bad.unsatisfied, bad.resolutions, bad.reopens) == (1, 3, 6, 3)
    assert (bad.inspections, bad.inspection_avg) == (1, Decimal("40.0"))
    assert bad.components == {
        "satisfaction": Decimal("25.0"),
        "on_time": Decimal("33.3"),
        "reopen": Decimal("50.0"),
        "inspection": Decimal("40.0"),
    }
    # (40×25 + 25×33.3 + 15×50 + 20×40) / 100
    assert bad.score == Decimal("33.8")
    assert bad.kind == "black" and bad.eligible
    assert bad.estates == ["幸福家园"]
    assert bad.reasons[0] == "综合得分 33.8，低于黑榜分数线 60.0"
    assert "群众满意率 25.0%（满意/基本满意 1 件，不满意 3 件）" in bad.reasons
    assert "按时办结率 33.3%（到期 6 件，按时办结 2 件）" in bad.reasons

    good = scores["良好物业"]
    assert (good.orders, good.on_time, good.satisfied, good.reopens) == (5, 5, 5, 0)
    assert good.score == Decimal("99.0") and good.kind == "red"

    small = scores["小物业"]
    assert small.orders == 2 and not small.eligible and small.kind == ""
    assert "样本不足" in small.reasons[0]


def test_best_first(companies, world):
    names = [s.name for s in company_scores(world.town, period=Q2, rule=ListRule(town=world.town))]
    assert names == ["小物业", "良好物业", "安居物业"]  # 小物业 scores 100 on its two orders


def test_the_towns_rule_sets_weights_thresholds_and_minimum(companies, world):
    rule = ListRule(
        town=world.town,
        weight_satisfaction=0,
        weight_on_time=0,
        weight_reopen=0,
        weight_inspection=1,
        red_threshold=Decimal("95"),
        black_threshold=Decimal("30"),
        min_orders=1,
    )
    scores = by_name(company_scores(world.town, period=Q2, rule=rule))
    assert scores["安居物业"].score == Decimal("40.0") and scores["安居物业"].kind == ""
    assert scores["良好物业"].score == Decimal("95.0") and scores["良好物业"].kind == "red"
    # No inspection: the component is left out, and with no other weight there is no score.
    assert scores["小物业"].score is None and not scores["小物业"].eligible


def test_orders_still_open_are_not_due_before_their_deadline(companies, world, clock):
    accepted = at(6, 29)
    property_order(world.hh_a2, companies.category, accepted=accepted, due=at(7, 9))
    good = by_name(company_scores(world.town, period=Q2, rule=ListRule(town=world.town)))["良好物业"]
    assert (good.orders, good.due) == (6, 5)


def test_one_query_whatever_the_number_of_companies(companies, world):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            company_scores(world.town, period=Q2, rule=ListRule(town=world.town))
        return len(ctx)

    before = count()
    for i in range(4):
        t.make_estate(world.a, t.make_company(world.town, name=f"新物业{i}"))
    assert count() == before == 2  # the companies with their figures, then their estates
