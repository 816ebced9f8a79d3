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
from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linli.dispatch.loading import Batch, DispatchScope, load_scope
from linli.dispatch.models import DispatchAssignment, DispatchRun, DispatchRunEvent
from linli.lib.errors import Conflict, DomainError, NotAllowed
from linli.orders.actions import dispatch_order
from linli.orders.models import Order
from linli.people.models import Member
from matching import Candidates, build_candidates, explain_edges, objective

NO_CANDIDATE = "无符合条件的党员"
NO_CAPACITY = "名额已满：符合条件的党员已派满"


def _require_scope(scope: DispatchScope, actor) -> None:
    if actor is None or not scope.allowed_for(actor.scope):
        raise NotAllowed(_("只有本社区工作人员或街道管理员可以智能派单"))


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
        DispatchRunEvent.objects.create(
            run=run, at=run.created_at, actor=run.created_by, kind=DispatchRunEvent.Kind.PLANNED
        )
        n = len(batch.order_ids)
        members = member_of.tolist()
        scores_col, reasons_col = [None] * n, [[]] * n
        for i, score, why in zip(assigned.tolist(), scores.tolist(), reasons, strict=True):
            scores_col[i], reasons_col[i] = score, why  # a tuple of strings: stored as a JSON list
        notes = np.where(member_of >= 0, "", np.where(has_candidate, NO_CAPACITY, NO_CANDIDATE)).tolist()
        columns = (
            [run.pk] * n,
            batch.order_ids.tolist(),
            [None if m < 0 else m for m in members],
            scores_col,
            reasons_col,
            [False] * n,
            notes,
        )
        _insert_columns(DispatchAssignment, ASSIGNMENT_FIELDS, columns)
    return run


ASSIGNMENT_FIELDS = ("run_id", "order_id", "member_id", "score", "reasons", "applied", "note")
COPY_CHUNK = 10_000
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_json_slow = json.JSONEncoder(ensure_ascii=False).encode


def _copy_column(field, values: list) -> list[str]:
    """A column's values in COPY's text format: \\N for NULL, t/f, backslash escapes in text."""
    kind = field.get_internal_type()
    if kind == "JSONField":
        try:  # lists or tuples of strings: str.join refuses anything else
            plain = "".join(["".join(v) for v in values]) if all(type(v) in (list, tuple) for v in values) else None
        except TypeError:
            plain = None
        if plain is not None and not _NEEDS_ESCAPE.search(plain):
            # Lists of plain strings (reasons): joined directly, ~5× faster than the encoder.
            values = ['["' + '","'.join(v) + '"]' if v else "[]" for v in values]
        else:
            values = [_json_slow(v) for v in values]
    elif kind == "BooleanField":
        return ["\\N" if v is None else "t" if v else "f" for v in values]
    texts = ["\\N" if v is None else str(v) for v in values]
    if kind in ("JSONField", "CharField", "TextField") and _COPY_SPECIAL.search(
        "".join(v for v in values if v is not None)
    ):
        texts = [
            t if v is None else t.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
            for t, v in zip(texts, values, strict=True)
        ]
    return texts


def _insert_columns(model, fields: tuple[str, ...], columns) -> None:
    """Insert rows given as `columns` (one list of values per concrete field of `fields`, by
    attname) into `model`'s table.

    PostgreSQL: one COPY in text format (JSON fields as JSON text), built here a chunk of rows at
    a time — psycopg's write_row costs ≈ 4 µs a row, and the server parses one chunk while the
    next is built; elsewhere `bulk_create` in batches. No signals, no `save()`: for append-only
    rows written by an action inside its transaction.
    """
    n = len(columns[0]) if columns else 0
    if not n:
        return
    connection = connections[router.db_for_write(model)]
    model_fields = [model._meta.get_field(f) for f in fields]  # get_field knows attnames ("run_id") too
    if connection.vendor == "postgresql":
        names = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for start in range(0, n, COPY_CHUNK):
                texts = [
                    _copy_column(f, c[start : start + COPY_CHUNK]) for f, c in zip(model_fields, columns, strict=True)
                ]
                copy.write("".join(f"{line}\n" for line in map("\t".join, zip(*texts, strict=True))).encode())
        return
    objs = [model(**dict(zip(fields, row, strict=True))) for row in zip(*columns, strict=True)]
    model.objects.bulk_create(objs, batch_size=2000)


def confirm_dispatch(run: DispatchRun, *, actor) -> DispatchRun:
    """Confirm a previewed run: dispatch each proposed order through `dispatch_order`.

    Compare-and-set previewed → confirmed first (with its event), so that two confirmations
    cannot both send. Then each order goes out in its own transaction together with its
    assignment's outcome and the run's count, so a crash mid-way leaves the record true to what
    was sent. An order that can no longer be dispatched (Conflict, DomainError) is recorded as
    not applied with the message, in the site's language (it is stored); the rest go out.
    """
    _require_scope(run_scope(run), actor)
    now = timezone.now()
    with transaction.atomic():
        updated = DispatchRun.objects.filter(pk=run.pk, status=DispatchRun.Status.PREVIEWED).update(
            status=DispatchRun.Status.CONFIRMED, decided_by=actor, decided_at=now
        )
        if updated != 1:
            raise Conflict(_("该智能派单方案已确认或已放弃"), code="run_decided")
        DispatchRunEvent.objects.create(run=run, at=now, actor=actor, kind=DispatchRunEvent.Kind.CONFIRMED)
    run.status, run.decided_by, run.decided_at = DispatchRun.Status.CONFIRMED, actor, now
    proposed = list(run.assignments.filter(member__isnull=False).order_by("pk"))
    orders = Order.objects.select_related("category", "community").in_bulk([a.order_id for a in proposed])
    members = Member.objects.select_related("user").in_bulk([a.member_id for a in proposed])
    applied = 0
    with translation.override(settings.LANGUAGE_CODE):
        for a in proposed:
            order = orders.get(a.order_id)
            with transaction.atomic():
                if order is None:
                    a.applied, a.note = False, "工单已不存在"
                else:
                    try:
                        with transaction.atomic():
                            dispatch_order(order, actor=actor, member=members[a.member_id], note=f"智能派单 #{run.pk}")
                    except DomainError as e:  # Conflict and NotAllowed included: the world changed since the preview
                        a.applied, a.note = False, str(e)[:200]
                    else:
                        a.applied, a.note = True, ""
                        applied += 1
                        DispatchRun.objects.filter(pk=run.pk).update(n_applied=F("n_applied") + 1)
                DispatchAssignment.objects.filter(pk=a.pk).update(applied=a.applied, note=a.note)
    run.n_applied = applied
    return run


def discard_dispatch(run: DispatchRun, *, actor) -> DispatchRun:
    """Discard a previewed run; nothing is dispatched."""
    _require_scope(run_scope(run), actor)
    now = timezone.now()
    with transaction.atomic():
        updated = DispatchRun.objects.filter(pk=run.pk, status=DispatchRun.Status.PREVIEWED).update(
            status=DispatchRun.Status.DISCARDED, decided_by=actor, decided_at=now
        )
        if updated != 1:
            raise Conflict(_("该智能派单方案已确认或已放弃"), code="run_decided")
        DispatchRunEvent.objects.create(run=run, at=now, actor=actor, kind=DispatchRunEvent.Kind.DISCARDED)
    run.status, run.decided_by, run.decided_at = DispatchRun.Status.DISCARDED, actor, now
    return run
