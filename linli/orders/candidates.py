"""A simple fit score for dispatch: which registered members suit an order, with reasons.

Read-only and one query. The dispatch engine (linli/dispatch, matching/) replaces this ranking
with an optimal, explainable one; the hard constraints stay those of
linli.orders.actions.member_fit_errors.
"""

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from linli.orders.models import MEMBER_LOAD_STATUSES, CategoryRule, Order
from linli.people.models import Member, MemberSkill, Registration

SKILL_POINTS = {3: 50, 2: 35, 1: 20}
SAME_GRID_POINTS = 20
LOAD_PENALTY = 10


@dataclass(frozen=True)
class Candidate:
    member: Member
    score: int
    load: int
    skill_level: int
    same_grid: bool
    reasons: tuple[str, ...]
    eligible: bool


def candidate_members(order: Order, *, limit: int = 10) -> list[Candidate]:
    """Members registered with the order's community, best fit first."""
    rule = CategoryRule.objects.filter(category_id=order.category_id).select_related("required_skill").first()
    skill_id = rule.required_skill_id if rule else None
    load = (
        Order.objects.filter(assignee=OuterRef("pk"), status__in=MEMBER_LOAD_STATUSES)
        .values("assignee")
        .annotate(n=Count("id"))
        .values("n")
    )
    level = MemberSkill.objects.filter(member=OuterRef("pk"), skill_id=skill_id).values("level")[:1]
    registered = Registration.objects.filter(
        community_id=order.community_id, status=Registration.Status.APPROVED, member__isnull=False
    ).values("member_id")
    qs = Member.objects.filter(id__in=registered).annotate(
        load=Coalesce(Subquery(load, output_field=IntegerField()), Value(0)),
        skill_level=Coalesce(Subquery(level, output_field=IntegerField()), Value(0))
        if skill_id
        else Value(0, output_field=IntegerField()),
    )
    if skill_id and rule.skill_required_to_claim:
        qs = qs.filter(skill_level__gt=0)
    rows = list(
        qs.filter(load__lt=Coalesce("load_cap", Value(3))).only("id", "name", "member_no", "home_grid_id", "load_cap")
    )
    ranked = []
    for m in rows:
        same_grid = bool(order.grid_id and m.home_grid_id == order.grid_id)
        score = SKILL_POINTS.get(m.skill_level, 0) + (SAME_GRID_POINTS if same_grid else 0) - LOAD_PENALTY * m.load
        reasons = []
        if m.skill_level and rule and rule.required_skill:
            reasons.append(f"擅长{rule.required_skill.name}（{MemberSkill.Level(m.skill_level).label}）")
        reasons.append("同网格" if same_grid else "本社区报到")
        reasons.append(f"当前{m.load}单")
        ranked.append(Candidate(m, score, m.load, m.skill_level, same_grid, tuple(reasons), True))
    ranked.sort(key=lambda c: (-c.score, c.load, c.member.pk))
    return ranked[:limit]
