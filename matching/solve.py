"""The batch solver: an exactly optimal assignment of orders to members.

See `assign` for the problem and docs/dispatch.md for the algorithm, its exactness argument and
measured figures.
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching, reverse_cuthill_mckee

from matching._arrays import run_starts, unique, unique_inverse

__all__ = ["assign", "objective"]

# A connected component with at most this many orders is solved whole the first time it shows
# a conflict; larger ones grow groups from conflicts only (see _solve_shared).
WHOLE_COMPONENT = 400
# ... and so is one where at least 1 / HEAVY_CLASH of the orders clash in the first round.
HEAVY_CLASH = 4
# No component larger than this is taken whole (LAPJVsp's cost grows with rows × columns).
MAX_WHOLE = 3000
# A merged group of more rows than this is not solved: its component takes the fallback path.
MAX_GROUP = 3000
# Sweeps of block coordinate ascent on that path.
FALLBACK_SWEEPS = 2
# Groups are packed into block-diagonal LAPJVsp calls of about this many rows: LAPJVsp costs
# O(rows × columns) per call, so small blocks keep it linear while amortising the call overhead.
CHUNK_ROWS = 192
# Rounds are built and solved in batches of about this many rows to bound memory.
BATCH_ROWS = 1024
# Exact float64 arithmetic in LAPJVsp needs integer costs well below 2**53.
_MAX_ABS_VALUE = 2**40


def _as_int_array(name, values, length=None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if (
        arr.size
        and not np.issubdtype(arr.dtype, np.integer)
        and not (np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)))
    ):
        raise ValueError(f"{name} must hold integers")
    arr = arr.astype(np.int64, copy=False)
    if length is not None and len(arr) != length:
        raise ValueError(f"{name} must have length {length}, not {len(arr)}")
    return arr


def assign(order_idx, member_idx, score, *, n_orders, capacity, current_load, load_penalty, info=None) -> np.ndarray:
    """Assign orders to members, exactly maximising total score less a convex load cost.

    Parameters
    ----------
    order_idx, member_idx, score : 1-D integer arrays of equal length
        Candidate edges: edge e offers member ``member_idx[e]`` for order ``order_idx[e]``
        (0 ≤ order_idx < n_orders) with integer ``score[e]`` (any sign). Duplicate pairs are
        allowed; the best score of a pair counts.
    n_orders : int
        Number of orders.
    capacity, current_load : 1-D integer arrays indexed by member
        How many new orders each member may still take (≤ 0: none), and how many they hold now.
    load_penalty : int ≥ 0
        Cost per order already held: the j-th new order of member m costs
        ``load_penalty × (current_load[m] + j − 1)``.
    info : dict, optional
        Filled with ``exact`` (True when the result is proven optimal — always, unless a
        connected component needed merging groups beyond MAX_GROUP orders), ``gap`` (an upper
        bound on how far below the optimum the objective may be; 0 when exact) and
        ``approximate_orders`` (orders in components that took the bounded-cost fallback).

    Returns
    -------
    numpy.ndarray of int64, length n_orders
        The chosen member of each order, or −1 when the order stays unassigned.

    The result maximises ``Σ score(chosen edges) − Σ_m Σ_{j=1..k_m} load_penalty × (current_load[m]
    + j − 1)`` (k_m new orders for member m) subject to: each order at most one member, each member
    at most ``capacity[m]`` new orders. Orders may stay unassigned, so it is never infeasible.
    Among optimal assignments it places as many orders as possible (an edge worth exactly 0 is
    used when that costs nothing). It is deterministic: the same input gives the same output.

    Algorithm (why this one): the problem is a maximum-weight b-matching whose member costs are
    convex in the number of orders, so expanding member m into ``capacity[m]`` slots with costs
    ``load_penalty × (current_load[m] + j − 1)`` gives an equivalent sparse assignment problem
    (an optimum never fills slot j + 1 while slot j is free). Whole-graph solvers (min-cost
    flow) spend most of their time on parts of the graph with no competition, so instead:

    1. exact reductions — keep the best of duplicate edges; drop members with no capacity and
       edges worth < 0 even in the member's cheapest slot; fold members with a single candidate
       order into that order's "stay unassigned" value and drop the order's edges such a private
       option dominates;
    2. relax-and-merge — solve groups of orders independently, every member available in full
       to every group (a relaxation, since the load cost is convex and starts at 0, hence
       superadditive). If no member is used by two groups, the union is feasible and reaches the
       relaxation's bound, so it is optimal. Otherwise merge the groups that share a used member
       and solve again. Groups start as single orders (each takes its best edge, in numpy); a
       small connected component that shows a conflict is taken whole at once;
    3. each batch of groups is solved exactly by SciPy's LAPJVsp (sparse Jonker–Volgenant
       shortest augmenting paths, in compiled code) on the capacity-expanded graph, with a private
       "unassigned" column per order; groups are packed into block-diagonal calls of a few hundred
       rows because LAPJVsp's cost per row grows with the number of columns of the call.

    Safety valve: a component so contested that exact merging would build a group of more than
    MAX_GROUP orders (LAPJVsp's cost per call grows with rows × columns) is instead cut into
    blocks solved one after another against what earlier blocks left of each member. The result
    stays feasible and ``info`` reports the certified gap; none of the benchmark instances
    (docs/dispatch.md) comes near it.

    Ties are broken by the fixed order of the arrays and the deterministic solver.
    """
    n_orders = int(n_orders)
    if n_orders < 0:
        raise ValueError("n_orders must be ≥ 0")
    o = _as_int_array("order_idx", order_idx)
    m = _as_int_array("member_idx", member_idx, len(o))
    s = _as_int_array("score", score, len(o))
    cap = _as_int_array("capacity", capacity)
    load = _as_int_array("current_load", current_load, len(cap))
    lam = int(load_penalty)
    if lam != load_penalty or lam < 0:
        raise ValueError("load_penalty must be an integer ≥ 0 (the load cost must be convex)")
    if len(o) and (o.min() < 0 or o.max() >= n_orders):
        raise ValueError("order_idx out of range")
    if len(m) and (m.min() < 0 or m.max() >= len(cap)):
        raise ValueError("member_idx out of range")
    result = np.full(n_orders, -1, dtype=np.int64)
    if len(o) == 0:
        if info is not None:
            info.update(exact=True, gap=0, approximate_orders=0)
        return result
    stats = {"exact": True, "gap": 0, "approximate_orders": 0}
    _solve(o, m, s, n_orders, cap, load, lam, result, stats)
    stats["exact"] = stats["approximate_orders"] == 0
    if info is not None:
        info.update(stats)
    return result


def objective(order_idx, member_idx, score, assignment, *, capacity, current_load, load_penalty):
    """(objective value, orders placed) of `assignment`; raises ValueError if it is infeasible.

    Uses the best score among duplicate edges of a pair, like `assign`.
    """
    o = _as_int_array("order_idx", order_idx)
    m = _as_int_array("member_idx", member_idx, len(o))
    s = _as_int_array("score", score, len(o))
    a = _as_int_array("assignment", assignment)
    cap = _as_int_array("capacity", capacity)
    load = _as_int_array("current_load", current_load, len(cap))
    placed = np.flatnonzero(a >= 0)
    if len(placed) == 0:
        return 0, 0
    n_m = len(cap)
    key = o * n_m + m
    order = np.lexsort((s, key))
    key, s_sorted = key[order], s[order]
    last = np.ones(len(key), dtype=bool)
    last[:-1] = key[1:] != key[:-1]
    key, best = key[last], s_sorted[last]
    want = placed * n_m + a[placed]
    pos = np.searchsorted(key, want)
    pos = np.minimum(pos, len(key) - 1)
    if not np.all(key[pos] == want):
        raise ValueError("assignment uses a pair that is not an edge")
    k = np.bincount(a[placed], minlength=n_m)
    if np.any(k > np.maximum(cap, 0)):
        raise ValueError("assignment exceeds a member's capacity")
    lam = int(load_penalty)
    # Σ_{j=1..k} lam × (load + j − 1) = lam × (k × load + k(k − 1) / 2)
    cost = lam * (k * load + k * (k - 1) // 2)
    return int(best[pos].sum() - cost.sum()), len(placed)


# --- the solver ----------------------------------------------------------------------------------
#
# Memory matters as much as time here (the bar is a quarter of OR-Tools' extra memory): indices
# are int32 where they fit, member-indexed arrays are avoided beyond one compaction table, and
# temporaries are dropped as soon as they are used.

_I32 = np.int32


def _best_per_run(values: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(max, index of its first occurrence) of each run of `values` beginning at `starts`."""
    best = np.maximum.reduceat(values, starts)
    lengths = np.diff(np.append(starts, len(values)))
    idx = np.arange(len(values), dtype=np.int64)
    idx[values != np.repeat(best, lengths)] = len(values)
    return best, np.minimum.reduceat(idx, starts)


def _solve(o, m, s, n, cap, load, lam, result, stats):
    n_cap = len(cap)
    if np.abs(s).max() >= _MAX_ABS_VALUE or lam * (np.abs(load).max() + cap.max()) >= _MAX_ABS_VALUE:
        raise ValueError("scores and load costs must stay below 2**40 in magnitude (exact arithmetic)")
    # 1. Edges to members with capacity, worth ≥ 0 in the member's cheapest (first) slot.
    value1 = load[m]
    value1 *= -lam
    value1 += s
    keep = value1 >= 0
    keep &= cap[m] > 0
    if not keep.all():
        o, m, value1 = o[keep], m[keep], value1[keep]
    del keep
    if len(o) == 0:
        return result
    # Edges sorted by (order, member), one per pair — the best. build_candidates delivers that
    # already, so check before sorting.
    pair_next = o[1:] == o[:-1]
    pair_next &= m[1:] <= m[:-1]
    if pair_next.any() or np.any(o[1:] < o[:-1]):
        idx = np.lexsort((-value1, o * n_cap + m))
        o, m, value1 = o[idx], m[idx], value1[idx]
        first = run_starts(o * n_cap + m)  # the best-valued copy of each pair comes first
        o, m, value1 = o[first], m[first], value1[first]
        del idx, first
    del pair_next
    o = o.astype(_I32)
    if np.abs(value1).max() < 2**31:
        value1 = value1.astype(_I32)
    # Compact member numbering (monotone, so edges stay sorted by member within an order).
    compact = np.zeros(n_cap, dtype=_I32)
    compact[m] = 1
    members = np.flatnonzero(compact)
    np.cumsum(compact, out=compact)
    m = compact[m]
    m -= 1
    del compact
    n_m = len(members)

    # 2. Private folding: a member with a single candidate order cannot be contested; its best use
    # is its first slot for that order — an option of the order alone, like staying unassigned.
    # An edge worth no more than the order's best private option is never needed: swapping it for
    # the private option places as many orders, scores no less and lightens its member.
    priv_val = np.full(n, -1, dtype=np.int64)  # −1: none (edge values are ≥ 0)
    priv_mem = np.full(n, -1, dtype=_I32)
    for _ in range(16):
        private = np.bincount(m, minlength=n_m)[m] == 1
        if not private.any():
            break
        po, pv = o[private], value1[private]
        starts = run_starts(po)
        best, at = _best_per_run(pv, starts)
        orders = po[starts]
        better = best > priv_val[orders]
        priv_val[orders[better]] = best[better]
        priv_mem[orders[better]] = m[np.flatnonzero(private)[at[better]]]
        del po, pv, starts, best, at, orders, better
        private = ~private
        private &= value1 > priv_val[o]
        o, m, value1 = o[private], m[private], value1[private]
        del private
    if len(o):
        slots = np.minimum(cap[members], np.bincount(m, minlength=n_m)).astype(_I32)
        sol = _solve_shared(o, m, value1, n, n_m, slots, lam, priv_val, stats)
        del o, m, value1, slots
        placed = sol >= 0
        result[placed] = members[sol[placed]]
        del sol, placed
    # Orders left unassigned by the shared problem take their private option, if any.
    rest = (result < 0) & (priv_mem >= 0)
    result[rest] = members[priv_mem[rest]]
    return result


def _solve_shared(o, m, value1, n, n_m, slots, lam, priv_val, stats):
    """Relax-and-merge over the shared edges (sorted by order, then member)."""
    e_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(o, minlength=n), out=e_ptr[1:])
    starts = e_ptr[:-1][e_ptr[1:] > e_ptr[:-1]]
    active = o[starts]

    # Round 0: every order alone takes its best edge (the lowest member among equals).
    sol = np.full(n, -1, dtype=_I32)
    sol[active] = m[_best_per_run(value1, starts)[1]]
    del starts
    clash = np.bincount(sol[active], minlength=n_m)[sol[active]] >= 2
    if not clash.any():
        return sol

    # Connected components of the order–member graph: a small component that shows a conflict
    # is solved whole at once instead of growing a group round by round.
    graph = sp.csr_array((np.ones(len(o), dtype=np.int8), (m + n).astype(_I32), e_ptr.astype(_I32)), shape=(n, n + n_m))
    graph.resize((n + n_m, n + n_m))
    n_comp, comp = connected_components(graph, directed=True, connection="weak")
    del graph
    comp = comp[:n].astype(_I32)
    comp_size = np.bincount(comp[active], minlength=n_comp)
    # A component where many orders clash at once is contested throughout: solve it whole at
    # once rather than through rounds of growing groups.
    heavy = np.bincount(comp[active[clash]], minlength=n_comp) * HEAVY_CLASH >= comp_size

    # group[o]: the order's group — its own index, the smallest order index of a merged group,
    # or n + component for a component taken whole. owner[m]: the settled group using member m.
    n_ids = n + n_comp
    group = np.arange(n, dtype=np.int64)
    owner = np.full(n_m, -1, dtype=np.int64)
    lone = active[~clash]
    owner[sol[lone]] = lone
    conflict_groups = active[clash].astype(np.int64)
    conflict_members = sol[conflict_groups]
    del lone, clash
    while True:
        # Merge the groups linked through conflicted members.
        ug, g_local = unique_inverse(conflict_groups)
        um, m_local = unique_inverse(conflict_members)
        k = len(ug)
        link = sp.csr_array(
            (np.ones(len(g_local), dtype=np.int8), (g_local, k + m_local)), shape=(k + len(um), k + len(um))
        )
        n_lab, lab = connected_components(link, directed=False)
        lab = lab[:k]
        new_id = np.full(n_lab, n_ids, dtype=np.int64)
        np.minimum.at(new_id, lab, ug)
        remap = np.full(n_ids, -1, dtype=np.int64)
        remap[ug] = new_id[lab]
        in_touched = remap[group[active]] >= 0
        orders = active[in_touched]
        new_group = remap[group[orders]]
        del ug, g_local, um, m_local, link, lab, new_id, remap
        # A merged group in a small component, or holding half of its component, becomes the
        # whole component.
        c = comp[orders]
        _, gid = unique_inverse(new_group)
        whole = np.bincount(gid)[gid] * 2 >= comp_size[c]
        whole |= heavy[c]
        whole &= comp_size[c] <= MAX_WHOLE
        whole |= comp_size[c] <= WHOLE_COMPONENT
        # A merged group too large to solve exactly at a bounded cost puts its component on the
        # fallback path (see _solve_restricted); the rest carries on exactly.
        too_big = np.bincount(gid)[gid] > MAX_GROUP
        too_big &= ~whole
        fallback = np.zeros(n_comp, dtype=bool)
        fallback[c[too_big]] = True
        if whole.any():
            whole_comps = np.zeros(n_comp, dtype=bool)
            whole_comps[c[whole]] = True
            joining = active[whole_comps[comp[active]] & ~in_touched]
            new_group[whole] = n + c[whole]
            orders = np.concatenate([orders, joining])
            new_group = np.concatenate([new_group, n + comp[joining]])
            del whole_comps, joining
        if too_big.any():
            f_orders = _locality_order(active[fallback[comp[active]]], m, e_ptr, n_m)
            stats["gap"] += _solve_restricted(f_orders, group, m, value1, e_ptr, slots, lam, priv_val, sol, n_m)
            stats["approximate_orders"] += len(f_orders)
            keep = ~fallback[comp[orders]]
            orders, new_group = orders[keep], new_group[keep]
            del f_orders, keep
        del c, gid, whole, in_touched, too_big, fallback
        # The merged groups' members are no longer settled.
        held = sol[orders]
        owner[held[held >= 0]] = -1
        group[orders] = new_group
        orders = orders[np.argsort(new_group * n + orders)]
        del held, new_group
        if len(orders) == 0:
            return sol
        _solve_groups(orders, group, m, value1, e_ptr, slots, lam, priv_val, sol)

        # Conflicts of the new solutions: with a settled group, or between two new groups.
        held_o = orders[sol[orders] >= 0]
        pairs = unique(sol[held_o].astype(np.int64) * n_ids + group[held_o])
        pm, pg = np.divmod(pairs, n_ids)
        del held_o, pairs, orders
        first = run_starts(pm)
        runs = np.diff(np.append(first, len(pm)))
        bad = np.repeat(runs >= 2, runs)
        other = owner[pm]
        bad |= other >= 0
        if not bad.any():
            owner[pm] = pg
            return sol
        bad_group = np.zeros(n_ids, dtype=bool)
        bad_group[pg[bad]] = True
        ok = ~bad_group[pg]
        owner[pm[ok]] = pg[ok]
        settled_hit = bad & (other >= 0)
        conflict_groups = np.concatenate([pg[bad], other[settled_hit]])
        conflict_members = np.concatenate([pm[bad], pm[settled_hit]])
        del first, runs, bad, other, bad_group, ok, settled_hit, pm, pg


def _solve_groups(orders, group, m, value1, e_ptr, slots, lam, priv_val, sol):
    """Solve the groups of `orders` (sorted by group) exactly; write their members into `sol`.

    Works through batches of whole groups of about BATCH_ROWS rows, so memory stays bounded
    whatever the size of the round.
    """
    g = group[orders]
    g_start = run_starts(g)
    # Batch boundaries at group starts.
    cut = np.searchsorted(g_start, np.arange(0, len(orders), BATCH_ROWS), side="right") - 1
    bounds = np.append(unique(g_start[cut]), len(orders))
    for b0, b1 in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        _solve_batch(orders[b0:b1], g[b0:b1], m, value1, e_ptr, slots, lam, priv_val, sol)


def _solve_batch(orders, g, m, value1, e_ptr, slots, lam, priv_val, sol, taken=None):
    """Solve the groups of `orders` (sorted by group ids `g`) exactly, in block-diagonal LAPJVsp
    calls. With `taken`, member m's first taken[m] slots are already used by others: only the
    rest are offered, at their true marginal costs."""
    n_rows = len(orders)
    g_start = run_starts(g)
    # Chunks (one LAPJVsp call each): a group goes to the chunk its first row falls in, so a
    # chunk holds about CHUNK_ROWS rows; a large group makes a chunk of its own.
    chunk_of_group = g_start // CHUNK_ROWS
    chunk_of_group = np.cumsum(np.append(0, np.diff(chunk_of_group) > 0))
    row_chunk = np.repeat(chunk_of_group, np.diff(np.append(g_start, n_rows))).astype(_I32)
    n_chunks = int(chunk_of_group[-1]) + 1
    chunk_row_start = np.searchsorted(row_chunk, np.arange(n_chunks + 1))
    del g_start, chunk_of_group

    # The rows' edges.
    deg = e_ptr[orders + 1] - e_ptr[orders]
    row_of_edge = np.repeat(np.arange(n_rows, dtype=_I32), deg)
    edge = np.repeat(e_ptr[orders] - (np.cumsum(deg) - deg), deg)
    edge += np.arange(len(edge))
    em = m[edge]
    e_val = value1[edge]
    del deg, edge
    # Columns: each (group, member) pair owns slots[member] consecutive slot columns, numbered in
    # (group, member) order, so each chunk's columns form one range.
    by_pair = np.argsort(g[row_of_edge].astype(np.int64) * len(slots) + em)
    new_pair = run_starts(g[row_of_edge[by_pair]].astype(np.int64) * len(slots) + em[by_pair])
    step = np.zeros(len(em), dtype=_I32)
    step[new_pair[1:]] = 1
    pair_of_edge = np.empty(len(em), dtype=_I32)
    pair_of_edge[by_pair] = np.cumsum(step, dtype=_I32)
    del step
    pair_member = em[by_pair[new_pair]]
    pair_chunk = row_chunk[row_of_edge[by_pair[new_pair]]]
    del by_pair, new_pair
    pair_slots = slots[pair_member] if taken is None else slots[pair_member] - taken[pair_member]
    pair_col = (np.cumsum(pair_slots, dtype=np.int64) - pair_slots).astype(_I32)
    chunk_col_start = np.zeros(n_chunks + 1, dtype=np.int64)
    np.cumsum(np.bincount(pair_chunk, weights=pair_slots, minlength=n_chunks).astype(np.int64), out=chunk_col_start[1:])
    col_member = np.repeat(pair_member, pair_slots)
    del pair_member, pair_chunk, pair_slots

    # Slot arcs j = 0..slots−1 of each edge, worth value − lam × j; worthless ones dropped.
    reps = slots[em] if taken is None else slots[em] - taken[em]
    arc_edge = np.repeat(np.arange(len(em), dtype=_I32), reps)
    j = (np.arange(len(arc_edge)) - np.repeat(np.cumsum(reps) - reps, reps)).astype(_I32)
    del reps
    arc_val = e_val[arc_edge] - lam * j.astype(np.int64)
    if taken is not None:
        arc_val -= lam * taken[em[arc_edge]].astype(np.int64)
    del em
    ok = arc_val >= 0
    arc_edge, j, arc_val = arc_edge[ok], j[ok], arc_val[ok]
    del ok, e_val
    arc_row = row_of_edge[arc_edge]
    arc_col = pair_col[pair_of_edge[arc_edge]] + j
    arc_col -= chunk_col_start[row_chunk[arc_row]].astype(_I32)
    del arc_edge, j, row_of_edge, pair_of_edge, pair_col

    # LAPJVsp minimises; cost = big − (K × value + 1), exact in float64. The +1 makes an optimum
    # place as many orders as possible when values tie at 0 (K exceeds the rows of any block).
    # Each row also has its own column: its best private option (K × value + 1) or none (0).
    k_scale = int(np.diff(chunk_row_start).max()) + 1
    pv = priv_val[orders]
    top = max(int(arc_val.max()) if len(arc_val) else 0, int(pv.max()))
    big = float(top * k_scale + 2)
    chunk_slot_cols = np.diff(chunk_col_start)
    # Arcs come grouped by row (edges by row, slots within); each row's own column goes last.
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(arc_row, minlength=n_rows) + 1, out=indptr[1:])
    cols = np.empty(indptr[-1], dtype=_I32)
    costs = np.empty(indptr[-1], dtype=np.float64)
    arc_pos = arc_row.astype(np.int64)
    arc_pos += np.arange(len(arc_row))  # each earlier row's own column shifts arcs by one
    cols[arc_pos] = arc_col
    costs[arc_pos] = big - (arc_val * k_scale + 1)
    del arc_pos, arc_col, arc_val, arc_row
    own = indptr[1:] - 1
    cols[own] = chunk_slot_cols[row_chunk] + np.arange(n_rows) - chunk_row_start[row_chunk]
    costs[own] = big - np.where(pv >= 0, pv * k_scale + 1, 0)
    del own, pv

    chosen = np.full(n_rows, -1, dtype=_I32)
    for c in range(n_chunks):
        r0, r1 = int(chunk_row_start[c]), int(chunk_row_start[c + 1])
        p0, p1 = int(indptr[r0]), int(indptr[r1])
        block = sp.csr_array(
            (costs[p0:p1], cols[p0:p1], (indptr[r0 : r1 + 1] - p0).astype(_I32)),
            shape=(r1 - r0, int(chunk_slot_cols[c]) + r1 - r0),
        )
        col = np.asarray(min_weight_full_bipartite_matching(block)[1], dtype=np.int64)
        real = col < chunk_slot_cols[c]
        chosen[r0:r1][real] = col_member[col[real] + chunk_col_start[c]]
    sol[orders] = chosen


def _solve_restricted(orders, group, m, value1, e_ptr, slots, lam, priv_val, sol, n_m):
    """Fallback for a component whose conflicts would merge groups beyond MAX_GROUP rows: cut
    its orders (sorted by their current group) into blocks of MAX_GROUP rows and solve the blocks
    one after another, each exactly, against what earlier blocks left of every member (slots
    and marginal costs). Feasible, not necessarily optimal. Returns the bound on the shortfall:
    the current groups' relaxed optima (an upper bound on the component's optimum) less the value
    reached."""
    edge_order = np.repeat(np.arange(len(e_ptr) - 1, dtype=np.int64), np.diff(e_ptr))
    key = edge_order * n_m + m  # sorted: edges are sorted by order, then member
    del edge_order

    def value(group_of):
        """Σ value of the orders' current choices, each (group, member) charged for its slots."""
        held = orders[sol[orders] >= 0]
        total = int(value1[np.searchsorted(key, held.astype(np.int64) * n_m + sol[held])].sum())
        total += int(np.maximum(priv_val[orders[sol[orders] < 0]], 0).sum())
        pairs = np.sort(group_of(held) * n_m + sol[held])
        runs = np.diff(np.append(run_starts(pairs), len(pairs)))
        return total - lam * int((runs * (runs - 1) // 2).sum())

    upper = value(lambda held: group[held])
    # Start from the groups' relaxed solutions made feasible: a member holding more orders than
    # its slots keeps its most valuable ones.
    held = orders[sol[orders] >= 0]
    held_val = value1[np.searchsorted(key, held.astype(np.int64) * n_m + sol[held])]
    by_member = np.lexsort((-held_val, sol[held]))
    held = held[by_member]
    rank = np.arange(len(held)) - np.repeat(run_starts(sol[held]), np.diff(np.append(run_starts(sol[held]), len(held))))
    sol[held[rank >= slots[sol[held]]]] = -1
    del held_val, by_member, rank
    held = sol[orders]
    taken = np.bincount(held[held >= 0], minlength=n_m).astype(_I32)
    del held
    zeros = np.zeros(MAX_GROUP, dtype=np.int64)
    # Block coordinate ascent: each block is re-solved exactly with every other order's choice
    # fixed (its members' slots taken), so no step lowers the objective; later sweeps shift the
    # block boundaries by half a block so that conflicts across a boundary get resolved too.
    for sweep in range(FALLBACK_SWEEPS):
        offset = (sweep % 2) * (MAX_GROUP // 2)
        bounds = [0, *range(offset or MAX_GROUP, len(orders), MAX_GROUP), len(orders)]
        for b0, b1 in itertools.pairwise(bounds):
            block = orders[b0:b1]
            held = sol[block]
            np.subtract.at(taken, held[held >= 0], 1)
            _solve_batch(block, zeros[: len(block)], m, value1, e_ptr, slots, lam, priv_val, sol, taken)
            held = sol[block]
            np.add.at(taken, held[held >= 0], 1)
    reached = value(lambda held: np.zeros(len(held), dtype=np.int64))
    return upper - reached


def _locality_order(orders, m, e_ptr, n_m):
    """`orders` in reverse Cuthill–McKee order of their order–member graph: orders sharing
    members end up close together, so consecutive blocks are local and interact mostly with
    their neighbours."""
    deg = e_ptr[orders + 1] - e_ptr[orders]
    edge = np.repeat(e_ptr[orders] - (np.cumsum(deg) - deg), deg) + np.arange(int(deg.sum()))
    members, local = unique_inverse(m[edge])
    k = len(orders)
    rows = np.repeat(np.arange(k), deg)
    graph = sp.csr_array(
        (np.ones(2 * len(rows), dtype=np.int8), (np.append(rows, k + local), np.append(k + local, rows))),
        shape=(k + len(members), k + len(members)),
    )
    perm = reverse_cuthill_mckee(graph, symmetric_mode=True)
    return orders[perm[perm < k]]
