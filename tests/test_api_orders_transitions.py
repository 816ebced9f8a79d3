"""One POST per transition: the 三单 loop end to end, escalation, and the errors of each step."""

import datetime as dt

import pytest
from django.utils import timezone

from linli import testing as t
from linli.api.testing import api_client
from linli.orders.models import Order, OrderHours
from linli.orgs.models import Pairing


@pytest.fixture
def api(world, personas):
    """Clients of the personas, and a category of the town."""
    p = personas
    return {
        "resident": api_client(p.resident_user),
        "staff": api_client(p.staff_a),
        "member": api_client(p.member_user),
        "dept": api_client(p.dept),
        "category": t.make_category(world.town, name="水电维修"),
    }


def _file(api) -> int:
    response = api["resident"].post("/orders", {"title": "厨房水管漏水", "description": "一直在滴"})
    assert response.status_code == 201
    return response.json()["id"]


def _accepted(api) -> int:
    order_id = _file(api)
    assert api["staff"].post(f"/orders/{order_id}/accept", {"category_id": api["category"].pk}).status_code == 200
    return order_id


def test_resident_files_follows_and_rates_an_order_end_to_end(world, personas, api):
    resident, staff, member = api["resident"], api["staff"], api["member"]
    order_id = _file(api)

    response = staff.post(f"/orders/{order_id}/accept", {"category_id": api["category"].pk, "priority": 4})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["priority"], body["category"]["name"]) == ("accepted", 4, "水电维修")
    assert body["respond_by"] and body["resolve_by"]

    response = staff.post(f"/orders/{order_id}/dispatch", {"member_id": personas.member.pk, "note": "请尽快上门"})
    assert response.status_code == 200
    assert response.json()["assignee"] == {"id": personas.member.pk, "name": "党员甲"}

    # The member sees it among their tasks.
    tasks = member.get("/orders", {"mine": "true"}).json()
    assert [o["id"] for o in tasks["items"]] == [order_id]

    assert member.post(f"/orders/{order_id}/claim").json()["status"] == "claimed"
    assert member.post(f"/orders/{order_id}/start").json()["status"] == "in_progress"
    response = member.post(f"/orders/{order_id}/resolve", {"note": "换了阀门", "hours": 1.5})
    assert response.status_code == 200
    assert response.json()["result_note"] == "换了阀门"
    assert OrderHours.objects.get(order_id=order_id).hours == pytest.approx(1.5)

    # The resident follows it: the timeline shows every step with who did it.
    followed = resident.get(f"/orders/{order_id}").json()
    assert followed["status"] == "resolved"
    assert [(e["from_status"], e["to_status"], e["actor"]) for e in followed["events"]] == [
        ("", "submitted", "居民甲"),
        ("submitted", "accepted", "社区A工作人员"),
        ("accepted", "dispatched", "社区A工作人员"),
        ("dispatched", "claimed", "党员甲"),
        ("claimed", "in_progress", "党员甲"),
        ("in_progress", "resolved", "党员甲"),
    ]
    assert followed["events"][2]["note"] == "请尽快上门"

    response = resident.post(f"/orders/{order_id}/rate", {"rating": "satisfied", "comment": "师傅很专业"})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["rating"], body["rating_comment"]) == ("closed", "satisfied", "师傅很专业")
    assert body["closed_at"]
    assert (body["bounce_count"], body["reopen_count"]) == (0, 0)


def test_unsatisfied_rating_reopens_and_is_counted(personas, api):
    order_id = _accepted(api)
    Order.objects.filter(pk=order_id).update(status="resolved", assignee=personas.member)  # arrange
    response = api["resident"].post(f"/orders/{order_id}/rate", {"rating": "unsatisfied", "comment": "还在漏"})
    body = response.json()
    assert (body["status"], body["rating"], body["reopen_count"]) == ("accepted", "unsatisfied", 1)
    assert body["events"][-1]["kind"] == "reopen"


def test_staff_reopen_after_a_follow_up(api):
    order_id = _accepted(api)
    Order.objects.filter(pk=order_id).update(status="closed")  # arrange
    assert api["staff"].post(f"/orders/{order_id}/reopen", {"reason": "回访不满意"}).json()["reopen_count"] == 1


def test_claim_from_the_pool_and_claim_twice_is_409_already_taken(api):
    order_id = _accepted(api)
    assert api["staff"].post(f"/orders/{order_id}/dispatch", {"pool": True}).json()["status"] == "pooled"
    assert api["member"].post(f"/orders/{order_id}/claim").status_code == 200
    response = api["member"].post(f"/orders/{order_id}/claim")
    assert response.status_code == 409
    assert response.json() == {"code": "already_taken", "message": "该工单已被接走"}


def test_a_transition_from_the_wrong_status_is_409_in_chinese(api):
    order_id = _accepted(api)
    response = api["staff"].post(f"/orders/{order_id}/accept", {"category_id": api["category"].pk})
    assert response.status_code == 409
    assert response.json() == {"code": "conflict", "message": "工单当前状态为“待派单”，不能受理"}
    response = api["staff"].post(f"/orders/{order_id}/reopen", {"reason": "x"})
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


def test_a_member_cannot_accept(world, personas, api):
    submitted = _file(api)
    # Not visible to the member at all: 404.
    response = api["member"].post(f"/orders/{submitted}/accept", {"category_id": api["category"].pk})
    assert response.status_code == 404
    # Visible (in the pool of their community) but not theirs to triage: 403.
    pooled = t.make_order(world.a, status="pooled")
    response = api["member"].post(f"/orders/{pooled.pk}/accept", {"category_id": api["category"].pk})
    assert response.status_code == 403
    assert response.json() == {"code": "forbidden", "message": "只有本社区工作人员可以执行此操作"}
    assert Order.objects.get(pk=pooled.pk).status == "pooled"


def test_decline_returns_the_order_to_the_queue(personas, api):
    order_id = _accepted(api)
    api["staff"].post(f"/orders/{order_id}/dispatch", {"member_id": personas.member.pk})
    response = api["member"].post(f"/orders/{order_id}/decline", {"reason": "出差在外"})
    assert (response.status_code, response.json()["status"]) == (200, "accepted")
    assert api["member"].post(f"/orders/{order_id}/decline", {}).status_code == 422  # reason required


def test_recall_and_acknowledge_take_an_optional_body(api):
    order_id = _accepted(api)
    api["staff"].post(f"/orders/{order_id}/dispatch", {"pool": True})
    response = api["staff"].post(f"/orders/{order_id}/recall")
    assert (response.status_code, response.json()["status"]) == (200, "accepted")
    assert response.json()["events"][-1]["note"] == "收回重新派单"


def test_dispatch_needs_exactly_one_target_within_scope(world, personas, api):
    order_id = _accepted(api)
    staff = api["staff"]
    response = staff.post(f"/orders/{order_id}/dispatch", {})
    assert (response.status_code, response.json()["code"]) == (400, "target")
    response = staff.post(f"/orders/{order_id}/dispatch", {"member_id": personas.member.pk, "pool": True})
    assert (response.status_code, response.json()["code"]) == (400, "target")
    # A member of community B only: not visible to A's staff, and never said to exist.
    response = staff.post(f"/orders/{order_id}/dispatch", {"member_id": personas.member_b.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_reference"
    assert response.json()["detail"][0]["field"] == "member_id"
    assert Order.objects.get(pk=order_id).status == "accepted"


def test_dispatch_to_a_paired_unit(world, personas, api):
    order_id = _accepted(api)
    staff = api["staff"]
    assert staff.post(f"/orders/{order_id}/dispatch", {"unit_id": world.unit.pk}).status_code == 400  # not visible
    Pairing.objects.create(unit=world.unit, community=world.a)
    response = staff.post(f"/orders/{order_id}/dispatch", {"unit_id": world.unit.pk})
    assert response.status_code == 200
    assert response.json()["assignee_unit"] == {"id": world.unit.pk, "name": "区财政局"}


def test_resolve_with_team_hours_of_registered_members_only(world, personas, api):
    order_id = _accepted(api)
    colleague = t.make_member(name="党员丙", home_community=world.a)
    t.register_approved(colleague, world.a)
    api["staff"].post(f"/orders/{order_id}/dispatch", {"member_id": personas.member.pk})
    api["member"].post(f"/orders/{order_id}/claim")
    api["member"].post(f"/orders/{order_id}/start")
    outsider = {"note": "修好了", "hours": 2, "team_hours": [{"member_id": personas.member_b.pk, "hours": 2}]}
    response = api["member"].post(f"/orders/{order_id}/resolve", outsider)
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "team_hours"
    twice = {"note": "x", "hours": 2, "team_hours": [{"member_id": colleague.pk, "hours": 1}] * 2}
    assert api["member"].post(f"/orders/{order_id}/resolve", twice).status_code == 400
    myself = {"note": "x", "hours": 2, "team_hours": [{"member_id": personas.member.pk, "hours": 8}]}
    assert api["member"].post(f"/orders/{order_id}/resolve", myself).status_code == 400
    team = {"note": "修好了", "hours": 2, "team_hours": [{"member_id": colleague.pk, "hours": 1}]}
    assert api["member"].post(f"/orders/{order_id}/resolve", team).status_code == 200
    hours = dict(OrderHours.objects.filter(order_id=order_id).values_list("member__name", "hours"))
    assert hours == {"党员甲": 2, "党员丙": 1}


def test_resolve_over_the_hour_cap_is_a_domain_error(personas, api):
    order_id = _accepted(api)
    Order.objects.filter(pk=order_id).update(status="in_progress", assignee=personas.member)  # arrange
    response = api["member"].post(f"/orders/{order_id}/resolve", {"note": "x", "hours": 9})
    assert response.status_code == 400
    assert response.json() == {"code": "hours", "message": "单次服务时长不能超过8小时"}


def test_escalate_acknowledge_return_is_a_counted_bounce(world, personas, api):
    order_id = _accepted(api)
    due = (timezone.now() + dt.timedelta(days=5)).isoformat()
    response = api["staff"].post(
        f"/orders/{order_id}/escalate", {"department_id": world.dept.pk, "due": due, "note": "需城管执法"}
    )
    assert response.status_code == 200
    assert response.json()["department"] == {"id": world.dept.pk, "name": "城管局"}
    assert [o["id"] for o in api["dept"].get("/orders").json()["items"]] == [order_id]
    assert api["dept"].post(f"/orders/{order_id}/acknowledge", {"note": "已收到"}).json()["status"] == "acknowledged"
    response = api["dept"].post(f"/orders/{order_id}/return", {"reason": "不属本部门职责"})
    assert response.status_code == 200  # the answer still shows what the department just did
    body = response.json()
    assert (body["status"], body["department"], body["bounce_count"]) == ("accepted", None, 1)
    assert api["dept"].get(f"/orders/{order_id}").status_code == 404  # and then it is out of its scope
    assert api["staff"].get(f"/orders/{order_id}").json()["bounce_count"] == 1


def test_department_resolves_what_it_acknowledged(world, api):
    order_id = _accepted(api)
    api["staff"].post(f"/orders/{order_id}/escalate", {"department_id": world.dept.pk})
    api["dept"].post(f"/orders/{order_id}/acknowledge")
    response = api["dept"].post(f"/orders/{order_id}/resolve", {"note": "已拆除违建"})
    assert (response.status_code, response.json()["status"]) == (200, "resolved")


def test_escalate_within_the_town_and_into_the_future(world, api):
    order_id = _accepted(api)
    foreign = t.make_department(t.make_town(), name="外镇城管")
    response = api["staff"].post(f"/orders/{order_id}/escalate", {"department_id": foreign.pk})
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "department_id"
    past = "2020-01-01T08:00:00"  # naive: read in the server's time zone
    response = api["staff"].post(f"/orders/{order_id}/escalate", {"department_id": world.dept.pk, "due": past})
    assert response.json() == {"code": "due", "message": "部门办理时限应晚于现在"}
    response = api["staff"].post(f"/orders/{order_id}/escalate", {"department_id": world.dept.pk, "due": "soon"})
    assert response.status_code == 422


def test_reject_and_cancel(api):
    rejected = _file(api)
    response = api["staff"].post(f"/orders/{rejected}/reject", {"reason": "不属于社区事务"})
    assert (response.json()["status"], response.json()["reject_reason"]) == ("rejected", "不属于社区事务")
    cancelled = _file(api)
    response = api["resident"].post(f"/orders/{cancelled}/cancel")
    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    response = api["resident"].post(f"/orders/{cancelled}/cancel", {"reason": "又坏了"})
    assert response.status_code == 409


def test_merge_into_an_open_order_of_the_same_community(world, personas, api):
    first, duplicate = _file(api), _file(api)
    response = api["staff"].post(f"/orders/{duplicate}/merge", {"into_id": first})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["merged_into_id"]) == ("merged", first)
    elsewhere = t.make_order(world.b)
    other = _file(api)
    response = api["staff"].post(f"/orders/{other}/merge", {"into_id": elsewhere.pk})
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "into_id"


def test_only_the_submitter_rates(personas, api):
    order_id = _accepted(api)
    Order.objects.filter(pk=order_id).update(status="resolved")  # arrange
    response = api["staff"].post(f"/orders/{order_id}/rate", {"rating": "satisfied"})
    assert response.status_code == 403
    assert response.json()["message"] == "只有提交人可以评价"
    assert api["resident"].post(f"/orders/{order_id}/rate", {"rating": "great"}).status_code == 422
