"""The dashboards in Debian's Chromium at phone width: charts drawn from the vendored ECharts, resized
with the page, nothing wider than 360 px, and elder mode's bars met."""

import pytest
import time_machine

from tests.support.browser import ELDER_CHECK
from tests.support.browser import sign_in as _sign_in
from tests.test_dashboards_figures import NOW, build_dataset

pytestmark = pytest.mark.browser


def _charts(page) -> list[int]:
    """The width of each chart's SVG, once every chart is drawn."""
    page.wait_for_function(
        "document.querySelectorAll('[data-chart]').length"
        " && document.querySelectorAll('[data-chart] svg').length === document.querySelectorAll('[data-chart]').length"
    )
    return page.evaluate("[...document.querySelectorAll('[data-chart] svg')].map(s => s.getBoundingClientRect().width)")


def test_town_dashboard_on_a_phone(live_server, transactional_db, world, personas, request):
    with time_machine.travel(NOW, tick=False):
        build_dataset(world, personas)
    page = request.getfixturevalue("phone")
    _sign_in(page, live_server, "town")
    page.goto(f"{live_server.url}/towns/{world.town.pk}/dashboard/?start=2026-03-01&end=2026-03-31")
    page.wait_for_load_state("networkidle")
    widths = _charts(page)
    assert len(widths) == 3
    assert all(300 <= w <= 340 for w in widths), widths
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    echarts = [url for url in page.requests if "echarts" in url]
    assert echarts and all("/static/vendor/echarts/echarts-6.1.0.min.js" in url for url in echarts)
    # The comparison table stacks into cards; the sort form stands in for the hidden header.
    assert page.locator("form.sort-form").is_visible()
    assert page.locator('table[data-table="communities"] thead').is_hidden()
    # Charts follow the page's width.
    page.set_viewport_size({"width": 700, "height": 780})
    page.wait_for_function("document.querySelector('[data-chart] svg').getBoundingClientRect().width > 600")


def test_dashboards_in_elder_mode(live_server, transactional_db, world, personas, request):
    page = request.getfixturevalue("phone")
    _sign_in(page, live_server, "town")
    page.context.add_cookies([{"name": "elder", "value": "1", "url": live_server.url}])
    for url in (f"/towns/{world.town.pk}/dashboard/", f"/grids/{world.a1.pk}/dashboard/"):
        page.goto(f"{live_server.url}{url}")
        page.wait_for_selector("html.elder")
        _charts(page)
        found = page.evaluate(ELDER_CHECK)
        assert not found["small"], (url, found["small"][:5])
        assert not found["tiny"], (url, found["tiny"][:5])
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, url
    page.goto(f"{live_server.url}/towns/{world.town.pk}/departments/")
    found = page.evaluate(ELDER_CHECK)
    assert not found["small"] and not found["tiny"], found
