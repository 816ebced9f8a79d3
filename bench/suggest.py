"""Benchmark (not a test): single-order suggestions (top 10 with reasons) in a large community.

The bar (quality.md) is p99 ≤ 20 ms for a community with 2,000 registered members. Baseline, in
the same run: a bare Python loop reading one attribute of every member (the least any ranking
over the community costs); the ratio says what the constraints, score and reasons add.

    .venv/bin/python bench/suggest.py [--members 2000] [--calls 1000]
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matching import MemberSpec, OrderSpec, Weights, suggest  # noqa: E402
from matching.model import SLOTS  # noqa: E402

SKILLS = dict(enumerate(["水电维修", "助老", "理发", "家电维修", "心理疏导", "法律咨询", "助学"]))


def community(n_members, rng, community_id=1):
    """Members registered with one community: 60 % live there, the rest come through pairing."""
    grids = [community_id * 10 + g for g in range(8)]
    members = []
    for i in range(n_members):
        lives_here = rng.random() < 0.6
        skills = {s: rng.choice([1, 2, 3]) for s in rng.sample(list(SKILLS), rng.randint(1, 3))}
        members.append(
            MemberSpec(
                id=i,
                skills=skills,
                home_community=community_id if lives_here else community_id + 1 + rng.randrange(50),
                paired_communities=frozenset() if lives_here else frozenset({community_id}),
                registered_communities=frozenset({community_id} | ({community_id + 1} if lives_here else set())),
                grid=rng.choice(grids) if lives_here else None,
                availability=sum(1 << s for s in range(SLOTS) if rng.random() < 0.35),
                load=rng.choice([0, 0, 0, 1, 1, 2]),
                cap=rng.choice([1, 2, 3]),
                hours=round(rng.expovariate(1 / 8), 1),
                rating=None if rng.random() < 0.3 else round(rng.uniform(3.5, 5.0), 1),
            )
        )
    return members, grids


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(0)
    members, grids = community(args.members, rng)
    weights = Weights()
    orders = []
    for k in range(args.calls):
        skill = None if rng.random() < 0.25 else rng.choice(list(SKILLS))
        orders.append(
            OrderSpec(
                id=k,
                skill=skill,
                skill_name=None if skill is None else SKILLS[skill],
                community=1,
                grid=rng.choice(grids),
                priority=rng.randint(1, 5),
                deadline=None,
                slot=rng.randrange(SLOTS),
            )
        )
    ours, base = [], []
    found = 0
    for order in orders:
        t = time.perf_counter()
        found += len(suggest(order, members, weights, k=10))
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        sum(m.load for m in members)
        base.append(time.perf_counter() - t)
    p50, p99 = percentile(ours, 0.5) * 1000, percentile(ours, 0.99) * 1000
    b50, b99 = percentile(base, 0.5) * 1000, percentile(base, 0.99) * 1000
    print(f"suggest(top 10 with reasons), community of {args.members:,} members, {args.calls:,} calls")
    print(f"  ours:     p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   mean {statistics.mean(ours) * 1000:6.2f} ms")
    print(f"  baseline: p50 {b50:6.2f} ms   p99 {b99:6.2f} ms   (a bare loop over the members)")
    print(f"  ratio p50 {p50 / b50:.1f}×; {found / args.calls:.1f} suggestions per order")
    print("bar (p99 ≤ 20 ms): " + ("met" if p99 <= 20 else "MISSED"))


if __name__ == "__main__":
    main()
