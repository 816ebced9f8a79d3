"""Claims under contention: many members claim one pooled order at once; exactly one wins.

SQLite: 32 threads (IMMEDIATE transactions + busy timeout must turn contention into waiting).
PostgreSQL: 8 processes (compare-and-set must hold where check-then-save races).
"""

import multiprocessing
import threading
from collections import Counter

import pytest
from django.db import connection, connections

from linli import testing as t
from linli.accounts.models import User
from linli.lib.errors import Conflict
from linli.orders import actions
from linli.orders.models import Order, OrderEvent, Status

ROUNDS = 40


def _attempt(order_id: int, user_id: int) -> str:
    try:
        order = Order.objects.get(pk=order_id)
        user = User.objects.get(pk=user_id)
        actions.claim_order(order, actor=user)
        return "won"
    except Conflict as exc:
        return "conflict" if exc.code == "already_taken" else f"conflict:{exc.code}"
    except Exception as exc:  # any other error is a failure the test reports
        return f"error:{type(exc).__name__}:{exc}"
    finally:
        connections.close_all()


def _threads(order_id, user_ids):
    barrier = threading.Barrier(len(user_ids))
    results = []
    lock = threading.Lock()

    def run(uid):
        barrier.wait()
        outcome = _attempt(order_id, uid)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(uid,)) for uid in user_ids]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return results


def _proc_worker(args):
    order_id, user_id, barrier = args
    connections.close_all()  # never share the parent's socket
    barrier.wait()
    return _attempt(order_id, user_id)


def _processes(order_id, user_ids, pool, barrier):
    return pool.map(_proc_worker, [(order_id, uid, barrier) for uid in user_ids])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_exactly_one_claim_wins_each_round(world):
    is_sqlite = connection.vendor == "sqlite"
    n_claimants = 32 if is_sqlite else 8
    staff = t.make_user(roles=[("community_staff", world.a)])
    category = t.make_category(world.town)
    users = []
    for _ in range(n_claimants):
        user = t.make_user()
        member = t.make_member(user=user, load_cap=20)
        t.register_approved(member, world.a)
        users.append(user.pk)

    pool = barrier = None
    if not is_sqlite:
        ctx = multiprocessing.get_context("fork")
        manager = ctx.Manager()
        barrier = manager.Barrier(n_claimants)
        connections.close_all()
        pool = ctx.Pool(n_claimants)
    tally = Counter()
    try:
        for _ in range(ROUNDS):
            order = t.make_order(world.a, actor=staff)
            actions.accept_order(order, actor=staff, category=category)
            actions.dispatch_order(order, actor=staff, pool=True)
            results = _threads(order.pk, users) if is_sqlite else _processes(order.pk, users, pool, barrier)
            outcomes = Counter(results)
            tally.update(outcomes)
            assert outcomes["won"] == 1, outcomes
            assert outcomes["conflict"] == n_claimants - 1, outcomes
            order.refresh_from_db()
            assert order.status == Status.CLAIMED
            assert OrderEvent.objects.filter(order=order, to_status=Status.CLAIMED).count() == 1
            # Free the winner's load for the next round (arrangement, not under test).
            Order.objects.filter(pk=order.pk).update(status=Status.CLOSED)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
            manager.shutdown()
    assert tally["won"] == ROUNDS
    assert not [k for k in tally if k.startswith("error")], tally
