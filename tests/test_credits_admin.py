"""Credits in the admin: rules are configuration within scope; ledgers are read-only."""

import datetime as dt

from django.contrib import admin
from django.urls import reverse

from linli.accounts.models import AuditEntry
from linli.credits import actions
from linli.credits.models import PointEntry, PointRule, ServiceKindRule, ServiceRecord
from linli.lib.admin import ReadOnlyAdmin
from tests.conftest import login


def _changelist(model):
    return reverse(f"admin:credits_{model._meta.model_name}_changelist")


def _serve(member, community, sid):
    return actions.record_service(
        member,
        hours="1.0",
        source_type="shift",
        source_id=sid,
        community=community,
        service_date=dt.date(2026, 3, 1),
        activity_name=f"{community.name}的活动",
        place="",
        content="",
        organizer=community.name,
        leader="",
    )


def test_ledgers_are_read_only():
    for model in (ServiceRecord, PointEntry):
        assert isinstance(admin.site.get_model_admin(model), ReadOnlyAdmin)


def test_the_town_admin_edits_point_rules_and_it_is_audited(personas, world):
    rule = actions.point_rule(world.town.pk, "no_show")
    client = login(personas.town_admin)
    response = client.post(
        reverse("admin:credits_pointrule_change", args=[rule.pk]),
        {"town": world.town.pk, "code": "no_show", "label": "报名未到扣分", "points": "-8.0", "active": "on"},
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.points == -8
    assert AuditEntry.objects.filter(action=AuditEntry.Action.ADMIN_CHANGE, object_type="credits.pointrule").exists()
    # Community staff may look but not change the town's rules.
    staff = login(personas.staff_a)
    assert staff.get(_changelist(PointRule)).status_code == 200
    response = staff.post(
        reverse("admin:credits_pointrule_change", args=[rule.pk]),
        {"town": world.town.pk, "code": "no_show", "label": "x", "points": "0", "active": "on"},
    )
    assert response.status_code == 403
    rule.refresh_from_db()
    assert rule.points == -8


def test_staff_configure_their_communitys_service_kinds_and_see_only_its_records(personas, world):
    _serve(personas.member, world.a, 1)
    _serve(personas.member_b, world.b, 2)
    client = login(personas.staff_a)
    response = client.post(
        reverse("admin:credits_servicekindrule_add"),
        {"community": world.a.pk, "source": "shift", "activity_kind": "duty", "kind": "registration"},
    )
    assert response.status_code == 302
    assert ServiceKindRule.objects.get().community == world.a
    page = client.get(_changelist(ServiceRecord)).text
    assert "幸福社区的活动" in page
    assert "和平村的活动" not in page
