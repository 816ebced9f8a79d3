"""The home, community and grid pages link to the matching dashboard, and only for those who may see it."""

from tests.conftest import login


def _get(user, url):
    response = login(user).get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_home_links_each_role_to_its_dashboard(world, personas):
    p, w = personas, world
    town = _get(p.town_admin, "/")
    assert f'href="/towns/{w.town.pk}/dashboard/"' in town
    assert f'href="/towns/{w.town.pk}/departments/"' in town
    staff = _get(p.staff_a, "/")
    assert f'href="/communities/{w.a.pk}/dashboard/"' in staff
    assert "/towns/" not in staff and f"/communities/{w.b.pk}/dashboard/" not in staff
    worker = _get(p.grid_worker, "/")
    assert f'href="/grids/{w.a1.pk}/dashboard/"' in worker
    assert 'data-dashboard="community"' not in worker and 'data-dashboard="town"' not in worker
    assert "data-dashboard=" not in _get(p.resident_user, "/")


def test_community_and_grid_pages_link_to_their_dashboards(world, personas):
    p, w = personas, world
    assert f'href="/communities/{w.a.pk}/dashboard/"' in _get(p.staff_a, f"/communities/{w.a.pk}/")
    assert f'href="/communities/{w.a.pk}/dashboard/"' in _get(p.town_admin, f"/communities/{w.a.pk}/")
    assert f'href="/grids/{w.a1.pk}/dashboard/"' in _get(p.grid_worker, f"/grids/{w.a1.pk}/")
    assert f'href="/grids/{w.a1.pk}/dashboard/"' in _get(p.staff_a, f"/grids/{w.a1.pk}/")
    # Every link leads to a page the user may open.
    for user, url in (
        (p.town_admin, f"/towns/{w.town.pk}/dashboard/"),
        (p.staff_a, f"/communities/{w.a.pk}/dashboard/"),
        (p.grid_worker, f"/grids/{w.a1.pk}/dashboard/"),
    ):
        assert login(user).get(url).status_code == 200
