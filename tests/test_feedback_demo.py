"""The demo step build_feedback: a quarter's unit reports made by the product's own code, and a
red/black list taken through its whole workflow with events that replay."""

import pytest
from django.db import transaction
from django.utils import timezone

from linli.accounts.models import AuditEntry, Notification
from linli.demo.town import TownBuilder
from linli.orgs.models import Unit
from linli.reports.demo import build_feedback
from linli.reports.feedback import Period
from linli.reports.models import Inspection, ListEvent, PropertyList, UnitReport


@pytest.fixture
def town(db, django_capture_on_commit_callbacks):
    builder = TownBuilder(scale=0.05, now=timezone.now())
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        steps = builder.steps()
        for _label, step in steps:
            step()
        if not any(step.__name__ == "build_feedback" for _label, step in steps):
            build_feedback(builder)  # until TownBuilder.steps() lists it
    return builder


def test_every_unit_with_members_has_last_quarters_report(town):
    quarter = Period.last_completed("quarterly", timezone.localdate())
    with_members = set(Unit.objects.filter(town=town.town, members__isnull=False).values_list("pk", flat=True))
    assert with_members
    assert set(UnitReport.objects.filter(period=quarter.code).values_list("unit", flat=True)) == with_members
    assert AuditEntry.objects.filter(action=AuditEntry.Action.REPORT_SENT).count() == len(with_members)
    report = UnitReport.objects.get(unit=town.demo_unit)
    assert report.summary["members"] == len(report.rows) > 0
    rows = [row for report_rows in UnitReport.objects.values_list("rows", flat=True) for row in report_rows]
    assert any(row["consent"] for row in rows) and any(not row["consent"] for row in rows)
    assert Notification.objects.filter(user__username="demo-unit", dedupe_key=f"unit_report:{report.pk}").exists()


def test_a_published_list_whose_events_replay(town):
    plist = PropertyList.objects.get(town=town.town)
    assert plist.status == "published" and plist.published_at <= town.now
    assert plist.notice_ends_at <= plist.published_at
    kinds = list(ListEvent.objects.filter(plist=plist, entry__isnull=True).values_list("kind", flat=True))
    assert kinds == ["proposed", "notice", "published"]
    assert Inspection.objects.filter(company__town=town.town).exists()
    assert all(
        plist.period_start <= day <= plist.period_end for day in Inspection.objects.values_list("date", flat=True)
    )
