"""mark_attendance: staff record present (hours to the ledger) or absent (the no-show deduction) by hand."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from linli.activities import actions, qrcodes
from linli.activities.models import ActivityEvent, SignUp
from linli.activities.testing import make_activity
from linli.credits.models import PointEntry, ServiceRecord
from linli.lib.errors import Conflict, DomainError, NotAllowed

U = SignUp.Status


@pytest.fixture
def signup(world, personas):
    activity = make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(48, 3, 5)])
    return actions.sign_up(activity.shifts.get(), actor=personas.member_user)


def at(moment):
    return time_machine.travel(moment, tick=False)


def test_present_with_hours_goes_to_the_ledger(signup, personas):
    shift = signup.shift
    with at(shift.ends_at + dt.timedelta(hours=1)):
        actions.mark_attendance(signup, actor=personas.staff_a, present=True, hours="2.5")
    signup.refresh_from_db()
    assert signup.status == U.COMPLETED and signup.hours == Decimal("2.5")
    record = ServiceRecord.objects.get(source_type="shift", source_id=signup.pk)
    assert record.hours == Decimal("2.5") and record.recorder == personas.staff_a
    assert PointEntry.objects.get(source_type="shift", source_id=signup.pk).hours == Decimal("2.5")
    event = ActivityEvent.objects.get(signup=signup, kind="marked_present")
    assert event.actor == personas.staff_a and event.data == {"hours": "2.5"}


def test_present_without_hours_counts_from_sign_in_to_the_end(signup, personas):
    shift = signup.shift
    with at(shift.starts_at + dt.timedelta(minutes=30)):
        actions.scan_shift_code(qrcodes.make_token(shift.pk), actor=personas.member_user)
    signup.refresh_from_db()
    with at(shift.ends_at + dt.timedelta(days=1)):
        actions.mark_attendance(signup, actor=personas.staff_a, present=True)
    assert SignUp.objects.get(pk=signup.pk).hours == Decimal("2.5")


def test_present_without_hours_during_the_shift_counts_until_now(signup, personas):
    with at(signup.shift.starts_at + dt.timedelta(minutes=42)):
        actions.mark_attendance(signup, actor=personas.staff_a, present=True)
    assert SignUp.objects.get(pk=signup.pk).hours == Decimal("0.7")


def test_hours_beyond_the_shift_or_not_positive_are_refused(signup, personas):
    with at(signup.shift.ends_at):
        for bad in ("3.1", "0", "-1", "abc"):
            with pytest.raises(DomainError):
                actions.mark_attendance(signup, actor=personas.staff_a, present=True, hours=bad)
    assert SignUp.objects.get(pk=signup.pk).status == U.SIGNED_UP
    assert not ServiceRecord.objects.exists()


def test_absent_is_a_no_show_with_the_deduction(signup, personas):
    with at(signup.shift.starts_at + dt.timedelta(minutes=20)):
        actions.mark_attendance(signup, actor=personas.staff_a, present=False)
    assert SignUp.objects.get(pk=signup.pk).status == U.NO_SHOW
    assert PointEntry.objects.get(source_type="shift", source_id=signup.pk).points < 0
    assert ActivityEvent.objects.get(signup=signup, kind="marked_absent").actor == personas.staff_a
    # The sweep later finds nothing to do.
    with at(signup.shift.ends_at + dt.timedelta(hours=1)):
        assert actions.mark_no_shows() == 0
    assert PointEntry.objects.count() == 1


def test_not_before_the_shift_starts_and_not_twice(signup, personas):
    with pytest.raises(DomainError, match="开始后"):
        actions.mark_attendance(signup, actor=personas.staff_a, present=True, hours="1")
    with at(signup.shift.ends_at):
        actions.mark_attendance(signup, actor=personas.staff_a, present=True, hours="1")
        with pytest.raises(Conflict):
            actions.mark_attendance(signup, actor=personas.staff_a, present=False)
        stale = SignUp.objects.get(pk=signup.pk)
        stale.status = U.SIGNED_UP  # a page opened before the first mark
        with pytest.raises(Conflict):
            actions.mark_attendance(stale, actor=personas.staff_a, present=True, hours="2")
    assert ServiceRecord.objects.count() == 1


@pytest.mark.parametrize("who", ["staff_b", "member_user", "grid_worker"])
def test_only_the_communitys_staff_mark(signup, personas, who):
    with at(signup.shift.ends_at), pytest.raises(NotAllowed):
        actions.mark_attendance(signup, actor=getattr(personas, who), present=True, hours="1")
