"""The dashboards' figures on a small known dataset, built through linli.orders.actions.

Town T: community A (grids A1, A2) and community B (grid B1). March 2026 is "this month", seen on
Thursday 12 March; February is the period before.
"""

import datetime as dt
from html.parser import HTMLParser

import pytest
import time_machine

from linli import testing as t
from linli.orders import actions
from linli.reports import dashboards as d
from linli.reports.metrics import order_metrics
from tests.conftest import login

MON = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Asia/Shanghai, a Monday
NOW = MON + dt.timedelta(days=10)  # Thursday 12 March


# --- reading the pages ------------------------------------------------------------------------------


class _Cells(HTMLParser):
    """{row key: {column: text}} of a `<table data-table=name>`; also its header sort keys."""

    def __init__(self, name):
        super().__init__()
        self.name, self.inside, self.row, self.col = name, False, None, None
        self.rows, self.order, self.headers, self.text = {}, [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("data-table") == self.name:
            self.inside = True
        if not self.inside:
            return
        if tag == "tr" and "data-row" in a:
            self.row = a["data-row"]
            self.rows[self.row] = {}
            self.order.append(self.row)
        elif tag == "a" and "data-sort" in a:
            self.headers.append((a["data-sort"], a["href"]))
        elif tag in ("td", "th") and self.row is not None:
            self.col = a.get("data-col", "name" if tag == "th" else None)
            self.text = []

    def handle_endtag(self, tag):
        if tag == "table" and self.inside:
            self.inside = False
        if tag in ("td", "th") and self.col and self.row is not None:
            self.rows[self.row][self.col] = " ".join("".join(self.text).split())
            self.col = None

    def handle_data(self, data):
        if self.inside and self.col:
            self.text.append(data)


def table(html: str, name: str) -> _Cells:
    parser = _Cells(name)
    parser.feed(html)
    return parser


def simple_rows(html: str, name: str) -> dict:
    """{first cell: [other cells]} of a `<table class="metrics" data-table=name>`."""
    body = html.split(f'data-table="{name}"')[1].split("</table>")[0].split("<tbody>")[1]
    rows = {}
    for tr in body.split("<tr>")[1:]:
        label = tr.split('class="cell-title">')[1].split("<")[0].strip()
        rows[label] = [td.split(">", 1)[1].split("</td>")[0] for td in tr.split("<td")[1:]]
    return rows


def kpi(html: str, key: str) -> tuple[str, str]:
    block = html.split(f'data-rate="{key}"')[1].split("</div>")[0]
    now = block.split("data-now>")[1].split("<")[0]
    before = block.split("data-before>")[1].split("<")[0]
    return now, before


# --- the dataset -------------------------------------------------------------------------------------


def _loop(order, p, category, rating, hours=1):
    actions.accept_order(order, actor=p.staff_a, category=category)
    actions.dispatch_order(order, actor=p.staff_a, member=p.member)
    actions.claim_order(order, actor=p.member_user)
    actions.start_order(order, actor=p.member_user)
    actions.resolve_order(order, actor=p.member_user, note="好了", hours=hours)
    actions.rate_order(order, actor=p.resident_user, rating=rating)


def build_dataset(world, personas):
    """The known dataset; returns the personas with `category` added. Other dashboard tests use it too."""
    p, w = personas, world
    category = t.make_category(w.town, name="水电维修")
    p.category = category
    member_a1 = t.make_member(home_community=w.a, home_grid=w.a1, name="党员丙")
    t.register_approved(member_a1, w.a)
    with time_machine.travel(MON - dt.timedelta(days=28), tick=False):  # February
        _loop(t.make_order(w.a, actor=p.resident_user, household=w.hh_a1), p, category, "unsatisfied")
    with time_machine.travel(MON, tick=False):
        _loop(t.make_order(w.a, actor=p.resident_user, household=w.hh_a1), p, category, "satisfied", hours=4)
        _loop(t.make_order(w.a, actor=p.resident_user, household=w.hh_a2), p, category, "basically")
        o3 = t.make_order(w.a, actor=p.resident_user, household=w.hh_a1)
        actions.accept_order(o3, actor=p.staff_a, category=category)
        actions.escalate_order(o3, actor=p.staff_a, department=w.dept, due=MON + dt.timedelta(days=2))
        actions.acknowledge_order(o3, actor=p.dept)
        actions.resolve_order(o3, actor=p.dept, note="已修复")
        actions.rate_order(o3, actor=p.resident_user, rating="satisfied")
        o4 = t.make_order(w.a, household=w.hh_a2)
        actions.accept_order(o4, actor=p.staff_a, category=category)
        actions.escalate_order(o4, actor=p.staff_a, department=w.dept, due=MON + dt.timedelta(days=2))
        actions.return_order(o4, actor=p.dept, reason="非本部门职责")
        o5 = t.make_order(w.a, household=w.hh_a1)
        actions.accept_order(o5, actor=p.staff_a, category=category)  # never dispatched: late
        b1 = t.make_order(w.b, household=w.hh_b1)
        actions.accept_order(b1, actor=p.staff_b, category=category)
        t.make_order(w.b, household=w.hh_b1)  # submitted, not yet accepted: no category
    return p


@pytest.fixture
def dataset(world, personas):
    return build_dataset(world, personas)


def _page(user, url):
    with time_machine.travel(NOW, tick=False):
        response = login(user).get(url)
    assert response.status_code == 200
    return response.content.decode()


# --- the tests -----------------------------------------------------------------------------------------


def test_town_three_rates_beside_last_month(world, dataset):
    html = _page(dataset.town_admin, f"/towns/{world.town.pk}/dashboard/")
    assert "本期 2026-03-01 至 2026-03-31，上期 2026-02-01 至 2026-02-28" in html
    assert kpi(html, "response") == ("66.7%", "100.0%")  # 4 of 6 responded in time; February 1/1
    assert kpi(html, "resolve") == ("50.0%", "0.0%")  # 3 of 6 due resolved in time
    assert kpi(html, "satisfaction") == ("100.0%", "0.0%")  # 3 of 3; February's one was 不满意
    assert 'data-metric="overdue_now">4<' in html
    # The same figures as order_metrics over the same rows.
    m = order_metrics(d.aware(dt.date(2026, 3, 1)), d.aware(dt.date(2026, 4, 1)), town=world.town, now=NOW)
    assert (m.submitted, m.accepted, m.responded_in_time, m.due, m.resolved_in_time) == (7, 6, 4, 6, 3)
    assert (m.rated, m.satisfied, m.bounced, m.reopened, m.overdue_now) == (3, 3, 1, 0, 4)


def test_comparison_rows_equal_order_metrics_per_community(world, dataset):
    html = _page(dataset.town_admin, f"/towns/{world.town.pk}/dashboard/")
    cells = table(html, "communities").rows
    a, b = cells[str(world.a.pk)], cells[str(world.b.pk)]
    assert a["name"] == "幸福社区" and b["name"] == "和平村"
    assert (a["submitted"], a["response_rate"], a["resolve_rate"], a["satisfaction_rate"]) == (
        "5",
        "80.0%",
        "60.0%",
        "100.0%",
    )
    assert (a["overdue"], a["reopened"], a["bounced"]) == ("3", "0", "1")
    assert (b["submitted"], b["response_rate"], b["resolve_rate"], b["satisfaction_rate"]) == ("2", "0.0%", "0.0%", "—")
    assert (b["overdue"], b["reopened"], b["bounced"]) == ("1", "0", "0")
    assert (a["households"], a["registered"], a["active"]) == ("2", "2", "1")
    assert (b["households"], b["registered"], b["active"]) == ("1", "1", "0")
    # Grouped in one query, each row equals order_metrics for that community alone — for whole
    # months (events shared with the trend) and for a custom range (events asked for separately).
    scope = d.Scope(town=world.town)
    for params in ({}, {"period": "quarter"}, {"start": "2026-03-02", "end": "2026-03-10"}):
        period = d.parse_period(params, dt.date(2026, 3, 12))
        events = d.MonthlyEvents(scope, period)
        assert (events.for_period() is None) == ("start" in params)
        _rows_equal_order_metrics(world, d.breakdown(scope, period, NOW, d.grid_sizings(scope), events), period)


def _rows_equal_order_metrics(world, breakdown, period):
    rows = {r.key: r for r in breakdown}
    for community in (world.a, world.b):
        m = order_metrics(d.aware(period.start), d.aware(period.end), community=community, now=NOW)
        r = rows[community.pk]
        assert (r.submitted, r.accepted, r.responded_in_time, r.due, r.resolved_in_time) == (
            m.submitted,
            m.accepted,
            m.responded_in_time,
            m.due,
            m.resolved_in_time,
        )
        assert (r.rated, r.satisfied, r.reopened, r.bounced, r.overdue) == (
            m.rated,
            m.satisfied,
            m.reopened,
            m.bounced,
            m.overdue_now,
        )
        assert (r.mean_resolve is None) == (m.mean_resolve is None)
        if r.mean_resolve is not None:
            assert abs(r.mean_resolve.total_seconds() - m.mean_resolve.total_seconds()) < 0.01


def test_monthly_trend_and_categories(world, dataset):
    html = _page(dataset.town_admin, f"/towns/{world.town.pk}/dashboard/")
    trend = simple_rows(html, "trend")
    assert len(trend) == 12 and next(iter(trend)) == "2025-04" and list(trend)[-1] == "2026-03"
    assert trend["2026-03"] == ["7", "66.7%", "50.0%", "100.0%"]
    assert trend["2026-02"] == ["1", "100.0%", "0.0%", "0.0%"]
    assert trend["2026-01"] == ["0", "—", "—", "—"]
    # Each month equals order_metrics over that month.
    period = d.parse_period({}, dt.date(2026, 3, 12))
    for row in d.monthly_trend(d.Scope(town=world.town), period, NOW)[-2:]:
        end = d._month_start(row.key, -1)
        m = order_metrics(d.aware(row.key), d.aware(end), town=world.town, now=NOW)
        assert (row.submitted, row.responded_in_time, row.due, row.resolved_in_time, row.rated, row.satisfied) == (
            m.submitted,
            m.responded_in_time,
            m.due,
            m.resolved_in_time,
            m.rated,
            m.satisfied,
        )
    assert simple_rows(html, "categories") == {"水电维修": ["6"], "未分类": ["1"]}
    assert 'id="chart-trend" type="application/json"' in html


def test_members_registered_active_and_hours(world, dataset):
    html = _page(dataset.town_admin, f"/towns/{world.town.pk}/dashboard/")
    assert "报到党员 3 名，本期活跃 1 名（33.3%）" in html
    # 12 March: 71/365 of the year gone → pace 3.9 of 20 hours; the member with 5 hours is on pace.
    assert "2026 年按进度达标 1/3 名（33.3%）；年度目标 20.0 小时，按进度应达 3.9 小时" in html
    assert simple_rows(html, "hours") == {
        "0 小时": ["2"],
        "0–5 小时": ["0"],
        "5–10 小时": ["1"],
        "10–20 小时": ["0"],
        "20 小时及以上": ["0"],
    }
    community = _page(dataset.staff_a, f"/communities/{world.a.pk}/dashboard/")
    assert "报到党员 2 名，本期活跃 1 名（50.0%）" in community
    grid = _page(dataset.staff_a, f"/grids/{world.a1.pk}/dashboard/")
    assert "报到党员 1 名，本期活跃 0 名（0.0%）" in grid  # the member living in A1


def test_returns_by_department_and_grid_coverage(world, dataset):
    html = _page(dataset.town_admin, f"/towns/{world.town.pk}/dashboard/")
    assert simple_rows(html, "returns") == {"城管局": ["1", "0"]}
    # One household each; only A1 has a grid worker.
    assert "共 3 个网格，2 个未达标" in html
    assert set(table(html, "flagged").rows) == {str(world.a2.pk), str(world.b1.pk)}
    assert f'href="/grids/{world.a2.pk}/dashboard/?period=month"' in html
    assert f'href="/grids/{world.b1.pk}/dashboard/?period=month"' in html
    assert f'href="/grids/{world.a1.pk}/dashboard/' not in html.split('id="cover-h"')[1].split("</section>")[0]


def test_community_dashboard_grids_and_drill_down(world, dataset):
    html = _page(dataset.staff_a, f"/communities/{world.a.pk}/dashboard/?period=month")
    assert kpi(html, "response") == ("80.0%", "100.0%")
    grids = table(html, "grids")
    a1, a2 = grids.rows[str(world.a1.pk)], grids.rows[str(world.a2.pk)]
    assert (a1["submitted"], a1["response_rate"], a1["overdue"]) == ("3", "66.7%", "2")
    assert (a2["submitted"], a2["response_rate"], a2["overdue"]) == ("2", "100.0%", "1")
    assert (a1["registered"], a2["registered"]) == ("1", "0")
    # Drill down: the grid's dashboard, and its overdue orders in the existing queue.
    assert f'href="/grids/{world.a1.pk}/dashboard/?period=month"' in html
    assert f'href="/communities/{world.a.pk}/orders/?grid={world.a1.pk}&amp;overdue=on"' in html
    grid = _page(dataset.staff_a, f"/grids/{world.a1.pk}/dashboard/")
    assert kpi(grid, "response") == ("66.7%", "100.0%")
    assert 'data-metric="overdue_now">2<' in grid
    assert f'href="/communities/{world.a.pk}/orders/?grid={world.a1.pk}&amp;status=all"' in grid
    # The queue link leads to the orders the figure counted.
    with time_machine.travel(NOW, tick=False):
        queue = login(dataset.staff_a).get(f"/communities/{world.a.pk}/orders/?grid={world.a1.pk}&overdue=on")
    assert queue.status_code == 200
    assert queue.content.decode().count("data-order=") == 2
    # The town page links to the community's dashboard for the same period.
    town = _page(dataset.town_admin, f"/towns/{world.town.pk}/dashboard/?period=last_month")
    assert f'href="/communities/{world.a.pk}/dashboard/?period=last_month"' in town


def test_custom_and_preset_periods(world, dataset):
    url = f"/towns/{world.town.pk}/dashboard/"
    html = _page(dataset.town_admin, url + "?period=quarter")
    assert "本期 2026-01-01 至 2026-03-31，上期 2025-10-01 至 2025-12-31" in html
    html = _page(dataset.town_admin, url + "?period=year")
    assert "本期 2026-01-01 至 2026-12-31，上期 2025-01-01 至 2025-12-31" in html
    html = _page(dataset.town_admin, url + "?period=last_month")
    assert "本期 2026-02-01 至 2026-02-28，上期 2026-01-01 至 2026-01-31" in html
    assert kpi(html, "satisfaction") == ("0.0%", "—")
    html = _page(dataset.town_admin, url + "?start=2026-03-02&end=2026-03-02")
    assert "本期 2026-03-02 至 2026-03-02，上期 2026-03-01 至 2026-03-01" in html
    assert kpi(html, "response")[0] == "66.7%"
    html = _page(dataset.town_admin, url + "?start=2026-03-09&end=2026-03-01")
    assert "日期无效" in html and "本期 2026-03-01 至 2026-03-31" in html


def test_zero_denominators_show_a_dash(world, personas):
    html = _page(personas.town_admin, f"/towns/{world.town.pk}/dashboard/")
    assert kpi(html, "response") == ("—", "—")
    assert kpi(html, "resolve") == ("—", "—")
    assert "报到党员 2 名，本期活跃 0 名（0.0%）" in html


def test_pages_in_english(world, dataset):
    from django.test import Client

    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    client.force_login(dataset.town_admin)
    with time_machine.travel(NOW, tick=False):
        html = client.get(f"/towns/{world.town.pk}/dashboard/").content.decode()
        league = client.get(f"/towns/{world.town.pk}/departments/").content.decode()
    assert "Response rate" in html and "Community comparison" in html and "响应率" not in html
    assert "Departments" in league and "收到吹哨" not in league


def test_echarts_only_on_dashboards(world, personas):
    client = login(personas.town_admin)
    assert "vendor/echarts/echarts-6.1.0.min.js" in client.get(f"/towns/{world.town.pk}/dashboard/").content.decode()
    for url in ("/", f"/communities/{world.a.pk}/"):
        assert "echarts" not in client.get(url).content.decode()


def test_member_activity_agrees_with_the_ledger(world, dataset):
    from linli.credits import ledger

    today = dt.date(2026, 3, 12)
    period = d.parse_period({}, today)
    for scope in (d.Scope(town=world.town), d.Scope(town=world.town, community=world.a)):
        activity = d.member_activity(scope, period, today)
        members = d.registered_members(scope)
        behind = ledger.members_behind_pace(members, 2026, today, town=world.town).count()
        assert activity.on_pace == activity.registered - behind
        hours = sorted(float(m.year_hours) for m in ledger.with_year_hours(members, 2026))
        assert activity.buckets[0] == sum(1 for h in hours if h <= 0)
        assert activity.buckets[2] == sum(1 for h in hours if 5 <= h < 10)
        assert sum(activity.buckets) == activity.registered == len(hours)


def test_updated_at_bounds_every_counted_time(world, dataset):
    """dashboards.touched_since relies on it: transitions stamp updated_at with their event."""
    from django.db.models import F

    from linli.orders.models import Order, OrderEvent

    kinds = [OrderEvent.Kind.TRANSITION, OrderEvent.Kind.REOPEN, OrderEvent.Kind.BOUNCE]  # not OVERDUE, FOLLOW_UP
    counted = OrderEvent.objects.filter(kind__in=kinds)
    assert counted.count() > 20
    assert not counted.filter(at__gt=F("order__updated_at")).exists()
    for field in ("created_at", "accepted_at", "responded_at", "resolved_at", "closed_at"):
        assert not Order.objects.filter(**{f"{field}__gt": F("updated_at")}).exists(), field
