"""Sign-ups and sign-outs under contention.

* the last seats: many members sign up for one shift at once → exactly `capacity` succeed;
* one member, many overlapping shifts at once → exactly one sign-up;
* sixteen concurrent sign-outs of one sign-up → exactly one service record and one point entry.

SQLite: threads (IMMEDIATE transactions + busy timeout turn contention into waiting).
PostgreSQL: processes (compare-and-set and the member lock must hold where check-then-save races).
"""

import datetime as dt
import multiprocessing
import threading
from collections import Counter

import pytest
import time_machine
from django.db import connection, connections
from django.utils import timezone

from linli import testing as t
from linli.accounts.models import User
from linli.activities import actions, qrcodes
from linli.activities.models import ActivityEvent, Shift, SignUp
from linli.activities.testing import make_activity
from linli.credits.models import PointEntry, ServiceRecord
from linli.lib.errors import Conflict

ROUNDS = 5


def _sign_up(shift_id: int, user_id: int) -> str:
    try:
        actions.sign_up(Shift.objects.select_related("activity__community").get(pk=shift_id), actor=_user(user_id))
        return "won"
    except Conflict as exc:
        return exc.code
    except Exception as exc:  # any other error is a failure the test reports
        return f"error:{type(exc).__name__}:{exc}"
    finally:
        connections.close_all()


def _sign_out(token: str, user_id: int) -> str:
    try:
        return actions.scan_shift_code(token, actor=_user(user_id)).action
    except Exception as exc:
        return f"error:{type(exc).__name__}:{exc}"
    finally:
        connections.close_all()


def _user(user_id):
    return User.objects.select_related("member_profile").get(pk=user_id)


def _threads(calls):
    barrier = threading.Barrier(len(calls))
    results, lock = [], threading.Lock()

    def run(fn, args):
        barrier.wait()
        outcome = fn(*args)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=call) for call in calls]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return results


def _proc_worker(args):
    fn, fn_args, barrier = args
    connections.close_all()  # never share the parent's socket
    barrier.wait()
    return fn(*fn_args)


class _Runner:
    """Runs calls at once: threads on SQLite, a process pool on PostgreSQL."""

    def __init__(self, width):
        self.sqlite = connection.vendor == "sqlite"
        self.width = width
        if not self.sqlite:
            ctx = multiprocessing.get_context("fork")
            self.manager = ctx.Manager()
            self.barrier = self.manager.Barrier(width)
            connections.close_all()
            self.pool = ctx.Pool(width)

    def run(self, calls):
        assert len(calls) == self.width
        if self.sqlite:
            return _threads(calls)
        return self.pool.map(_proc_worker, [(fn, args, self.barrier) for fn, args in calls])

    def close(self):
        if not self.sqlite:
            self.pool.close()
            self.pool.join()
            self.manager.shutdown()


def _members(world, n, **kw):
    users = []
    for _ in range(n):
        user = t.make_user()
        t.register_approved(t.make_member(user=user, **kw), world.a)
        users.append(user.pk)
    return users


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_last_seats_go_to_exactly_capacity_members(world):
    staff = t.make_user(roles=[("community_staff", world.a)])
    width = 16 if connection.vendor == "sqlite" else 8
    capacity = 3
    users = _members(world, width)
    runner = _Runner(width)
    try:
        for r in range(ROUNDS):
            activity = make_activity(world.a, actor=staff, publish=True, shifts=[(48 + 3 * r, 2, capacity)])
            shift = activity.shifts.get()
            outcomes = Counter(runner.run([(_sign_up, (shift.pk, uid)) for uid in users]))
            assert outcomes["won"] == capacity, outcomes
            assert outcomes["full"] == width - capacity, outcomes
            assert Shift.objects.get(pk=shift.pk).seats_taken == capacity
            assert SignUp.objects.filter(shift=shift, status="signed_up").count() == capacity
            assert ActivityEvent.objects.filter(shift=shift, kind="signed_up").count() == capacity
    finally:
        runner.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_one_member_gets_one_of_many_overlapping_shifts(world):
    staff = t.make_user(roles=[("community_staff", world.a)])
    width = 12 if connection.vendor == "sqlite" else 8
    (user_id,) = _members(world, 1)
    runner = _Runner(width)
    try:
        for r in range(ROUNDS):
            # `width` activities whose shifts all overlap one another (starts < 1 h apart, 1 h long).
            shifts = [
                make_activity(
                    world.a, actor=staff, title=f"活动{r}-{k}", publish=True, shifts=[(48 + 5 * r + k * 0.04, 1, 5)]
                )
                .shifts.get()
                .pk
                for k in range(width)
            ]
            outcomes = Counter(runner.run([(_sign_up, (shift_id, user_id)) for shift_id in shifts]))
            assert outcomes["won"] == 1, outcomes
            assert outcomes["overlap"] == width - 1, outcomes
            assert SignUp.objects.filter(shift_id__in=shifts, status="signed_up").count() == 1
            assert sum(Shift.objects.filter(pk__in=shifts).values_list("seats_taken", flat=True)) == 1
    finally:
        runner.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_sign_outs_make_one_ledger_entry(world):
    staff = t.make_user(roles=[("community_staff", world.a)])
    width = 16
    users = _members(world, ROUNDS)  # a member per round: each round's shift is at the same time
    runner = _Runner(width)
    real_now = timezone.now()
    try:
        for user_id in users:
            # Arrange in the past: the shift started 50 minutes ago and the member signed in then,
            # so the workers sign out in real time.
            with time_machine.travel(real_now - dt.timedelta(hours=1), tick=False):
                activity = make_activity(world.a, actor=staff, publish=True, shifts=[(1 / 6, 2, 5)])
                shift = activity.shifts.get()
                signup = actions.sign_up(shift, actor=User.objects.get(pk=user_id))
            with time_machine.travel(shift.starts_at + dt.timedelta(minutes=1), tick=False):
                actions.scan_shift_code(qrcodes.make_token(shift.pk), actor=User.objects.get(pk=user_id))
            token = qrcodes.make_token(shift.pk)
            outcomes = Counter(runner.run([(_sign_out, (token, user_id))] * width))
            assert outcomes["checked_out"] == 1, outcomes
            assert outcomes["already_out"] == width - 1, outcomes
            assert ServiceRecord.objects.filter(source_type="shift", source_id=signup.pk).count() == 1
            assert PointEntry.objects.filter(source_type="shift", source_id=signup.pk).count() == 1
            assert ActivityEvent.objects.filter(signup=signup, kind="checked_out").count() == 1
            signup.refresh_from_db()
            record = ServiceRecord.objects.get(source_type="shift", source_id=signup.pk)
            assert signup.status == "completed" and record.hours == signup.hours
    finally:
        runner.close()
