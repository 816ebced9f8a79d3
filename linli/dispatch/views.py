"""Pages of 智能派单: suggestions on an order's page (htmx partial), and auto-dispatch runs.

parse → access (linli.dispatch.access, linli.orders.access) → act (linli.dispatch.actions) → respond.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.dispatch import actions
from linli.dispatch.access import get_run_for_user, get_scope_for_user
from linli.dispatch.models import DispatchRun
from linli.dispatch.suggestions import suggest_for_order
from linli.lib.errors import DomainError
from linli.orders.access import get_order_for_user
from linli.orders.models import Status
from linli.orgs.models import Community, Grid, Town


def _manages(scope, order) -> bool:
    return scope.superuser or order.community_id in scope.community_ids or order.town_id in scope.town_ids


@login_required
def order_suggestions(request, pk):
    """htmx partial: the engine's top 10 members for an accepted order, each with a dispatch form."""
    order = get_order_for_user(request, pk)
    if not _manages(request.user.scope, order):
        raise Http404("not staff of this order's community")
    suggestions = suggest_for_order(order, k=10) if order.status == Status.ACCEPTED else []
    return render(request, "dispatch/_suggestions.html", {"order": order, "suggestions": suggestions})


def _scopes(user):
    """The scopes a user may run dispatch for: towns they administer, communities they staff, and
    the grids of those communities."""
    s = user.scope
    towns = Town.objects.all() if s.superuser else Town.objects.filter(id__in=s.town_ids)
    communities = Community.objects.all() if s.superuser else Community.objects.filter(id__in=s.managed_community_ids)
    grids = Grid.objects.filter(community__in=communities).select_related("community")
    return (
        [("town", t.pk, t.name) for t in towns.order_by("pk")]
        + [("community", c.pk, c.name) for c in communities.order_by("pk")]
        + [("grid", g.pk, f"{g.community.name} · {g.name}") for g in grids.order_by("community_id", "pk")]
    )


@login_required
def dispatch_home(request):
    """Choose a scope and plan; the recent runs the user may see."""
    choices = _scopes(request.user)
    if not choices:
        raise Http404("no dispatch scope")
    runs = DispatchRun.objects.visible_to(request.user).select_related("created_by").order_by("-created_at")[:20]
    return render(request, "dispatch/home.html", {"choices": choices, "runs": runs})


@require_POST
@login_required
def dispatch_plan(request):
    kind, _sep, pk = request.POST.get("scope", "").partition(":")
    scope = get_scope_for_user(request, kind, pk)
    try:
        run = actions.plan_dispatch(scope, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("dispatch_home")
    return redirect("dispatch_run", run.pk)


@login_required
def dispatch_run(request, pk):
    run = get_run_for_user(request, pk)
    rows = list(run.assignments.select_related("order", "order__grid", "order__category", "member").order_by("pk"))
    return render(
        request,
        "dispatch/run.html",
        {
            "run": run,
            "assigned": [a for a in rows if a.member_id],
            "unassigned": [a for a in rows if not a.member_id],
        },
    )


@require_POST
@login_required
def dispatch_confirm(request, pk):
    run = get_run_for_user(request, pk)
    try:
        actions.confirm_dispatch(run, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已派出 %(n)s 单") % {"n": run.n_applied})
    return redirect("dispatch_run", run.pk)


@require_POST
@login_required
def dispatch_discard(request, pk):
    run = get_run_for_user(request, pk)
    try:
        actions.discard_dispatch(run, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已放弃该方案"))
    return redirect("dispatch_run", run.pk)
