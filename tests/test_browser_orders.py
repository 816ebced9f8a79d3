"""The 三单 loop in a real browser at phone width (360×780): a resident files an order, staff
accept and dispatch it, the member claims it. Screenshots go to $LINLI_SHOTS_DIR
(default /tmp/linli-shots). Fixtures and helpers: tests/support/browser.py.
"""

import struct
import zlib

import pytest

from linli import testing as t
from linli.orders.models import CategoryRule, Order
from tests.support.browser import ELDER_CHECK, fits, shot, sign_in

pytestmark = pytest.mark.browser


def tiny_png() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x07\xc1\x60"))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_resident_files_staff_dispatch_member_claims(live_server, transactional_db, world, personas, phones, tmp_path):
    category = t.make_category(world.town, name="水电维修")
    CategoryRule.objects.create(category=category, required_skill=world.electrical)
    other = t.make_order(world.a, household=world.hh_a1, category=category, title="一楼水管漏水")
    photo = tmp_path / "leak.png"
    photo.write_bytes(tiny_png())

    # The resident files an order through the form; the duplicate hint appears on choosing the category.
    resident = phones()
    sign_in(resident, live_server, "resident")
    resident.click("a[href='/orders/new/']")
    resident.wait_for_url("**/orders/new/")
    resident.select_option("#id_category", str(category.pk))
    resident.wait_for_selector("#dups .dup-box")
    assert other.title in resident.inner_text("#dups")
    resident.fill("#id_title", "厨房水龙头漏水")
    resident.fill("#id_description", "关不紧，一直滴水")
    resident.set_input_files("#id_photos", str(photo))
    fits(resident)
    shot(resident, "01_resident_form")
    resident.click("form#order-form button[type=submit]")
    resident.wait_for_selector(".msg-success")
    order = Order.objects.get(title="厨房水龙头漏水")
    assert resident.url.endswith(f"/orders/{order.pk}/")
    assert resident.locator(".photos img").count() == 1
    # The photo is served (through the access-checked URL) and decodes: 1×1 pixels.
    resident.wait_for_function("document.querySelector('.photos img').complete")
    assert resident.evaluate("document.querySelector('.photos img').naturalWidth") == 1
    fits(resident)
    shot(resident, "02_resident_detail")

    # Staff find it in the queue, accept it, and dispatch it to the first candidate.
    staff = phones()
    sign_in(staff, live_server, "staff_a")
    staff.click(f"a[href='/communities/{world.a.pk}/orders/']")
    staff.wait_for_selector(f"li[data-order='{order.pk}']")
    fits(staff)
    shot(staff, "03_staff_queue")
    staff.click(f"li[data-order='{order.pk}'] a")
    staff.wait_for_selector("#accept")
    staff.select_option("#accept select[name=category]", str(category.pk))
    staff.select_option("#accept select[name=priority]", "4")
    staff.click("#accept button[type=submit]")
    staff.wait_for_selector("#dispatch")
    candidate = staff.locator(f"li.cand[data-member='{personas.member.pk}']")
    assert "擅长水电维修（专业）" in candidate.inner_text()
    fits(staff)
    shot(staff, "04_staff_candidates")
    candidate.locator("button[type=submit]").click()
    staff.wait_for_selector(".msg-success")
    assert "已派给党员甲" in staff.inner_text(".messages")
    shot(staff, "05_staff_dispatched")
    order.refresh_from_db()
    assert (order.status, order.assignee) == ("dispatched", personas.member)

    # The member claims it from their task list, in place (htmx).
    member = phones()
    sign_in(member, live_server, "member")
    member.click("a.navlink[href='/tasks/']")
    member.wait_for_selector(f"#order-{order.pk}")
    fits(member)
    shot(member, "06_member_tasks")
    member.evaluate("window.__same_page = true")
    member.locator(f"#order-{order.pk} button", has_text="接单").click()
    member.wait_for_selector(f"#order-{order.pk} .msg-success")
    assert member.evaluate("window.__same_page === true")
    shot(member, "07_member_claimed")
    order.refresh_from_db()
    assert (order.status, order.assignee) == ("claimed", personas.member)

    # The resident's page notices the change (status polling) — asked for directly, not waited for.
    resident.goto(f"{live_server.url}/orders/{order.pk}/status/?was=submitted")
    assert "已接单" in resident.inner_text("body")


def test_order_pages_meet_the_elder_bars(live_server, transactional_db, world, personas, phones):
    category = t.make_category(world.town, name="水电维修")
    order = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1, title="楼道灯不亮")
    page = phones()
    page.context.add_cookies([{"name": "elder", "value": "1", "url": live_server.url}])
    sign_in(page, live_server, "staff_a")
    for url, name in (
        (f"/orders/{order.pk}/", "08_elder_staff_detail"),
        (f"/communities/{world.a.pk}/orders/", "09_elder_queue"),
        ("/orders/new/?for=grid", "10_elder_on_behalf"),
    ):
        page.goto(f"{live_server.url}{url}")
        page.wait_for_selector("html.elder")
        shot(page, name)
        found = page.evaluate(ELDER_CHECK)
        assert not found["small"], (url, found["small"][:5])
        assert not found["tiny"], (url, found["tiny"][:5])
        fits(page)
    assert category.pk
    # A resident who also serves as a member: one order link in the header (tasks), and it fits.
    t.make_member(user=personas.resident_user, home_community=world.a, name="居民甲")
    both = phones()
    both.context.add_cookies([{"name": "elder", "value": "1", "url": live_server.url}])
    sign_in(both, live_server, "resident")
    assert both.locator(".topnav a.navlink").count() == 3
    assert both.locator(".topnav a.navlink[href='/tasks/']").count() == 1
    shot(both, "11_elder_header_two_roles")
    assert not both.evaluate(ELDER_CHECK)["tiny"]
    fits(both)


def test_a_tour_of_the_other_order_pages(live_server, transactional_db, world, personas, phones, tmp_path):
    """Each remaining page at 360 px, arranged through the actions, with a screenshot to look at."""
    from linli.orders import actions

    p = personas
    category = t.make_category(world.town, name="水电维修")
    CategoryRule.objects.create(category=category, required_skill=world.electrical)
    plumbing = t.make_category(world.town, name="管道疏通")
    CategoryRule.objects.create(category=plumbing, required_skill=t.make_skill("plumbing", "管道疏通"))
    for title, cat in (("换灯泡", category), ("疏通下水道", plumbing), ("帮老人取快递", None)):
        o = t.make_order(world.a, household=world.hh_a1, title=title)
        actions.accept_order(o, actor=p.staff_a, category=cat or t.make_category(world.town, name="邻里互助"))
        actions.dispatch_order(o, actor=p.staff_a, pool=True)
    working = t.make_order(world.a, actor=p.resident_user, household=world.hh_a1, title="阳台漏雨")
    actions.accept_order(working, actor=p.staff_a, category=category)
    actions.dispatch_order(working, actor=p.staff_a, member=p.member)
    actions.claim_order(working, actor=p.member_user)
    actions.start_order(working, actor=p.member_user)
    escalated = t.make_order(world.a, household=world.hh_a2, title="小区门口占道经营")
    actions.accept_order(escalated, actor=p.staff_a, category=category)
    actions.escalate_order(escalated, actor=p.staff_a, department=world.dept)
    actions.return_order(escalated, actor=p.dept, reason="不属本部门职责")
    actions.escalate_order(escalated, actor=p.staff_a, department=world.dept)
    unhappy = t.make_order(world.a, actor=p.resident_user, household=world.hh_a1, title="楼道灯又坏了")
    actions.accept_order(unhappy, actor=p.staff_a, category=category)
    actions.dispatch_order(unhappy, actor=p.staff_a, member=p.member)
    actions.claim_order(unhappy, actor=p.member_user)
    actions.start_order(unhappy, actor=p.member_user)
    actions.resolve_order(unhappy, actor=p.member_user, note="换了灯泡", hours=1)
    actions.rate_order(unhappy, actor=p.resident_user, rating="unsatisfied", comment="第二天又不亮了")
    done = t.make_order(world.a, household=world.hh_a1, title="修好的水管")
    actions.accept_order(done, actor=p.staff_a, category=category)
    actions.dispatch_order(done, actor=p.staff_a, member=p.member)
    actions.claim_order(done, actor=p.member_user)
    actions.start_order(done, actor=p.member_user)
    actions.resolve_order(done, actor=p.member_user, note="已修好", hours=2)

    pages = (
        ("member", "/pool/", "12_member_pool"),
        ("member", f"/orders/{working.pk}/", "13_member_resolve_form"),
        ("resident", "/orders/mine/", "14_resident_my_orders"),
        ("resident", f"/orders/{unhappy.pk}/", "15_resident_reopened_timeline"),
        ("dept", "/department/orders/", "16_department_list"),
        ("dept", f"/orders/{escalated.pk}/", "17_department_detail"),
        ("grid_a1", "/followups/", "18_grid_followups"),
        ("grid_a1", "/orders/new/?for=grid", "19_grid_on_behalf"),
        ("staff_a", f"/communities/{world.a.pk}/", "20_staff_community_metrics"),
        ("staff_a", "/", "21_staff_home"),
    )
    signed_in = {}
    for username, url, name in pages:
        if username not in signed_in:
            signed_in[username] = phones()
            sign_in(signed_in[username], live_server, username)
        page = signed_in[username]
        page.goto(f"{live_server.url}{url}")
        if name == "20_staff_community_metrics":
            page.wait_for_selector("#metrics table")  # loaded by htmx after the page
        fits(page)
        shot(page, name)
    pool = signed_in["member"]
    pool.goto(f"{live_server.url}/pool/")
    assert "不具备所需技能“管道疏通”" in pool.inner_text("main")
