"""The best members for one order, with reasons: the engine's ranking for the dispatcher's page."""

from __future__ import annotations

from dataclasses import dataclass

from linli.dispatch.loading import load_batch, weights_for_town
from linli.orders.models import Order
from linli.people.models import Member
from matching import Explanation, suggest


@dataclass(frozen=True)
class SuggestedMember:
    member: Member
    score: int  # the edge score less the load penalty of what the member holds now
    reasons: tuple[str, ...]
    explanation: Explanation


def suggest_for_order(order: Order, *, k: int = 10) -> list[SuggestedMember]:
    """The k best members for `order`, best first, meeting every hard constraint.

    Hard constraints (matching.scoring): registered with the order's community, the category's
    required skill, available in the current half-day, below their load cap. A constant number of
    queries (the batch load plus one for the members shown).
    """
    batch = load_batch(Order.objects.filter(pk=order.pk), weights=weights_for_town(order.town_id))
    if not len(batch.order_ids):
        return []
    ranked = suggest(batch.order_spec(0), batch.member_specs(), batch.weights, k=k)
    members = Member.objects.in_bulk([s.member_id for s in ranked])
    return [
        SuggestedMember(members[s.member_id], s.total, s.explanation.reasons, s.explanation)
        for s in ranked
        if s.member_id in members
    ]
