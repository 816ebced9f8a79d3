"""Auto-dispatch (智能派单): plan a batch with the matching engine, then confirm or discard it.

`plan_dispatch` writes a previewed DispatchRun and changes no order. `confirm_dispatch` moves the
run previewed → confirmed (compare-and-set) and sends each proposed order through
linli.orders.actions.dispatch_order — the one path that writes events and notifications. The
world may have changed since the preview (an order taken, a member at their cap): such an order
is recorded as not applied, with the reason, and the others still go out.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict

import numpy as np
from django.db import connections, router, transaction
from django.utils import timezone

from linli.dispatch.loading import Batch, DispatchScope, load_scope
from linli.dispatch.models import DispatchAssignment, DispatchRun
from linli.lib.errors import Conflict, DomainError, NotAllowed
from linli.orders.actions import dispatch_order
from linli.orders.models import Order
from linli.people.models import Member
from matching import Candidates, build_candidates, explain_edges, objective

NO_CANDIDATE = "无符合条件的党员"
NO_CAPACITY = "名额已满：符合条件的党员已派满"


def _require_scope(scope: DispatchScope, actor) -> None:
    if actor is None or not scope.allowed_for(actor.scope):
        raise NotAllowed("只有本社区工作人员或街道管理员可以智能派单")


def run_scope(run: DispatchRun) -> DispatchScope:
    return DispatchScope(run.scope_kind, run.scope_id, run.town_id, run.scope_label)


def plan_dispatch(scope: DispatchScope, *, actor) -> DispatchRun:
    """Plan who takes each accepted order of `scope`: a previewed run, no order changed.

    Exactly optimal (matching.assign) for the score less the convex load cost, with the town's
    weights; every order gets an assignment row — with the member and reasons, or without one and
    why not.
    """
    _require_scope(scope, actor)
    batch = load_scope(scope)
    cand = build_candidates(batch.orders, batch.members, batch.weights)
    info: dict = {}
    chosen = cand.solve(info)
    return record_plan(batch, cand, chosen, info, scope=scope, actor=actor)


def record_plan(batch: Batch, cand: Candidates, chosen: np.ndarray, info: dict, *, scope: DispatchScope, actor):
    """Write the previewed run of a solved batch: the DispatchRun (parameters, counts, score,
    exactness) and one DispatchAssignment per order, in one transaction.

    The second half of `plan_dispatch`, separate so that bench/dispatch_e2e.py can time it.
    Reasons come from `matching.explain_edges` (the same words as `explain`, vectorised);
    on PostgreSQL the rows go in by COPY.
    """
    total, placed = objective(
        cand.order_idx,
        cand.member_idx,
        cand.score,
        chosen,
        capacity=cand.capacity,
        current_load=cand.current_load,
        load_penalty=cand.load_penalty,
    )
    has_candidate = np.zeros(cand.n_orders, dtype=bool)
    has_candidate[cand.order_idx] = True
    assigned = np.flatnonzero(chosen >= 0)
    scores, reasons = explain_edges(
        batch.orders, batch.members, batch.weights, assigned, chosen[assigned], batch.skill_names
    )
    member_of = np.full(cand.n_orders, -1, dtype=np.int64)
    member_of[assigned] = batch.member_ids[chosen[assigned]]
    score_of = dict(zip(assigned.tolist(), scores.tolist(), strict=True))
    reasons_of = dict(zip(assigned.tolist(), reasons, strict=True))
    with transaction.atomic():
        run = DispatchRun.objects.create(
            town_id=scope.town_id,
            scope_kind=scope.kind,
            scope_id=scope.id,
            scope_label=scope.label[:120],
            parameters={"weights": asdict(batch.weights)},
            created_by=actor if getattr(actor, "pk", None) else None,
            n_orders=len(batch.order_ids),
            n_members=len(batch.member_ids),
            n_assigned=int(placed),
            total_score=int(total),
            exact=bool(info.get("exact", True)),
            gap=float(info["gap"]) if info.get("gap") is not None else None,
        )
        rows = []
        for i, (order_id, member_id, candidate) in enumerate(
            zip(batch.order_ids.tolist(), member_of.tolist(), has_candidate.tolist(), strict=True)
        ):
            if member_id < 0:
                note = NO_CAPACITY if candidate else NO_CANDIDATE
                rows.append((run.pk, order_id, None, None, [], False, note))
            else:
                rows.append((run.pk, order_id, member_id, score_of[i], list(reasons_of[i]), False, ""))
        _insert_rows(DispatchAssignment, ASSIGNMENT_FIELDS, rows)
    return run


ASSIGNMENT_FIELDS = ("run_id", "order_id", "member_id", "score", "reasons", "applied", "note")
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def _insert_rows(model, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert `rows` (tuples of values for the concrete `fields`, by attname) into `model`'s table.

    PostgreSQL: one COPY (JSON fields as JSON text); elsewhere `bulk_create` in batches. No
    signals, no `save()`: for append-only rows written by an action inside its transaction.
    """
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor == "postgresql":
        columns = [model._meta.get_field(f) for f in fields]  # get_field knows attnames ("run_id") too
        json_at = [i for i, f in enumerate(columns) if f.get_internal_type() == "JSONField"]
        names = ", ".join(connection.ops.quote_name(f.column) for f in columns)
        table = connection.ops.quote_name(model._meta.db_table)
        slow = json.JSONEncoder(ensure_ascii=False).encode

        def encode(value):
            # A list of plain strings (reasons) needs no escaping: joined directly, ~5× faster.
            if type(value) is list and all(type(v) is str for v in value):
                text = '","'.join(value)
                if not _NEEDS_ESCAPE.search(text):
                    return f'["{text}"]' if value else "[]"
            return slow(value)

        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                if json_at:
                    row = list(row)
                    for i in json_at:
                        row[i] = encode(row[i])
                copy.write_row(row)
        return
    objs = [model(**dict(zip(fields, row, strict=True))) for row in rows]
    model.objects.bulk_create(objs, batch_size=2000)


def confirm_dispatch(run: DispatchRun, *, actor) -> DispatchRun:
    """Confirm a previewed run: dispatch each proposed order through `dispatch_order`.

    Compare-and-set previewed → confirmed first, so that two confirmations cannot both send.
    An order that can no longer be dispatched (Conflict, DomainError) is recorded as not applied
    with the message; the rest go out. Each dispatch is its own transaction.
    """
    _require_scope(run_scope(run), actor)
    now = timezone.now()
    updated = DispatchRun.objects.filter(pk=run.pk, status=DispatchRun.Status.PREVIEWED).update(
        status=DispatchRun.Status.CONFIRMED, decided_by=actor, decided_at=now
    )
    if updated != 1:
        raise Conflict("该智能派单方案已确认或已放弃", code="run_decided")
    run.status, run.decided_by, run.decided_at = DispatchRun.Status.CONFIRMED, actor, now
    proposed = list(run.assignments.filter(member__isnull=False).order_by("pk"))
    orders = Order.objects.select_related("category", "community").in_bulk([a.order_id for a in proposed])
    members = Member.objects.select_related("user").in_bulk([a.member_id for a in proposed])
    applied = 0
    for a in proposed:
        order = orders.get(a.order_id)
        if order is None:
            a.note = "工单已不存在"
            continue
        try:
            dispatch_order(order, actor=actor, member=members[a.member_id], note=f"智能派单 #{run.pk}")
        except DomainError as e:  # Conflict and NotAllowed included: the world changed since the preview
            a.applied, a.note = False, str(e)[:200]
        else:
            a.applied, a.note = True, ""
            applied += 1
    DispatchAssignment.objects.bulk_update(proposed, ["applied", "note"])
    DispatchRun.objects.filter(pk=run.pk).update(n_applied=applied)
    run.n_applied = applied
    return run


def discard_dispatch(run: DispatchRun, *, actor) -> DispatchRun:
    """Discard a previewed run; nothing is dispatched."""
    _require_scope(run_scope(run), actor)
    now = timezone.now()
    updated = DispatchRun.objects.filter(pk=run.pk, status=DispatchRun.Status.PREVIEWED).update(
        status=DispatchRun.Status.DISCARDED, decided_by=actor, decided_at=now
    )
    if updated != 1:
        raise Conflict("该智能派单方案已确认或已放弃", code="run_decided")
    run.status, run.decided_by, run.decided_at = DispatchRun.Status.DISCARDED, actor, now
    return run
