from linli import testing as t
from linli.dispatch.suggestions import suggest_for_order
from linli.orders import actions
from linli.orders.models import CategoryRule, Order
from linli.people.models import Member
from tests.conftest import login


def _electrical_order(world, personas):
    category = t.make_category(world.town, name="水电维修")
    CategoryRule.objects.create(category=category, required_skill=world.electrical)
    order = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1)
    actions.accept_order(order, actor=personas.staff_a, category=category)
    order.refresh_from_db()
    return order


def test_hard_constraints_and_reasons(world, personas, django_assert_max_num_queries):
    order = _electrical_order(world, personas)
    near = t.make_member(skills={world.electrical: 3}, name="技能近", home_grid=world.a1, home_community=world.a)
    far = t.make_member(skills={world.electrical: 2}, name="技能远")
    unskilled = t.make_member(name="无技能")
    t.make_member(skills={world.electrical: 3}, name="未报到")  # never registered
    busy = t.make_member(skills={world.electrical: 3}, name="已满")
    for m in (near, far, unskilled, busy):
        t.register_approved(m, world.a)
    Member.objects.filter(pk=busy.pk).update(load_cap=1)  # arrange: busy holds one order, cap 1
    held = t.make_order(world.a, actor=personas.resident_user, status="claimed")
    Order.objects.filter(pk=held.pk).update(assignee=busy)

    with django_assert_max_num_queries(12):
        ranked = suggest_for_order(order)
    names = [s.member.name for s in ranked]
    assert "无技能" not in names  # lacks the required skill
    assert "未报到" not in names  # not registered with the community
    assert "已满" not in names  # at their cap
    assert personas.member_b.name not in names  # registered with community B only
    assert names[0] == "技能近"  # 专业 + same grid (120 + 120) > 专业 + same community (120 + 80)
    assert set(names) == {"技能近", "技能远", "党员甲"}
    top = ranked[0]
    assert "擅长水电维修（专业）" in top.reasons and "同网格" in top.reasons
    assert "当前 0 单" in top.reasons
    assert all(s.reasons for s in ranked)
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)


def test_query_count_does_not_grow_with_members(world, personas, django_assert_max_num_queries):
    order = _electrical_order(world, personas)
    for _ in range(15):
        m = t.make_member(skills={world.electrical: 1})
        t.register_approved(m, world.a)
    with django_assert_max_num_queries(12):
        ranked = suggest_for_order(order)
    assert len(ranked) == 10


def test_partial_for_staff_only(world, personas):
    order = _electrical_order(world, personas)
    resp = login(personas.staff_a).get(f"/orders/{order.pk}/suggestions/")
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "党员甲" in body and f"/orders/{order.pk}/dispatch/" in body and 'name="member"' in body
    assert login(personas.staff_b).get(f"/orders/{order.pk}/suggestions/").status_code == 404
    assert login(personas.member_user).get(f"/orders/{order.pk}/suggestions/").status_code == 404


def test_one_tap_dispatch_from_partial(world, personas):
    order = _electrical_order(world, personas)
    client = login(personas.staff_a)
    resp = client.post(f"/orders/{order.pk}/dispatch/", {"member": personas.member.pk})
    assert resp.status_code == 302
    order.refresh_from_db()
    assert order.status == "dispatched" and order.assignee_id == personas.member.pk


def test_ranking_is_the_engines_suggest(world, personas):
    """The columnar ranking equals matching.suggest over every registered member's spec."""
    from linli.dispatch.loading import load_batch, weights_for_town
    from matching import suggest

    order = _electrical_order(world, personas)
    for i in range(12):
        m = t.make_member(
            skills={world.electrical: 1 + i % 3},
            home_grid=[world.a1, world.a2, None][i % 3],
            home_community=world.a if i % 2 else None,
        )
        t.register_approved(m, world.a)
        if i % 4 == 0:
            held = t.make_order(world.a, actor=personas.resident_user, status="claimed")
            Order.objects.filter(pk=held.pk).update(assignee=m)
    batch = load_batch(Order.objects.filter(pk=order.pk), weights=weights_for_town(order.town_id))
    want = suggest(batch.order_spec(0), batch.member_specs(), batch.weights, k=10)
    got = suggest_for_order(order, k=10)
    assert [s.member.pk for s in got] == [s.member_id for s in want]
    assert [(s.score, s.reasons) for s in got] == [(s.total, s.explanation.reasons) for s in want]
