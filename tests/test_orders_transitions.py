"""The order state machine: every (from, to) pair, and every action from every status."""

import datetime as dt

import pytest

from linli import testing as t
from linli.lib.errors import Conflict, NotAllowed
from linli.orders import actions
from linli.orders.models import TRANSITIONS, Order, OrderEvent, Status

ALL = Status.values


@pytest.mark.parametrize(("start", "target"), [(a, b) for a in ALL for b in ALL])
def test_transition_table_pair(world, start, target):
    order = t.make_order(world.a, status=start)
    if target in TRANSITIONS[start]:
        event = actions._transition(order, target, actor=None)
        assert Order.objects.get(pk=order.pk).status == target
        assert (event.from_status, event.to_status) == (start, target)
    else:
        with pytest.raises(Conflict):
            actions._transition(order, target, actor=None)
        assert Order.objects.get(pk=order.pk).status == start
        assert not OrderEvent.objects.filter(order=order, from_status=start).exists()


@pytest.fixture
def ctx(world, personas):
    category = t.make_category(world.town, name="水电维修")
    return world, personas, category


def _prepare(order, world, personas, category):
    """Give an order the fields its status implies (assignee, department)."""
    fields = {"category": category}
    if order.status in ("dispatched", "claimed", "in_progress"):
        fields["assignee"] = personas.member
    if order.status in ("escalated", "acknowledged"):
        fields["department"] = world.dept
    Order.objects.filter(pk=order.pk).update(**fields)
    order.refresh_from_db()


def _actions(world, p, category):
    future = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
    return {
        "accept": (lambda o: actions.accept_order(o, actor=p.staff_a, category=category), {"submitted"}),
        "reject": (lambda o: actions.reject_order(o, actor=p.staff_a, reason="不属实"), {"submitted"}),
        "cancel": (lambda o: actions.cancel_order(o, actor=p.resident_user), {"submitted", "accepted"}),
        "dispatch_member": (
            lambda o: actions.dispatch_order(o, actor=p.staff_a, member=p.member),
            {"accepted"},
        ),
        "dispatch_pool": (lambda o: actions.dispatch_order(o, actor=p.staff_a, pool=True), {"accepted"}),
        "recall": (
            lambda o: actions.recall_order(o, actor=p.staff_a),
            {"dispatched", "pooled", "claimed", "in_progress"},
        ),
        "claim": (lambda o: actions.claim_order(o, actor=p.member_user), {"dispatched", "pooled"}),
        "decline": (
            lambda o: actions.decline_order(o, actor=p.member_user, reason="没时间"),
            {"dispatched", "claimed", "in_progress"},
        ),
        "start": (lambda o: actions.start_order(o, actor=p.member_user), {"claimed"}),
        "resolve": (lambda o: actions.resolve_order(o, actor=p.member_user, note="已修好", hours=2), {"in_progress"}),
        "rate": (lambda o: actions.rate_order(o, actor=p.resident_user, rating="satisfied"), {"resolved"}),
        "reopen": (lambda o: actions.reopen_order(o, actor=p.staff_a, reason="回访不满意"), {"resolved", "closed"}),
        "escalate": (
            lambda o: actions.escalate_order(o, actor=p.staff_a, department=world.dept, due=future),
            {"accepted"},
        ),
        "acknowledge": (lambda o: actions.acknowledge_order(o, actor=p.dept), {"escalated"}),
        "return": (
            lambda o: actions.return_order(o, actor=p.dept, reason="不属本部门职责"),
            {"escalated", "acknowledged"},
        ),
    }


ACTION_NAMES = [
    "accept",
    "reject",
    "cancel",
    "dispatch_member",
    "dispatch_pool",
    "recall",
    "claim",
    "decline",
    "start",
    "resolve",
    "rate",
    "reopen",
    "escalate",
    "acknowledge",
    "return",
]


@pytest.mark.parametrize("status", ALL)
@pytest.mark.parametrize("name", ACTION_NAMES)
def test_action_from_every_status(ctx, name, status):
    world, p, category = ctx
    do, sources = _actions(world, p, category)[name]
    order = t.make_order(world.a, actor=p.resident_user, household=world.hh_a1, status=status)
    _prepare(order, world, p, category)
    events_before = order.events.count()
    if status in sources:
        do(order)
        assert Order.objects.get(pk=order.pk).status != status
        assert order.events.count() == events_before + 1
    else:
        # Conflict (409) for a wrong status; NotAllowed where the actor's right itself depends on
        # the status (a department may act only on orders escalated to it).
        with pytest.raises((Conflict, NotAllowed)):
            do(order)
        assert Order.objects.get(pk=order.pk).status == status
        assert order.events.count() == events_before


def test_recall_from_claimed_is_not_in_table_for_in_progress_only_via_decline(world):
    # Documented: a claimed/in-progress order goes back to the queue (ACCEPTED); TRANSITIONS says so.
    assert Status.ACCEPTED in TRANSITIONS[Status.CLAIMED]
    assert Status.ACCEPTED in TRANSITIONS[Status.IN_PROGRESS]
