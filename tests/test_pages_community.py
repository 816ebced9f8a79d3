"""The community page: grids with sizing flags, party tree, paired units; scoped per role."""

import pytest

from linli import testing as t
from linli.accounts.models import Role
from linli.orgs.models import Building, Household, Pairing, PartyOrg
from linli.people.models import PartyPosition
from tests.conftest import login


def _page(user, community):
    return login(user).get(f"/communities/{community.pk}/")


def test_staff_sees_their_community_grids_and_counts(world, personas):
    response = _page(personas.staff_a, world.a)
    assert response.status_code == 200
    html = response.content.decode()
    assert "幸福社区" in html and "D镇" in html
    assert "幸福一网格" in html and "幸福二网格" in html
    assert "和平一网格" not in html
    assert f'href="/grids/{world.a1.pk}/"' in html
    assert "网格员" in html and personas.grid_worker.name in html
    assert f'href="/communities/{world.a.pk}/registrations/"' in html  # staff get the queue


def test_staff_of_b_gets_404_on_a(world, personas):
    assert _page(personas.staff_b, world.a).status_code == 404
    assert _page(personas.staff_a, world.b).status_code == 404


def test_grid_worker_sees_only_their_grids(world, personas):
    response = _page(personas.grid_worker, world.a)
    assert response.status_code == 200
    html = response.content.decode()
    assert "幸福一网格" in html
    assert "幸福二网格" not in html
    assert "和平一网格" not in html
    assert "/registrations/" not in html  # not staff: no queue link
    assert _page(personas.grid_worker, world.b).status_code == 404


def test_town_admin_sees_every_community_of_the_town(world, personas):
    assert _page(personas.town_admin, world.a).status_code == 200
    html = _page(personas.town_admin, world.b).content.decode()
    assert "和平一网格" in html


@pytest.mark.parametrize("persona", ["resident_user", "dept", "property", "unit_admin"])
def test_others_get_404(world, personas, persona):
    assert _page(getattr(personas, persona), world.a).status_code == 404


def test_member_sees_the_community_they_registered_with_but_no_grids(world, personas):
    html = _page(personas.member_user, world.a).content.decode()
    assert "幸福社区" in html
    assert "幸福一网格" not in html
    assert _page(personas.member_user, world.b).status_code == 404


def test_sizing_flag_for_an_oversized_grid(world, personas):
    html = _page(personas.staff_a, world.a).content.decode()
    # A1: one worker, one household → meets the rule; A2: a household and no worker → flagged.
    a1_row = html.split('data-grid="CA01"')[1].split("</tr>")[0]
    a2_row = html.split('data-grid="CA02"')[1].split("</tr>")[0]
    assert "达标" in a1_row
    assert "缺 1 名网格员" in a2_row and "超出 1 户" in a2_row
    # 401 more households in A1 (rule: 400 per worker) → one worker short, 2 households over.
    building = Building.objects.create(grid=world.a1, name="大楼", address="幸福路100号")
    Household.objects.bulk_create(
        Household(building=building, entrance="1单元", door=str(i), address=f"幸福路100号{i}室") for i in range(401)
    )
    html = _page(personas.staff_a, world.a).content.decode()
    a1_row = html.split('data-grid="CA01"')[1].split("</tr>")[0]
    assert "row-bad" in html.split('data-grid="CA01"')[0].rsplit("<tr", 1)[1]
    assert "缺 1 名网格员" in a1_row
    assert "超出 2 户" in a1_row
    assert "402" in a1_row


def test_sizing_counts_people_and_distinct_workers(world, personas):
    world.town.people_per_grid_worker = 2
    world.town.save()
    for _ in range(4):
        t.make_resident(world.hh_a1)
    # A second worker on A1: workers are counted as distinct users.
    t.make_user("grid_a1_b", roles=[(Role.GRID_WORKER, world.a1)], name="第二网格员")
    html = _page(personas.staff_a, world.a).content.decode()
    a1_row = html.split('data-grid="CA01"')[1].split("</tr>")[0]
    # 5 residents (persona + 4), 2 workers × 2 people = capacity 4 → 1 person over, 1 worker short.
    assert "超出 1 人" in a1_row
    assert "缺 1 名网格员" in a1_row
    assert "第二网格员" in a1_row


def test_party_tree_pairings_and_registration_counts(world, personas):
    committee = PartyOrg.objects.create(community=world.a, kind="committee", name="幸福社区党委")
    branch = PartyOrg.objects.create(community=world.a, kind="branch", parent=committee, name="一支部", grid=world.a1)
    other = PartyOrg.objects.create(community=world.a, kind="branch", parent=committee, name="二支部", grid=world.a2)
    PartyPosition.objects.create(party_org=committee, title="secretary", member=personas.member)
    PartyPosition.objects.create(party_org=branch, title="secretary", resident=personas.resident)
    PartyPosition.objects.create(
        party_org=other, title="secretary", resident=t.make_resident(world.hh_a2, name="乙书记")
    )
    Pairing.objects.create(unit=world.unit, community=world.a)
    html = _page(personas.staff_a, world.a).content.decode()
    assert "幸福社区党委" in html and "书记：党员甲" in html
    assert "一支部" in html and "书记：居民甲" in html
    assert "二支部" in html
    assert "区财政局" in html
    assert '<span class="stat-n">1</span><span class="stat-l">报到党员</span>' in html
    # A grid worker sees the committee and their own grid's branch only.
    html = _page(personas.grid_worker, world.a).content.decode()
    assert "幸福社区党委" in html and "一支部" in html
    assert "二支部" not in html and "乙书记" not in html


def _more_grids(world, n):
    for i in range(n):
        grid = t.make_grid(world.a)
        t.make_resident(t.make_household(grid))
        t.make_user(roles=[(Role.GRID_WORKER, grid)])


def test_query_count_does_not_grow_with_grids(world, personas, django_assert_max_num_queries):
    client = login(personas.staff_a)
    client.get(f"/communities/{world.a.pk}/")  # warm the session
    _more_grids(world, 3)
    with django_assert_max_num_queries(12) as few:
        assert client.get(f"/communities/{world.a.pk}/").status_code == 200
    _more_grids(world, 12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(f"/communities/{world.a.pk}/").status_code == 200
