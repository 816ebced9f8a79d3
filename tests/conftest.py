"""Named personas shared by the whole suite (see the architecture brief).

One town with community A (grids A1, A2) and community B (grid B1), a unit paired with A,
a department, a property company. Each persona is a logged-in-able user.
"""

from types import SimpleNamespace

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from linli import testing as t
from linli.accounts.models import Role
from tests.support.browser import browser, phone, phones  # noqa: F401  (fixtures for the page tests)


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    # Tasks run in-process in tests unless a test asks for the database backend.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.SMS_BACKEND = "linli.lib.sms.LocmemBackend"
    # PBKDF2's deliberate slowness makes every persona cost ~0.3 s; tests don't need it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # {% static %} without a collectstatic manifest (DEBUG is off in tests).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _default_language():
    # A request in English (a language cookie, translation.override) leaves English active in the
    # thread afterwards; each test starts from the default language, as each request does.
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def world(db):
    town = t.make_town(code="T01", name="D镇")
    a = t.make_community(town, code="CA", name="幸福社区")
    b = t.make_community(town, code="CB", name="和平村", kind="rural")
    a1 = t.make_grid(a, code="CA01", name="幸福一网格")
    a2 = t.make_grid(a, code="CA02", name="幸福二网格")
    b1 = t.make_grid(b, code="CB01", name="和平一网格")
    unit = t.make_unit(town, code="U01", name="区财政局")
    dept = t.make_department(town, name="城管局")
    company = t.make_company(town, name="安居物业")
    electrical = t.make_skill("electrical", "水电维修")
    return SimpleNamespace(
        town=town,
        a=a,
        b=b,
        a1=a1,
        a2=a2,
        b1=b1,
        unit=unit,
        dept=dept,
        company=company,
        electrical=electrical,
        hh_a1=t.make_household(a1),
        hh_a2=t.make_household(a2),
        hh_b1=t.make_household(b1),
    )


@pytest.fixture
def personas(world):
    w = world
    p = SimpleNamespace()
    p.town_admin = t.make_user("town", roles=[(Role.TOWN_ADMIN, w.town)], name="镇管理员")
    p.staff_a = t.make_user("staff_a", roles=[(Role.COMMUNITY_STAFF, w.a)], name="社区A工作人员")
    p.staff_b = t.make_user("staff_b", roles=[(Role.COMMUNITY_STAFF, w.b)], name="社区B工作人员")
    p.grid_worker = t.make_user("grid_a1", roles=[(Role.GRID_WORKER, w.a1)], name="网格员")
    p.unit_admin = t.make_user("unit", roles=[(Role.UNIT_ADMIN, w.unit)], name="单位管理员")
    p.dept = t.make_user("dept", roles=[(Role.DEPARTMENT_STAFF, w.dept)], name="部门人员")
    p.property = t.make_user("property", roles=[(Role.PROPERTY_STAFF, w.company)], name="物业人员")
    p.resident_user = t.make_user("resident", name="居民甲")
    p.resident = t.make_resident(w.hh_a1, user=p.resident_user, name="居民甲", tags=["elderly_alone"])
    p.member_user = t.make_user("member", name="党员甲")
    p.member = t.make_member(
        user=p.member_user,
        unit=w.unit,
        home_community=w.a,
        skills={w.electrical: 3},
        name="党员甲",
        consent_report=True,
    )
    t.register_approved(p.member, w.a)
    # Data in community B that A's people must never see.
    p.resident_b = t.make_resident(w.hh_b1, name="居民乙")
    p.member_b = t.make_member(home_community=w.b, name="党员乙")
    t.register_approved(p.member_b, w.b)
    return p


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_user():
    return login
