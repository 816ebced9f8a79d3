"""Benchmark (not a test): HTTP throughput and latency of the JSON API and the pages, under gunicorn.

quality.md's bars, at 16 concurrent clients on PostgreSQL:
- HTTP JSON — the member's task list, submitting an order, claiming an order: ≥ 0.4× the
  hello-world throughput, p99 ≤ 50 ms;
- HTTP pages — the member's task list, the dispatcher's queue: ≥ 0.2× the hello-world throughput.

Baseline, measured in the same run: a hello-world Django view (`/_bench/hello/`, through the same
middleware) served by the same gunicorn (sync workers, 2 by default) on the same database.

The load comes from wrk (Debian's `wrk`: `apt-get install wrk`), 16 connections on 2 threads,
`--seconds` per scenario after a short warm-up. The database is a throwaway PostgreSQL database
(created, filled with the demo town, dropped at the end) on the local server; its keys and
collected static files live in a temporary directory, so var/ is never touched.

Bench data: claims need pooled orders the claimant may take (registered with the community, no
skill needed, under the load cap), as many as the run can consume; they are inserted in bulk as
copies of one pooled demo order, with the bench members' load cap raised to the maximum (20).
Every claim still goes through linli.orders.actions.claim_order over HTTP. A non-2xx answer is
counted and printed: a scenario with any is not a valid measurement.

    .venv/bin/python bench/http_load.py [--seconds 10] [--scale 1.0] [--workers 2] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
CONNECTIONS = 16
THREADS = 2
JSON_BAR, JSON_P99_MS, PAGE_BAR = 0.4, 50.0, 0.2

# The WSGI module gunicorn serves: the project's application, plus the hello-world view.
APP_MODULE = """\
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
from django.conf import settings
django.setup()
from django.http import HttpResponse
from django.urls import include, path

def hello(request):
    return HttpResponse("Hello, world", content_type="text/plain; charset=utf-8")

urlpatterns = [path("_bench/hello/", hello), path("", include("config.urls"))]
settings.ROOT_URLCONF = __name__
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
"""

# One wrk script for every scenario: requests come from a file of lines
# "METHOD<TAB>PATH<TAB>AUTH-HEADER<TAB>COOKIE<TAB>BODY", each thread taking every THREADS-th line
# in turn (so two threads never claim the same order), wrapping around at the end.
WRK_SCRIPT = """\
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  reqs = {}
  local n = 0
  for line in io.lines(args[1]) do
    if n % __THREADS__ == tid then
      local m, p, a, c, b = line:match("^([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t(.*)$")
      local h = {}
      if a ~= "" then h["Authorization"] = a end
      if c ~= "" then h["Cookie"] = c end
      if b ~= "" then h["Content-Type"] = "application/json" end
      if b == "" then b = nil end
      reqs[#reqs + 1] = wrk.format(m, p, h, b)
    end
    n = n + 1
  end
  i = 0
end
function request()
  i = i + 1
  if i > #reqs then i = 1 end
  return reqs[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT {\\"requests\\": %d, \\"duration_us\\": %d, \\"non2xx\\": %d, \\"socket_errors\\": %d, "
    .. "\\"p50_us\\": %d, \\"p99_us\\": %d}\\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
""".replace("__THREADS__", str(THREADS))


def run(cmd, env, **kw):
    return subprocess.run(cmd, env=env, cwd=ROOT, check=True, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(base_url: str, sql: str) -> None:
    subprocess.run(["psql", base_url + "/postgres", "-q", "-c", sql], check=True)


FIXTURES = r"""
import json, sys
import django
django.setup()
from django.db import transaction
from django.db.models import Count, Q
from django.test import Client
from linli.accounts.models import User
from linli.api.actions import create_api_token
from linli.orders.models import MEMBER_LOAD_STATUSES, Order, Status as S
from linli.people.models import Member, Registration

need = int(sys.argv[1])
out = {}

def token(user):
    return "Bearer " + create_api_token(actor=user)[1]

def cookie(user):
    c = Client()
    c.force_login(user)
    return "sessionid=" + c.cookies["sessionid"].value

# The member's task list: the member with the most tasks.
busiest = (
    Member.objects.filter(user__isnull=False)
    .annotate(n=Count("orders", filter=Q(orders__status__in=MEMBER_LOAD_STATUSES)))
    .order_by("-n", "pk").first()
)
out["tasks_member"] = busiest.pk
out["tasks_n"] = busiest.n
out["member_token"] = token(busiest.user)
out["member_cookie"] = cookie(busiest.user)

# The dispatcher's queue: the staff account of the community with the most orders waiting.
staff = User.objects.get(username="demo-staff")
out["staff_cookie"] = cookie(staff)
staff_roles = staff.role_assignments.filter(community__isnull=False)
out["queue_community"] = staff_roles.values_list("community_id", flat=True).first()

# Submitting: the demo resident (files for their household).
out["resident_token"] = token(User.objects.get(username="demo-resident"))

# Claiming: pooled orders, cap − load per member, until `need` pairs exist.
from datetime import timedelta
from django.utils import timezone
from linli.orgs.models import Community
town_of = dict(Community.objects.values_list("pk", "town_id"))
now = timezone.now()
# Members without an account get one (bench data): claims are made by members' tokens.
with transaction.atomic():
    for m in Member.objects.filter(user__isnull=True).order_by("pk"):
        m.user = User.objects.create_user(username=f"bench-{m.member_no}", password=None)
        m.save(update_fields=["user"])
members = list(Member.objects.filter(user__isnull=False).exclude(pk=busiest.pk).select_related("user").order_by("pk"))
Member.objects.filter(pk__in=[m.pk for m in members]).update(load_cap=20)
regs = dict(Registration.objects.filter(member__in=members, status=Registration.Status.APPROVED)
            .values_list("member_id", "community_id").order_by("member_id", "-community_id"))
load = dict(Order.objects.filter(assignee__in=members, status__in=MEMBER_LOAD_STATUSES)
            .values("assignee_id").annotate(n=Count("id")).values_list("assignee_id", "n"))
new = []
owners = []
with transaction.atomic():
    for m in members:
        if len(new) >= need:
            break
        community = regs.get(m.pk)
        if community is None:
            continue
        free = 20 - load.get(m.pk, 0)
        if free <= 0:
            continue
        tok = token(m.user)
        for _ in range(free):
            new.append(Order(
                town_id=town_of[community], community_id=community, title="压测工单：帮忙取快递", status=S.POOLED,
                submitted_by=staff, created_at=now, updated_at=now, accepted_at=now, respond_by=now + timedelta(days=1),
                resolve_by=now + timedelta(days=5),
            ))
            owners.append(tok)
    Order.objects.bulk_create(new, batch_size=2000)
out["claims"] = [[o.pk, tok] for o, tok in zip(new, owners)]
print(json.dumps(out))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=10, help="seconds per scenario (default 10)")
    ap.add_argument("--scale", type=float, default=1.0, help="demo town scale (default 1.0)")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    ap.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://root@127.0.0.1:5432"))
    ap.add_argument("--keep", action="store_true", help="keep the database (prints its name)")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        print("bench/http_load.py needs wrk: apt-get install wrk (Debian's package).", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="linli-bench-http-"))
    db = f"linli_bench_http_{os.getpid()}"
    env = {
        **os.environ,
        "DATABASE_URL": f"{args.pg}/{db}",
        "LINLI_VAR_DIR": str(tmp),
        "LINLI_DEBUG": "0",
        "LINLI_API_RATE_PER_MINUTE": "0",
        "LINLI_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": f"{tmp}{os.pathsep}{ROOT}",
    }
    psql(args.pg, f'CREATE DATABASE "{db}"')
    server = None
    try:
        t0 = time.perf_counter()
        run([PY, "manage.py", "migrate", "--no-input", "-v0"], env)
        run([PY, "manage.py", "demo", "--scale", str(args.scale), "-v0"], env, stderr=subprocess.DEVNULL)
        run([PY, "manage.py", "collectstatic", "--no-input", "-v0"], env)
        (tmp / "bench_http_app.py").write_text(APP_MODULE)
        need = 2_500 * args.seconds  # more claims than the run can make at ~2,000/s
        fx = json.loads(run([PY, "-c", FIXTURES, str(need)], env, capture_output=True, text=True).stdout)
        print(
            f"setup: demo town (scale {args.scale}) on PostgreSQL, {len(fx['claims']):,} claimable orders "
            f"in {time.perf_counter() - t0:.0f} s"
        )

        port = free_port()
        server = subprocess.Popen(
            [
                str(Path(PY).with_name("gunicorn")),
                "bench_http_app:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        (tmp / "bench.lua").write_text(WRK_SCRIPT)

        def lines(name, rows):
            path = tmp / f"{name}.tsv"
            rows = rows * THREADS if len(rows) == 1 else rows  # one line per wrk thread at least
            path.write_text("".join("\t".join(r) + "\n" for r in rows))
            return path

        body = json.dumps({"title": "楼道灯不亮", "description": "3楼楼道灯坏了", "kind": "need"}, ensure_ascii=False)
        scenarios = [
            ("hello-world view (baseline)", "base", lines("hello", [("GET", "/_bench/hello/", "", "", "")])),
            (
                "JSON: member's task list",
                "json",
                lines("tasks", [("GET", "/api/v1/tasks", fx["member_token"], "", "")]),
            ),
            (
                "JSON: submit an order",
                "json",
                lines("submit", [("POST", "/api/v1/orders", fx["resident_token"], "", body)]),
            ),
            (
                "JSON: claim an order",
                "json",
                lines("claim", [("POST", f"/api/v1/orders/{pk}/claim", tok, "", "") for pk, tok in fx["claims"]]),
            ),
            (
                "page: member's task list",
                "page",
                lines("tasks_page", [("GET", "/tasks/", "", fx["member_cookie"], "")]),
            ),
            (
                "page: dispatcher's queue",
                "page",
                lines("queue", [("GET", f"/communities/{fx['queue_community']}/orders/", "", fx["staff_cookie"], "")]),
            ),
        ]
        # Every scenario answers 2xx once before it is measured.
        for label, _kind, path in scenarios:
            if label.startswith("JSON: claim"):
                continue
            first = path.read_text().split("\n")[0].split("\t")
            out = subprocess.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", first[0], base + first[1]]
                + (["-H", f"Authorization: {first[2]}"] if first[2] else [])
                + (["-H", f"Cookie: {first[3]}"] if first[3] else [])
                + (["-H", "Content-Type: application/json", "--data-binary", first[4]] if first[4] else []),
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            if not out.startswith("2"):
                print(f"{label}: answered {out}; the bench setup is wrong", file=sys.stderr)
                return 1

        print(
            f"gunicorn sync × {args.workers}, wrk {THREADS} threads × {CONNECTIONS} connections, "
            f"{args.seconds} s each (after 2 s warm-up); tasks member has {fx['tasks_n']} tasks"
        )
        print(f"{'scenario':34} {'req/s':>8} {'÷ hello':>8} {'p50 ms':>7} {'p99 ms':>7} {'non-2xx':>8}  bar")
        base_rps = None
        failed = False
        for label, kind, path in scenarios:
            if kind != "json" or "claim" not in label:
                wrk(base, path, tmp, 2)  # warm-up (claims are not repeatable: their warm-up is the others')
            r = wrk(base, path, tmp, args.seconds)
            rps = r["requests"] / (r["duration_us"] / 1e6)
            p50, p99 = r["p50_us"] / 1000, r["p99_us"] / 1000
            if base_rps is None:
                base_rps = rps
            ratio = rps / base_rps
            if kind == "json":
                ok = ratio >= JSON_BAR and p99 <= JSON_P99_MS
                bar = f"≥ {JSON_BAR}× and p99 ≤ {JSON_P99_MS:.0f} ms: {'met' if ok else 'MISSED'}"
            elif kind == "page":
                ok = ratio >= PAGE_BAR
                bar = f"≥ {PAGE_BAR}×: {'met' if ok else 'MISSED'}"
            else:
                ok, bar = True, "baseline"
            invalid = r["non2xx"] or r["socket_errors"]
            if invalid:
                bar += f" — INVALID: {r['non2xx']} non-2xx, {r['socket_errors']} socket errors"
            failed |= not ok or bool(invalid)
            print(f"{label:34} {rps:8.0f} {ratio:8.2f} {p50:7.1f} {p99:7.1f} {r['non2xx']:8d}  {bar}")
        return 1 if failed else 0
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        if args.keep:
            print(f"kept database {db} and {tmp}")
        else:
            psql(args.pg, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            shutil.rmtree(tmp, ignore_errors=True)


def wrk(base: str, path: Path, tmp: Path, seconds: int) -> dict:
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(THREADS),
            "-c",
            str(CONNECTIONS),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            str(tmp / "bench.lua"),
            base,
            "--",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


if __name__ == "__main__":
    sys.exit(main())
