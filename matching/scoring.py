"""Who may take an order (hard constraints), how well they fit (an integer score), and why.

Hard constraints — a member is a candidate for an order only if they
  * are registered (报到) with the order's community,
  * have the skill the order's category needs, when it needs one,
  * are available in the order's half-day slot, and
  * hold fewer orders than their cap.

The score of a candidate (see `Weights`) rewards priority, skill level, closeness (same grid >
same community > paired community), fairness (fewer hours served this year) and good ratings.
The load penalty is not part of the edge score: `matching.assign` charges it per member, so that
giving one member several orders in a batch costs more for each extra order.

Three entry points share one formula, and a property test checks they agree:
`build_candidates` (vectorised, for a batch), `explain` (one pair, with reasons) and `suggest`
(the top k members for one order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matching._arrays import unique
from matching.model import ALL_SLOTS, SKILL_LEVELS, MemberSpec, MemberTable, OrderSpec, OrderTable, Weights
from matching.solve import assign

__all__ = [
    "Candidates",
    "Explanation",
    "Suggestion",
    "build_candidates",
    "explain",
    "explain_edges",
    "score",
    "suggest",
]

# build_candidates looks skill levels up in a dense member × skill table of int8 up to this size
# (64 MB), and by binary search beyond.
DENSE_SKILL_TABLE = 1 << 26
# Ids (communities, skills) are coded through a lookup table when the largest id is below
# DENSE_CODE_FACTOR × their number + 2**20, by binary search otherwise.
DENSE_CODE_FACTOR = 4


@dataclass(frozen=True)
class Candidates:
    """Candidate edges of a batch, ready for `matching.assign`.

    Edge e proposes member `member_idx[e]` (an index into the members given) for order
    `order_idx[e]` (an index into the orders) with integer `score[e]`. Edges are sorted by order,
    then member, with no duplicates. `capacity[m]` = max(cap − load, 0) and `current_load[m]` are
    per member.
    """

    order_idx: np.ndarray
    member_idx: np.ndarray
    score: np.ndarray
    capacity: np.ndarray
    current_load: np.ndarray
    n_orders: int
    load_penalty: int

    def __len__(self) -> int:
        return len(self.order_idx)

    def solve(self, info: dict | None = None) -> np.ndarray:
        """`matching.assign` on these edges: the chosen member index of each order, or −1."""
        return assign(
            self.order_idx,
            self.member_idx,
            self.score,
            n_orders=self.n_orders,
            capacity=self.capacity,
            current_load=self.current_load,
            load_penalty=self.load_penalty,
            info=info,
        )


@dataclass(frozen=True)
class Explanation:
    """Why a member fits an order: the score's parts, the reasons in words, and any hard
    constraint the pair breaks (`problems`; empty when the member is a candidate).

    `score` is the edge score used by the batch solver; `total` = score − load_penalty × load is
    what giving the member this order now is worth, the figure suggestions are ranked by.
    """

    score: int
    total: int
    parts: tuple[tuple[str, int], ...]
    reasons: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def eligible(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Suggestion:
    member_id: object
    total: int
    explanation: Explanation


# --- the formula (scalar) ------------------------------------------------------------------------


# Hours and ratings count in tenths, in integer arithmetic, so that the scalar and the vectorised
# forms agree exactly (4.8 − 3.0 is 1.7999999999999998 in floats).


def _fairness_points(hours: float, w: Weights) -> int:
    target = 10 * w.annual_hours_target
    return w.fairness * (target - min(max(round(hours * 10), 0), target)) // target


def _rating_points(rating: float | None, w: Weights) -> int:
    if rating is None:
        return 0
    return w.good_rating * min(max(round(rating * 10) - 30, 0), 20) // 20


def _place(order: OrderSpec, member: MemberSpec) -> str:
    if order.grid is not None and member.grid == order.grid:
        return "grid"
    if member.home_community == order.community:
        return "community"
    if order.community in member.paired_communities:
        return "paired"
    return "registered"


def _place_points(place: str, w: Weights) -> int:
    return {"grid": w.same_grid, "community": w.same_community, "paired": w.paired_community}.get(place, 0)


def score(order: OrderSpec, member: MemberSpec, weights: Weights) -> int:
    """The edge score of (order, member), hard constraints aside, without the load penalty."""
    w = weights
    level = member.skills.get(order.skill, 0) if order.skill is not None else 0
    return (
        w.priority * order.priority
        + w.skill_level * level
        + _place_points(_place(order, member), w)
        + _fairness_points(member.hours, w)
        + _rating_points(member.rating, w)
    )


def _format_hours(hours: float) -> str:
    return str(int(hours)) if float(hours).is_integer() else f"{hours:.1f}"


def explain(order: OrderSpec, member: MemberSpec, weights: Weights) -> Explanation:
    """Score parts and Chinese reasons for sending `member` to `order`.

    >>> w = Weights()
    >>> o = OrderSpec(1, skill=7, community=10, grid=3, priority=3, deadline=None, slot=2, skill_name="水电维修")
    >>> m = MemberSpec("m1", skills={7: 3}, home_community=10, registered_communities=frozenset({10}),
    ...                grid=3, load=1, hours=6, rating=4.8)
    >>> explain(o, m, w).reasons
    ('擅长水电维修（专业）', '同网格', '今年服务 6 小时', '当前 1 单', '近期评价好')
    """
    w = weights
    skill_label = order.skill_name or (f"技能{order.skill}" if order.skill is not None else "")
    level = member.skills.get(order.skill, 0) if order.skill is not None else 0
    place = _place(order, member)
    parts = (
        ("priority", w.priority * order.priority),
        ("skill", w.skill_level * level),
        ("place", _place_points(place, w)),
        ("fairness", _fairness_points(member.hours, w)),
        ("rating", _rating_points(member.rating, w)),
        ("load", -w.load_penalty * member.load),
    )
    edge_score = sum(points for _, points in parts[:-1])
    reasons = []
    if level:
        reasons.append(f"擅长{skill_label}（{SKILL_LEVELS[level]}）")
    reasons.append({"grid": "同网格", "community": "同社区", "paired": "结对社区"}.get(place, "已在本社区报到"))
    reasons.append(f"今年服务 {_format_hours(member.hours)} 小时")
    reasons.append(f"当前 {member.load} 单")
    if member.rating is not None and member.rating >= w.good_rating_threshold:
        reasons.append("近期评价好")
    problems = []
    if order.community not in member.registered_communities:
        problems.append("未在本社区报到")
    if order.skill is not None and not level:
        problems.append(f"不具备所需技能：{skill_label}")
    if not member.available_in(order.slot):
        problems.append("该时段不可服务")
    if member.load >= member.cap:
        problems.append(f"已达接单上限（{member.cap} 单）")
    return Explanation(
        score=edge_score,
        total=edge_score + parts[-1][1],
        parts=parts,
        reasons=tuple(reasons),
        problems=tuple(problems),
    )


def suggest(order: OrderSpec, members: Sequence[MemberSpec], weights: Weights, k: int = 10) -> list[Suggestion]:
    """The k best candidates for one order, best first, with reasons.

    Only members meeting every hard constraint are returned. Ranked by `total` (the score less
    the load penalty of the orders they hold), then fewer orders held, then the order of
    `members` — deterministic.
    """
    w = weights
    community, skill, bit = order.community, order.skill, 1 << order.slot
    base = w.priority * order.priority
    ranked = []
    for i, m in enumerate(members):
        # Hard constraints first: cheap tests, most members fail one.
        if not m.availability & bit or m.load >= m.cap or community not in m.registered_communities:
            continue
        if skill is None:
            level = 0
        else:
            level = m.skills.get(skill, 0)
            if not level:
                continue
        total = (
            base
            + w.skill_level * level
            + _place_points(_place(order, m), w)
            + _fairness_points(m.hours, w)
            + _rating_points(m.rating, w)
            - w.load_penalty * m.load
        )
        ranked.append((-total, m.load, i))
    ranked.sort()
    out = []
    for neg_total, _, i in ranked[:k]:
        m = members[i]
        out.append(Suggestion(member_id=m.id, total=-neg_total, explanation=explain(order, m, w)))
    return out


# --- the formula (vectorised) --------------------------------------------------------------------


def _expand(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges [starts[i], starts[i] + lengths[i]): (range number, position) of every element."""
    owner = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    pos = np.arange(len(owner), dtype=np.int64) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return owner, pos


def _coder(keys: np.ndarray):
    """Dense codes 0..k−1 for the distinct `keys`; returns (k, encode) where encode(x) gives the
    code of each x, or −1 for values not among the keys. A lookup table when ids are small
    non-negative integers (database keys), binary search otherwise."""
    distinct = unique(keys)
    k = len(distinct)
    if k and distinct[0] >= 0 and distinct[-1] < DENSE_CODE_FACTOR * k + (1 << 20):
        table = np.full(int(distinct[-1]) + 1, -1, dtype=np.int64)
        table[distinct] = np.arange(k)

        def encode(x):
            inside = (x >= 0) & (x < len(table))
            return np.where(inside, table[np.where(inside, x, 0)], -1)

    else:

        def encode(x):
            at = np.minimum(np.searchsorted(distinct, x), max(k - 1, 0))
            return np.where((k > 0) & (distinct[at] == x), at, -1) if k else np.full(len(x), -1)

    return k, encode


def build_candidates(
    orders: Sequence[OrderSpec] | OrderTable,
    members: Sequence[MemberSpec] | MemberTable,
    weights: Weights,
) -> Candidates:
    """Candidate edges of every (order, member) pair meeting the hard constraints, with scores.

    Vectorised: registrations are sorted by (community, member) once; each order reads its
    community's run, the slot and skill tests filter that run, and the score is computed for
    what is left. Work is O(R log R + P) for R registrations and P = Σ over orders of the members
    registered with the order's community — never orders × members.
    """
    ot = orders if isinstance(orders, OrderTable) else OrderTable.from_specs(orders)
    mt = members if isinstance(members, MemberTable) else MemberTable.from_specs(members)
    w = weights
    n_o, n_m = len(ot), len(mt)
    empty = np.zeros(0, dtype=np.int64)
    capacity = np.maximum(mt.cap - mt.load, 0).astype(np.int64)
    load = mt.load.astype(np.int64, copy=True)
    if n_o == 0 or n_m == 0:
        return Candidates(empty, empty, empty, capacity, load, n_o, w.load_penalty)

    # Registrations of members who can take anything, with communities that have orders, sorted
    # by (community, member) without duplicates.
    n_c, comm_code = _coder(ot.community)
    o_comm = comm_code(ot.community)
    able = (mt.load < mt.cap) & ((mt.availability & ALL_SLOTS) != 0)
    r_comm = comm_code(mt.reg_community)
    r_ok = (r_comm >= 0) & able[mt.reg_member]
    reg = unique(r_comm[r_ok] * n_m + mt.reg_member[r_ok])
    r_comm, r_member = np.divmod(reg, n_m)
    c_ptr = np.zeros(n_c + 1, dtype=np.int64)
    np.cumsum(np.bincount(r_comm, minlength=n_c), out=c_ptr[1:])
    del reg, r_ok

    # Each order reads its community's run; the slot test comes first, it is the cheapest.
    e_order, e_pos = _expand(c_ptr[o_comm], c_ptr[o_comm + 1] - c_ptr[o_comm])
    e_member = r_member[e_pos]
    del e_pos
    keep = ((mt.availability[e_member] >> ot.slot[e_order]) & 1).astype(bool)
    e_order, e_member = e_order[keep], e_member[keep]

    # Skill test and level, where the order needs a skill.
    e_level = np.zeros(len(e_order), dtype=np.int64)
    o_skill = ot.skill[e_order]
    need = o_skill >= 0
    if need.any():
        n_s, skill_code = _coder(ot.skill[ot.skill >= 0])
        s_code = skill_code(mt.skill_id)
        s_ok = s_code >= 0
        s_member, s_code, s_level = mt.skill_member[s_ok], s_code[s_ok], mt.skill_level[s_ok]
        q_member, q_skill = e_member[need], skill_code(o_skill[need])
        if n_m * n_s <= DENSE_SKILL_TABLE:
            table = np.zeros((n_m, n_s), dtype=np.int8)
            np.maximum.at(table, (s_member, s_code), s_level.astype(np.int8))
            level = table[q_member, q_skill].astype(np.int64)
            del table
        else:
            # Sorted (member, skill) keys, the highest level last within a key.
            key = s_member * n_s + s_code
            srt = np.lexsort((s_level, key))
            key, lv = np.append(key[srt], -1), np.append(s_level[srt], 0)
            q = q_member * n_s + q_skill
            at = np.searchsorted(key[:-1], q, side="right") - 1  # −1 → the sentinel, no match
            level = np.where(key[at] == q, lv[at], 0)
        e_level[need] = level
        keep = ~need
        keep[need] = level > 0
        e_order, e_member, e_level = e_order[keep], e_member[keep], e_level[keep]
    del o_skill, need

    # Score.
    target = 10 * w.annual_hours_target
    tenths = np.rint(mt.hours[e_member] * 10).astype(np.int64)
    fairness = w.fairness * (target - np.clip(tenths, 0, target)) // target
    rating = mt.rating[e_member]
    tenths = np.rint(np.nan_to_num(rating, nan=3.0) * 10).astype(np.int64)
    rated = w.good_rating * np.clip(tenths - 30, 0, 20) // 20
    o_grid = ot.grid[e_order]
    same_grid = (o_grid >= 0) & (mt.grid[e_member] == o_grid)
    same_comm = mt.home[e_member] == ot.community[e_order]
    paired = np.zeros(len(e_order), dtype=bool)
    if len(mt.paired_member):
        p_comm = comm_code(mt.paired_community)
        p_ok = p_comm >= 0
        p_key = unique(mt.paired_member[p_ok] * n_c + p_comm[p_ok])
        look = ~(same_grid | same_comm)
        if len(p_key):
            q = e_member[look] * n_c + o_comm[e_order[look]]
            at = np.minimum(np.searchsorted(p_key, q), len(p_key) - 1)
            paired[look] = p_key[at] == q
    place = np.where(
        same_grid, w.same_grid, np.where(same_comm, w.same_community, np.where(paired, w.paired_community, 0))
    )
    edge_score = (w.priority * ot.priority[e_order] + w.skill_level * e_level + place + fairness + rated).astype(
        np.int64
    )
    return Candidates(
        order_idx=e_order,
        member_idx=e_member,
        score=edge_score,
        capacity=capacity,
        current_load=load,
        n_orders=n_o,
        load_penalty=w.load_penalty,
    )


def explain_edges(
    orders: Sequence[OrderSpec] | OrderTable,
    members: Sequence[MemberSpec] | MemberTable,
    weights: Weights,
    order_idx: np.ndarray,
    member_idx: np.ndarray,
    skill_names: dict | None = None,
) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Edge scores and reasons of many (order, member) pairs at once, for a batch's plan.

    Pair e is (orders[order_idx[e]], members[member_idx[e]]); `skill_names` maps a skill id to
    its display name (an `OrderSpec.skill_name`). Returns the scores and reasons that `explain`
    gives pair by pair — a property test checks that they agree — in O(E log E) numpy work and
    one short Python step per pair for the words, instead of a dataclass per member. Hard
    constraints are not checked: pass candidate pairs.
    """
    ot = orders if isinstance(orders, OrderTable) else OrderTable.from_specs(orders)
    mt = members if isinstance(members, MemberTable) else MemberTable.from_specs(members)
    if not isinstance(orders, OrderTable):
        skill_names = {**{o.skill: o.skill_name for o in orders if o.skill_name}, **(skill_names or {})}
    skill_names = skill_names or {}
    w = weights
    o = np.asarray(order_idx, dtype=np.int64)
    m = np.asarray(member_idx, dtype=np.int64)
    n_m = len(mt)
    # Only the rows of the members concerned: a mask over members, no sort of every member's rows.
    wanted = np.zeros(n_m, dtype=bool)
    wanted[m] = True

    o_skill = ot.skill[o]
    level = np.zeros(len(o), dtype=np.int64)
    need = o_skill >= 0
    if need.any():
        rows = wanted[mt.skill_member]
        s_member, s_id, s_level = mt.skill_member[rows], mt.skill_id[rows], mt.skill_level[rows]
        codes = unique(np.concatenate([s_id, o_skill[need]]))
        n_s = len(codes)
        key = s_member * n_s + np.searchsorted(codes, s_id)
        srt = np.lexsort((s_level, key))  # the highest level last within a key
        key, lv = np.append(key[srt], -1), np.append(s_level[srt], 0)
        q = m[need] * n_s + np.searchsorted(codes, o_skill[need])
        at = np.searchsorted(key[:-1], q, side="right") - 1
        level[need] = np.where(key[at] == q, lv[at], 0)

    o_comm, o_grid = ot.community[o], ot.grid[o]
    same_grid = (o_grid >= 0) & (mt.grid[m] == o_grid)
    same_comm = mt.home[m] == o_comm
    paired = np.zeros(len(o), dtype=bool)
    rows = wanted[mt.paired_member]
    if rows.any():
        p_member, p_comm = mt.paired_member[rows], mt.paired_community[rows]
        codes = unique(np.concatenate([p_comm, o_comm]))
        p_key = unique(p_member * len(codes) + np.searchsorted(codes, p_comm))
        q = m * len(codes) + np.searchsorted(codes, o_comm)
        at = np.minimum(np.searchsorted(p_key, q), len(p_key) - 1)
        paired = p_key[at] == q
    place = np.where(same_grid, 0, np.where(same_comm, 1, np.where(paired, 2, 3)))
    place_points = np.array([w.same_grid, w.same_community, w.paired_community, 0], dtype=np.int64)[place]

    target = 10 * w.annual_hours_target
    hours = mt.hours[m]
    fairness = w.fairness * (target - np.clip(np.rint(hours * 10).astype(np.int64), 0, target)) // target
    rating = mt.rating[m]
    tenths = np.rint(np.nan_to_num(rating, nan=3.0) * 10).astype(np.int64)
    rated = w.good_rating * np.clip(tenths - 30, 0, 20) // 20
    scores = (w.priority * ot.priority[o] + w.skill_level * level + place_points + fairness + rated).astype(np.int64)

    good = ~np.isnan(rating) & (rating >= w.good_rating_threshold)
    places = ("同网格", "同社区", "结对社区", "已在本社区报到")
    # The same few phrases recur across a plan: each is formatted once (a plan has ~100,000 edges).
    hour_words: dict = {}
    load_words: dict = {}
    skill_words: dict = {}
    reasons = []
    for sk, lv, pl, h, ld, g in zip(
        o_skill.tolist(),
        level.tolist(),
        place.tolist(),
        hours.tolist(),
        mt.load[m].tolist(),
        good.tolist(),
        strict=True,
    ):
        hw = hour_words.get(h)
        if hw is None:
            hw = hour_words[h] = f"今年服务 {_format_hours(h)} 小时"
        lw = load_words.get(ld)
        if lw is None:
            lw = load_words[ld] = f"当前 {ld} 单"
        if lv:
            sw = skill_words.get((sk, lv))
            if sw is None:
                sw = skill_words[sk, lv] = f"擅长{skill_names.get(sk) or f'技能{sk}'}（{SKILL_LEVELS[lv]}）"
            words = (sw, places[pl], hw, lw, "近期评价好") if g else (sw, places[pl], hw, lw)
        else:
            words = (places[pl], hw, lw, "近期评价好") if g else (places[pl], hw, lw)
        reasons.append(words)
    return scores, reasons
