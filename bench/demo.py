"""Benchmark (not a test): build the demo town (`manage.py demo`) at full scale.

Runs on a throwaway SQLite database in a temporary directory (its own keys too), so it never
touches var/. The bar (quality.md) is ≤ 60 s for 39,500 households, with a progress bar.

Baseline, measured in the same run on the same database: raw batched inserts (executemany) of
as many rows of the same width as the demo writes, in one transaction, rolled back — what
SQLite itself costs. The ratio says how much the generation, encryption and the ORM add.

    .venv/bin/python bench/demo.py [--scale 1.0]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_tmp = tempfile.TemporaryDirectory(prefix="linli-bench-demo-")
os.environ["LINLI_VAR_DIR"] = _tmp.name
os.environ["LINLI_SQLITE_PATH"] = str(Path(_tmp.name) / "bench.sqlite3")
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

BAR_SECONDS = 60.0
COUNTED = (
    "orgs.Household",
    "people.Resident",
    "orgs.Building",
    "people.Member",
    "people.MemberSkill",
    "people.Registration",
    "people.RegistrationEvent",
    "orgs.PartyOrg",
    "people.PartyPosition",
    "accounts.User",
    "accounts.RoleAssignment",
)


def baseline(rows: int) -> float:
    """Seconds for `rows` raw inserts of resident-width rows (11 columns), rolled back."""
    phone, id_number, tags = "v1:" + "x" * 60, "v1:" + "y" * 70, "v1:" + "z" * 40  # ciphertext-sized
    values = [
        (i % 39_500 + 1, f"姓名{i}", "M", "1980-01-01", phone, f"{i:064x}", id_number, f"{i:064d}", tags, 0, "户主")
        for i in range(rows)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, household INTEGER, name TEXT, gender TEXT, "
            "birth TEXT, phone TEXT, phone_hash TEXT, id_number TEXT, id_hash TEXT, tags TEXT, party INTEGER, "
            "relation TEXT)"
        )
    started = time.monotonic()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bench_rows (household, name, gender, birth, phone, phone_hash, id_number, id_hash, "
                "tags, party, relation) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                values,
            )
        elapsed = time.monotonic() - started
        transaction.set_rollback(True)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_rows")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    call_command("demo", scale=args.scale, verbosity=1)
    demo_seconds = time.monotonic() - started
    counts = {label: apps.get_model(label).objects.count() for label in COUNTED}
    rows = sum(counts.values())
    base_seconds = baseline(rows)

    print()
    for label, n in counts.items():
        print(f"  {label:28s} {n:>9,}")
    print(f"demo (scale {args.scale:g}): {demo_seconds:6.1f} s for ~{rows:,} rows ({rows / demo_seconds:,.0f} rows/s)")
    print(f"baseline raw executemany:   {base_seconds:6.1f} s for {rows:,} rows ({rows / base_seconds:,.0f} rows/s)")
    print(f"ratio demo/baseline: {demo_seconds / base_seconds:.1f}×")
    if args.scale == 1.0:
        verdict = "meets" if demo_seconds <= BAR_SECONDS else "MISSES"
        print(f"bar ≤ {BAR_SECONDS:.0f} s at full scale: {verdict} ({demo_seconds:.1f} s)")


if __name__ == "__main__":
    main()
