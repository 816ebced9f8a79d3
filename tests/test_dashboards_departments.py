"""The department league: escalations received, acknowledged in time (by the end of the next working
day on the town's calendar), resolved in time (before escalation_due), returned, reopened."""

import datetime as dt

import pytest
import time_machine

from linli import testing as t
from linli.accounts.models import Role
from linli.orders import actions
from linli.orders.models import Holiday
from linli.reports import dashboards as d
from tests.conftest import login
from tests.test_dashboards_figures import table

LOCAL = dt.timezone(dt.timedelta(hours=8))


def at(day, hour=10):
    return dt.datetime(2026, 3, day, hour, 0, tzinfo=LOCAL)


@pytest.fixture
def league(world, personas):
    p, w = personas, world
    category = t.make_category(w.town, name="市政设施")
    parks = t.make_department(w.town, name="园林局")
    t.make_department(w.town, name="住建局")  # nothing escalated to it: a row of zeros
    parks_user = t.make_user("parks", roles=[(Role.DEPARTMENT_STAFF, parks)])

    def escalate(when, department, due_days=3):
        with time_machine.travel(when, tick=False):
            order = t.make_order(w.a, actor=p.resident_user, household=w.hh_a1)
            actions.accept_order(order, actor=p.staff_a, category=category)
            actions.escalate_order(
                order, actor=p.staff_a, department=department, due=when + dt.timedelta(days=due_days)
            )
        return order

    def step(when, fn, *args, **kw):
        with time_machine.travel(when, tick=False):
            fn(*args, **kw)

    # 城管局 (w.dept):
    # 1. escalated Friday 6 March, acknowledged Monday 9 March: the next working day → in time;
    #    resolved Tuesday before its due (Monday + 3 days) → in time; rated 不满意 → reopened.
    o1 = escalate(at(6), w.dept, due_days=5)
    step(at(9), actions.acknowledge_order, o1, actor=p.dept)
    step(at(10), actions.resolve_order, o1, actor=p.dept, note="修好了")
    step(at(10, 15), actions.rate_order, o1, actor=p.resident_user, rating="unsatisfied")
    # 2. escalated Monday 2 March, acknowledged Wednesday 4 March → late; resolved after its due → late.
    o2 = escalate(at(2), w.dept, due_days=2)
    step(at(4), actions.acknowledge_order, o2, actor=p.dept)
    step(at(5), actions.resolve_order, o2, actor=p.dept, note="处理完毕")
    # 3. escalated and returned the same day (a bounce), never acknowledged.
    o3 = escalate(at(3), w.dept)
    step(at(3, 11), actions.return_order, o3, actor=p.dept, reason="不属本部门")
    # 4. escalated Wednesday 11 March, still waiting at noon on Thursday 12 March, due passed → overdue.
    escalate(at(11), w.dept, due_days=0.5)
    # 园林局: escalated Friday 13 March, Monday 16 March a holiday, acknowledged Tuesday 17 → in time.
    Holiday.objects.create(town=w.town, date=dt.date(2026, 3, 16), name="测试假日")
    o5 = escalate(at(13), parks, due_days=7)
    step(at(17), actions.acknowledge_order, o5, actor=parks_user)
    # 园林局: escalated Friday 13 March, acknowledged Wednesday 18 → late even with the holiday.
    o6 = escalate(at(13, 11), parks, due_days=7)
    step(at(18), actions.acknowledge_order, o6, actor=parks_user)
    return {"parks": parks}


def test_league_counts(world, personas, league):
    rows = {r.name: r for r in d.department_league(world.town, d.parse_period({}, dt.date(2026, 3, 20)), at(20))}
    city = rows["城管局"]
    assert (city.received, city.acknowledged, city.acknowledged_in_time) == (4, 2, 1)
    assert (city.resolved, city.resolved_in_time) == (2, 1)
    assert (city.returned, city.reopened) == (1, 1)
    assert (city.waiting, city.overdue) == (1, 1)
    parks = rows["园林局"]
    assert (parks.received, parks.acknowledged, parks.acknowledged_in_time) == (2, 2, 1)
    assert (parks.resolved, parks.returned, parks.waiting, parks.overdue) == (0, 0, 0, 0)
    housing = rows["住建局"]
    assert (housing.received, housing.ack_rate, housing.resolve_rate) == (0, None, None)


def test_league_page(world, personas, league):
    with time_machine.travel(at(20), tick=False):
        html = login(personas.town_admin).get(f"/towns/{world.town.pk}/departments/?sort=-received").content.decode()
    cells = table(html, "departments")
    by_name = {row["name"]: row for row in cells.rows.values()}
    assert [cells.rows[k]["name"] for k in cells.order] == ["城管局", "园林局", "住建局"]
    city = by_name["城管局"]
    assert city["received"] == "4" and city["ack_rate"] == "50.0% 1/2" and city["resolve_rate"] == "50.0% 1/2"
    assert city["returned"] == "1" and city["return_rate"] == "25.0% 1/4" and city["reopened"] == "1"
    assert city["waiting"] == "1" and city["overdue"] == "1"
    assert by_name["住建局"]["ack_rate"] == "— 0/0"

    # Sorting by a rate puts "—" last; ties keep the name order.
    def names(sort):
        with time_machine.travel(at(20), tick=False):
            html = login(personas.town_admin).get(f"/towns/{world.town.pk}/departments/?sort={sort}").content.decode()
        order = table(html, "departments")
        return [order.rows[k]["name"] for k in order.order]

    assert names("-resolve_rate") == ["城管局", "住建局", "园林局"]
    assert names("resolve_rate") == ["城管局", "住建局", "园林局"]
    assert names("-ack_rate") == ["园林局", "城管局", "住建局"]  # 50 % each: by name


def test_reopens_show_under_the_resolving_department_on_the_dashboard(world, personas, league):
    with time_machine.travel(at(20), tick=False):
        html = login(personas.town_admin).get(f"/towns/{world.town.pk}/dashboard/").content.decode()
    from tests.test_dashboards_figures import simple_rows

    assert simple_rows(html, "returns") == {"城管局": ["1", "1"]}


def test_next_workday():
    cal = d.workcal.Calendar(holidays=frozenset({dt.date(2026, 3, 16)}))
    assert d.next_workday(dt.date(2026, 3, 13), cal) == dt.date(2026, 3, 17)  # Fri → Tue over a holiday Monday
    assert d.next_workday(dt.date(2026, 3, 14), cal) == dt.date(2026, 3, 17)  # Saturday
    assert d.next_workday(dt.date(2026, 3, 2), cal) == dt.date(2026, 3, 3)
    makeup = d.workcal.Calendar(makeup_workdays=frozenset({dt.date(2026, 3, 7)}))
    assert d.next_workday(dt.date(2026, 3, 6), makeup) == dt.date(2026, 3, 7)  # 调休 Saturday
