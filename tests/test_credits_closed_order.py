"""credit_closed_order / credit_reopened_order: a closed order becomes service records and points.

linli.orders.actions calls these when an order closes or a 不满意 rating reopens it. Here the
order goes through its real actions and the tests call the credit functions after the close
too: they are idempotent, so the tests hold with the orders wiring in place and without it,
and they assert the ledgers' state rather than what one call returned.
"""

from decimal import Decimal

import pytest
from django.db.models import Sum

from linli import testing as t
from linli.credits import actions as credits
from linli.credits.models import PointEntry, ServiceKind, ServiceKindRule, ServiceRecord
from linli.orders import actions as orders
from linli.orders.models import Order, Rating


@pytest.fixture
def flow(world, personas):
    category = t.make_category(world.town, name="水电维修")
    helper_user = t.make_user(name="党员丙")
    helper = t.make_member(user=helper_user, name="党员丙")
    t.register_approved(helper, world.a)

    def resolved(*, pool=True, hours="2.0", team=None, priority=3):
        order = t.make_order(world.a, actor=personas.resident_user, title="厨房水管漏水", address="幸福路1号")
        orders.accept_order(order, actor=personas.staff_a, category=category, priority=priority)
        if pool:
            orders.dispatch_order(order, actor=personas.staff_a, pool=True)
        else:
            orders.dispatch_order(order, actor=personas.staff_a, member=personas.member)
        orders.claim_order(order, actor=personas.member_user)
        orders.start_order(order, actor=personas.member_user)
        orders.resolve_order(order, actor=personas.member_user, note="已更换水管", hours=hours, team_hours=team)
        return order

    return type("Flow", (), {"resolved": staticmethod(resolved), "helper": helper, "category": category})


def _points(member, rule=None):
    qs = PointEntry.objects.filter(member=member)
    if rule:
        qs = qs.filter(rule__code=rule)
    return qs.aggregate(s=Sum("points"))["s"] or Decimal(0)


def test_a_rated_order_credits_hours_and_points(flow, personas, world):
    order = flow.resolved(hours="2.5")
    orders.rate_order(order, actor=personas.resident_user, rating=Rating.SATISFIED)
    credits.credit_closed_order(order, actor=None)
    record = ServiceRecord.objects.get(member=personas.member)
    assert (record.source_type, record.source_id, record.hours) == ("order", order.pk, Decimal("2.5"))
    assert record.kind == ServiceKind.REGISTRATION  # orders default to 下沉/报到 service
    assert (record.activity_name, record.place, record.content) == ("厨房水管漏水", "幸福路1号", "已更换水管")
    assert (record.organizer, record.leader) == ("幸福社区", "社区A工作人员")
    assert record.category == flow.category
    # 1 point per hour + pool bonus 2 + satisfied bonus 1 (the default rules).
    assert _points(personas.member, "service_hours") == Decimal("2.5")
    assert _points(personas.member, "pool_claim") == Decimal("2.0")
    assert _points(personas.member, "satisfied") == Decimal("1.0")
    assert _points(personas.member) == Decimal("5.5")


def test_crediting_twice_credits_once(flow, personas):
    order = flow.resolved()
    orders.rate_order(order, actor=personas.resident_user, rating=Rating.BASICALLY)
    credits.credit_closed_order(order)
    assert credits.credit_closed_order(order) == []  # nothing new the second time
    assert ServiceRecord.objects.count() == 1
    assert PointEntry.objects.count() == 2  # hours + pool; 基本满意 has no bonus


def test_a_dispatched_order_earns_no_pool_bonus(flow, personas):
    order = flow.resolved(pool=False)
    orders.close_unrated_order(order)
    credits.credit_closed_order(order)
    assert _points(personas.member, "pool_claim") == 0
    assert _points(personas.member, "service_hours") == Decimal("2.0")


def test_team_members_each_get_their_declared_hours(flow, personas):
    order = flow.resolved(hours="3.0", team={flow.helper: "1.5"})
    orders.rate_order(order, actor=personas.resident_user, rating=Rating.SATISFIED)
    credits.credit_closed_order(order)
    hours = dict(ServiceRecord.objects.values_list("member_id", "hours"))
    assert hours == {personas.member.pk: Decimal("3.0"), flow.helper.pk: Decimal("1.5")}
    # Only the claimer claimed from the pool; both get the satisfied bonus.
    assert _points(flow.helper, "pool_claim") == 0
    assert _points(flow.helper, "satisfied") == Decimal("1.0")


def test_emergency_orders_earn_the_emergency_bonus(flow, personas):
    order = flow.resolved(priority=5)
    orders.close_unrated_order(order)
    credits.credit_closed_order(order)
    assert _points(personas.member, "emergency") == Decimal("5.0")


def test_only_the_last_resolution_counts_and_unsatisfied_deducts(flow, personas, world):
    order = flow.resolved(hours="4.0")
    orders.rate_order(order, actor=personas.resident_user, rating=Rating.UNSATISFIED, comment="还在漏")
    # At reopen time: the deduction lands at once, for the member who caused it, once.
    credits.credit_reopened_order(order, personas.member)
    credits.credit_reopened_order(order, personas.member)
    assert credits.credit_reopened_order(order, flow.helper) is None  # not the helper's doing
    assert _points(personas.member, "unsatisfied") == Decimal("-3.0")
    # Second round: the helper fixes it.
    orders.dispatch_order(order, actor=personas.staff_a, member=flow.helper)
    user = flow.helper.user
    orders.claim_order(order, actor=user)
    orders.start_order(order, actor=user)
    orders.resolve_order(order, actor=user, note="彻底修好", hours="1.0")
    orders.rate_order(order, actor=personas.resident_user, rating=Rating.SATISFIED)
    credits.credit_closed_order(order)
    assert list(ServiceRecord.objects.values_list("member_id", "hours")) == [(flow.helper.pk, Decimal("1.0"))]
    assert _points(personas.member) == Decimal("-3.0")  # the first round earned nothing
    assert _points(flow.helper) == Decimal("2.0")  # 1 h + satisfied; dispatched, no pool bonus


def test_close_alone_also_deducts_for_unsatisfied_reopens(flow, personas):
    # If only credit_closed_order is wired, the deduction is written at close.
    order = flow.resolved()
    orders.rate_order(order, actor=personas.resident_user, rating=Rating.UNSATISFIED)
    orders.dispatch_order(order, actor=personas.staff_a, member=personas.member)
    orders.claim_order(order, actor=personas.member_user)
    orders.start_order(order, actor=personas.member_user)
    orders.resolve_order(order, actor=personas.member_user, note="好了", hours="1.0")
    orders.rate_order(order, actor=personas.resident_user, rating=Rating.SATISFIED)
    credits.credit_closed_order(order)
    credits.credit_reopened_order(order, personas.member)  # both wired: still once
    assert _points(personas.member, "unsatisfied") == Decimal("-3.0")
    assert _points(personas.member) == Decimal("-1.0")  # 1 h + 1 satisfied − 3


def test_a_staff_reopen_is_not_a_deduction(flow, personas):
    order = flow.resolved()
    orders.reopen_order(order, actor=personas.staff_a, reason="回访发现未修好")
    assert credits.credit_reopened_order(order, personas.member) is None


def test_the_category_rule_makes_an_order_volunteer_service(flow, personas, world):
    ServiceKindRule.objects.create(community=world.a, source="order", category=flow.category, kind="volunteer")
    order = flow.resolved()
    orders.close_unrated_order(order)
    credits.credit_closed_order(order)
    assert ServiceRecord.objects.get().kind == ServiceKind.VOLUNTEER


def test_the_first_call_returns_the_records_it_created(flow, personas):
    order = flow.resolved(hours="1.5", team={flow.helper: "1.0"})
    # The order's state is arranged as closed without going through the (wired) close action.
    Order.objects.filter(pk=order.pk).update(status="closed")  # arrange only
    created = credits.credit_closed_order(order)
    assert sorted(r.member_id for r in created) == sorted([personas.member.pk, flow.helper.pk])


def test_a_department_resolution_credits_nobody(world, personas, flow):
    order = t.make_order(world.a, actor=personas.resident_user)
    orders.accept_order(order, actor=personas.staff_a, category=flow.category)
    orders.escalate_order(order, actor=personas.staff_a, department=world.dept)
    orders.acknowledge_order(order, actor=personas.dept)
    orders.resolve_order(order, actor=personas.dept, note="已处理")
    orders.close_unrated_order(order)
    assert credits.credit_closed_order(order) == []
    assert not PointEntry.objects.exists()


def test_the_rating_is_this_closes_not_a_leftover(flow, personas):
    order = flow.resolved()
    orders.rate_order(order, actor=personas.resident_user, rating=Rating.SATISFIED)
    credits.credit_closed_order(order)
    orders.reopen_order(order, actor=personas.staff_a, reason="回访发现复发")
    orders.dispatch_order(order, actor=personas.staff_a, member=flow.helper)
    orders.claim_order(order, actor=flow.helper.user)
    orders.start_order(order, actor=flow.helper.user)
    orders.resolve_order(order, actor=flow.helper.user, note="再次维修", hours="1.0")
    orders.close_unrated_order(order)  # order.rating still says 满意 from the first round
    credits.credit_closed_order(order)
    assert _points(flow.helper) == Decimal("1.0")  # hours only
    assert _points(personas.member) == Decimal("5.0")  # 2 h + pool 2 + satisfied 1, once
