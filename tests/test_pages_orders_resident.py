"""The resident's order pages: filing with photos, my orders, the live status, cancel and rate."""

import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from linli import testing as t
from linli.orders import actions
from linli.orders.models import Order, OrderEvent, OrderPhoto
from tests.conftest import login


def tiny_png() -> bytes:
    """A valid 1×1 PNG, built here so the test needs no image library."""

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


@pytest.fixture
def category(world):
    return t.make_category(world.town, name="水电维修")


def _through_resolved(order, p, category):
    actions.accept_order(order, actor=p.staff_a, category=category)
    actions.dispatch_order(order, actor=p.staff_a, member=p.member)
    actions.claim_order(order, actor=p.member_user)
    actions.start_order(order, actor=p.member_user)
    actions.resolve_order(order, actor=p.member_user, note="已修好", hours=1)


def test_form_is_prefilled_with_the_household(world, personas, category):
    response = login(personas.resident_user).get("/orders/new/")
    assert response.status_code == 200
    html = response.content.decode()
    assert world.hh_a1.address in html
    assert 'name="photos"' in html and "multiple" in html
    assert 'enctype="multipart/form-data"' in html
    assert "对党员匿名" in html
    assert f'<option value="{category.pk}">水电维修</option>' in html


def test_resident_submits_with_a_photo_and_sees_it_in_my_orders(world, personas, category):
    client = login(personas.resident_user)
    png = tiny_png()
    response = client.post(
        "/orders/new/",
        {
            "kind": "need",
            "category": category.pk,
            "title": "楼道灯不亮",
            "description": "三楼楼道灯坏了一周",
            "where": "home",
            "photos": [SimpleUploadedFile("light.png", png, content_type="image/png")],
        },
    )
    order = Order.objects.get(title="楼道灯不亮")
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.pk}/"
    assert order.household == world.hh_a1 and order.community == world.a and order.grid == world.a1
    assert order.resident == personas.resident and order.submitted_by == personas.resident_user
    assert order.channel == "web" and order.category == category
    photo = OrderPhoto.objects.get(order=order)
    assert photo.stage == "submitted"
    # The detail shows the photo through the access-checked URL; the bytes come back as PNG.
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert f'src="/orders/{order.pk}/photos/{photo.pk}/"' in html
    assert "已提交，社区将尽快受理" in html
    served = client.get(f"/orders/{order.pk}/photos/{photo.pk}/")
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == png
    assert login(personas.staff_b).get(f"/orders/{order.pk}/photos/{photo.pk}/").status_code == 404
    # My orders lists it with its status.
    html = client.get("/orders/mine/").content.decode()
    assert "楼道灯不亮" in html
    assert 'class="status status-submitted">待受理<' in html
    assert f'href="/orders/{order.pk}/"' in html


def test_a_non_image_upload_gets_a_message_and_nothing_is_saved(world, personas, category):
    client = login(personas.resident_user)
    before = (Order.objects.count(), OrderEvent.objects.count(), OrderPhoto.objects.count())
    fake = SimpleUploadedFile("report.png", b"%PDF-1.4 not a picture", content_type="image/png")
    response = client.post("/orders/new/", {"kind": "need", "title": "垃圾没人收", "where": "home", "photos": [fake]})
    assert response.status_code == 200
    html = response.content.decode()
    assert "“report.png”不是 JPEG/PNG/WebP 图片" in html
    assert 'value="垃圾没人收"' in html  # what was typed is still there
    assert (Order.objects.count(), OrderEvent.objects.count(), OrderPhoto.objects.count()) == before


def test_four_photos_are_refused(world, personas):
    client = login(personas.resident_user)
    photos = [SimpleUploadedFile(f"{i}.png", tiny_png(), content_type="image/png") for i in range(4)]
    html = client.post("/orders/new/", {"kind": "need", "title": "路灯", "where": "home", "photos": photos})
    assert "最多上传3张照片" in html.content.decode()
    assert not Order.objects.exists()


def test_missing_title_names_the_field(world, personas):
    html = login(personas.resident_user).post("/orders/new/", {"kind": "need", "where": "home"}).content.decode()
    assert "请填写诉求标题" in html
    assert not Order.objects.exists()


def test_typed_address_within_a_community(world, personas):
    client = login(personas.resident_user)
    response = client.post(
        "/orders/new/",
        {
            "kind": "suggestion",
            "title": "路口缺红绿灯",
            "where": "address",
            "community": world.a.pk,
            "address": "幸福路口",
        },
    )
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.community, order.household, order.address, order.kind) == (world.a, None, "幸福路口", "suggestion")
    # Another community is not offered to this resident.
    html = client.post(
        "/orders/new/",
        {"kind": "need", "title": "别处", "where": "address", "community": world.b.pk, "address": "和平村"},
    ).content.decode()
    assert "社区无效" in html
    assert Order.objects.count() == 1


def test_address_needs_community_and_text(world, personas):
    html = (
        login(personas.resident_user)
        .post("/orders/new/", {"kind": "need", "title": "x", "where": "address"})
        .content.decode()
    )
    assert "请选择所在社区" in html and "请填写地址" in html


def test_duplicates_are_shown_before_submitting(world, personas, category):
    same = t.make_order(world.a, household=world.hh_a1, category=category, title="一楼水管漏水")
    t.make_order(world.a, household=world.hh_a2, category=category, title="别的楼漏水")
    t.make_order(world.a, household=world.hh_a1, title="无类别的诉求")
    client = login(personas.resident_user)
    response = client.get(f"/orders/new/duplicates/?category={category.pk}&where=home", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.strip().startswith('<div id="dups"')
    assert "同一楼栋已有 1 条同类诉求在办理" in html
    assert same.title in html
    assert "别的楼漏水" not in html and "无类别的诉求" not in html
    assert f"/orders/{same.pk}/" not in html  # residents see that it exists, not someone else's order
    # A typed address has no building: nothing to compare.
    html = client.get(f"/orders/new/duplicates/?category={category.pk}&where=address").content.decode()
    assert same.title not in html
    # The form re-rendered after an error shows them too.
    html = client.post("/orders/new/", {"kind": "need", "category": category.pk, "where": "home"}).content.decode()
    assert same.title in html


def test_my_orders_refreshes_itself_with_htmx(world, personas):
    order = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1, title="我的诉求一")
    t.make_order(world.a, actor=personas.staff_a, household=world.hh_a2, title="别人的诉求")
    client = login(personas.resident_user)
    html = client.get("/orders/mine/").content.decode()
    assert 'hx-trigger="every 20s"' in html
    assert "别人的诉求" not in html
    partial = client.get("/orders/mine/?n=1", headers={"HX-Request": "true"}).content.decode()
    assert partial.strip().startswith('<section class="card" id="mine-list"')
    assert "<html" not in partial
    assert order.title in partial
    # Polling stops before an idle session would time out (30 min / 20 s − 3 = 87 polls).
    assert "hx-trigger" in client.get("/orders/mine/?n=86", headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in client.get("/orders/mine/?n=87", headers={"HX-Request": "true"}).content.decode()


def test_status_badge_polls_and_says_when_it_changed(world, personas, category):
    order = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1)
    client = login(personas.resident_user)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert f'hx-get="/orders/{order.pk}/status/?was=submitted&amp;n=1"' in html
    assert "X-Linli-Poll" in html
    actions.accept_order(order, actor=personas.staff_a, category=category)
    html = client.get(f"/orders/{order.pk}/status/?was=submitted&n=3").content.decode()
    assert "待派单" in html
    assert "状态已更新" in html
    assert "hx-trigger" not in html  # no more polling once changed


def test_cancel_before_dispatch_only(world, personas, category):
    client = login(personas.resident_user)
    order = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1)
    assert "撤销诉求" in client.get(f"/orders/{order.pk}/").content.decode()
    assert client.get(f"/orders/{order.pk}/cancel/").status_code == 405
    response = client.post(f"/orders/{order.pk}/cancel/", follow=True)
    assert "已撤销" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "cancelled"
    dispatched = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1)
    actions.accept_order(dispatched, actor=personas.staff_a, category=category)
    actions.dispatch_order(dispatched, actor=personas.staff_a, pool=True)
    assert "撤销诉求" not in client.get(f"/orders/{dispatched.pk}/").content.decode()
    events = dispatched.events.count()
    html = client.post(f"/orders/{dispatched.pk}/cancel/", follow=True).content.decode()
    assert "不能撤销" in html
    dispatched.refresh_from_db()
    assert dispatched.status == "pooled" and dispatched.events.count() == events


def test_unsatisfied_rating_reopens_into_the_queue(world, personas, category):
    order = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1, title="灯还是不亮")
    _through_resolved(order, personas, category)
    client = login(personas.resident_user)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'id="rate"' in html and 'value="unsatisfied"' in html
    response = client.post(
        f"/orders/{order.pk}/rate/", {"rating": "unsatisfied", "comment": "修完第二天又坏了"}, follow=True
    )
    html = response.content.decode()
    assert "社区将重新办理" in html
    order.refresh_from_db()
    assert order.status == "accepted" and order.assignee is None
    reopen = order.events.get(kind="reopen")
    assert reopen.note == "修完第二天又坏了"
    # The timeline makes the reopen stand out; the queue shows the order back, marked.
    assert 'class="ev-reopen stands-out"' in html
    assert "重新办理 1 次" in html
    queue = login(personas.staff_a).get(f"/communities/{world.a.pk}/orders/").content.decode()
    row = queue.split(f'data-order="{order.pk}"')[1].split("</li>")[0]
    assert "待派单" in row and "重办 1 次" in row


def test_satisfied_rating_closes(world, personas, category):
    order = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1)
    _through_resolved(order, personas, category)
    client = login(personas.resident_user)
    assert client.post(f"/orders/{order.pk}/rate/", {"rating": "satisfied"}).status_code == 302
    order.refresh_from_db()
    assert (order.status, order.rating) == ("closed", "satisfied")
    html = client.post(f"/orders/{order.pk}/rate/", {"rating": "satisfied"}, follow=True).content.decode()
    assert "不能关闭" in html  # rating twice is a clear message, nothing changes


def test_rating_needs_a_choice(world, personas, category):
    order = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1)
    _through_resolved(order, personas, category)
    html = login(personas.resident_user).post(f"/orders/{order.pk}/rate/", {}, follow=True).content.decode()
    assert "请选择评价" in html
    order.refresh_from_db()
    assert order.status == "resolved"


def test_resident_cannot_see_someone_elses_order(world, personas):
    other = t.make_order(world.a, actor=personas.staff_a, household=world.hh_a2)
    client = login(personas.resident_user)
    assert client.get(f"/orders/{other.pk}/").status_code == 404
    assert client.post(f"/orders/{other.pk}/cancel/").status_code == 404
    other.refresh_from_db()
    assert other.status == "submitted"


def test_anonymous_order_hides_the_resident_from_the_member(world, personas, category):
    client = login(personas.resident_user)
    client.post("/orders/new/", {"kind": "need", "title": "匿名求助", "where": "home", "anonymous": "on"})
    order = Order.objects.get(title="匿名求助")
    assert order.anonymous
    actions.accept_order(order, actor=personas.staff_a, category=category)
    actions.dispatch_order(order, actor=personas.staff_a, member=personas.member)
    member_html = login(personas.member_user).get(f"/orders/{order.pk}/").content.decode()
    assert "居民甲" not in member_html
    assert personas.resident.phone_masked not in member_html
    assert "居民选择了对党员匿名" in member_html
    staff_html = login(personas.staff_a).get(f"/orders/{order.pk}/").content.decode()
    assert "居民甲" in staff_html and personas.resident.phone_masked in staff_html


def test_pages_need_login(world, personas):
    order = t.make_order(world.a, household=world.hh_a1)
    from django.test import Client

    for url in ("/orders/new/", "/orders/mine/", f"/orders/{order.pk}/", "/tasks/", "/pool/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_my_orders_query_count_does_not_grow(world, personas, django_assert_max_num_queries):
    client = login(personas.resident_user)
    t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1)
    client.get("/orders/mine/")
    with django_assert_max_num_queries(10) as few:
        assert client.get("/orders/mine/").status_code == 200
    category = t.make_category(world.town)
    for i in range(20):
        t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1, category=category if i % 2 else None)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/orders/mine/").content.decode()
    assert html.count('class="list-item" id="order-') == 20


def test_a_photo_whose_file_is_gone_is_a_404(world, personas, settings):
    client = login(personas.resident_user)
    client.post(
        "/orders/new/",
        {"kind": "need", "title": "有照片", "where": "home", "photos": [SimpleUploadedFile("a.png", tiny_png())]},
    )
    photo = OrderPhoto.objects.get()
    (settings.MEDIA_ROOT / photo.image.name).unlink()
    assert client.get(f"/orders/{photo.order_id}/photos/{photo.pk}/").status_code == 404
    assert client.get(f"/orders/{photo.order_id}/photos/{photo.pk + 1}/").status_code == 404


def test_status_polling_does_not_keep_an_idle_session_alive(world, personas, settings):
    import datetime as dt

    import time_machine

    order = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1)
    client = login(personas.resident_user)
    poll = {"HX-Request": "true", "X-Linli-Poll": "1"}
    start = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        assert client.get(f"/orders/{order.pk}/").status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=20), tick=False):
        assert client.get(f"/orders/{order.pk}/status/?n=60", headers=poll).status_code == 200
    idle = dt.timedelta(seconds=settings.SESSION_IDLE_TIMEOUT + 60)
    with time_machine.travel(start + idle, tick=False):
        response = client.get(f"/orders/{order.pk}/status/?n=61", headers=poll)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
