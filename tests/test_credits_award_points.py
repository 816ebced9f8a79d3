"""award_points: one ledger row per (member, rule, source) from the town's rule."""

import datetime as dt
from decimal import Decimal

import pytest

from linli import testing as t
from linli.credits import actions
from linli.credits.models import PointEntry, PointRule
from linli.lib.errors import DomainError


def test_per_hour_rules_multiply_the_hours(personas, world):
    entry = actions.award_points(
        personas.member, rule="service_hours", source_type="shift", source_id=1, hours="2.5", town=world.town
    )
    assert (entry.points, entry.hours, entry.rate) == (Decimal("2.5"), Decimal("2.5"), Decimal("1.0"))
    assert (entry.rule.code, entry.source_type, entry.source_id, entry.town) == (
        "service_hours",
        "shift",
        1,
        world.town,
    )


def test_fixed_rules_give_their_points(personas, world):
    bonus = actions.award_points(personas.member, rule="pool_claim", source_type="order", source_id=1, town=world.town)
    deduction = actions.award_points(personas.member, rule="no_show", source_type="shift", source_id=1, town=world.town)
    assert (bonus.points, deduction.points) == (Decimal("2.0"), Decimal("-5.0"))
    assert bonus.hours is None


def test_the_defaults_are_created_once_per_town_and_editable(personas, world):
    actions.award_points(personas.member, rule="emergency", source_type="order", source_id=1, town=world.town)
    rule = PointRule.objects.get(town=world.town, code="emergency")
    assert (rule.label, rule.points, rule.points_per_hour) == ("紧急任务奖励", Decimal("5.0"), None)
    PointRule.objects.filter(pk=rule.pk).update(points=Decimal("8.0"))  # the town edits it (admin)
    entry = actions.award_points(personas.member, rule="emergency", source_type="order", source_id=2, town=world.town)
    assert entry.points == Decimal("8.0")
    # Another town keeps the defaults.
    other = t.make_town()
    entry = actions.award_points(personas.member, rule="emergency", source_type="order", source_id=3, town=other)
    assert entry.points == Decimal("5.0")


def test_ensure_point_rules_creates_every_default(world):
    rules = actions.ensure_point_rules(world.town)
    assert {r.code for r in rules} == set(actions.DEFAULT_RULES)
    assert PointRule.objects.filter(town=world.town).count() == len(actions.DEFAULT_RULES)


def test_same_rule_and_source_awards_once(personas, world):
    kw = {"rule": "satisfied", "source_type": "order", "source_id": 5, "town": world.town}
    assert actions.award_points(personas.member, **kw) is not None
    assert actions.award_points(personas.member, **kw) is None
    # The same source under another rule is another row.
    assert actions.award_points(personas.member, rule="pool_claim", source_type="order", source_id=5, town=world.town)
    assert PointEntry.objects.count() == 2


def test_a_rule_switched_off_or_worth_nothing_writes_nothing(personas, world):
    actions.ensure_point_rules(world.town)
    PointRule.objects.filter(town=world.town, code="no_show").update(active=False)
    PointRule.objects.filter(town=world.town, code="satisfied").update(points=0)
    assert (
        actions.award_points(personas.member, rule="no_show", source_type="shift", source_id=1, town=world.town) is None
    )
    assert (
        actions.award_points(personas.member, rule="satisfied", source_type="order", source_id=1, town=world.town)
        is None
    )
    assert not PointEntry.objects.exists()


def test_the_town_defaults_to_the_members_home_community(personas, world):
    entry = actions.award_points(personas.member, rule="no_show", source_type="shift", source_id=1)
    assert entry.town == world.town


def test_the_year_it_counts_for_is_when(personas, world):
    entry = actions.award_points(
        personas.member, rule="no_show", source_type="shift", source_id=1, town=world.town, when=dt.date(2025, 12, 31)
    )
    assert entry.earned_on == dt.date(2025, 12, 31)


@pytest.mark.parametrize(
    "kw",
    [
        {"rule": "nonsense"},
        {"rule": "service_hours"},  # needs hours
        {"rule": "no_show", "source_type": "bogus"},
    ],
)
def test_bad_calls_are_domain_errors(personas, world, kw):
    kw = {"source_type": "shift", "source_id": 1, "town": world.town} | kw
    with pytest.raises(DomainError):
        actions.award_points(personas.member, **kw)


def test_a_member_with_no_town_needs_one_named(world):
    member = t.make_member()
    with pytest.raises(DomainError):
        actions.award_points(member, rule="no_show", source_type="shift", source_id=1)
