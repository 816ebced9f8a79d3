"""The engine's inputs: plain frozen dataclasses, no Django.

The dispatch adapter (linli/dispatch) loads orders and members from the database into these;
the engine never sees a model instance. Ids (`OrderSpec.id`, `MemberSpec.id`) are opaque and
only handed back; communities, grids and skills are integer keys (database primary keys) so
that candidate building can work on numpy arrays.

For province-scale batches the columnar twins `OrderTable` and `MemberTable` hold the same
facts as numpy arrays (one row per order or member); `build_candidates` accepts either form.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

SLOTS = 14
"""Half-day slots in a week: slot i is day i // 2 (Monday = 0), morning when i is even."""

ALL_SLOTS = (1 << SLOTS) - 1

SKILL_LEVELS = {1: "了解", 2: "熟练", 3: "专业"}


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """One open order (工单) waiting for a member.

    `skill` is the skill the order's category needs (None: anyone registered may take it) and
    `skill_name` its display name for explanations. `slot` is the half-day slot (0–13) in which
    the service is wanted. `deadline` is carried for the adapter (escalation, display); the score
    reflects urgency through `priority`.
    """

    id: Hashable
    skill: int | None
    community: int
    grid: int | None
    priority: int
    deadline: datetime | None
    slot: int
    skill_name: str | None = None

    def __post_init__(self):
        if not 1 <= self.priority <= 5:
            raise ValueError(f"order {self.id!r}: priority must be 1–5, not {self.priority}")
        if not 0 <= self.slot < SLOTS:
            raise ValueError(f"order {self.id!r}: slot must be 0–{SLOTS - 1}, not {self.slot}")


@dataclass(frozen=True, slots=True)
class MemberSpec:
    """A member (下沉党员/志愿者) who may be sent orders.

    `skills` maps skill → level (1 了解, 2 熟练, 3 专业). `registered_communities` are the
    communities the member has reported to (报到) — the only ones whose orders they may take;
    `home_community` is where they live and `paired_communities` those paired with their unit.
    `availability` is a bitmask over the 14 half-day slots. `load` is the number of orders the
    member holds now, `cap` the most they may hold at once. `hours` are the hours served this
    year and `rating` the recent average rating (1–5), None when there is none.
    """

    id: Hashable
    skills: Mapping[int, int] = field(default_factory=dict, hash=False)
    home_community: int | None = None
    paired_communities: frozenset[int] = frozenset()
    registered_communities: frozenset[int] = frozenset()
    grid: int | None = None
    availability: int = ALL_SLOTS
    load: int = 0
    cap: int = 3
    hours: float = 0.0
    rating: float | None = None

    def __post_init__(self):
        for skill, level in self.skills.items():
            if level not in SKILL_LEVELS:
                raise ValueError(f"member {self.id!r}: level of skill {skill} must be 1–3, not {level}")
        if not 0 <= self.availability <= ALL_SLOTS:
            raise ValueError(f"member {self.id!r}: availability must be a {SLOTS}-bit mask")
        if self.load < 0 or self.cap < 0:
            raise ValueError(f"member {self.id!r}: load and cap must be ≥ 0")
        if self.rating is not None and math.isnan(self.rating):
            raise ValueError(f"member {self.id!r}: rating must be a number or None")

    def available_in(self, slot: int) -> bool:
        return bool(self.availability >> slot & 1)


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each fact is worth, configurable per town. All points are integers.

    score(order, member) = priority × order.priority
                         + skill_level × level            (only when the order needs a skill)
                         + same_grid | same_community | paired_community   (the best that applies)
                         + fairness × (target − hours) / target            (floored, ≥ 0)
                         + good_rating × (rating − 3) / 2                  (floored, clipped to 0..good_rating)
    and each order a member already holds, or is given in the same batch, costs `load_penalty`:
    the j-th new order of a member holding `load` costs load_penalty × (load + j − 1).
    """

    priority: int = 100
    skill_level: int = 40
    same_grid: int = 120
    same_community: int = 80
    paired_community: int = 40
    fairness: int = 100
    annual_hours_target: int = 20
    good_rating: int = 50
    good_rating_threshold: float = 4.5
    load_penalty: int = 30

    def __post_init__(self):
        ints = ("priority", "skill_level", "same_grid", "same_community", "paired_community", "fairness")
        for name in (*ints, "good_rating", "load_penalty"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 0:
                raise ValueError(f"Weights.{name} must be an integer ≥ 0, not {value!r}")
        if not self.same_grid >= self.same_community >= self.paired_community:
            raise ValueError("Weights: same_grid ≥ same_community ≥ paired_community is required")
        if self.annual_hours_target <= 0:
            raise ValueError("Weights.annual_hours_target must be > 0")


def _int_array(values, dtype=np.int64) -> np.ndarray:
    return np.asarray(values, dtype=dtype)


@dataclass(frozen=True)
class OrderTable:
    """Orders as columns (numpy arrays, one row per order). Missing skill or grid is −1."""

    skill: np.ndarray
    community: np.ndarray
    grid: np.ndarray
    priority: np.ndarray
    slot: np.ndarray

    def __len__(self) -> int:
        return len(self.community)

    @classmethod
    def from_specs(cls, orders: Sequence[OrderSpec]) -> OrderTable:
        return cls(
            skill=_int_array([-1 if o.skill is None else o.skill for o in orders]),
            community=_int_array([o.community for o in orders]),
            grid=_int_array([-1 if o.grid is None else o.grid for o in orders]),
            priority=_int_array([o.priority for o in orders]),
            slot=_int_array([o.slot for o in orders]),
        )


@dataclass(frozen=True)
class MemberTable:
    """Members as columns. Per-member arrays have one row per member; skills, registrations and
    pairings are flat (member, key) pair lists. Missing home or grid is −1; missing rating NaN."""

    home: np.ndarray
    grid: np.ndarray
    availability: np.ndarray
    load: np.ndarray
    cap: np.ndarray
    hours: np.ndarray
    rating: np.ndarray
    skill_member: np.ndarray
    skill_id: np.ndarray
    skill_level: np.ndarray
    reg_member: np.ndarray
    reg_community: np.ndarray
    paired_member: np.ndarray
    paired_community: np.ndarray

    def __len__(self) -> int:
        return len(self.home)

    @classmethod
    def from_specs(cls, members: Sequence[MemberSpec]) -> MemberTable:
        skill_member, skill_id, skill_level = [], [], []
        reg_member, reg_community, paired_member, paired_community = [], [], [], []
        for i, m in enumerate(members):
            for s, level in m.skills.items():
                skill_member.append(i)
                skill_id.append(s)
                skill_level.append(level)
            for c in m.registered_communities:
                reg_member.append(i)
                reg_community.append(c)
            for c in m.paired_communities:
                paired_member.append(i)
                paired_community.append(c)
        return cls(
            home=_int_array([-1 if m.home_community is None else m.home_community for m in members]),
            grid=_int_array([-1 if m.grid is None else m.grid for m in members]),
            availability=_int_array([m.availability for m in members]),
            load=_int_array([m.load for m in members]),
            cap=_int_array([m.cap for m in members]),
            hours=np.asarray([m.hours for m in members], dtype=np.float64),
            rating=np.asarray([np.nan if m.rating is None else m.rating for m in members], dtype=np.float64),
            skill_member=_int_array(skill_member),
            skill_id=_int_array(skill_id),
            skill_level=_int_array(skill_level),
            reg_member=_int_array(reg_member),
            reg_community=_int_array(reg_community),
            paired_member=_int_array(paired_member),
            paired_community=_int_array(paired_community),
        )
