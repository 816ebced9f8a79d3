"""Sixteen concurrent credits for one source leave exactly one ledger row.

SQLite: 16 threads (IMMEDIATE transactions + busy timeout turn contention into waiting).
PostgreSQL: 16 forked processes (the unique constraints must hold where check-then-insert races).
Every caller gets a clean answer (a row or None), never an error.
"""

import datetime as dt
import multiprocessing
import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Sum

from linli import testing as t
from linli.credits import actions
from linli.credits.models import CreditSettings, PointEntry, ServiceRecord, StarEvent
from linli.people.models import Member

CALLERS = 16
ROUNDS = 5


def _credit(member_id: int, community_id: int, source_id: int) -> str:
    try:
        from linli.orgs.models import Community

        member = Member.objects.get(pk=member_id)
        community = Community.objects.get(pk=community_id)
        record = actions.record_service(
            member,
            hours="1.5",
            source_type="shift",
            source_id=source_id,
            community=community,
            service_date=dt.date.today() - dt.timedelta(days=1),
            activity_name="周末义诊",
            place="社区卫生站",
            content="测量血压",
            organizer=community.name,
            leader="李医生",
        )
        entry = actions.award_points(
            member, rule="service_hours", source_type="shift", source_id=source_id, hours="1.5", town=community.town_id
        )
        return f"record={record is not None},points={entry is not None}"
    except Exception as exc:  # any error is a failure the test reports
        return f"error:{type(exc).__name__}:{exc}"
    finally:
        connections.close_all()


def _threads(args):
    barrier = threading.Barrier(CALLERS)
    results, lock = [], threading.Lock()

    def run():
        barrier.wait()
        outcome = _credit(*args)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(CALLERS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return results


def _proc_worker(payload):
    args, barrier = payload
    connections.close_all()  # never share the parent's socket
    barrier.wait()
    return _credit(*args)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_credits_for_one_source_make_one_entry(world):
    is_sqlite = connection.vendor == "sqlite"
    member = t.make_member(home_community=world.a)
    # Stars every 1.5 h: each winning round crosses one threshold, so a duplicate StarEvent would show.
    CreditSettings.objects.create(town=world.town, star_thresholds=[1.5, 3, 4.5, 6, 7.5])
    pool = barrier = manager = None
    if not is_sqlite:
        ctx = multiprocessing.get_context("fork")
        manager = ctx.Manager()
        barrier = manager.Barrier(CALLERS)
        connections.close_all()
        pool = ctx.Pool(CALLERS)
    try:
        for source_id in range(1, ROUNDS + 1):
            args = (member.pk, world.a.pk, source_id)
            results = _threads(args) if is_sqlite else pool.map(_proc_worker, [(args, barrier)] * CALLERS)
            outcomes = Counter(results)
            assert not [k for k in outcomes if k.startswith("error")], outcomes
            assert outcomes["record=True,points=True"] + outcomes["record=True,points=False"] == 1, outcomes
            assert sum(1 for r in results if "points=True" in r) == 1, outcomes
            assert ServiceRecord.objects.filter(member=member, source_id=source_id).count() == 1
            assert PointEntry.objects.filter(member=member, source_id=source_id).count() == 1
    finally:
        if pool is not None:
            pool.close()
            pool.join()
            manager.shutdown()
    assert ServiceRecord.objects.filter(member=member).aggregate(s=Sum("hours"))["s"] == Decimal("7.5")
    assert list(StarEvent.objects.filter(member=member).values_list("to_level", flat=True)) == [1, 2, 3, 4, 5]
