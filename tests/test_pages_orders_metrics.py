"""The community page's order metrics (docs/metrics.md) and the order links on the home page."""

import datetime as dt

import pytest
import time_machine

from linli import testing as t
from linli.orders import actions
from tests.conftest import login

MON = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Asia/Shanghai, a Monday
HX = {"HX-Request": "true"}


@pytest.fixture
def category(world):
    return t.make_category(world.town, name="水电维修")


def _loop(order, p, category, rating):
    actions.accept_order(order, actor=p.staff_a, category=category)
    actions.dispatch_order(order, actor=p.staff_a, member=p.member)
    actions.claim_order(order, actor=p.member_user)
    actions.start_order(order, actor=p.member_user)
    actions.resolve_order(order, actor=p.member_user, note="好了", hours=1)
    actions.rate_order(order, actor=p.resident_user, rating=rating)


def _rows(html):
    """{label: (this period, previous period)} from the metrics table."""
    rows = {}
    for tr in html.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]:
        label = tr.split('class="cell-title">')[1].split("<")[0].strip()
        cells = [td.split(">", 1)[1].split("</td>")[0] for td in tr.split("<td")[1:]]
        rows[label] = tuple(cells)
    return rows


def test_the_page_loads_the_metrics_after_itself(world, personas):
    client = login(personas.staff_a)
    html = client.get(f"/communities/{world.a.pk}/").content.decode()
    assert 'id="metrics"' in html and 'hx-get="?part=metrics"' in html and 'hx-trigger="load"' in html
    assert 'href="?period=month"' in html  # without JS, a link renders them in place
    assert f'href="/communities/{world.a.pk}/orders/"' in html
    partial = client.get(f"/communities/{world.a.pk}/?part=metrics", headers=HX).content.decode()
    assert partial.strip().startswith('<section class="card" id="metrics"')
    assert "<html" not in partial
    rows = _rows(partial)
    # Nothing happened: every rate has a zero denominator.
    assert rows["响应率"] == ("—", "—") and rows["办结率"] == ("—", "—") and rows["满意率"] == ("—", "—")
    assert rows["平均响应时长"] == ("—", "—")
    assert rows["受理量"] == ("0", "0")


def test_this_month_beside_last_month(world, personas, category):
    p = personas
    with time_machine.travel(MON - dt.timedelta(days=28), tick=False):  # February
        _loop(t.make_order(world.a, actor=p.resident_user, household=world.hh_a1), p, category, "unsatisfied")
    with time_machine.travel(MON, tick=False):  # March
        _loop(t.make_order(world.a, actor=p.resident_user, household=world.hh_a1), p, category, "satisfied")
        _loop(t.make_order(world.a, actor=p.resident_user, household=world.hh_a1), p, category, "basically")
        bounced = t.make_order(world.a, household=world.hh_a1)
        actions.accept_order(bounced, actor=p.staff_a, category=category)
        actions.escalate_order(bounced, actor=p.staff_a, department=world.dept, due=MON + dt.timedelta(days=2))
        actions.return_order(bounced, actor=p.dept, reason="非本部门职责")
        t.make_order(world.b, household=world.hh_b1)  # another community: not counted
    with time_machine.travel(MON + dt.timedelta(days=10), tick=False):
        client = login(p.staff_a)
        html = client.get(f"/communities/{world.a.pk}/?period=month").content.decode()
    assert "本期 2026-03-01 至 2026-03-31，上期 2026-02-01 至 2026-02-28" in html
    rows = _rows(html)
    assert rows["受理量"][:1] == ("3",) and rows["受理量"][1] == "1"
    assert rows["响应率"][0].startswith("100.0%") and rows["响应率"][1] == "100.0%"
    assert rows["满意率"] == ("100.0%", "0.0%")
    assert rows["重新办理"] == ("0", "1")
    assert rows["部门退回"] == ("1", "0")
    assert 'data-metric="overdue_now">' in html
    assert "2/2" in html.split("满意率")[1].split("</th>")[0]  # the counts behind the rate


def test_presets_and_custom_period(world, personas):
    client = login(personas.staff_a)
    with time_machine.travel(MON, tick=False):
        html = client.get(f"/communities/{world.a.pk}/?part=metrics&period=last_month", headers=HX).content.decode()
        assert "本期 2026-02-01 至 2026-02-28，上期 2026-01-01 至 2026-01-31" in html
        html = client.get(f"/communities/{world.a.pk}/?part=metrics&period=year", headers=HX).content.decode()
        assert "本期 2026-01-01 至 2026-12-31，上期 2025-01-01 至 2025-12-31" in html
        html = client.get(
            f"/communities/{world.a.pk}/?part=metrics&start=2026-02-10&end=2026-02-19", headers=HX
        ).content.decode()
        assert "本期 2026-02-10 至 2026-02-19，上期 2026-01-31 至 2026-02-09" in html
        html = client.get(f"/communities/{world.a.pk}/?start=2026-02-19&end=2026-02-10").content.decode()
        assert "日期无效" in html and "本期 2026-03-01 至 2026-03-31" in html
        html = client.get(f"/communities/{world.a.pk}/?start=garbage").content.decode()
        assert "日期无效" in html


def test_metrics_are_for_those_who_run_the_community(world, personas):
    for persona in ("grid_worker", "member_user"):
        client = login(getattr(personas, persona))
        assert "工单指标" not in client.get(f"/communities/{world.a.pk}/").content.decode()
        partial = client.get(f"/communities/{world.a.pk}/?part=metrics", headers=HX).content.decode()
        assert 'id="metrics"' not in partial
    assert "工单指标" in login(personas.town_admin).get(f"/communities/{world.b.pk}/").content.decode()


def test_metrics_partial_query_count(world, personas, category, django_assert_max_num_queries):
    client = login(personas.staff_a)
    url = f"/communities/{world.a.pk}/?part=metrics"
    client.get(url, headers=HX)
    with django_assert_max_num_queries(12) as few:
        client.get(url, headers=HX)
    for _ in range(20):
        _loop(
            t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1), personas, category, "satisfied"
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url, headers=HX)


# --- home page links and counters -------------------------------------------------------------------


def test_home_links_per_role(world, personas, category):
    p = personas
    t.make_order(world.a, actor=p.resident_user, household=world.hh_a1)
    dispatched = t.make_order(world.a, household=world.hh_a1)
    actions.accept_order(dispatched, actor=p.staff_a, category=category)
    actions.dispatch_order(dispatched, actor=p.staff_a, member=p.member)
    pooled = t.make_order(world.a, household=world.hh_a2)
    actions.accept_order(pooled, actor=p.staff_a, category=category)
    actions.dispatch_order(pooled, actor=p.staff_a, pool=True)
    escalated = t.make_order(world.a, household=world.hh_a2)
    actions.accept_order(escalated, actor=p.staff_a, category=category)
    actions.escalate_order(escalated, actor=p.staff_a, department=world.dept)
    done = t.make_order(world.a, actor=p.resident_user, household=world.hh_a1)
    _loop(done, p, category, "satisfied")

    html = login(p.resident_user).get("/").content.decode()
    assert 'href="/orders/new/"' in html and "我的诉求（办理中 1）" in html and 'href="/orders/mine/"' in html
    html = login(p.member_user).get("/").content.decode()
    assert "我的任务 1" in html and "领单池 1" in html and 'href="/tasks/"' in html and 'href="/pool/"' in html
    html = login(p.staff_a).get("/").content.decode()
    assert f'href="/communities/{world.a.pk}/orders/"' in html and "工单队列 4" in html
    html = login(p.town_admin).get("/").content.decode()
    assert f'<a href="/communities/{world.a.pk}/orders/">4</a>' in html
    html = login(p.dept).get("/").content.decode()
    assert "吹哨工单 1" in html and 'href="/department/orders/"' in html
    html = login(p.grid_worker).get("/").content.decode()
    assert "待回访 1" in html and 'href="/followups/"' in html and 'href="/orders/new/?for=grid"' in html


def test_header_links_follow_the_roles(world, personas):
    def nav(user):
        return login(user).get("/").content.decode().split('class="topnav"')[1].split("</nav>")[0]

    assert 'href="/orders/mine/"' in nav(personas.resident_user)
    assert 'href="/tasks/"' in nav(personas.member_user)
    assert 'href="/department/orders/"' in nav(personas.dept)
    assert 'href="/followups/"' in nav(personas.grid_worker)
    staff = nav(personas.staff_a)
    assert "/tasks/" not in staff and "/orders/mine/" not in staff
    # One order link only (the header must fit 360 px in elder mode): a member's tasks come first.
    t.make_member(user=personas.resident_user, home_community=world.a)
    both = nav(personas.resident_user)
    assert 'href="/tasks/"' in both and 'href="/orders/mine/"' not in both


def test_order_pages_in_english(world, personas, category):
    from django.test import Client

    order = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1, title="灯")
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    client.force_login(personas.staff_a)
    queue = client.get(f"/communities/{world.a.pk}/orders/").content.decode()
    assert "Order queue" in queue and "File for a resident" in queue
    assert "工单队列" not in queue and "待受理" not in queue
    detail = client.get(f"/orders/{order.pk}/").content.decode()
    assert "Merge a duplicate" in detail and "History" in detail
    assert "合并重复诉求" not in detail and "办理记录" not in detail
    metrics = client.get(f"/communities/{world.a.pk}/?part=metrics", headers=HX).content.decode()
    assert "Response rate" in metrics and "响应率" not in metrics
