"""The list's steps after the proposal, one action each: open_list_notice, appeal_list_entry,
decide_list_appeal, publish_property_list, withdraw_property_list — who may, when, and what each writes."""

import datetime as dt

import pytest
import time_machine

from linli import testing as t
from linli.accounts.models import Notification, Role
from linli.lib.errors import Conflict, DomainError, NotAllowed
from linli.reports import actions
from linli.reports.models import ListEntry, ListEvent, PropertyList
from tests.test_lists_scores import Q2, at, build_companies

L, N = PropertyList.Status, ListEntry.Status


@pytest.fixture
def clock(db):
    with time_machine.travel(at(7, 2), tick=False) as traveller:
        yield traveller


@pytest.fixture
def companies(clock, personas, world):
    return build_companies(personas, world)


@pytest.fixture
def plist(companies, personas, world):
    return actions.propose_property_list(world.town, period=Q2, actor=personas.town_admin)


@pytest.fixture
def noticed(plist, personas):
    return actions.open_list_notice(plist, actor=personas.town_admin)


def black(plist):
    return plist.entries.get(kind=ListEntry.Kind.BLACK)


# --- open_list_notice ------------------------------------------------------------------------------


def test_notice_runs_for_the_rules_days_and_tells_the_listed_companies(
    plist, personas, companies, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        actions.open_list_notice(plist, actor=personas.town_admin)
    plist.refresh_from_db()
    assert plist.status == L.NOTICE
    assert plist.notice_ends_at - plist.notice_starts_at == dt.timedelta(days=7)
    event = ListEvent.objects.get(plist=plist, kind="notice")
    assert (event.from_status, event.to_status, event.actor) == ("proposed", "notice", personas.town_admin)
    # The staff of both listed companies; nobody else.
    told = set(Notification.objects.filter(title__startswith="红黑榜公示").values_list("user", flat=True))
    assert told == {personas.property.pk, companies.good_staff.pk}


@pytest.mark.parametrize("who", ["staff_a", "property"])
def test_notice_is_the_town_admins(plist, personas, who):
    with pytest.raises(NotAllowed):
        actions.open_list_notice(plist, actor=getattr(personas, who))
    assert PropertyList.objects.get(pk=plist.pk).status == L.PROPOSED


# --- appeal_list_entry ----------------------------------------------------------------------------


def test_the_listed_company_appeals_a_black_entry(noticed, personas, django_capture_on_commit_callbacks):
    entry = black(noticed)
    with django_capture_on_commit_callbacks(execute=True):
        actions.appeal_list_entry(entry, actor=personas.property, statement="不满意评价系开发商遗留问题")
    entry.refresh_from_db()
    assert (entry.status, entry.appeal_statement, entry.appealed_by) == (
        N.APPEALED,
        "不满意评价系开发商遗留问题",
        personas.property,
    )
    event = ListEvent.objects.get(entry=entry, kind="appeal")
    assert (event.from_status, event.to_status) == ("listed", "appealed")
    assert Notification.objects.filter(user=personas.town_admin, title__startswith="红黑榜申诉").exists()


def test_appeals_only_during_the_notice(plist, noticed, personas, clock):
    entry = black(noticed)
    clock.shift(dt.timedelta(days=7, minutes=1))
    with pytest.raises(Conflict, match="公示期"):
        actions.appeal_list_entry(entry, actor=personas.property, statement="迟到的申诉")
    assert ListEntry.objects.get(pk=entry.pk).status == N.LISTED


def test_no_appeal_before_the_notice(plist, personas):
    with pytest.raises(Conflict):
        actions.appeal_list_entry(black(plist), actor=personas.property, statement="太早了")


def test_appeals_need_a_statement_and_a_black_entry(noticed, personas, companies):
    with pytest.raises(DomainError, match="申诉理由"):
        actions.appeal_list_entry(black(noticed), actor=personas.property, statement="  ")
    red = noticed.entries.get(kind=ListEntry.Kind.RED)
    with pytest.raises(DomainError, match="黑榜"):
        actions.appeal_list_entry(red, actor=companies.good_staff, statement="我们要申诉红榜")


def test_one_appeal_per_entry(noticed, personas):
    entry = black(noticed)
    actions.appeal_list_entry(entry, actor=personas.property, statement="第一次")
    with pytest.raises(Conflict):
        actions.appeal_list_entry(entry, actor=personas.property, statement="第二次")


@pytest.mark.parametrize("who", ["town_admin", "staff_a", "good_staff"])
def test_only_the_listed_companys_staff_appeal(noticed, personas, companies, who):
    actor = companies.good_staff if who == "good_staff" else getattr(personas, who)
    with pytest.raises(NotAllowed):
        actions.appeal_list_entry(black(noticed), actor=actor, statement="代为申诉")


# --- decide_list_appeal ----------------------------------------------------------------------------


@pytest.mark.parametrize(("upheld", "status"), [(True, N.REMOVED), (False, N.CONFIRMED)])
def test_the_town_decides_each_appeal(noticed, personas, upheld, status, django_capture_on_commit_callbacks):
    entry = black(noticed)
    actions.appeal_list_entry(entry, actor=personas.property, statement="有异议")
    with django_capture_on_commit_callbacks(execute=True):
        actions.decide_list_appeal(entry, actor=personas.town_admin, upheld=upheld, note="经核实")
    entry.refresh_from_db()
    assert (entry.status, entry.decision_note, entry.decided_by) == (status, "经核实", personas.town_admin)
    assert entry.on_list is not upheld
    event = ListEvent.objects.get(entry=entry, kind="decision")
    assert (event.from_status, event.to_status) == ("appealed", status)
    assert Notification.objects.filter(user=personas.property, title__startswith="申诉复核结果").exists()


def test_a_decision_needs_an_appeal_a_note_and_the_town_admin(noticed, personas):
    entry = black(noticed)
    with pytest.raises(Conflict):
        actions.decide_list_appeal(entry, actor=personas.town_admin, upheld=True, note="没有申诉")
    actions.appeal_list_entry(entry, actor=personas.property, statement="有异议")
    with pytest.raises(DomainError, match="复核意见"):
        actions.decide_list_appeal(entry, actor=personas.town_admin, upheld=True, note="")
    with pytest.raises(NotAllowed):
        actions.decide_list_appeal(entry, actor=personas.property, upheld=True, note="自己批准")
    other_town_admin = t.make_user("town2", roles=[(Role.TOWN_ADMIN, t.make_town())])
    with pytest.raises(NotAllowed):
        actions.decide_list_appeal(entry, actor=other_town_admin, upheld=True, note="别的镇")


# --- publish_property_list ----------------------------------------------------------------------------


def test_published_after_the_notice_with_every_appeal_decided(noticed, personas, clock):
    entry = black(noticed)
    actions.appeal_list_entry(entry, actor=personas.property, statement="有异议")
    with pytest.raises(Conflict, match="公示期满后"):
        actions.publish_property_list(noticed, actor=personas.town_admin)
    clock.shift(dt.timedelta(days=7))
    with pytest.raises(Conflict, match="1 项申诉未复核"):
        actions.publish_property_list(noticed, actor=personas.town_admin)
    actions.decide_list_appeal(entry, actor=personas.town_admin, upheld=False, note="维持")
    actions.publish_property_list(noticed, actor=personas.town_admin)
    noticed.refresh_from_db()
    assert noticed.status == L.PUBLISHED and noticed.published_at is not None
    assert ListEvent.objects.filter(plist=noticed, kind="published").count() == 1


def test_a_proposed_list_is_not_published_without_notice(plist, personas, clock):
    clock.shift(dt.timedelta(days=30))
    with pytest.raises(Conflict):
        actions.publish_property_list(plist, actor=personas.town_admin)


def test_publish_is_the_town_admins(noticed, personas, clock):
    clock.shift(dt.timedelta(days=8))
    with pytest.raises(NotAllowed):
        actions.publish_property_list(noticed, actor=personas.staff_a)


# --- withdraw_property_list ---------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["proposed", "notice", "published"])
def test_withdrawn_with_a_reason_at_any_stage(plist, personas, clock, stage):
    if stage != "proposed":
        actions.open_list_notice(plist, actor=personas.town_admin)
    if stage == "published":
        clock.shift(dt.timedelta(days=8))
        actions.publish_property_list(plist, actor=personas.town_admin)
    with pytest.raises(DomainError, match="撤销原因"):
        actions.withdraw_property_list(plist, actor=personas.town_admin, reason="")
    actions.withdraw_property_list(plist, actor=personas.town_admin, reason="评分数据有误")
    assert PropertyList.objects.get(pk=plist.pk).status == L.WITHDRAWN
    event = ListEvent.objects.get(plist=plist, kind="withdrawn")
    assert (event.from_status, event.note) == (stage, "评分数据有误")
    with pytest.raises(Conflict):
        actions.withdraw_property_list(plist, actor=personas.town_admin, reason="再次")
