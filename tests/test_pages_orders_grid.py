"""The grid worker's pages: filing on a resident's behalf (网格员代办) and follow-ups (回访)."""

import pytest

from linli import testing as t
from linli.orders import actions
from linli.orders.models import FollowUp, Order
from tests.conftest import login


@pytest.fixture
def category(world):
    return t.make_category(world.town, name="邻里互助")


def _closed(world, personas, category, household, **kw):
    order = t.make_order(world.a, household=household, **kw)
    actions.accept_order(order, actor=personas.staff_a, category=category)
    actions.dispatch_order(order, actor=personas.staff_a, member=personas.member)
    actions.claim_order(order, actor=personas.member_user)
    actions.start_order(order, actor=personas.member_user)
    actions.resolve_order(order, actor=personas.member_user, note="好了", hours=1)
    return order


def test_grid_worker_files_on_a_residents_behalf(world, personas, category):
    client = login(personas.grid_worker)
    html = client.get("/orders/new/?for=grid").content.decode()
    assert f'<option value="{world.hh_a1.pk}">' in html
    assert f'value="{world.hh_a2.pk}"' not in html and f'value="{world.hh_b1.pk}"' not in html
    assert 'value="phone"' in html and 'value="visit"' in html
    response = client.post(
        "/orders/new/?for=grid",
        {
            "household": world.hh_a1.pk,
            "resident": personas.resident.pk,
            "channel": "phone",
            "kind": "need",
            "category": category.pk,
            "title": "独居老人需要买药",
        },
    )
    order = Order.objects.get(title="独居老人需要买药")
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.pk}/"
    assert (order.channel, order.submitted_by, order.resident) == ("phone", personas.grid_worker, personas.resident)
    assert order.household == world.hh_a1 and order.contact_name == "居民甲"
    assert order.events.get().data == {"channel": "phone"}
    # The resident follows it in their own list.
    assert "独居老人需要买药" in login(personas.resident_user).get("/orders/mine/").content.decode()


def test_on_behalf_refuses_households_outside_the_grids(world, personas):
    client = login(personas.grid_worker)
    html = client.post(
        "/orders/new/?for=grid",
        {"household": world.hh_a2.pk, "channel": "visit", "kind": "need", "title": "别的网格"},
    ).content.decode()
    assert "住户不在您的网格内" in html
    other = t.make_resident(world.hh_a1, name="邻居")
    html = client.post(
        "/orders/new/?for=grid",
        {
            "household": world.hh_a1.pk,
            "resident": personas.resident_b.pk,
            "channel": "visit",
            "kind": "need",
            "title": "x",
        },
    ).content.decode()
    assert "居民不在您的网格内" in html
    assert not Order.objects.exists()
    # A housemate is a valid choice for the same household.
    client.post(
        "/orders/new/?for=grid",
        {"household": world.hh_a1.pk, "resident": other.pk, "channel": "visit", "kind": "need", "title": "邻居的事"},
    )
    assert Order.objects.get().resident == other


def test_resident_options_follow_the_household(world, personas):
    t.make_resident(world.hh_a2, name="二网格居民")
    client = login(personas.grid_worker)
    html = client.get(f"/orders/new/residents/?household={world.hh_a1.pk}", headers={"HX-Request": "true"})
    html = html.content.decode()
    assert f'<option value="{personas.resident.pk}">居民甲</option>' in html
    assert "二网格居民" not in client.get(f"/orders/new/residents/?household={world.hh_a2.pk}").content.decode()


def test_on_behalf_is_for_grid_workers_and_staff(world, personas):
    assert login(personas.resident_user).get("/orders/new/?for=grid").status_code == 404
    assert login(personas.member_user).get("/orders/new/?for=grid").status_code == 404
    assert login(personas.staff_a).get("/orders/new/?for=grid").status_code == 200
    assert login(personas.dept).get("/orders/new/").status_code == 404  # nowhere to file


def test_follow_up_list_and_record(world, personas, category):
    mine = _closed(world, personas, category, world.hh_a1, title="一网格已办结")
    other_grid = _closed(world, personas, category, world.hh_a2, title="二网格已办结")
    still_open = t.make_order(world.a, household=world.hh_a1, title="还在办")
    client = login(personas.grid_worker)
    html = client.get("/followups/").content.decode()
    assert "一网格已办结" in html
    assert "二网格已办结" not in html and "还在办" not in html
    assert client.post(f"/orders/{other_grid.pk}/followup/", {"outcome": "satisfied"}).status_code == 404
    html = client.post(f"/orders/{mine.pk}/followup/", {"outcome": ""}, follow=True).content.decode()
    assert "请选择回访结果" in html
    assert not FollowUp.objects.exists()
    response = client.post(
        f"/orders/{mine.pk}/followup/", {"outcome": "satisfied", "note": "电话回访，很满意", "next": "/followups/"}
    )
    assert response["Location"] == "/followups/"
    follow_up = FollowUp.objects.get(order=mine)
    assert (follow_up.outcome, follow_up.event.actor) == ("satisfied", personas.grid_worker)
    assert "一网格已办结" not in client.get("/followups/").content.decode()
    html = client.get(f"/orders/{mine.pk}/").content.decode()
    assert "电话回访，很满意" in html and "群众满意" in html
    html = client.post(f"/orders/{still_open.pk}/followup/", {"outcome": "satisfied"}, follow=True).content.decode()
    assert "只能回访已办结的工单" in html
    assert not FollowUp.objects.filter(order=still_open).exists()


def test_follow_up_with_htmx_and_newest_first(world, personas, category):
    older = _closed(world, personas, category, world.hh_a1, title="较早办结")
    newer = _closed(world, personas, category, world.hh_a1, title="最近办结")
    client = login(personas.grid_worker)
    html = client.get("/followups/").content.decode()
    assert html.index("最近办结") < html.index("较早办结")
    row = client.post(
        f"/orders/{newer.pk}/followup/", {"outcome": "unreachable"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "已记录回访" in row and row.strip().startswith("<li")
    assert f"/orders/{older.pk}/" in client.get("/followups/").content.decode()
    assert f"/orders/{newer.pk}/" not in client.get("/followups/").content.decode()


def test_follow_ups_are_404_for_others(world, personas):
    for persona in ("resident_user", "member_user", "dept"):
        assert login(getattr(personas, persona)).get("/followups/").status_code == 404


def test_follow_up_list_query_count(world, personas, category, django_assert_max_num_queries):
    _closed(world, personas, category, world.hh_a1)
    client = login(personas.grid_worker)
    client.get("/followups/")
    with django_assert_max_num_queries(10) as few:
        assert client.get("/followups/").status_code == 200
    for _ in range(20):
        _closed(world, personas, category, world.hh_a1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/followups/").status_code == 200
