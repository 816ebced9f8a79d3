"""Real browser checks at phone width (360 px): Debian's Chromium driven by Playwright.

The live server runs in this process; Playwright's sync API runs an event loop in this thread,
so Django's async-safety guard is switched off for this module.
"""

import os
from urllib.parse import urlsplit

import pytest

from linli import testing as t
from linli.people import actions

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}

# Elder mode (长辈版) bars, measured on what is actually rendered.
ELDER_CHECK = """() => {
  const small = [], tiny = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (el.closest('.sr-only, .skip')) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    if (parseFloat(style.fontSize) < 18) small.push(el.tagName + ' ' + style.fontSize + ' ' + node.textContent.trim());
  }
  for (const el of document.querySelectorAll('a, button, input:not([type=hidden]), select, summary')) {
    if (el.closest('.skip')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.width < 60 || r.height < 60) {
      tiny.push(`${el.tagName} ${Math.round(r.width)}x${Math.round(r.height)} ${el.textContent.trim()}`);
    }
  }
  return {small, tiny};
}"""


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium. "
            "Run `make browser` (or `apt-get install chromium` as root), then run the tests again."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def phone(browser):
    """A 360×780 page that records every request and every response it makes."""
    context = browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN")
    page = context.new_page()
    page.requests = []
    page.responses = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("response", lambda response: page.responses.append((response.url, response.status)))
    yield page
    context.close()
    foreign = {
        url
        for url in page.requests
        if urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname not in LOCAL_HOSTS
    }
    assert not foreign, f"requests left this machine: {sorted(foreign)}"


def _sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", t.PASSWORD)
    page.click("form button[type=submit].weui-btn")
    page.wait_for_url(f"{live_server.url}/")


def _css_loaded(page):
    css = [(url, status) for url, status in page.responses if url.endswith(".css")]
    assert len(css) >= 2, css  # WeUI and linli.css
    assert all(status == 200 for _, status in css), css
    # linli.css applied: the page background and the brand colour come from it.
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(237, 237, 237)"
    assert page.evaluate("getComputedStyle(document.querySelector('.brand')).color") == "rgb(6, 122, 61)"


def test_staff_signs_in_and_sees_grids_with_a_sizing_flag(live_server, transactional_db, world, personas, phone):
    _sign_in(phone, live_server, "staff_a")
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
    _sign_in(phone, live_server, "staff_a")
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
    _sign_in(phone, live_server, "staff_a")
    phone.goto(f"{live_server.url}/communities/{world.a.pk}/registrations/")
    row = phone.locator(f"#reg-{registration.pk}")
    phone.evaluate("window.__same_page = true")
    row.locator("button", has_text="通过").first.click()
    phone.wait_for_selector(f"#reg-{registration.pk} .status-approved")
    assert phone.evaluate("window.__same_page === true")  # swapped by htmx, no reload
    registration.refresh_from_db()
    assert registration.status == "approved"
