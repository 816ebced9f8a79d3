"""Benchmark (not a test): the dispatcher's top-10 suggestions through Django, database included.

The bar (quality.md): p99 ≤ 20 ms for one order in a community with 2,000 registered members.
bench/suggest.py times the engine alone; this times `linli.dispatch.suggestions.suggest_for_order`
as the order page calls it — the town's weights, the batch load (orders, rules, registrations,
members, skills, loads and ratings, hours, pairings), the ranking, the explanations and the
members shown — on SQLite and on PostgreSQL. Baseline in the same run: fetching the order by
primary key (`Order.objects.get(pk=…)`), the least any page does.

A throwaway database is created, migrated and filled with one community of `--members`
registered members (60 % live there, the rest come through their unit's pairing), 1–3 of 7
skills each, half-day availability, caps 1–3, orders held by a third, rated orders for 70 %,
service hours this year, and `--orders` accepted orders (three quarters needing a skill).

    .venv/bin/python bench/suggest_django.py --backend sqlite
    DATABASE_URL=postgres://root@127.0.0.1:5432/postgres .venv/bin/python bench/suggest_django.py --backend postgresql
"""

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # the project root, not bench/ (bench/http.py would shadow the stdlib)

SKILLS = ["水电维修", "助老", "理发", "家电维修", "心理疏导", "法律咨询", "助学"]


def setup(backend, db_name):
    if backend == "postgresql":
        import psycopg

        base = os.environ.get("DATABASE_URL") or "postgres://root@127.0.0.1:5432/postgres"
        parts = urlsplit(base)
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}"')
            conn.execute(f'CREATE DATABASE "{db_name}"')
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + db_name))
        cleanup = None
    else:
        os.environ.pop("DATABASE_URL", None)
        tmp = tempfile.mkdtemp(prefix="linli-bench-suggest-")
        os.environ["LINLI_SQLITE_PATH"] = os.path.join(tmp, "bench.sqlite3")
        cleanup = tmp
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return cleanup


def generate(n_members, n_orders, rng):
    from django.utils import timezone

    from linli.credits.models import ServiceRecord
    from linli.orders.models import CategoryRule, Order
    from linli.orgs.models import Category, Community, Grid, Pairing, Town, Unit
    from linli.people.models import Member, MemberSkill, Registration, Skill

    now = timezone.now()
    town = Town.objects.create(code="BT", name="基准镇")
    community = Community.objects.create(town=town, code="BC0", name="基准社区")
    others = [Community.objects.create(town=town, code=f"BC{i}", name=f"邻近社区{i}") for i in range(1, 6)]
    grids = [Grid.objects.create(community=community, code=f"BG{i}", name=f"网格{i}") for i in range(8)]
    skills = [Skill.objects.create(code=f"bs{i}", name=name) for i, name in enumerate(SKILLS)]
    categories = []
    for i, skill in enumerate(skills):
        category = Category.objects.create(town=town, code=f"bc{i}", name=skill.name)
        CategoryRule.objects.create(category=category, required_skill=skill)
        categories.append(category)
    categories.append(Category.objects.create(town=town, code="bc-any", name="其他"))
    unit = Unit.objects.create(town=town, code="BU", name="结对单位")
    Pairing.objects.create(unit=unit, community=community)
    members = []
    for i in range(n_members):
        lives_here = rng.random() < 0.6
        members.append(
            Member(
                member_no=f"B{i:06d}",
                name=f"党员{i}",
                gender="M",
                birth_date=dt.date(1980, 1, 1),
                id_number="x",
                id_hash=f"bench{i}",
                phone="",
                phone_hash="",
                home_community=community if lives_here else rng.choice(others),
                home_grid=rng.choice(grids) if lives_here else None,
                unit=None if lives_here else unit,
                availability=sum(1 << s for s in range(14) if rng.random() < 0.35),
                load_cap=rng.choice([1, 2, 3]),
            )
        )
    members = Member.objects.bulk_create(members, batch_size=500)
    MemberSkill.objects.bulk_create(
        [
            MemberSkill(member=m, skill=s, level=rng.choice([1, 2, 3]))
            for m in members
            for s in rng.sample(skills, rng.randint(1, 3))
        ],
        batch_size=500,
    )
    regs = [Registration(member=m, community=community, status="approved", requested_at=now) for m in members]
    regs += [
        Registration(member=m, community=m.home_community, status="approved", requested_at=now)
        for m in members
        if m.home_community != community
    ]
    Registration.objects.bulk_create(regs, batch_size=500)
    orders = []
    for m in members:
        for _ in range(rng.choice([0, 0, 1, 1, 2]) if rng.random() < 0.33 else 0):
            orders.append(Order(town=town, community=community, title="在办", status="claimed", assignee=m))
        if rng.random() < 0.7:
            orders.append(
                Order(
                    town=town,
                    community=community,
                    title="已评价",
                    status="closed",
                    assignee=m,
                    rating=rng.choice(["satisfied", "satisfied", "basically", "unsatisfied"]),
                    closed_at=now - dt.timedelta(days=rng.randint(1, 170)),
                )
            )
    open_orders = [
        Order(
            town=town,
            community=community,
            grid=rng.choice(grids),
            category=rng.choice(categories[:-1]) if rng.random() < 0.75 else categories[-1],
            priority=rng.randint(1, 5),
            title="待派",
            status="accepted",
        )
        for _ in range(n_orders)
    ]
    Order.objects.bulk_create(orders + open_orders, batch_size=500)
    ServiceRecord.objects.bulk_create(
        [
            ServiceRecord(
                member=m,
                community=community,
                kind="registration",
                activity_name="服务",
                service_date=timezone.localdate(now).replace(month=1, day=1) + dt.timedelta(days=rng.randint(0, 200)),
                hours=f"{rng.randint(1, 300) / 10:.1f}",
                organizer="社区",
                source_type="manual",
                source_id=i,
                recorded_at=now,
            )
            for i, m in enumerate(members)
            if rng.random() < 0.8
        ],
        batch_size=500,
    )
    return list(Order.objects.filter(status="accepted").order_by("pk"))


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--db", default="disp_suggest", help="PostgreSQL: throwaway database name (dropped after)")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    cleanup = setup(args.backend, args.db)
    try:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from linli.dispatch.suggestions import suggest_for_order
        from linli.orders.models import Order

        rng = random.Random(0)
        t = time.perf_counter()
        orders = generate(args.members, args.orders, rng)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # as autovacuum would have: planner statistics for the new rows
        print(f"generated a community of {args.members:,} members in {time.perf_counter() - t:.1f} s ({args.backend})")
        for order in orders[:20]:  # warm up: connection, caches, imports
            suggest_for_order(order)
        with CaptureQueriesContext(connection) as queries:
            suggest_for_order(orders[0])
        ours, base, found = [], [], 0
        for k in range(args.calls):
            order = orders[k % len(orders)]
            t = time.perf_counter()
            found += len(suggest_for_order(order))
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            Order.objects.get(pk=order.pk)
            base.append(time.perf_counter() - t)
        p50, p99 = percentile(ours, 0.5) * 1000, percentile(ours, 0.99) * 1000
        b50, b99 = percentile(base, 0.5) * 1000, percentile(base, 0.99) * 1000
        print(f"suggest_for_order (top 10 with reasons), {args.calls:,} calls, {len(queries)} queries per call")
        print(f"  ours:     p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   mean {statistics.mean(ours) * 1000:6.2f} ms")
        print(f"  baseline: p50 {b50:6.2f} ms   p99 {b99:6.2f} ms   (Order.objects.get(pk=…))")
        print(f"  ratio p50 {p50 / b50:.1f}×, p99 {p99 / b99:.1f}×; {found / args.calls:.1f} suggestions per order")
        print("bar (p99 ≤ 20 ms): " + ("met" if p99 <= 20 else "MISSED"))
    finally:
        from django.db import connections

        connections.close_all()
        if args.backend == "postgresql":
            import psycopg

            base_url = urlsplit(os.environ["DATABASE_URL"])
            with psycopg.connect(urlunsplit(base_url._replace(path="/postgres")), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.db}"')
        elif cleanup:
            import shutil

            shutil.rmtree(cleanup, ignore_errors=True)


if __name__ == "__main__":
    main()
