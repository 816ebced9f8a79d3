"""Linli's pure matching engine (no Django): who should take which order, and why.

* `matching.model` — the inputs: OrderSpec, MemberSpec, Weights (and columnar tables);
* `matching.scoring` — hard constraints, scores and reasons: build_candidates, explain, suggest;
* `matching.solve` — the exact batch solver `assign` and the `objective` of an assignment.

See docs/dispatch.md.
"""

from matching.model import MemberSpec, OrderSpec, Weights
from matching.scoring import (
    Candidates,
    Explanation,
    Suggestion,
    build_candidates,
    explain,
    explain_edges,
    score,
    suggest,
)
from matching.solve import assign, objective

__all__ = [
    "Candidates",
    "Explanation",
    "MemberSpec",
    "OrderSpec",
    "Suggestion",
    "Weights",
    "assign",
    "build_candidates",
    "explain",
    "explain_edges",
    "objective",
    "score",
    "suggest",
]
