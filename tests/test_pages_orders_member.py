"""The member's pages: my tasks, the pool (best fit first, with why not), claim, start, resolve."""

import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from linli import testing as t
from linli.orders import actions
from linli.orders.models import CategoryRule, OrderHours, OrderPhoto
from linli.people.models import Member
from tests.conftest import login


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


@pytest.fixture
def category(world):
    category = t.make_category(world.town, name="水电维修")
    CategoryRule.objects.create(category=category, required_skill=world.electrical, max_hours=4)
    return category


def _accepted(world, personas, category, **kw):
    order = t.make_order(world.a, household=kw.pop("household", world.hh_a1), **kw)
    actions.accept_order(order, actor=personas.staff_a, category=category)
    return order


def _dispatched(world, personas, category, **kw):
    order = _accepted(world, personas, category, **kw)
    actions.dispatch_order(order, actor=personas.staff_a, member=personas.member)
    return order


def _pooled(world, personas, category, community=None, **kw):
    if community is not None and community != world.a:
        order = t.make_order(community, household=world.hh_b1, **kw)
        actions.accept_order(order, actor=personas.staff_b, category=category)
        actions.dispatch_order(order, actor=personas.staff_b, pool=True)
        return order
    order = _accepted(world, personas, category, **kw)
    actions.dispatch_order(order, actor=personas.staff_a, pool=True)
    return order


def test_claim_start_resolve_with_hours(world, personas, category):
    order = _dispatched(world, personas, category, title="修水龙头")
    client = login(personas.member_user)
    html = client.get("/tasks/").content.decode()
    assert "修水龙头" in html and f'action="/orders/{order.pk}/claim/"' in html
    response = client.post(f"/orders/{order.pk}/claim/", follow=True)
    assert "已接单" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "claimed"
    events = order.events.count()
    # The second tap of a double click: a clear message, nothing changes.
    html = client.post(f"/orders/{order.pk}/claim/", follow=True).content.decode()
    assert "该工单已被接走" in html
    assert order.events.count() == events
    client.post(f"/orders/{order.pk}/start/")
    order.refresh_from_db()
    assert order.status == "in_progress"
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert f'action="/orders/{order.pk}/resolve/"' in html and 'name="hours"' in html
    response = client.post(
        f"/orders/{order.pk}/resolve/",
        {"note": "换了新的水龙头", "hours": "1.5", "photos": [SimpleUploadedFile("done.png", tiny_png())]},
        follow=True,
    )
    assert "已办结" in response.content.decode()
    order.refresh_from_db()
    assert (order.status, order.result_note) == ("resolved", "换了新的水龙头")
    assert OrderHours.objects.get(order=order).hours == pytest.approx(1.5)
    assert OrderPhoto.objects.get(order=order).stage == "result"
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert "1.5 小时" in html and "办结照片" in html


def test_resolve_checks_hours_and_note(world, personas, category):
    order = _dispatched(world, personas, category)
    actions.claim_order(order, actor=personas.member_user)
    actions.start_order(order, actor=personas.member_user)
    client = login(personas.member_user)
    for data, message in (
        ({"note": "好了"}, "请填写服务时长"),
        ({"note": "好了", "hours": "9"}, "单次服务时长不能超过4.0小时"),
        ({"note": "好了", "hours": "abc"}, "服务时长应为数字"),
        ({"hours": "1"}, "请填写办理结果"),
    ):
        html = client.post(f"/orders/{order.pk}/resolve/", data, follow=True).content.decode()
        assert message in html, message
    order.refresh_from_db()
    assert order.status == "in_progress" and not OrderHours.objects.exists()


def test_start_from_the_wrong_status_is_a_message(world, personas, category):
    order = _dispatched(world, personas, category)
    html = login(personas.member_user).post(f"/orders/{order.pk}/start/", follow=True).content.decode()
    assert "工单当前状态为“已派单”，不能开始办理" in html
    order.refresh_from_db()
    assert order.status == "dispatched"


def test_decline_needs_a_reason_and_goes_back_to_the_queue(world, personas, category):
    order = _dispatched(world, personas, category)
    client = login(personas.member_user)
    html = client.post(f"/orders/{order.pk}/decline/", {"reason": ""}, follow=True).content.decode()
    assert "请填写拒单原因" in html
    client.post(f"/orders/{order.pk}/decline/", {"reason": "这周出差"})
    order.refresh_from_db()
    assert (order.status, order.assignee) == ("accepted", None)
    assert order.events.last().note == "这周出差"


def test_tasks_list_claim_with_htmx(world, personas, category):
    order = _dispatched(world, personas, category, title="htmx接单")
    response = login(personas.member_user).post(f"/orders/{order.pk}/claim/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.strip().startswith(f'<li class="list-item" id="order-{order.pk}"')
    assert "已接单" in html and "<html" not in html


def test_pool_lists_my_communities_best_fit_first_with_why_not(world, personas, category):
    plumbing = t.make_skill("plumbing", "管道疏通")
    blocked = t.make_category(world.town, name="管道疏通")
    CategoryRule.objects.create(category=blocked, required_skill=plumbing)
    open_to_all = t.make_category(world.town, name="邻里互助")
    general = _pooled(world, personas, open_to_all, title="帮忙搬东西", household=world.hh_a2)
    matching = _pooled(world, personas, category, title="修电灯", household=world.hh_a2)
    needs_plumbing = _pooled(world, personas, blocked, title="疏通下水道")
    elsewhere = _pooled(world, personas, open_to_all, community=world.b, title="和平村的单")
    client = login(personas.member_user)
    html = client.get("/pool/").content.decode()
    assert "和平村的单" not in html
    assert html.index("修电灯") < html.index("帮忙搬东西") < html.index("疏通下水道")
    row = html.split(f'id="order-{needs_plumbing.pk}"')[1].split("</li>")[0]
    assert "不具备所需技能“管道疏通”" in row and "disabled" in row
    assert "技能匹配" in html.split(f'id="order-{matching.pk}"')[1].split("</li>")[0]
    assert "disabled" not in html.split(f'id="order-{general.pk}"')[1].split("</li>")[0]
    # The page's reasons are those of the action.
    member = personas.member
    assert actions.member_fit_errors(member, needs_plumbing) == ["不具备所需技能“管道疏通”"]
    assert actions.member_fit_errors(member, general) == []
    # Claiming the one I cannot take is refused by the action, with the same reason.
    html = client.post(f"/orders/{needs_plumbing.pk}/claim/", follow=True).content.decode()
    assert "不能接单：不具备所需技能“管道疏通”" in html
    # The other community's pooled order is out of sight.
    assert client.get(f"/orders/{elsewhere.pk}/").status_code == 404
    assert client.post(f"/orders/{elsewhere.pk}/claim/").status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.status == "pooled"


def test_pool_says_when_the_load_cap_is_reached(world, personas, category):
    member = personas.member
    for _ in range(member.load_cap):
        _dispatched(world, personas, category)
    pooled = _pooled(world, personas, category, title="满负荷时的单")
    html = login(personas.member_user).get("/pool/").content.decode()
    row = html.split(f'id="order-{pooled.pk}"')[1].split("</li>")[0]
    expected = actions.member_fit_errors(member, pooled)
    assert expected == ["当前已承接3单，达到上限3单"]
    assert expected[0] in row and "disabled" in row


def test_claiming_from_the_pool_twice_says_already_taken(world, personas, category):
    order = _pooled(world, personas, category)
    client = login(personas.member_user)
    first = client.post(f"/orders/{order.pk}/claim/", headers={"HX-Request": "true"}).content.decode()
    assert "已接单" in first
    second = client.post(f"/orders/{order.pk}/claim/", headers={"HX-Request": "true"}).content.decode()
    assert "该工单已被接走" in second and "msg-error" in second
    order.refresh_from_db()
    assert (order.status, order.assignee) == ("claimed", personas.member)
    assert order.events.filter(to_status="claimed").count() == 1


def test_member_gets_404_on_orders_not_theirs(world, personas, category):
    accepted = _accepted(world, personas, category)
    other_member = t.make_member(skills={world.electrical: 1})
    t.register_approved(other_member, world.a)
    someone_elses = _accepted(world, personas, category)
    actions.dispatch_order(someone_elses, actor=personas.staff_a, member=other_member)
    client = login(personas.member_user)
    for order in (accepted, someone_elses):
        assert client.get(f"/orders/{order.pk}/").status_code == 404
        assert client.post(f"/orders/{order.pk}/claim/").status_code == 404
        assert client.post(f"/orders/{order.pk}/start/").status_code == 404
    html = client.get("/tasks/").content.decode()
    assert f"/orders/{someone_elses.pk}/" not in html


def test_non_members_get_404_on_tasks_and_pool(world, personas):
    for persona in ("resident_user", "staff_a", "dept", "grid_worker"):
        client = login(getattr(personas, persona))
        assert client.get("/tasks/").status_code == 404, persona
        assert client.get("/pool/").status_code == 404, persona


def test_tasks_query_count_does_not_grow(world, personas, category, django_assert_max_num_queries):
    Member.objects.filter(pk=personas.member.pk).update(load_cap=20)
    personas.member.refresh_from_db()
    client = login(personas.member_user)
    _dispatched(world, personas, category)
    client.get("/tasks/")
    with django_assert_max_num_queries(10) as few:
        assert client.get("/tasks/").status_code == 200
    for i in range(18):
        order = _dispatched(world, personas, category)
        if i % 2:
            actions.claim_order(order, actor=personas.member_user)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/tasks/").content.decode()
    assert html.count('class="list-item" id="order-') == 19


def test_pool_query_count_does_not_grow(world, personas, category, django_assert_max_num_queries):
    client = login(personas.member_user)
    _pooled(world, personas, category)
    client.get("/pool/")
    with django_assert_max_num_queries(10) as few:
        assert client.get("/pool/").status_code == 200
    other = t.make_category(world.town)
    for i in range(20):
        _pooled(world, personas, category if i % 2 else other, household=world.hh_a1 if i % 3 else world.hh_a2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/pool/").content.decode()
    assert html.count('class="list-item" id="order-') == 20


def test_member_detail_query_count_does_not_grow(world, personas, category, django_assert_max_num_queries):
    order = _pooled(world, personas, category)
    client = login(personas.member_user)
    client.get(f"/orders/{order.pk}/")
    with django_assert_max_num_queries(16) as few:
        assert client.get(f"/orders/{order.pk}/").status_code == 200
    for _ in range(20):
        _pooled(world, personas, category)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(f"/orders/{order.pk}/").status_code == 200
