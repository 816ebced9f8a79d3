"""The town's community comparison: sorted on the server by ?sort=, exported to .xlsx (audited)."""

import io

import pytest
import time_machine
from openpyxl import load_workbook

from linli import testing as t
from linli.accounts.models import AuditEntry
from tests.conftest import login
from tests.test_dashboards_figures import NOW, build_dataset, table

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def dataset(world, personas):
    return build_dataset(world, personas)


def _get(user, url):
    with time_machine.travel(NOW, tick=False):
        return login(user).get(url)


def test_sorting_by_header_links(world, dataset):
    url = f"/towns/{world.town.pk}/dashboard/"
    a, b = str(world.a.pk), str(world.b.pk)
    by_name = table(_get(dataset.town_admin, url).content.decode(), "communities")
    assert by_name.order == [a, b]  # the name column sorts by community code (CA, CB), as listed elsewhere
    by_orders = table(_get(dataset.town_admin, url + "?sort=-submitted").content.decode(), "communities")
    assert by_orders.order == [a, b]
    ascending = table(_get(dataset.town_admin, url + "?sort=submitted").content.decode(), "communities")
    assert ascending.order == [b, a]
    # The form for narrow screens says the same with sort= and dir=.
    form = table(_get(dataset.town_admin, url + "?sort=submitted&dir=desc").content.decode(), "communities")
    assert form.order == [a, b]
    # Rates without a denominator ("—") sort last whichever the direction.
    for sort in ("satisfaction_rate", "-satisfaction_rate"):
        rows = table(_get(dataset.town_admin, url + f"?sort={sort}").content.decode(), "communities")
        assert rows.order[-1] == b and rows.rows[b]["satisfaction_rate"] == "—"
    # Header links: the sorted column flips its direction; others start with the largest first.
    headers = dict(ascending.headers)
    assert headers["submitted"].endswith("sort=-submitted")
    assert headers["resolve_rate"].endswith("sort=-resolve_rate")
    assert headers["name"].endswith("sort=name")
    assert "period=month" in headers["submitted"]
    html = _get(dataset.town_admin, url + "?sort=-submitted").content.decode()
    assert 'aria-sort="descending"' in html
    # Unknown keys fall back to the name order.
    assert table(_get(dataset.town_admin, url + "?sort=password").content.decode(), "communities").order == [a, b]


def test_export_opens_and_matches_the_table(world, dataset):
    url = f"/towns/{world.town.pk}/dashboard/?sort=submitted"
    page = table(_get(dataset.town_admin, url).content.decode(), "communities")
    html = _get(dataset.town_admin, url).content.decode()
    export = html.split("data-export")[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert export == f"/towns/{world.town.pk}/dashboard/communities.xlsx?period=month&sort=submitted"
    response = _get(dataset.town_admin, export)
    assert response.status_code == 200 and response["Content-Type"] == XLSX_TYPE
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:5] == ("社区/村", "户数", "报到党员", "活跃党员", "新增工单")
    body = rows[1:]
    assert [r[0] for r in body] == [page.rows[k]["name"] for k in page.order]  # same rows, same order
    col = {name: i for i, name in enumerate(header)}
    for key, r in zip(page.order, body, strict=True):
        cells = page.rows[key]
        assert str(r[col["户数"]]) == cells["households"]
        assert str(r[col["报到党员"]]) == cells["registered"]
        assert str(r[col["活跃党员"]]) == cells["active"]
        assert str(r[col["新增工单"]]) == cells["submitted"]
        for name, field in (
            ("响应率（%）", "response_rate"),
            ("办结率（%）", "resolve_rate"),
            ("满意率（%）", "satisfaction_rate"),
        ):
            shown = cells[field]
            assert (f"{r[col[name]]:.1f}%" if r[col[name]] is not None else "—") == shown
        mean = r[col["平均办结时长（小时）"]]
        assert (f"{mean:.1f} 小时" if mean is not None else "—") == cells["mean_resolve"]
        assert str(r[col["当前超时"]]) == cells["overdue"]
        assert str(r[col["重新办理"]]) == cells["reopened"]
        assert str(r[col["部门退回"]]) == cells["bounced"]
        assert str(r[col["缺网格员"]]) == cells["short_workers"]
    # Numerators and denominators are there too.
    a = body[[row[0] for row in body].index("幸福社区")]
    assert (a[col["受理量"]], a[col["按时响应"]], a[col["应办结量"]], a[col["按时办结"]]) == (5, 4, 5, 3)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert entry.actor == dataset.town_admin and entry.object_id == str(world.town.pk)
    assert entry.detail["report"] == "community_comparison" and entry.detail["rows"] == 2
    assert entry.detail["start"] == "2026-03-01" and entry.detail["end"] == "2026-03-31"


def test_export_of_a_custom_period_is_named_by_it(world, dataset):
    response = _get(
        dataset.town_admin, f"/towns/{world.town.pk}/dashboard/communities.xlsx?start=2026-03-02&end=2026-03-02"
    )
    assert "communities-T01-2026-03-02-2026-03-02.xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = {r[0]: r for r in list(sheet.iter_rows(values_only=True))[1:]}
    assert rows["幸福社区"][4] == 5 and rows["和平村"][4] == 2


def test_a_formula_like_name_stays_text(world, personas):
    t.make_community(world.town, code="CZ", name='=HYPERLINK("http://x")')
    response = login(personas.town_admin).get(f"/towns/{world.town.pk}/dashboard/communities.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    names = [sheet.cell(row=r, column=1) for r in range(2, sheet.max_row + 1)]
    cell = next(c for c in names if str(c.value).startswith("="))
    assert cell.data_type == "s"
