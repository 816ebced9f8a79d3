"""record_service: one art. 7 entry per member and source, the kind from the community's rules."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction

from linli import testing as t
from linli.accounts.models import Notification
from linli.credits import actions
from linli.credits.models import CreditSettings, ServiceKind, ServiceKindRule, ServiceRecord, StarEvent
from linli.lib import workcal
from linli.lib.errors import DomainError

TODAY = dt.date(2026, 6, 15)  # a Monday


def _record(member, community, **kw):
    fields = {
        "hours": "2.5",
        "source_type": "shift",
        "source_id": 1,
        "community": community,
        "service_date": TODAY,
        "activity_name": "社区环境整治",
        "place": "幸福社区广场",
        "content": "清理楼道杂物",
        "organizer": community.name,
        "leader": "王主任",
    }
    fields.update(kw)
    return actions.record_service(member, **fields)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC), tick=False):
        yield


def test_records_the_fields_of_article_7(personas, world):
    record = _record(personas.member, world.a, recorder=personas.staff_a)
    record.refresh_from_db()
    assert (record.activity_name, record.service_date, record.place, record.content) == (
        "社区环境整治",
        TODAY,
        "幸福社区广场",
        "清理楼道杂物",
    )
    assert record.hours == Decimal("2.5")
    assert (record.organizer, record.leader) == ("幸福社区", "王主任")
    assert (record.source_type, record.source_id) == ("shift", 1)
    assert record.recorder == personas.staff_a
    assert record.recorded_at is not None
    assert record.late is False


def test_same_source_twice_records_once(personas, world):
    assert _record(personas.member, world.a) is not None
    assert _record(personas.member, world.a, hours="3.0") is None
    assert ServiceRecord.objects.filter(member=personas.member).count() == 1
    # Another member of the same shift is another entry.
    assert _record(personas.member_b, world.a) is not None


def test_the_unique_constraint_holds_under_the_action(personas, world):
    record = _record(personas.member, world.a)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRecord.objects.create(
            **{f.attname: getattr(record, f.attname) for f in ServiceRecord._meta.concrete_fields if not f.primary_key}
        )


@pytest.mark.parametrize("hours", ["0", "-1", "abc", "0.04"])
def test_hours_must_be_positive_with_one_decimal(personas, world, hours):
    with pytest.raises(DomainError) as exc:
        _record(personas.member, world.a, hours=hours)
    assert exc.value.code == "hours"


def test_hours_are_rounded_to_one_decimal(personas, world):
    assert _record(personas.member, world.a, hours="1.26").hours == Decimal("1.3")


def test_service_in_the_future_is_refused(personas, world):
    with pytest.raises(DomainError):
        _record(personas.member, world.a, service_date=TODAY + dt.timedelta(days=1))


def test_default_kinds_orders_registration_shifts_volunteer(personas, world):
    shift = _record(personas.member, world.a, source_type="shift", source_id=1)
    order = _record(personas.member, world.a, source_type="order", source_id=1)
    assert shift.kind == ServiceKind.VOLUNTEER
    assert order.kind == ServiceKind.REGISTRATION


def test_community_configures_kind_per_category_and_activity_kind(personas, world):
    category = t.make_category(world.town, name="助老服务")
    ServiceKindRule.objects.create(community=world.a, source="order", category=category, kind=ServiceKind.VOLUNTEER)
    ServiceKindRule.objects.create(
        community=world.a, source="shift", activity_kind="duty", kind=ServiceKind.REGISTRATION
    )
    assert _record(personas.member, world.a, source_type="order", source_id=1, category=category).kind == "volunteer"
    assert _record(personas.member, world.a, source_type="order", source_id=2).kind == "registration"
    assert _record(personas.member, world.a, source_id=3, activity_kind="duty").kind == "registration"
    assert _record(personas.member, world.a, source_id=4, activity_kind="lecture").kind == "volunteer"
    # Community B has no rules: the defaults.
    assert _record(personas.member, world.b, source_type="order", source_id=5, category=category).kind == "registration"


def test_community_default_rule_applies_to_all_of_a_source(personas, world):
    ServiceKindRule.objects.create(community=world.a, source="order", kind=ServiceKind.VOLUNTEER)
    assert _record(personas.member, world.a, source_type="order", source_id=1).kind == "volunteer"


def test_a_unit_quota_is_never_volunteer_service(personas, world):
    # Flagged by the caller (an activity marked as a unit's quota) …
    assert _record(personas.member, world.a, source_id=1, unit_quota=True).kind == ServiceKind.REGISTRATION
    # … or by the community's rule for that activity kind.
    ServiceKindRule.objects.create(
        community=world.a, source="shift", activity_kind="quota", kind=ServiceKind.REGISTRATION, unit_quota=True
    )
    assert _record(personas.member, world.a, source_id=2, activity_kind="quota").kind == ServiceKind.REGISTRATION


def test_a_rule_cannot_map_a_unit_quota_to_volunteer_service(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceKindRule.objects.create(
            community=world.a, source="shift", activity_kind="quota", kind=ServiceKind.VOLUNTEER, unit_quota=True
        )


def test_entered_more_than_ten_working_days_late_is_flagged(personas, world):
    # 2026-06-01 (Mon) → 2026-06-15 (Mon): 10 working days after it, so not late.
    on_time = _record(personas.member, world.a, source_id=1, service_date=dt.date(2026, 6, 1))
    late = _record(personas.member, world.a, source_id=2, service_date=dt.date(2026, 5, 29))
    assert (on_time.late, late.late) == (False, True)


def test_the_callers_calendar_counts_holidays(personas, world):
    # With 2026-06-02 a holiday, 2026-05-29 → 2026-06-15 is 10 working days: on time.
    cal = workcal.Calendar(holidays=frozenset({dt.date(2026, 6, 2)}))
    record = _record(personas.member, world.a, source_id=1, service_date=dt.date(2026, 5, 29), calendar=cal)
    assert record.late is False


def test_crossing_a_star_threshold_writes_a_star_event_and_notifies(
    personas, world, django_capture_on_commit_callbacks
):
    CreditSettings.objects.create(town=world.town, star_thresholds=[3, 6, 9, 12, 15])
    first = _record(personas.member, world.a, source_id=1, hours="2.0")
    assert not StarEvent.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        second = _record(personas.member, world.a, source_id=2, hours="1.5")
    event = StarEvent.objects.get()
    assert (event.from_level, event.to_level, event.hours, event.record) == (0, 1, Decimal("3.5"), second)
    assert Notification.objects.filter(user=personas.member_user, title__contains="1星").count() == 1
    # Registration service does not count towards volunteer stars.
    _record(personas.member, world.a, source_type="order", source_id=3, hours="10.0")
    assert StarEvent.objects.count() == 1
    assert first.kind == "volunteer"
