"""Benchmark (not a test): batch dispatch end to end from PostgreSQL at province scale.

The bar (quality.md): loading the orders and members from the database, building candidates,
solving and writing the plan takes at most 1.0× the time OR-Tools' `SimpleMinCostFlow` needs to
solve the same candidate graph alone (the exact reference of bench/dispatch.py), measured in the
same run.

1. Generate (once, `--generate`): a throwaway PostgreSQL database (created and migrated here) is
   filled through the real Django models' tables by binary COPY — towns of 10 communities,
   communities of ~35 members with 5 grids, 4 units per community each paired (Pairing) with
   another community of its district of 100 (`--cross`: a share paired anywhere), members with
   1–3 of 15 skills of skewed popularity, half-day availability, caps 1–3, orders held
   (load 0–2), a rated order in the last 180 days for 70 % and service hours this year for most;
   members with a unit registered (报到, approved) with the unit's paired community as well as
   their home; open (accepted) orders clustered in hot spots (lognormal community weights, a hot
   grid in each) with priorities 1–5 and a category needing a skill for 75 %. This is
   bench/dispatch.py's instance shape, with pairing through units as the product stores it.
2. Time, `--repeat` times, interleaved:
   * load — `linli.dispatch.loading.load_batch` over every accepted order: only the communities
     with open orders and the members registered with them;
   * candidates — `matching.build_candidates` (numpy);
   * solve — `matching.assign`;
   * write — `linli.dispatch.actions.record_plan`: the DispatchRun and one DispatchAssignment per
     order with its reasons;
   * reference — OR-Tools `SimpleMinCostFlow` on the same whole candidate graph, solve only.
   and print each stage (median), the end-to-end total ÷ the reference and whether the plan's
   score equals the reference's optimum.

    DATABASE_URL=postgres://root@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/dispatch_e2e.py --db disp_e2e --generate [--members 1000000 --orders 100000]
    ... bench/dispatch_e2e.py --db disp_e2e            # time again on the generated data
    ... bench/dispatch_e2e.py --db disp_e2e --drop     # drop the database at the end

The generated province is a batch of its own: the whole province's accepted orders in one run,
with the engine's default weights (a product run is one town, grid or community and uses the
town's weights). Runs written by the benchmark are deleted again.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# The project root instead of bench/ (whose modules, e.g. bench/http.py, would shadow the stdlib's).
sys.path[0] = str(ROOT)

COMMUNITY_SIZE = 35
TOWN_COMMUNITIES = 10
DISTRICT_COMMUNITIES = 100
GRIDS_PER_COMMUNITY = 5
UNITS_PER_COMMUNITY = 4
N_SKILLS = 15
NOW = dt.datetime(2026, 11, 18, 9, 30, tzinfo=dt.UTC)  # a Wednesday morning (slot 4 in Asia/Shanghai)


def _database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path="/" + name))


def _admin(base_url):
    import psycopg

    return psycopg.connect(_database_url(base_url, "postgres"), autocommit=True)


def create_database(base_url, name):
    with _admin(base_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(base_url, name):
    with _admin(base_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


# --- generation ------------------------------------------------------------------------------------


def _copy_in(cursor, table, columns, nullable=(), consts=None):
    """Insert integer `columns` ({name: array}, −1 = NULL for `nullable`) plus constant SQL
    expressions (`consts`) into `table`: binary COPY into a temporary table, then INSERT … SELECT."""
    from linli.dispatch.columns import pg_binary_copy

    names = list(columns)
    cursor.execute("DROP TABLE IF EXISTS _stage")
    cursor.execute("CREATE TEMP TABLE _stage (" + ", ".join(f"c{i} int8" for i in range(len(names))) + ")")
    data = pg_binary_copy([np.asarray(columns[n], dtype=np.int64) for n in names])
    with cursor.copy("COPY _stage FROM STDIN (FORMAT binary)") as copy:
        step = 1 << 24
        for start in range(0, len(data), step):
            copy.write(data[start : start + step])
    # Columns named "_…" are staged only, for the constant expressions to use (as c0, c1, …).
    exprs = [f"NULLIF(c{i}, -1)" if n in nullable else f"c{i}" for i, n in enumerate(names) if n[0] != "_"]
    consts = consts or {}
    target = ", ".join(f'"{c}"' for c in [*(n for n in names if n[0] != "_"), *consts])
    cursor.execute(f'INSERT INTO "{table}" ({target}) SELECT {", ".join([*exprs, *consts.values()])} FROM _stage')
    cursor.execute("DROP TABLE _stage")


def generate(n_members, n_orders, *, cross=0.0, seed=0):
    """Fill the (migrated, empty) database with a province; returns the row counts."""
    from django.db import connection, transaction

    rng = np.random.default_rng(seed)
    n_comm = max(2, round(n_members / COMMUNITY_SIZE))
    n_town = -(-n_comm // TOWN_COMMUNITIES)
    comm = np.arange(n_comm)
    c_town = comm // TOWN_COMMUNITIES
    d_start = comm - comm % DISTRICT_COMMUNITIES
    d_size = np.minimum(DISTRICT_COMMUNITIES, n_comm - d_start)
    counts = {}

    def ids(n):
        return np.arange(1, n + 1)

    with transaction.atomic(), connection.cursor() as cur:
        t0 = time.perf_counter()
        _copy_in(
            cur,
            "orgs_town",
            {"id": ids(n_town)},
            consts={"code": "'T' || c0", "name": "'镇' || c0", "households_per_grid_worker": "400",
                    "people_per_grid_worker": "1200"},
        )  # fmt: skip
        _copy_in(
            cur,
            "orgs_community",
            {"id": comm + 1, "town_id": c_town + 1},
            consts={"code": "'C' || c0", "name": "'社区' || c0", "kind": "'urban'"},
        )
        n_grid = n_comm * GRIDS_PER_COMMUNITY
        _copy_in(
            cur,
            "orgs_grid",
            {"id": ids(n_grid), "community_id": np.arange(n_grid) // GRIDS_PER_COMMUNITY + 1},
            consts={"code": "'G' || c0", "name": "'网格' || c0", "kind": "'comprehensive'"},
        )
        _copy_in(cur, "people_skill", {"id": ids(N_SKILLS)}, consts={"code": "'sk' || c0", "name": "'技能' || c0"})
        # Categories: per town one per skill (a CategoryRule requires it) and one needing none.
        n_cat = n_town * (N_SKILLS + 1)
        cat = np.arange(n_cat)
        _copy_in(
            cur,
            "orgs_category",
            {"id": cat + 1, "town_id": cat // (N_SKILLS + 1) + 1},
            consts={"code": "'cat' || ((c0 - 1) % 16)", "name": "'类别' || ((c0 - 1) % 16)", "group": "''",
                    "is_property": "false"},
        )  # fmt: skip
        with_rule = cat[cat % (N_SKILLS + 1) < N_SKILLS]
        _copy_in(
            cur,
            "orders_categoryrule",
            {"category_id": with_rule + 1, "required_skill_id": with_rule % (N_SKILLS + 1) + 1},
            consts={"respond_minutes": "120", "resolve_days": "3", "skill_required_to_claim": "true",
                    "max_hours": "8", "auto_close_days": "7"},
        )  # fmt: skip
        # Units: 4 per community, each paired with another community of its district (a share
        # `cross` with any community of the province — that glues districts together).
        n_unit = n_comm * UNITS_PER_COMMUNITY
        u_home = np.arange(n_unit) // UNITS_PER_COMMUNITY
        off = rng.integers(1, np.maximum(d_size[u_home], 2))
        u_paired = d_start[u_home] + (u_home - d_start[u_home] + off) % d_size[u_home]
        far = rng.random(n_unit) < cross
        u_paired[far] = rng.integers(0, n_comm, int(far.sum()))
        u_paired = np.where(u_paired == u_home, (u_home + 1) % n_comm, u_paired)
        _copy_in(
            cur,
            "orgs_unit",
            {"id": ids(n_unit), "town_id": c_town[u_home] + 1},
            consts={"code": "'U' || c0", "name": "'单位' || c0", "kind": "'organ'", "party_branch": "''"},
        )
        _copy_in(cur, "orgs_pairing", {"id": ids(n_unit), "unit_id": ids(n_unit), "community_id": u_paired + 1})
        print(f"  organisations: {time.perf_counter() - t0:.1f} s", flush=True)

        # Members (bench/dispatch.py's shape).
        t0 = time.perf_counter()
        home = rng.integers(0, n_comm, n_members)
        grid = home * GRIDS_PER_COMMUNITY + rng.integers(0, GRIDS_PER_COMMUNITY, n_members)
        popularity = 1.0 / np.arange(1, N_SKILLS + 1) ** 0.9
        popularity /= popularity.sum()
        n_sk = rng.integers(1, 4, n_members)
        sk_member = np.repeat(np.arange(n_members), n_sk)
        sk_id = rng.choice(N_SKILLS, size=len(sk_member), p=popularity)
        key = np.sort(sk_member * N_SKILLS + sk_id)
        key = key[np.append(True, key[1:] != key[:-1])]
        sk_member, sk_id = key // N_SKILLS, key % N_SKILLS
        sk_level = rng.choice([1, 2, 3], size=len(sk_member), p=[0.4, 0.4, 0.2])
        bits = rng.random((n_members, 14)) < 0.25
        avail = (bits * (1 << np.arange(14))).sum(axis=1).astype(np.int64)
        cap = rng.choice([1, 2, 3], size=n_members, p=[0.3, 0.4, 0.3])
        load = np.minimum(rng.choice([0, 1, 2], size=n_members, p=[0.75, 0.2, 0.05]), cap)
        hours10 = np.round(np.minimum(rng.exponential(8.0, n_members), 60.0) * 10).astype(np.int64)
        rated = rng.random(n_members) < 0.7
        rating_kind = rng.choice(3, size=n_members, p=[0.6, 0.3, 0.1])  # satisfied, basically, unsatisfied
        has_unit = rng.random(n_members) < 0.8
        unit = np.where(has_unit, home * UNITS_PER_COMMUNITY + rng.integers(0, UNITS_PER_COMMUNITY, n_members), -2)
        m_id = ids(n_members)
        _copy_in(
            cur,
            "people_member",
            {"id": m_id, "home_community_id": home + 1, "home_grid_id": grid + 1, "availability": avail,
             "load_cap": cap, "unit_id": unit + 1},
            nullable={"unit_id"},
            consts={"member_no": "'M' || c0", "name": "'党员' || c0", "gender": "'M'", "birth_date": "'1980-01-01'",
                    "id_type": "'resident_id'", "id_number": "''", "id_hash": "'h' || c0", "residence_area": "''",
                    "phone": "''", "phone_hash": "''", "service_types": "'[]'", "is_party_member": "true",
                    "joined_at": "now()"},
        )  # fmt: skip
        _copy_in(
            cur,
            "people_memberskill",
            {"id": ids(len(sk_member)), "member_id": sk_member + 1, "skill_id": sk_id + 1, "level": sk_level},
        )
        paired = u_paired[np.where(has_unit, unit, 0)]
        p_member = np.flatnonzero(has_unit & (paired != home))
        r_member = np.concatenate([np.arange(n_members), p_member])
        r_comm = np.concatenate([home, paired[p_member]])
        _copy_in(
            cur,
            "people_registration",
            {"id": ids(len(r_member)), "member_id": r_member + 1, "community_id": r_comm + 1},
            consts={"status": "'approved'", "requested_at": "now()", "decided_at": "now()", "reason": "''"},
        )
        print(f"  members, skills, registrations: {time.perf_counter() - t0:.1f} s", flush=True)

        # Orders: open ones clustered in hot spots; held ones (load); rated closed ones (ratings).
        t0 = time.perf_counter()
        weight = rng.lognormal(0.0, 1.2, n_comm)
        o_comm = rng.choice(n_comm, size=n_orders, p=weight / weight.sum())
        o_grid = o_comm * GRIDS_PER_COMMUNITY + rng.choice(GRIDS_PER_COMMUNITY, n_orders, p=[0.4, 0.25, 0.15, 0.1, 0.1])
        demand = popularity**1.2
        o_skill = np.where(
            rng.random(n_orders) < 0.25, N_SKILLS, rng.choice(N_SKILLS, n_orders, p=demand / demand.sum())
        )
        o_cat = c_town[o_comm] * (N_SKILLS + 1) + o_skill
        priority = rng.choice([1, 2, 3, 4, 5], n_orders, p=[0.1, 0.25, 0.35, 0.2, 0.1])
        held_member = np.repeat(np.arange(n_members), load)
        n_held = len(held_member)
        rated_member = np.flatnonzero(rated)
        n_rated = len(rated_member)
        n_all = n_orders + n_held + n_rated
        # Staged columns c7 ("_s") and c8 ("_d") below: status code and days ago.
        status = np.concatenate([np.zeros(n_orders), rng.integers(1, 4, n_held), 4 + rating_kind[rated_member]]).astype(
            np.int64
        )  # 0 accepted, 1 dispatched, 2 claimed, 3 in progress, 4–6 closed + rating
        community = np.concatenate([o_comm, home[held_member], home[rated_member]])
        days_ago = np.concatenate([np.zeros(n_orders + n_held), rng.integers(1, 180, n_rated)]).astype(np.int64)
        _copy_in(
            cur,
            "orders_order",
            {"id": ids(n_all), "community_id": community + 1, "town_id": c_town[community] + 1,
             "grid_id": np.concatenate([o_grid + 1, np.full(n_held + n_rated, -1)]),
             "category_id": np.concatenate([o_cat + 1, np.full(n_held + n_rated, -1)]),
             "priority": np.concatenate([priority, np.full(n_held + n_rated, 3)]),
             "assignee_id": np.concatenate([np.full(n_orders, -1), held_member + 1, rated_member + 1]),
             "_s": status, "_d": days_ago},
            nullable={"grid_id", "category_id", "assignee_id"},
            consts={
                "address": "''", "kind": "'need'", "title": "'工单' || c0", "description": "''", "channel": "'web'",
                "partner": "''", "contact_name": "''", "contact_phone": "''", "anonymous": "false",
                "status": "(ARRAY['accepted','dispatched','claimed','in_progress','closed','closed','closed'])[c7 + 1]",
                "rating": "(ARRAY['','','','','satisfied','basically','unsatisfied'])[c7 + 1]",
                "closed_at": "CASE WHEN c7 >= 4 THEN timestamptz '2026-11-18 09:30+00' - c8 * interval '1 day' END",
                "created_at": "timestamptz '2026-11-18 09:30+00' - c8 * interval '1 day' - interval '3 days'",
                "updated_at": "now()", "accepted_at": "now()",
                "resolve_by": "timestamptz '2026-11-18 09:30+00' + (c0 % 7) * interval '1 day'",
                "result_note": "''", "reject_reason": "''", "rating_comment": "''",
            },
        )  # fmt: skip
        print(f"  orders: {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        served = np.flatnonzero(hours10 > 0)
        _copy_in(
            cur,
            "credits_servicerecord",
            {"id": ids(len(served)), "member_id": served + 1, "community_id": home[served] + 1,
             "_h": hours10[served], "_d": rng.integers(0, 300, len(served))},
            consts={"kind": "'registration'", "activity_name": "'服务'", "service_date": "date '2026-01-01' + c4::int",
                    "place": "''", "content": "''", "hours": "c3 / 10.0", "organizer": "''", "leader": "''",
                    "source_type": "'manual'", "source_id": "c0", "activity_kind": "''", "recorded_at": "now()",
                    "late": "false"},
        )  # fmt: skip
        print(f"  service records: {time.perf_counter() - t0:.1f} s", flush=True)
        for table in ("orgs_town", "orgs_community", "orgs_grid", "people_skill", "orgs_category", "orgs_unit",
                      "orgs_pairing", "people_member", "people_memberskill", "people_registration", "orders_order",
                      "credits_servicerecord"):  # fmt: skip
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        counts = {
            "towns": n_town,
            "communities": n_comm,
            "members": n_members,
            "skills": len(sk_member),
            "registrations": len(r_member),
            "open orders": n_orders,
            "held orders": n_held,
            "rated orders": n_rated,
            "service records": len(served),
        }
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return counts


# --- timing ----------------------------------------------------------------------------------------


def run_once(weights):
    """One end-to-end pass; returns stage times, the plan's (score, placed) and the candidates."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from linli.dispatch.actions import record_plan
    from linli.dispatch.loading import DispatchScope, load_batch
    from linli.dispatch.models import DispatchRun
    from linli.orders.models import Order, Status
    from matching import build_candidates

    times = {}
    t = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        batch = load_batch(Order.objects.filter(status=Status.ACCEPTED), weights=weights, now=NOW, parallel=True)
    times["load"] = time.perf_counter() - t
    t = time.perf_counter()
    cand = build_candidates(batch.orders, batch.members, batch.weights)
    times["candidates"] = time.perf_counter() - t
    t = time.perf_counter()
    info = {}
    chosen = cand.solve(info)
    times["solve"] = time.perf_counter() - t
    t = time.perf_counter()
    scope = DispatchScope("town", 1, 1, "全省（基准测试）")
    run = record_plan(batch, cand, chosen, info, scope=scope, actor=None)
    times["write"] = time.perf_counter() - t
    result = {
        "score": run.total_score,
        "placed": run.n_assigned,
        "orders": run.n_orders,
        "members": run.n_members,
        "edges": len(cand),
        "exact": run.exact,
        "rows": run.assignments.count(),
        "queries": len(queries),
    }
    DispatchRun.objects.filter(pk=run.pk).delete()
    return times, result, cand


def reference_time(cand):
    from bench.dispatch import reference
    from matching import objective

    kw = {
        "n_orders": cand.n_orders,
        "capacity": cand.capacity,
        "current_load": cand.current_load,
        "load_penalty": cand.load_penalty,
    }
    t = time.perf_counter()
    chosen = reference(cand.order_idx, cand.member_idx, cand.score, **kw)
    elapsed = time.perf_counter() - t
    value, placed = objective(cand.order_idx, cand.member_idx, cand.score, chosen, **{k: kw[k] for k in list(kw)[1:]})
    return elapsed, int(value), int(placed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="disp_e2e", help="throwaway database name (created with --generate)")
    parser.add_argument("--generate", action="store_true", help="(re)create the database and generate a province")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--cross", type=float, default=0.0, help="share of units paired across districts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL") or "postgres://root@127.0.0.1:5432/postgres"
    if not base.startswith("postgres"):
        sys.exit("DATABASE_URL must point at a PostgreSQL server")
    url = _database_url(base, args.db)
    if args.generate:
        create_database(base, args.db)
    setup_django(url)
    from django.core.management import call_command

    from matching import Weights

    if args.generate:
        t = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"migrated in {time.perf_counter() - t:.1f} s; generating …", flush=True)
        t = time.perf_counter()
        counts = generate(args.members, args.orders, cross=args.cross)
        print(f"generated in {time.perf_counter() - t:.1f} s: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    if args.repeat < 1:
        return
    weights = Weights()
    stages = {k: [] for k in ("load", "candidates", "solve", "write", "total", "reference")}
    for i in range(args.repeat):
        times, result, cand = run_once(weights)
        times["total"] = sum(times.values())
        ref_s, ref_value, ref_placed = reference_time(cand)
        times["reference"] = ref_s
        del cand
        for k, v in times.items():
            stages[k].append(v)
        print(
            f"run {i + 1}: "
            + ", ".join(f"{k} {v:.3f} s" for k, v in times.items())
            + f" → ratio {times['total'] / ref_s:.3f}",
            flush=True,
        )
    med = {k: statistics.median(v) for k, v in stages.items()}
    print()
    print(
        f"batch: {result['orders']:,} open orders, {result['members']:,} members loaded, {result['edges']:,} "
        f"candidate edges ({result['edges'] / max(result['orders'], 1):.2f}/order), {result['queries']} queries "
        f"to load, {result['rows']:,} assignment rows written"
    )
    print(
        f"plan: {result['placed']:,} placed, score {result['score']:,}; "
        f"reference optimum {ref_value:,} ({ref_placed:,} placed) → score ratio {result['score'] / ref_value:.6f}"
        + ("" if result["exact"] else " (engine reported inexact)")
    )
    print("| stage | median s | ÷ reference |")
    print("|---|---|---|")
    for k in ("load", "candidates", "solve", "write", "total", "reference"):
        print(f"| {k} | {med[k]:.3f} | {med[k] / med['reference']:.3f} |")
    ratio = statistics.median(t / r for t, r in zip(stages["total"], stages["reference"], strict=True))
    print(f"\nend to end ÷ reference solve (median of per-run ratios): {ratio:.3f}")
    print("bar (≤ 1.0× the reference's solve): " + ("met" if ratio <= 1.0 else "MISSED"))
    if args.drop:
        from django.db import connections

        connections.close_all()
        drop_database(base, args.db)
        print(f"dropped database {args.db}")


if __name__ == "__main__":
    main()
