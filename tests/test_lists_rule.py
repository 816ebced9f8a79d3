"""set_list_rule: a town admin sets the town's red/black rule; validated, audited, snapshotted by lists."""

from decimal import Decimal

import pytest

from linli.accounts.models import AuditEntry
from linli.lib.errors import DomainError, NotAllowed
from linli.reports import actions
from linli.reports.feedback import list_rule
from linli.reports.models import ListRule


def test_defaults_without_a_row(world):
    rule = list_rule(world.town.pk)
    assert rule.weights == {"satisfaction": 40, "on_time": 25, "reopen": 15, "inspection": 20}
    assert (rule.red_threshold, rule.black_threshold, rule.min_orders, rule.notice_days) == (
        Decimal("90.0"),
        Decimal("60.0"),
        5,
        7,
    )


def test_town_admin_sets_the_rule_and_it_is_audited(personas, world):
    actions.set_list_rule(world.town, actor=personas.town_admin, black_threshold=Decimal("70"), notice_days=10)
    rule = ListRule.objects.get(town=world.town)
    assert (rule.black_threshold, rule.notice_days, rule.red_threshold) == (Decimal("70"), 10, Decimal("90.0"))
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ADMIN_CHANGE, object_type="reports.listrule")
    assert entry.actor == personas.town_admin and entry.detail == {"black_threshold": "70", "notice_days": "10"}
    actions.set_list_rule(world.town, actor=personas.town_admin, min_orders=3)
    assert ListRule.objects.get(town=world.town).min_orders == 3 and ListRule.objects.count() == 1


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"black_threshold": Decimal("95")}, "黑榜分数线应低于红榜分数线"),
        ({"weight_satisfaction": 0, "weight_on_time": 0, "weight_reopen": 0, "weight_inspection": 0}, "至少一项权重"),
        ({"notice_days": 0}, "1"),
        ({"colour": "red"}, "未知的规则项"),
    ],
)
def test_bad_rules_are_refused(personas, world, values, message):
    with pytest.raises(DomainError, match=message):
        actions.set_list_rule(world.town, actor=personas.town_admin, **values)
    assert not ListRule.objects.exists()


@pytest.mark.parametrize("who", ["staff_a", "property", "unit_admin"])
def test_only_the_towns_admins(personas, world, who):
    with pytest.raises(NotAllowed):
        actions.set_list_rule(world.town, actor=getattr(personas, who), min_orders=1)
