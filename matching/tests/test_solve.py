"""matching.assign: feasibility, exact optimality against independent solvers, determinism."""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

import matching.solve as solve
from matching import assign, objective

# --- independent exact methods -------------------------------------------------------------------


def optimum_networkx(inst):
    """Max of Σ score − convex load cost by network simplex: source → order → member → slot j →
    sink, slot j costing λ × (load + j − 1), and a source → sink bypass for unassigned orders."""
    n, lam = inst["n_orders"], inst["load_penalty"]
    g = nx.DiGraph()
    g.add_node("s", demand=-n)
    g.add_node("t", demand=n)
    g.add_edge("s", "t", capacity=n, weight=0)
    best = {}
    for o, m, s in zip(inst["order_idx"], inst["member_idx"], inst["score"], strict=True):
        best[o, m] = max(best.get((o, m), s), s)
    for (o, m), s in best.items():
        g.add_edge("s", ("o", o), capacity=1, weight=0)
        g.add_edge(("o", o), ("m", m), capacity=1, weight=-s)
    for m in {m for _, m in best}:
        for j in range(1, max(inst["capacity"][m], 0) + 1):
            g.add_edge(("m", m), ("slot", m, j), capacity=1, weight=lam * (inst["current_load"][m] + j - 1))
            g.add_edge(("slot", m, j), "t", capacity=1, weight=0)
    return -nx.min_cost_flow_cost(g)


def optimum_lapjv(inst):
    """The same optimum from SciPy's LAPJVsp on the capacity-expanded graph: one column per
    member slot, one private "unassigned" column per order, all in one call."""
    n, lam = inst["n_orders"], inst["load_penalty"]
    rows, cols, vals = [], [], []
    slot_col = {}
    for o, m, s in zip(inst["order_idx"], inst["member_idx"], inst["score"], strict=True):
        for j in range(1, max(inst["capacity"][m], 0) + 1):
            col = slot_col.setdefault((m, j), len(slot_col))
            rows.append(o)
            cols.append(col)
            vals.append(s - lam * (inst["current_load"][m] + j - 1))
    big = max([0, *vals]) + 1
    rows += list(range(n))
    cols += [len(slot_col) + o for o in range(n)]
    weights = [big - v for v in vals] + [big] * n
    if n == 0:
        return 0
    matrix = sp.coo_array((weights, (rows, cols)), shape=(n, len(slot_col) + n)).tocsr()
    # Duplicate (row, col) entries are summed by scipy: keep the cheapest instead.
    best = {}
    for r, c, w in zip(rows, cols, weights, strict=True):
        best[r, c] = min(best.get((r, c), w), w)
    r, c = zip(*best, strict=True)
    matrix = sp.csr_array((list(best.values()), (r, c)), shape=(n, len(slot_col) + n))
    r_ind, c_ind = min_weight_full_bipartite_matching(matrix)
    return int(sum(big - matrix[i, j] for i, j in zip(r_ind, c_ind, strict=True)))


def run(inst):
    return assign(
        inst["order_idx"],
        inst["member_idx"],
        inst["score"],
        n_orders=inst["n_orders"],
        capacity=inst["capacity"],
        current_load=inst["current_load"],
        load_penalty=inst["load_penalty"],
    )


def value_of(inst, result):
    return objective(
        inst["order_idx"],
        inst["member_idx"],
        inst["score"],
        result,
        capacity=inst["capacity"],
        current_load=inst["current_load"],
        load_penalty=inst["load_penalty"],
    )


# --- random instances ----------------------------------------------------------------------------


@st.composite
def instances(draw, max_orders=8, max_members=6, max_edges=24):
    n = draw(st.integers(0, max_orders))
    n_m = draw(st.integers(1, max_members))
    n_e = draw(st.integers(0, max_edges)) if n else 0
    order_idx = draw(st.lists(st.integers(0, max(n - 1, 0)), min_size=n_e, max_size=n_e))
    member_idx = draw(st.lists(st.integers(0, n_m - 1), min_size=n_e, max_size=n_e))
    # Zero and negative scores, duplicates (the lists repeat pairs), zero capacities, loads up high.
    score = draw(st.lists(st.integers(-40, 120), min_size=n_e, max_size=n_e))
    return {
        "order_idx": np.array(order_idx, dtype=np.int64),
        "member_idx": np.array(member_idx, dtype=np.int64),
        "score": np.array(score, dtype=np.int64),
        "n_orders": n,
        "capacity": np.array(draw(st.lists(st.integers(-1, 3), min_size=n_m, max_size=n_m)), dtype=np.int64),
        "current_load": np.array(draw(st.lists(st.integers(0, 9), min_size=n_m, max_size=n_m)), dtype=np.int64),
        "load_penalty": draw(st.integers(0, 40)),
    }


@pytest.fixture(params=["defaults", "groups"])
def strategy(request, monkeypatch):
    """Run each property with the default tuning and with tiny groups and blocks, so that the
    relax-and-merge rounds and block packing are exercised on small instances too."""
    if request.param == "groups":
        monkeypatch.setattr(solve, "WHOLE_COMPONENT", 0)
        monkeypatch.setattr(solve, "CHUNK_ROWS", 2)
        monkeypatch.setattr(solve, "BATCH_ROWS", 3)
    return request.param


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(inst=instances())
def test_feasible_and_within_edges(strategy, inst):
    result = run(inst)
    assert result.shape == (inst["n_orders"],)
    placed = result >= 0
    counts = np.bincount(result[placed], minlength=len(inst["capacity"]))
    assert np.all(counts <= np.maximum(inst["capacity"], 0)), "a member got more orders than its capacity"
    pairs = set(zip(inst["order_idx"].tolist(), inst["member_idx"].tolist(), strict=True))
    for o in np.flatnonzero(placed).tolist():
        assert (o, int(result[o])) in pairs, "an order went to a member that was not a candidate"


@PROPERTY
@given(inst=instances())
def test_optimal_against_network_simplex(strategy, inst):
    value, _ = value_of(inst, run(inst))
    assert value == optimum_networkx(inst)


@PROPERTY
@given(inst=instances(max_orders=10, max_members=5, max_edges=30))
def test_optimal_against_lapjv_on_expanded_graph(strategy, inst):
    value, _ = value_of(inst, run(inst))
    assert value == optimum_lapjv(inst)


@PROPERTY
@given(inst=instances())
def test_places_as_many_orders_as_any_optimum(strategy, inst):
    # Lexicographic optimum by network simplex: score scaled by K beats any count, +1 per order.
    k = inst["n_orders"] + 1
    scaled = dict(inst, score=inst["score"] * k + 1, load_penalty=inst["load_penalty"] * k)
    best_count = optimum_networkx(scaled) % k
    _value, placed = value_of(inst, run(inst))
    assert placed == best_count


@PROPERTY
@given(inst=instances())
def test_deterministic(strategy, inst):
    first = run(inst)
    again = run({k: v.copy() if isinstance(v, np.ndarray) else v for k, v in inst.items()})
    assert np.array_equal(first, again)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inst=instances(max_orders=40, max_members=25, max_edges=160))
def test_optimal_on_larger_instances(strategy, inst):
    value, _ = value_of(inst, run(inst))
    assert value == optimum_networkx(inst)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inst=instances(max_orders=12, max_members=6, max_edges=40))
def test_fallback_stays_feasible_and_within_its_certified_gap(monkeypatch, inst):
    monkeypatch.setattr(solve, "WHOLE_COMPONENT", 0)
    monkeypatch.setattr(solve, "MAX_WHOLE", 0)
    monkeypatch.setattr(solve, "MAX_GROUP", 2)
    info = {}
    result = assign(
        inst["order_idx"],
        inst["member_idx"],
        inst["score"],
        n_orders=inst["n_orders"],
        capacity=inst["capacity"],
        current_load=inst["current_load"],
        load_penalty=inst["load_penalty"],
        info=info,
    )
    value, _ = value_of(inst, result)  # raises if infeasible
    best = optimum_networkx(inst)
    assert 0 <= best - value <= info["gap"]
    assert info["exact"] == (info["approximate_orders"] == 0)
    if info["exact"]:
        assert value == best and info["gap"] == 0


def test_info_reports_exact_results():
    info = {}
    assign([0, 1], [0, 0], [5, 6], n_orders=2, capacity=[1], current_load=[0], load_penalty=0, info=info)
    assert info == {"exact": True, "gap": 0, "approximate_orders": 0}


# --- examples ------------------------------------------------------------------------------------


def test_contention_prefers_total_over_first_come():
    # Member 0 is everyone's first choice but has one slot; the optimum gives it to order 1,
    # whose alternative is poor, and sends order 0 to its good alternative.
    inst = {
        "order_idx": np.array([0, 0, 1, 1]),
        "member_idx": np.array([0, 1, 0, 2]),
        "score": np.array([100, 90, 95, 10]),
        "n_orders": 2,
        "capacity": np.array([1, 1, 1]),
        "current_load": np.array([0, 0, 0]),
        "load_penalty": 0,
    }
    assert run(inst).tolist() == [1, 0]


def test_load_penalty_spreads_orders():
    # One member could take both, but the second order would cost 30 × (1 + 1) = 60 more.
    inst = {
        "order_idx": np.array([0, 0, 1]),
        "member_idx": np.array([0, 1, 0]),
        "score": np.array([100, 80, 100]),
        "n_orders": 2,
        "capacity": np.array([3, 3]),
        "current_load": np.array([1, 0]),
        "load_penalty": 30,
    }
    assert run(inst).tolist() == [1, 0]


def test_zero_value_edge_places_the_order():
    result = assign([0], [0], [20], n_orders=1, capacity=[1], current_load=[2], load_penalty=10)
    assert result.tolist() == [0]


def test_negative_value_edge_is_not_used():
    result = assign([0], [0], [19], n_orders=1, capacity=[1], current_load=[2], load_penalty=10)
    assert result.tolist() == [-1]


def test_duplicate_edges_count_their_best_score():
    inst = {
        "order_idx": np.array([0, 0, 1]),
        "member_idx": np.array([0, 0, 0]),
        "score": np.array([5, 50, 30]),
        "n_orders": 2,
        "capacity": np.array([1]),
        "current_load": np.array([0]),
        "load_penalty": 0,
    }
    assert run(inst).tolist() == [0, -1]
    assert value_of(inst, run(inst)) == (50, 1)


def test_zero_capacity_and_no_edges():
    assert assign([0, 1], [0, 0], [9, 9], n_orders=3, capacity=[0], current_load=[0], load_penalty=1).tolist() == [
        -1,
        -1,
        -1,
    ]
    assert assign([], [], [], n_orders=2, capacity=[], current_load=[], load_penalty=0).tolist() == [-1, -1]
    assert assign([], [], [], n_orders=0, capacity=[1], current_load=[0], load_penalty=0).shape == (0,)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"load_penalty": -1}, "load_penalty"),
        ({"load_penalty": 1.5}, "load_penalty"),
        ({"n_orders": 1}, "order_idx out of range"),
        ({"capacity": [1], "current_load": [0]}, "member_idx out of range"),
        ({"current_load": [0]}, "current_load must have length"),
        ({"score": [2**41, 1]}, "2\\*\\*40"),
    ],
)
def test_rejects_bad_input(kwargs, message):
    args = {
        "order_idx": [0, 1],
        "member_idx": [0, 1],
        "score": [1, 1],
        "n_orders": 2,
        "capacity": [1, 1],
        "current_load": [0, 0],
        "load_penalty": 0,
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        assign(
            args.pop("order_idx"),
            args.pop("member_idx"),
            args.pop("score"),
            **args,
        )


def test_objective_rejects_infeasible_assignments():
    common = {"capacity": [1, 1], "current_load": [0, 0], "load_penalty": 0}
    with pytest.raises(ValueError, match="not an edge"):
        objective([0], [0], [5], [1], **common)
    with pytest.raises(ValueError, match="capacity"):
        objective([0, 1], [0, 0], [5, 5], [0, 0], **common)
    assert objective([0, 1], [0, 0], [5, 7], [-1, 0], **common) == (7, 1)
