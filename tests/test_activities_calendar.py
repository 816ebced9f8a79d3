"""The member's private iCalendar feed (RFC 5545), read back with the `icalendar` package."""

import datetime as dt

import icalendar
import pytest
from django.test import Client
from django.urls import reverse

from linli import testing as t
from linli.activities import actions, ical
from linli.activities.models import CalendarFeed
from linli.activities.testing import add_shift, make_activity
from linli.lib.errors import NotAllowed
from tests.conftest import login

TRICKY = "楼道清理, 第一期; 幸福小区\\东门"


@pytest.fixture
def feed(world, personas):
    activity = make_activity(
        world.a,
        actor=personas.staff_a,
        publish=True,
        shifts=[(48, 2, 5)],
        title=TRICKY,
        place="幸福小区3栋, 1单元; 门口",
        description="第一行\n第二行，带着很长很长的说明文字，" + "需要折行的内容" * 10,
    )
    shift = activity.shifts.get()
    add_shift(activity, actor=personas.staff_a, start_in=96, length=1, note="下午班")
    actions.sign_up(shift, actor=personas.member_user)
    second = activity.shifts.order_by("starts_at").last()
    cancelled = actions.sign_up(second, actor=personas.member_user)
    actions.cancel_signup(cancelled, actor=personas.member_user)
    return actions.regenerate_calendar_feed(personas.member, actor=personas.member_user), shift, second


def _get(feed):
    return Client().get(reverse("shift_calendar", args=[feed.token]))


def test_feed_is_valid_icalendar_without_a_login(feed):
    feed, shift, second = feed
    response = _get(feed)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content
    assert body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b"")
    for line in body.split(b"\r\n"):
        assert len(line) <= 75, line
    cal = icalendar.Calendar.from_ical(body.decode())
    assert cal["VERSION"] == "2.0" and "Linli" in str(cal["PRODID"])
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert len(events) == 2
    first = next(e for e in events.values() if e["DTSTART"].dt == shift.starts_at)
    assert str(first["SUMMARY"]) == TRICKY  # commas, semicolons and backslashes round-trip
    assert str(first["LOCATION"]) == "幸福小区3栋, 1单元; 门口"
    assert str(first["DESCRIPTION"]).count("\n") >= 2 and "第二行" in str(first["DESCRIPTION"])
    assert first["DTSTART"].dt.tzinfo is not None and first["DTSTART"].dt.utcoffset() == dt.timedelta(0)
    assert first["DTEND"].dt == shift.ends_at
    assert str(first["STATUS"]) == "CONFIRMED"
    assert first["DTSTAMP"].dt.utcoffset() == dt.timedelta(0)
    other = next(e for e in events.values() if e["DTSTART"].dt == second.starts_at)
    assert str(other["STATUS"]) == "CANCELLED" and str(other["SUMMARY"]).endswith("（下午班）")
    assert b"DTSTART:" in body and b"Z\r\n" in body  # UTC form, no VTIMEZONE needed


def test_a_cancelled_activity_shows_as_cancelled(feed, personas):
    feed, shift, _second = feed
    actions.cancel_activity(shift.activity, actor=personas.staff_a, reason="暴雨")
    cal = icalendar.Calendar.from_ical(_get(feed).content.decode())
    assert {str(e["STATUS"]) for e in cal.walk("VEVENT")} == {"CANCELLED"}


def test_a_wrong_token_is_404_and_regenerating_retires_the_old_url(feed, personas):
    feed, _shift, _second = feed
    assert Client().get("/calendar/not-a-token.ics").status_code == 404
    old = feed.token
    new = actions.regenerate_calendar_feed(personas.member, actor=personas.member_user)
    assert new.token != old and CalendarFeed.objects.count() == 1
    assert Client().get(f"/calendar/{old}.ics").status_code == 404
    assert _get(new).status_code == 200


def test_only_the_member_makes_their_feed(world, personas):
    with pytest.raises(NotAllowed):
        actions.regenerate_calendar_feed(personas.member, actor=personas.staff_a)


def test_the_page_regenerates_with_a_post(world, personas):
    client = login(personas.member_user)
    assert client.get(reverse("calendar_regenerate")).status_code == 405
    response = client.post(reverse("calendar_regenerate"), follow=True)
    feed = CalendarFeed.objects.get(member=personas.member)
    assert feed.token in response.content.decode()
    other = login(t.make_user())
    assert other.post(reverse("calendar_regenerate")).status_code == 404


def test_folding_never_splits_a_character_and_escaping_is_rfc5545():
    line = "SUMMARY:" + "中文字符" * 30
    folded = ical.fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line
    assert ical.escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
