"""Places of the demo town: estates, buildings with their doors, village groups, grids.

Pure planning from a seeded random generator: the functions return unsaved model instances and
plans; TownBuilder inserts them.
"""

import dataclasses
import itertools

from linli.demo import names as N
from linli.orgs.models import Estate, Grid

# Average households per grid before some grids are made oversized (the rule allows 400).
GRID_TARGET = {"urban": 360, "rural": 330}
OVERSIZED_GRID_SHARE = 0.15  # grids drawn 1.5–2.2× the target, staffed one worker short


@dataclasses.dataclass
class BuildingPlan:
    name: str
    address: str
    estate: int | None  # index into the town's list of estates
    doors: list[tuple[str, str, str]]  # (entrance, door, address)


def estate_names():
    for phase in itertools.count(1):
        for name in N.ESTATE_NAMES:
            yield name if phase == 1 else f"{name}{N.cn_number(phase)}期"


def urban_buildings(rng, community, total, *, estate_names, companies, estates) -> list[BuildingPlan]:
    """Estates (appended to `estates`) with their buildings, and a few street buildings."""
    prefix = f"{N.ADDRESS_PREFIX}{community.name}"
    plans: list[BuildingPlan] = []
    remaining = total
    first_estate = True
    while remaining > 0:
        if not first_estate and rng.random() < 0.08:
            # A building on a street, in no estate (沿街楼).
            street = rng.choice(N.STREET_NAMES)
            number = rng.randrange(1, 300)
            name = f"{street}{number}号"
            if any(p.name == name for p in plans):
                continue
            doors = door_list(rng, f"{prefix}{name}", entrances=rng.randint(1, 2), floors=6, per_floor=2)
            doors = doors[:remaining]
            plans.append(BuildingPlan(name=name, address=f"{prefix}{name}", estate=None, doors=doors))
            remaining -= len(doors)
            continue
        estate_name = next(estate_names)
        old = any(marker in estate_name for marker in N.OLD_ESTATE_MARKERS)
        if first_estate:
            company = companies[len(estates) % len(companies)]
        elif old:
            company = rng.choice(companies) if rng.random() < 0.5 else None  # 单位自管
        else:
            company = rng.choice(companies) if rng.random() < 0.92 else None
        first_estate = False
        estate_index = len(estates)
        estates.append(Estate(community=community, name=estate_name, company=company))
        high_rise = not old and rng.random() < 0.4
        for number in range(1, rng.randint(4, 24) + 1):
            if remaining <= 0:
                break
            name = f"{estate_name}{number}栋"
            if old:
                shape = {"entrances": rng.randint(2, 4), "floors": rng.randint(5, 7), "per_floor": 2}
            elif high_rise:
                shape = {"entrances": rng.randint(1, 2), "floors": rng.randint(18, 32), "per_floor": 2}
            else:
                shape = {"entrances": rng.randint(2, 3), "floors": rng.randint(6, 11), "per_floor": 2}
            address = f"{prefix}{estate_name} {number}栋"
            doors = door_list(rng, address, **shape)[:remaining]
            plans.append(BuildingPlan(name=name, address=address, estate=estate_index, doors=doors))
            remaining -= len(doors)
    return plans


def door_list(rng, address, *, entrances, floors, per_floor) -> list[tuple[str, str, str]]:
    occupancy = rng.uniform(0.8, 1.0)  # empty or unregistered flats have no household
    doors = []
    for e in range(1, entrances + 1):
        for floor in range(1, floors + 1):
            for d in range(1, per_floor + 1):
                if rng.random() < occupancy:
                    door = f"{floor}{d:02d}"
                    doors.append((f"{e}单元", door, f"{address}{e}单元{door}室"))
    return doors


def village_groups(rng, community, total) -> list[BuildingPlan]:
    """村民小组 stand where buildings stand in town: '王家湾村 12组 8号'."""
    plans = []
    remaining = total
    for group in itertools.count(1):
        if remaining <= 0:
            break
        size = min(remaining, rng.randint(30, 90))
        address = f"{N.ADDRESS_PREFIX}{community.name} {group}组"
        numbers = sorted(rng.sample(range(1, size + size // 5 + 2), size))
        doors = [("", f"{n}号", f"{address} {n}号") for n in numbers]
        plans.append(BuildingPlan(name=f"{group}组", address=address, estate=None, doors=doors))
        remaining -= size
    return plans


def cut_grids(rng, community, plans: list[BuildingPlan]) -> list[tuple[Grid, list[BuildingPlan], bool]]:
    """Split a community's buildings into grids of about GRID_TARGET households; some oversized."""
    total = sum(len(p.doors) for p in plans)
    n = max(1, round(total / GRID_TARGET[community.kind]))
    weights, oversized = [], []
    for _ in range(n):
        big = n > 1 and rng.random() < OVERSIZED_GRID_SHARE
        weights.append(rng.uniform(0.75, 1.1) * (rng.uniform(1.5, 2.2) if big else 1.0))
        oversized.append(big)
    bounds = list(itertools.accumulate(total * w / sum(weights) for w in weights))
    groups: list[list[BuildingPlan]] = [[] for _ in range(n)]
    done, g = 0, 0
    for plan in plans:
        middle = done + len(plan.doors) / 2
        while g < n - 1 and middle > bounds[g]:
            g += 1
        groups[g].append(plan)
        done += len(plan.doors)
    grids = []
    for big, group in zip(oversized, groups, strict=True):
        if not group:
            continue
        number = len(grids) + 1
        grid = Grid(
            community=community,
            code=f"{community.code}-{number:02d}",
            name=f"{community.name}第{N.cn_number(number)}网格",
        )
        grids.append((grid, group, big))
    return grids
