"""The activity and sign-up state machines: every (from, to) pair against the literal tables;
the event history replays to the current status."""

import datetime as dt

import pytest
import time_machine

from linli.activities import actions, qrcodes
from linli.activities.models import ACTIVITY_TRANSITIONS, SIGNUP_TRANSITIONS, Activity, ActivityEvent, SignUp
from linli.activities.testing import make_activity
from linli.lib.errors import Conflict

A, U = Activity.Status, SignUp.Status


@pytest.fixture
def activity(world, personas):
    return make_activity(world.a, actor=personas.staff_a, shifts=[(48, 2, 5)])


@pytest.mark.parametrize(("start", "target"), [(a, b) for a in A.values for b in A.values])
def test_activity_transition_pair(activity, start, target):
    Activity.objects.filter(pk=activity.pk).update(status=start)  # arrange only
    activity.refresh_from_db()
    if target in ACTIVITY_TRANSITIONS[start]:
        event = actions._transition_activity(activity, target, actor=None, kind="published")
        assert Activity.objects.get(pk=activity.pk).status == target
        assert (event.from_status, event.to_status) == (start, target)
    else:
        with pytest.raises(Conflict):
            actions._transition_activity(activity, target, actor=None, kind="published")
        assert Activity.objects.get(pk=activity.pk).status == start


@pytest.mark.parametrize(("start", "target"), [(a, b) for a in U.values for b in U.values])
def test_signup_transition_pair(activity, personas, start, target):
    actions.publish_activity(activity, actor=personas.staff_a)
    signup = actions.sign_up(activity.shifts.get(), actor=personas.member_user)
    SignUp.objects.filter(pk=signup.pk).update(status=start)  # arrange only
    signup.refresh_from_db()
    before = ActivityEvent.objects.filter(signup=signup).count()
    if target in SIGNUP_TRANSITIONS[start]:
        event = actions._transition_signup(signup, target, actor=None, kind="checked_in")
        assert SignUp.objects.get(pk=signup.pk).status == target
        assert (event.from_status, event.to_status) == (start, target)
    else:
        with pytest.raises(Conflict):
            actions._transition_signup(signup, target, actor=None, kind="checked_in")
        assert SignUp.objects.get(pk=signup.pk).status == start
        assert ActivityEvent.objects.filter(signup=signup).count() == before


def test_stale_object_loses_the_compare_and_set(activity, personas):
    actions.publish_activity(activity, actor=personas.staff_a)
    signup = actions.sign_up(activity.shifts.get(), actor=personas.member_user)
    stale = SignUp.objects.get(pk=signup.pk)
    actions.cancel_signup(signup, actor=personas.member_user)
    with pytest.raises(Conflict):
        actions._transition_signup(stale, U.CHECKED_IN, actor=None, kind="checked_in")


def test_the_history_replays_to_the_current_status(world, personas, activity):
    actions.publish_activity(activity, actor=personas.staff_a)
    shift = activity.shifts.get()
    signup = actions.sign_up(shift, actor=personas.member_user)
    for minutes in (0, 70):
        with time_machine.travel(shift.starts_at + dt.timedelta(minutes=minutes), tick=False):
            actions.scan_shift_code(qrcodes.make_token(shift.pk), actor=personas.member_user)
    status = ""
    for event in ActivityEvent.objects.filter(signup=signup).order_by("at", "id"):
        assert event.from_status == status
        status = event.to_status
    assert status == SignUp.objects.get(pk=signup.pk).status == U.COMPLETED
    status = ""
    for event in ActivityEvent.objects.filter(activity=activity, signup__isnull=True, to_status__gt=""):
        assert event.from_status == status
        status = event.to_status
    assert status == Activity.objects.get(pk=activity.pk).status
