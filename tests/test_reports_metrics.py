import datetime as dt

import time_machine

from linli import testing as t
from linli.orders import actions
from linli.reports.metrics import order_metrics

MON = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Asia/Shanghai, a Monday


def _through(order, p, category, *, rating=None):
    actions.accept_order(order, actor=p.staff_a, category=category)
    actions.dispatch_order(order, actor=p.staff_a, member=p.member)
    actions.claim_order(order, actor=p.member_user)
    actions.start_order(order, actor=p.member_user)
    actions.resolve_order(order, actor=p.member_user, note="好了", hours=1)
    if rating:
        actions.rate_order(order, actor=p.resident_user, rating=rating)


def test_three_rates_on_a_known_set(world, personas):
    p = personas
    category = t.make_category(world.town)
    with time_machine.travel(MON, tick=False):
        good = t.make_order(world.a, actor=p.resident_user, household=world.hh_a1)
        _through(good, p, category, rating="satisfied")
        basically = t.make_order(world.a, actor=p.resident_user, household=world.hh_a1)
        _through(basically, p, category, rating="basically")
        unhappy = t.make_order(world.a, actor=p.resident_user, household=world.hh_a1)
        _through(unhappy, p, category, rating="unsatisfied")  # reopened → accepted again
        slow = t.make_order(world.a, actor=p.resident_user, household=world.hh_a1)
        actions.accept_order(slow, actor=p.staff_a, category=category)
        bounced = t.make_order(world.a, actor=p.resident_user, household=world.hh_a1)
        actions.accept_order(bounced, actor=p.staff_a, category=category)
        actions.escalate_order(bounced, actor=p.staff_a, department=world.dept, due=MON + dt.timedelta(days=2))
        actions.return_order(bounced, actor=p.dept, reason="非本部门职责")
        t.make_order(world.b, actor=p.resident_user, address="和平村1组")  # other community: not counted
    # Slow gets dispatched a day later: responded late.
    with time_machine.travel(MON + dt.timedelta(days=1), tick=False):
        actions.dispatch_order(slow, actor=p.staff_a, pool=True)
    now = MON + dt.timedelta(days=30)
    m = order_metrics(MON - dt.timedelta(days=1), MON + dt.timedelta(days=7), community=world.a, now=now)
    assert m.submitted == 5
    assert m.accepted == 5
    # In time: good, basically, unhappy (dispatched at once), bounced (escalated at once); slow was late.
    assert m.responded_in_time == 4
    assert m.response_rate == 4 / 5
    # All five are due by now; good and basically were resolved in time (unhappy's reopen cleared
    # resolved_at and restamped resolve_by; it is not resolved now).
    assert m.due == 5
    assert m.resolved_in_time == 2
    assert m.rated == 3
    assert m.satisfied == 2
    assert m.satisfaction_rate == 2 / 3
    assert m.reopened == 1
    assert m.bounced == 1
    assert m.overdue_now == 3  # unhappy, slow, bounced are open past resolve_by
    assert m.mean_respond is not None and m.mean_resolve is not None


def test_zero_denominators_are_none(world):
    m = order_metrics(MON, MON + dt.timedelta(days=1), town=world.town, now=MON)
    assert (m.response_rate, m.resolve_rate, m.satisfaction_rate) == (None, None, None)
