"""The admin for town admins and community staff, each within their scope (linli.lib.admin)."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from linli import testing as t
from linli.accounts.models import AuditEntry, User
from linli.lib.admin import LinliAdminSite, ReadOnlyAdmin, ScopedAdmin
from linli.orgs.models import Building, Community, Grid, Household
from linli.people.models import Member, Registration, Resident
from tests.conftest import login


def url(obj, view="change"):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])


def changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def add_url(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", password=t.PASSWORD)


def test_the_linli_site_is_installed():
    assert isinstance(admin.site, LinliAdminSite), (
        'INSTALLED_APPS must list "linli.lib.admin.LinliAdminConfig" instead of "django.contrib.admin"'
    )


def test_every_model_of_orgs_people_accounts_is_in_the_admin():
    inline_models = {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}
    for label in ("orgs", "people", "accounts"):
        for model in apps.get_app_config(label).get_models():
            assert admin.site.is_registered(model) or model in inline_models, model


READ_ONLY = ["people.Registration", "people.RegistrationEvent", "people.Resident", "people.Member"]
READ_ONLY += ["accounts.AuditEntry", "accounts.Notification"]


@pytest.mark.parametrize("label", READ_ONLY)
def test_statuses_people_ledgers_and_audit_are_read_only(label):
    assert isinstance(admin.site.get_model_admin(apps.get_model(label)), ReadOnlyAdmin)


def test_town_admin_sees_both_communities(personas, world):
    client = login(personas.town_admin)
    page = client.get(changelist(Community))
    assert page.status_code == 200
    assert world.a.name in page.text and world.b.name in page.text
    grids = client.get(changelist(Grid)).text
    assert all(g.name in grids for g in (world.a1, world.a2, world.b1))
    residents = client.get(changelist(Resident)).text
    assert personas.resident.name in residents and personas.resident_b.name in residents


def test_staff_sees_only_their_community_in_change_lists(personas, world):
    client = login(personas.staff_a)
    pages = {
        model: client.get(changelist(model)) for model in (Community, Grid, Building, Household, Resident, Registration)
    }
    pages["member"] = client.get(changelist(Member))
    for page in pages.values():
        assert page.status_code == 200
        # B's name appears nowhere: not in rows, not in the filter sidebar.
        assert world.b.name not in page.text
        assert world.b1.name not in page.text
    assert world.a1.name in pages[Grid].text and world.a2.name in pages[Grid].text
    assert personas.resident.name in pages[Resident].text
    assert personas.resident_b.name not in pages[Resident].text
    assert personas.member.name in pages["member"].text
    assert personas.member_b.name not in pages["member"].text


def test_staff_get_404_on_the_other_communitys_objects(personas, world):
    client = login(personas.staff_a)
    reg_b = personas.member_b.registrations.get()
    for obj in (world.b, world.b1, world.hh_b1, world.hh_b1.building, personas.resident_b, personas.member_b, reg_b):
        for view in ("change", "history", "delete"):
            response = client.get(url(obj, view))
            assert response.status_code == 404, (obj, view)
            assert str(obj) not in response.text
        assert client.post(url(obj, "change"), {"name": "改名"}).status_code == 404
    world.b1.refresh_from_db()
    assert world.b1.name == "和平一网格"


@pytest.mark.parametrize("who", ["grid_worker", "member_user", "resident_user", "unit_admin", "dept", "property"])
def test_other_roles_cannot_enter_the_admin(personas, world, who):
    client = login(getattr(personas, who))
    index = client.get(reverse("admin:index"))
    assert index.status_code == 302
    assert client.get(index["Location"]).status_code == 403
    assert client.get(changelist(Grid)).status_code == 302
    assert client.get(url(world.a1)).status_code == 302


def test_anonymous_visitors_are_sent_to_the_product_login(db):
    client = Client()
    to_admin_login = client.get(changelist(Grid))
    assert to_admin_login.status_code == 302
    response = client.get(to_admin_login["Location"])
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=%2Fadmin%2Forgs%2Fgrid%2F"


def test_staff_change_is_audited(personas, world):
    client = login(personas.staff_a)
    response = client.post(
        url(world.a1),
        {"community": world.a.pk, "code": world.a1.code, "name": "幸福一网格（东）", "kind": "comprehensive"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    world.a1.refresh_from_db()
    assert world.a1.name == "幸福一网格（东）"
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ADMIN_CHANGE, object_type="orgs.grid")
    assert entry.actor == personas.staff_a
    assert entry.object_id == str(world.a1.pk)
    assert entry.detail["verb"] == "change"
    assert entry.detail["changes"] == [{"changed": {"fields": ["名称"]}}]


def test_staff_add_and_delete_are_audited(personas, world):
    client = login(personas.staff_a)
    response = client.post(add_url(Building), {"grid": world.a2.pk, "name": "9栋", "address": "幸福路9号"})
    assert response.status_code == 302
    building = Building.objects.get(name="9栋")
    response = client.post(url(building, "delete"), {"post": "yes"})
    assert response.status_code == 302
    assert not Building.objects.filter(pk=building.pk).exists()
    verbs = list(
        AuditEntry.objects.filter(object_type="orgs.building", object_id=str(building.pk))
        .order_by("id")
        .values_list("detail__verb", flat=True)
    )
    assert verbs == ["add", "delete"]


def test_staff_cannot_place_objects_in_another_community(personas, world):
    client = login(personas.staff_a)
    form = client.get(add_url(Grid)).context["adminform"].form
    assert set(form.fields["community"].queryset) == {world.a}
    response = client.post(
        add_url(Grid), {"community": world.b.pk, "code": "X1", "name": "越权网格", "kind": "dedicated"}
    )
    assert response.status_code == 200  # the form again, with an error on the community
    assert "community" in response.context["adminform"].form.errors
    assert not Grid.objects.filter(code="X1").exists()
    assert not AuditEntry.objects.filter(object_type="orgs.grid").exists()


def test_staff_only_view_town_level_configuration(personas, world):
    client = login(personas.staff_a)
    assert client.get(url(world.a)).status_code == 200  # their community, read-only
    assert client.post(url(world.a), {"town": world.town.pk, "code": "CA", "name": "改名"}).status_code == 403
    assert client.get(add_url(Community)).status_code == 403
    world.a.refresh_from_db()
    assert world.a.name == "幸福社区"


def test_town_admin_edits_communities_of_their_town_only(personas, world):
    client = login(personas.town_admin)
    response = client.post(add_url(Community), {"town": world.town.pk, "code": "CC", "name": "新社区", "kind": "urban"})
    assert response.status_code == 302
    other_town = t.make_town(name="外镇")
    response = client.post(
        add_url(Community), {"town": other_town.pk, "code": "CD", "name": "越权社区", "kind": "urban"}
    )
    assert response.status_code == 200
    assert not Community.objects.filter(code="CD").exists()
    assert client.get(url(t.make_community(other_town))).status_code == 404


@pytest.mark.parametrize("who", ["town_admin", "staff_a"])
def test_registrations_are_read_only(personas, who):
    client = login(getattr(personas, who))
    registration = personas.member.registrations.get()
    page = client.get(url(registration))
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert client.post(url(registration), {"status": "declined"}).status_code == 403
    assert client.get(add_url(Registration)).status_code == 403
    assert client.get(url(registration, "delete")).status_code == 403
    assert Registration.objects.get(pk=registration.pk).status == Registration.Status.APPROVED


def test_registrations_are_read_only_for_superusers_too(personas, superuser):
    client = login(superuser)
    registration = personas.member.registrations.get()
    assert client.post(url(registration), {"status": "declined"}).status_code == 403
    assert client.get(add_url(Registration)).status_code == 403


def test_resident_form_shows_masked_personal_data(personas):
    resident = personas.resident
    client = login(personas.staff_a)
    page = client.get(url(resident))
    assert page.status_code == 200
    assert resident.id_number_masked in page.text
    assert resident.phone_masked in page.text
    assert resident.id_number not in page.text
    assert resident.phone not in page.text
    assert "独居老人" in page.text  # the care tag as a label, not an editable field
    assert 'name="id_number"' not in page.text and 'name="tags"' not in page.text


def test_change_lists_never_show_raw_personal_data(personas, superuser):
    for user in (personas.staff_a, superuser):
        client = login(user)
        residents = client.get(changelist(Resident)).text
        members = client.get(changelist(Member)).text
        assert personas.resident.phone not in residents and personas.resident.id_number not in residents
        assert personas.resident.phone_masked in residents
        assert personas.member.phone not in members and personas.member.id_number not in members


def test_exact_id_number_search_finds_by_keyed_hash_within_scope(personas):
    client = login(personas.staff_a)
    found = client.get(changelist(Resident), {"q": personas.resident.id_number}).text
    assert personas.resident.name in found
    outside = client.get(changelist(Resident), {"q": personas.resident_b.id_number}).text
    assert personas.resident_b.name not in outside
    by_phone = client.get(changelist(Resident), {"q": personas.resident.phone}).text
    assert personas.resident.name in by_phone
    member = client.get(changelist(Member), {"q": personas.member.id_number.lower()}).text
    assert personas.member.name in member


def test_audit_and_accounts_are_for_superusers_only(personas, superuser):
    for model in (AuditEntry, User, apps.get_model("accounts.Notification"), apps.get_model("accounts.RoleAssignment")):
        assert login(personas.town_admin).get(changelist(model)).status_code == 403
        assert login(superuser).get(changelist(model)).status_code == 200


def test_superuser_sees_everything(personas, world, superuser):
    client = login(superuser)
    grids = client.get(changelist(Grid)).text
    assert all(g.name in grids for g in (world.a1, world.a2, world.b1))
    assert client.get(url(personas.resident_b)).status_code == 200


def test_resident_change_list_query_count_does_not_grow_with_rows(personas, world):
    client = login(personas.staff_a)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(changelist(Resident)).status_code == 200
        return len(ctx)

    queries()  # warm up: the first request also writes the session
    before = queries()
    for _ in range(5):
        t.make_resident(world.hh_a2)
    assert queries() == before


def test_scoped_admins_declare_a_scope():
    # An admin without paths would show non-superusers nothing; one left unscoped would leak.
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, ScopedAdmin) and model_admin.view_roles:
            assert model_admin.shared or model_admin.community_paths or model_admin.town_paths, model


def test_every_admin_page_renders_for_each_admin_role(personas, world, superuser):
    """Change lists, add pages and a change page of every model: 200 or 403, never an error."""
    t.make_estate(world.a, world.company)
    t.make_category(world.town)
    t.make_company(world.town)
    for user in (superuser, personas.town_admin, personas.staff_a):
        client = login(user)
        assert client.get(reverse("admin:index")).status_code == 200
        for model, model_admin in admin.site._registry.items():
            request = _request_for(user)
            may_view = model_admin.has_view_or_change_permission(request)
            assert client.get(changelist(model)).status_code == (200 if may_view else 403), (user, model)
            may_add = model_admin.has_add_permission(request)
            assert client.get(add_url(model)).status_code == (200 if may_add else 403), (user, model)
            obj = model_admin.get_queryset(request).first()
            if obj is not None:
                expected = 200 if model_admin.has_view_or_change_permission(request, obj) else 403
                assert client.get(url(obj)).status_code == expected, (user, model)


def _request_for(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(pk=user.pk)
    return request


def test_superuser_assigns_roles_with_the_right_scope_and_is_audited(personas, world, superuser):
    client = login(superuser)
    newcomer = t.make_user("newcomer")
    role_model = apps.get_model("accounts.RoleAssignment")
    wrong = client.post(add_url(role_model), {"user": newcomer.pk, "role": "community_staff", "town": world.town.pk})
    assert wrong.status_code == 200
    assert set(wrong.context["adminform"].form.errors) == {"town", "community"}
    right = client.post(add_url(role_model), {"user": newcomer.pk, "role": "community_staff", "community": world.b.pk})
    assert right.status_code == 302
    assignment = role_model.objects.get(user=newcomer)
    assert AuditEntry.objects.filter(
        object_type="accounts.roleassignment", object_id=str(assignment.pk), detail__verb="add", actor=superuser
    ).exists()
    # The new staff member now enters the admin and sees community B only.
    page = login(newcomer).get(changelist(Grid))
    assert page.status_code == 200
    assert world.b1.name in page.text and world.a1.name not in page.text


def test_town_admin_adds_a_unit_of_their_town_with_its_categories(personas, world):
    client = login(personas.town_admin)
    form = client.get(add_url(apps.get_model("orgs.Unit"))).context["adminform"].form
    assert form.fields["town"].required
    assert set(form.fields["town"].queryset) == {world.town}
    mine = t.make_category(world.town)
    theirs = t.make_category(t.make_town())
    department_form = client.get(add_url(apps.get_model("orgs.Department"))).context["adminform"].form
    assert set(department_form.fields["categories"].queryset) == {mine}
    assert theirs not in department_form.fields["categories"].queryset


def test_superuser_creates_a_user_in_the_admin(superuser):
    client = login(superuser)
    response = client.post(
        add_url(User),
        {
            "username": "zhang",
            "name": "张三",
            "password1": "Long-pass-2026!",
            "password2": "Long-pass-2026!",
            # The role inline's management form: no roles yet.
            "role_assignments-TOTAL_FORMS": "0",
            "role_assignments-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    created = User.objects.get(username="zhang")
    assert created.name == "张三" and created.check_password("Long-pass-2026!")
    assert AuditEntry.objects.filter(
        object_type="accounts.user", object_id=str(created.pk), detail__verb="add"
    ).exists()
