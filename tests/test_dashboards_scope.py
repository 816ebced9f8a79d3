"""Who sees which dashboard: a town's for its admins; a community's for its staff and town admins;
a grid's for those and its own grid workers. Everyone else gets a 404, never a 403."""

import pytest

from linli import testing as t
from linli.accounts.models import Role
from tests.conftest import login


def _urls(w):
    return {
        "town": f"/towns/{w.town.pk}/dashboard/",
        "town_xlsx": f"/towns/{w.town.pk}/dashboard/communities.xlsx",
        "league": f"/towns/{w.town.pk}/departments/",
        "a": f"/communities/{w.a.pk}/dashboard/",
        "b": f"/communities/{w.b.pk}/dashboard/",
        "a1": f"/grids/{w.a1.pk}/dashboard/",
        "a2": f"/grids/{w.a2.pk}/dashboard/",
        "b1": f"/grids/{w.b1.pk}/dashboard/",
    }


ALLOWED = {
    "town_admin": {"town", "town_xlsx", "league", "a", "b", "a1", "a2", "b1"},
    "staff_a": {"a", "a1", "a2"},
    "staff_b": {"b", "b1"},
    "grid_worker": {"a1"},
    "member_user": set(),
    "resident_user": set(),
    "unit_admin": set(),
    "dept": set(),
    "property": set(),
}


@pytest.mark.parametrize("persona", sorted(ALLOWED))
def test_each_role_sees_only_its_dashboards(world, personas, persona):
    client = login(getattr(personas, persona))
    for name, url in _urls(world).items():
        expected = 200 if name in ALLOWED[persona] else 404
        assert client.get(url).status_code == expected, (persona, name)


def test_another_towns_admin_and_anonymous(world, personas):
    other = t.make_town()
    admin = t.make_user(roles=[(Role.TOWN_ADMIN, other)])
    client = login(admin)
    for url in _urls(world).values():
        assert client.get(url).status_code == 404
    assert client.get(f"/towns/{other.pk}/dashboard/").status_code == 200
    from django.test import Client

    anonymous = Client()
    for url in _urls(world).values():
        response = anonymous.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_unknown_ids_are_404(personas):
    client = login(personas.town_admin)
    for url in ("/towns/999999/dashboard/", "/communities/999999/dashboard/", "/grids/999999/dashboard/"):
        assert client.get(url).status_code == 404


def test_grid_worker_sees_no_queue_links(world, personas):
    html = login(personas.grid_worker).get(f"/grids/{world.a1.pk}/dashboard/").content.decode()
    assert "/orders/?" not in html  # the dispatcher queue is for staff only
    assert f'href="/communities/{world.a.pk}/dashboard/' not in html
    staff = login(personas.staff_a).get(f"/grids/{world.a1.pk}/dashboard/").content.decode()
    assert f'href="/communities/{world.a.pk}/orders/?grid={world.a1.pk}' in staff
    assert f'href="/communities/{world.a.pk}/dashboard/' in staff
    assert f'href="/towns/{world.town.pk}/dashboard/' not in staff  # staff are not town admins
