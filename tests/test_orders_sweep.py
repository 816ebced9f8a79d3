import datetime as dt

import time_machine
from django.core.management import call_command

from linli import testing as t
from linli.orders import actions
from linli.orders.models import Order, OrderEvent, Status


def test_sweep_flags_overdue_once_and_autocloses_once(world, personas, django_capture_on_commit_callbacks):
    category = t.make_category(world.town)
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False):  # a Monday
        late = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1)
        actions.accept_order(late, actor=personas.staff_a, category=category)
        done = t.make_order(world.a, actor=personas.resident_user, household=world.hh_a1)
        actions.accept_order(done, actor=personas.staff_a, category=category)
        actions.dispatch_order(done, actor=personas.staff_a, member=personas.member)
        actions.claim_order(done, actor=personas.member_user)
        actions.start_order(done, actor=personas.member_user)
        actions.resolve_order(done, actor=personas.member_user, note="好了", hours=1)
    with time_machine.travel(dt.datetime(2026, 3, 20, 9, 0, tzinfo=dt.UTC), tick=False):
        assert list(Order.objects.overdue()) == [late]
        with django_capture_on_commit_callbacks(execute=True):
            call_command("sweep")
        with django_capture_on_commit_callbacks(execute=True):
            call_command("sweep")  # the second run changes nothing
        assert OrderEvent.objects.filter(order=late, kind="overdue").count() == 1
        done.refresh_from_db()
        assert done.status == Status.CLOSED
        assert done.events.filter(to_status=Status.CLOSED).count() == 1
        assert personas.staff_a.notifications.filter(title__contains="超时").count() == 1
