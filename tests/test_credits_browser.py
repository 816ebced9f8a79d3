"""The member's service record at phone width (360 px) in Chromium, standard and elder mode."""

import datetime as dt
import os

import pytest

from linli.credits import actions
from tests.support.browser import ELDER_CHECK, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def served(personas, world):
    m = personas.member
    for sid, (hours, kind) in enumerate([("3.0", "shift"), ("2.5", "order"), ("4.0", "shift")], start=1):
        actions.record_service(
            m,
            hours=hours,
            source_type=kind,
            source_id=sid,
            community=world.a,
            service_date=dt.date.today() - dt.timedelta(days=sid),
            activity_name="社区环境整治志愿服务活动（第一期）",
            place="幸福社区中心广场东侧",
            content="清理楼道杂物、张贴安全提示、陪伴独居老人聊天",
            organizer=world.a.name,
            leader="王主任",
        )
        actions.award_points(m, rule="service_hours", source_type=kind, source_id=sid, hours=hours, town=world.town)
    return m


def test_the_record_fits_a_phone_and_meets_the_elder_bars(
    live_server, transactional_db, world, personas, served, phone
):
    sign_in(phone, live_server, "member")
    url = f"{live_server.url}/members/{served.pk}/record/"
    phone.goto(url)
    assert phone.locator(".progress-fill").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    if os.environ.get("LINLI_SCREENSHOTS"):
        phone.screenshot(path=os.path.join(os.environ["LINLI_SCREENSHOTS"], "record.png"), full_page=True)
    phone.click("button[name=on][value='1']")
    phone.wait_for_selector("html.elder")
    for path in (f"/members/{served.pk}/record/", f"/service-records/{served.service_records.first().pk}/correct/"):
        phone.goto(f"{live_server.url}{path}")
        found = phone.evaluate(ELDER_CHECK)
        assert not found["small"], (path, found["small"][:5])
        assert not found["tiny"], (path, found["tiny"][:5])
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, path
    if os.environ.get("LINLI_SCREENSHOTS"):
        phone.goto(url)
        phone.screenshot(path=os.path.join(os.environ["LINLI_SCREENSHOTS"], "record-elder.png"), full_page=True)
