from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli import testing as t
from linli.orgs.models import Community


def test_residents_and_members_of_other_communities_see_no_community_pages(personas, world):
    assert list(Community.objects.visible_to(personas.resident_user)) == []
    assert list(Community.objects.visible_to(personas.member_user)) == [world.a]


def test_scope_query_has_no_row_multiplying_join(personas, world):
    for _ in range(5):
        t.make_household(world.a1)
    with CaptureQueriesContext(connection) as ctx:
        rows = list(Community.objects.visible_to(personas.town_admin))
    assert len(rows) == len(set(rows)) == 2
    sql = ctx.captured_queries[-1]["sql"].upper()
    assert "DISTINCT" not in sql and "JOIN" not in sql.split("WHERE")[0]


def test_staff_of_b_see_only_b(personas, world):
    assert list(Community.objects.visible_to(personas.staff_b)) == [world.b]
    assert set(Community.objects.visible_to(personas.town_admin)) == {world.a, world.b}
