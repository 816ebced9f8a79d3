"""Benchmark (not a test): import 40,000 residents and 40,000 members from .xlsx files.

Runs on a throwaway SQLite database in a temporary directory (its own keys too), so it never
touches var/. Each import goes the way the page goes: read the file (linli.lib.xlsx), then
linli.people.actions.import_register (check every row, then save all in one transaction).

Baseline, measured in the same run: bulk_create of the same rows, already checked, with the
same encryption, rolled back — what the insert alone costs. The bar (quality.md) is ≤ 20 s
for 40,000 rows with row-level errors, all or nothing.

    .venv/bin/python bench/import_registers.py [--rows 40000] [--skip-members]
"""

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_tmp = tempfile.TemporaryDirectory(prefix="linli-bench-import-")
os.environ["LINLI_VAR_DIR"] = _tmp.name
os.environ["LINLI_SQLITE_PATH"] = str(Path(_tmp.name) / "bench.sqlite3")
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from linli.accounts.actions import assign_role  # noqa: E402
from linli.accounts.models import Role, User  # noqa: E402
from linli.lib import idcard, xlsx  # noqa: E402
from linli.orgs.models import Building, Community, Grid, Household, Town, Unit  # noqa: E402
from linli.people import actions, registers  # noqa: E402
from linli.people.models import Member, Resident, Skill  # noqa: E402

PER_HOUSEHOLD = 10
BAR_SECONDS = 20.0


def setup_town(n_households: int) -> User:
    town = Town.objects.create(code="BT", name="基准镇")
    community = Community.objects.create(town=town, code="BC", name="基准社区")
    grids = Grid.objects.bulk_create(
        [Grid(community=community, code=f"BG{i:02d}", name=f"第{i}网格") for i in range(max(1, n_households // 400))]
    )
    buildings = Building.objects.bulk_create(
        [Building(grid=grids[i % len(grids)], name=f"{i}栋", address=f"基准路{i}号") for i in range(n_households // 20)]
    )
    Household.objects.bulk_create(
        [
            Household(building=b, entrance=f"{e}单元", door=f"{f}0{d}", address=f"{b.address}{e}单元{f}0{d}")
            for b in buildings
            for e in (1, 2)
            for f in range(1, 6)
            for d in (1, 2)
        ],
        batch_size=1000,
    )
    Unit.objects.create(town=town, code="BU1", name="基准单位")
    Skill.objects.create(code="electrical", name="水电维修")
    user = User.objects.create_user("bench_staff", password=None)
    assign_role(user, Role.COMMUNITY_STAFF, scope=community, actor=None)
    return User.objects.get(pk=user.pk)


def id_number(i: int, born: dt.date) -> str:
    # Distinct regions keep 40,000 sequences apart (3 sequence digits per birth date).
    return idcard.make(f"{420100 + i // 1000:06d}", born, i % 1000)


def write_xlsx(path: Path, headers, rows) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("data")
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def residents_file(path: Path, n: int) -> None:
    addresses = list(Household.objects.order_by("id").values_list("address", flat=True))
    headers = ["户地址", "姓名", "性别", "出生日期", "联系电话", "身份证号", "关爱标签", "党员", "与户主关系"]
    rows = (
        [
            addresses[i // PER_HOUSEHOLD],
            f"居民{i}",
            "",
            "",
            f"139{i:08d}",
            id_number(i, dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28)),
            "独居老人" if i % 17 == 0 else "",
            "是" if i % 9 == 0 else "否",
            "户主" if i % PER_HOUSEHOLD == 0 else "家庭成员",
        ]
        for i in range(n)
    )
    write_xlsx(path, headers, rows)


def members_file(path: Path, n: int) -> None:
    headers = [
        "姓名",
        "性别",
        "出生日期",
        "证件类型",
        "证件号码",
        "居住区域",
        "联系方式",
        "专业技能",
        "服务类别",
        "党员",
        "单位编码",
        "居住社区编码",
        "报到社区编码",
        "同意联系",
        "同意向单位反馈",
    ]
    rows = (
        [
            f"党员{i}",
            "",
            "",
            "居民身份证",
            id_number(i, dt.date(1960 + i % 40, 1 + i % 12, 1 + i % 28)),
            "基准社区",
            f"137{i:08d}",
            "水电维修:专业" if i % 5 == 0 else "",
            "社区服务，助老助残",
            "是",
            "BU1" if i % 2 else "",
            "BC",
            "BC",
            "是",
            "是" if i % 3 else "否",
        ]
        for i in range(n)
    )
    write_xlsx(path, headers, rows)


def baseline_objects(kind: str, rows):
    if kind == "residents":
        keep = ("household_id", "name", "gender", "birth_date", "phone", "phone_hash", "id_number", "id_hash")
        extra = ("tags", "is_party_member", "relation")
        return Resident, [Resident(**{k: r[k] for k in keep + extra}) for r in rows]
    keep = ("name", "gender", "birth_date", "id_type", "id_number", "id_hash", "phone", "phone_hash")
    extra = ("residence_area", "service_types", "is_party_member", "unit_id", "home_community_id")
    return Member, [Member(member_no=f"B{i:09d}", **{k: r[k] for k in keep + extra}) for i, r in enumerate(rows)]


def baseline(kind: str, table, user) -> tuple[float, float]:
    """Django's bulk_create of the main rows alone (already checked, same encryption), rolled
    back: the plain way to insert them, without reading, checking or the related rows."""
    checked = registers.check(kind, table, user=user)
    assert checked.ok, checked.errors[:5]
    model, objs = baseline_objects(kind, checked.rows)
    wall, cpu = time.perf_counter(), time.process_time()
    with transaction.atomic():
        model.objects.bulk_create(objs, batch_size=1000)
        transaction.set_rollback(True)
    return time.perf_counter() - wall, time.process_time() - cpu


@contextmanager
def timed(label: str, times: dict):
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    times[label] = (time.perf_counter() - wall, time.process_time() - cpu)


def run(kind: str, path: Path, user, model) -> None:
    times: dict[str, tuple[float, float]] = {}
    with timed("read file", times), path.open("rb") as handle:
        table = xlsx.read_table(handle, path.name, max_rows=200_000)
    n = len(table.rows)
    base_wall, base_cpu = baseline(kind, table, user)
    original_check = registers.check

    def timed_check(*args, **kwargs):
        with timed("check rows", times):
            return original_check(*args, **kwargs)

    registers.check = timed_check
    try:
        with timed("import", times):
            imported = actions.import_register(kind, table, actor=user)
    finally:
        registers.check = original_check
    assert imported.saved == n == model.objects.count(), (imported.saved, n)
    times["save"] = tuple(a - b for a, b in zip(times["import"], times["check rows"], strict=True))
    times["total"] = tuple(a + b for a, b in zip(times["read file"], times["import"], strict=True))
    also = ", also " + ", ".join(f"{v:,} {k}" for k, v in imported.created.items()) if imported.created else ""
    print(f"\n{kind}: {n:,} rows, file {path.stat().st_size / 1e6:.1f} MB{also}")
    print(f"  {'phase':<14}{'wall s':>8}{'cpu s':>8}{'rows/s (wall)':>15}")
    for label in ("read file", "check rows", "save", "total"):
        wall, cpu = times[label]
        print(f"  {label:<14}{wall:8.2f}{cpu:8.2f}{n / wall:15,.0f}")
    wall, cpu = times["total"]
    print(
        f"  baseline (same run): bulk_create of the {n:,} {model.__name__} rows alone {base_wall:.2f} s wall, "
        f"{base_cpu:.2f} s cpu → whole import / baseline = {wall / base_wall:.2f}× wall, {cpu / base_cpu:.2f}× cpu"
    )
    per_40k = wall * 40_000 / n
    verdict = "within" if per_40k <= BAR_SECONDS else "OVER"
    print(f"  bar: ≤ {BAR_SECONDS:.0f} s per 40,000 rows → {verdict} ({per_40k:.1f} s wall per 40,000)")
    with timed("export", times):
        headers, widths, rows = registers.export_table(kind, user)
        output, count = xlsx.write_table(headers, rows, title=kind, widths=widths)
        size = len(output.read())
    wall, cpu = times["export"]
    print(
        f"  export of the same register (masked .xlsx, {count:,} rows, {size / 1e6:.1f} MB): "
        f"{wall:.2f} s wall, {cpu:.2f} s cpu"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--skip-members", action="store_true")
    args = parser.parse_args()
    print(f"database: {os.environ['LINLI_SQLITE_PATH']} (SQLite, WAL, synchronous=FULL)")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cpus")
    call_command("migrate", verbosity=0)
    user = setup_town((args.rows + PER_HOUSEHOLD - 1) // PER_HOUSEHOLD)
    work = Path(_tmp.name)
    start = time.perf_counter()
    residents_file(work / "residents.xlsx", args.rows)
    if not args.skip_members:
        members_file(work / "members.xlsx", args.rows)
    print(f"generated the test files in {time.perf_counter() - start:.1f} s (not timed below)")
    run("residents", work / "residents.xlsx", user, Resident)
    if not args.skip_members:
        run("members", work / "members.xlsx", user, Member)


if __name__ == "__main__":
    main()
