"""The periodic steps: remind_shifts (the day before) and mark_no_shows (after the shift), both idempotent."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from linli import testing as t
from linli.accounts.models import Notification
from linli.activities import actions, qrcodes
from linli.activities.models import ActivityEvent, SignUp
from linli.activities.testing import make_activity
from linli.credits.models import PointEntry, ServiceRecord

U = SignUp.Status


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run a command and deliver what it queued after commit (notifications)."""

    def run(command, **kw):
        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command(command, stdout=out, **kw)
        return out.getvalue()

    return run


@pytest.fixture
def shift(world, personas):
    # Starts in 48 h at a local time the reminder window reaches outside quiet hours.
    local = timezone.localtime() + dt.timedelta(days=2)
    start = local.replace(hour=9, minute=0, second=0, microsecond=0)
    activity = make_activity(world.a, actor=personas.staff_a)
    shift = actions.add_shift(
        activity, actor=personas.staff_a, starts_at=start, ends_at=start + dt.timedelta(hours=2), capacity=5
    )
    actions.publish_activity(activity, actor=personas.staff_a)
    return shift


def _member(world):
    user = t.make_user()
    t.register_approved(t.make_member(user=user), world.a)
    return user


def test_reminders_go_out_once_the_day_before(world, personas, shift, run):
    other = _member(world)
    actions.sign_up(shift, actor=personas.member_user)
    cancelled = actions.sign_up(shift, actor=other)
    actions.cancel_signup(cancelled, actor=other)
    with at(shift.starts_at - dt.timedelta(hours=30)):
        assert "0 reminders" in run("remind_shifts")  # too early
    with at(shift.starts_at - dt.timedelta(hours=14)):  # 19:00 the evening before
        assert "1 reminders" in run("remind_shifts")
        assert "0 reminders" in run("remind_shifts")
    notes = Notification.objects.filter(user=personas.member_user, title__startswith="活动提醒")
    assert notes.count() == 1
    assert "幸福小区3栋" in notes.get().body
    assert not Notification.objects.filter(user=other, title__startswith="活动提醒").exists()


def test_reminders_wait_out_the_quiet_hours(world, personas, shift, run):
    actions.sign_up(shift, actor=personas.member_user)
    with at(shift.starts_at - dt.timedelta(hours=11, minutes=30)):  # 21:30 the evening before
        assert "quiet hours" in run("remind_shifts")
    with at(shift.starts_at - dt.timedelta(hours=1, minutes=30)):  # 07:30 the same morning
        assert "quiet hours" in run("remind_shifts")
    with at(shift.starts_at - dt.timedelta(minutes=55)):  # 08:05
        assert "1 reminders" in run("remind_shifts")


def test_a_rerun_after_losing_the_flag_still_sends_one_reminder(
    world, personas, shift, django_capture_on_commit_callbacks
):
    """Even if reminded_at were lost (a restore), the notification's dedupe key keeps it to one."""
    signup = actions.sign_up(shift, actor=personas.member_user)
    when = shift.starts_at - dt.timedelta(hours=14)
    with at(when), django_capture_on_commit_callbacks(execute=True):
        actions.send_shift_reminders()
    SignUp.objects.filter(pk=signup.pk).update(reminded_at=None)  # arrange only
    with at(when), django_capture_on_commit_callbacks(execute=True):
        assert actions.send_shift_reminders() == 1
    assert Notification.objects.filter(user=personas.member_user, title__startswith="活动提醒").count() == 1


def test_no_shows_are_marked_once_with_the_deduction(world, personas, shift, run):
    came = _member(world)
    actions.sign_up(shift, actor=personas.member_user)
    present = actions.sign_up(shift, actor=came)
    with at(shift.starts_at):
        actions.scan_shift_code(qrcodes.make_token(shift.pk), actor=came)
    with at(shift.ends_at - dt.timedelta(minutes=1)):
        assert "0 no-shows" in run("mark_no_shows")
    with at(shift.ends_at + dt.timedelta(minutes=5)):
        assert "1 no-shows" in run("mark_no_shows")
        assert "0 no-shows" in run("mark_no_shows")
    absent = SignUp.objects.get(shift=shift, member=personas.member)
    assert absent.status == U.NO_SHOW
    assert ActivityEvent.objects.filter(signup=absent, kind="no_show", actor=None).count() == 1
    deduction = PointEntry.objects.get(member=personas.member, source_type="shift", source_id=absent.pk)
    assert deduction.points < 0 and deduction.rule.code == "no_show"
    # The member who signed in is not a no-show (they may still sign out).
    assert SignUp.objects.get(pk=present.pk).status == U.CHECKED_IN
    assert not ServiceRecord.objects.exists()


def test_cancelled_activities_make_no_no_shows(world, personas, shift):
    actions.sign_up(shift, actor=personas.member_user)
    actions.cancel_activity(shift.activity, actor=personas.staff_a, reason="天气原因")
    with at(shift.ends_at + dt.timedelta(hours=1)):
        assert actions.mark_no_shows() == 0
    assert not PointEntry.objects.exists()
