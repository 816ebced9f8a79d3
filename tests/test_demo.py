"""The demo town (`manage.py demo`) and its accounts (`manage.py demo_accounts`)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, Q

from linli.accounts.models import Role, RoleAssignment, User
from linli.demo.digest import town_digest
from linli.demo.town import DEMO_PASSWORD, DEMO_USERNAMES, TownBuilder
from linli.lib import crypto, idcard
from linli.orgs.models import Community, Estate, Grid, GridSizing, Household, Pairing, PartyOrg, Town
from linli.people.models import Member, PartyPosition, Registration, RegistrationEvent, Resident

SCALE = 0.01


def build(**options):
    out = StringIO()
    call_command("demo", scale=SCALE, verbosity=options.pop("verbosity", 0), stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def demo(db):
    build()
    return Town.objects.get()


def role(username, role):
    return RoleAssignment.objects.select_related("town", "community", "grid", "unit", "department", "company").get(
        user__username=username, role=role
    )


@pytest.mark.django_db(transaction=True)
def test_same_seed_and_scale_build_the_same_town_and_another_seed_does_not(monkeypatch):
    build()
    first = town_digest(Town.objects.get())
    call_command("flush", interactive=False, verbosity=0)
    # The second build also takes the ORM's bulk_create path instead of the SQLite fast path.
    monkeypatch.setattr(TownBuilder, "fast_sqlite", False)
    build()
    assert town_digest(Town.objects.get()) == first
    call_command("flush", interactive=False, verbosity=0)
    build(seed=7)
    assert town_digest(Town.objects.get()) != first


def test_town_has_the_shape_of_d_town(demo):
    communities = Community.objects.filter(town=demo)
    assert communities.count() == 10
    assert {c.kind for c in communities} == {Community.Kind.URBAN, Community.Kind.RURAL}
    assert Household.objects.count() == round(39_500 * SCALE)
    assert 2.2 <= Resident.objects.count() / Household.objects.count() <= 2.9
    assert not Estate.objects.filter(community__kind=Community.Kind.RURAL).exists()
    assert Estate.objects.filter(community__kind=Community.Kind.URBAN, company__isnull=False).exists()
    urban = Household.objects.filter(building__estate__isnull=False).first()
    assert urban.address.startswith("黄石市西塞山区D镇") and urban.address.endswith("室") and "单元" in urban.address
    village = Household.objects.filter(building__grid__community__kind=Community.Kind.RURAL).first()
    assert village.address.endswith("号") and "组 " in village.address
    # Care tags on a minority; some residents are party members; members have skills.
    residents = list(Resident.objects.all())
    tagged = sum(bool(r.tags) for r in residents)
    assert 0 < tagged < len(residents) / 3
    assert 0 < sum(r.is_party_member for r in residents) < len(residents) / 5
    assert Member.objects.filter(is_party_member=False, unit__isnull=True).exists()
    assert not Member.objects.annotate(n=Count("skills")).filter(n=0).exists()
    assert all(1 <= m.load_cap <= 3 and m.availability for m in Member.objects.all())


def test_personal_data_is_valid_and_stored_encrypted(demo):
    seen = set()
    for resident in Resident.objects.all():
        assert idcard.is_valid(resident.id_number), resident.id_number
        assert idcard.gender(resident.id_number) == resident.gender
        assert idcard.birth_date(resident.id_number) == resident.birth_date
        assert resident.id_number[:6] in {"420202", "420203", "420204", "420205", "420222", "420281"}
        assert resident.id_hash == crypto.lookup_hash(resident.id_number)
        assert not resident.phone or (len(resident.phone) == 11 and resident.phone[:2] in {f"1{d}" for d in "3456789"})
        seen.add(resident.id_number)
    for member in Member.objects.all():
        assert idcard.is_valid(member.id_number)
        assert member.id_hash == crypto.lookup_hash(f"resident_id:{member.id_number}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, tags FROM people_resident LIMIT 5")
        for id_number, tags in cursor.fetchall():
            assert id_number.startswith("v1:") and id_number not in seen
            assert tags.startswith("v1:")


def test_grids_are_sized_by_the_rule_and_some_break_it(demo):
    grids = Grid.objects.filter(community__town=demo).annotate(
        n_households=Count("buildings__households", distinct=True),
        n_people=Count("buildings__households__residents"),
        n_workers=Count("roleassignment", filter=Q(roleassignment__role=Role.GRID_WORKER), distinct=True),
    )
    sizing = [GridSizing(grid, demo) for grid in grids]
    assert any(s.breaks_rule for s in sizing)
    assert sum(s.workers > 0 for s in sizing) >= len(sizing) - 2
    assert User.objects.filter(username__startswith="grid-").exists()


def test_demo_accounts_have_their_roles_and_scopes(demo):
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    assert set(users) == set(DEMO_USERNAMES)
    assert len({u.password for u in users.values()}) == 1
    assert users["demo-town"].check_password(DEMO_PASSWORD)

    assert role("demo-town", Role.TOWN_ADMIN).town == demo
    staff = role("demo-staff", Role.COMMUNITY_STAFF).community
    staff2 = role("demo-staff2", Role.COMMUNITY_STAFF).community
    assert staff != staff2 and staff.town == staff2.town == demo

    grid = role("demo-grid", Role.GRID_WORKER).grid
    assert grid.community == staff

    resident = Resident.objects.select_related("household__building").get(user=users["demo-resident"])
    assert resident.household.building.grid == grid
    role("demo-resident", Role.RESIDENT)

    member = Member.objects.get(user=users["demo-member"])
    role("demo-member", Role.MEMBER)
    assert member.registrations.filter(community=staff, status=Registration.Status.APPROVED).exists()
    assert member.unit is not None and member.consent_report_at is not None
    assert role("demo-unit", Role.UNIT_ADMIN).unit == member.unit
    assert Pairing.objects.filter(unit=member.unit, community=staff).exists()

    assert role("demo-dept", Role.DEPARTMENT_STAFF).department.town == demo
    company = role("demo-property", Role.PROPERTY_STAFF).company
    assert Estate.objects.filter(company=company, community=staff).exists()

    # The scopes the accounts get see what the demo is meant to show.
    assert Member.objects.visible_to(users["demo-staff"]).filter(pk=member.pk).exists()
    assert not Member.objects.visible_to(users["demo-staff2"]).filter(pk=member.pk).exists()
    assert Resident.objects.visible_to(users["demo-grid"]).filter(pk=resident.pk).exists()
    assert Member.objects.visible_to(users["demo-unit"]).filter(pk=member.pk).exists()


def test_registrations_carry_the_events_the_actions_write(demo):
    for reg in Registration.objects.prefetch_related("events"):
        path = [(e.from_status, e.to_status) for e in reg.events.all()]
        if reg.status == Registration.Status.REQUESTED:
            assert path == [("", "requested")]
        else:
            assert path == [("", "requested"), ("requested", reg.status)]
            assert reg.decided_at >= reg.requested_at
    assert RegistrationEvent.objects.count() > Registration.objects.count()
    for unit_reg in Registration.objects.filter(unit__isnull=False):
        assert unit_reg.status == Registration.Status.APPROVED
        assert Pairing.objects.filter(unit=unit_reg.unit, community=unit_reg.community).exists()
    # Most members came through a unit and are approved with the unit's paired community.
    unit_members = Member.objects.filter(unit__isnull=False)
    assert unit_members.count() > Member.objects.count() / 2
    for member in unit_members:
        assert member.registrations.filter(community__pairings__unit=member.unit).exists()


def test_party_tree_runs_beside_the_grids(demo):
    committees = PartyOrg.objects.filter(kind=PartyOrg.Kind.COMMITTEE)
    assert committees.count() == 10
    branches = PartyOrg.objects.filter(kind=PartyOrg.Kind.BRANCH).select_related("parent", "grid")
    assert branches.count() == Grid.objects.count()
    assert all(
        b.parent.kind == PartyOrg.Kind.COMMITTEE and b.parent.community_id == b.grid.community_id for b in branches
    )
    for group in PartyOrg.objects.filter(kind=PartyOrg.Kind.GROUP).select_related("parent", "building"):
        assert group.parent.kind == PartyOrg.Kind.BRANCH and group.building.grid_id == group.parent.grid_id
    titles = set(PartyPosition.objects.values_list("title", flat=True))
    assert {PartyPosition.Title.SECRETARY, PartyPosition.Title.COMMITTEE_MEMBER} <= titles


def test_if_empty_does_nothing_the_second_time_and_a_plain_rerun_refuses(demo):
    before = (Household.objects.count(), Resident.objects.count(), User.objects.count())
    assert "跳过" in build(if_empty=True, verbosity=1)
    assert (Household.objects.count(), Resident.objects.count(), User.objects.count()) == before
    with pytest.raises(CommandError, match="已有街道/镇"):
        build()
    with pytest.raises(CommandError, match="演示镇"):
        build(force=True)


def test_force_builds_beside_another_town(db):
    Town.objects.create(code="T-OTHER", name="另一个镇")
    build(force=True)
    assert Town.objects.count() == 2


def test_demo_accounts_command_lists_the_accounts(demo):
    out = StringIO()
    call_command("demo_accounts", stdout=out)
    text = out.getvalue()
    for username in DEMO_USERNAMES:
        assert username in text
    assert DEMO_PASSWORD in text and "幸福社区" in text


def test_demo_accounts_command_without_demo_data_prints_a_notice(db):
    out = StringIO()
    call_command("demo_accounts", stdout=out)
    assert "没有演示账号" in out.getvalue()


def test_orders_replay_and_their_ledger_is_what_the_actions_write(demo):
    """Every order's transition events chain from "" to its status through TRANSITIONS, and
    crediting every closed order with the real action adds no ledger row the demo lacks."""
    from linli.credits.actions import credit_closed_order
    from linli.credits.models import PointEntry, ServiceRecord
    from linli.orders.models import TRANSITIONS, Order, OrderEvent

    chains = {}
    for e in (
        OrderEvent.objects.exclude(to_status="").order_by("at", "id").values("order_id", "from_status", "to_status")
    ):
        chains.setdefault(e["order_id"], []).append(e)
    orders = list(Order.objects.select_related("community", "category"))
    assert len(orders) > 20 and {o.status for o in orders} >= {"closed", "submitted", "dispatched"}
    for order in orders:
        status = ""
        for e in chains[order.pk]:
            assert e["from_status"] == status and (not status or e["to_status"] in TRANSITIONS[status])
            status = e["to_status"]
        assert status == order.status
    before = (ServiceRecord.objects.count(), PointEntry.objects.count())
    assert before[0] > 0 and before[1] > 0
    for order in orders:
        if order.status == "closed":
            credit_closed_order(order)
    assert (ServiceRecord.objects.count(), PointEntry.objects.count()) == before
