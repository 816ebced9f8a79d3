"""Dispatch over JSON, for staff: suggestions for one order, and auto-dispatch runs.

Suggestions come from the dispatch engine (linli.dispatch.suggestions.suggest_for_order, the
ranking the order page shows), each with its score, the score's parts and the reasons in Chinese.
Dispatching one order is POST /orders/{id}/dispatch.

Auto-dispatch (智能派单): POST /dispatch/runs plans a batch for a grid, a community or a town and
changes no order (a previewed run); confirm sends each proposed order through the orders'
dispatch action, discard drops the plan. Runs come through linli.dispatch.access (outside the
user's scope: 404); every change is an action of linli.dispatch.actions — the pages' own.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import Field, Query, Router, Schema, Status

from linli.api.pagination import MAX_OFFSET, PageIn, page_of
from linli.api.schemas import (
    ERRORS,
    DispatchRunDetail,
    DispatchRunFilters,
    DispatchRunIn,
    DispatchRunPage,
    SuggestionPage,
)
from linli.dispatch import actions
from linli.dispatch.access import get_run_for_user, get_scope_for_user
from linli.dispatch.models import DispatchRun
from linli.dispatch.suggestions import suggest_for_order
from linli.lib.errors import NotAllowed
from linli.orders.access import get_order_for_user
from linli.orders.models import Status as OrderStatus

router = Router(tags=["dispatch"])

SOURCE = "engine"
# How many members are ranked at most: the page's `count` never exceeds it.
MAX_CANDIDATES = 100
PART_LABELS = {
    "priority": "紧急程度",
    "skill": "技能水平",
    "place": "距离",
    "fairness": "今年服务时长",
    "rating": "近期评价",
    "load": "当前负荷",
}
NOT_DISPATCHER = gettext_noop("只有社区工作人员或街道管理员可以智能派单")


class SuggestionPageIn(Schema):
    limit: int = Field(10, ge=1, le=MAX_CANDIDATES, description="每页人数（1–100，默认前 10 名）")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过的人数")


def _manages(scope, order) -> bool:
    return scope.superuser or order.community_id in scope.community_ids or order.town_id in scope.town_ids


def _present_suggestion(suggested) -> dict:
    member, why = suggested.member, suggested.explanation
    return {
        "member": {"id": member.pk, "name": member.name},
        "member_no": member.member_no,
        "score": suggested.score,
        "match_score": why.score,
        "parts": [{"name": name, "label": PART_LABELS.get(name, name), "points": points} for name, points in why.parts],
        "reasons": list(suggested.reasons),
        "eligible": why.eligible,
        "problems": list(why.problems),
    }


@router.get(
    "/orders/{order_id}/suggestions",
    response={200: SuggestionPage, **ERRORS},
    operation_id="list_order_suggestions",
    summary="派单推荐（派单引擎的前 10 名，附得分构成和理由）",
)
def list_order_suggestions(request, order_id: int, page: Query[SuggestionPageIn]):
    """Staff of the order's community (or the town admin): the members the dispatch engine ranks
    best for an accepted order — registered with the community, with the required skill, free in
    the current half-day and below their load cap — best first, each with its score, the parts of
    the score and the reasons. An order in any other status has none (the order page shows none
    either). Others who may see the order get 403; those who may not, 404."""
    order = get_order_for_user(request, order_id, write=True)
    if not _manages(request.user.scope, order):
        raise NotAllowed(_("只有本社区工作人员可以查看派单推荐"))
    ranked = suggest_for_order(order, k=MAX_CANDIDATES) if order.status == OrderStatus.ACCEPTED else []
    return {**page_of(ranked, page, _present_suggestion), "source": SOURCE}


# --- auto-dispatch runs ------------------------------------------------------------------------------


def _require_dispatcher(user) -> None:
    """Residents, members, units and departments never run dispatch: 403 (not a matter of scope)."""
    s = user.scope
    if not (s.superuser or s.town_ids or s.community_ids):
        raise NotAllowed(_(NOT_DISPATCHER))


def _user_name(user) -> str | None:
    return (user.name or user.get_username()) if user is not None else None


def _present_run(run: DispatchRun) -> dict:
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "scope": {"kind": run.scope_kind, "id": run.scope_id, "label": run.scope_label},
        "town_id": run.town_id,
        "created_by": _user_name(run.created_by),
        "created_at": run.created_at,
        "decided_by": _user_name(run.decided_by),
        "decided_at": run.decided_at,
        **{f: getattr(run, f) for f in ("n_orders", "n_members", "n_assigned", "n_applied", "total_score", "exact")},
    }


def _present_assignment(a) -> dict:
    member = a.member
    return {
        "order": {"id": a.order_id, "title": a.order.title},
        "member": {"id": member.pk, "name": member.name} if member is not None else None,
        "member_no": member.member_no if member is not None else None,
        "score": a.score,
        "reasons": [str(r) for r in a.reasons or ()],
        "applied": a.applied,
        "note": a.note,
    }


def _detail(run: DispatchRun, page: PageIn) -> dict:
    # The run's assignments, one page (a town's run may hold hundreds of orders): two queries.
    rows = run.assignments.select_related("order", "member").order_by("pk")
    return {**_present_run(run), "assignments": page_of(rows, page, _present_assignment)}


@router.post(
    "/dispatch/runs",
    response={201: DispatchRunDetail, **ERRORS},
    operation_id="plan_dispatch_run",
    summary="智能派单：为网格、社区或街道生成派单方案（待确认，不改动工单）",
)
def plan_dispatch_run(request, payload: DispatchRunIn, page: Query[PageIn]):
    """Plan who takes each accepted order of the scope (exactly optimal: the engine's score less
    the load cost). Answers the previewed run with the first page of its assignments; no order is
    dispatched until POST /dispatch/runs/{id}/confirm. Community staff may plan for their
    communities and their grids, a town admin for the town and everything in it; a scope outside
    the caller's is a 404, and callers who never dispatch (residents, members) get 403."""
    _require_dispatcher(request.user)
    scope = get_scope_for_user(request, payload.scope_kind, payload.scope_id)
    run = actions.plan_dispatch(scope, actor=request.user)
    return Status(201, _detail(get_run_for_user(request, run.pk), page))


@router.get(
    "/dispatch/runs",
    response={200: DispatchRunPage, **ERRORS},
    operation_id="list_dispatch_runs",
    summary="智能派单方案列表（最新的在前）",
)
def list_dispatch_runs(request, filters: Query[DispatchRunFilters], page: Query[PageIn]):
    """Runs of the scopes the caller may dispatch for, newest first; residents and members get 403."""
    _require_dispatcher(request.user)
    runs = DispatchRun.objects.visible_to(request.user).select_related("created_by", "decided_by")
    if filters.status:
        runs = runs.filter(status=filters.status)
    return page_of(runs.order_by("-created_at", "-id"), page, _present_run)


@router.get(
    "/dispatch/runs/{run_id}",
    response={200: DispatchRunDetail, **ERRORS},
    operation_id="get_dispatch_run",
    summary="智能派单方案详情：每单拟派给谁、得分和理由",
)
def get_dispatch_run(request, run_id: int, page: Query[PageIn]):
    """The run and one page of its assignments (`limit`, `offset`; in the order the plan made
    them): the order, the member proposed (null, with the reason in `note`, when nobody may take
    it), the score and reasons, and after confirmation whether it went out."""
    return _detail(get_run_for_user(request, run_id), page)


@router.post(
    "/dispatch/runs/{run_id}/confirm",
    response={200: DispatchRunDetail, **ERRORS},
    operation_id="confirm_dispatch_run",
    summary="确认智能派单方案：逐单派出",
)
def confirm_dispatch_run(request, run_id: int, page: Query[PageIn]):
    """Dispatch each proposed order of a previewed run (the orders' own dispatch action: events,
    notifications). An order taken or a member at their cap since the plan is recorded as not
    applied, with the reason; the rest still go out. 409 `run_decided` if the run was already
    confirmed or discarded."""
    run = get_run_for_user(request, run_id)
    actions.confirm_dispatch(run, actor=request.user)
    return _detail(get_run_for_user(request, run.pk), page)


@router.post(
    "/dispatch/runs/{run_id}/discard",
    response={200: DispatchRunDetail, **ERRORS},
    operation_id="discard_dispatch_run",
    summary="放弃智能派单方案",
)
def discard_dispatch_run(request, run_id: int, page: Query[PageIn]):
    """Drop a previewed run; nothing is dispatched. 409 `run_decided` if it was already decided."""
    run = get_run_for_user(request, run_id)
    actions.discard_dispatch(run, actor=request.user)
    return _detail(get_run_for_user(request, run.pk), page)
