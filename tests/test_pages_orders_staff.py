"""The dispatcher's pages: the queue, triage, dispatch from the candidate list, escalation, scopes."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from linli import testing as t
from linli.orders import actions
from linli.orders.models import CategoryRule, Order, OrderEvent
from linli.orgs.models import Pairing
from tests.conftest import login

MON = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Asia/Shanghai, a Monday


@pytest.fixture
def category(world):
    category = t.make_category(world.town, name="水电维修")
    CategoryRule.objects.create(category=category, required_skill=world.electrical, resolve_days=3)
    return category


@pytest.fixture
def order(world, personas):
    return t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1, title="楼道灯不亮")


def test_triage_then_dispatch_to_a_candidate(world, personas, category, order):
    client = login(personas.staff_a)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert f'action="/orders/{order.pk}/accept/"' in html
    assert f'action="/orders/{order.pk}/reject/"' in html
    assert "居民甲" in html  # staff see who filed it
    response = client.post(
        f"/orders/{order.pk}/accept/", {"category": category.pk, "priority": 4, "kind": "need", "note": ""}
    )
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.pk}/"
    order.refresh_from_db()
    assert (order.status, order.category, order.priority) == ("accepted", category, 4)
    assert order.respond_by and order.resolve_by
    # The candidates, ranked, with their reasons; one tap dispatches.
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert "已受理，请派单" in html
    # The ranking comes from the dispatch engine, loaded by htmx from the suggestions partial.
    assert f'hx-get="/orders/{order.pk}/suggestions/"' in html
    html = client.get(f"/orders/{order.pk}/suggestions/").content.decode()
    candidate = html.split(f'data-member="{personas.member.pk}"')[1].split("</li>")[0]
    assert "党员甲" in candidate and "水电维修" in candidate
    assert f'name="member" value="{personas.member.pk}"' in candidate
    assert "党员乙" not in html  # registered with B, not A
    response = client.post(f"/orders/{order.pk}/dispatch/", {"member": personas.member.pk}, follow=True)
    assert "已派给党员甲" in response.content.decode()
    order.refresh_from_db()
    assert (order.status, order.assignee) == ("dispatched", personas.member)
    assert order.events.last().actor == personas.staff_a


def test_accepting_keeps_the_event_a_transition(world, personas, category, order):
    login(personas.staff_a).post(
        f"/orders/{order.pk}/accept/", {"category": category.pk, "priority": 3, "kind": "need"}
    )
    assert order.events.last().kind == "transition"


def test_accept_can_change_the_kind(world, personas, category, order):
    login(personas.staff_a).post(
        f"/orders/{order.pk}/accept/", {"category": category.pk, "priority": 3, "kind": "complaint"}
    )
    order.refresh_from_db()
    assert (order.status, order.kind) == ("accepted", "complaint")
    assert order.events.last().kind == "transition"


def test_accept_needs_a_category_of_the_town(world, personas, order):
    client = login(personas.staff_a)
    elsewhere = t.make_category(t.make_town(), name="外镇类别")
    for data, message in (
        ({"priority": 3, "kind": "need"}, "请选择类别"),
        ({"category": elsewhere.pk, "priority": 3, "kind": "need"}, "类别无效"),
    ):
        html = client.post(f"/orders/{order.pk}/accept/", data, follow=True).content.decode()
        assert message in html
    order.refresh_from_db()
    assert order.status == "submitted" and order.events.count() == 1


def test_a_transition_from_the_wrong_status_changes_nothing(world, personas, category, order):
    client = login(personas.staff_a)
    client.post(f"/orders/{order.pk}/accept/", {"category": category.pk, "priority": 3, "kind": "need"})
    events = order.events.count()
    html = client.post(
        f"/orders/{order.pk}/accept/", {"category": category.pk, "priority": 5, "kind": "need"}, follow=True
    ).content.decode()
    assert "工单当前状态为“待派单”，不能受理" in html
    order.refresh_from_db()
    assert (order.status, order.priority, order.events.count()) == ("accepted", 3, events)
    html = client.post(f"/orders/{order.pk}/recall/", follow=True).content.decode()
    assert "工单当前状态为“待派单”，不能收回" in html
    assert order.events.count() == events


def test_reject_needs_a_reason(world, personas, order):
    client = login(personas.staff_a)
    html = client.post(f"/orders/{order.pk}/reject/", {"reason": " "}, follow=True).content.decode()
    assert "请填写不予受理的原因" in html
    order.refresh_from_db()
    assert order.status == "submitted"
    client.post(f"/orders/{order.pk}/reject/", {"reason": "不属于社区职责"})
    order.refresh_from_db()
    assert (order.status, order.reject_reason) == ("rejected", "不属于社区职责")
    resident_html = login(personas.resident_user).get(f"/orders/{order.pk}/").content.decode()
    assert "不属于社区职责" in resident_html


def test_merge_offers_the_duplicates(world, personas, category):
    first = t.make_order(world.a, household=world.hh_a1, category=category, title="水管漏水")
    second = t.make_order(world.a, household=world.hh_a1, category=category, title="水管又漏了")
    client = login(personas.staff_a)
    html = client.get(f"/orders/{second.pk}/").content.decode()
    merge = html.split('id="merge"')[1].split("</form>")[0]
    assert f'<option value="{first.pk}">' in merge and "水管漏水" in merge
    html = client.post(f"/orders/{second.pk}/merge/", {"into": "999999"}, follow=True).content.decode()
    assert "工单 #999999 不存在" in html
    other_community = t.make_order(world.b, household=world.hh_b1)
    assert client.post(f"/orders/{second.pk}/merge/", {"into": other_community.pk}, follow=True).status_code == 200
    second.refresh_from_db()
    assert second.status == "submitted"
    html = client.post(f"/orders/{second.pk}/merge/", {"into": first.pk}, follow=True).content.decode()
    assert f"已合并至 #{first.pk}" in html
    second.refresh_from_db()
    assert (second.status, second.merged_into) == ("merged", first)


def test_pool_recall_unit_and_escalate(world, personas, category, order):
    client = login(personas.staff_a)
    actions.accept_order(order, actor=personas.staff_a, category=category)
    client.post(f"/orders/{order.pk}/dispatch/", {"pool": "1"})
    order.refresh_from_db()
    assert order.status == "pooled"
    client.post(f"/orders/{order.pk}/recall/", {"note": "改派"})
    order.refresh_from_db()
    assert order.status == "accepted"
    # A unit paired with the community is offered; dispatching to it reaches its members.
    assert "派给包保单位" not in client.get(f"/orders/{order.pk}/").content.decode()
    Pairing.objects.create(unit=world.unit, community=world.a)
    assert f'<option value="{world.unit.pk}">区财政局</option>' in client.get(f"/orders/{order.pk}/").content.decode()
    html = client.post(f"/orders/{order.pk}/dispatch/", {"unit": world.unit.pk}, follow=True).content.decode()
    assert "已派给区财政局" in html
    order.refresh_from_db()
    assert (order.status, order.assignee_unit) == ("dispatched", world.unit)
    assert "区财政局" in login(personas.member_user).get("/tasks/").content.decode()
    client.post(f"/orders/{order.pk}/recall/")
    # Escalate with a deadline.
    due = timezone.localtime() + dt.timedelta(days=2)
    html = client.post(
        f"/orders/{order.pk}/escalate/",
        {"department": world.dept.pk, "due": due.strftime("%Y-%m-%dT%H:%M"), "note": "需要城管执法"},
        follow=True,
    ).content.decode()
    assert "已吹哨至城管局" in html
    order.refresh_from_db()
    assert (order.status, order.department) == ("escalated", world.dept)
    assert timezone.localtime(order.escalation_due).strftime("%Y-%m-%d %H:%M") == due.strftime("%Y-%m-%d %H:%M")


def test_dispatch_form_needs_one_target(world, personas, category, order):
    actions.accept_order(order, actor=personas.staff_a, category=category)
    client = login(personas.staff_a)
    html = client.post(f"/orders/{order.pk}/dispatch/", {}, follow=True).content.decode()
    assert "请选择派给党员、单位或领单池之一" in html
    html = client.post(f"/orders/{order.pk}/dispatch/", {"member": personas.member_b.pk}, follow=True).content.decode()
    assert "党员不存在，或不在您的范围内" in html
    order.refresh_from_db()
    assert order.status == "accepted"


def test_reopen_a_closed_order(world, personas, category, order):
    actions.accept_order(order, actor=personas.staff_a, category=category)
    actions.dispatch_order(order, actor=personas.staff_a, member=personas.member)
    actions.claim_order(order, actor=personas.member_user)
    actions.start_order(order, actor=personas.member_user)
    actions.resolve_order(order, actor=personas.member_user, note="好了", hours=1)
    actions.rate_order(order, actor=personas.resident_user, rating="satisfied")
    client = login(personas.staff_a)
    html = client.post(f"/orders/{order.pk}/reopen/", {"reason": ""}, follow=True).content.decode()
    assert "请填写重新办理的原因" in html
    client.post(f"/orders/{order.pk}/reopen/", {"reason": "回访发现问题未解决"})
    order.refresh_from_db()
    assert order.status == "accepted"
    assert order.events.filter(kind=OrderEvent.Kind.REOPEN).count() == 1


# --- the queue -----------------------------------------------------------------------------------


def test_queue_filters_marks_overdue_and_paginates(world, personas, category):
    other = t.make_category(world.town, name="环境卫生")
    with time_machine.travel(MON, tick=False):
        late = t.make_order(world.a, household=world.hh_a1, title="超时的诉求")
        actions.accept_order(late, actor=personas.staff_a, category=category)
    fresh = t.make_order(world.a, household=world.hh_a2, title="新诉求")
    in_a2 = t.make_order(world.a, household=world.hh_a2, title="二网格卫生")
    actions.accept_order(in_a2, actor=personas.staff_a, category=other)
    t.make_order(world.b, household=world.hh_b1, title="和平村的诉求")
    closed = t.make_order(world.a, household=world.hh_a1, title="已撤销的诉求")
    actions.cancel_order(closed, actor=personas.staff_a)
    client = login(personas.staff_a)
    html = client.get(f"/communities/{world.a.pk}/orders/").content.decode()
    assert "超时的诉求" in html and "新诉求" in html and "二网格卫生" in html
    assert "和平村的诉求" not in html and "已撤销的诉求" not in html
    late_row = html.split(f'data-order="{late.pk}"')[0].rsplit("<li", 1)[1]
    assert "row-bad" in late_row
    assert html.index("超时的诉求") < html.index("新诉求")  # overdue first
    assert "超时 <b>1</b>" in html and "待受理 <b>1</b>" in html and "待派单 <b>2</b>" in html

    def listed(query):
        page = client.get(f"/communities/{world.a.pk}/orders/?{query}").content.decode()
        return {o.title for o in (late, fresh, in_a2, closed) if f'data-order="{o.pk}"' in page}

    assert listed(f"category={other.pk}") == {"二网格卫生"}
    assert listed(f"grid={world.a2.pk}") == {"新诉求", "二网格卫生"}
    assert listed("status=submitted") == {"新诉求"}
    assert listed("overdue=on") == {"超时的诉求"}
    assert listed("status=all") == {"超时的诉求", "新诉求", "二网格卫生", "已撤销的诉求"}
    assert listed("status=cancelled") == {"已撤销的诉求"}
    assert listed("status=nonsense") == {"超时的诉求", "新诉求", "二网格卫生"}  # a bad filter is ignored
    for _ in range(21):
        t.make_order(world.a, household=world.hh_a1)
    page1 = client.get(f"/communities/{world.a.pk}/orders/?grid={world.a1.pk}").content.decode()
    assert "第 1 / 2 页" in page1
    assert f'href="?grid={world.a1.pk}&amp;page=2"' in page1  # filters survive paging
    page2 = client.get(f"/communities/{world.a.pk}/orders/?grid={world.a1.pk}&page=2").content.decode()
    assert "第 2 / 2 页" in page2


def test_queue_scopes(world, personas):
    url = f"/communities/{world.a.pk}/orders/"
    assert login(personas.staff_b).get(url).status_code == 404
    assert login(personas.dept).get(url).status_code == 404
    assert login(personas.resident_user).get(url).status_code == 404
    # Those who see the community but do not run it.
    assert login(personas.grid_worker).get(url).status_code == 403
    assert login(personas.member_user).get(url).status_code == 403
    assert login(personas.town_admin).get(url).status_code == 200


def test_staff_of_b_gets_404_on_a_orders(world, personas, category, order):
    client = login(personas.staff_b)
    assert client.get(f"/orders/{order.pk}/").status_code == 404
    assert client.get(f"/orders/{order.pk}/status/").status_code == 404
    for verb, data in (
        ("accept", {"category": category.pk, "priority": 3, "kind": "need"}),
        ("reject", {"reason": "x"}),
        ("dispatch", {"pool": "1"}),
        ("escalate", {"department": world.dept.pk}),
        ("merge", {"into": order.pk}),
        ("cancel", {}),
    ):
        assert client.post(f"/orders/{order.pk}/{verb}/", data).status_code == 404, verb
    order.refresh_from_db()
    assert order.status == "submitted" and order.events.count() == 1


def _many(world, personas, category, n):
    for i in range(n):
        o = t.make_order(world.a, household=world.hh_a1 if i % 2 else world.hh_a2, category=category)
        if i % 3 == 0:
            actions.accept_order(o, actor=personas.staff_a, category=category)
        if i % 5 == 0:
            actions.escalate_order(o, actor=personas.staff_a, department=world.dept) if o.status == "accepted" else None


def test_queue_query_count_does_not_grow(world, personas, category, django_assert_max_num_queries):
    client = login(personas.staff_a)
    url = f"/communities/{world.a.pk}/orders/"
    _many(world, personas, category, 3)
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        assert client.get(url).status_code == 200
    _many(world, personas, category, 20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count("data-order=") == 20  # a full page


def test_order_detail_query_count_does_not_grow(world, personas, category, order, django_assert_max_num_queries):
    actions.accept_order(order, actor=personas.staff_a, category=category)
    client = login(personas.staff_a)
    url = f"/orders/{order.pk}/"
    client.get(url)
    with django_assert_max_num_queries(20) as few:
        assert client.get(url).status_code == 200
    _many(world, personas, category, 20)
    for _ in range(10):  # more members to rank and more history on the order
        actions.dispatch_order(order, actor=personas.staff_a, pool=True)
        actions.recall_order(order, actor=personas.staff_a)
        t.register_approved(t.make_member(skills={world.electrical: 2}), world.a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200
    # The engine's top 10 arrive by htmx (their query count: tests/test_dispatch_suggestions.py).
    html = client.get(f"{url}suggestions/").content.decode()
    assert html.count('class="list-item cand"') == 10


def test_town_admin_triages_too(world, personas, category, order):
    client = login(personas.town_admin)
    client.post(f"/orders/{order.pk}/accept/", {"category": category.pk, "priority": 3, "kind": "need"})
    order.refresh_from_db()
    assert order.status == "accepted"
    assert Order.objects.filter(pk=order.pk, events__actor=personas.town_admin).exists()
