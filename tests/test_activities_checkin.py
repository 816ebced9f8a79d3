"""Sign-in and sign-out by scanning the rotating code: tokens, hours, the ledgers."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from linli import testing as t
from linli.activities import actions, qrcodes
from linli.activities.models import ActivityEvent, SignUp
from linli.activities.testing import add_shift, make_activity
from linli.credits.models import PointEntry, ServiceKind, ServiceRecord
from linli.lib.errors import DomainError

U = SignUp.Status


@pytest.fixture
def shift(world, personas):
    activity = make_activity(
        world.a, actor=personas.staff_a, publish=True, shifts=[(48, 2, 5)], title="楼道清理, 第一期; 幸福小区"
    )
    return activity.shifts.select_related("activity__community").get()


@pytest.fixture
def signup(shift, personas):
    return actions.sign_up(shift, actor=personas.member_user)


def at(moment):
    return time_machine.travel(moment, tick=False)


def scan(shift, user, when):
    with at(when):
        return actions.scan_shift_code(qrcodes.make_token(shift.pk), actor=user)


def test_first_scan_signs_in_second_signs_out_with_hours_in_the_ledgers(shift, signup, personas):
    start = shift.starts_at
    first = scan(shift, personas.member_user, start - dt.timedelta(minutes=10))
    assert first.action == "checked_in"
    signup.refresh_from_db()
    assert signup.status == U.CHECKED_IN and signup.checked_in_at == start - dt.timedelta(minutes=10)
    second = scan(shift, personas.member_user, start + dt.timedelta(minutes=95))
    assert second.action == "checked_out" and second.hours == Decimal("1.8")  # 105 min = 1.75 h → 1.8
    signup.refresh_from_db()
    assert signup.status == U.COMPLETED and signup.hours == Decimal("1.8")
    record = ServiceRecord.objects.get(member=personas.member, source_type="shift", source_id=signup.pk)
    assert record.hours == Decimal("1.8") and record.kind == ServiceKind.VOLUNTEER
    assert record.activity_name == shift.activity.title and record.organizer == "幸福社区"
    assert record.leader == "王主任" and record.place == shift.activity.place
    assert record.service_date == start.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    points = PointEntry.objects.get(member=personas.member, source_type="shift", source_id=signup.pk)
    assert points.hours == Decimal("1.8") and points.points > 0
    kinds = list(ActivityEvent.objects.filter(signup=signup).values_list("kind", flat=True))
    assert kinds == ["signed_up", "checked_in", "checked_out"]


def test_hours_are_capped_by_the_shift_length(shift, signup, personas):
    scan(shift, personas.member_user, shift.starts_at - dt.timedelta(minutes=29))
    result = scan(shift, personas.member_user, shift.ends_at + dt.timedelta(hours=2))
    assert result.hours == Decimal("2.0")
    assert ServiceRecord.objects.get(source_id=signup.pk).hours == Decimal("2.0")


def test_unit_quota_hours_are_registration_service_never_volunteer(world, personas):
    activity = make_activity(world.a, actor=personas.staff_a, publish=True, shifts=[(48, 2, 5)], unit_quota=True)
    shift = activity.shifts.get()
    signup = actions.sign_up(shift, actor=personas.member_user)
    scan(shift, personas.member_user, shift.starts_at)
    scan(shift, personas.member_user, shift.ends_at)
    record = ServiceRecord.objects.get(source_id=signup.pk, source_type="shift")
    assert record.kind == ServiceKind.REGISTRATION and record.activity_kind == "cleanup"


def test_a_double_scan_right_after_signing_in_does_not_sign_out(shift, signup, personas):
    scan(shift, personas.member_user, shift.starts_at)
    again = scan(shift, personas.member_user, shift.starts_at + dt.timedelta(minutes=2))
    assert again.action == "already_in"
    assert SignUp.objects.get(pk=signup.pk).status == U.CHECKED_IN
    assert not ServiceRecord.objects.exists()


def test_scanning_after_signing_out_reports_it_and_records_nothing_more(shift, signup, personas):
    scan(shift, personas.member_user, shift.starts_at)
    scan(shift, personas.member_user, shift.starts_at + dt.timedelta(hours=1))
    third = scan(shift, personas.member_user, shift.starts_at + dt.timedelta(hours=1, minutes=1))
    assert third.action == "already_out" and third.hours == Decimal("1.0")
    assert ServiceRecord.objects.count() == 1 and PointEntry.objects.count() == 1


def test_yesterdays_token_a_screenshot_is_refused(shift, signup, personas):
    with at(shift.starts_at - dt.timedelta(days=1)):
        yesterdays = qrcodes.make_token(shift.pk)
    with at(shift.starts_at + dt.timedelta(minutes=5)), pytest.raises(DomainError) as exc:
        actions.scan_shift_code(yesterdays, actor=personas.member_user)
    assert exc.value.code == "expired"
    assert "已过期" in exc.value.message and "截图" in exc.value.message and "正在显示" in exc.value.message
    assert SignUp.objects.get(pk=signup.pk).status == U.SIGNED_UP


def test_a_token_is_good_for_two_minutes(shift, signup, personas):
    with at(shift.starts_at):
        token = qrcodes.make_token(shift.pk)
    with at(shift.starts_at + dt.timedelta(seconds=qrcodes.MAX_AGE_SECONDS - 5)):
        assert actions.scan_shift_code(token, actor=personas.member_user).action == "checked_in"
    with at(shift.starts_at + dt.timedelta(seconds=qrcodes.MAX_AGE_SECONDS + 5)), pytest.raises(DomainError) as exc:
        actions.scan_shift_code(token, actor=personas.member_user)
    assert exc.value.code == "expired"


@pytest.mark.parametrize(
    "mangle", [lambda tk: tk[:-2] + "xx", lambda tk: "99" + tk[tk.index(":") :], lambda tk: "", lambda tk: "hello"]
)
def test_a_tampered_token_is_refused(shift, signup, personas, mangle):
    with at(shift.starts_at):
        token = mangle(qrcodes.make_token(shift.pk))
        with pytest.raises(DomainError) as exc:
            actions.scan_shift_code(token, actor=personas.member_user)
    assert exc.value.code == "tampered" and "无效" in exc.value.message


def test_a_token_of_another_shift_says_which_shift_is_theirs(world, personas, shift, signup):
    later = add_shift(shift.activity, actor=personas.staff_a, start_in=72, length=2)
    with at(later.starts_at), pytest.raises(DomainError) as exc:
        actions.scan_shift_code(qrcodes.make_token(later.pk), actor=personas.member_user)
    assert exc.value.code == "other_shift" and "您报名的是" in exc.value.message


def test_a_member_not_signed_up_is_told_so(world, personas, shift):
    user = t.make_user()
    t.register_approved(t.make_member(user=user), world.a)
    with at(shift.starts_at), pytest.raises(DomainError) as exc:
        actions.scan_shift_code(qrcodes.make_token(shift.pk), actor=user)
    assert exc.value.code == "not_signed_up" and "没有报名" in exc.value.message


def test_too_early_and_too_late_to_sign_in(shift, signup, personas):
    with pytest.raises(DomainError) as exc:
        scan(shift, personas.member_user, shift.starts_at - dt.timedelta(hours=1))
    assert exc.value.code == "too_early"
    with pytest.raises(DomainError) as exc:
        scan(shift, personas.member_user, shift.ends_at + dt.timedelta(minutes=1))
    assert exc.value.code == "ended"
    assert SignUp.objects.get(pk=signup.pk).status == U.SIGNED_UP


def test_sign_out_closes_some_hours_after_the_shift(shift, signup, personas):
    scan(shift, personas.member_user, shift.starts_at)
    with pytest.raises(DomainError) as exc:
        scan(shift, personas.member_user, shift.ends_at + actions.CHECK_OUT_GRACE + dt.timedelta(minutes=1))
    assert exc.value.code == "too_late"
    assert not ServiceRecord.objects.exists()


def test_a_cancelled_activity_takes_no_scans(shift, signup, personas):
    actions.cancel_activity(shift.activity, actor=personas.staff_a, reason="暴雨")
    with pytest.raises(DomainError) as exc:
        scan(shift, personas.member_user, shift.starts_at)
    assert exc.value.code == "cancelled"


def test_inspect_is_read_only_and_tells_the_next_step(shift, signup, personas):
    with at(shift.starts_at):
        found, step = actions.inspect_shift_code(qrcodes.make_token(shift.pk), actor=personas.member_user)
    assert found.pk == signup.pk and step == "check_in"
    assert SignUp.objects.get(pk=signup.pk).status == U.SIGNED_UP
    scan(shift, personas.member_user, shift.starts_at)
    with at(shift.starts_at + dt.timedelta(minutes=30)):
        _found, step = actions.inspect_shift_code(qrcodes.make_token(shift.pk), actor=personas.member_user)
    assert step == "check_out"
    assert not ServiceRecord.objects.exists()
