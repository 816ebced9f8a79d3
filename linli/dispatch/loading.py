"""Load orders and members from the database into the matching engine's inputs.

A *batch* is a set of orders and every member registered (报到, approved) with one of their
communities. It is read in a constant number of queries (`values_list`, no per-row query), kept
as numpy columns (`OrderTable`, `MemberTable`) for `matching.build_candidates`, and turned into
the frozen `OrderSpec` / `MemberSpec` dataclasses only where a few are needed (suggestions,
explanations).

Facts and where they come from:
  * order skill — the category rule's required skill, only when the rule requires it to claim
    (otherwise anyone registered may take the order, as in `member_fit_errors`);
  * order slot — orders carry no wanted time yet, so the half-day slot of *now* (local time):
    a suggestion is for someone who can serve in the current half-day;
  * member load — orders held in MEMBER_LOAD_STATUSES (dispatched, claimed, in progress);
  * hours — ServiceRecord hours this calendar year (corrections included: they are rows too);
  * rating — average over the member's orders rated in the last RATING_DAYS days
    (满意 5, 基本满意 4, 不满意 1); none without ratings;
  * paired communities — communities paired (Pairing) with the member's unit, in the batch.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

import numpy as np
from django.db import connections, router
from django.db.models import BooleanField, Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Round
from django.utils import timezone

from linli.credits.models import ServiceRecord
from linli.dispatch.columns import _logged, fetch_ints, fetch_ints_many
from linli.dispatch.models import DispatchWeights
from linli.orders.models import MEMBER_LOAD_STATUSES, CategoryRule, Order, Rating, Status
from linli.orgs.models import Community, Grid, Pairing
from linli.people.models import Member, MemberSkill, Registration, Skill
from matching import MemberSpec, OrderSpec, Weights
from matching.model import MemberTable, OrderTable

RATING_DAYS = 180
RATING_VALUES = {Rating.SATISFIED: 5.0, Rating.BASICALLY: 4.0, Rating.UNSATISFIED: 1.0}
RATING_POINTS = {r: int(v) for r, v in RATING_VALUES.items()}
# A batch over at least this share of all communities reads the member tables whole (load_batch).
WHOLE_TABLE_SHARE = 0.3
# … and never a batch of fewer communities (a town, a community, one order: also when the
# catalogue has no estimate yet, on a fresh database).
WHOLE_MIN_COMMUNITIES = 100
# A small batch names up to this many members by id in its queries; more go by subquery.
ID_LIST_MAX = 2000
# A member's skill and level travel as skill × SKILL_LEVEL_BASE + level (levels are smallints ≥ 0;
# on PostgreSQL a skill id from 65,536 on would overflow int4 and fail the query loudly).
SKILL_LEVEL_BASE = 1 << 15


@dataclass(frozen=True)
class DispatchScope:
    """Where a batch is drawn from: a grid, a community or a whole town."""

    kind: str  # "grid" | "community" | "town"
    id: int
    town_id: int
    label: str = ""

    KINDS = ("grid", "community", "town")

    def orders(self):
        """The scope's orders waiting for dispatch (accepted, not yet sent anywhere)."""
        qs = Order.objects.filter(status=Status.ACCEPTED)
        return qs.filter(**{f"{self.kind}_id": self.id})

    @classmethod
    def resolve(cls, kind: str, pk) -> DispatchScope | None:
        """The scope for (kind, id), or None when there is no such grid/community/town."""
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            return None
        if kind == "grid":
            row = Grid.objects.filter(pk=pk).values_list("community__town_id", "community__name", "name").first()
            return row and cls("grid", pk, row[0], f"{row[1]} · {row[2]}")
        if kind == "community":
            row = Community.objects.filter(pk=pk).values_list("town_id", "name").first()
            return row and cls("community", pk, row[0], row[1])
        if kind == "town":
            from linli.orgs.models import Town

            row = Town.objects.filter(pk=pk).values_list("name", flat=True).first()
            return row and cls("town", pk, pk, row)
        return None

    def allowed_for(self, scope) -> bool:
        """May a user with this access scope run dispatch here? Staff: their community or one of
        its grids; a town admin: the town and everything in it."""
        if scope.superuser or self.town_id in scope.town_ids:
            return True
        if self.kind == "community":
            return self.id in scope.community_ids
        if self.kind == "grid":
            return Grid.objects.filter(pk=self.id, community_id__in=scope.community_ids).exists()
        return False


def weights_for_town(town_id) -> Weights:
    """The score weights of a town (its DispatchWeights row, edited by town admins in the admin),
    or the engine's defaults when it has none. One query (none without a town)."""
    row = DispatchWeights.objects.filter(town_id=town_id).first() if town_id is not None else None
    return row.as_weights() if row else Weights()


# Members give their availability in half-days (morning, afternoon); an order dispatched in the
# evening is served the next morning.
EVENING_HOUR = 18


def slot_at(when: dt.datetime) -> int:
    """The half-day slot (0–13, Monday morning = 0) an order dispatched at `when` is served in,
    in local time: this morning before noon, this afternoon until 18:00, then the next morning."""
    local = timezone.localtime(when)
    if local.hour >= EVENING_HOUR:
        return (local.weekday() + 1) % 7 * 2
    return local.weekday() * 2 + (1 if local.hour >= 12 else 0)


@dataclass
class Batch:
    """Orders and candidate members as numpy columns, with the ids to map results back."""

    order_ids: np.ndarray
    orders: OrderTable
    skill_names: dict  # skill id → display name, for the skills the orders need
    member_ids: np.ndarray
    members: MemberTable
    weights: Weights

    @cached_property
    def member_index(self) -> dict:
        return {int(m): i for i, m in enumerate(self.member_ids)}

    @cached_property
    def order_skill_names(self) -> list:
        names = self.skill_names
        return [names.get(s) for s in self.orders.skill.tolist()]

    @cached_property
    def order_deadlines(self) -> list:
        """Each order's deadline (办结时限): read when first needed (one query per 10,000 orders);
        the engine does not use it."""
        ids = self.order_ids.tolist()
        found = {}
        for start in range(0, len(ids), 10_000):
            found.update(Order.objects.filter(pk__in=ids[start : start + 10_000]).values_list("pk", "resolve_by"))
        return [found.get(i) for i in ids]

    @cached_property
    def _member_rows(self):
        # Row ranges of each member in the flat skill / registration / pairing lists (sorted by
        # member, stable), to build a MemberSpec without a pass over all members.
        mt = self.members
        out = {}
        for name, member in (("skill", mt.skill_member), ("reg", mt.reg_member), ("paired", mt.paired_member)):
            order = np.argsort(member, kind="stable")
            out[name] = (order, member[order])
        return out

    def _rows(self, name: str, j: int) -> np.ndarray:
        order, sorted_member = self._member_rows[name]
        return order[np.searchsorted(sorted_member, j) : np.searchsorted(sorted_member, j, side="right")]

    def order_spec(self, i: int) -> OrderSpec:
        ot = self.orders
        skill = int(ot.skill[i])
        grid = int(ot.grid[i])
        return OrderSpec(
            id=int(self.order_ids[i]),
            skill=None if skill < 0 else skill,
            community=int(ot.community[i]),
            grid=None if grid < 0 else grid,
            priority=int(ot.priority[i]),
            deadline=self.order_deadlines[i],
            slot=int(ot.slot[i]),
            skill_name=self.skill_names.get(skill),
        )

    def member_spec(self, j: int) -> MemberSpec:
        mt = self.members
        home, grid, rating = int(mt.home[j]), int(mt.grid[j]), float(mt.rating[j])
        sk = self._rows("skill", j)
        return MemberSpec(
            id=int(self.member_ids[j]),
            skills=dict(zip(mt.skill_id[sk].tolist(), mt.skill_level[sk].tolist(), strict=True)),
            home_community=None if home < 0 else home,
            paired_communities=frozenset(mt.paired_community[self._rows("paired", j)].tolist()),
            registered_communities=frozenset(mt.reg_community[self._rows("reg", j)].tolist()),
            grid=None if grid < 0 else grid,
            availability=int(mt.availability[j]),
            load=int(mt.load[j]),
            cap=int(mt.cap[j]),
            hours=float(mt.hours[j]),
            rating=None if np.isnan(rating) else rating,
        )

    def member_specs(self) -> list[MemberSpec]:
        return [self.member_spec(j) for j in range(len(self.member_ids))]


def _ints(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).reshape(-1)


def _unique(values: np.ndarray) -> np.ndarray:
    # Sorted distinct values; np.unique's hash path is far slower on large int64 arrays (see
    # docs/dispatch.md, "Lessons").
    ordered = np.sort(values)
    return ordered[np.append(True, ordered[1:] != ordered[:-1])] if len(ordered) else ordered


def _by_first(rows: np.ndarray) -> np.ndarray:
    """Rows sorted by their first column (primary keys: unique), as `order_by("pk")` asked."""
    if len(rows) > 1 and not (rows[1:, 0] > rows[:-1, 0]).all():
        rows = rows[np.argsort(rows[:, 0])]
    return rows


def _dense(keys: np.ndarray) -> bool:
    # Database keys are small non-negative integers: a table indexed by key beats binary search.
    return bool(len(keys)) and keys[0] >= 0 and keys[-1] < 4 * len(keys) + (1 << 20)


def _contains(sorted_keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """For each query value, whether it is among `sorted_keys` (sorted, unique)."""
    if not len(sorted_keys):
        return np.zeros(len(query), dtype=bool)
    if _dense(sorted_keys) and (not len(query) or query.min() >= 0):
        mask = np.zeros(max(int(sorted_keys[-1]), int(query.max(initial=0))) + 1, dtype=bool)
        mask[sorted_keys] = True
        return mask[query]
    at = np.minimum(np.searchsorted(sorted_keys, query), len(sorted_keys) - 1)
    return sorted_keys[at] == query


def _isin(values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """For each query value, whether it is among `values` (any order, repeats allowed): a mask
    indexed by key when the keys are small non-negative integers, without sorting them."""
    if len(values) and values.min() >= 0 and (not len(query) or query.min() >= 0):
        top = max(int(values.max()), int(query.max(initial=0)))
        if top < 4 * len(values) + (1 << 20):
            mask = np.zeros(top + 1, dtype=bool)
            mask[values] = True
            return mask[query]
    return _contains(_unique(values), query)


def _estimated_rows(model) -> float:
    """The planner's estimate of a table's rows on PostgreSQL (catalogue, no scan); infinity
    elsewhere (SQLite serves one town: its batches always filter in the database)."""
    connection = connections[router.db_for_read(model)]
    if connection.vendor != "postgresql":
        return float("inf")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cursor.fetchone()
    # −1: never analysed (a fresh table): count as empty, the whole-table path is right for it.
    return max(float(row[0]), 0.0) if row else 0.0


def _in_ids(model, field: str, ids: list[int]) -> RawSQL:
    """`field IN ids` as one parameter (a PostgreSQL array, a JSON list for SQLite's json_each):
    the ORM's `__in` prepares each value through the field (≈ 2 µs apiece, per query), which
    was most of one order's suggestion time."""
    connection = connections[router.db_for_read(model)]
    qn = connection.ops.quote_name
    column = f"{qn(model._meta.db_table)}.{qn(model._meta.get_field(field).column)}"  # names from _meta
    if connection.vendor == "postgresql":
        sql, params = f"{column} = ANY(%s::bigint[])", [ids]
    else:
        sql, params = f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]  # noqa: S608 - names from _meta
    return RawSQL(sql, params, output_field=BooleanField())  # noqa: S611 - names from _meta, values as parameters


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray, default: int) -> np.ndarray:
    """values[k] for each query equal to keys[k] (keys sorted, unique), else `default`."""
    if not len(keys):
        return np.full(len(query), default, dtype=np.int64)
    at = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[at] == query, values[at], default)


def load_batch(
    orders_qs, *, weights: Weights | None = None, now: dt.datetime | None = None, parallel: bool = False
) -> Batch:
    """Read the orders of `orders_qs` and the members registered with their communities.

    A constant number of queries whatever the size (ten at most): orders, the size of the
    community table (PostgreSQL's estimate), category rules, registrations, members, skills,
    orders held and rated (one scan), hours, pairings. Columns arrive as integer arrays
    (`linli.dispatch.columns`): no Python object per row. `parallel=True` (commands and
    benchmarks only, never a request: it opens extra connections) lets a whole-table batch read
    on several connections sharing one snapshot (PostgreSQL).

    Two plans, same result (tests/test_dispatch_loading.py checks both on both backends):
      * a small batch (a town, a community, one order) filters every member table in the
        database: by the ids of its members when there are at most ID_LIST_MAX of them, else by a
        subquery on the registrations;
      * a batch whose communities are a large share of all (`WHOLE_TABLE_SHARE`; a province's
        batch) reads the member tables whole and keeps its members' rows in numpy, the queries
        spread over `columns.PARALLEL` connections sharing one snapshot. Filtering by the
        subquery would make the database rebuild a hash of a million registrations for each
        table: measured 5–10× slower at a million members.
    """
    now = now or timezone.now()
    slot = slot_at(now)
    o = _by_first(
        fetch_ints(
            orders_qs.order_by("pk")
            .annotate(_grid=Coalesce("grid_id", -1), _category=Coalesce("category_id", -1))
            .values_list("pk", "community_id", "_grid", "priority", "_category")
        )
    )
    o_comm, o_cat = o[:, 1], o[:, 4]
    communities = _unique(o_comm).tolist()
    categories = _unique(o_cat[o_cat >= 0]).tolist()
    weights = weights or weights_for_town(None)
    whole = bool(communities) and (
        WHOLE_TABLE_SHARE <= 0
        # The estimate (a query) only for batches that could qualify.
        or (
            len(communities) >= WHOLE_MIN_COMMUNITIES
            and len(communities) >= WHOLE_TABLE_SHARE * _estimated_rows(Community)
        )
    )
    skill_names, rule_cat, rule_skill = {}, _ints([]), _ints([])
    if categories:
        rules = CategoryRule.objects.filter(required_skill__isnull=False, skill_required_to_claim=True)
        if not whole:
            rules = rules.filter(category_id__in=categories)
        rule_rows = _by_first(fetch_ints(rules.values_list("category_id", "required_skill_id")))
        rule_rows = rule_rows[_contains(np.asarray(categories, dtype=np.int64), rule_rows[:, 0])]
        rule_cat, rule_skill = rule_rows[:, 0].copy(), rule_rows[:, 1].copy()
        named = _unique(rule_skill).tolist()
        skill_names = dict(Skill.objects.filter(pk__in=named).values_list("pk", "name")) if named else {}
    order_skill = _lookup(rule_cat, rule_skill, o_cat, -1)
    # Only members who could take one of the orders at all: available in the batch's half-day
    # slot (the same for every order), and with one of the skills needed when every order needs
    # one (a single order's suggestions: a tenth of the community, not all of it).
    bit = 1 << slot
    needed = _unique(order_skill).tolist() if len(order_skill) and (order_skill >= 0).all() else None
    approved = Registration.objects.filter(status=Registration.Status.APPROVED, member__isnull=False)
    regs = approved.filter(community_id__in=communities).alias(_free=F("member__availability").bitand(bit))
    regs = regs.filter(_free__gt=0)
    if needed is not None:
        regs = regs.filter(Exists(MemberSkill.objects.filter(member_id=OuterRef("member_id"), skill_id__in=needed)))
    member_sub = regs.values("member_id")
    # A whole-table batch sends no list of its communities either (30,000 values cost more to
    # compile and quote than to filter in numpy).
    of_communities = approved if whole else regs

    reg_query = of_communities.order_by().values_list("member_id", "community_id")
    reg_rows = None
    if not whole and communities:
        # A small batch reads its registrations first: up to ID_LIST_MAX members are then named
        # by id, cheaper to compile and run than the registration subquery in every query (one
        # order's suggestions: half of their time went into compiling the subqueries).
        reg_rows = fetch_ints(reg_query)
        ids = _unique(reg_rows[:, 0])
        if len(ids) <= ID_LIST_MAX:
            member_sub = ids.tolist()

    def of_batch(qs, field="member_id"):
        if whole:
            return qs
        if isinstance(member_sub, list):
            return qs.filter(_in_ids(qs.model, field, member_sub)) if member_sub else qs.none()
        return qs.filter(**{f"{field}__in": member_sub})

    since = now - dt.timedelta(days=RATING_DAYS)
    held = Q(status__in=MEMBER_LOAD_STATUSES)
    rated = (Q(closed_at__gte=since) | Q(resolved_at__gte=since)) & Q(rating__in=list(RATING_VALUES))
    # Per order: 1 if held, plus 2 + 4 × its points if rated lately (summed per member in numpy:
    # grouping a million orders by assignee cost the database 1.0 s, reading them 0.3 s).
    code = Case(When(held, then=Value(1)), default=Value(0)) + Case(
        *(When(rated & Q(rating=r), then=Value(2 + 4 * v)) for r, v in RATING_POINTS.items()), default=Value(0)
    )
    queries = [
        reg_query,
        of_batch(Member.objects.all(), "id")
        .alias(_free=F("availability").bitand(bit))
        .filter(_free__gt=0)
        .order_by("pk")
        .annotate(
            _home=Coalesce("home_community_id", -1), _grid=Coalesce("home_grid_id", -1), _unit=Coalesce("unit_id", -1)
        )
        .values_list("pk", "_home", "_grid", "availability", "load_cap", "_unit"),
        # Skill and level in one column (levels are 0–32767): a million members' skills are the
        # largest table a batch reads, and each column costs the server a packing step.
        of_batch(MemberSkill.objects.all())
        .order_by()
        .annotate(_skill_level=F("skill_id") * SKILL_LEVEL_BASE + F("level"))
        .values_list("member_id", "_skill_level"),
        # Orders held (load) and rated lately (rating), in one scan of the orders.
        of_batch(Order.objects.filter(held | rated, assignee__isnull=False), "assignee_id")
        .order_by()
        .annotate(_code=code)
        .values_list("assignee_id", "_code"),
        # Hours have one decimal: each row in tenths, summed exactly in numpy; tenths / 10 is
        # then the float of the sum.
        of_batch(ServiceRecord.objects.filter(service_date__year=timezone.localdate(now).year))
        .order_by()
        .annotate(_h=Round(F("hours") * Value(Decimal(10))))
        .values_list("member_id", "_h"),
        (Pairing.objects.all() if whole else Pairing.objects.filter(community_id__in=communities)).values_list(
            "unit_id", "community_id"
        ),
    ]
    if not communities:
        queries = [q.none() for q in queries]
    if reg_rows is not None:
        m_rows, skill_rows, order_rows, hour_rows, pair_rows = fetch_ints_many(queries[1:])
    else:
        reg_rows, m_rows, skill_rows, order_rows, hour_rows, pair_rows = fetch_ints_many(
            queries, parallel=whole and parallel
        )
    skill_rows = np.column_stack(
        [skill_rows[:, 0], skill_rows[:, 1] // SKILL_LEVEL_BASE, skill_rows[:, 1] % SKILL_LEVEL_BASE]
    )

    return _assemble(
        o,
        order_skill,
        slot,
        skill_names,
        weights,
        (reg_rows, m_rows, skill_rows, order_rows, hour_rows, pair_rows),
        keep_communities=communities if whole else None,
        needed=needed,
    )


def _assemble(o, order_skill, slot, skill_names, weights, rows, *, keep_communities=None, needed=None) -> Batch:
    """The Batch of the rows read: orders `o` (pk, community, grid, priority, category) with their
    skill, and the member rows (registrations, members, skills, held/rated, hours, pairings).

    `keep_communities`: the member tables were read whole; keep the rows of these communities
    and of the members registered with one, available in the slot, with a needed skill (as the
    subqueries select in a small batch).
    """
    reg_rows, m_rows, skill_rows, order_rows, hour_rows, pair_rows = rows
    bit = 1 << slot

    orders = OrderTable(
        skill=order_skill,
        community=o[:, 1].copy(),
        grid=o[:, 2].copy(),
        # Priority is 1–5 by the accept form; clip so that a stray value cannot break the engine.
        priority=np.clip(o[:, 3], 1, 5),
        slot=np.full(len(o), slot, dtype=np.int64),
    )

    if keep_communities is not None:
        community_keys = np.asarray(keep_communities, dtype=np.int64)
        reg_rows = reg_rows[_contains(community_keys, reg_rows[:, 1])]
        pair_rows = pair_rows[_contains(community_keys, pair_rows[:, 1])]
        keep = _isin(reg_rows[:, 0], m_rows[:, 0]) & ((m_rows[:, 3] & bit) != 0)
        if needed is not None:
            skilled = skill_rows[_contains(np.asarray(needed, dtype=np.int64), skill_rows[:, 1]), 0]
            keep &= _isin(skilled, m_rows[:, 0])
        wanted = _unique(m_rows[keep, 0])
        reg_rows, m_rows, skill_rows, order_rows, hour_rows = (
            rows[_contains(wanted, rows[:, 0])] for rows in (reg_rows, m_rows, skill_rows, order_rows, hour_rows)
        )
    m_rows = _by_first(m_rows)
    member_ids = m_rows[:, 0].copy()
    n_m = len(member_ids)

    if _dense(member_ids):
        row_of = np.zeros(int(member_ids[-1]) + 1, dtype=np.int64)
        row_of[member_ids] = np.arange(n_m)

    def index(ids) -> np.ndarray:
        # Row of each member id in member_ids (sorted, and every id is a loaded member).
        ids = _ints(ids)
        return row_of[ids] if _dense(member_ids) else np.searchsorted(member_ids, ids)

    at = index(order_rows[:, 0])
    code = order_rows[:, 1]
    load = np.bincount(at, weights=code & 1, minlength=n_m).astype(np.int64)
    n_rated = np.bincount(at, weights=(code >> 1) & 1, minlength=n_m)
    points = np.bincount(at, weights=code >> 2, minlength=n_m)
    rating = np.full(n_m, np.nan)
    has = n_rated > 0
    # Points are integers, so the mean is the same float as a per-row Python sum would give.
    rating[has] = points[has] / n_rated[has]
    hours = np.bincount(index(hour_rows[:, 0]), weights=hour_rows[:, 1], minlength=n_m) / 10

    # Members × pairings of their unit: members sorted by unit, each pairing takes its unit's run.
    unit_of = m_rows[:, 5]
    by_unit = np.argsort(unit_of, kind="stable")
    sorted_units = unit_of[by_unit]
    lo = np.searchsorted(sorted_units, pair_rows[:, 0])
    counts = np.searchsorted(sorted_units, pair_rows[:, 0], side="right") - lo
    pair_of = np.repeat(np.arange(len(pair_rows)), counts)
    pos = np.arange(len(pair_of)) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(lo, counts)
    paired_member = by_unit[pos]
    paired_order = np.lexsort((pair_of, paired_member))
    paired_member = paired_member[paired_order]
    paired_community = pair_rows[pair_of[paired_order], 1]

    members = MemberTable(
        home=m_rows[:, 1].copy(),
        grid=m_rows[:, 2].copy(),
        availability=m_rows[:, 3].copy(),
        load=load,
        cap=m_rows[:, 4].copy(),
        hours=hours,
        rating=rating,
        skill_member=index(skill_rows[:, 0]),
        skill_id=skill_rows[:, 1].copy(),
        skill_level=skill_rows[:, 2].copy(),
        reg_member=index(reg_rows[:, 0]),
        reg_community=reg_rows[:, 1].copy(),
        paired_member=paired_member.astype(np.int64),
        paired_community=paired_community.astype(np.int64),
    )
    return Batch(
        order_ids=o[:, 0].copy(),
        orders=orders,
        skill_names=skill_names,
        member_ids=member_ids,
        members=members,
        weights=weights,
    )


def load_scope(scope: DispatchScope, **kw) -> Batch:
    """The batch of a scope: its accepted orders and the members who may take them."""
    return load_batch(scope.orders(), weights=kw.pop("weights", None) or weights_for_town(scope.town_id), **kw)


# One order's batch on PostgreSQL (the order page's suggestions): every table `load_batch` reads,
# in one statement with bound parameters, prepared once per connection. The filters are
# load_batch's small plan, written out (tests/test_dispatch_loading.py checks they agree): the
# members registered (approved) with the order's community, available in the slot, with the
# skill the category requires to claim. Eleven queries of the ORM cost a round trip, planning
# and compiling each (≈ 1.5 ms apiece on PostgreSQL): the p99 of suggestions was 29 ms.
_ONE_ORDER_SQL = """
WITH o AS MATERIALIZED (
    SELECT id, community_id, COALESCE(grid_id, -1) AS grid, priority, COALESCE(category_id, -1) AS category
    FROM {order} WHERE id = %(order)s::int8
), rule AS MATERIALIZED (
    SELECT r.required_skill_id AS skill, s.name
    FROM {rule} r JOIN {skill} s ON s.id = r.required_skill_id
    WHERE r.category_id = (SELECT category FROM o) AND r.skill_required_to_claim
), reg AS MATERIALIZED (
    SELECT g.member_id, g.community_id
    FROM {registration} g JOIN {member} m ON m.id = g.member_id
    WHERE g.community_id = (SELECT community_id FROM o) AND g.status = %(approved)s::text
      AND (m.availability::int8 & %(bit)s::int8) > 0
      AND (NOT EXISTS (SELECT FROM rule) OR EXISTS (
          SELECT FROM {memberskill} k WHERE k.member_id = g.member_id AND k.skill_id = (SELECT skill FROM rule)))
), ids AS MATERIALIZED (
    SELECT DISTINCT member_id AS id FROM reg
)
SELECT
    (SELECT int8send(id) || int8send(community_id) || int8send(grid) || int8send(priority::int8)
            || int8send(category) FROM o),
    (SELECT skill FROM rule),
    (SELECT name FROM rule),
    (SELECT string_agg(int8send(member_id) || int8send(community_id), ''::bytea) FROM reg),
    (SELECT string_agg(int8send(m.id) || int8send(COALESCE(m.home_community_id, -1))
                       || int8send(COALESCE(m.home_grid_id, -1)) || int8send(m.availability::int8)
                       || int8send(m.load_cap::int8) || int8send(COALESCE(m.unit_id, -1)), ''::bytea)
     FROM {member} m WHERE m.id IN (SELECT id FROM ids)),
    (SELECT string_agg(int8send(k.member_id) || int8send(k.skill_id) || int8send(k.level::int8), ''::bytea)
     FROM {memberskill} k WHERE k.member_id IN (SELECT id FROM ids)),
    (SELECT string_agg(int8send(assignee_id) || int8send(code), ''::bytea)
     FROM (SELECT assignee_id,
                  CASE WHEN held THEN 1 ELSE 0 END + CASE WHEN rated THEN 2 + 4 * points ELSE 0 END AS code
           FROM (SELECT assignee_id,
                        status = ANY(%(held)s::text[]) AS held,
                        (closed_at >= %(since)s::timestamptz OR resolved_at >= %(since)s::timestamptz)
                            AND rating = ANY(%(ratings)s::text[]) AS rated,
                        (%(points)s::int8[])[array_position(%(ratings)s::text[], rating::text)] AS points
                 FROM {order} WHERE assignee_id IN (SELECT id FROM ids)) AS x
           WHERE held OR rated) AS a),
    (SELECT string_agg(int8send(member_id) || int8send(h), ''::bytea)
     FROM (SELECT member_id, ROUND(SUM(hours) * 10)::int8 AS h FROM {service}
           WHERE member_id IN (SELECT id FROM ids) AND service_date BETWEEN %(first)s::date AND %(last)s::date
           GROUP BY member_id) AS h),
    (SELECT string_agg(int8send(unit_id) || int8send(community_id), ''::bytea)
     FROM {pairing} WHERE community_id = (SELECT community_id FROM o)),
    (SELECT to_jsonb(w) FROM {weights} w WHERE town_id = %(town)s::int8)
"""


def _one_order_sql() -> str:
    tables = {
        "order": Order,
        "rule": CategoryRule,
        "skill": Skill,
        "registration": Registration,
        "member": Member,
        "memberskill": MemberSkill,
        "service": ServiceRecord,
        "pairing": Pairing,
        "weights": DispatchWeights,
    }
    return _ONE_ORDER_SQL.format(**{k: f'"{m._meta.db_table}"' for k, m in tables.items()})


def _weights_of_row(row: dict | None) -> Weights:
    """Weights from a DispatchWeights row read as JSON (to_jsonb): as weights_for_town gives."""
    if row is None:
        return Weights()
    fields = DispatchWeights._meta.concrete_fields
    return DispatchWeights(**{f.attname: f.to_python(row[f.column]) for f in fields}).as_weights()


def load_order(order, *, now: dt.datetime | None = None) -> Batch:
    """The batch of one order (`load_batch` of it) with its town's weights (`weights_for_town`).

    On PostgreSQL one prepared statement (`_ONE_ORDER_SQL`) reads everything, weights
    included; elsewhere `weights_for_town` and `load_batch` (SQLite answers in-process: eleven
    queries there cost less than one round trip here).
    """
    now = now or timezone.now()
    connection = connections[router.db_for_read(Order)]
    if connection.vendor != "postgresql":
        return load_batch(Order.objects.filter(pk=order.pk), weights=weights_for_town(order.town_id), now=now)
    import psycopg

    slot = slot_at(now)
    year = timezone.localdate(now).year
    params = {
        "order": order.pk,
        "approved": Registration.Status.APPROVED.value,
        "bit": 1 << slot,
        "held": sorted(str(s) for s in MEMBER_LOAD_STATUSES),
        "since": now - dt.timedelta(days=RATING_DAYS),
        "ratings": [str(r) for r in RATING_POINTS],
        "points": list(RATING_POINTS.values()),
        "first": dt.date(year, 1, 1),
        "last": dt.date(year, 12, 31),
        "town": order.town_id,
    }
    statement = _one_order_sql()
    connection.ensure_connection()
    started = time.monotonic()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(statement, params, prepare=True, binary=True)
        orow, skill, skill_name, *packed, weights_row = cursor.fetchone()
    _logged(connection, statement, started)

    def ints(data, k):
        if data is None:
            return np.zeros((0, k), dtype=np.int64)
        return np.frombuffer(data, dtype=">i8").astype(np.int64).reshape(-1, k)

    o = ints(orow, 5)
    rows = tuple(ints(data, k) for data, k in zip(packed, (2, 6, 3, 2, 2, 2), strict=True))
    if not len(o):
        rows = tuple(r[:0] for r in rows)
    order_skill = np.full(len(o), -1 if skill is None else skill, dtype=np.int64)
    skill_names = {} if skill is None else {skill: skill_name}
    return _assemble(o, order_skill, slot, skill_names, _weights_of_row(weights_row), rows)
