"""`manage.py unit_reports`: the last completed period for every unit, idempotent; --period, --preset."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from linli import testing as t
from linli.accounts.models import AuditEntry, Notification
from linli.reports.models import FeedbackSettings, UnitReport

TZ = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def july(db):
    with time_machine.travel(dt.datetime(2026, 7, 3, 8, 0, tzinfo=TZ), tick=False) as traveller:
        yield traveller


def run(**options):
    out = StringIO()
    call_command("unit_reports", stdout=out, verbosity=0, **options)
    return out.getvalue()


def test_generates_the_last_completed_quarter_once(july, personas, world, django_capture_on_commit_callbacks):
    other = t.make_unit(world.town)
    t.make_member(unit=other, home_community=world.b, consent_report=True)
    t.make_unit(world.town)  # no members: no report
    with django_capture_on_commit_callbacks(execute=True):
        out = run()
    assert "2026Q2: 2 generated, 0 already there" in out
    assert set(UnitReport.objects.values_list("unit", "period")) == {(world.unit.pk, "2026Q2"), (other.pk, "2026Q2")}
    assert Notification.objects.filter(user=personas.unit_admin, dedupe_key__startswith="unit_report:").count() == 1
    # Run twice: nothing changes.
    with django_capture_on_commit_callbacks(execute=True):
        out = run()
    assert "2026Q2: 0 generated, 2 already there" in out
    assert UnitReport.objects.count() == 2
    assert AuditEntry.objects.filter(action=AuditEntry.Action.REPORT_SENT).count() == 2
    assert Notification.objects.filter(dedupe_key__startswith="unit_report:").count() == 1


def test_each_town_uses_its_own_preset(july, personas, world):
    FeedbackSettings.objects.create(town=world.town, preset="monthly")
    assert "2026-06: 1 generated" in run()
    assert UnitReport.objects.get().preset == "monthly"


def test_units_without_a_town_follow_the_default(july, personas, world):
    loose = t.make_unit(None)
    t.make_member(unit=loose, consent_report=True)
    run()
    assert UnitReport.objects.get(unit=loose).period == "2026Q2"


def test_period_and_preset_options(july, personas, world):
    assert "2025: 1 generated" in run(preset="yearly")
    assert "2026-05: 1 generated" in run(period="2026-05")
    assert "2026-05: 0 generated, 1 already there" in run(period="2026-05", preset="monthly")
    assert set(UnitReport.objects.values_list("period", flat=True)) == {"2025", "2026-05"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"period": "2026Q9"}, "周期无效"),
        ({"period": "2026Q3"}, "尚未结束"),
        ({"period": "2026Q1", "preset": "monthly"}, "不是 monthly 周期"),
    ],
)
def test_bad_options_fail_loudly(july, personas, options, message):
    with pytest.raises(CommandError, match=message):
        run(**options)
    assert not UnitReport.objects.exists()


def test_enqueue_hands_the_work_to_the_task(july, personas, world):
    # Tests run tasks immediately (conftest), so the queued task has run by now.
    assert "2026Q2: queued" in run(enqueue=True)
    assert UnitReport.objects.filter(unit=world.unit, period="2026Q2").exists()
