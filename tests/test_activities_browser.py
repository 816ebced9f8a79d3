"""Activity pages in a real browser at phone width (360 px), standard and elder mode (长辈版)."""

import datetime as dt

import pytest
import time_machine

from linli.activities import actions
from linli.activities.models import SignUp
from linli.activities.testing import make_activity
from tests.support.browser import fits, meets_elder_bars, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def live_shift(world, personas):
    """A published activity whose shift is on now, and another open for sign-up."""
    with time_machine.travel(dt.datetime.now(tz=dt.UTC) - dt.timedelta(hours=1), tick=False):
        activity = make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(0.5, 3, 6)], title="楼道清理")
        shift = activity.shifts.get()
        actions.sign_up(shift, actor=personas.member_user)
    make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(48, 2, 4), (72, 2, 4)], title="政策宣传")
    return shift


def _check(page, url):
    meets_elder_bars(page)
    fits(page)


def test_member_pages_meet_the_elder_bars(live_server, transactional_db, world, personas, phone, live_shift):
    sign_in(phone, live_server, "member")
    phone.click("button[name=on][value='1']")
    phone.wait_for_selector("html.elder")
    other = make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(96, 2, 4)], title="探访老人")
    for url in ("/activities/", f"/activities/{other.pk}/", "/activities/mine/", "/checkin/?t=bad"):
        phone.goto(f"{live_server.url}{url}")
        _check(phone, url)


def test_sign_up_in_place_with_htmx(live_server, transactional_db, world, personas, phone, live_shift):
    other = make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(96, 2, 4)], title="探访老人")
    shift = other.shifts.get()
    sign_in(phone, live_server, "member")
    phone.goto(f"{live_server.url}/activities/{other.pk}/")
    phone.evaluate("window.__same_page = true")
    phone.locator(f"#shift-{shift.pk} button", has_text="报名").click()
    phone.wait_for_selector(f"#shift-{shift.pk} .status-signed_up")
    assert phone.evaluate("window.__same_page === true")
    assert SignUp.objects.filter(shift=shift, member=personas.member).exists()


def test_code_page_scans_and_refreshes(live_server, transactional_db, world, personas, phone, browser, live_shift):
    sign_in(phone, live_server, "staff_a")
    phone.click("button[name=on][value='1']")
    phone.wait_for_selector("html.elder")
    for url in (f"/shifts/{live_shift.pk}/code/", f"/shifts/{live_shift.pk}/roster/"):
        phone.goto(f"{live_server.url}{url}")
        _check(phone, url)
    phone.goto(f"{live_server.url}/shifts/{live_shift.pk}/code/")
    box = phone.locator(".code-box svg").bounding_box()
    assert box["width"] >= 300  # as big as the phone allows
    first = phone.get_attribute(".code-box", "data-scan")
    phone.wait_for_timeout(1100)
    # What the 30-second poll does, now: the partial replaces the code with a fresh token.
    phone.evaluate(f"htmx.ajax('GET', '/shifts/{live_shift.pk}/code/', {{target: '#code', swap: 'outerHTML'}})")
    phone.wait_for_function(f"document.querySelector('.code-box').dataset.scan !== {first!r}")
    scan_url = phone.get_attribute(".code-box", "data-scan")
    # The member opens the scanned URL on their phone and confirms.
    member_page = browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN").new_page()
    sign_in(member_page, live_server, "member")
    member_page.goto(scan_url.replace("http://testserver", live_server.url))
    member_page.click("button:has-text('确认签到')")
    member_page.wait_for_selector("text=签到成功")
    assert SignUp.objects.get(shift=live_shift, member=personas.member).status == "checked_in"
