"""The department's pages: escalated orders, 报到, resolve, return (a bounce, counted and shown)."""

import pytest

from linli import testing as t
from linli.orders import actions
from tests.conftest import login


@pytest.fixture
def escalated(world, personas):
    category = t.make_category(world.town, name="违章搭建")
    order = t.make_order(world.a, household=world.hh_a1, title="楼顶违章搭建")
    actions.accept_order(order, actor=personas.staff_a, category=category)
    actions.escalate_order(order, actor=personas.staff_a, department=world.dept)
    return order


def test_acknowledge_then_return_shows_the_bounce(world, personas, escalated):
    client = login(personas.dept)
    html = client.get("/department/orders/").content.decode()
    assert "楼顶违章搭建" in html and f'action="/orders/{escalated.pk}/acknowledge/"' in html
    response = client.post(f"/orders/{escalated.pk}/acknowledge/", follow=True)
    assert "已报到" in response.content.decode()
    escalated.refresh_from_db()
    assert escalated.status == "acknowledged"
    html = client.post(f"/orders/{escalated.pk}/return/", {"reason": ""}, follow=True).content.decode()
    assert "请填写退回原因" in html
    escalated.refresh_from_db()
    assert escalated.status == "acknowledged"
    response = client.post(f"/orders/{escalated.pk}/return/", {"reason": "不属于城管职责"})
    # The order has left the department's sight: back to its list, not to a 404.
    assert response.status_code == 302 and response["Location"] == "/department/orders/"
    escalated.refresh_from_db()
    assert (escalated.status, escalated.department) == ("accepted", None)
    assert "已退回社区" in client.get("/department/orders/").content.decode()
    assert client.get(f"/orders/{escalated.pk}/").status_code == 404
    # Staff see the bounce on the order and in the queue.
    staff = login(personas.staff_a)
    html = staff.get(f"/orders/{escalated.pk}/").content.decode()
    assert 'data-bounces="1"' in html and "部门退回 1 次" in html
    assert 'class="ev-bounce stands-out"' in html and "不属于城管职责" in html
    queue = staff.get(f"/communities/{world.a.pk}/orders/").content.decode()
    assert "退回 1 次" in queue.split(f'data-order="{escalated.pk}"')[1].split("</li>")[0]
    # Escalated again, the department sees it has bounced before.
    actions.escalate_order(escalated, actor=personas.staff_a, department=world.dept)
    html = client.get("/department/orders/").content.decode()
    assert "已被退回 1 次" in html


def test_department_resolves_an_acknowledged_order(world, personas, escalated):
    client = login(personas.dept)
    client.post(f"/orders/{escalated.pk}/acknowledge/", headers={"HX-Request": "true"})
    html = client.get(f"/orders/{escalated.pk}/").content.decode()
    assert 'name="hours"' not in html  # a department declares no member hours
    client.post(f"/orders/{escalated.pk}/resolve/", {"note": "已拆除"})
    escalated.refresh_from_db()
    assert (escalated.status, escalated.result_note) == ("resolved", "已拆除")
    assert "已拆除" not in client.get("/department/orders/").content.decode().split("最近办结")[0]
    assert "最近办结" in client.get("/department/orders/").content.decode()


def test_acknowledge_with_htmx_returns_the_row(world, personas, escalated):
    html = (
        login(personas.dept)
        .post(f"/orders/{escalated.pk}/acknowledge/", headers={"HX-Request": "true"})
        .content.decode()
    )
    assert html.strip().startswith(f'<li class="list-item" id="order-{escalated.pk}"')
    assert "部门已报到" in html


def test_acknowledging_twice_is_a_message(world, personas, escalated):
    client = login(personas.dept)
    client.post(f"/orders/{escalated.pk}/acknowledge/")
    html = client.post(f"/orders/{escalated.pk}/acknowledge/", follow=True).content.decode()
    assert "工单当前状态为“部门已报到”，不能部门报到" in html
    assert escalated.events.filter(to_status="acknowledged").count() == 1


def test_other_departments_and_roles_get_404(world, personas, escalated):
    other = t.make_user(roles=[("department_staff", t.make_department(world.town, name="水务局"))])
    client = login(other)
    assert client.get(f"/orders/{escalated.pk}/").status_code == 404
    assert client.post(f"/orders/{escalated.pk}/acknowledge/").status_code == 404
    assert "楼顶违章搭建" not in client.get("/department/orders/").content.decode()
    for persona in ("resident_user", "member_user", "staff_a"):
        assert login(getattr(personas, persona)).get("/department/orders/").status_code == 404


def test_department_list_query_count_does_not_grow(world, personas, escalated, django_assert_max_num_queries):
    client = login(personas.dept)
    client.get("/department/orders/")
    with django_assert_max_num_queries(10) as few:
        assert client.get("/department/orders/").status_code == 200
    category = t.make_category(world.town)
    for i in range(20):
        order = t.make_order(world.a, household=world.hh_a1)
        actions.accept_order(order, actor=personas.staff_a, category=category)
        actions.escalate_order(order, actor=personas.staff_a, department=world.dept)
        if i % 4 == 0:
            actions.return_order(order, actor=personas.dept, reason="退回")
            actions.escalate_order(order, actor=personas.staff_a, department=world.dept)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/department/orders/").status_code == 200
