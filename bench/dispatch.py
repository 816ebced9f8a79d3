"""Benchmark (not a test): batch dispatch at province scale against exact and greedy baselines.

For each generated instance, in the same run:

* reference — OR-Tools `SimpleMinCostFlow` on the whole graph, the exact optimum: source → order
  (capacity 1), order → member (capacity 1, cost −score), member → sink as one unit arc per free
  slot j with cost load_penalty × (load + j − 1) (convex, so parallel arcs are exact), and a
  source → sink bypass so orders may stay unassigned;
* greedy — orders by priority (highest first), each takes its best still-available candidate by
  marginal gain when that is positive: what "一派了之" does;
* ours — `matching.assign`.

Printed per instance: our score ÷ the optimum, orders placed by us / the optimum / greedy, our time
÷ the reference's (median of --repeat runs, interleaved), and our extra memory ÷ the reference's.
Memory: each solver runs in a fresh child process (multiprocessing, spawn, glibc's mmap threshold
fixed at 64 kB so freed blocks leave RSS at once) that loads the instance, solves it once to warm up,
resets the peak-RSS mark (`/proc/self/clear_refs` ← 5), solves it again and reports VmHWM − VmRSS
from /proc/self/status — everything the solver allocates, numpy and C++ alike, but not the instance.

Instances (see make_instance): communities of ~35 members in districts of 100 communities,
1–3 skills each from 15 with skewed popularity, 14 half-day slots, caps 1–3, most members paired
with a second community of their district, orders clustered in hot spots, ≈6 candidates per order.

    .venv/bin/python bench/dispatch.py                 # all sizes (≈ 3–4 minutes)
    .venv/bin/python bench/dispatch.py --sizes small   # 1k and 10k orders only
    .venv/bin/python bench/dispatch.py --sizes stress  # beyond the bars: scarce and cross-district at once
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matching import assign, objective  # noqa: E402
from matching.model import SLOTS, MemberTable, OrderTable, Weights  # noqa: E402
from matching.scoring import build_candidates  # noqa: E402

N_SKILLS = 15
COMMUNITY_SIZE = 35
DISTRICT_COMMUNITIES = 100
GRIDS_PER_COMMUNITY = 5
LOAD_PENALTY = Weights().load_penalty

# name, orders, members, share of members paired with a community of another district
SMALL = [
    ("1k × 10k", 1_000, 10_000, 0.0),
    ("10k × 100k", 10_000, 100_000, 0.0),
    ("10k × 100k cross-district", 10_000, 100_000, 0.05),
    ("10k × 20k scarce", 10_000, 20_000, 0.0),
]
FULL = [
    *SMALL,
    ("100k × 1M", 100_000, 1_000_000, 0.0),
    ("100k × 1M cross-district", 100_000, 1_000_000, 0.05),
    ("100k × 200k scarce", 100_000, 200_000, 0.0),
]
# Beyond the bars: scarce and cross-district at once, a giant contested component (--stress).
STRESS = [
    ("100k × 300k scarce+cross 10%", 100_000, 300_000, 0.10),
    ("100k × 200k scarce+cross 30%", 100_000, 200_000, 0.30),
]


def make_instance(n_orders, n_members, *, cross_district=0.0, seed=0, availability=0.25):
    """A province-like batch as (OrderTable, MemberTable); deterministic for a seed."""
    rng = np.random.default_rng(seed)
    n_comm = max(2, round(n_members / COMMUNITY_SIZE))
    d_start = np.arange(n_comm) - np.arange(n_comm) % DISTRICT_COMMUNITIES
    d_size = np.minimum(DISTRICT_COMMUNITIES, n_comm - d_start)

    home = rng.integers(0, n_comm, n_members)
    grid = home * GRIDS_PER_COMMUNITY + rng.integers(0, GRIDS_PER_COMMUNITY, n_members)
    # Skills: 1–3 each from 15, popularity skewed (水电维修 and 助老 are common, 法律咨询 rare).
    popularity = 1.0 / np.arange(1, N_SKILLS + 1) ** 0.9
    popularity /= popularity.sum()
    n_sk = rng.integers(1, 4, n_members)
    sk_member = np.repeat(np.arange(n_members), n_sk)
    sk_id = rng.choice(N_SKILLS, size=len(sk_member), p=popularity)
    key = np.sort(sk_member * N_SKILLS + sk_id)
    key = key[np.append(True, key[1:] != key[:-1])]
    sk_member, sk_id = key // N_SKILLS, key % N_SKILLS
    sk_level = rng.choice([1, 2, 3], size=len(sk_member), p=[0.4, 0.4, 0.2])
    # Half-day availability: each slot with probability `availability`.
    bits = rng.random((n_members, SLOTS)) < availability
    avail = (bits * (1 << np.arange(SLOTS))).sum(axis=1).astype(np.int64)
    cap = rng.choice([1, 2, 3], size=n_members, p=[0.3, 0.4, 0.3])
    load = np.minimum(rng.choice([0, 1, 2], size=n_members, p=[0.75, 0.2, 0.05]), cap)
    hours = np.minimum(rng.exponential(8.0, n_members), 60.0).round(1)
    rating = np.where(rng.random(n_members) < 0.3, np.nan, rng.uniform(3.5, 5.0, n_members).round(1))
    # Pairing through the member's unit: most with another community of their district, a few
    # (cross_district) with one anywhere in the province — that glues districts together.
    has_pair = rng.random(n_members) < 0.8
    off = rng.integers(1, np.maximum(d_size[home], 2))
    paired = d_start[home] + (home - d_start[home] + off) % d_size[home]
    cross = has_pair & (rng.random(n_members) < cross_district)
    paired[cross] = rng.integers(0, n_comm, int(cross.sum()))
    has_pair &= paired != home
    p_member = np.flatnonzero(has_pair)
    p_comm = paired[has_pair]
    members = MemberTable(
        home=home,
        grid=grid,
        availability=avail,
        load=load,
        cap=cap,
        hours=hours,
        rating=rating,
        skill_member=sk_member,
        skill_id=sk_id,
        skill_level=sk_level,
        reg_member=np.concatenate([np.arange(n_members), p_member]),
        reg_community=np.concatenate([home, p_comm]),
        paired_member=p_member,
        paired_community=p_comm,
    )
    # Orders clustered in hot spots: lognormal community weights, a hot grid in each.
    weight = rng.lognormal(0.0, 1.2, n_comm)
    o_comm = rng.choice(n_comm, size=n_orders, p=weight / weight.sum())
    o_grid = o_comm * GRIDS_PER_COMMUNITY + rng.choice(GRIDS_PER_COMMUNITY, n_orders, p=[0.4, 0.25, 0.15, 0.1, 0.1])
    demand = popularity**1.2
    o_skill = np.where(rng.random(n_orders) < 0.25, -1, rng.choice(N_SKILLS, n_orders, p=demand / demand.sum()))
    orders = OrderTable(
        skill=o_skill,
        community=o_comm,
        grid=o_grid,
        priority=rng.choice([1, 2, 3, 4, 5], n_orders, p=[0.1, 0.25, 0.35, 0.2, 0.1]),
        slot=rng.integers(0, SLOTS, n_orders),
    )
    return orders, members


# --- the three solvers, all (edges…) → member per order or −1 -------------------------------------


def reference(order_idx, member_idx, score, *, n_orders, capacity, current_load, load_penalty):
    """Exact optimum by OR-Tools SimpleMinCostFlow on the whole graph."""
    from ortools.graph.python import min_cost_flow

    cap = np.maximum(capacity, 0)
    ok = cap[member_idx] > 0
    o, m, s = order_idx[ok], member_idx[ok], score[ok]
    members, m_local = np.unique(m, return_inverse=True)
    n_m = len(members)
    slots = np.minimum(cap[members], np.bincount(m_local, minlength=n_m))
    slot_member = np.repeat(np.arange(n_m), slots)
    j = np.arange(len(slot_member)) - np.repeat(np.cumsum(slots) - slots, slots)
    source, sink = n_orders + n_m, n_orders + n_m + 1
    tails = np.concatenate([np.full(n_orders, source), o, n_orders + slot_member, [source]])
    heads = np.concatenate([np.arange(n_orders), n_orders + m_local, np.full(len(slot_member), sink), [sink]])
    caps = np.ones(len(tails), dtype=np.int64)
    caps[-1] = n_orders
    costs = np.concatenate(
        [
            np.zeros(n_orders, dtype=np.int64),
            -s.astype(np.int64),
            load_penalty * (current_load[members][slot_member] + j),
            [0],
        ]
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(n_orders + n_m + 2, dtype=np.int64)
    supplies[source], supplies[sink] = n_orders, -n_orders
    flow.set_nodes_supplies(np.arange(len(supplies)), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"OR-Tools: {status}")
    used = flow.flows(np.arange(n_orders, n_orders + len(o))) > 0
    result = np.full(n_orders, -1, dtype=np.int64)
    result[o[used]] = members[m_local[used]]
    return result


def greedy(order_idx, member_idx, score, *, n_orders, capacity, current_load, load_penalty, priority):
    """Orders by priority (highest first); each takes its best available candidate if it gains."""
    by_order = np.argsort(order_idx, kind="stable")
    o, m, s = order_idx[by_order], member_idx[by_order], score[by_order]
    ptr = np.searchsorted(o, np.arange(n_orders + 1))
    left = np.maximum(capacity, 0).tolist()
    load = current_load.tolist()
    given = [0] * len(capacity)
    m_list, s_list, ptr_list = m.tolist(), s.tolist(), ptr.tolist()
    result = [-1] * n_orders
    for i in np.argsort(-priority, kind="stable").tolist():
        best, best_gain = -1, 0
        for e in range(ptr_list[i], ptr_list[i + 1]):
            mm = m_list[e]
            if left[mm] > 0:
                gain = s_list[e] - load_penalty * (load[mm] + given[mm])
                if gain > best_gain or (gain == best_gain and best >= 0 and mm < best):
                    best, best_gain = mm, gain
        if best >= 0:
            result[i] = best
            left[best] -= 1
            given[best] += 1
    return np.asarray(result, dtype=np.int64)


SOLVERS = {"reference": reference, "ours": assign}


# --- memory: each solver alone in a fresh process -------------------------------------------------


def _status_kb():
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS", "VmHWM")):
                key, value = line.split(":")
                fields[key] = int(value.split()[0])
    return fields


def _memory_child(path, which, queue):
    data = np.load(path)
    arrays = {k: data[k] for k in data.files}
    kwargs = {
        "n_orders": int(arrays["n_orders"]),
        "capacity": arrays["capacity"],
        "current_load": arrays["current_load"],
        "load_penalty": int(arrays["load_penalty"]),
    }
    solver = SOLVERS[which]
    edges = (arrays["order_idx"], arrays["member_idx"], arrays["score"])
    # A first run warms up imports and lazy initialisation; the second one is measured.
    solver(*edges, **kwargs)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status_kb()["VmRSS"]
    solver(*edges, **kwargs)
    queue.put((_status_kb()["VmHWM"] - before) * 1024)


def extra_memory(path, which):
    # A fixed mmap threshold makes glibc return every block of 64 kB or more to the system when
    # it is freed, so RSS follows live memory in both solvers (numpy and C++ alike) instead of
    # glibc's adaptive heap, and the warm-up run leaves nothing behind to be reused unseen.
    os.environ["MALLOC_MMAP_THRESHOLD_"] = "65536"
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_memory_child, args=(path, which, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


# --- the run --------------------------------------------------------------------------------------


def run(name, n_orders, n_members, cross, *, repeat, tmpdir):
    t0 = time.perf_counter()
    orders, members = make_instance(n_orders, n_members, cross_district=cross)
    t1 = time.perf_counter()
    cand = build_candidates(orders, members, Weights())
    t_build = time.perf_counter() - t1
    edges = (cand.order_idx, cand.member_idx, cand.score)
    kw = {
        "n_orders": n_orders,
        "capacity": cand.capacity,
        "current_load": cand.current_load,
        "load_penalty": cand.load_penalty,
    }
    times = {"reference": [], "ours": []}
    results = {}
    for _ in range(repeat):
        for which, solver in SOLVERS.items():
            t = time.perf_counter()
            results[which] = solver(*edges, **kw)
            times[which].append(time.perf_counter() - t)
    results["greedy"] = greedy(*edges, **kw, priority=orders.priority)
    info = {}
    assign(*edges, **kw, info=info)
    costs = {k: kw[k] for k in ("capacity", "current_load", "load_penalty")}
    value = {k: objective(*edges, r, **costs) for k, r in results.items()}
    path = os.path.join(tmpdir, "instance.npz")
    np.savez(path, order_idx=cand.order_idx, member_idx=cand.member_idx, score=cand.score, n_orders=n_orders, **costs)
    memory = {which: extra_memory(path, which) for which in SOLVERS}
    t_ref, t_ours = statistics.median(times["reference"]), statistics.median(times["ours"])
    opt = value["reference"][0]
    return {
        "instance": name,
        "edges": len(cand),
        "exact": "yes" if info["exact"] else f"no (gap ≤ {info['gap'] / value['reference'][0]:.1e})",
        "cand/order": len(cand) / n_orders,
        "build s": t_build,
        "gen s": t1 - t0,
        "ref s": t_ref,
        "ours s": t_ours,
        "time ratio": t_ours / t_ref,
        "score ratio": value["ours"][0] / opt,
        "greedy ratio": value["greedy"][0] / opt,
        "placed ours": value["ours"][1],
        "placed opt": value["reference"][1],
        "placed greedy": value["greedy"][1],
        "ref MB": memory["reference"] / 2**20,
        "ours MB": memory["ours"] / 2**20,
        "mem ratio": memory["ours"] / max(memory["reference"], 1),
    }


COLUMNS = [
    ("instance", "{:<27}"),
    ("edges", "{:>9,}"),
    ("ref s", "{:>7.3f}"),
    ("ours s", "{:>7.3f}"),
    ("time ratio", "{:>10.3f}"),
    ("score ratio", "{:>11.6f}"),
    ("exact", "{:>5}"),
    ("placed ours", "{:>11,}"),
    ("placed opt", "{:>10,}"),
    ("placed greedy", "{:>13,}"),
    ("greedy ratio", "{:>12.5f}"),
    ("ref MB", "{:>7.1f}"),
    ("ours MB", "{:>7.1f}"),
    ("mem ratio", "{:>9.3f}"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", choices=["small", "full", "stress"], default="full")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per solver (median)")
    args = parser.parse_args()
    print("| " + " | ".join(name for name, _ in COLUMNS) + " |")
    print("|" + "|".join("---" for _ in COLUMNS) + "|")
    rows = []
    with tempfile.TemporaryDirectory(prefix="linli-bench-dispatch-") as tmpdir:
        for name, n_orders, n_members, cross in {"small": SMALL, "full": FULL, "stress": STRESS}[args.sizes]:
            row = run(name, n_orders, n_members, cross, repeat=args.repeat, tmpdir=tmpdir)
            rows.append(row)
            print("| " + " | ".join(fmt.format(row[key]) for key, fmt in COLUMNS) + " |", flush=True)
    print()
    for row in rows:
        print(
            f"{row['instance']}: {row['cand/order']:.2f} candidates/order, "
            f"instance {row['gen s']:.2f} s, build_candidates {row['build s']:.3f} s"
        )
    failures = []
    for row in rows:
        if "stress" in args.sizes:
            break
        exact = "cross" not in row["instance"]
        if row["score ratio"] < (1.0 if exact else 0.9999):
            failures.append(f"{row['instance']}: score ratio {row['score ratio']:.6f}")
        if row["placed ours"] < row["placed greedy"]:
            failures.append(f"{row['instance']}: fewer orders placed than greedy")
        if row["instance"].startswith("100k × 1M") and row["time ratio"] > 0.1:
            failures.append(f"{row['instance']}: time ratio {row['time ratio']:.3f} > 0.1")
        if row["mem ratio"] > 0.25:
            failures.append(f"{row['instance']}: memory ratio {row['mem ratio']:.3f} > 0.25")
    print("\nbars: " + ("all met" if not failures else "MISSED — " + "; ".join(failures)))


if __name__ == "__main__":
    main()
