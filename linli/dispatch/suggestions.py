"""The best members for one order, with reasons: the engine's ranking for the dispatcher's page."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linli.dispatch.loading import load_order
from linli.orders.models import Order
from linli.people.models import Member
from matching import Explanation, OrderSpec, build_candidates, explain


@dataclass(frozen=True)
class SuggestedMember:
    member: Member
    score: int  # the edge score less the load penalty of what the member holds now
    reasons: tuple[str, ...]
    explanation: Explanation


def suggest_for_order(order: Order, *, k: int = 10) -> list[SuggestedMember]:
    """The k best members for `order`, best first, meeting every hard constraint.

    Hard constraints (matching.scoring): registered with the order's community, the category's
    required skill, available in the current half-day, below their load cap. Ranked as
    `matching.suggest` ranks (score less the load penalty of what they hold, then fewer orders
    held, then member id), but computed on the batch's columns (`build_candidates`) so that only
    the k shown become dataclasses with explanations. A constant number of queries: the batch
    with the town's weights (`load_order`: one statement on PostgreSQL), the members shown.
    """
    batch = load_order(order)
    weights = batch.weights
    if not len(batch.order_ids):
        return []
    cand = build_candidates(batch.orders, batch.members, weights)
    rows = cand.member_idx  # every edge is for order 0
    held = batch.members.load[rows]
    total = cand.score - weights.load_penalty * held
    top = rows[np.lexsort((rows, held, -total))[:k]].tolist()
    ot = batch.orders
    spec = OrderSpec(
        id=order.pk,
        skill=None if ot.skill[0] < 0 else int(ot.skill[0]),
        community=int(ot.community[0]),
        grid=None if ot.grid[0] < 0 else int(ot.grid[0]),
        priority=int(ot.priority[0]),
        deadline=order.resolve_by,
        slot=int(ot.slot[0]),
        skill_name=batch.skill_names.get(int(ot.skill[0])),
    )
    explained = [(int(batch.member_ids[j]), explain(spec, batch.member_spec(j), weights)) for j in top]
    members = Member.objects.in_bulk([m for m, _ in explained])
    return [SuggestedMember(members[m], why.total, why.reasons, why) for m, why in explained if m in members]
