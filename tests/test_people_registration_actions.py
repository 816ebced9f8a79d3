import pytest

from linli import testing as t
from linli.lib.errors import Conflict, DomainError
from linli.orgs.models import Pairing
from linli.people import actions
from linli.people.models import Registration


def test_member_registration_is_approved_with_events_and_unit_informed(
    world, personas, django_capture_on_commit_callbacks
):
    member = t.make_member(unit=world.unit)
    reg = actions.request_registration(member, community=world.b, actor=personas.staff_b)
    with django_capture_on_commit_callbacks(execute=True):
        actions.approve_registration(reg, actor=personas.staff_b)
    reg.refresh_from_db()
    assert reg.status == Registration.Status.APPROVED
    assert [(e.from_status, e.to_status) for e in reg.events.all()] == [("", "requested"), ("requested", "approved")]
    assert personas.unit_admin.notifications.filter(title__contains=member.name).exists()


def test_second_live_registration_with_same_community_is_refused(world):
    member = t.make_member()
    actions.request_registration(member, community=world.a, actor=None)
    with pytest.raises(Conflict):
        actions.request_registration(member, community=world.a, actor=None)


def test_member_may_hold_two_registrations(world):
    member = t.make_member(home_community=world.a)
    t.register_approved(member, world.a)
    t.register_approved(member, world.b)
    assert member.registrations.filter(status="approved").count() == 2


def test_decline_needs_reason_and_is_final(world):
    reg = actions.request_registration(t.make_member(), community=world.a, actor=None)
    with pytest.raises(DomainError):
        actions.decline_registration(reg, actor=None, reason=" ")
    actions.decline_registration(reg, actor=None, reason="不在本社区居住")
    with pytest.raises(Conflict):
        actions.approve_registration(reg, actor=None)


def test_stale_object_loses_compare_and_set(world):
    reg = actions.request_registration(t.make_member(), community=world.a, actor=None)
    stale = Registration.objects.get(pk=reg.pk)
    actions.approve_registration(reg, actor=None)
    with pytest.raises(Conflict):
        actions.decline_registration(stale, actor=None, reason="重复")
    assert reg.events.count() == 2


def test_unit_registration_pairs_and_withdrawal_unpairs(world):
    unit = t.make_unit(world.town)
    reg = actions.request_registration(unit, community=world.b, actor=None)
    actions.approve_registration(reg, actor=None)
    assert Pairing.objects.filter(unit=unit, community=world.b).exists()
    actions.withdraw_registration(reg, actor=None)
    assert not Pairing.objects.filter(unit=unit, community=world.b).exists()


@pytest.mark.parametrize(
    ("start", "target", "allowed"),
    [
        (s, to, to in actions.REGISTRATION_TRANSITIONS[s])
        for s in Registration.Status.values
        for to in Registration.Status.values
        if to != "requested"
    ],
)
def test_every_transition_pair(world, start, target, allowed):
    reg = actions.request_registration(t.make_member(), community=world.a, actor=None)
    Registration.objects.filter(pk=reg.pk).update(status=start)  # arrange only
    reg.refresh_from_db()
    do = {
        "approved": lambda: actions.approve_registration(reg, actor=None),
        "declined": lambda: actions.decline_registration(reg, actor=None, reason="原因"),
        "withdrawn": lambda: actions.withdraw_registration(reg, actor=None),
    }[target]
    if allowed:
        do()
        assert Registration.objects.get(pk=reg.pk).status == target
        assert reg.events.last().to_status == target
    else:
        with pytest.raises(Conflict):
            do()
        assert Registration.objects.get(pk=reg.pk).status == start
