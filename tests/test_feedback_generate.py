"""generate_unit_report: a unit's frozen report — figures per member, flags, consent, summary, sending."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli import testing as t
from linli.accounts.models import AuditEntry, Notification, Role
from linli.activities.models import Activity, Shift, SignUp
from linli.credits import actions as credits
from linli.credits.models import PointEntry, SourceType
from linli.lib.errors import DomainError, NotAllowed
from linli.orders import actions as orders
from linli.orders.models import Rating
from linli.reports import actions
from linli.reports.feedback import Period, unit_feedback
from linli.reports.models import FeedbackSettings, UnitReport

TZ = dt.timezone(dt.timedelta(hours=8))
Q2 = Period.parse("2026Q2")


def at(month, day, hour=10):
    return dt.datetime(2026, month, day, hour, 0, tzinfo=TZ)


@pytest.fixture
def clock(db):
    with time_machine.travel(at(4, 8), tick=False) as traveller:
        yield traveller


_ids = iter(range(10_000, 99_999))


def served(member, community, day, hours, *, volunteer):
    """A service record on `day`: volunteer (an activity shift) or registration service (manual)."""
    return credits.record_service(
        member,
        hours=hours,
        source_type=SourceType.SHIFT if volunteer else SourceType.MANUAL,
        source_id=next(_ids),
        community=community,
        service_date=day,
        activity_name="测试服务",
        place="幸福社区",
        content="测试",
        organizer="幸福社区",
        leader="负责人",
    )


def no_show(member, community, starts):
    activity = Activity.objects.create(
        community=community,
        kind="cleanup",
        title="环境整治",
        place="小区",
        leader="负责人",
        signup_opens_at=starts - dt.timedelta(days=5),
        signup_closes_at=starts - dt.timedelta(hours=1),
        status=Activity.Status.PUBLISHED,
        created_at=starts - dt.timedelta(days=5),
        updated_at=starts - dt.timedelta(days=5),
    )
    shift = Shift.objects.create(
        activity=activity, starts_at=starts, ends_at=starts + dt.timedelta(hours=2), capacity=5
    )
    return SignUp.objects.create(
        shift=shift, member=member, status=SignUp.Status.NO_SHOW, signed_up_at=starts - dt.timedelta(days=2)
    )


@pytest.fixture
def scene(clock, personas, world):
    return build_scene(clock, personas, world)


def build_scene(clock, personas, world):
    """Q2 2026 for world.unit: 甲 serves (orders, shifts, declines, a no-show), 乙 registered but idle,
    丙 without consent, 丁 a minor with consent, 戊 consenting but not registered anywhere."""
    p, w = personas, world
    category = t.make_category(w.town)
    s = p.staff_a
    idle = t.make_member(unit=w.unit, home_community=w.a, name="乙", consent_report=True)
    t.register_approved(idle, w.a)
    silent = t.make_member(unit=w.unit, home_community=w.a, name="丙", consent_report=False)
    t.register_approved(silent, w.a)
    minor = t.make_member(
        unit=w.unit,
        home_community=w.a,
        name="丁",
        consent_report=True,
        birth_date=dt.date(2010, 6, 1),
        id_number=t.make_id_number(born=dt.date(2010, 6, 1)),
    )
    t.register_approved(minor, w.a)
    loner = t.make_member(unit=w.unit, home_community=w.a, name="戊", consent_report=True)

    clock.move_to(at(5, 7, 18))
    served(p.member, w.a, dt.date(2026, 5, 5), "3.0", volunteer=True)
    served(p.member, w.a, dt.date(2026, 5, 6), "2.5", volunteer=False)
    served(silent, w.a, dt.date(2026, 5, 6), "9.0", volunteer=False)
    served(minor, w.a, dt.date(2026, 5, 6), "4.0", volunteer=True)
    served(loner, w.a, dt.date(2026, 5, 7), "1.0", volunteer=False)
    # Outside the period: March counts toward the year, July toward nothing here.
    served(p.member, w.a, dt.date(2026, 3, 20), "1.5", volunteer=False)

    # O1: dispatched, claimed, resolved with 2 hours, rated 满意 → closed and credited.
    o1 = t.make_order(w.a, actor=p.resident_user, household=w.hh_a1)
    orders.accept_order(o1, actor=s, category=category)
    orders.dispatch_order(o1, actor=s, member=p.member)
    orders.claim_order(o1, actor=p.member_user)
    orders.start_order(o1, actor=p.member_user)
    clock.move_to(at(5, 8))
    orders.resolve_order(o1, actor=p.member_user, note="修好了", hours="2")
    orders.rate_order(o1, actor=p.resident_user, rating=Rating.SATISFIED)
    # O2: dispatched to 甲 and declined four times (the threshold is three).
    o2 = t.make_order(w.a, actor=p.resident_user, household=w.hh_a1)
    orders.accept_order(o2, actor=s, category=category)
    for _ in range(4):
        orders.dispatch_order(o2, actor=s, member=p.member)
        orders.decline_order(o2, actor=p.member_user, reason="出差")
    # O3: claimed, resolved, rated 不满意 → reopened (no hours; a deduction).
    o3 = t.make_order(w.a, actor=p.resident_user, household=w.hh_a1)
    orders.accept_order(o3, actor=s, category=category)
    orders.dispatch_order(o3, actor=s, member=p.member)
    orders.claim_order(o3, actor=p.member_user)
    orders.start_order(o3, actor=p.member_user)
    orders.resolve_order(o3, actor=p.member_user, note="处理了", hours="1")
    orders.rate_order(o3, actor=p.resident_user, rating=Rating.UNSATISFIED, comment="没修好")
    no_show(p.member, w.a, at(6, 1, 9))

    clock.move_to(at(7, 2))
    return {"idle": idle, "silent": silent, "minor": minor, "loner": loner}


def row_of(report, member):
    return next(r for r in report.rows if r["member_id"] == member.pk)


def test_report_has_each_members_figures_and_flags(scene, personas, world):
    report, created = actions.generate_unit_report(world.unit, period=Q2, actor=personas.unit_admin)
    assert created
    assert (report.period, report.preset) == ("2026Q2", "quarterly")
    assert (report.period_start, report.period_end) == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    r = row_of(report, personas.member)
    assert r["consent"] is True
    assert r["communities"] == ["幸福社区"]
    assert r["volunteer_hours"] == "3.0"
    assert r["registration_hours"] == "4.5"  # 2.5 by hand + 2.0 from the closed order
    assert r["hours"] == "7.5"
    assert r["year_hours"] == "9.0"  # with March's 1.5
    assert (r["taken"], r["resolved"]) == (2, 2)
    assert (r["satisfied"], r["basically"], r["unsatisfied"]) == (1, 0, 1)
    assert (r["declined"], r["no_shows"]) == (4, 1)
    q2_points = sum(
        PointEntry.objects.filter(member=personas.member, earned_on__range=(Q2.start, Q2.last)).values_list(
            "points", flat=True
        )
    )
    assert Decimal(r["points"]) == q2_points
    assert r["stars"] == 0  # 3 volunteer hours: far from the first star
    # Pace at 30 June: 20 h × 181/365 = 9.9 h; 9.0 is behind.
    assert report.summary["pace_hours"] == "9.9"
    assert r["flags"] == ["behind_pace", "declines", "no_shows"]

    idle = row_of(report, scene["idle"])
    assert idle["hours"] == "0.0" and idle["flags"] == ["not_serving", "behind_pace"]
    loner = row_of(report, scene["loner"])
    assert loner["registrations"] == 0 and "not_serving" not in loner["flags"]


def test_members_without_consent_and_minors_appear_by_name_only(scene, personas, world):
    report, _created = actions.generate_unit_report(world.unit, period=Q2, actor=None)
    silent, minor = row_of(report, scene["silent"]), row_of(report, scene["minor"])
    assert silent == {
        "member_id": scene["silent"].pk,
        "member_no": scene["silent"].member_no,
        "name": "丙",
        "consent": False,
        "reason": "no_consent",
    }
    assert minor["reason"] == "minor" and "hours" not in minor
    # Their hours are in no sum: 甲 7.5 + 戊 1.0; not 丙's 9.0 nor 丁's 4.0.
    s = report.summary
    assert s["hours"] == "8.5"
    assert (s["members"], s["consented"], s["not_consented"], s["minors"]) == (5, 3, 1, 1)


def test_summary_shows_registered_against_active_and_top_and_bottom(scene, personas, world):
    report, _created = actions.generate_unit_report(world.unit, period=Q2, actor=None)
    s = report.summary
    assert (s["registered"], s["active"], s["not_serving"]) == (2, 1, 1)  # 甲 served, 乙 did not
    assert s["active_percent"] == 50.0
    assert [p["name"] for p in s["top"]] == ["党员甲", "戊"]
    assert [p["name"] for p in s["bottom"]] == ["乙"]
    assert (s["behind_pace"], s["declines"], s["no_shows"]) == (3, 1, 1)
    assert s["unit_name"] == world.unit.name and s["decline_threshold"] == 3


def test_decline_threshold_is_the_towns_setting(scene, personas, world):
    FeedbackSettings.objects.create(town=world.town, decline_threshold=4)
    report, _created = actions.generate_unit_report(world.unit, period=Q2, actor=None)
    assert "declines" not in row_of(report, personas.member)["flags"]  # 4 is not more than 4
    assert report.summary["decline_threshold"] == 4


def test_report_is_sent_to_unit_admins_and_audited_once(scene, personas, world, django_capture_on_commit_callbacks):
    other_admin = t.make_user("unit2", roles=[(Role.UNIT_ADMIN, world.unit)])
    with django_capture_on_commit_callbacks(execute=True):
        report, created = actions.generate_unit_report(world.unit, period=Q2, actor=personas.town_admin)
    assert created
    inbox = Notification.objects.filter(dedupe_key=f"unit_report:{report.pk}")
    assert set(inbox.values_list("user", flat=True)) == {personas.unit_admin.pk, other_admin.pk}
    assert inbox.first().url == f"/unit-reports/{report.pk}/"
    audit = AuditEntry.objects.get(action=AuditEntry.Action.REPORT_SENT)
    assert (audit.actor, audit.object_id) == (personas.town_admin, str(report.pk))
    assert audit.detail["period"] == "2026Q2"
    assert sorted(audit.detail["recipients"]) == sorted([personas.unit_admin.pk, other_admin.pk])
    # Again: the same report, nothing sent or audited twice.
    with django_capture_on_commit_callbacks(execute=True):
        again, created = actions.generate_unit_report(world.unit, period=Q2, actor=personas.unit_admin)
    assert (again.pk, created) == (report.pk, False)
    assert inbox.count() == 2
    assert AuditEntry.objects.filter(action=AuditEntry.Action.REPORT_SENT).count() == 1


def test_content_is_frozen_at_generation(scene, personas, world, clock):
    report, _created = actions.generate_unit_report(world.unit, period=Q2, actor=None)
    generated_at = report.generated_at
    # A late entry for June arrives after the report was sent.
    clock.move_to(at(7, 5))
    served(personas.member, world.a, dt.date(2026, 6, 20), "5.0", volunteer=True)
    again, created = actions.generate_unit_report(world.unit, period=Q2, actor=None)
    assert not created
    again.refresh_from_db()
    assert row_of(again, personas.member)["volunteer_hours"] == "3.0"
    assert again.generated_at == generated_at
    # The live figures do see it.
    live = unit_feedback(world.unit, start=Q2.start, end=Q2.end)
    assert next(r for r in live.rows if r["member_id"] == personas.member.pk)["volunteer_hours"] == "8.0"


def test_only_completed_periods(scene, world):
    with pytest.raises(DomainError, match="尚未结束"):
        actions.generate_unit_report(world.unit, period=Period.parse("2026Q3"), actor=None)
    assert not UnitReport.objects.exists()


@pytest.mark.parametrize("who", ["staff_a", "member_user", "property", "dept"])
def test_other_roles_may_not_generate(scene, personas, world, who):
    with pytest.raises(NotAllowed):
        actions.generate_unit_report(world.unit, period=Q2, actor=getattr(personas, who))


def test_another_units_admin_may_not_generate(scene, world):
    other = t.make_unit(world.town)
    admin = t.make_user("other_unit_admin", roles=[(Role.UNIT_ADMIN, other)])
    with pytest.raises(NotAllowed):
        actions.generate_unit_report(world.unit, period=Q2, actor=admin)


def test_query_count_does_not_grow_with_members(scene, world):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            unit_feedback(world.unit, start=Q2.start, end=Q2.end)
        return len(ctx)

    before = count()
    for i in range(6):
        m = t.make_member(unit=world.unit, home_community=world.a, name=f"新{i}", consent_report=i % 2 == 0)
        t.register_approved(m, world.a)
    assert count() == before


def test_generate_all_units_is_idempotent(scene, world):
    empty = t.make_unit(world.town)  # no members: no report
    other = t.make_unit(world.town)
    t.make_member(unit=other, home_community=world.b, consent_report=True)
    first = actions.generate_unit_reports(period=Q2)
    assert (first.created, first.existing) == (2, 0)
    second = actions.generate_unit_reports(period=Q2)
    assert (second.created, second.existing) == (0, 2)
    assert UnitReport.objects.count() == 2
    assert not UnitReport.objects.filter(unit=empty).exists()
