"""Per-town dispatch weights: edited by the town admin in the admin, read by weights_for_town,
used by suggestions and runs (and recorded in the run's parameters)."""

import pytest
from django.urls import reverse

from linli import testing as t
from linli.accounts.models import AuditEntry, Role
from linli.dispatch import actions
from linli.dispatch.loading import DispatchScope, weights_for_town
from linli.dispatch.models import DispatchRun, DispatchWeights
from linli.dispatch.suggestions import suggest_for_order
from linli.orders import actions as order_actions
from linli.orders.models import CategoryRule
from linli.people.models import Member
from matching import Weights
from tests.conftest import login

ADD = reverse("admin:dispatch_dispatchweights_add")


def _form(town, **changes):
    data = {f: getattr(Weights(), f) for f in Weights.__dataclass_fields__}
    data.update(changes)
    return {"town": town.pk, **data}


@pytest.fixture
def electrical_order(world, personas):
    """An order needing 水电维修 in grid A1, and two candidates: one close (same grid, 了解) and
    one skilled (专业, same community, another grid)."""
    category = t.make_category(world.town, name="水电维修")
    CategoryRule.objects.create(category=category, required_skill=world.electrical)
    order = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1)
    order_actions.accept_order(order, actor=personas.staff_a, category=category)
    order.refresh_from_db()
    Member.objects.filter(pk=personas.member.pk).update(load_cap=1)
    held = t.make_order(world.a, actor=personas.resident_user, status="claimed")
    type(held).objects.filter(pk=held.pk).update(assignee=personas.member)  # 党员甲 is at the cap
    near = t.make_member(skills={world.electrical: 1}, name="近", home_grid=world.a1, home_community=world.a)
    skilled = t.make_member(skills={world.electrical: 3}, name="专", home_grid=world.a2, home_community=world.a)
    for m in (near, skilled):
        t.register_approved(m, world.a)
    return order


def _names(order):
    return [s.member.name for s in suggest_for_order(order)]


def test_defaults_without_a_row(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert weights_for_town(world.town.pk) == Weights()


def test_town_admin_changes_the_ranking_and_it_is_audited(world, personas, electrical_order):
    # Defaults: 专 has 40 × 3 + 80 = 200 against 近's 40 × 1 + 120 = 160.
    assert _names(electrical_order) == ["专", "近"]
    response = login(personas.town_admin).post(ADD, _form(world.town, skill_level=0))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert weights_for_town(world.town.pk) == Weights(skill_level=0)
    assert _names(electrical_order) == ["近", "专"]  # closeness alone now: 120 > 80
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ADMIN_CHANGE, object_type="dispatch.dispatchweights")
    assert entry.actor == personas.town_admin and entry.detail["verb"] == "add"


def test_another_town_is_unaffected(world, personas, electrical_order):
    other = t.make_town(code="T02", name="E镇")
    DispatchWeights.objects.create(town=other, skill_level=0, same_grid=500)
    assert weights_for_town(world.town.pk) == Weights()
    assert _names(electrical_order) == ["专", "近"]
    other_admin = t.make_user("town_e", roles=[(Role.TOWN_ADMIN, other)])
    # E's admin cannot set D's weights either.
    response = login(other_admin).post(ADD, _form(world.town, skill_level=0))
    assert response.status_code == 200 and "town" in response.context["adminform"].form.errors
    assert not DispatchWeights.objects.filter(town=world.town).exists()


def test_community_staff_cannot_see_or_edit_weights(world, personas):
    row = DispatchWeights.objects.create(town=world.town)
    staff = login(personas.staff_a)
    assert staff.get(ADD).status_code == 403
    assert staff.post(ADD, _form(world.town, skill_level=0)).status_code == 403
    change = reverse("admin:dispatch_dispatchweights_change", args=[row.pk])
    assert staff.get(change).status_code in (403, 404)
    assert staff.post(change, _form(world.town, skill_level=0)).status_code in (403, 404)
    assert staff.get(reverse("admin:dispatch_dispatchweights_changelist")).status_code == 403
    row.refresh_from_db()
    assert row.skill_level == Weights().skill_level


def test_closeness_must_not_increase_with_distance(world, personas):
    response = login(personas.town_admin).post(ADD, _form(world.town, same_grid=50, same_community=80))
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    response = login(personas.town_admin).post(ADD, _form(world.town, annual_hours_target=0))
    assert "annual_hours_target" in response.context["adminform"].form.errors
    assert not DispatchWeights.objects.exists()


def test_run_records_the_weights_it_used(world, personas, electrical_order):
    DispatchWeights.objects.create(town=world.town, skill_level=0, load_penalty=45)
    run = actions.plan_dispatch(DispatchScope.resolve("community", world.a.pk), actor=personas.staff_a)
    used = Weights(skill_level=0, load_penalty=45)
    assert run.parameters["weights"] == {f: getattr(used, f) for f in Weights.__dataclass_fields__}
    assert run.assignments.get(order=electrical_order).member.name == "近"


def test_runs_are_read_only_in_the_admin_for_town_admins_only(world, personas):
    run = DispatchRun.objects.create(town=world.town, scope_kind="community", scope_id=world.a.pk, scope_label="A")
    town = login(personas.town_admin)
    assert town.get(reverse("admin:dispatch_dispatchrun_changelist")).status_code == 200
    page = town.get(reverse("admin:dispatch_dispatchrun_change", args=[run.pk]))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert town.post(reverse("admin:dispatch_dispatchrun_delete", args=[run.pk]), {"post": "yes"}).status_code == 403
    assert login(personas.staff_a).get(reverse("admin:dispatch_dispatchrun_changelist")).status_code == 403
    assert DispatchRun.objects.filter(pk=run.pk).exists()
