"""The grid page: buildings, households with resident counts, masked residents; scoped per role."""

import pytest

from linli import testing as t
from tests.conftest import login


def _page(user, grid):
    return login(user).get(f"/grids/{grid.pk}/")


def test_staff_sees_buildings_households_and_masked_residents(world, personas):
    response = _page(personas.staff_a, world.a1)
    assert response.status_code == 200
    html = response.content.decode()
    resident = personas.resident
    assert world.hh_a1.building.name in html
    assert "1 人" in html  # resident count of the household
    assert resident.name in html
    assert resident.phone_masked in html and resident.phone not in html
    assert resident.id_number_masked in html and resident.id_number not in html
    assert resident.id_number_masked.startswith(resident.id_number[:6])
    assert resident.id_number_masked.endswith(resident.id_number[-4:])
    assert "独居老人" in html  # care tags for staff


def test_grid_worker_sees_their_grid_with_care_tags_and_nothing_else(world, personas):
    html = _page(personas.grid_worker, world.a1).content.decode()
    assert "独居老人" in html
    assert _page(personas.grid_worker, world.a2).status_code == 404
    assert _page(personas.grid_worker, world.b1).status_code == 404


def test_town_admin_sees_every_grid(world, personas):
    assert _page(personas.town_admin, world.b1).status_code == 200


def test_staff_of_b_gets_404_on_a_grids(world, personas):
    assert _page(personas.staff_b, world.a1).status_code == 404
    assert _page(personas.staff_b, world.a2).status_code == 404
    assert _page(personas.staff_b, world.b1).status_code == 200


@pytest.mark.parametrize("persona", ["member_user", "resident_user", "unit_admin", "dept", "property"])
def test_non_staff_get_404(world, personas, persona):
    assert _page(getattr(personas, persona), world.a1).status_code == 404


def test_moved_out_residents_are_not_listed(world, personas):
    from linli.people.models import Resident

    gone = t.make_resident(world.hh_a1, name="已迁出者")
    Resident.objects.filter(pk=gone.pk).update(moved_out=True)  # arrange only
    assert "已迁出者" not in _page(personas.staff_a, world.a1).content.decode()


def test_query_count_does_not_grow_with_residents(world, personas, django_assert_max_num_queries):
    client = login(personas.staff_a)
    client.get(f"/grids/{world.a1.pk}/")
    for _ in range(3):
        household = t.make_household(world.a1)
        t.make_resident(household, tags=["dibao"])
    with django_assert_max_num_queries(13) as few:
        assert client.get(f"/grids/{world.a1.pk}/").status_code == 200
    for _ in range(10):
        household = t.make_household(world.a1)
        t.make_resident(household)
        t.make_resident(household)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(f"/grids/{world.a1.pk}/").status_code == 200
