"""Corrections: a member asks, the community approves (a new adjustment row) or declines; each step an event."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum

from linli.accounts.models import Notification
from linli.credits import actions, ledger
from linli.credits.models import (
    CORRECTION_TRANSITIONS,
    CorrectionRequest,
    CreditSettings,
    PointEntry,
    ServiceRecord,
    StarEvent,
)
from linli.lib.errors import Conflict, DomainError, NotAllowed
from tests.conftest import login

S = CorrectionRequest.Status
DAY = dt.date(2026, 3, 2)


@pytest.fixture
def record(personas, world):
    m = personas.member
    r = actions.record_service(
        m,
        hours="2.0",
        source_type="shift",
        source_id=7,
        community=world.a,
        service_date=DAY,
        activity_name="义务理发",
        place="活动室",
        content="为老人理发",
        organizer=world.a.name,
        leader="王主任",
    )
    actions.award_points(m, rule="service_hours", source_type="shift", source_id=7, hours="2.0", town=world.town)
    return r


def _ask(record, actor, hours="3.5", reason="签退时漏记"):
    return actions.request_correction(record, actor=actor, proposed_hours=hours, reason=reason)


def test_approval_appends_an_adjustment_and_leaves_the_original(personas, record):
    request = _ask(record, personas.member_user)
    actions.approve_correction(request, actor=personas.staff_a, note="核实无误")
    record.refresh_from_db()
    assert record.hours == Decimal("2.0")  # never edited
    adjustment = request.adjustment
    assert (adjustment.corrects, adjustment.hours, adjustment.kind) == (record, Decimal("1.5"), record.kind)
    assert (adjustment.source_type, adjustment.source_id) == ("correction", request.pk)
    assert adjustment.recorder == personas.staff_a
    assert ledger.effective_hours(record) == Decimal("3.5")
    request.refresh_from_db()
    assert (request.status, request.decision_note) == (S.APPROVED, "核实无误")
    events = list(request.events.values_list("from_status", "to_status", "actor"))
    assert events == [("", S.REQUESTED, personas.member_user.pk), (S.REQUESTED, S.APPROVED, personas.staff_a.pk)]


def test_points_per_hour_follow_the_correction(personas, record):
    actions.approve_correction(_ask(record, personas.member_user, hours="0.5"), actor=personas.staff_a)
    total = PointEntry.objects.filter(member=personas.member, rule__code="service_hours").aggregate(s=Sum("points"))
    assert total["s"] == Decimal("0.5")


def test_a_second_correction_corrects_from_the_corrected_hours(personas, record):
    actions.approve_correction(_ask(record, personas.member_user, hours="3.5"), actor=personas.staff_a)
    second = _ask(record, personas.member_user, hours="3.0")
    actions.approve_correction(second, actor=personas.staff_a)
    assert second.adjustment.hours == Decimal("-0.5")
    assert ServiceRecord.objects.filter(member=personas.member).aggregate(s=Sum("hours"))["s"] == Decimal("3.0")


def test_asking_for_an_adjustment_row_corrects_its_original(personas, record):
    first = _ask(record, personas.member_user)
    actions.approve_correction(first, actor=personas.staff_a)
    second = _ask(first.adjustment, personas.member_user, hours="1.0")
    assert second.record == record


def test_decline_needs_a_reason_and_writes_nothing_to_the_ledger(personas, record, django_capture_on_commit_callbacks):
    request = _ask(record, personas.member_user)
    with pytest.raises(DomainError):
        actions.decline_correction(request, actor=personas.staff_a, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        actions.decline_correction(request, actor=personas.staff_a, reason="签到记录显示2小时")
    assert request.status == S.DECLINED
    assert ServiceRecord.objects.count() == 1
    assert Notification.objects.filter(user=personas.member_user, title__contains="签到记录显示2小时").exists()


def test_one_open_request_per_record(personas, record):
    _ask(record, personas.member_user)
    with pytest.raises(Conflict):
        _ask(record, personas.member_user, hours="4.0")


def test_proposed_hours_must_differ_and_not_be_negative(personas, record):
    with pytest.raises(DomainError):
        _ask(record, personas.member_user, hours="2.0")
    with pytest.raises(DomainError):
        _ask(record, personas.member_user, hours="-1")
    with pytest.raises(DomainError):
        _ask(record, personas.member_user, reason="")


def test_a_correction_to_zero_cancels_the_record(personas, record):
    actions.approve_correction(_ask(record, personas.member_user, hours="0"), actor=personas.staff_a)
    assert ledger.effective_hours(record) == 0


def test_who_may_ask_and_who_may_decide(personas, record):
    for outsider in (personas.member_b.user, personas.staff_b, personas.unit_admin, personas.resident_user):
        with pytest.raises(NotAllowed):
            _ask(record, outsider)
    request = _ask(record, personas.staff_a)  # the community's staff may ask on the member's behalf
    for outsider in (personas.member_user, personas.staff_b, personas.unit_admin):
        with pytest.raises(NotAllowed):
            actions.approve_correction(request, actor=outsider)


def test_decisions_are_compare_and_set(personas, record):
    request = _ask(record, personas.member_user)
    stale = CorrectionRequest.objects.get(pk=request.pk)
    actions.approve_correction(request, actor=personas.staff_a)
    with pytest.raises(Conflict):
        actions.decline_correction(stale, actor=personas.staff_a, reason="晚了一步")
    with pytest.raises(Conflict):
        actions.approve_correction(stale, actor=personas.staff_a)
    assert ServiceRecord.objects.filter(corrects=record).count() == 1


@pytest.mark.parametrize("old", list(S))
@pytest.mark.parametrize("new", [S.APPROVED, S.DECLINED])
def test_the_transitions_table(personas, record, old, new):
    request = _ask(record, personas.member_user)
    CorrectionRequest.objects.filter(pk=request.pk).update(status=old)  # arrange only
    request.refresh_from_db()
    act = (
        (lambda: actions.approve_correction(request, actor=personas.staff_a))
        if new == S.APPROVED
        else (lambda: actions.decline_correction(request, actor=personas.staff_a, reason="不符"))
    )
    if new in CORRECTION_TRANSITIONS[old]:
        act()
        assert request.status == new
    else:
        with pytest.raises(Conflict):
            act()


def test_an_approved_correction_can_change_the_star(personas, world, record):
    CreditSettings.objects.create(town=world.town, star_thresholds=[3, 6, 9, 12, 15])
    request = _ask(record, personas.member_user, hours="3.0")
    actions.approve_correction(request, actor=personas.staff_a)
    event = StarEvent.objects.get()
    assert (event.from_level, event.to_level, event.record) == (0, 1, request.adjustment)


# --- pages -----------------------------------------------------------------------------------------


def test_member_asks_through_the_form(personas, record):
    client = login(personas.member_user)
    form = client.get(f"/service-records/{record.pk}/correct/")
    assert form.status_code == 200
    assert "义务理发" in form.content.decode()
    response = client.post(f"/service-records/{record.pk}/correct/", {"proposed_hours": "3.5", "reason": "漏记"})
    assert response.status_code == 302
    assert CorrectionRequest.objects.get().proposed_hours == Decimal("3.5")
    page = client.get(f"/members/{personas.member.pk}/record/?year=2026").content.decode()
    assert "更正审核中" in page


def test_the_form_names_bad_fields(personas, record):
    html = (
        login(personas.member_user)
        .post(f"/service-records/{record.pk}/correct/", {"proposed_hours": "abc", "reason": ""})
        .content.decode()
    )
    assert 'aria-invalid="true"' in html
    assert not CorrectionRequest.objects.exists()
    html = (
        login(personas.member_user)
        .post(f"/service-records/{record.pk}/correct/", {"proposed_hours": "2.0", "reason": "x"})
        .content.decode()
    )
    assert "更正后时长与现有时长相同" in html


def test_the_form_is_not_for_others(personas, record):
    assert login(personas.staff_b).get(f"/service-records/{record.pk}/correct/").status_code == 404
    assert login(personas.unit_admin).get(f"/service-records/{record.pk}/correct/").status_code == 403
    assert login(personas.resident_user).get(f"/service-records/{record.pk}/correct/").status_code == 404


def test_the_queue_lists_pending_and_decides_with_post_verbs(personas, world, record):
    request = _ask(record, personas.member_user)
    client = login(personas.staff_a)
    page = client.get(f"/communities/{world.a.pk}/corrections/").content.decode()
    assert "义务理发" in page and "签退时漏记" in page
    assert client.get(f"/corrections/{request.pk}/approve/").status_code == 405
    response = client.post(f"/corrections/{request.pk}/approve/", {"note": "同意"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == S.APPROVED


def test_the_queue_declines_with_htmx_and_reports_a_missing_reason(personas, world, record):
    request = _ask(record, personas.member_user)
    client = login(personas.staff_a)
    html = client.post(f"/corrections/{request.pk}/decline/", {"reason": ""}, HTTP_HX_REQUEST="true").content.decode()
    assert "请填写不通过的原因" in html
    html = client.post(f"/corrections/{request.pk}/decline/", {"reason": "无签到记录"}, HTTP_HX_REQUEST="true")
    assert "未通过" in html.content.decode()
    request.refresh_from_db()
    assert request.status == S.DECLINED


def test_the_queue_and_verbs_are_for_the_communitys_staff(personas, world, record):
    request = _ask(record, personas.member_user)
    assert login(personas.staff_b).get(f"/communities/{world.a.pk}/corrections/").status_code == 404
    assert login(personas.member_user).get(f"/communities/{world.a.pk}/corrections/").status_code == 403
    assert login(personas.staff_b).post(f"/corrections/{request.pk}/approve/").status_code == 404
    response = login(personas.member_user).post(f"/corrections/{request.pk}/approve/")
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == S.REQUESTED
