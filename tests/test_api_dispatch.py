"""Dispatch over JSON, for staff: the engine's suggestions for an order (scores, parts, Chinese
reasons), and auto-dispatch runs (plan, list, read, confirm, discard). Residents and members get
403 where they could only ever be refused, 404 on a run; staff of another community 404."""

import pytest

from linli import testing as t
from linli.api.testing import api_client
from linli.dispatch.models import DispatchRun
from linli.orders import actions
from linli.orders.models import CategoryRule, Order, OrderEvent
from linli.people.models import MemberSkill


def _accepted_order(world, personas, *, skill=True):
    category = t.make_category(world.town, name="水电维修")
    if skill:
        CategoryRule.objects.create(category=category, required_skill=world.electrical)
    order = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1, title="厨房跳闸")
    actions.accept_order(order, actor=personas.staff_a, category=category)
    return order


# --- suggestions ---------------------------------------------------------------------------------------


def test_staff_get_the_engines_top_members_with_parts_and_reasons(world, personas, django_assert_max_num_queries):
    order = _accepted_order(world, personas)
    near = t.make_member(skills={world.electrical: 3}, name="技能近", home_grid=world.a1, home_community=world.a)
    t.register_approved(near, world.a)
    for i in range(12):
        t.register_approved(t.make_member(skills={world.electrical: 1}, name=f"队员{i}"), world.a)
    t.register_approved(t.make_member(name="无技能"), world.a)
    client = api_client(personas.staff_a)
    client.get("/me")
    with django_assert_max_num_queries(16):
        body = client.get(f"/orders/{order.pk}/suggestions").json()
    assert body["source"] == "engine"
    assert body["count"] == 14 and len(body["items"]) == 10  # 12 + 技能近 + 党员甲; not 无技能, not B's
    top = body["items"][0]
    assert top["member"] == {"id": near.pk, "name": "技能近"}
    assert top["member_no"] == near.member_no
    assert "擅长水电维修（专业）" in top["reasons"] and "同网格" in top["reasons"] and "当前 0 单" in top["reasons"]
    assert top["eligible"] is True and top["problems"] == []
    parts = {p["name"]: p for p in top["parts"]}
    assert list(parts) == ["priority", "skill", "place", "fairness", "rating", "load"]
    assert parts["skill"]["label"] == "技能水平" and parts["skill"]["points"] > 0
    assert sum(p["points"] for p in top["parts"]) == top["score"]
    assert top["match_score"] == top["score"] - parts["load"]["points"]
    assert [i["score"] for i in body["items"]] == sorted((i["score"] for i in body["items"]), reverse=True)
    everyone = client.get(f"/orders/{order.pk}/suggestions", {"limit": 100}).json()["items"]
    names = {i["member"]["name"] for i in everyone}
    assert personas.member_b.name not in names and "无技能" not in names
    rest = client.get(f"/orders/{order.pk}/suggestions", {"offset": 10}).json()
    assert rest["count"] == 14 and len(rest["items"]) == 4
    # The town admin too.
    assert api_client(personas.town_admin).get(f"/orders/{order.pk}/suggestions").status_code == 200


def test_only_orders_waiting_for_dispatch_have_suggestions(world, personas):
    order = _accepted_order(world, personas)
    actions.dispatch_order(order, actor=personas.staff_a, member=personas.member)
    body = api_client(personas.staff_a).get(f"/orders/{order.pk}/suggestions").json()
    assert body == {"items": [], "count": 0, "source": "engine"}


def test_others_get_403_or_404(world, personas):
    order = _accepted_order(world, personas)
    actions.dispatch_order(order, actor=personas.staff_a, pool=True)
    response = api_client(personas.member_user).get(f"/orders/{order.pk}/suggestions")  # sees the pooled order
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert api_client(personas.resident_user).get(f"/orders/{order.pk}/suggestions").status_code == 403  # the submitter
    for user in (personas.staff_b, personas.dept, personas.unit_admin):
        response = api_client(user).get(f"/orders/{order.pk}/suggestions")
        assert response.status_code == 404, user
        assert response.json() == {"code": "not_found", "message": "对象不存在，或您无权查看"}
    assert api_client(personas.staff_a).get("/orders/999999/suggestions").status_code == 404


# --- auto-dispatch runs ----------------------------------------------------------------------------------


def _plan(user, kind, pk, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return api_client(user).post(f"/dispatch/runs{'?' + query if query else ''}", {"scope_kind": kind, "scope_id": pk})


def test_staff_plan_a_run_for_their_community_and_no_order_changes(world, personas):
    orders = [_accepted_order(world, personas, skill=False) for _ in range(2)]
    nobody = _accepted_order(world, personas)  # needs the skill: only 党员甲 has it, and he is taken …
    events = OrderEvent.objects.count()
    response = _plan(personas.staff_a, "community", world.a.pk)
    assert response.status_code == 201, response.json()
    run = response.json()
    assert run["status"] == "previewed" and run["status_label"] == "待确认"
    assert run["scope"] == {"kind": "community", "id": world.a.pk, "label": "幸福社区"}
    assert (run["n_orders"], run["n_members"], run["created_by"], run["decided_by"]) == (3, 1, "社区A工作人员", None)
    rows = {a["order"]["id"]: a for a in run["assignments"]["items"]}
    assert run["assignments"]["count"] == 3 and set(rows) == {o.pk for o in [*orders, nobody]}
    assigned = [a for a in rows.values() if a["member"]]
    assert len(assigned) == run["n_assigned"] == 3  # cap 3: 党员甲 takes all three
    assert all(a["member"] == {"id": personas.member.pk, "name": "党员甲"} for a in assigned)
    assert all(a["reasons"] and a["score"] and a["applied"] is False for a in assigned)
    assert rows[nobody.pk]["order"]["title"] == "厨房跳闸"
    assert set(Order.objects.filter(pk__in=rows).values_list("status", flat=True)) == {"accepted"}
    assert OrderEvent.objects.count() == events


def test_a_run_without_a_candidate_says_why(world, personas):
    order = _accepted_order(world, personas)
    MemberSkill.objects.filter(member=personas.member).delete()  # arrange: nobody has the skill
    run = _plan(personas.staff_a, "grid", world.a1.pk).json()
    [row] = run["assignments"]["items"]
    assert row["order"]["id"] == order.pk and row["member"] is None and row["member_no"] is None
    assert row["note"] == "无符合条件的党员" and row["score"] is None and row["reasons"] == []


def test_scopes_outside_the_callers_are_404_and_non_dispatchers_403(world, personas):
    _accepted_order(world, personas)
    for kind, pk in (("community", world.b.pk), ("grid", world.b1.pk), ("town", world.town.pk), ("grid", 999999)):
        response = _plan(personas.staff_a, kind, pk)
        assert response.status_code == 404, (kind, response.json())
        assert response.json()["code"] == "not_found"
    for user in (personas.resident_user, personas.member_user, personas.unit_admin, personas.grid_worker):
        response = _plan(user, "community", world.a.pk)
        assert response.status_code == 403, user
        assert response.json() == {"code": "forbidden", "message": "只有社区工作人员或街道管理员可以智能派单"}
        assert api_client(user).get("/dispatch/runs").status_code == 403
    # The town admin plans for the whole town, a community or a grid.
    for kind, pk in (("town", world.town.pk), ("community", world.b.pk), ("grid", world.a2.pk)):
        assert _plan(personas.town_admin, kind, pk).status_code == 201
    assert DispatchRun.objects.count() == 3


def test_bad_bodies_are_422_naming_the_field(personas):
    client = api_client(personas.staff_a)
    response = client.post("/dispatch/runs", {"scope_kind": "building", "scope_id": 1})
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "scope_kind"
    response = client.post("/dispatch/runs", {"scope_kind": "grid"})
    assert response.status_code == 422 and response.json()["detail"] == [{"field": "scope_id", "message": "必填"}]


def test_list_shows_only_the_runs_the_user_may_see(world, personas, django_assert_max_num_queries):
    _accepted_order(world, personas)
    mine = [
        _plan(personas.staff_a, kind, pk).json()["id"]
        for kind, pk in (("community", world.a.pk), ("grid", world.a1.pk))
    ]
    theirs = _plan(personas.staff_b, "community", world.b.pk).json()["id"]
    town = _plan(personas.town_admin, "town", world.town.pk).json()["id"]
    client = api_client(personas.staff_a)
    client.get("/me")
    with django_assert_max_num_queries(8):
        body = client.get("/dispatch/runs").json()
    assert [r["id"] for r in body["items"]] == mine[::-1] and body["count"] == 2  # newest first
    assert [r["id"] for r in api_client(personas.staff_b).get("/dispatch/runs").json()["items"]] == [theirs]
    assert {r["id"] for r in api_client(personas.town_admin).get("/dispatch/runs").json()["items"]} == {
        *mine,
        theirs,
        town,
    }
    page = client.get("/dispatch/runs", {"limit": 1, "offset": 1}).json()
    assert [r["id"] for r in page["items"]] == [mine[0]] and page["count"] == 2
    assert client.get("/dispatch/runs", {"status": "confirmed"}).json() == {"items": [], "count": 0}


def test_read_a_run_with_paged_assignments(world, personas):
    orders = [_accepted_order(world, personas, skill=False) for _ in range(3)]
    run_id = _plan(personas.staff_a, "community", world.a.pk, limit=1).json()["id"]
    client = api_client(personas.staff_a)
    body = client.get(f"/dispatch/runs/{run_id}", {"limit": 2}).json()
    assert body["id"] == run_id and body["assignments"]["count"] == 3
    assert [a["order"]["id"] for a in body["assignments"]["items"]] == [o.pk for o in orders[:2]]
    rest = client.get(f"/dispatch/runs/{run_id}", {"limit": 2, "offset": 2}).json()["assignments"]["items"]
    assert [a["order"]["id"] for a in rest] == [orders[2].pk]
    assert api_client(personas.town_admin).get(f"/dispatch/runs/{run_id}").status_code == 200


@pytest.mark.parametrize("verb", ["", "/confirm", "/discard"])
def test_runs_outside_the_scope_are_404(world, personas, verb):
    _accepted_order(world, personas)
    run_id = _plan(personas.staff_a, "community", world.a.pk).json()["id"]
    method = "post" if verb else "get"
    for user in (personas.staff_b, personas.resident_user, personas.member_user, personas.grid_worker):
        response = getattr(api_client(user), method)(f"/dispatch/runs/{run_id}{verb}")
        assert response.status_code == 404, user
        assert response.json() == {"code": "not_found", "message": "对象不存在，或您无权查看"}
    assert getattr(api_client(personas.staff_a), method)(f"/dispatch/runs/999999{verb}").status_code == 404
    assert DispatchRun.objects.get(pk=run_id).status == "previewed"


def test_confirm_dispatches_each_order_then_409(world, personas, django_capture_on_commit_callbacks):
    orders = [_accepted_order(world, personas, skill=False) for _ in range(2)]
    run_id = _plan(personas.staff_a, "community", world.a.pk).json()["id"]
    client = api_client(personas.staff_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/dispatch/runs/{run_id}/confirm")
    assert response.status_code == 200, response.json()
    run = response.json()
    assert (run["status"], run["n_applied"], run["decided_by"]) == ("confirmed", 2, "社区A工作人员")
    assert run["decided_at"] is not None
    assert all(a["applied"] and a["note"] == "" for a in run["assignments"]["items"])
    assert set(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", "assignee_id")) == {
        ("dispatched", personas.member.pk)
    }
    for verb in ("confirm", "discard"):
        again = client.post(f"/dispatch/runs/{run_id}/{verb}")
        assert again.status_code == 409 and again.json() == {
            "code": "run_decided",
            "message": "该智能派单方案已确认或已放弃",
        }


def test_an_order_taken_since_the_plan_is_not_applied(world, personas):
    first, second = (_accepted_order(world, personas, skill=False) for _ in range(2))
    run_id = _plan(personas.staff_a, "community", world.a.pk).json()["id"]
    actions.dispatch_order(first, actor=personas.staff_a, pool=True)  # sent to the pool meanwhile
    run = api_client(personas.staff_a).post(f"/dispatch/runs/{run_id}/confirm").json()
    rows = {a["order"]["id"]: a for a in run["assignments"]["items"]}
    assert run["n_applied"] == 1 and rows[second.pk]["applied"] is True
    assert rows[first.pk]["applied"] is False and rows[first.pk]["note"]


def test_discard_sends_nothing_then_409(world, personas):
    order = _accepted_order(world, personas)
    run_id = _plan(personas.staff_a, "community", world.a.pk).json()["id"]
    client = api_client(personas.staff_a)
    run = client.post(f"/dispatch/runs/{run_id}/discard").json()
    assert (run["status"], run["status_label"], run["n_applied"]) == ("discarded", "已放弃", 0)
    order.refresh_from_db()
    assert order.status == "accepted"
    assert client.post(f"/dispatch/runs/{run_id}/confirm").status_code == 409
    assert [r["id"] for r in client.get("/dispatch/runs", {"status": "discarded"}).json()["items"]] == [run_id]
