"""Real browser checks at phone width (360 px): Debian's Chromium driven by Playwright.

The fixtures (`browser`, `phone`, `phones`) and helpers live in tests/support/browser.py.
"""

import pytest

from linli import testing as t
from linli.people import actions
from tests.support.browser import ELDER_CHECK, sign_in

pytestmark = pytest.mark.browser


def _css_loaded(page):
    css = [(url, status) for url, status in page.responses if url.endswith(".css")]
    assert len(css) >= 2, css  # WeUI and linli.css
    assert all(status == 200 for _, status in css), css
    # linli.css applied: the page background and the brand colour come from it.
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(237, 237, 237)"
    assert page.evaluate("getComputedStyle(document.querySelector('.brand')).color") == "rgb(6, 122, 61)"


def test_staff_signs_in_and_sees_grids_with_a_sizing_flag(live_server, transactional_db, world, personas, phone):
    sign_in(phone, live_server, "staff_a")
    phone.goto(f"{live_server.url}/communities/{world.a.pk}/")
    phone.wait_for_load_state("networkidle")  # the metrics block arrives by htmx after load
    _css_loaded(phone)
    table = phone.locator("table.grid-table")
    assert table.is_visible()
    assert phone.locator("table.grid-table tbody tr").count() == 2
    # A2 has a household and no grid worker: flagged, and the flag is on screen.
    flag = phone.locator('tr[data-grid="CA02"] .flag-bad')
    assert flag.is_visible()
    assert "缺 1 名网格员" in flag.inner_text()
    assert phone.locator('tr[data-grid="CA01"] .flag-ok').is_visible()
    # Nothing wider than the phone.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


def test_elder_mode_switch_meets_the_bars(live_server, transactional_db, world, personas, phone):
    sign_in(phone, live_server, "staff_a")
    phone.goto(f"{live_server.url}/communities/{world.a.pk}/")
    phone.click("button[name=on][value='1']")
    phone.wait_for_selector("html.elder")
    assert phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 18
    for url in (f"/communities/{world.a.pk}/", f"/grids/{world.a1.pk}/", "/"):
        phone.goto(f"{live_server.url}{url}")
        found = phone.evaluate(ELDER_CHECK)
        assert not found["small"], (url, found["small"][:5])
        assert not found["tiny"], (url, found["tiny"][:5])
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, url


def test_language_switch_to_english(live_server, transactional_db, world, personas, phone):
    phone.goto(f"{live_server.url}/login/")
    phone.click("button[name=language][value=en]")
    phone.wait_for_selector("html[lang=en]")
    assert "Sign in to Linli" in phone.inner_text("h1")


def test_htmx_approves_a_registration_in_place(live_server, transactional_db, world, personas, phone):
    member = t.make_member(name="申请人")
    registration = actions.request_registration(member, community=world.a, actor=None)
    sign_in(phone, live_server, "staff_a")
    phone.goto(f"{live_server.url}/communities/{world.a.pk}/registrations/")
    row = phone.locator(f"#reg-{registration.pk}")
    phone.evaluate("window.__same_page = true")
    row.locator("button", has_text="通过").first.click()
    phone.wait_for_selector(f"#reg-{registration.pk} .status-approved")
    assert phone.evaluate("window.__same_page === true")  # swapped by htmx, no reload
    registration.refresh_from_db()
    assert registration.status == "approved"
