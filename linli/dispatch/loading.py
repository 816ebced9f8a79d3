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
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from django.db.models import Count, Q, Sum
from django.utils import timezone

from linli.credits.models import ServiceRecord
from linli.orders.models import MEMBER_LOAD_STATUSES, CategoryRule, Order, Rating, Status
from linli.orgs.models import Community, Grid, Pairing
from linli.people.models import Member, MemberSkill, Registration
from matching import MemberSpec, OrderSpec, Weights
from matching.model import MemberTable, OrderTable

RATING_DAYS = 180
RATING_VALUES = {Rating.SATISFIED: 5.0, Rating.BASICALLY: 4.0, Rating.UNSATISFIED: 1.0}


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
    """The score weights of a town. Per-town settings are not stored yet: the engine's defaults."""
    return Weights()


def slot_at(when: dt.datetime) -> int:
    """The half-day slot (0–13, Monday morning = 0) of a moment, in local time."""
    local = timezone.localtime(when)
    return local.weekday() * 2 + (1 if local.hour >= 12 else 0)


def _group(rows: Iterable[tuple]) -> dict:
    out = defaultdict(list)
    for key, *rest in rows:
        out[key].append(rest[0] if len(rest) == 1 else tuple(rest))
    return out


@dataclass
class Batch:
    """Orders and candidate members as numpy columns, with the ids to map results back."""

    order_ids: np.ndarray
    orders: OrderTable
    order_skill_names: list
    order_deadlines: list
    member_ids: np.ndarray
    members: MemberTable
    weights: Weights

    @cached_property
    def member_index(self) -> dict:
        return {int(m): i for i, m in enumerate(self.member_ids)}

    @cached_property
    def _per_member(self):
        mt = self.members
        skills = defaultdict(dict)
        for i, s, lv in zip(mt.skill_member.tolist(), mt.skill_id.tolist(), mt.skill_level.tolist(), strict=True):
            skills[i][s] = lv
        regs = _group(zip(mt.reg_member.tolist(), mt.reg_community.tolist(), strict=True))
        paired = _group(zip(mt.paired_member.tolist(), mt.paired_community.tolist(), strict=True))
        return skills, regs, paired

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
            skill_name=self.order_skill_names[i],
        )

    def member_spec(self, j: int) -> MemberSpec:
        mt = self.members
        skills, regs, paired = self._per_member
        home, grid, rating = int(mt.home[j]), int(mt.grid[j]), float(mt.rating[j])
        return MemberSpec(
            id=int(self.member_ids[j]),
            skills=dict(skills.get(j, {})),
            home_community=None if home < 0 else home,
            paired_communities=frozenset(paired.get(j, ())),
            registered_communities=frozenset(regs.get(j, ())),
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


def load_batch(orders_qs, *, weights: Weights | None = None, now: dt.datetime | None = None) -> Batch:
    """Read the orders of `orders_qs` and the members registered with their communities.

    Nine queries whatever the size: orders, category rules, registrations, members, skills,
    loads, hours, pairings, ratings. Members are selected by subqueries, never by a list of ids
    sent back to the database.
    """
    now = now or timezone.now()
    slot = slot_at(now)
    rows = list(
        orders_qs.order_by("pk").values_list("pk", "community_id", "grid_id", "priority", "category_id", "resolve_by")
    )
    category_ids = {r[4] for r in rows if r[4] is not None}
    rules = {}
    if category_ids:
        rules = {
            c: (s, name)
            for c, s, name in CategoryRule.objects.filter(
                category_id__in=category_ids, required_skill__isnull=False, skill_required_to_claim=True
            ).values_list("category_id", "required_skill_id", "required_skill__name")
        }
    n_o = len(rows)
    order_skill = [rules.get(r[4], (-1, None))[0] for r in rows]
    orders = OrderTable(
        skill=_ints(order_skill),
        community=_ints([r[1] for r in rows]),
        grid=_ints([-1 if r[2] is None else r[2] for r in rows]),
        # Priority is 1–5 by the accept form; clip so that a stray value cannot break the engine.
        priority=np.clip(_ints([r[3] for r in rows]), 1, 5),
        slot=np.full(n_o, slot, dtype=np.int64),
    )
    communities = sorted({r[1] for r in rows})
    weights = weights or weights_for_town(None)

    regs = Registration.objects.filter(
        community_id__in=communities, status=Registration.Status.APPROVED, member__isnull=False
    )
    reg_rows = np.array(list(regs.values_list("member_id", "community_id")), dtype=np.int64).reshape(-1, 2)
    member_sub = regs.values("member_id")
    m_rows = list(
        Member.objects.filter(id__in=member_sub)
        .order_by("pk")
        .values_list("pk", "home_community_id", "home_grid_id", "availability", "load_cap", "unit_id")
    )
    member_ids = _ints([r[0] for r in m_rows])
    n_m = len(member_ids)

    def index(ids) -> np.ndarray:
        # Row of each member id in member_ids (sorted, and every id is a loaded member).
        return np.searchsorted(member_ids, _ints(ids))

    skill_rows = np.array(
        list(MemberSkill.objects.filter(member_id__in=member_sub).values_list("member_id", "skill_id", "level")),
        dtype=np.int64,
    ).reshape(-1, 3)
    load = np.zeros(n_m, dtype=np.int64)
    load_rows = np.array(
        list(
            Order.objects.filter(assignee_id__in=member_sub, status__in=MEMBER_LOAD_STATUSES)
            .order_by()
            .values("assignee_id")
            .annotate(n=Count("id"))
            .values_list("assignee_id", "n")
        ),
        dtype=np.int64,
    ).reshape(-1, 2)
    load[index(load_rows[:, 0])] = load_rows[:, 1]
    hours = np.zeros(n_m, dtype=np.float64)
    hour_rows = list(
        ServiceRecord.objects.filter(member_id__in=member_sub, service_date__year=timezone.localdate(now).year)
        .order_by()
        .values("member_id")
        .annotate(h=Sum("hours"))
        .values_list("member_id", "h")
    )
    if hour_rows:
        hours[index([r[0] for r in hour_rows])] = [float(r[1] or 0) for r in hour_rows]
    unit_of = np.array([-1 if r[5] is None else r[5] for r in m_rows], dtype=np.int64)
    pair_rows = np.array(
        list(Pairing.objects.filter(community_id__in=communities).values_list("unit_id", "community_id")),
        dtype=np.int64,
    ).reshape(-1, 2)
    paired_member, paired_community = [], []
    if len(pair_rows) and n_m:
        by_unit = _group(pair_rows.tolist())
        for j, u in enumerate(unit_of.tolist()):
            for c in by_unit.get(u, ()):
                paired_member.append(j)
                paired_community.append(c)
    rating = np.full(n_m, np.nan)
    rating_rows = list(
        Order.objects.filter(
            Q(closed_at__gte=now - dt.timedelta(days=RATING_DAYS))
            | Q(resolved_at__gte=now - dt.timedelta(days=RATING_DAYS)),
            assignee_id__in=member_sub,
            rating__in=list(RATING_VALUES),
        )
        .order_by()
        .values("assignee_id", "rating")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "rating", "n")
    )
    if rating_rows:
        total, count = defaultdict(float), defaultdict(int)
        for m, r, c in rating_rows:
            total[m] += RATING_VALUES[r] * c
            count[m] += c
        ids = list(total)
        rating[index(ids)] = [total[m] / count[m] for m in ids]

    members = MemberTable(
        home=_ints([-1 if r[1] is None else r[1] for r in m_rows]),
        grid=_ints([-1 if r[2] is None else r[2] for r in m_rows]),
        availability=_ints([r[3] for r in m_rows]),
        load=load,
        cap=_ints([r[4] for r in m_rows]),
        hours=hours,
        rating=rating,
        skill_member=index(skill_rows[:, 0]),
        skill_id=skill_rows[:, 1].copy(),
        skill_level=skill_rows[:, 2].copy(),
        reg_member=index(reg_rows[:, 0]),
        reg_community=reg_rows[:, 1].copy(),
        paired_member=_ints(paired_member),
        paired_community=_ints(paired_community),
    )
    return Batch(
        order_ids=_ints([r[0] for r in rows]),
        orders=orders,
        order_skill_names=[rules.get(r[4], (None, None))[1] for r in rows],
        order_deadlines=[r[5] for r in rows],
        member_ids=member_ids,
        members=members,
        weights=weights,
    )


def load_scope(scope: DispatchScope, **kw) -> Batch:
    """The batch of a scope: its accepted orders and the members who may take them."""
    return load_batch(scope.orders(), weights=kw.pop("weights", None) or weights_for_town(scope.town_id), **kw)
