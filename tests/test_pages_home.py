"""The home page shows one section per role the user holds, and nothing invented."""

import pytest

from linli import testing as t
from linli.accounts.models import Notification, Role
from tests.conftest import login


def _home(user):
    response = login(user).get("/")
    assert response.status_code == 200
    return response.content.decode()


def _sections(html):
    return {part.split('"', 1)[0] for part in html.split('data-role="')[1:]}


def test_town_admin_sees_all_communities_of_the_town(world, personas):
    other_town = t.make_community(name="别镇社区")
    html = _home(personas.town_admin)
    assert _sections(html) == {"town_admin"}
    assert f'href="/communities/{world.a.pk}/"' in html
    assert f'href="/communities/{world.b.pk}/"' in html
    assert other_town.name not in html


def test_community_staff_sees_their_community_and_pending_count(world, personas):
    t.make_member(name="申请人")
    from linli.people.actions import request_registration

    request_registration(t.make_member(name="申请人二"), community=world.a, actor=None)
    html = _home(personas.staff_a)
    assert _sections(html) == {"community_staff"}
    assert f'href="/communities/{world.a.pk}/"' in html
    assert f'href="/communities/{world.a.pk}/registrations/"' in html
    assert "报到待审核 1" in html
    assert "和平村" not in html


def test_grid_worker_sees_their_grids(world, personas):
    html = _home(personas.grid_worker)
    assert _sections(html) == {"grid_worker"}
    assert f'href="/grids/{world.a1.pk}/"' in html
    assert "幸福二网格" not in html


def test_member_sees_profile_registrations_notifications_and_request_form(world, personas):
    Notification.objects.create(user=personas.member_user, title="您向幸福社区的报到已通过", dedupe_key="t:1")
    html = _home(personas.member_user)
    assert _sections(html) == {"member"}
    assert f'href="/members/{personas.member.pk}/"' in html
    assert "已通过" in html
    assert "报到已通过" in html  # the unread notification
    # The request form offers the town's other community, not the one already registered with.
    form = html.split('action="/registrations/request/"')[1].split("</form>")[0]
    assert f'value="{world.b.pk}"' in form
    assert f'value="{world.a.pk}"' not in form


def test_unit_admin_sees_unit_members(world, personas):
    html = _home(personas.unit_admin)
    assert _sections(html) == {"unit_admin"}
    assert personas.member.name in html


@pytest.mark.parametrize("persona", ["dept", "property"])
def test_department_and_property_get_a_plain_placeholder(world, personas, persona):
    html = _home(getattr(personas, persona))
    assert "暂无待办" in html
    assert len(_sections(html)) == 1


def test_resident_sees_household_and_profile(world, personas):
    html = _home(personas.resident_user)
    assert _sections(html) == {"resident"}
    assert world.hh_a1.address in html
    assert f'href="/residents/{personas.resident.pk}/"' in html


def test_several_roles_show_several_sections(world, personas):
    user = t.make_user(roles=[(Role.COMMUNITY_STAFF, world.a), (Role.GRID_WORKER, world.b1)])
    t.make_member(user=user, home_community=world.a)
    assert _sections(_home(user)) == {"community_staff", "grid_worker", "member"}


def test_user_without_roles_is_told_so(db):
    html = _home(t.make_user())
    assert "尚未分配角色" in html
