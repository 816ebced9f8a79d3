"""The red/black list pages: the town admin's workflow, the company's appeal page, and the public
pages (no login) that show companies and estates only — never a person."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from linli import testing as t
from linli.accounts.models import Role, User
from linli.people.models import Member, Resident
from linli.reports import actions
from linli.reports.feedback import Period
from linli.reports.models import ListEntry, PropertyList
from tests.conftest import login
from tests.test_lists_scores import Q2, at, build_companies

APPEAL = "物业经理赵大伟说明：不满意评价系开发商遗留问题"
DECISION = "经镇管理员钱小红核实，维持评定"


@pytest.fixture
def clock(db):
    with time_machine.travel(at(7, 2), tick=False) as traveller:
        yield traveller


@pytest.fixture
def companies(clock, personas, world):
    return build_companies(personas, world)


def _published(personas, world, clock):
    plist = actions.propose_property_list(world.town, period=Q2, actor=personas.town_admin)
    actions.open_list_notice(plist, actor=personas.town_admin)
    entry = plist.entries.get(kind="black")
    actions.appeal_list_entry(entry, actor=personas.property, statement=APPEAL)
    actions.decide_list_appeal(entry, actor=personas.town_admin, upheld=False, note=DECISION)
    clock.shift(dt.timedelta(days=8))
    actions.publish_property_list(plist, actor=personas.town_admin)
    return plist


# --- the town admin ------------------------------------------------------------------------------------


def test_town_admin_runs_the_list_from_the_pages(companies, personas, world, clock):
    client = login(personas.town_admin)
    page = client.get(reverse("town_lists", args=[world.town.pk]))
    assert page.status_code == 200 and 'value="2026Q2"' in page.content.decode()
    response = client.post(reverse("town_lists_propose", args=[world.town.pk]), {"period": "2026Q2"})
    plist = PropertyList.objects.get()
    assert response["Location"] == reverse("property_list", args=[plist.pk])
    detail = client.get(response["Location"]).content.decode()
    assert "安居物业" in detail and "良好物业" in detail and "样本不足" in detail
    client.post(reverse("property_list_notice", args=[plist.pk]))
    assert PropertyList.objects.get().status == "notice"

    # The company appeals from its page.
    entry = plist.entries.get(kind="black")
    company = login(personas.property)
    page = company.get(reverse("company_lists")).content.decode()
    assert "安居物业" in page and "提交申诉" in page
    company.post(reverse("list_entry_appeal", args=[entry.pk]), {"statement": "请复核"})
    assert ListEntry.objects.get(pk=entry.pk).status == "appealed"

    # Publishing waits for the notice and the decision.
    client = login(personas.town_admin)
    response = client.post(reverse("property_list_publish", args=[plist.pk]), follow=True)
    assert "公示期满后才能发布" in response.content.decode()
    detail = client.get(reverse("property_list", args=[plist.pk])).content.decode()
    assert "请复核" in detail and "待复核的申诉" in detail
    client.post(reverse("list_entry_decide", args=[entry.pk]), {"upheld": "1", "note": "情况属实"})
    assert ListEntry.objects.get(pk=entry.pk).status == "removed"
    clock.shift(dt.timedelta(days=8))
    client = login(personas.town_admin)  # the session timed out meanwhile
    client.post(reverse("property_list_publish", args=[plist.pk]))
    assert PropertyList.objects.get().status == "published"
    client.post(reverse("property_list_withdraw", args=[plist.pk]), {"reason": ""})
    assert PropertyList.objects.get().status == "published"  # a reason is required
    client.post(reverse("property_list_withdraw", args=[plist.pk]), {"reason": "数据有误"})
    assert PropertyList.objects.get().status == "withdrawn"


@pytest.mark.parametrize("who", ["staff_a", "property", "unit_admin", "member_user", "resident_user"])
def test_staff_pages_are_the_town_admins(companies, personas, world, who):
    plist = actions.propose_property_list(world.town, period=Q2, actor=personas.town_admin)
    entry = plist.entries.get(kind="black")
    client = login(getattr(personas, who))
    assert client.get(reverse("town_lists", args=[world.town.pk])).status_code == 404
    assert client.post(reverse("town_lists_propose", args=[world.town.pk]), {"period": "2026Q1"}).status_code == 404
    assert client.get(reverse("property_list", args=[plist.pk])).status_code == 404
    for name in ("property_list_notice", "property_list_publish", "property_list_withdraw"):
        assert client.post(reverse(name, args=[plist.pk]), {"reason": "x"}).status_code == 404
    decide = client.post(reverse("list_entry_decide", args=[entry.pk]), {"upheld": "1", "note": "x"})
    assert decide.status_code == (403 if who == "property" else 404)
    assert PropertyList.objects.get().status == "proposed"


def test_another_towns_admin_gets_404(companies, personas, world):
    plist = actions.propose_property_list(world.town, period=Q2, actor=personas.town_admin)
    other = login(t.make_user("town2", roles=[(Role.TOWN_ADMIN, t.make_town())]))
    assert other.get(reverse("property_list", args=[plist.pk])).status_code == 404
    assert other.get(reverse("town_lists", args=[world.town.pk])).status_code == 404


# --- the company -----------------------------------------------------------------------------------------


def test_the_company_sees_only_its_entries_and_only_once_noticed(companies, personas, world):
    plist = actions.propose_property_list(world.town, period=Q2, actor=personas.town_admin)
    client = login(personas.property)
    assert "安居物业" not in client.get(reverse("company_lists")).content.decode().split("</h1>", 1)[1]
    actions.open_list_notice(plist, actor=personas.town_admin)
    html = client.get(reverse("company_lists")).content.decode()
    assert "综合得分 33.8，低于黑榜分数线 60.0" in html and "良好物业" not in html
    red = plist.entries.get(kind="red")
    # Another company's entry: the good company's staff may not appeal a black one of 安居物业.
    response = login(companies.good_staff).post(
        reverse("list_entry_appeal", args=[plist.entries.get(kind="black").pk]), {"statement": "x"}
    )
    assert response.status_code == 404
    assert (
        login(personas.property).post(reverse("list_entry_appeal", args=[red.pk]), {"statement": "x"}).status_code
        == 404
    )


@pytest.mark.parametrize("who", ["staff_a", "unit_admin", "town_admin"])
def test_company_page_is_for_property_staff(companies, personas, who):
    assert login(getattr(personas, who)).get(reverse("company_lists")).status_code == 404


# --- public --------------------------------------------------------------------------------------------


def test_public_pages_need_no_login_and_show_the_published_list(companies, personas, world, clock):
    _published(personas, world, clock)
    anonymous = Client()
    index = anonymous.get(reverse("public_lists"))
    assert index.status_code == 200 and world.town.name in index.content.decode()
    page = anonymous.get(reverse("public_town_lists", args=[world.town.code]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "2026年第2季度" in html
    red, black = html.index('id="red-h"'), html.index('id="black-h"')
    assert red < html.index("良好物业") < black < html.index("安居物业")
    assert "阳光小区" in html and "幸福家园" in html
    assert "综合得分 33.8，低于黑榜分数线 60.0" in html
    assert "小物业" not in html  # not scored onto a list


def test_public_pages_never_name_a_person(companies, personas, world, clock):
    _published(personas, world, clock)
    t.make_resident(world.hh_a1, name="邻居孙")  # a resident of a listed estate
    html = Client().get(reverse("public_town_lists", args=[world.town.code])).content.decode()
    html += Client().get(reverse("public_lists")).content.decode()
    people = (
        set(Resident.objects.values_list("name", flat=True))
        | set(Member.objects.values_list("name", flat=True))
        | set(User.objects.exclude(name="").values_list("name", flat=True))
    )
    assert people and not [name for name in people if name in html]
    assert APPEAL not in html and "赵大伟" not in html
    assert DECISION not in html and "钱小红" not in html


def test_a_list_under_notice_is_public_but_appeal_texts_are_not(companies, personas, world):
    plist = actions.propose_property_list(world.town, period=Q2, actor=personas.town_admin)
    html = Client().get(reverse("public_town_lists", args=[world.town.code])).content.decode()
    assert "安居物业" not in html  # proposed lists are not public
    actions.open_list_notice(plist, actor=personas.town_admin)
    actions.appeal_list_entry(plist.entries.get(kind="black"), actor=personas.property, statement=APPEAL)
    html = Client().get(reverse("public_town_lists", args=[world.town.code])).content.decode()
    assert "公示中" in html and "安居物业" in html and "申诉中" in html
    assert "赵大伟" not in html


def test_removed_entries_and_withdrawn_lists_are_not_shown(companies, personas, world, clock):
    plist = actions.propose_property_list(world.town, period=Q2, actor=personas.town_admin)
    actions.open_list_notice(plist, actor=personas.town_admin)
    entry = plist.entries.get(kind="black")
    actions.appeal_list_entry(entry, actor=personas.property, statement="有异议")
    actions.decide_list_appeal(entry, actor=personas.town_admin, upheld=True, note="情况属实")
    clock.shift(dt.timedelta(days=8))
    actions.publish_property_list(plist, actor=personas.town_admin)
    html = Client().get(reverse("public_town_lists", args=[world.town.code])).content.decode()
    assert "良好物业" in html and "安居物业" not in html
    actions.withdraw_property_list(plist, actor=personas.town_admin, reason="重新评定")
    html = Client().get(reverse("public_town_lists", args=[world.town.code])).content.decode()
    assert "良好物业" not in html and "暂无发布的红黑榜" in html


def test_unknown_town_or_period_is_404(companies, personas, world, clock):
    _published(personas, world, clock)
    assert Client().get(reverse("public_town_lists", args=["NOPE"])).status_code == 404
    url = reverse("public_town_lists", args=[world.town.code])
    assert Client().get(url + "?period=2026Q1").status_code == 404
    assert Client().get(url + "?period=2026Q2").status_code == 200


def test_public_page_query_count_does_not_grow_with_entries(
    companies, personas, world, clock, django_assert_max_num_queries
):
    _published(personas, world, clock)
    url = reverse("public_town_lists", args=[world.town.code])
    with django_assert_max_num_queries(8):
        Client().get(url)


def test_staff_list_pages_cost_the_same_queries_for_more_lists(
    companies, personas, world, clock, django_assert_max_num_queries
):
    plist = _published(personas, world, clock)
    client = login(personas.town_admin)
    urls = [reverse("town_lists", args=[world.town.pk]), reverse("property_list", args=[plist.pk])]
    before = {}
    for url in urls:
        with django_assert_max_num_queries(50) as ctx:
            client.get(url)
        before[url] = len(ctx.captured_queries)
    for i in range(3):
        t.make_estate(world.a, t.make_company(world.town, name=f"新物业{i}"))
    actions.propose_property_list(world.town, period=Period.parse("2026Q1"), actor=personas.town_admin)
    for url in urls:
        with django_assert_max_num_queries(before[url]):
            assert client.get(url).status_code == 200
