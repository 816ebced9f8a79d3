"""Member and resident pages: scope (404 outside it) and masking by role."""

import pytest

from linli import testing as t
from linli.accounts.models import AuditEntry
from tests.conftest import login


def _get(user, url):
    return login(user).get(url)


# --- residents --------------------------------------------------------------------------------


def test_staff_sees_resident_masked_with_care_tags_and_the_view_is_audited(world, personas):
    r = personas.resident
    response = _get(personas.staff_a, f"/residents/{r.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert r.id_number_masked in html and r.id_number not in html
    assert r.phone_masked in html and r.phone not in html
    assert "独居老人" in html
    entry = AuditEntry.objects.get(action=AuditEntry.Action.PII_VIEW, actor=personas.staff_a)
    assert entry.object_id == str(r.pk)
    assert r.id_number not in str(entry.detail)


def test_grid_worker_sees_residents_of_their_grid_only(world, personas):
    assert _get(personas.grid_worker, f"/residents/{personas.resident.pk}/").status_code == 200
    other = t.make_resident(world.hh_a2)
    assert _get(personas.grid_worker, f"/residents/{other.pk}/").status_code == 404
    assert _get(personas.grid_worker, f"/residents/{personas.resident_b.pk}/").status_code == 404


def test_staff_of_b_gets_404_on_a_residents(world, personas):
    assert _get(personas.staff_b, f"/residents/{personas.resident.pk}/").status_code == 404
    assert _get(personas.staff_b, f"/residents/{personas.resident_b.pk}/").status_code == 200


def test_member_cannot_open_any_resident(world, personas):
    for resident in (personas.resident, personas.resident_b):
        assert _get(personas.member_user, f"/residents/{resident.pk}/").status_code == 404


@pytest.mark.parametrize("persona", ["unit_admin", "dept", "property"])
def test_other_roles_cannot_open_residents(world, personas, persona):
    assert _get(getattr(personas, persona), f"/residents/{personas.resident.pk}/").status_code == 404


def test_resident_sees_themself_without_care_tags_and_nobody_else(world, personas):
    r = personas.resident
    html = _get(personas.resident_user, f"/residents/{r.pk}/").content.decode()
    assert r.id_number_masked in html and r.id_number not in html
    assert "独居老人" not in html
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.PII_VIEW).exists()  # own page
    assert _get(personas.resident_user, f"/residents/{personas.resident_b.pk}/").status_code == 404


# --- members ----------------------------------------------------------------------------------


def test_member_sees_own_page_with_own_masked_id_only(world, personas):
    m = personas.member
    response = _get(personas.member_user, f"/members/{m.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert m.id_number_masked in html
    assert m.id_number not in html
    assert m.phone not in html
    assert "水电维修" in html
    assert "幸福社区" in html  # their registration
    # No resident's ID number anywhere on their pages.
    for page in ("/", f"/members/{m.pk}/"):
        html = _get(personas.member_user, page).content.decode()
        for resident in (personas.resident, personas.resident_b):
            assert resident.id_number_masked not in html
            assert resident.id_number not in html


def test_member_cannot_open_another_member(world, personas):
    assert _get(personas.member_user, f"/members/{personas.member_b.pk}/").status_code == 404


def test_staff_see_members_registered_with_their_community_only(world, personas):
    m, mb = personas.member, personas.member_b
    html = _get(personas.staff_a, f"/members/{m.pk}/").content.decode()
    assert m.id_number_masked in html and m.id_number not in html
    assert _get(personas.staff_a, f"/members/{mb.pk}/").status_code == 404
    assert _get(personas.staff_b, f"/members/{m.pk}/").status_code == 404
    assert _get(personas.staff_b, f"/members/{mb.pk}/").status_code == 200


def test_unit_admin_sees_their_units_members(world, personas):
    assert _get(personas.unit_admin, f"/members/{personas.member.pk}/").status_code == 200
    assert _get(personas.unit_admin, f"/members/{personas.member_b.pk}/").status_code == 404
    html = _get(personas.unit_admin, "/").content.decode()
    assert personas.member.name in html
    assert f'href="/members/{personas.member.pk}/"' in html
    assert personas.member_b.name not in html


@pytest.mark.parametrize("persona", ["resident_user", "dept", "property"])
def test_other_roles_cannot_open_members(world, personas, persona):
    assert _get(getattr(personas, persona), f"/members/{personas.member.pk}/").status_code == 404
