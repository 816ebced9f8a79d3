"""record_inspection and the inspections page: staff score a property company in an estate (0–100)."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from linli import testing as t
from linli.lib.errors import DomainError, NotAllowed
from linli.reports import actions
from linli.reports.models import Inspection
from tests.conftest import login
from tests.test_lists_scores import at


@pytest.fixture
def estates(db, world):
    with time_machine.travel(at(7, 2), tick=False):
        yield (
            t.make_estate(world.a, world.company, name="幸福家园"),
            t.make_estate(world.b, world.company, name="和平苑"),
            t.make_estate(world.a, None, name="无物业小区"),
        )


def test_staff_record_an_inspection_of_the_company_serving_the_estate(estates, personas, world):
    a, _b, _none = estates
    inspection = actions.record_inspection(a, actor=personas.staff_a, date=dt.date(2026, 7, 1), score=85, note="整洁")
    assert (inspection.company, inspection.estate, inspection.score, inspection.inspector) == (
        world.company,
        a,
        85,
        personas.staff_a,
    )


def test_town_admins_record_in_every_community_staff_only_in_theirs(estates, personas):
    a, b, _none = estates
    actions.record_inspection(b, actor=personas.town_admin, date=dt.date(2026, 7, 1), score=70)
    with pytest.raises(NotAllowed):
        actions.record_inspection(b, actor=personas.staff_a, date=dt.date(2026, 7, 1), score=70)
    for who in ("property", "unit_admin", "member_user"):
        with pytest.raises(NotAllowed):
            actions.record_inspection(a, actor=getattr(personas, who), date=dt.date(2026, 7, 1), score=70)


@pytest.mark.parametrize(
    ("score", "day", "message"),
    [(101, dt.date(2026, 7, 1), "0到100"), (-1, dt.date(2026, 7, 1), "0到100"), ("x", dt.date(2026, 7, 1), "0到100")],
)
def test_bad_scores_are_refused(estates, personas, score, day, message):
    with pytest.raises(DomainError, match=message):
        actions.record_inspection(estates[0], actor=personas.staff_a, date=day, score=score)


def test_no_company_no_inspection_and_no_future_dates(estates, personas):
    with pytest.raises(DomainError, match="没有物业公司"):
        actions.record_inspection(estates[2], actor=personas.staff_a, date=dt.date(2026, 7, 1), score=50)
    with pytest.raises(DomainError, match="晚于今天"):
        actions.record_inspection(estates[0], actor=personas.staff_a, date=dt.date(2099, 1, 1), score=50)
    assert not Inspection.objects.exists()


def test_the_page_offers_the_users_estates_and_records(estates, personas):
    a, b, _none = estates
    client = login(personas.staff_a)
    page = client.get(reverse("inspections"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "幸福家园" in html and "和平苑" not in html and "无物业小区" not in html
    response = client.post(
        reverse("inspection_new"), {"estate": a.pk, "date": "2026-07-01", "score": "88", "note": "良好"}, follow=True
    )
    assert "已记录 幸福家园 的巡查评分" in response.content.decode()
    assert Inspection.objects.get().score == 88
    # Another community's estate is not a choice.
    response = client.post(reverse("inspection_new"), {"estate": b.pk, "date": "2026-07-01", "score": "10"})
    assert Inspection.objects.count() == 1


@pytest.mark.parametrize("who", ["property", "unit_admin", "member_user", "resident_user"])
def test_the_page_is_for_staff(estates, personas, who):
    client = login(getattr(personas, who))
    assert client.get(reverse("inspections")).status_code == 404
    assert client.post(reverse("inspection_new"), {}).status_code == 404
