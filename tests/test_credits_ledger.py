"""The read side: stars, bands, the floor, working days, pace and members_behind_pace."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from linli import testing as t
from linli.credits import actions, ledger
from linli.credits.models import STAR_PRESETS, CreditSettings
from linli.lib import workcal
from linli.people.models import Member

D = Decimal


@pytest.mark.parametrize(
    ("hours", "standard", "compact"),
    [
        ("0", 0, 0),
        ("99.9", 0, 0),
        ("100", 1, 1),
        ("200", 1, 2),
        ("300", 2, 2),
        ("500", 2, 3),
        ("800", 3, 4),
        ("1000", 4, 5),
        ("1499.9", 4, 5),
        ("1500", 5, 5),
    ],
)
def test_star_presets(hours, standard, compact):
    assert ledger.star_level(D(hours), [D(h) for h in STAR_PRESETS["standard"]]) == standard
    assert ledger.star_level(D(hours), [D(h) for h in STAR_PRESETS["compact"]]) == compact


def test_defaults_without_a_settings_row(world):
    conf = ledger.settings_for(world.town.pk)
    assert conf.target_hours == D("20.0")
    assert conf.base_score == 60
    assert conf.thresholds == tuple(D(h) for h in STAR_PRESETS["standard"])
    assert conf.bands[0] == (D(100), 5)


def test_a_towns_settings_override_and_bad_values_fall_back(world):
    CreditSettings.objects.create(
        town=world.town, star_thresholds=list(STAR_PRESETS["compact"]), rating_bands=[[95, 5], [50, 1]]
    )
    conf = ledger.settings_for(world.town.pk)
    assert conf.thresholds == tuple(D(h) for h in STAR_PRESETS["compact"])
    assert ledger.rating_stars(D(94), conf.bands) == 1
    conf.star_thresholds = [5, 1, 3]  # not increasing: ignored
    assert conf.thresholds == tuple(D(h) for h in STAR_PRESETS["standard"])


@pytest.mark.parametrize(("score", "stars"), [(0, 0), (59.9, 0), (60, 1), (75, 2), (80, 3), (99, 4), (140, 5)])
def test_default_rating_bands(score, stars):
    assert ledger.rating_stars(D(str(score)), ledger.settings_for(None).bands) == stars


def test_the_floor_of_zero_is_a_clamp_of_the_score():
    assert ledger.year_score(60, D("-75")) == 0
    assert ledger.year_score(60, D("-10")) == 50
    assert ledger.year_score(0, D("12.5")) == D("12.5")


def test_working_days_after_skips_weekends_and_holidays():
    monday = dt.date(2026, 6, 1)
    assert ledger.working_days_after(monday, monday) == 0
    assert ledger.working_days_after(monday, dt.date(2026, 6, 8)) == 5
    cal = workcal.Calendar(holidays=frozenset({dt.date(2026, 6, 3)}), makeup_workdays=frozenset({dt.date(2026, 6, 6)}))
    assert ledger.working_days_after(monday, dt.date(2026, 6, 8), cal) == 5  # −1 holiday +1 make-up Saturday


def test_year_fraction():
    assert ledger.year_fraction(2026, dt.date(2025, 12, 31)) == 0
    assert ledger.year_fraction(2026, dt.date(2026, 12, 31)) == 1
    assert ledger.year_fraction(2026, dt.date(2026, 7, 2)) == D(183) / D(365)


def _serve(member, community, sid, hours, day):
    actions.record_service(
        member,
        hours=hours,
        source_type="order",
        source_id=sid,
        community=community,
        service_date=day,
        activity_name="入户走访",
        place="",
        content="",
        organizer=community.name,
        leader="",
    )


@time_machine.travel(dt.datetime(2026, 7, 2, 2, 0, tzinfo=dt.UTC), tick=False)
def test_members_behind_pace(personas, world):
    ahead = t.make_member(home_community=world.a, name="进度正常")
    behind = t.make_member(home_community=world.a, name="进度落后")
    idle = t.make_member(home_community=world.a, name="从未服务")
    _serve(ahead, world.a, 1, "12.0", dt.date(2026, 5, 1))
    _serve(behind, world.a, 2, "9.0", dt.date(2026, 5, 1))
    _serve(behind, world.a, 3, "30.0", dt.date(2025, 5, 1))  # last year's hours do not count
    qs = Member.objects.filter(pk__in=[ahead.pk, behind.pk, idle.pk])
    today = dt.date(2026, 7, 2)
    # Pace on 2 July: 20 × 183/365 = 10.0 hours.
    found = {m.name: m.year_hours for m in ledger.members_behind_pace(qs, 2026, today, town=world.town)}
    assert found == {"进度落后": D("9.0"), "从未服务": D("0")}
    CreditSettings.objects.create(town=world.town, target_hours=D("40"))
    found = {m.name for m in ledger.members_behind_pace(qs, 2026, today, town=world.town)}
    assert found == {"进度正常", "进度落后", "从未服务"}
    # A past year is judged against the whole target.
    assert {m.name for m in ledger.members_behind_pace(qs, 2025, today, town=world.town.pk)} == {
        "进度正常",
        "进度落后",
        "从未服务",
    }


def test_members_behind_pace_is_one_query(personas, world, django_assert_num_queries):
    for i in range(5):
        _serve(t.make_member(home_community=world.a), world.a, i, "1.0", dt.date(2026, 1, 5))
    qs = Member.objects.all()
    settings_row = 1
    with django_assert_num_queries(1 + settings_row):
        list(ledger.members_behind_pace(qs, 2026, dt.date(2026, 12, 31), town=world.town))
