"""Ledgers over JSON: service records (kind filter), points, the year's standing and stars, star
changes, correction requests; a member sees only their own, staff their communities' members."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from linli import testing as t
from linli.api.testing import api_client
from linli.credits import actions
from linli.credits.models import CorrectionRequest
from tests.conftest import login

NOT_FOUND = {"code": "not_found", "message": "对象不存在，或您无权查看"}


def _record(member, community, *, source_id, hours="2.0", day=None, source_type="shift", kind_name="义务理发"):
    record = actions.record_service(
        member,
        hours=hours,
        source_type=source_type,
        source_id=source_id,
        community=community,
        service_date=day or timezone.localdate(),
        activity_name=kind_name,
        place="活动室",
        content="为老人理发",
        organizer=community.name,
        leader="王主任",
    )
    actions.award_points(
        member,
        rule="service_hours",
        source_type=source_type,
        source_id=source_id,
        hours=hours,
        town=community.town,
        when=record.service_date,
    )
    return record


@pytest.fixture
def ledgers(world, personas):
    """Member 甲: a volunteer shift and an order (registration service) this year, one last year.
    Member 乙 (community B): one record that nobody of A may see."""
    m = personas.member
    this_year = timezone.localdate()
    return {
        "shift": _record(m, world.a, source_id=1, hours="2.0", day=this_year),
        "order": _record(m, world.a, source_id=2, hours="1.5", day=this_year, source_type="order", kind_name="修水管"),
        "old": _record(m, world.a, source_id=3, hours="3.0", day=dt.date(this_year.year - 1, 6, 1)),
        "b": _record(personas.member_b, world.b, source_id=4, hours="5.0", day=this_year, kind_name="和平村秘密服务"),
    }


def test_member_reads_own_service_records_with_kind_and_year_filters(personas, ledgers):
    client = api_client(personas.member_user)
    body = client.get("/ledger/service-records").json()
    assert body["count"] == 3
    assert {r["id"] for r in body["items"]} == {ledgers["shift"].pk, ledgers["order"].pk, ledgers["old"].pk}
    shift = next(r for r in body["items"] if r["id"] == ledgers["shift"].pk)
    assert (shift["kind"], shift["kind_label"], shift["hours"], shift["source_type"]) == (
        "volunteer",
        "志愿服务",
        2.0,
        "shift",
    )
    assert shift["community"]["name"] == "幸福社区" and shift["has_open_correction"] is False
    volunteer = client.get("/ledger/service-records", {"kind": "volunteer"}).json()
    assert {r["id"] for r in volunteer["items"]} == {ledgers["shift"].pk, ledgers["old"].pk}
    registration = client.get("/ledger/service-records", {"kind": "registration"}).json()
    assert [r["id"] for r in registration["items"]] == [ledgers["order"].pk]
    this_year = client.get("/ledger/service-records", {"year": timezone.localdate().year}).json()
    assert this_year["count"] == 2
    assert client.get("/ledger/service-records", {"kind": "other"}).status_code == 422


def test_points_and_standing(personas, ledgers):
    client = api_client(personas.member_user)
    points = client.get("/ledger/points", {"year": timezone.localdate().year}).json()
    assert points["count"] == 2
    assert {p["rule"]["code"] for p in points["items"]} == {"service_hours"}
    assert sorted(p["hours"] for p in points["items"]) == [1.5, 2.0]
    standing = client.get("/ledger/standing").json()
    assert standing["member"] == {"id": personas.member.pk, "name": "党员甲"}
    assert standing["year"] == timezone.localdate().year
    assert (standing["hours_year"], standing["volunteer_hours_year"], standing["registration_hours_year"]) == (
        3.5,
        2.0,
        1.5,
    )
    assert standing["volunteer_hours_total"] == 5.0
    assert standing["points_year"] == sum(p["points"] for p in points["items"])
    assert standing["stars"] == 0 and standing["next_star_hours"] == 100.0
    last = client.get("/ledger/standing", {"year": timezone.localdate().year - 1}).json()
    assert last["hours_year"] == 3.0


def test_star_events_and_corrections(world, personas, ledgers):
    big = _record(personas.member, world.a, source_id=9, hours="99.0")
    client = api_client(personas.member_user)
    stars = client.get("/ledger/star-events").json()
    assert stars["count"] == 1
    assert stars["items"][0] | {"at": None} == {
        "at": None,
        "from_level": 0,
        "to_level": 1,
        "hours": 104.0,
        "record_id": big.pk,
    }
    response = client.post(
        f"/service-records/{ledgers['shift'].pk}/corrections", {"proposed_hours": 2.5, "reason": "签退时漏记"}
    )
    assert response.status_code == 201, response.content
    correction = response.json()
    assert (correction["record_id"], correction["proposed_hours"], correction["status"]) == (
        ledgers["shift"].pk,
        2.5,
        "requested",
    )
    assert correction["status_label"] == "待审核" and correction["adjustment_id"] is None
    again = client.post(f"/service-records/{ledgers['shift'].pk}/corrections", {"proposed_hours": 3, "reason": "再次"})
    assert again.status_code == 409
    same = client.post(f"/service-records/{ledgers['order'].pk}/corrections", {"proposed_hours": 1.5, "reason": "x"})
    assert same.status_code == 400 and same.json()["code"] == "proposed_hours"
    listed = client.get("/ledger/corrections").json()
    assert [c["id"] for c in listed["items"]] == [correction["id"]]
    records = client.get("/ledger/service-records", {"kind": "volunteer"}).json()["items"]
    assert next(r for r in records if r["id"] == ledgers["shift"].pk)["has_open_correction"] is True
    bad = client.post(f"/service-records/{ledgers['order'].pk}/corrections", {"proposed_hours": -1, "reason": ""})
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["detail"]} == {"proposed_hours", "reason"}


def test_a_member_sees_only_their_own_ledgers(world, personas, ledgers):
    client = api_client(personas.member_user)
    b = personas.member_b.pk
    for path in (
        "/ledger/service-records",
        "/ledger/points",
        "/ledger/standing",
        "/ledger/star-events",
        "/ledger/corrections",
    ):
        response = client.get(path, {"member": b})
        assert response.status_code == 404, path
        assert response.json() == NOT_FOUND
    response = client.post(f"/service-records/{ledgers['b'].pk}/corrections", {"proposed_hours": 1, "reason": "x"})
    assert response.status_code == 404
    assert not CorrectionRequest.objects.filter(record=ledgers["b"]).exists()
    # A non-member naming nobody has no ledgers.
    assert api_client(personas.resident_user).get("/ledger/standing").json() == NOT_FOUND
    assert api_client(personas.resident_user).get("/ledger/service-records").status_code == 404


def test_staff_read_their_members_ledgers_and_not_others(world, personas, ledgers):
    staff_a, staff_b = api_client(personas.staff_a), api_client(personas.staff_b)
    member = personas.member.pk
    assert staff_a.get("/ledger/service-records", {"member": member}).json()["count"] == 3
    assert staff_a.get("/ledger/standing", {"member": member}).json()["hours_year"] == 3.5
    assert staff_b.get("/ledger/service-records", {"member": member}).status_code == 404
    assert staff_b.get("/ledger/service-records", {"member": personas.member_b.pk}).json()["count"] == 1
    assert staff_a.get("/ledger/points", {"member": personas.member_b.pk}).status_code == 404
    # Staff may ask for a correction on their community's member's record; B's staff may not see it.
    response = staff_a.post(
        f"/service-records/{ledgers['order'].pk}/corrections", {"proposed_hours": 2, "reason": "核对"}
    )
    assert response.status_code == 201
    assert (
        staff_b.post(
            f"/service-records/{ledgers['shift'].pk}/corrections", {"proposed_hours": 2, "reason": "x"}
        ).status_code
        == 404
    )


def test_unit_admin_sees_a_member_s_record_only_with_consent(world, personas, ledgers):
    unit = api_client(personas.unit_admin)
    assert unit.get("/ledger/service-records", {"member": personas.member.pk}).json()["count"] == 3  # consented
    response = unit.post(f"/service-records/{ledgers['shift'].pk}/corrections", {"proposed_hours": 3, "reason": "x"})
    assert response.status_code == 403
    other = t.make_member(unit=world.unit, home_community=world.a)
    assert unit.get("/ledger/service-records", {"member": other.pk}).status_code == 404


def test_ledger_lists_are_paginated_with_a_fixed_number_of_queries(world, personas, django_assert_max_num_queries):
    for i in range(25):
        _record(personas.member, world.a, source_id=100 + i, hours="1.0")
    client = api_client(personas.member_user)
    client.get("/me")
    for path in ("/ledger/service-records", "/ledger/points", "/ledger/corrections", "/ledger/star-events"):
        # token + rate counter + scope (roles, registrations) + the member + its access check + count + page
        with django_assert_max_num_queries(9):
            response = client.get(path, {"limit": 10, "offset": 20})
        assert response.status_code == 200, path
    page = client.get("/ledger/service-records", {"limit": 10, "offset": 20}).json()
    assert page["count"] == 25 and len(page["items"]) == 5
    assert Decimal(str(client.get("/ledger/standing").json()["hours_year"])) == Decimal("25.0")


def test_a_declined_or_withdrawn_registration_gives_staff_no_view_of_the_member(world, personas):
    """Asking to register with community B shows the member to B's staff while the request is
    live; once it is declined (or withdrawn) B's staff lose the member's page and ledgers again."""
    from linli.people import actions as people_actions

    member = personas.member  # approved with A, lives in A
    staff_b = api_client(personas.staff_b)
    paths = ("/ledger/service-records", "/ledger/points", "/ledger/standing", "/ledger/star-events")
    assert all(staff_b.get(p, {"member": member.pk}).status_code == 404 for p in paths)

    reg = people_actions.request_registration(member, community=world.b, actor=personas.member_user)
    assert all(staff_b.get(p, {"member": member.pk}).status_code == 200 for p in paths)
    assert login(personas.staff_b).get(f"/members/{member.pk}/").status_code == 200

    people_actions.decline_registration(reg, actor=personas.staff_b, reason="名额已满")
    assert all(staff_b.get(p, {"member": member.pk}).status_code == 404 for p in paths)
    assert login(personas.staff_b).get(f"/members/{member.pk}/").status_code == 404

    again = people_actions.request_registration(member, community=world.b, actor=personas.member_user)
    people_actions.withdraw_registration(again, actor=personas.member_user)
    assert all(staff_b.get(p, {"member": member.pk}).status_code == 404 for p in paths)
