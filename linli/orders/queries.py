"""Reusable order queries shared by the pages and the API (no side effects)."""

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When
from django.utils.translation import gettext as _

from linli.orders.models import CategoryRule, Order
from linli.orders.models import Status as S
from linli.people.models import MemberSkill


def pool_orders(user, member):
    """Pooled orders of the communities the member is approved with, best fit first.

    Fit: 2 = the member has the skill the category needs, 1 = no skill needed to claim,
    0 = a needed skill is missing; then the member's own grid, then priority, oldest first.
    """
    s = user.scope
    has_skill = MemberSkill.objects.filter(member_id=member.pk, skill_id=OuterRef("category__rule__required_skill_id"))
    no_skill_needed = (
        Q(category__isnull=True)
        | Q(category__rule__isnull=True)
        | Q(category__rule__required_skill__isnull=True)
        | Q(category__rule__skill_required_to_claim=False)
    )
    same_grid = (
        Case(When(grid_id=member.home_grid_id, then=Value(1)), default=Value(0), output_field=IntegerField())
        if member.home_grid_id
        else Value(0, output_field=IntegerField())
    )
    return (
        Order.objects.visible_to(user)
        .filter(status=S.POOLED, community_id__in=s.member_community_ids)
        .select_related("community", "grid", "category__rule__required_skill")
        .annotate(skill_match=Exists(has_skill))
        .annotate(
            fit=Case(
                When(skill_match=True, then=Value(2)),
                When(no_skill_needed, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            same_grid=same_grid,
        )
        .with_overdue_flag()
        .order_by("-fit", "-same_grid", "-priority", "created_at", "id")
    )


def pool_fit(order, *, member, load) -> tuple[list[str], list[str]]:
    """Why a pooled order (a row of `pool_orders`) suits the member, and what stops them claiming
    it now: linli.orders.actions.member_fit_errors read from the row's annotations, without a
    query. The pool only lists communities the member is approved with, so the registration
    check holds by construction."""
    rule = None
    if order.category_id:
        try:
            rule = order.category.rule
        except CategoryRule.DoesNotExist:
            rule = None
    needs_skill = rule is not None and rule.required_skill_id is not None
    reasons, blockers = [], []
    if needs_skill and order.skill_match:
        reasons.append(_("具备所需技能“%(skill)s”") % {"skill": rule.required_skill.name})
    elif needs_skill and rule.skill_required_to_claim:
        blockers.append(_("不具备所需技能“%(skill)s”") % {"skill": rule.required_skill.name})
    elif needs_skill:
        reasons.append(_("“%(skill)s”技能优先，非必需") % {"skill": rule.required_skill.name})
    else:
        reasons.append(_("无技能要求"))
    if order.same_grid:
        reasons.append(_("在我居住的网格"))
    if load >= member.load_cap:
        blockers.append(_("当前已承接%(load)s单，达到上限%(cap)s单") % {"load": load, "cap": member.load_cap})
    return reasons, blockers
