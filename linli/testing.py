"""Plain builders for tests: make_* functions that return saved objects.

Organisation objects are plain rows (they come from imports and the admin); people go through
their actions so tests exercise the same validation as the product.
"""

import datetime as dt
import itertools

from linli.accounts.actions import assign_role
from linli.accounts.models import Role, User
from linli.lib import idcard
from linli.orgs.models import (
    Building,
    Category,
    Community,
    Department,
    Estate,
    Grid,
    Household,
    PropertyCompany,
    Town,
    Unit,
)
from linli.people import actions as people_actions
from linli.people.models import Skill

_seq = itertools.count(1)

PASSWORD = "test-pass-2026!"


def n() -> int:
    return next(_seq)


def make_town(**kw) -> Town:
    i = n()
    return Town.objects.create(code=kw.pop("code", f"T{i}"), name=kw.pop("name", f"测试镇{i}"), **kw)


def make_community(town=None, **kw) -> Community:
    i = n()
    return Community.objects.create(
        town=town or make_town(), code=kw.pop("code", f"C{i}"), name=kw.pop("name", f"测试社区{i}"), **kw
    )


def make_grid(community=None, **kw) -> Grid:
    i = n()
    return Grid.objects.create(
        community=community or make_community(), code=kw.pop("code", f"G{i}"), name=kw.pop("name", f"第{i}网格"), **kw
    )


def make_household(grid=None, *, building=None, **kw) -> Household:
    i = n()
    if building is None:
        building = Building.objects.create(grid=grid or make_grid(), name=f"{i}栋", address=f"测试路{i}号")
    return Household.objects.create(
        building=building,
        entrance=kw.pop("entrance", "1单元"),
        door=kw.pop("door", f"{i}01"),
        address=kw.pop("address", f"{building.address}{i}01室"),
        **kw,
    )


def make_id_number(i: int | None = None, *, born=dt.date(1980, 5, 17)) -> str:
    return idcard.make("420203", born, i if i is not None else n())


def make_user(username=None, *, roles=(), name="", password=PASSWORD) -> User:
    user = User.objects.create_user(username=username or f"user{n()}", password=password, name=name)
    for role, scope in roles:
        assign_role(user, role, scope=scope, actor=None)
    return user


def make_resident(household=None, *, user=None, **kw):
    i = n()
    return (
        people_actions.create_resident(
            household=household or make_household(),
            name=kw.pop("name", f"居民{i}"),
            gender=kw.pop("gender", "F"),
            id_number=kw.pop("id_number", make_id_number(i)),
            phone=kw.pop("phone", f"139{i:08d}"),
            actor=None,
            **kw,
        )
        if user is None
        else _with_user(household, user, kw)
    )


def _with_user(household, user, kw):
    resident = make_resident(household, **kw)
    from linli.people.models import Resident

    Resident.objects.filter(pk=resident.pk).update(user=user)
    assign_role(user, Role.RESIDENT, actor=None)
    resident.refresh_from_db()
    return resident


def make_skill(code=None, name=None) -> Skill:
    i = n()
    skill, _ = Skill.objects.get_or_create(code=code or f"S{i}", defaults={"name": name or f"技能{i}"})
    return skill


def make_member(*, user=None, unit=None, home_community=None, skills=None, **kw):
    i = n()
    return people_actions.create_member(
        name=kw.pop("name", f"党员{i}"),
        gender=kw.pop("gender", "M"),
        birth_date=kw.pop("birth_date", dt.date(1985, 3, 1)),
        id_number=kw.pop("id_number", make_id_number(i, born=dt.date(1985, 3, 1))),
        phone=kw.pop("phone", f"138{i:08d}"),
        user=user,
        unit=unit,
        home_community=home_community,
        skills=skills,
        actor=None,
        **kw,
    )


def make_unit(town=None, **kw) -> Unit:
    i = n()
    return Unit.objects.create(town=town, code=kw.pop("code", f"U{i}"), name=kw.pop("name", f"测试单位{i}"), **kw)


def make_department(town, **kw) -> Department:
    return Department.objects.create(town=town, name=kw.pop("name", f"职能部门{n()}"), **kw)


def make_company(town, **kw) -> PropertyCompany:
    return PropertyCompany.objects.create(town=town, name=kw.pop("name", f"物业公司{n()}"), **kw)


def make_estate(community, company=None, **kw) -> Estate:
    return Estate.objects.create(community=community, company=company, name=kw.pop("name", f"小区{n()}"), **kw)


def make_category(town, **kw) -> Category:
    i = n()
    return Category.objects.create(town=town, code=kw.pop("code", f"cat{i}"), name=kw.pop("name", f"类别{i}"), **kw)


def register_approved(member, community):
    reg = people_actions.request_registration(member, community=community, actor=None)
    return people_actions.approve_registration(reg, actor=None)


def make_order(community, *, actor=None, household=None, status=None, **kw):
    """An order submitted through the action; `status` jumps it there for arrangement only."""
    from linli.orders import actions as order_actions
    from linli.orders.models import Order

    order = order_actions.submit_order(
        actor=actor,
        community=community,
        household=household,
        title=kw.pop("title", f"诉求{n()}"),
        address=kw.pop("address", "" if household else "测试路1号"),
        **kw,
    )
    if status is not None:
        Order.objects.filter(pk=order.pk).update(status=status)  # arrange only
        order.refresh_from_db()
    return order
