"""Benchmark (not a test): the dashboards' queries over a generated province (PostgreSQL) or town (SQLite).

The data is generated with set-based SQL in a throwaway database the benchmark creates and drops:

* PostgreSQL (``--pg``): INSERT … SELECT FROM generate_series — by default 3,000 towns of 10
  communities (30,000 communities, 300,000 grids), 1,000,000 members with their registrations,
  10,000,000 orders over the last 365 days with their events (≈ 5 per order) and a service record
  per closed order. Town 1 is a big one (D town of seed 000: 39,500 households, ~100,000
  residents, 40,000 orders); the other towns share the rest evenly (≈ 3,300 orders each).
* SQLite (default): one town of that size — 10 communities, ~100 grids, 39,500 households,
  ~100,000 residents, 1,000 members, 40,000 orders — with a recursive CTE in place of
  generate_series.

Then each dashboard query (linli.reports.dashboards) and each whole page (the view, rendered) is
timed for town 1 — the median of --repeat runs — against the same-run baseline: one
``SELECT COUNT(*) FROM orders_order``. Printed: absolute ms and the ratio to the baseline; the bars
(docs/quality.md) are ≤ 500 ms for a town dashboard on PostgreSQL and ≤ 1 s on SQLite.

    .venv/bin/python bench/dashboards.py                          # SQLite, one town, 40,000 orders
    .venv/bin/python bench/dashboards.py --pg                     # PostgreSQL, 10,000,000 orders
    .venv/bin/python bench/dashboards.py --pg --orders 1000000    # a quicker PostgreSQL run
    .venv/bin/python bench/dashboards.py --pg --keep              # keep the database (prints its name)
    .venv/bin/python bench/dashboards.py --pg --reuse linli_bench_dash_123   # time a kept database again
    .venv/bin/python bench/dashboards.py --keep; … --reuse /tmp/linli-bench-dash-123.sqlite3

PostgreSQL is reached as ``--pg-admin`` (default postgresql://root@127.0.0.1:5432/postgres), which
must be allowed to create databases.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The script's own folder comes first on sys.path, and bench/http.py would shadow the standard library's.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

A = argparse.ArgumentParser(description=__doc__.split("\n")[0])
A.add_argument("--pg", action="store_true", help="PostgreSQL (default: SQLite)")
A.add_argument("--pg-admin", default="postgresql://root@127.0.0.1:5432/postgres")
A.add_argument("--orders", type=int, default=None, help="orders in all (default 10,000,000 on PG, 40,000 on SQLite)")
A.add_argument("--towns", type=int, default=None, help="towns (default 3,000 on PG, 1 on SQLite)")
A.add_argument("--members", type=int, default=None, help="members in all (default 1,000,000 on PG, 1,000 on SQLite)")
A.add_argument("--big-orders", type=int, default=40_000, help="orders of town 1, the one timed")
A.add_argument("--repeat", type=int, default=7)
A.add_argument(
    "--pg-set",
    default="",
    metavar="SETTINGS",
    help="PostgreSQL settings for the timing session, e.g. 'random_page_cost=1.1,jit=off'",
)
A.add_argument("--no-rollup", action="store_true", help="do not (re)build the daily roll-up before timing")
A.add_argument("--keep", action="store_true", help="keep the database (PostgreSQL) or file (SQLite)")
A.add_argument("--reuse", metavar="DB", help="time a kept database (a PostgreSQL name or a .sqlite3 path)")
ARGS = A.parse_args()

PG = ARGS.pg or bool(ARGS.reuse and not ARGS.reuse.endswith(".sqlite3"))
TOWNS = ARGS.towns or (3_000 if PG else 1)
ORDERS = ARGS.orders or (10_000_000 if PG else 40_000)
MEMBERS = ARGS.members or (1_000_000 if PG else 1_000)
BIG = min(ARGS.big_orders, ORDERS)
COMMUNITIES_PER_TOWN = 10
GRIDS_PER_COMMUNITY = 10
CATEGORIES_PER_TOWN = 20
DEPARTMENTS_PER_TOWN = 9
BUILDINGS_PER_GRID = 8
HOUSEHOLDS_PER_BUILDING = 49  # 10 communities × 10 grids × 8 × 49 ≈ 39,200 households in town 1
RESIDENTS_PER_HOUSEHOLD = 2.5
N_COMMUNITIES = TOWNS * COMMUNITIES_PER_TOWN
N_GRIDS = N_COMMUNITIES * GRIDS_PER_COMMUNITY

_tmp = tempfile.TemporaryDirectory(prefix="linli-bench-dash-")
os.environ["LINLI_VAR_DIR"] = _tmp.name
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
DB_NAME = ARGS.reuse or f"linli_bench_dash_{os.getpid()}"
if PG:
    import psycopg

    base = ARGS.pg_admin.rsplit("/", 1)[0]
    os.environ["DATABASE_URL"] = f"{base}/{DB_NAME}"
    if not ARGS.reuse:
        with psycopg.connect(ARGS.pg_admin, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{DB_NAME}"')
else:
    os.environ.pop("DATABASE_URL", None)
    if ARGS.reuse:
        SQLITE_PATH = Path(ARGS.reuse)
    elif ARGS.keep:
        SQLITE_PATH = Path(tempfile.gettempdir()) / f"linli-bench-dash-{os.getpid()}.sqlite3"
    else:
        SQLITE_PATH = Path(_tmp.name) / "bench.sqlite3"
    os.environ["LINLI_SQLITE_PATH"] = str(SQLITE_PATH)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.utils import timezone  # noqa: E402

# {% static %} without a collectstatic manifest, as in the tests.
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- set-based generation ------------------------------------------------------------------------

NOW = timezone.now().replace(microsecond=0)
T0 = NOW - dt.timedelta(days=365)
YEAR_S = 365 * 86400
# Multipliers for cheap per-row pseudo-random numbers: ((i × P + Q) mod 2³¹−1) mod m.
_P = (2654435761, 2246822519, 3266489917, 668265263, 374761393, 1103515245, 2147483629, 1664525, 22695477, 134775813)


def rnd(k: int, i: str, m: int) -> str:
    return f"((({i}) * {_P[k]} + {k * 7919 + 17}) % 2147483647 % {m})"


def utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def series(n: int) -> tuple[str, str]:
    """(prefix, from-item) yielding i = 1..n."""
    if PG:
        return "", f"generate_series(1::bigint, {int(n)}::bigint) AS g(i)"
    return f"WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {int(n)}) ", "g"


def plus(ts: str, seconds: str) -> str:
    """A timestamp expression plus a number of seconds (an SQL expression)."""
    if PG:
        return f"({ts} + ({seconds}) * INTERVAL '1 second')"
    return f"datetime({ts}, '+' || ({seconds}) || ' seconds')"


def at(moment: dt.datetime) -> str:
    return f"TIMESTAMPTZ '{utc(moment)}+00'" if PG else f"'{utc(moment)}'"


def local_date(ts: str) -> str:
    return f"(({ts}) AT TIME ZONE 'Asia/Shanghai')::date" if PG else f"date({ts}, '+8 hours')"


def json(text_sql: str) -> str:
    return f"({text_sql})::jsonb" if PG else text_sql


TRUE, FALSE = ("TRUE", "FALSE") if PG else ("1", "0")


def run(label: str, sql: str) -> None:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.rowcount
    shown = f"{rows:>12,} rows" if rows >= 0 else " " * 17
    print(f"  {label:<34} {shown} {time.perf_counter() - started:8.1f} s", flush=True)


def insert(label: str, table: str, columns: str, n: int, select: str, where: str = "") -> None:
    prefix, source = series(n)
    run(label, f"{prefix}INSERT INTO {table} ({columns}) SELECT {select} FROM {source} {where}")


# Secondary indexes and foreign keys are dropped for the load and built again afterwards (the
# definitions are read back from the catalogue, so they are exactly the migrations' ones).
BULK_TABLES = (
    "orders_order",
    "orders_orderevent",
    "credits_servicerecord",
    "people_member",
    "people_registration",
    "people_resident",
    "orgs_household",
)


def drop_indexes() -> list[str]:
    if not PG:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT LIKE '%%_pkey'"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            [list(BULK_TABLES)],
        )
        found = cursor.fetchall()
        for name, _definition in found:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET session_replication_role = replica")  # no FK triggers during the load
        cursor.execute("SET synchronous_commit = off")
    return [definition for _name, definition in found]


def build_indexes(definitions: list[str]) -> None:
    if not PG:
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SET session_replication_role = DEFAULT")
        for definition in definitions:
            cursor.execute(definition)
    print(f"  {'indexes (' + str(len(definitions)) + ')':<34} {'':>17} {time.perf_counter() - started:8.1f} s")


def generate() -> None:
    print(
        f"Generating: {TOWNS:,} towns, {N_COMMUNITIES:,} communities, {N_GRIDS:,} grids, {MEMBERS:,} members, "
        f"{ORDERS:,} orders (town 1: {BIG:,})",
        flush=True,
    )
    call_command("migrate", verbosity=0)
    definitions = drop_indexes()
    c_per_t, g_per_c = COMMUNITIES_PER_TOWN, GRIDS_PER_COMMUNITY
    insert(
        "towns",
        "orgs_town",
        "id, code, name, households_per_grid_worker, people_per_grid_worker",
        TOWNS,
        "i, 'BT' || i, '基准镇' || i, 400, 1200",
    )
    insert(
        "communities",
        "orgs_community",
        "id, code, name, kind, town_id",
        N_COMMUNITIES,
        f"i, 'BC' || i, '基准社区' || i, 'urban', (i - 1) / {c_per_t} + 1",
    )
    insert(
        "grids",
        "orgs_grid",
        "id, code, name, kind, boundary, community_id",
        N_GRIDS,
        f"i, 'BG' || i, '第' || i || '网格', 'comprehensive', NULL, (i - 1) / {g_per_c} + 1",
    )
    insert(
        "categories",
        "orgs_category",
        'id, code, name, "group", is_property, town_id',
        TOWNS * CATEGORIES_PER_TOWN,
        f"i, 'cat' || i, '类别' || ((i - 1) % {CATEGORIES_PER_TOWN} + 1), '', {FALSE},"
        f" (i - 1) / {CATEGORIES_PER_TOWN} + 1",
    )
    insert(
        "departments",
        "orgs_department",
        "id, name, town_id",
        TOWNS * DEPARTMENTS_PER_TOWN,
        f"i, '部门' || ((i - 1) % {DEPARTMENTS_PER_TOWN} + 1), (i - 1) / {DEPARTMENTS_PER_TOWN} + 1",
    )

    # Town 1: buildings, households and residents (grid sizing reads them).
    town1_grids = c_per_t * g_per_c
    n_buildings = town1_grids * BUILDINGS_PER_GRID
    n_households = n_buildings * HOUSEHOLDS_PER_BUILDING
    insert(
        "buildings (town 1)",
        "orgs_building",
        "id, name, address, estate_id, grid_id",
        n_buildings,
        f"i, i || '栋', '基准路' || i || '号', NULL, (i - 1) / {BUILDINGS_PER_GRID} + 1",
    )
    insert(
        "households (town 1)",
        "orgs_household",
        "id, entrance, door, address, building_id",
        n_households,
        f"i, '1单元', '' || i, '基准路' || i, (i - 1) / {HOUSEHOLDS_PER_BUILDING} + 1",
    )
    n_residents = int(n_households * RESIDENTS_PER_HOUSEHOLD)
    insert(
        "residents (town 1)",
        "people_resident",
        "id, name, gender, birth_date, phone, phone_hash, id_number, id_hash, tags, is_party_member, relation,"
        " moved_out, household_id, user_id",
        n_residents,
        f"i, '居民' || i, 'F', NULL, '', '', '', NULL, '', {FALSE}, '', "
        f"CASE WHEN {rnd(0, 'i', 50)} = 0 THEN {TRUE} ELSE {FALSE} END, (i - 1) * 2 / 5 + 1, NULL",
    )

    # Members: town 1 gets its share of 1,000 (D town); the rest spread over the other towns.
    m_per_c = max(1, MEMBERS // N_COMMUNITIES)
    home = f"((i - 1) / {m_per_c}) % {N_COMMUNITIES} + 1"
    insert(
        "members",
        "people_member",
        "id, member_no, name, gender, birth_date, id_type, id_number, id_hash, residence_area, phone, phone_hash,"
        " service_types, is_party_member, availability, load_cap, consent_contact_at, consent_report_at, joined_at,"
        " home_community_id, home_grid_id, unit_id, user_id",
        MEMBERS,
        f"i, 'B' || i, '党员' || i, 'M', '1980-01-01', 'resident_id', '', 'h' || i, '', '', '', "
        f"{json(repr('[]'))}, {TRUE}, 16383, 3, NULL, NULL, {at(T0)}, {home}, "
        f"({home} - 1) * {g_per_c} + {rnd(1, 'i', g_per_c)} + 1, NULL, NULL",
    )
    insert(
        "registrations",
        "people_registration",
        "id, status, requested_at, decided_at, reason, community_id, member_id, unit_id",
        MEMBERS,
        f"i, 'approved', {at(T0)}, {at(T0)}, '', {home}, i, NULL",
    )

    # Orders: the first BIG go to town 1's communities, the rest evenly to all communities.
    community = f"CASE WHEN i <= {BIG} THEN {rnd(2, 'i', c_per_t)} + 1 ELSE {rnd(2, 'i', N_COMMUNITIES)} + 1 END"
    created = plus(at(T0), rnd(3, "i", YEAR_S))
    u = rnd(4, "i", 100)  # the order's fate
    prefix, source = series(ORDERS)
    escalated = f"((u >= 12 AND u < 15) OR (u >= 15 AND {rnd(7, 'i', 10)} = 0))"
    # Every event of an order happens at or before its updated_at, as in the product (each
    # transition stamps it): the latest of the times below, the acknowledgement included.
    ack = f"CASE WHEN dep AND u <> 12 AND u <> 13 THEN {plus('resp', rnd(2, 'i', 172800))} END"
    bounce = f"CASE WHEN dep AND {rnd(3, 'i', 5)} = 0 THEN {plus('resp', '3600')} END"
    updated = (
        f"GREATEST(created, acc, resp, res, clo, {ack}, {bounce})"
        if PG
        else f"MAX(created, COALESCE(acc, created), COALESCE(resp, created), COALESCE(res, created),"
        f" COALESCE(clo, created), COALESCE({ack}, created), COALESCE({bounce}, created))"
    )
    run(
        "orders",
        f"""{prefix}INSERT INTO orders_order (id, address, lat, long, kind, title, description, priority, channel,
            partner, contact_name, contact_phone, anonymous, status, created_at, updated_at, accepted_at, respond_by,
            responded_at, resolve_by, escalation_due, resolved_at, closed_at, result_note, reject_reason, rating,
            rating_comment, assignee_id, assignee_unit_id, building_id, category_id, community_id, department_id,
            grid_id, household_id, resident_id, submitted_by_id, town_id, merged_into_id)
        SELECT i, '基准路1号', NULL, NULL, 'need', '诉求' || i, '', 3, 'web', '', '', '', {FALSE},
            CASE WHEN u < 3 THEN 'submitted' WHEN u < 5 THEN 'rejected' WHEN u < 8 THEN 'accepted'
                 WHEN u < 12 THEN 'in_progress' WHEN u < 14 THEN 'escalated' WHEN u < 15 THEN 'acknowledged'
                 WHEN u < 18 THEN 'resolved' ELSE 'closed' END,
            created, {updated}, acc, {plus("acc", "7200")}, resp, rby, CASE WHEN dep THEN rby END, res, clo,
            '', CASE WHEN u >= 3 AND u < 5 THEN '重复' ELSE '' END,
            CASE WHEN u < 18 THEN '' WHEN {rnd(9, "i", 100)} < 85 THEN 'satisfied' WHEN {rnd(9, "i", 100)} < 96
                 THEN 'basically' ELSE '' END,
            '', NULL, NULL, NULL,
            CASE WHEN u >= 5 THEN (town - 1) * {CATEGORIES_PER_TOWN} + {rnd(1, "i", CATEGORIES_PER_TOWN)} + 1 END,
            c,
            CASE WHEN dep THEN (town - 1) * {DEPARTMENTS_PER_TOWN} + {rnd(0, "i", DEPARTMENTS_PER_TOWN)} + 1 END,
            (c - 1) * {g_per_c} + {rnd(6, "i", g_per_c)} + 1, NULL, NULL, NULL, town, NULL
        FROM (SELECT i, c, town, u, created, dep, acc,
                CASE WHEN u >= 8 THEN {plus("acc", rnd(6, "i", 10800))}
                     WHEN u >= 3 AND u < 5 THEN {plus("created", rnd(6, "i", 10800))} END AS resp,
                CASE WHEN u >= 5 THEN {plus("acc", "259200")} END AS rby,
                CASE WHEN u >= 15 THEN {plus("acc", rnd(8, "i", 432000))} END AS res,
                CASE WHEN u >= 18 THEN {plus("acc", f"{rnd(8, 'i', 432000)} + 86400")} END AS clo
            FROM (SELECT i, c, (c - 1) / {c_per_t} + 1 AS town, u, created, {escalated} AS dep,
                    CASE WHEN u >= 5 THEN {plus("created", rnd(5, "i", 3600))} END AS acc
                FROM (SELECT i, {community} AS c, {u} AS u, {created} AS created FROM {source}) s0) s1) s""",
    )
    # Events: one statement per kind of event, each from the orders themselves.
    cols = "order_id, at, kind, from_status, to_status, note, data, dedupe_key, actor_id, department_id, member_id"
    empty = json("'{}'")

    def events(label, at_sql, kind, from_status, to_status, where, department="NULL", data=empty):
        run(
            f"events: {label}",
            f"INSERT INTO orders_orderevent ({cols}) SELECT id, {at_sql}, '{kind}', '{from_status}', '{to_status}',"
            f" '', {data}, NULL, NULL, {department}, NULL FROM orders_order o WHERE {where}",
        )

    events("submitted", "created_at", "transition", "", "submitted", "TRUE" if PG else "1")
    events("accepted", "accepted_at", "transition", "submitted", "accepted", "accepted_at IS NOT NULL")
    events("rejected", "responded_at", "transition", "submitted", "rejected", "status = 'rejected'")
    events(
        "dispatched",
        "responded_at",
        "transition",
        "accepted",
        "dispatched",
        "responded_at IS NOT NULL AND department_id IS NULL AND status <> 'rejected'",
    )
    events(
        "escalated",
        "responded_at",
        "transition",
        "accepted",
        "escalated",
        "department_id IS NOT NULL AND responded_at IS NOT NULL",
        department="department_id",
    )
    events(
        "acknowledged",
        plus("responded_at", rnd(2, "id", 172800)),
        "transition",
        "escalated",
        "acknowledged",
        "department_id IS NOT NULL AND responded_at IS NOT NULL AND status <> 'escalated'",
        department="department_id",
    )
    events(
        "bounced",
        plus("responded_at", "3600"),
        "bounce",
        "escalated",
        "accepted",
        f"department_id IS NOT NULL AND responded_at IS NOT NULL AND {rnd(3, 'id', 5)} = 0",
        department="department_id",
    )
    events(
        "resolved",
        "resolved_at",
        "transition",
        "in_progress",
        "resolved",
        "resolved_at IS NOT NULL",
        department="department_id",
    )
    events(
        "reopened (不满意)",
        plus("resolved_at", "43200"),
        "reopen",
        "resolved",
        "accepted",
        f"status = 'closed' AND {rnd(4, 'id', 33)} = 0",
        data=json('\'{"rating": "unsatisfied"}\''),
    )
    events(
        "closed",
        "closed_at",
        "transition",
        "resolved",
        "closed",
        "status = 'closed'",
        data=json("'{\"rating\": \"' || rating || '\"}'"),
    )
    # Service records: one per closed order that a member handled, to a member of its community.
    run(
        "service records",
        f"""INSERT INTO credits_servicerecord (kind, activity_name, service_date, place, content, hours, organizer,
            leader, source_type, source_id, activity_kind, recorded_at, late, category_id, community_id, member_id,
            recorder_id, corrects_id)
        SELECT 'registration', title, {local_date("resolved_at")}, '', '', 1 + {rnd(5, "id", 4)}, '社区', '',
            'order', id, '', closed_at, {FALSE}, category_id, community_id,
            ((community_id - 1) * {m_per_c} + {rnd(6, "id", m_per_c)}) % {MEMBERS} + 1, NULL, NULL
        FROM orders_order WHERE status = 'closed' AND department_id IS NULL""",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM orders_orderevent e JOIN orders_order o ON o.id = e.order_id"
            " WHERE e.at > o.updated_at"
        )
        assert cursor.fetchone()[0] == 0, "an event after its order's updated_at"
    build_indexes(definitions)
    if PG:
        with connection.cursor() as cursor:
            for table in (
                "orgs_town",
                "orgs_community",
                "orgs_grid",
                "orgs_category",
                "orgs_department",
                "orgs_building",
                *BULK_TABLES,
            ):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            started = time.perf_counter()
            cursor.execute("VACUUM ANALYZE")
            print(f"  {'VACUUM ANALYZE':<34} {'':>17} {time.perf_counter() - started:8.1f} s")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


# --- timing ------------------------------------------------------------------------------------------


def median_ms(fn, repeat: int) -> float:
    fn()  # warm the cache and the plan
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def count_all():
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM orders_order")
        return cursor.fetchone()[0]


def main() -> None:
    if not ARGS.reuse:
        started = time.perf_counter()
        generate()
        print(f"Generated in {time.perf_counter() - started:.0f} s\n")

    from linli.accounts.actions import assign_role
    from linli.accounts.models import Role, User
    from linli.orgs.models import Community, Grid, Town
    from linli.reports import dashboard_rollup
    from linli.reports import dashboard_views as views
    from linli.reports import dashboards as d

    if ARGS.reuse:
        call_command("migrate", verbosity=0)  # a database kept by an older checkout
    if not ARGS.no_rollup:
        # The daily roll-up the sweep keeps up to date: a first build of every finished day.
        started = time.perf_counter()
        call_command("rollup_order_events", "--rebuild", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM reports_ordereventday")
            rolled = cursor.fetchone()[0]
            cursor.execute("ANALYZE reports_ordereventday")
        print(f"Roll-up (rollup_order_events --rebuild): {rolled:,} rows in {time.perf_counter() - started:.1f} s")
    through = dashboard_rollup.rolled_through()
    print(f"Roll-up through {through} (later days are read from the base tables)")
    if PG and ARGS.pg_set:
        with connection.cursor() as cursor:
            for setting in ARGS.pg_set.split(","):
                cursor.execute(f"SET {setting}")
        print(f"Session settings: {ARGS.pg_set}")
    town = Town.objects.get(pk=1)
    community = Community.objects.filter(town=town).order_by("pk").first()
    grid = Grid.objects.filter(community=community).order_by("pk").first()
    admin, created = User.objects.get_or_create(username="bench_town_admin")
    if created:
        assign_role(admin, Role.TOWN_ADMIN, scope=town, actor=None)
    factory = RequestFactory()
    today = timezone.localdate()

    total = count_all()
    baseline = median_ms(count_all, ARGS.repeat)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM orders_order WHERE town_id = 1")
        town_orders = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM orders_orderevent")
        events = cursor.fetchone()[0]
    backend = "PostgreSQL" if PG else "SQLite"
    print(f"{backend}: {total:,} orders, {events:,} events; town 1 has {town_orders:,} orders")
    print(f"Baseline SELECT COUNT(*) FROM orders_order: {baseline:.3f} ms (median of {ARGS.repeat})\n")

    def page(view, pk, query=""):
        def call():
            request = factory.get(f"/?{query}")
            request.user = User.objects.get(pk=admin.pk)  # a fresh user: its scope is computed per request
            response = view(request, pk)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
            assert response.status_code == 200, response.status_code

        return call

    def cases(preset: str):
        """(name, callable) for one period preset: each query of the town dashboard, then the pages."""
        period = d.parse_period({"period": preset}, today)
        now = timezone.now()
        scope = d.Scope(town=town, through=through)
        sizings = d.grid_sizings(scope)
        events = d.MonthlyEvents(scope, period)
        cells = d.order_cells(scope, period, now)
        query = f"period={preset}"
        return [
            (f"order_cells (one pass over the orders), {preset}", lambda: d.order_cells(scope, period, now)),
            (f"three_rates (from the cells), {preset}", lambda: d.three_rates(scope, period, now, cells)),
            (f"MonthlyEvents (12 months × community), {preset}", lambda: d.MonthlyEvents(scope, period)),
            (f"monthly_trend (from the cells), {preset}", lambda: d.monthly_trend(scope, period, now, events, cells)),
            (f"volume_by_category, {preset}", lambda: d.volume_by_category(scope, period)),
            (f"returns_by_department, {preset}", lambda: d.returns_by_department(scope, period)),
            (f"member_activity, {preset}", lambda: d.member_activity(scope, period, today)),
            ("grid_sizings (town)", lambda: d.grid_sizings(scope)),
            (f"breakdown (10 communities), {preset}", lambda: d.breakdown(scope, period, now, sizings, events, cells)),
            (f"department_league, {preset}", lambda: d.department_league(town, period, now)),
            (f"PAGE town dashboard, {preset}", page(views.town_dashboard, town.pk, query)),
            (f"PAGE community dashboard, {preset}", page(views.community_dashboard, community.pk, query)),
            (f"PAGE grid dashboard, {preset}", page(views.grid_dashboard, grid.pk, query)),
            (f"PAGE department league, {preset}", page(views.department_league, town.pk, query)),
            (f"PAGE town export .xlsx, {preset}", page(views.town_dashboard_xlsx, town.pk, query)),
        ]

    rows = []
    for preset in ("month", "year"):
        for name, fn in cases(preset):
            if preset == "year" and name.startswith("grid_sizings"):
                continue  # no period in it
            ms = median_ms(fn, ARGS.repeat)
            rows.append((name, ms))
            print(f"  {name:<48} {ms:9.1f} ms  {ms / baseline:8.2f}× baseline", flush=True)
    bar = 500 if PG else 1000
    worst = max(ms for name, ms in rows if name.startswith("PAGE town dashboard"))
    for name, ms in rows:
        if name.startswith("PAGE town dashboard"):
            print(f"{name}: {ms:.0f} ms = {ms / baseline:.2f}× the COUNT(*) baseline ({baseline:.3f} ms)")
    print(f"Town dashboard page, worst period: {worst:.0f} ms (bar {bar} ms: {'met' if worst <= bar else 'NOT met'})")


try:
    main()
finally:
    if PG and not ARGS.keep and not ARGS.reuse:
        connection.close()
        with psycopg.connect(ARGS.pg_admin, autocommit=True) as admin_connection:
            admin_connection.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        print(f"Dropped {DB_NAME}")
    elif PG:
        print(f"Kept {DB_NAME}: --reuse {DB_NAME} to time it again; drop it with DROP DATABASE when done")
    elif ARGS.keep:
        print(f"Kept {SQLITE_PATH}: --reuse {SQLITE_PATH} to time it again")
