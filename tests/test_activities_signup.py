"""sign_up and cancel_signup: who may sign up, when, for what; capacity; overlaps; the deadline."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from linli import testing as t
from linli.activities import actions
from linli.activities.models import ActivityEvent, Shift, SignUp
from linli.activities.testing import add_shift, make_activity
from linli.lib.errors import Conflict, DomainError, NotAllowed

U = SignUp.Status


@pytest.fixture
def open_activity(world, personas):
    return make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(48, 2, 3)])


def _member_user(world, community=None, **kw):
    user = t.make_user()
    member = t.make_member(user=user, **kw)
    t.register_approved(member, community or world.a)
    return user


def test_member_signs_up_takes_a_seat_and_an_event_is_written(open_activity, personas):
    shift = open_activity.shifts.get()
    signup = actions.sign_up(shift, actor=personas.member_user)
    assert signup.status == U.SIGNED_UP and signup.member == personas.member
    assert Shift.objects.get(pk=shift.pk).seats_taken == 1
    event = ActivityEvent.objects.get(signup=signup)
    assert (event.kind, event.from_status, event.to_status, event.actor) == (
        "signed_up",
        "",
        "signed_up",
        personas.member_user,
    )


def test_signing_up_twice_for_one_shift_is_refused(open_activity, personas):
    shift = open_activity.shifts.get()
    actions.sign_up(shift, actor=personas.member_user)
    with pytest.raises(Conflict) as exc:
        actions.sign_up(shift, actor=personas.member_user)
    assert exc.value.code == "already_signed_up"
    assert Shift.objects.get(pk=shift.pk).seats_taken == 1


def test_a_full_shift_refuses_the_next_member(world, personas):
    activity = make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(48, 2, 1)])
    shift = activity.shifts.get()
    actions.sign_up(shift, actor=personas.member_user)
    with pytest.raises(Conflict, match="报满") as exc:
        actions.sign_up(shift, actor=_member_user(world))
    assert exc.value.code == "full"
    assert SignUp.objects.filter(shift=shift).count() == 1


def test_overlapping_shift_of_another_activity_is_refused(world, personas, open_activity):
    actions.sign_up(open_activity.shifts.get(), actor=personas.member_user)
    other = make_activity(world.a, actor=personas.staff_a, title="政策宣传", publish=True, shifts=[(49, 2, 5)])
    with pytest.raises(Conflict, match="时间冲突") as exc:
        actions.sign_up(other.shifts.get(), actor=personas.member_user)
    assert exc.value.code == "overlap"
    # Back to back is not an overlap.
    later = add_shift(other, actor=personas.staff_a, start_in=50, length=1)
    actions.sign_up(later, actor=personas.member_user)


def test_a_cancelled_sign_up_does_not_block_an_overlapping_shift(world, personas, open_activity):
    signup = actions.sign_up(open_activity.shifts.get(), actor=personas.member_user)
    actions.cancel_signup(signup, actor=personas.member_user)
    other = make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(48, 1, 5)])
    actions.sign_up(other.shifts.get(), actor=personas.member_user)


def test_member_not_registered_with_the_community_is_refused(world, personas, open_activity):
    with pytest.raises(DomainError, match="尚未向幸福社区报到"):
        actions.sign_up(open_activity.shifts.get(), actor=_member_user(world, community=world.b))


def test_user_without_a_member_profile_is_refused(personas, open_activity):
    with pytest.raises(NotAllowed):
        actions.sign_up(open_activity.shifts.get(), actor=personas.resident_user)


def test_required_skill_is_enforced(world, personas):
    activity = make_activity(
        world.a, actor=personas.staff_a, publish=True, shifts=[(48, 2, 5)], required_skill=world.electrical
    )
    shift = activity.shifts.get()
    with pytest.raises(DomainError, match="水电维修"):
        actions.sign_up(shift, actor=_member_user(world))
    actions.sign_up(shift, actor=personas.member_user)  # has the skill


def test_sign_up_window_and_status(world, personas):
    now = timezone.now()
    draft = make_activity(world.a, actor=personas.staff_a, shifts=[(48, 2, 5)])
    with pytest.raises(DomainError, match="尚未发布"):
        actions.sign_up(draft.shifts.get(), actor=personas.member_user)
    later = make_activity(
        world.a,
        actor=personas.staff_a,
        shifts=[(72, 2, 5)],
        publish=True,
        signup_opens_at=now + dt.timedelta(hours=10),
        signup_closes_at=now + dt.timedelta(hours=20),
    )
    shift = later.shifts.get()
    with pytest.raises(DomainError, match="报名将于"):
        actions.sign_up(shift, actor=personas.member_user)
    with time_machine.travel(now + dt.timedelta(hours=21), tick=False), pytest.raises(DomainError, match="报名已截止"):
        actions.sign_up(shift, actor=personas.member_user)
    with time_machine.travel(now + dt.timedelta(hours=11), tick=False):
        actions.sign_up(shift, actor=personas.member_user)


def test_a_started_shift_takes_no_sign_ups(world, personas, open_activity):
    shift = open_activity.shifts.get()
    with (
        time_machine.travel(shift.starts_at + dt.timedelta(minutes=1), tick=False),
        pytest.raises(DomainError, match="已开始"),
    ):
        actions.sign_up(shift, actor=personas.member_user)


def test_cancel_before_the_deadline_frees_the_seat(open_activity, personas):
    shift = open_activity.shifts.get()
    signup = actions.sign_up(shift, actor=personas.member_user)
    actions.cancel_signup(signup, actor=personas.member_user, reason="临时出差")
    signup.refresh_from_db()
    assert signup.status == U.CANCELLED and signup.cancelled_at is not None
    assert Shift.objects.get(pk=shift.pk).seats_taken == 0
    event = ActivityEvent.objects.filter(signup=signup).last()
    assert (event.from_status, event.to_status, event.note) == ("signed_up", "cancelled", "临时出差")
    # Signing up again makes a new sign-up; the cancelled one stays in the history.
    again = actions.sign_up(shift, actor=personas.member_user)
    assert again.pk != signup.pk and Shift.objects.get(pk=shift.pk).seats_taken == 1


def test_cancel_after_the_deadline_says_so_clearly(open_activity, personas):
    shift = open_activity.shifts.get()  # starts in 48 h; deadline 24 h before
    signup = actions.sign_up(shift, actor=personas.member_user)
    with time_machine.travel(shift.starts_at - dt.timedelta(hours=23), tick=False), pytest.raises(DomainError) as exc:
        actions.cancel_signup(signup, actor=personas.member_user)
    assert exc.value.code == "deadline"
    assert "已过取消截止时间" in exc.value.message and "王主任" in exc.value.message
    assert SignUp.objects.get(pk=signup.pk).status == U.SIGNED_UP
    assert Shift.objects.get(pk=shift.pk).seats_taken == 1


def test_only_the_member_cancels_their_own_sign_up(world, personas, open_activity):
    signup = actions.sign_up(open_activity.shifts.get(), actor=personas.member_user)
    with pytest.raises(NotAllowed):
        actions.cancel_signup(signup, actor=_member_user(world))


def test_cancel_twice_is_a_conflict(open_activity, personas):
    signup = actions.sign_up(open_activity.shifts.get(), actor=personas.member_user)
    actions.cancel_signup(signup, actor=personas.member_user)
    with pytest.raises(Conflict):
        actions.cancel_signup(signup, actor=personas.member_user)
    assert Shift.objects.get(pk=signup.shift_id).seats_taken == 0
