"""Chromium at phone width for the page tests: Debian's chromium driven by Playwright.

The fixtures `browser`, `phones` and `phone` are offered to every test module by conftest.py;
the helpers below are imported where needed. The live server runs in the test's process and
Playwright's sync API runs an event loop in the test's thread, so Django's async-safety guard
is switched off for the browser tests.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from linli import testing as t

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

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
PHONE = {"width": 360, "height": 780}
SHOTS = Path(os.environ.get("LINLI_SHOTS_DIR", "/tmp/linli-shots"))

# Elder mode (长辈版) bars, measured on what is actually rendered: body text ≥ 18 px and touch
# targets ≥ 60×60 px.
ELDER_CHECK = """() => {
  const small = [], tiny = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (el.closest('.sr-only, .skip, style')) continue;
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
def phones(browser):
    """phone() → a new 360×780 page with its own cookies, recording every request and response.

    At the end, fails the test if any page asked for anything outside this machine (no CDN).
    """
    contexts, pages = [], []

    def phone():
        context = browser.new_context(viewport=PHONE, locale="zh-CN")
        page = context.new_page()
        page.requests = []
        page.responses = []
        page.on("request", lambda request: page.requests.append(request.url))
        page.on("response", lambda response: page.responses.append((response.url, response.status)))
        contexts.append(context)
        pages.append(page)
        return page

    yield phone
    for context in contexts:
        context.close()
    foreign = {
        url
        for page in pages
        for url in page.requests
        if urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname not in LOCAL_HOSTS
    }
    assert not foreign, f"requests left this machine: {sorted(foreign)}"


@pytest.fixture
def phone(phones):
    """One 360×780 page (see `phones`)."""
    return phones()


def sign_in(page, live_server, username, password=t.PASSWORD):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit].weui-btn")
    page.wait_for_url(f"{live_server.url}/")


def fits(page, width=PHONE["width"]):
    """Nothing on the page is wider than the phone."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def meets_elder_bars(page):
    found = page.evaluate(ELDER_CHECK)
    assert not found["small"], (page.url, found["small"][:5])
    assert not found["tiny"], (page.url, found["tiny"][:5])


def shot(page, name):
    """A full-page screenshot under $LINLI_SHOTS_DIR (default /tmp/linli-shots), to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
