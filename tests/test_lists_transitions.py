"""The list and entry state machines: every (from, to) pair against the literal tables; the events replay."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from linli.lib.errors import Conflict
from linli.reports import actions
from linli.reports.models import ENTRY_TRANSITIONS, LIST_TRANSITIONS, ListEntry, ListEvent, PropertyList
from tests.test_lists_scores import Q2, at, build_companies


@pytest.fixture
def clock(db):
    with time_machine.travel(at(7, 2), tick=False) as traveller:
        yield traveller


@pytest.fixture
def companies(clock, personas, world):
    return build_companies(personas, world)


L, N = PropertyList.Status, ListEntry.Status


@pytest.fixture
def plist(companies, personas, world):
    return actions.propose_property_list(world.town, period=Q2, actor=personas.town_admin)


@pytest.mark.parametrize(("start", "target"), [(a, b) for a in L.values for b in L.values])
def test_list_transition_pair(plist, start, target):
    PropertyList.objects.filter(pk=plist.pk).update(status=start)  # arrange only
    plist.refresh_from_db()
    if target in LIST_TRANSITIONS[start]:
        event = actions._move_list(plist, target, actor=None, kind="notice", now=timezone.now())
        assert PropertyList.objects.get(pk=plist.pk).status == target
        assert (event.from_status, event.to_status) == (start, target)
    else:
        with pytest.raises(Conflict):
            actions._move_list(plist, target, actor=None, kind="notice", now=timezone.now())
        assert PropertyList.objects.get(pk=plist.pk).status == start


@pytest.mark.parametrize(("start", "target"), [(a, b) for a in N.values for b in N.values])
def test_entry_transition_pair(plist, start, target):
    entry = plist.entries.get(kind="black")
    ListEntry.objects.filter(pk=entry.pk).update(status=start)  # arrange only
    entry.refresh_from_db()
    before = ListEvent.objects.filter(entry=entry).count()
    if target in ENTRY_TRANSITIONS[start]:
        event = actions._move_entry(entry, target, actor=None, kind="decision", now=timezone.now())
        assert ListEntry.objects.get(pk=entry.pk).status == target
        assert (event.from_status, event.to_status, event.entry) == (start, target, entry)
    else:
        with pytest.raises(Conflict):
            actions._move_entry(entry, target, actor=None, kind="decision", now=timezone.now())
        assert ListEntry.objects.get(pk=entry.pk).status == start
        assert ListEvent.objects.filter(entry=entry).count() == before


def test_a_stale_object_loses_the_compare_and_set(plist, personas):
    stale = PropertyList.objects.get(pk=plist.pk)
    actions.open_list_notice(plist, actor=personas.town_admin)
    with pytest.raises(Conflict):
        actions.open_list_notice(stale, actor=personas.town_admin)
    assert ListEvent.objects.filter(plist=plist, kind="notice").count() == 1


def test_the_events_replay_to_the_current_statuses(plist, personas, clock):
    actions.open_list_notice(plist, actor=personas.town_admin)
    entry = plist.entries.get(kind="black")
    actions.appeal_list_entry(entry, actor=personas.property, statement="有异议")
    actions.decide_list_appeal(entry, actor=personas.town_admin, upheld=True, note="情况属实")
    clock.shift(dt.timedelta(days=8))
    actions.publish_property_list(plist, actor=personas.town_admin)
    status = ""
    entries = {}
    for event in ListEvent.objects.filter(plist=plist).order_by("at", "id"):
        if event.entry_id:
            assert entries.get(event.entry_id, N.LISTED) == event.from_status
            entries[event.entry_id] = event.to_status
        else:
            assert status == event.from_status
            status = event.to_status
    assert status == PropertyList.objects.get(pk=plist.pk).status == L.PUBLISHED
    assert entries == {entry.pk: N.REMOVED}
