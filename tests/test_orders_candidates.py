from linli import testing as t
from linli.orders import actions
from linli.orders.candidates import candidate_members
from linli.orders.models import CategoryRule


def test_candidates_rank_skill_grid_and_load(world, personas, django_assert_max_num_queries):
    category = t.make_category(world.town, name="水电维修")
    CategoryRule.objects.create(category=category, required_skill=world.electrical)
    skilled_far = t.make_member(skills={world.electrical: 2}, name="技能远")
    skilled_near = t.make_member(skills={world.electrical: 2}, name="技能近", home_grid=world.a1)
    unskilled = t.make_member(name="无技能")
    for m in (skilled_far, skilled_near, unskilled):
        t.register_approved(m, world.a)
    order = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1)
    actions.accept_order(order, actor=personas.staff_a, category=category)
    with django_assert_max_num_queries(3):
        ranked = candidate_members(order)
    names = [c.member.name for c in ranked]
    # 熟练 + same grid (35 + 20) > 专业 elsewhere (50) > 熟练 elsewhere (35)
    assert names == ["技能近", "党员甲", "技能远"]
    assert "无技能" not in names  # the category needs the skill
    assert personas.member_b.name not in names  # registered with community B only
    top = ranked[0]
    assert top.reasons == ("擅长水电维修（熟练）", "同网格", "当前0单")
