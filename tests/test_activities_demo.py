"""The demo step: a year of activities whose rows obey the same rules as the actions."""

import itertools
from collections import Counter, defaultdict

import pytest
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from linli.accounts.models import User
from linli.activities import actions, qrcodes
from linli.activities.models import Activity, ActivityEvent, Shift, SignUp
from linli.credits.models import PointEntry, ServiceKind, ServiceRecord
from linli.demo.town import TownBuilder
from linli.people.models import MemberSkill, Registration

A, U = Activity.Status, SignUp.Status


@pytest.fixture
def town(db):
    builder = TownBuilder(scale=0.05, now=timezone.now())
    with transaction.atomic():
        for _label, step in builder.steps():  # the activities step is one of them
            step()
    return builder


def test_a_year_of_activities_in_every_state(town):
    assert Activity.objects.count() >= 20
    statuses = set(Activity.objects.values_list("status", flat=True))
    assert {A.PUBLISHED, A.DRAFT} <= statuses
    signup_statuses = Counter(SignUp.objects.values_list("status", flat=True))
    assert all(signup_statuses[s] for s in (U.SIGNED_UP, U.COMPLETED, U.NO_SHOW, U.CANCELLED, U.CHECKED_IN))
    assert signup_statuses[U.COMPLETED] > signup_statuses[U.NO_SHOW]
    now = timezone.now()
    assert Shift.objects.filter(starts_at__lt=now, ends_at__gt=now, activity__community=town.demo_community).exists()
    assert SignUp.objects.filter(member=town.demo_member, shift__starts_at__gt=now, status=U.SIGNED_UP).exists()


def test_seats_capacity_overlaps_skills_and_registrations_hold(town):
    live = ~Q(signups__status=U.CANCELLED) & Q(signups__isnull=False)
    for shift in Shift.objects.annotate(n=Count("signups", filter=live)):
        assert shift.seats_taken == shift.n <= shift.capacity
    by_member = defaultdict(list)
    rows = SignUp.objects.exclude(status=U.CANCELLED).select_related("shift__activity")
    for s in rows:
        by_member[s.member_id].append(s.shift)
    for shifts in by_member.values():
        shifts.sort(key=lambda x: x.starts_at)
        for a, b in itertools.pairwise(shifts):
            assert a.ends_at <= b.starts_at, (a, b)
    skills = set(MemberSkill.objects.values_list("member_id", "skill_id"))
    approved = set(Registration.objects.filter(status="approved").values_list("member_id", "community_id"))
    for s in SignUp.objects.select_related("shift__activity"):
        a = s.shift.activity
        assert a.status != A.DRAFT
        assert (s.member_id, a.community_id) in approved
        assert not a.required_skill_id or (s.member_id, a.required_skill_id) in skills
        assert a.signup_opens_at <= s.signed_up_at <= a.signup_closes_at
        assert s.signed_up_at <= s.shift.starts_at


def test_histories_replay_and_ledgers_match(town):
    events = defaultdict(list)
    for e in ActivityEvent.objects.filter(signup__isnull=False).order_by("at", "id"):
        events[e.signup_id].append(e)
    records = {r.source_id: r for r in ServiceRecord.objects.filter(source_type="shift")}
    points = defaultdict(list)
    for p in PointEntry.objects.filter(source_type="shift").select_related("rule"):
        points[p.source_id].append(p)
    for s in SignUp.objects.select_related("shift__activity"):
        status = ""
        for e in events[s.pk]:
            assert e.from_status == status, (s, e)
            status = e.to_status
        assert status == s.status
        if s.status == U.COMPLETED:
            record = records[s.pk]
            assert record.hours == s.hours <= s.shift.length_hours and record.member_id == s.member_id
            assert record.kind == (ServiceKind.REGISTRATION if s.shift.activity.unit_quota else ServiceKind.VOLUNTEER)
            assert [p.rule.code for p in points[s.pk]] == ["service_hours"]
        elif s.status == U.NO_SHOW:
            assert s.pk not in records
            assert [(p.rule.code, p.points < 0) for p in points[s.pk]] == [("no_show", True)]
        else:
            assert s.pk not in records and not points[s.pk]
    for a in Activity.objects.all():
        path = list(
            ActivityEvent.objects.filter(activity=a, signup__isnull=True, to_status__gt="").values_list(
                "from_status", "to_status"
            )
        )
        assert path[-1][1] == a.status and path[0] == ("", A.DRAFT)


def test_demo_member_can_sign_in_to_the_live_shift(town):
    now = timezone.now()
    shift = Shift.objects.get(starts_at__lt=now, ends_at__gt=now, activity__community=town.demo_community)
    user = User.objects.get(username="demo-member")
    result = actions.scan_shift_code(qrcodes.make_token(shift.pk), actor=user)
    assert result.action == "checked_in"
