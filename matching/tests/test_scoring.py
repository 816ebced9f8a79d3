"""Hard constraints, scores and reasons: build_candidates, explain and suggest agree."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matching.scoring as scoring
from matching import MemberSpec, OrderSpec, Weights, build_candidates, explain, score, suggest
from matching.model import ALL_SLOTS, MemberTable, OrderTable

COMMUNITIES = [1, 2, 3]
GRIDS = {1: [10, 11], 2: [20, 21], 3: [30]}
SKILLS = [7, 8, 9]


@st.composite
def orders(draw, offset=0):
    community = draw(st.sampled_from(COMMUNITIES))
    return OrderSpec(
        id=draw(st.uuids()),
        skill=draw(st.one_of(st.none(), st.sampled_from(SKILLS))),
        community=community + offset,
        grid=draw(st.one_of(st.none(), st.sampled_from(GRIDS[community]))),
        priority=draw(st.integers(1, 5)),
        deadline=None,
        slot=draw(st.integers(0, 13)),
    )


@st.composite
def members(draw, offset=0):
    home = draw(st.sampled_from(COMMUNITIES))
    registered = draw(st.frozensets(st.sampled_from(COMMUNITIES)))
    cap = draw(st.integers(0, 3))
    return MemberSpec(
        id=draw(st.uuids()),
        skills=draw(st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 3), max_size=3)),
        home_community=home + offset,
        paired_communities=frozenset(c + offset for c in draw(st.frozensets(st.sampled_from(COMMUNITIES)))),
        registered_communities=frozenset(c + offset for c in registered),
        grid=draw(st.sampled_from(GRIDS[home])),
        availability=draw(st.integers(0, ALL_SLOTS)),
        load=draw(st.integers(0, 3)),
        cap=cap,
        hours=draw(st.integers(0, 300)) / 10,
        rating=draw(st.one_of(st.none(), st.integers(10, 50).map(lambda r: r / 10))),
    )


weights_strategy = st.builds(
    lambda p, sk, g, c, pc, f, t, r, lp: Weights(
        priority=p,
        skill_level=sk,
        same_grid=g + c + pc,
        same_community=c + pc,
        paired_community=pc,
        fairness=f,
        annual_hours_target=t,
        good_rating=r,
        load_penalty=lp,
    ),
    *(st.integers(0, 150) for _ in range(6)),
    st.integers(1, 40),
    st.integers(0, 80),
    st.integers(0, 50),
)


def eligible(order, member):
    return (
        order.community in member.registered_communities
        and (order.skill is None or order.skill in member.skills)
        and member.available_in(order.slot)
        and member.load < member.cap
    )


@pytest.fixture(params=["dense", "sparse"])
def lookups(request, monkeypatch):
    """Exercise both lookup paths of build_candidates: tables for small ids, binary search for
    large ones (ids offset by 10**9) and for a large member × skill grid."""
    if request.param == "sparse":
        monkeypatch.setattr(scoring, "DENSE_SKILL_TABLE", 0)
        return 10**9
    return 0


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), w=weights_strategy)
def test_build_candidates_is_exactly_the_eligible_pairs_with_their_scores(lookups, data, w):
    os = data.draw(st.lists(orders(lookups), max_size=8))
    ms = data.draw(st.lists(members(lookups), max_size=10))
    cand = build_candidates(os, ms, w)
    got = {(int(o), int(m)): int(s) for o, m, s in zip(cand.order_idx, cand.member_idx, cand.score, strict=True)}
    assert len(got) == len(cand), "duplicate edges"
    keys = list(zip(cand.order_idx.tolist(), cand.member_idx.tolist(), strict=True))
    assert keys == sorted(keys), "edges sorted by order, then member"
    want = {(i, j): score(o, m, w) for i, o in enumerate(os) for j, m in enumerate(ms) if eligible(o, m)}
    assert got == want
    for (i, j), s in got.items():
        why = explain(os[i], ms[j], w)
        assert why.eligible and why.score == s
        assert why.total == s - w.load_penalty * ms[j].load
        assert sum(points for _, points in why.parts) == why.total
    assert cand.capacity.tolist() == [max(m.cap - m.load, 0) for m in ms]
    assert cand.current_load.tolist() == [m.load for m in ms]
    assert cand.n_orders == len(os) and cand.load_penalty == w.load_penalty


@settings(max_examples=200, deadline=None)
@given(data=st.data(), w=weights_strategy)
def test_explain_names_every_broken_hard_constraint(data, w):
    o = data.draw(orders())
    m = data.draw(members())
    why = explain(o, m, w)
    assert why.eligible == eligible(o, m)
    assert ("未在本社区报到" in why.problems) == (o.community not in m.registered_communities)
    assert any(p.startswith("不具备所需技能") for p in why.problems) == (
        o.skill is not None and o.skill not in m.skills
    )
    assert ("该时段不可服务" in why.problems) == (not m.available_in(o.slot))
    assert any(p.startswith("已达接单上限") for p in why.problems) == (m.load >= m.cap)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), w=weights_strategy, k=st.integers(0, 6))
def test_suggest_returns_the_best_eligible_members_in_order(data, w, k):
    o = data.draw(orders())
    ms = data.draw(st.lists(members(), max_size=12))
    got = suggest(o, ms, w, k=k)
    ranked = sorted(
        (i for i, m in enumerate(ms) if eligible(o, m)),
        key=lambda i: (-(score(o, ms[i], w) - w.load_penalty * ms[i].load), ms[i].load, i),
    )
    assert [s.member_id for s in got] == [ms[i].id for i in ranked[:k]]
    for s in got:
        assert s.explanation.eligible
        assert s.total == s.explanation.total


def test_tables_and_specs_give_the_same_candidates():
    os = [
        OrderSpec(i, skill=[7, None][i % 2], community=1 + i % 2, grid=None, priority=3, deadline=None, slot=i)
        for i in range(6)
    ]
    ms = [
        MemberSpec(j, skills={7: 1 + j % 3}, home_community=1, registered_communities=frozenset({1, 2}))
        for j in range(5)
    ]
    a = build_candidates(os, ms, Weights())
    b = build_candidates(OrderTable.from_specs(os), MemberTable.from_specs(ms), Weights())
    for field in ("order_idx", "member_idx", "score", "capacity", "current_load"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert len(a) == 6 * 5  # every member registered with both, skilled, always available
    assert np.array_equal(a.solve(), b.solve())
    assert sorted(np.bincount(a.solve()[a.solve() >= 0]).tolist()) == [1, 1, 1, 1, 2]  # 6 orders, caps 3


def test_explain_reasons_in_chinese():
    w = Weights()
    o = OrderSpec(1, skill=7, community=10, grid=3, priority=3, deadline=None, slot=2, skill_name="水电维修")
    m = MemberSpec(
        "m1",
        skills={7: 3},
        home_community=10,
        registered_communities=frozenset({10}),
        grid=3,
        load=1,
        hours=6,
        rating=4.8,
    )
    why = explain(o, m, w)
    assert why.reasons == ("擅长水电维修（专业）", "同网格", "今年服务 6 小时", "当前 1 单", "近期评价好")
    assert dict(why.parts) == {
        "priority": 300,
        "skill": 120,
        "place": 120,
        "fairness": 70,
        "rating": 45,
        "load": -30,
    }
    assert (why.score, why.total, why.problems) == (655, 625, ())


@pytest.mark.parametrize(
    ("member", "place", "points"),
    [
        (MemberSpec(1, home_community=10, grid=4, registered_communities=frozenset({10})), "同社区", 80),
        (
            MemberSpec(
                2, home_community=11, paired_communities=frozenset({10}), registered_communities=frozenset({10})
            ),
            "结对社区",
            40,
        ),
        (MemberSpec(3, home_community=11, registered_communities=frozenset({10})), "已在本社区报到", 0),
    ],
)
def test_explain_place(member, place, points):
    o = OrderSpec(1, skill=None, community=10, grid=3, priority=1, deadline=None, slot=0)
    why = explain(o, member, Weights())
    assert why.reasons[0] == place
    assert dict(why.parts)["place"] == points


def test_explain_problems():
    o = OrderSpec(1, skill=7, community=10, grid=None, priority=1, deadline=None, slot=5, skill_name="助老")
    m = MemberSpec(1, home_community=11, availability=0, load=2, cap=2, hours=2.5)
    why = explain(o, m, Weights())
    assert why.problems == ("未在本社区报到", "不具备所需技能：助老", "该时段不可服务", "已达接单上限（2 单）")
    assert "今年服务 2.5 小时" in why.reasons


def test_suggest_breaks_ties_by_load_then_input_order():
    o = OrderSpec(1, skill=None, community=10, grid=None, priority=1, deadline=None, slot=0)
    w = Weights(load_penalty=0)
    ms = [
        MemberSpec(i, home_community=10, registered_communities=frozenset({10}), load=load, hours=20)
        for i, load in enumerate([2, 0, 1, 0])
    ]
    assert [s.member_id for s in suggest(o, ms, w, k=10)] == [1, 3, 2, 0]
    assert suggest(o, ms, w, k=2)[0].explanation.reasons == ("同社区", "今年服务 20 小时", "当前 0 单")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"priority": -1},
        {"same_grid": 10, "same_community": 20},
        {"paired_community": 100},
        {"annual_hours_target": 0},
        {"load_penalty": 1.5},
    ],
)
def test_weights_validate(kwargs):
    with pytest.raises(ValueError):
        Weights(**kwargs)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: OrderSpec(1, None, 1, None, priority=6, deadline=None, slot=0), "priority"),
        (lambda: OrderSpec(1, None, 1, None, priority=1, deadline=None, slot=14), "slot"),
        (lambda: MemberSpec(1, skills={7: 4}), "level"),
        (lambda: MemberSpec(1, availability=1 << 14), "availability"),
        (lambda: MemberSpec(1, cap=-1), "cap"),
    ],
)
def test_specs_validate(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), w=weights_strategy, named=st.booleans())
def test_explain_edges_agrees_with_explain_pair_by_pair(lookups, data, w, named):
    os = data.draw(st.lists(orders(lookups), max_size=8))
    ms = data.draw(st.lists(members(lookups), max_size=10))
    names = {s: f"技能名{s}" for s in SKILLS} if named else {}
    pairs = [(i, j) for i in range(len(os)) for j in range(len(ms)) if eligible(os[i], ms[j])]
    o_idx = np.array([p[0] for p in pairs], dtype=np.int64)
    m_idx = np.array([p[1] for p in pairs], dtype=np.int64)
    scores, reasons = scoring.explain_edges(
        OrderTable.from_specs(os), MemberTable.from_specs(ms), w, o_idx, m_idx, names
    )
    for (i, j), s, r in zip(pairs, scores.tolist(), reasons, strict=True):
        spec = os[i]
        if spec.skill is not None and names:
            spec = OrderSpec(
                **{f: getattr(spec, f) for f in spec.__slots__ if f != "skill_name"}, skill_name=names[spec.skill]
            )
        why = explain(spec, ms[j], w)
        assert (s, r) == (why.score, why.reasons)
    # The specs form gives the same (skill names from the specs).
    assert scoring.explain_edges(os, ms, w, o_idx, m_idx)[0].tolist() == scores.tolist()
