"""propose_property_list: score the town's companies for a completed period and propose red/black entries."""

from decimal import Decimal

import pytest
import time_machine

from linli.lib.errors import Conflict, DomainError, NotAllowed
from linli.reports import actions
from linli.reports.feedback import Period
from linli.reports.models import ListEntry, ListEvent, ListRule, PropertyList
from tests.test_lists_scores import Q2, at, build_companies


@pytest.fixture
def clock(db):
    with time_machine.travel(at(7, 2), tick=False) as traveller:
        yield traveller


@pytest.fixture
def companies(clock, personas, world):
    return build_companies(personas, world)


def test_proposes_red_and_black_entries_with_reasons(companies, personas, world):
    plist = actions.propose_property_list(world.town, period=Q2, actor=personas.town_admin)
    assert (plist.status, plist.period, plist.preset) == ("proposed", "2026Q2", "quarterly")
    assert plist.rule["red_threshold"] == "90.0" and plist.rule["notice_days"] == 7
    entries = {e.company_name: e for e in plist.entries.all()}
    assert set(entries) == {"安居物业", "良好物业"}  # 小物业: too few orders
    bad = entries["安居物业"]
    assert (bad.kind, bad.score, bad.status, bad.company) == ("black", Decimal("33.8"), "listed", companies.bad)
    assert bad.estates == ["幸福家园"]
    assert bad.reasons[0] == "综合得分 33.8，低于黑榜分数线 60.0"
    assert bad.figures["orders"] == 6
    assert entries["良好物业"].kind == "red"
    assert [s["name"] for s in plist.scores] == ["小物业", "良好物业", "安居物业"]
    event = ListEvent.objects.get(plist=plist)
    assert (event.kind, event.to_status, event.actor, event.data) == (
        "proposed",
        "proposed",
        personas.town_admin,
        {"red": 1, "black": 1},
    )


def test_rule_snapshot_keeps_the_list_as_proposed(companies, personas, world):
    ListRule.objects.create(town=world.town, black_threshold=Decimal("20"), red_threshold=Decimal("99.5"))
    plist = actions.propose_property_list(world.town, period=Q2, actor=personas.town_admin)
    assert not plist.entries.exists()
    assert plist.rule["black_threshold"] == "20.0"


def test_one_live_list_per_town_and_period(companies, personas, world):
    plist = actions.propose_property_list(world.town, period=Q2, actor=personas.town_admin)
    with pytest.raises(Conflict, match="已存在"):
        actions.propose_property_list(world.town, period=Q2, actor=personas.town_admin)
    actions.withdraw_property_list(plist, actor=personas.town_admin, reason="数据有误")
    again = actions.propose_property_list(world.town, period=Q2, actor=personas.town_admin)
    assert again.pk != plist.pk and PropertyList.objects.count() == 2


def test_only_completed_periods(companies, personas, world):
    with pytest.raises(DomainError, match="尚未结束"):
        actions.propose_property_list(world.town, period=Period.parse("2026Q3"), actor=personas.town_admin)


@pytest.mark.parametrize("who", ["staff_a", "property", "unit_admin", "member_user"])
def test_only_the_towns_admins(companies, personas, world, who):
    with pytest.raises(NotAllowed):
        actions.propose_property_list(world.town, period=Q2, actor=getattr(personas, who))
    assert not ListEntry.objects.exists()
