import pytest

from linli import testing as t
from linli.accounts.models import Notification
from linli.dispatch import actions
from linli.dispatch.loading import DispatchScope
from linli.dispatch.models import DispatchRun
from linli.lib.errors import Conflict, NotAllowed
from linli.orders import actions as order_actions
from linli.orders.models import CategoryRule, Order, OrderEvent
from tests.conftest import login


def _accepted(world, personas, n, *, category=None, household=None):
    out = []
    for _ in range(n):
        o = t.make_order(world.a, actor=personas.resident_user, household=household or world.hh_a1)
        order_actions.accept_order(o, actor=personas.staff_a, category=category or t.make_category(world.town))
        o.refresh_from_db()
        out.append(o)
    return out


def _scope(world):
    return DispatchScope.resolve("community", world.a.pk)


def test_preview_changes_no_order(world, personas):
    orders = _accepted(world, personas, 2)
    before = OrderEvent.objects.count()
    run = actions.plan_dispatch(_scope(world), actor=personas.staff_a)
    assert run.status == DispatchRun.Status.PREVIEWED
    assert run.n_orders == 2 and run.n_assigned == 2 and run.exact
    assert set(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)) == {"accepted"}
    assert OrderEvent.objects.count() == before
    rows = list(run.assignments.all())
    assert {a.member_id for a in rows} == {personas.member.pk}  # the only member registered with A
    assert all(a.reasons and a.score for a in rows)


def test_unassigned_orders_say_why(world, personas):
    needs_skill = t.make_category(world.town, name="管道")
    plumbing = t.make_skill("plumbing", "管道疏通")
    CategoryRule.objects.create(category=needs_skill, required_skill=plumbing)
    [nobody] = _accepted(world, personas, 1, category=needs_skill)
    others = _accepted(world, personas, 4)  # the one member has cap 3
    run = actions.plan_dispatch(_scope(world), actor=personas.staff_a)
    notes = {a.order_id: a.note for a in run.assignments.filter(member__isnull=True)}
    assert notes[nobody.pk] == actions.NO_CANDIDATE
    assert run.n_assigned == 3
    assert sum(1 for o in others if notes.get(o.pk) == actions.NO_CAPACITY) == 1


def test_confirm_dispatches_through_the_action(world, personas, django_capture_on_commit_callbacks):
    orders = _accepted(world, personas, 2)
    run = actions.plan_dispatch(_scope(world), actor=personas.staff_a)
    with django_capture_on_commit_callbacks(execute=True):
        actions.confirm_dispatch(run, actor=personas.staff_a)
    run.refresh_from_db()
    assert run.status == DispatchRun.Status.CONFIRMED and run.n_applied == 2
    for o in orders:
        o.refresh_from_db()
        assert o.status == "dispatched" and o.assignee_id == personas.member.pk
        ev = OrderEvent.objects.get(order=o, to_status="dispatched")
        assert ev.note == f"智能派单 #{run.pk}" and ev.actor == personas.staff_a
    # Notifications queued on commit (the immediate task backend delivers them) reached the member.
    assert Notification.objects.filter(user=personas.member_user, title__contains="派给您的工单").count() == 2
    with pytest.raises(Conflict):
        actions.confirm_dispatch(run, actor=personas.staff_a)
    # One event per step of the run, the refused second confirmation adding none.
    assert [(e.kind, e.actor) for e in run.events.all()] == [
        ("planned", personas.staff_a),
        ("confirmed", personas.staff_a),
    ]


def test_a_refusal_is_stored_in_the_site_language(world, personas):
    """The reason an order was not applied is stored: it is written in the site's language
    whoever confirms, not in the confirming user's."""
    from django.utils import translation

    first, _second = _accepted(world, personas, 2)
    run = actions.plan_dispatch(_scope(world), actor=personas.staff_a)
    order_actions.dispatch_order(first, actor=personas.staff_a, pool=True)
    with translation.override("en"):
        actions.confirm_dispatch(run, actor=personas.staff_a)
    note = run.assignments.get(order=first).note
    assert note and not any("a" <= ch.lower() <= "z" for ch in note.replace("#", "")), note


def test_changed_order_is_reported_not_applied(world, personas):
    first, second = _accepted(world, personas, 2)
    run = actions.plan_dispatch(_scope(world), actor=personas.staff_a)
    order_actions.dispatch_order(first, actor=personas.staff_a, pool=True)  # the world moves on
    actions.confirm_dispatch(run, actor=personas.staff_a)
    a_first = run.assignments.get(order=first)
    a_second = run.assignments.get(order=second)
    assert not a_first.applied and a_first.note
    assert a_second.applied
    first.refresh_from_db()
    assert first.status == "pooled"
    run.refresh_from_db()
    assert run.n_applied == 1


def test_discard(world, personas):
    _accepted(world, personas, 1)
    run = actions.plan_dispatch(_scope(world), actor=personas.staff_a)
    actions.discard_dispatch(run, actor=personas.staff_a)
    assert DispatchRun.objects.get(pk=run.pk).status == "discarded"
    with pytest.raises(Conflict):
        actions.confirm_dispatch(run, actor=personas.staff_a)
    assert not Order.objects.filter(status="dispatched").exists()
    assert [e.kind for e in run.events.all()] == ["planned", "discarded"]


def test_staff_of_b_cannot_run_for_a(world, personas):
    _accepted(world, personas, 1)
    with pytest.raises(NotAllowed):
        actions.plan_dispatch(_scope(world), actor=personas.staff_b)
    run = actions.plan_dispatch(_scope(world), actor=personas.staff_a)
    b = login(personas.staff_b)
    assert b.post("/dispatch/plan/", {"scope": f"community:{world.a.pk}"}).status_code == 404
    assert b.post("/dispatch/plan/", {"scope": f"grid:{world.a1.pk}"}).status_code == 404
    assert b.get(f"/dispatch/runs/{run.pk}/").status_code == 404
    assert b.post(f"/dispatch/runs/{run.pk}/confirm/").status_code == 404
    assert DispatchRun.objects.get(pk=run.pk).status == "previewed"
    # A town admin may run for the town.
    assert actions.plan_dispatch(DispatchScope.resolve("town", world.town.pk), actor=personas.town_admin).n_orders == 1


def test_pages_preview_then_confirm(world, personas):
    [order] = _accepted(world, personas, 1)
    c = login(personas.staff_a)
    home = c.get("/dispatch/")
    assert home.status_code == 200 and f"community:{world.a.pk}" in home.content.decode()
    resp = c.post("/dispatch/plan/", {"scope": f"grid:{world.a1.pk}"})
    assert resp.status_code == 302
    page = c.get(resp["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert "党员甲" in body and "确认派单" in body
    order.refresh_from_db()
    assert order.status == "accepted"
    run = DispatchRun.objects.get()
    assert c.post(f"/dispatch/runs/{run.pk}/confirm/").status_code == 302
    order.refresh_from_db()
    assert order.status == "dispatched"
    assert "已派出" in c.get(f"/dispatch/runs/{run.pk}/").content.decode()
