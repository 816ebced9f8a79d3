"""GET /members/<id>/record/ and its .xlsx: who may see it, and every displayed total is a ledger SUM."""

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from linli import testing as t
from linli.accounts.models import AuditEntry
from linli.credits import actions
from linli.credits.models import CreditSettings, PointEntry, ServiceRecord
from linli.people.models import Member
from tests.conftest import login

NOW = dt.datetime(2026, 7, 2, 2, 0, tzinfo=dt.UTC)  # 2026-07-02 10:00 in Shanghai: half the year gone


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _serve(member, community, source_id, hours, *, source_type="shift", day=dt.date(2026, 6, 20), **kw):
    return actions.record_service(
        member,
        hours=hours,
        source_type=source_type,
        source_id=source_id,
        community=community,
        service_date=day,
        activity_name=kw.pop("activity_name", f"活动{source_id}"),
        place="社区广场",
        content="服务",
        organizer=community.name,
        leader="王主任",
        **kw,
    )


@pytest.fixture
def ledger_rows(personas, world):
    m = personas.member
    _serve(m, world.a, 1, "3.0")
    _serve(m, world.a, 2, "2.5", source_type="order")
    _serve(m, world.a, 3, "1.5", day=dt.date(2025, 11, 3))  # last year
    record = _serve(m, world.a, 4, "4.0")
    for sid, hours in ((1, "3.0"), (2, "2.5"), (4, "4.0")):
        actions.award_points(m, rule="service_hours", source_type="shift", source_id=sid, hours=hours, town=world.town)
    actions.award_points(m, rule="no_show", source_type="shift", source_id=9, town=world.town)
    actions.award_points(m, rule="satisfied", source_type="order", source_id=2, town=world.town)
    correction = actions.request_correction(record, actor=personas.member_user, proposed_hours="3.0", reason="提前离开")
    actions.approve_correction(correction, actor=personas.staff_a)
    return m


def _totals(html: str) -> dict[str, str]:
    found = dict(re.findall(r'data-total="(\w+)"[^>]*>\s*([-\d.]+)', html))
    found.update(re.findall(r'data-total="(\w+)" data-value="(\d+)"', html))
    return found


def test_every_displayed_total_equals_the_sum_over_the_ledger(client, personas, world, ledger_rows):
    html = login(personas.member_user).get(f"/members/{ledger_rows.pk}/record/").content.decode()
    totals = _totals(html)
    year = ServiceRecord.objects.filter(member=ledger_rows, service_date__year=2026)
    assert Decimal(totals["hours_year"]) == year.aggregate(s=Sum("hours"))["s"] == Decimal("8.5")
    assert Decimal(totals["volunteer_hours_year"]) == year.filter(kind="volunteer").aggregate(s=Sum("hours"))["s"]
    assert Decimal(totals["registration_hours_year"]) == year.filter(kind="registration").aggregate(s=Sum("hours"))["s"]
    all_volunteer = ServiceRecord.objects.filter(member=ledger_rows, kind="volunteer")
    assert Decimal(totals["volunteer_hours_total"]) == all_volunteer.aggregate(s=Sum("hours"))["s"] == Decimal("7.5")
    points = PointEntry.objects.filter(member=ledger_rows, earned_on__year=2026).aggregate(s=Sum("points"))["s"]
    assert Decimal(totals["points_year"]) == points
    assert Decimal(totals["score_year"]) == 60 + points
    assert totals["base_score"] == "60"
    # The rows listed add up to the totals shown: the page hides nothing from its sums.
    listed = [Decimal(h) for h in re.findall(r'data-hours="([-\d.]+)"', html)]
    assert sum(listed) == Decimal(totals["hours_year"])
    assert sum(Decimal(p) for p in re.findall(r'data-points="([-\d.]+)"', html)) == points


def test_the_bar_shows_progress_against_the_target_and_flags_behind_pace(personas, world, ledger_rows):
    html = login(personas.member_user).get(f"/members/{ledger_rows.pk}/record/").content.decode()
    # 8.5 of 20 hours: 42 %; pace on 2 July is 20 × 183/365 ≈ 10.0 hours → behind.
    assert 'aria-valuenow="42"' in html
    assert "width: 42%" in html
    assert "进度落后" in html
    CreditSettings.objects.create(town=world.town, target_hours=Decimal("10"))
    html = login(personas.member_user).get(f"/members/{ledger_rows.pk}/record/").content.decode()
    assert 'aria-valuenow="85"' in html
    assert "进度落后" not in html


def test_a_negative_year_shows_a_score_of_zero_beside_the_raw_sum(personas, world):
    m = personas.member
    for i in range(14):
        actions.award_points(m, rule="no_show", source_type="shift", source_id=i, town=world.town)
    totals = _totals(login(personas.member_user).get(f"/members/{m.pk}/record/").content.decode())
    assert Decimal(totals["points_year"]) == Decimal("-70.0")
    assert Decimal(totals["score_year"]) == 0
    assert totals["rating_stars"] == "0"


def test_other_years_are_shown_by_year(personas, ledger_rows):
    totals = _totals(login(personas.member_user).get(f"/members/{ledger_rows.pk}/record/?year=2025").content.decode())
    assert Decimal(totals["hours_year"]) == Decimal("1.5")


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("member_user", 200),
        ("staff_a", 200),
        ("town_admin", 200),
        ("unit_admin", 200),  # the member consented to reports to the unit
        ("staff_b", 404),
        ("grid_worker", 404),
        ("resident_user", 404),
        ("dept", 404),
        ("property", 404),
    ],
)
def test_who_may_see_a_members_record(personas, who, status):
    assert login(getattr(personas, who)).get(f"/members/{personas.member.pk}/record/").status_code == status
    assert login(getattr(personas, who)).get(f"/members/{personas.member.pk}/record.xlsx").status_code == status


def test_the_unit_admin_needs_the_members_consent(personas):
    Member.objects.filter(pk=personas.member.pk).update(consent_report_at=None)  # arrange
    assert login(personas.unit_admin).get(f"/members/{personas.member.pk}/record/").status_code == 404


def test_anonymous_is_sent_to_login(client, personas):
    response = client.get(f"/members/{personas.member.pk}/record/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_unit_admin_sees_no_correction_links(personas, ledger_rows):
    html = login(personas.unit_admin).get(f"/members/{ledger_rows.pk}/record/").content.decode()
    assert "/correct/" not in html
    assert "申请更正为" not in html  # nor the member's correction requests
    assert "/correct/" in login(personas.member_user).get(f"/members/{ledger_rows.pk}/record/").content.decode()


def test_the_page_costs_the_same_queries_for_many_rows(personas, world, ledger_rows):
    client = login(personas.member_user)
    client.get(f"/members/{ledger_rows.pk}/record/")  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(f"/members/{ledger_rows.pk}/record/")
    for i in range(100, 130):
        _serve(ledger_rows, world.a, i, "1.0")
        actions.award_points(
            ledger_rows, rule="service_hours", source_type="shift", source_id=i, hours=1, town=world.town
        )
    with CaptureQueriesContext(connection) as many:
        client.get(f"/members/{ledger_rows.pk}/record/")
    assert len(many) == len(few)
    assert len(few) <= 22


def test_the_xlsx_lists_every_ledger_row_and_is_audited(personas, ledger_rows):
    response = login(personas.staff_a).get(f"/members/{ledger_rows.pk}/record.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:7] == ("记录编号", "类型", "活动名称", "服务日期", "服务地点", "服务内容", "服务时长（小时）")
    assert len(rows) - 1 == ServiceRecord.objects.filter(member=ledger_rows).count() == 5
    assert (
        Decimal(str(sum(r[6] for r in rows[1:])))
        == ServiceRecord.objects.filter(member=ledger_rows).aggregate(s=Sum("hours"))["s"]
    )
    audit = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert (audit.actor, audit.object_id, audit.detail["rows"]) == (personas.staff_a, str(ledger_rows.pk), 5)


def test_another_communitys_member_is_a_404_for_staff(personas):
    t.make_member(name="无关党员")
    assert login(personas.staff_a).get(f"/members/{personas.member_b.pk}/record/").status_code == 404
