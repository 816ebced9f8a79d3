"""Staff actions on activities and shifts: create, edit, publish, cancel; add, change, remove shifts."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from linli import testing as t
from linli.accounts.models import Notification
from linli.activities import actions
from linli.activities.models import Activity, ActivityEvent, Shift, SignUp
from linli.activities.testing import add_shift, make_activity
from linli.lib.errors import Conflict, DomainError, NotAllowed

A, U = Activity.Status, SignUp.Status


def test_staff_create_a_draft_with_an_event(world, personas):
    activity = make_activity(world.a, actor=personas.staff_a, title="  探访独居老人 ", kind="elderly_visit")
    assert activity.status == A.DRAFT and activity.title == "探访独居老人"
    event = ActivityEvent.objects.get(activity=activity)
    assert (event.kind, event.to_status, event.actor) == ("created", "draft", personas.staff_a)


@pytest.mark.parametrize("who", ["staff_b", "member_user", "grid_worker", "resident_user"])
def test_only_the_communitys_staff_or_town_admin_create(world, personas, who):
    with pytest.raises(NotAllowed):
        make_activity(world.a, actor=getattr(personas, who))
    make_activity(world.a, actor=personas.town_admin)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", " ", "活动名称"),
        ("place", "", "地点"),
        ("leader", "", "负责人"),
        ("kind", "party", "活动类型"),
        ("cancel_hours", 1000, "取消截止"),
    ],
)
def test_bad_fields_name_the_field(world, personas, field, value, message):
    with pytest.raises(DomainError, match=message) as exc:
        make_activity(world.a, actor=personas.staff_a, **{field: value})
    assert exc.value.code == field
    assert not Activity.objects.exists()


def test_sign_up_window_must_close_after_it_opens(world, personas):
    now = timezone.now()
    with pytest.raises(DomainError, match="晚于报名开始"):
        make_activity(world.a, actor=personas.staff_a, signup_opens_at=now, signup_closes_at=now)


def test_publish_needs_a_shift_and_an_open_window(world, personas):
    activity = make_activity(world.a, actor=personas.staff_a)
    with pytest.raises(DomainError, match="班次"):
        actions.publish_activity(activity, actor=personas.staff_a)
    add_shift(activity, actor=personas.staff_a)
    actions.publish_activity(activity, actor=personas.staff_a)
    assert Activity.objects.get(pk=activity.pk).status == A.PUBLISHED
    with pytest.raises(Conflict):
        actions.publish_activity(activity, actor=personas.staff_a)
    assert ActivityEvent.objects.filter(activity=activity, kind="published").count() == 1


def test_edit_writes_what_changed(world, personas):
    activity = make_activity(world.a, actor=personas.staff_a)
    actions.update_activity(activity, actor=personas.staff_a, place="党群服务中心", required_skill=world.electrical)
    activity.refresh_from_db()
    assert activity.place == "党群服务中心" and activity.required_skill == world.electrical
    event = ActivityEvent.objects.get(activity=activity, kind="edited")
    assert event.data == {"fields": ["place", "required_skill"]}
    # Nothing changed: no event.
    actions.update_activity(activity, actor=personas.staff_a, place="党群服务中心")
    assert ActivityEvent.objects.filter(activity=activity, kind="edited").count() == 1
    with pytest.raises(NotAllowed):
        actions.update_activity(activity, actor=personas.staff_b, place="别处")


def test_cancel_cancels_waiting_sign_ups_and_tells_their_members(world, personas, django_capture_on_commit_callbacks):
    activity = make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(48, 2, 5), (72, 2, 5)])
    first, _second = activity.shifts.all()
    signup = actions.sign_up(first, actor=personas.member_user)
    with pytest.raises(DomainError, match="原因"):
        actions.cancel_activity(activity, actor=personas.staff_a, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        actions.cancel_activity(activity, actor=personas.staff_a, reason="暴雨预警，活动取消")
    activity.refresh_from_db()
    assert activity.status == A.CANCELLED and activity.cancel_reason == "暴雨预警，活动取消"
    signup.refresh_from_db()
    assert signup.status == U.CANCELLED
    assert Shift.objects.get(pk=first.pk).seats_taken == 0
    assert ActivityEvent.objects.filter(signup=signup, kind="signup_cancelled").count() == 1
    note = Notification.objects.get(user=personas.member_user, title__startswith="活动取消")
    assert note.body == "暴雨预警，活动取消"
    with pytest.raises(Conflict):
        actions.update_activity(activity, actor=personas.staff_a, place="x")
    with pytest.raises(Conflict):
        add_shift(activity, actor=personas.staff_a)


def test_shift_rules(world, personas):
    activity = make_activity(world.a, actor=personas.staff_a)
    now = timezone.now()
    with pytest.raises(DomainError, match="晚于开始"):
        actions.add_shift(
            activity,
            actor=personas.staff_a,
            starts_at=now + dt.timedelta(hours=2),
            ends_at=now + dt.timedelta(hours=1),
            capacity=3,
        )
    with pytest.raises(DomainError, match="12小时"):
        actions.add_shift(
            activity,
            actor=personas.staff_a,
            starts_at=now + dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=14),
            capacity=3,
        )
    with pytest.raises(DomainError, match="晚于现在"):
        actions.add_shift(
            activity,
            actor=personas.staff_a,
            starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=1),
            capacity=3,
        )
    with pytest.raises(DomainError, match="人数上限"):
        add_shift(activity, actor=personas.staff_a, capacity=0)
    assert not Shift.objects.exists()


def test_capacity_never_below_seats_taken_and_times_fixed_once_someone_signed_up(world, personas):
    activity = make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(48, 2, 3)])
    shift = activity.shifts.get()
    actions.update_shift(
        shift,
        actor=personas.staff_a,
        starts_at=shift.starts_at + dt.timedelta(hours=1),
        ends_at=shift.ends_at + dt.timedelta(hours=1),
    )
    actions.sign_up(shift, actor=personas.member_user)
    other = t.make_user()
    t.register_approved(t.make_member(user=other), world.a)
    actions.sign_up(shift, actor=other)
    with pytest.raises(Conflict, match="不能少于已报名人数"):
        actions.update_shift(shift, actor=personas.staff_a, capacity=1)
    actions.update_shift(shift, actor=personas.staff_a, capacity=2)
    assert Shift.objects.get(pk=shift.pk).capacity == 2
    with pytest.raises(Conflict, match="不能修改时间"):
        actions.update_shift(
            shift,
            actor=personas.staff_a,
            starts_at=shift.starts_at + dt.timedelta(hours=1),
            ends_at=shift.ends_at + dt.timedelta(hours=1),
        )
    assert ActivityEvent.objects.filter(shift=shift, kind="shift_changed").count() == 2


def test_remove_only_a_shift_nobody_signed_up_for(world, personas):
    activity = make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(48, 2, 3), (72, 2, 3)])
    taken, free = activity.shifts.all()
    signup = actions.sign_up(taken, actor=personas.member_user)
    actions.cancel_signup(signup, actor=personas.member_user)
    with pytest.raises(Conflict, match="报名记录"):
        actions.remove_shift(taken, actor=personas.staff_a)
    actions.remove_shift(free, actor=personas.staff_a)
    assert list(activity.shifts.all()) == [taken]
    removed = ActivityEvent.objects.get(activity=activity, kind="shift_removed")
    assert removed.shift is None and removed.data["starts_at"]


def test_a_shift_already_started_keeps_its_times(world, personas):
    activity = make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(48, 2, 3)])
    shift = activity.shifts.get()
    with (
        time_machine.travel(shift.starts_at + dt.timedelta(minutes=1), tick=False),
        pytest.raises(Conflict, match="已开始"),
    ):
        actions.update_shift(
            shift,
            actor=personas.staff_a,
            starts_at=shift.starts_at + dt.timedelta(days=1),
            ends_at=shift.ends_at + dt.timedelta(days=1),
        )
