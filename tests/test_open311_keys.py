"""Partner keys: the town admins' page, `manage.py partner_key`, and the admin.

The page lives at /open311/keys/ (linli/open311/page_urls.py). This module mounts it itself
beside the project's URLs, so the tests hold whether or not config/urls.py includes it yet.
"""

import io

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import include, path, reverse

from config.urls import urlpatterns as project_urls
from linli import testing as t
from linli.accounts.models import AuditEntry
from linli.open311 import actions
from linli.open311.models import PartnerKey, ServiceAttribute
from linli.open311.testing import call, make_partner_key
from linli.orders.models import Order
from tests.conftest import login

urlpatterns = [*project_urls, path("open311/", include("linli.open311.page_urls"))]

pytestmark = pytest.mark.urls(__name__)

KEYS = "/open311/keys/"


def post_with(raw, community=None):
    return {"api_key": raw, "service_code": "repair", "address_string": "幸福路8号"}


# --- the page -----------------------------------------------------------------------------------


def test_only_town_admins_use_the_page(personas, world):
    assert Client().get(KEYS).status_code == 302  # to the login page
    for user in (personas.staff_a, personas.grid_worker, personas.resident_user, personas.dept):
        assert login(user).get(KEYS).status_code == 403, user
    response = login(personas.town_admin).get(KEYS)
    assert response.status_code == 200
    assert "创建接入密钥" in response.content.decode()


def test_the_page_lists_the_admins_towns_keys_only(personas, world):
    mine, _ = make_partner_key(world.town, name="本镇热线")
    other = t.make_town(code="T02", name="E镇")
    make_partner_key(other, name="外镇热线")
    text = login(personas.town_admin).get(KEYS).content.decode()
    assert "本镇热线" in text and mine.prefix in text
    assert "外镇热线" not in text
    assert mine.key_hash not in text


def test_creating_a_key_shows_it_once(personas, world):
    client = login(personas.town_admin)
    response = client.post(
        KEYS, {"name": "幸福社区小程序", "town": world.town.pk, "community": world.a.pk, "rate_limit_per_minute": 30}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    key = PartnerKey.objects.get(name="幸福社区小程序")
    assert (key.town, key.community, key.rate_limit_per_minute, key.created_by) == (
        world.town,
        world.a,
        30,
        personas.town_admin,
    )
    raw = response.context["new_key"]["raw"]
    assert raw.startswith(key.prefix)
    assert raw in response.content.decode()
    assert raw not in client.get(KEYS).content.decode()  # shown once
    audit = AuditEntry.objects.get(object_type="open311.partnerkey", object_id=str(key.pk))
    assert audit.actor == personas.town_admin and audit.detail["verb"] == "open311_key_created"
    # The key works, within its community.
    t.make_category(world.town, code="repair")
    reply, body = call(Client(), "POST", "requests", "json", data=post_with(raw))
    assert reply.status_code == 200, body
    order = Order.objects.get(pk=int(body[0]["service_request_id"]))
    assert order.partner == "幸福社区小程序" and order.community == world.a


def test_the_form_refuses_another_towns_community_and_bad_limits(personas, world):
    other = t.make_community(t.make_town(code="T02"))
    client = login(personas.town_admin)
    response = client.post(
        KEYS, {"name": "x", "town": world.town.pk, "community": other.pk, "rate_limit_per_minute": 1}
    )
    assert response.status_code == 400
    assert "community" in response.context["form"].errors
    response = client.post(KEYS, {"name": "x", "town": world.town.pk, "rate_limit_per_minute": -1})
    assert response.status_code == 400
    response = client.post(KEYS, {"name": "", "town": world.town.pk, "rate_limit_per_minute": 1})
    assert response.status_code == 400
    assert not PartnerKey.objects.exists()


def test_revoking_from_the_page(personas, world):
    key, raw = make_partner_key(world.town)
    client = login(personas.town_admin)
    revoke = reverse("open311_key_revoke", args=[key.pk])
    assert client.get(revoke).status_code == 405
    assert login(personas.staff_a).post(revoke).status_code == 403
    response = client.post(revoke)
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoked_by == personas.town_admin
    assert AuditEntry.objects.filter(object_id=str(key.pk), detail__verb="open311_key_revoked").count() == 1
    again = client.post(revoke, follow=True)
    assert "已吊销" in again.content.decode()
    assert AuditEntry.objects.filter(object_id=str(key.pk), detail__verb="open311_key_revoked").count() == 1
    t.make_category(world.town, code="repair")
    assert call(Client(), "POST", "requests", "json", data=post_with(raw))[0].status_code == 403


def test_another_towns_key_cannot_be_revoked(personas, world):
    foreign, _ = make_partner_key(t.make_town(code="T02"))
    response = login(personas.town_admin).post(reverse("open311_key_revoke", args=[foreign.pk]))
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


# --- the command --------------------------------------------------------------------------------


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("partner_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_creates_lists_and_revokes(world):
    out, err = run("create", "--name", "市民热线", "--rate", "10")
    raw = out.strip()
    key = PartnerKey.objects.get()
    assert raw.startswith(key.prefix) and key.prefix in err
    assert (key.town, key.community, key.rate_limit_per_minute, key.created_by) == (world.town, None, 10, None)
    audit = AuditEntry.objects.get(object_id=str(key.pk))
    assert audit.username == "manage.py" and audit.detail["verb"] == "open311_key_created"
    out, _ = run("list")
    assert key.prefix in out and "市民热线" in out and "T01" in out and key.key_hash not in out
    out, _ = run("revoke", key.prefix)
    assert "Revoked" in out
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert run("list")[0] == ""
    assert key.prefix in run("list", "--all")[0]
    with pytest.raises(CommandError, match="已吊销"):
        run("revoke", key.prefix)
    with pytest.raises(CommandError, match="No key"):
        run("revoke", "o311_nothing")


def test_command_town_and_community_choice(world):
    run("create", "--name", "社区", "--community", "CA")
    assert PartnerKey.objects.get(name="社区").community == world.a
    t.make_town(code="T02")
    with pytest.raises(CommandError, match=r"several towns.*--town"):
        run("create", "--name", "x")
    run("create", "--name", "乙镇", "--town", "T02")
    assert PartnerKey.objects.get(name="乙镇").town.code == "T02"
    with pytest.raises(CommandError, match="No town"):
        run("create", "--name", "x", "--town", "NOPE")
    with pytest.raises(CommandError, match="No community"):
        run("create", "--name", "x", "--community", "NOPE")
    with pytest.raises(CommandError, match="不属于"):
        run("create", "--name", "x", "--town", "T02", "--community", "CA")


def test_command_without_any_town(db):
    with pytest.raises(CommandError, match="no town"):
        run("create", "--name", "x")


def test_actions_validate(world):
    with pytest.raises(Exception, match="名称"):
        actions.create_partner_key(actor=None, name=" ", town=world.town)
    with pytest.raises(Exception, match="上限"):
        actions.create_partner_key(actor=None, name="x", town=world.town, rate_limit_per_minute=-1)


# --- the admin ----------------------------------------------------------------------------------


def test_town_admin_defines_questions_in_the_admin(personas, world):
    category = t.make_category(world.town, code="001")
    client = login(personas.town_admin)
    add = reverse("admin:open311_serviceattribute_add")
    response = client.post(
        add,
        {
            "category": category.pk,
            "code": "KIND",
            "order": 1,
            "variable": "on",
            "datatype": "singlevaluelist",
            "required": "on",
            "description": "故障情况",
            "datatype_description": "",
            "values-TOTAL_FORMS": 2,
            "values-INITIAL_FORMS": 0,
            "values-0-key": "1",
            "values-0-name": "完全不亮",
            "values-1-key": "2",
            "values-1-name": "闪烁",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    attribute = ServiceAttribute.objects.get()
    assert [(v.key, v.name) for v in attribute.values.all()] == [("1", "完全不亮"), ("2", "闪烁")]
    definition = call(Client(), "GET", "services/001", "json")[1]
    assert definition["attributes"][0]["values"] == [{"key": "1", "name": "完全不亮"}, {"key": "2", "name": "闪烁"}]
    assert call(Client(), "GET", "services", "json")[1][0]["metadata"] is True
    # Community staff read the questions but do not define them; partner keys are town business.
    staff = login(personas.staff_a)
    assert staff.get(reverse("admin:open311_serviceattribute_changelist")).status_code == 200
    assert staff.get(add).status_code == 403
    assert staff.get(reverse("admin:open311_partnerkey_changelist")).status_code == 403


def test_partner_keys_are_read_only_in_the_admin_and_hide_the_hash(personas, world):
    key, _ = make_partner_key(world.town)
    model_admin = admin.site.get_model_admin(PartnerKey)
    assert "key_hash" in model_admin.exclude
    page = login(personas.town_admin).get(reverse("admin:open311_partnerkey_change", args=[key.pk]))
    assert page.status_code == 200
    assert key.key_hash not in page.content.decode()
    assert login(personas.town_admin).get(reverse("admin:open311_partnerkey_add")).status_code == 403
