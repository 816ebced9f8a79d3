"""Build the demo town: seed 000's D镇 (Huangshi, Hubei), the same rows for the same seed and scale.

`TownBuilder.steps()` lists the parts in order; each part draws from its own random generator
(seeded by the seed and the part's name, so adding a part later changes nothing before it),
bulk-inserts its rows and keeps what later parts need on the builder. The management command
`demo` runs the steps under one transaction with a progress bar.

Why bulk inserts and not actions: the demo is fixture generation, not a user's state change, and
it must build 39,500 households in under a minute. It writes the rows the actions would write,
event rows included (a RegistrationEvent for each registration step).

People's birth dates are fixed against persons.REFERENCE_DATE so the same person has the same ID number
whenever the town is built; only event times (registrations, consents) follow `now`.
"""

import datetime as dt
import itertools
import math
import random
from collections import defaultdict
from collections.abc import Callable

from django.contrib.auth.hashers import make_password
from django.db import connection, models
from django.utils import timezone

from linli.accounts.models import Role, RoleAssignment, User
from linli.demo import names as N
from linli.demo import places
from linli.demo.persons import People, Person, credit_code, household_people, party_share, years_old
from linli.lib import crypto
from linli.orgs.models import (
    Building,
    Category,
    Community,
    Department,
    Estate,
    Grid,
    Household,
    Pairing,
    PartyOrg,
    PropertyCompany,
    Town,
    Unit,
)
from linli.people.models import (
    CareTag,
    IdType,
    Member,
    MemberResource,
    MemberSkill,
    PartyPosition,
    Registration,
    RegistrationEvent,
    Resident,
    Skill,
)

DEFAULT_SEED = 20260101
FULL_HOUSEHOLDS = 39_500
FULL_MEMBERS = 1_000
FULL_UNITS = 30
BATCH = 5_000
DEMO_PASSWORD = "linli-demo-2026"  # noqa: S105 - the documented password of the demo accounts

VACANT_GRID_SHARE = 0.03  # grids with a worker post vacant (网格员空缺), so one short of the rule

S = Registration.Status

# The demo accounts: username, role and what its scope is (see build_accounts and friends).
DEMO_ACCOUNTS = (
    ("demo-town", Role.TOWN_ADMIN),
    ("demo-staff", Role.COMMUNITY_STAFF),
    ("demo-staff2", Role.COMMUNITY_STAFF),
    ("demo-grid", Role.GRID_WORKER),
    ("demo-member", Role.MEMBER),
    ("demo-unit", Role.UNIT_ADMIN),
    ("demo-dept", Role.DEPARTMENT_STAFF),
    ("demo-property", Role.PROPERTY_STAFF),
    ("demo-resident", Role.RESIDENT),
)
DEMO_USERNAMES = tuple(username for username, _role in DEMO_ACCOUNTS)


def scaled(full: int, scale: float, minimum: int = 1) -> int:
    return max(minimum, round(full * scale))


def apportion(total: int, weights, minimum: int = 1) -> list[int]:
    """Split `total` into integer parts proportional to `weights` (largest remainder), each ≥ minimum."""
    weights = list(weights)
    spare = total - minimum * len(weights)
    if spare < 0:
        raise ValueError("total too small for the number of parts")
    s = sum(weights)
    raw = [spare * w / s for w in weights]
    parts = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (parts[i] - raw[i], i))
    for i in order[: spare - sum(parts)]:
        parts[i] += 1
    return [p + minimum for p in parts]


class TownBuilder:
    """Generates and inserts the demo town, part by part (see steps()).

    Run the steps inside one transaction.atomic() (the `demo` command does): the SQLite fast
    path assigns ids itself and relies on holding the write lock from the first insert.
    """

    fast_sqlite = True  # see _insert_sqlite; the tests check both paths write the same town

    def __init__(self, *, scale: float = 1.0, seed: int = DEFAULT_SEED, now: dt.datetime, progress=None):
        if not 0.001 <= scale <= 20:
            raise ValueError("scale must be between 0.001 and 20")
        self.scale = scale
        self.seed = seed
        self.now = now
        self.progress: Callable[[int], None] = progress or (lambda n: None)
        self.counts: dict[str, int] = defaultdict(int)
        self.people = People(self.rng("people"))
        self.password = make_password(DEMO_PASSWORD)
        self.unusable_password = make_password(None)
        self.n_households = scaled(FULL_HOUSEHOLDS, scale, minimum=len(N.COMMUNITIES))
        self.n_members = scaled(FULL_MEMBERS, scale, minimum=4)

    def rng(self, part: str) -> random.Random:
        # Reproducible fixture data, not secrets: a seeded PRNG is the point.
        return random.Random(f"linli-demo:{self.seed}:{part}")  # noqa: S311

    def steps(self) -> list[tuple[str, Callable[[], None]]]:
        """The parts in order, as (label, function). Later issues append theirs (orders, activities)."""
        return [
            ("镇、类别、部门", self.build_town),
            ("社区", self.build_communities),
            ("小区、网格、楼栋", self.build_places),
            ("账号", self.build_accounts),
            ("住户", self.build_households),
            ("居民", self.build_residents),
            ("单位与包保", self.build_units),
            ("下沉党员与志愿者", self.build_members),
            ("党组织", self.build_party),
            ("一年的工单", self.build_orders),
            ("一年的社区活动", self.build_activities),
            ("单位反馈报告与物业红黑榜", self.build_feedback),
        ]

    def estimated_rows(self) -> int:
        h, m = self.n_households, self.n_members
        return int(h * 3.6 + m * 9 + 2_000 * max(self.scale, 0.05) + 70_000 * self.scale)

    # --- helpers --------------------------------------------------------------------------

    def insert(self, model: type[models.Model], objs: list) -> list:
        """Insert `objs` in batches, setting their primary keys; returns them."""
        if self.fast_sqlite and connection.vendor == "sqlite":
            self._insert_sqlite(model, objs)
        else:
            for i in range(0, len(objs), BATCH):
                chunk = objs[i : i + BATCH]
                model.objects.bulk_create(chunk, batch_size=BATCH)
                self.progress(len(chunk))
        self.counts[model._meta.label] += len(objs)
        return objs

    def _insert_sqlite(self, model: type[models.Model], objs: list) -> None:
        """bulk_create without the ORM's per-value SQL compilation, which costs several times the
        insert itself on SQLite (999 parameters a statement): executemany with the ids assigned
        here. Safe because the build runs in one IMMEDIATE transaction, holding the write lock.
        Values still go through each field's pre_save and get_db_prep_save (encryption, JSON,
        dates, auto_now_add), as bulk_create would."""
        if not objs:
            return
        meta, qn = model._meta, connection.ops.quote_name
        pk = meta.pk
        fields = [f for f in meta.local_concrete_fields if f is not pk]
        table = meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX({qn(pk.column)}), 0) FROM {qn(table)}")  # noqa: S608 - names from _meta
            next_id = cursor.fetchone()[0]
            # AUTOINCREMENT tables never reuse an id, even of a deleted row.
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            next_id = max(next_id, row[0] if row else 0) + 1
            columns = ", ".join(qn(c) for c in [pk.column, *(f.column for f in fields)])
            placeholders = ", ".join(["%s"] * (len(fields) + 1))
            sql = f"INSERT INTO {qn(table)} ({columns}) VALUES ({placeholders})"  # noqa: S608 - names from _meta
            alias = connection.alias
            for i in range(0, len(objs), BATCH):
                chunk = objs[i : i + BATCH]
                rows = []
                for obj in chunk:
                    obj._prepare_related_fields_for_save(operation_name="bulk_create")
                    obj.pk = next_id
                    next_id += 1
                    rows.append((obj.pk, *(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields)))
                    obj._state.adding, obj._state.db = False, alias
                cursor.executemany(sql, rows)
                self.progress(len(chunk))

    def at(self, rng: random.Random, days_ago_min: float, days_ago_max: float) -> dt.datetime:
        """A moment in local working hours, about the given numbers of days before `now`, never after it."""
        day = timezone.localtime(self.now - dt.timedelta(days=rng.uniform(days_ago_min, days_ago_max)))
        moment = day.replace(hour=rng.randrange(8, 18), minute=rng.randrange(60), second=0, microsecond=0)
        return moment if moment <= self.now else moment - dt.timedelta(days=1)

    # --- parts ----------------------------------------------------------------------------

    def build_town(self):
        """The town with its grid rule, skills, order categories, departments, property companies."""
        rng = self.rng("town")
        self.town = self.insert(Town, [Town(code=N.TOWN_CODE, name=N.TOWN_NAME)])[0]

        existing = Skill.objects.in_bulk([code for code, *_ in N.SKILLS], field_name="code")
        missing = [Skill(code=code, name=name) for code, name, *_ in N.SKILLS if code not in existing]
        self.insert(Skill, missing)
        by_code = {**existing, **{s.code: s for s in missing}}
        self.skills = [by_code[code] for code, *_ in N.SKILLS]
        self.skill_weights = [weight for _c, _n, weight, _t in N.SKILLS]
        self.skill_service = {by_code[code].pk: stype for code, _n, _w, stype in N.SKILLS}

        self.categories = {
            code: Category(town=self.town, code=code, name=name, group=group, is_property=is_property)
            for code, name, group, is_property in N.CATEGORIES
        }
        self.insert(Category, list(self.categories.values()))
        self.departments = self.insert(Department, [Department(town=self.town, name=name) for name, _ in N.DEPARTMENTS])
        through = Department.categories.through
        self.insert(
            through,
            [
                through(department_id=dept.pk, category_id=self.categories[code].pk)
                for dept, (_name, codes) in zip(self.departments, N.DEPARTMENTS, strict=True)
                for code in codes
            ],
        )
        n_companies = max(3, min(len(N.PROPERTY_COMPANIES), round(len(N.PROPERTY_COMPANIES) * self.scale)))
        self.companies = self.insert(
            PropertyCompany,
            [
                PropertyCompany(town=self.town, name=name, credit_code=credit_code(rng))
                for name in N.PROPERTY_COMPANIES[:n_companies]
            ],
        )

    def build_communities(self):
        sizes = apportion(self.n_households, [spec[3] for spec in N.COMMUNITIES])
        self.communities = self.insert(
            Community,
            [Community(town=self.town, code=code, name=name, kind=kind) for code, name, kind, *_ in N.COMMUNITIES],
        )
        self.community_households = dict(zip((c.pk for c in self.communities), sizes, strict=True))
        self.clan = {c.pk: spec[4] for c, spec in zip(self.communities, N.COMMUNITIES, strict=True)}

    def build_places(self):
        """Estates (urban), grids cut by the sizing rule, buildings with their doors."""
        rng = self.rng("places")
        estate_names = places.estate_names()
        self.estates: list[Estate] = []
        self.grids: list[Grid] = []
        self.grid_plans: list[list[places.BuildingPlan]] = []  # per grid, aligned with self.grids
        self.grid_oversized: list[bool] = []
        for community in self.communities:
            total = self.community_households[community.pk]
            if community.kind == Community.Kind.URBAN:
                plans = places.urban_buildings(
                    rng, community, total, estate_names=estate_names, companies=self.companies, estates=self.estates
                )
            else:
                plans = places.village_groups(rng, community, total)
            for grid, group, oversized in places.cut_grids(rng, community, plans):
                self.grids.append(grid)
                self.grid_plans.append(group)
                self.grid_oversized.append(oversized)
        self.insert(Estate, self.estates)
        self.insert(Grid, self.grids)
        buildings = []
        for grid, plans in zip(self.grids, self.grid_plans, strict=True):
            for plan in plans:
                estate = self.estates[plan.estate] if plan.estate is not None else None
                buildings.append(Building(grid=grid, estate=estate, name=plan.name, address=plan.address))
        self.buildings = self.insert(Building, buildings)

    def build_accounts(self):
        """Staff, grid workers (some grids short of the rule) and the demo accounts' users."""
        rng = self.rng("accounts")
        people = People(rng)
        users: list[User] = []
        roles: list[tuple[User, str, dict]] = []

        def user(username, *, demo=False, name=None):
            u = User(
                username=username,
                name=name or people.name(rng.choice("MF"), rng.randint(25, 55)),
                password=self.password if demo else self.unusable_password,
            )
            users.append(u)
            return u

        a, b = self.communities[0], self.communities[1]
        self.demo_community, self.demo_community2 = a, b
        self.demo_grid = self.grids[0]
        self.demo_users = {username: user(username, demo=True) for username in DEMO_USERNAMES}
        d = self.demo_users
        roles.append((d["demo-town"], Role.TOWN_ADMIN, {"town": self.town}))
        roles.append((d["demo-dept"], Role.DEPARTMENT_STAFF, {"department": self.departments[0]}))
        self.demo_estate = self.estates[self.grid_plans[0][0].estate]
        roles.append((d["demo-property"], Role.PROPERTY_STAFF, {"company": self.demo_estate.company}))

        # One staff account per community approves its registrations (the events' actors).
        self.staff = {a.pk: d["demo-staff"], b.pk: d["demo-staff2"]}
        for community in self.communities[2:]:
            self.staff[community.pk] = user(f"staff-{community.code}")
        for community_id, staff in self.staff.items():
            roles.append((staff, Role.COMMUNITY_STAFF, {"community_id": community_id}))

        # Grid workers: as many as the rule needs, except oversized grids (one short) and a few
        # vacancies. At small scales no grid is big enough to be short, so one post is left
        # vacant on purpose: the platform must show at least one grid breaking the rule.
        per_worker = self.town.households_per_grid_worker
        needed = [max(1, math.ceil(sum(len(p.doors) for p in plans) / per_worker)) for plans in self.grid_plans]
        workers = []
        for i, (need, big) in enumerate(zip(needed, self.grid_oversized, strict=True)):
            short = i > 0 and ((big and need > 1) or rng.random() < VACANT_GRID_SHARE)  # grid 0: demo-grid's
            workers.append(need - 1 if short else need)
        if workers == needed and len(workers) > 1:
            workers[-1] -= 1
        for i, (grid, n) in enumerate(zip(self.grids, workers, strict=True)):
            for k in range(n):
                username = f"grid-{grid.code}" + (f"-{k + 1}" if k else "")
                worker = d["demo-grid"] if i == 0 and k == 0 else user(username)
                roles.append((worker, Role.GRID_WORKER, {"grid": grid}))
        self.grid_workers = workers

        self.insert(User, users)
        self.insert(RoleAssignment, [RoleAssignment(user=u, role=role, **scope) for u, role, scope in roles])

    def build_households(self):
        households = []
        self.household_building = []  # aligned with households: (grid index, building index)
        b = 0
        for gi, plans in enumerate(self.grid_plans):
            for plan in plans:
                building = self.buildings[b]
                for entrance, door, address in plan.doors:
                    households.append(Household(building=building, entrance=entrance, door=door, address=address))
                    self.household_building.append((gi, b))
                b += 1
        self.households = self.insert(Household, households)

    def build_residents(self):
        """About 2.5 residents per household: families by age, care tags, party members."""
        rng = self.rng("residents")
        people = self.people
        grid_community = [g.community_id for g in self.grids]
        kinds = {c.pk: c.kind for c in self.communities}
        residents: list[Resident] = []
        # Where each resident lives, aligned with `residents`: (household index, grid index).
        self.resident_home: list[tuple[int, int]] = []
        for hi, (household, (gi, _b)) in enumerate(zip(self.households, self.household_building, strict=True)):
            community_id = grid_community[gi]
            rural = kinds[community_id] == Community.Kind.RURAL
            clan = self.clan[community_id]
            family_surname = clan if clan and rng.random() < 0.35 else people.surname()
            size = rng.choices((1, 2, 3, 4, 5, 6), weights=(22, 32, 26, 12, 6, 2))[0]
            household_tags = []
            r = rng.random()
            if r < (0.04 if rural else 0.025):
                household_tags.append(CareTag.DIBAO)
            elif r < (0.06 if rural else 0.04):
                household_tags.append(CareTag.HARDSHIP)
            family = household_people(rng, size, rural)
            if size == 2 and family[0][2] >= 55 and family[1][0] in ("妻", "夫") and rng.random() < 0.03:
                household_tags.append(CareTag.BEREAVED)
            # Children take their father's surname: the head's if he is a man, else her husband's.
            head_surname = family_surname if family[0][1] == "M" else people.surname()
            for relation, gender, age, tags in family:
                if relation in ("户主", "父"):
                    surname = head_surname
                elif relation in ("妻", "儿媳", "女婿", "母"):
                    surname = people.surname()
                else:  # 夫 of a woman head, children and grandchildren carry the family name
                    surname = family_surname
                tags = [*household_tags, *tags]
                if rng.random() < (0.045 if age >= 70 else 0.012):
                    tags.append(CareTag.DISABLED)
                has_phone = age >= 14 and (age < 80 or rng.random() < 0.5)
                p = people.person(gender, age, surname=surname, phone=has_phone)
                residents.append(
                    Resident(
                        household=household,
                        name=p.name,
                        gender=p.gender,
                        birth_date=p.birth_date,
                        phone=p.phone,
                        phone_hash=crypto.lookup_hash(p.phone) if p.phone else "",
                        id_number=p.id_number,
                        id_hash=crypto.lookup_hash(p.id_number),
                        tags=sorted(set(tags)),
                        is_party_member=age >= 18 and rng.random() < party_share(age, gender),
                        relation=relation,
                    )
                )
                self.resident_home.append((hi, gi))
        # demo-resident: the head of the first household of the demo grid.
        self.demo_resident = residents[0]
        self.demo_resident.user = self.demo_users["demo-resident"]
        self.residents = self.insert(Resident, residents)
        User.objects.filter(pk=self.demo_resident.user.pk).update(name=self.demo_resident.name)
        self.insert(RoleAssignment, [RoleAssignment(user=self.demo_resident.user, role=Role.RESIDENT)])

    def build_units(self):
        """Units paired (包保) with 1–2 communities, each with an approved unit registration."""
        rng = self.rng("units")
        n = max(5, min(len(N.UNITS), round(FULL_UNITS * math.sqrt(self.scale))))
        chosen = sorted(rng.sample(range(len(N.UNITS)), n))
        self.units, self.unit_sizes, self.unit_skills = [], [], []
        for i, index in enumerate(chosen):
            name, kind, size, skill_codes = N.UNITS[index]
            branch = f"中共{name}机关委员会" if kind == Unit.Kind.ORGAN else f"中共{name}委员会"
            if kind == Unit.Kind.SOCIAL:
                branch = f"{name}党支部"
            self.units.append(Unit(town=self.town, code=f"DU{i + 1:02d}", name=name, kind=kind, party_branch=branch))
            self.unit_sizes.append(size)
            self.unit_skills.append([s for s in self.skills if s.code in skill_codes])
        self.insert(Unit, self.units)

        # Round robin first, so every community has a unit; then a second community for some.
        # 费家畈村 (seed 000's F村, short of volunteers) gets no second pairings.
        communities = self.communities
        pairs = [(i, i % len(communities)) for i in range(n)]
        pairs += [(j % n, j) for j in range(n, len(communities))]
        paired = defaultdict(list)
        for u, c in pairs:
            paired[u].append(c)
        for u in range(n):
            if len(paired[u]) == 1 and rng.random() < 0.45:
                c = rng.randrange(len(communities) - 1)  # never the last: 费家畈村
                if c not in paired[u]:
                    paired[u].append(c)
        self.unit_communities = {u: [communities[c] for c in cs] for u, cs in paired.items()}

        pairings, registrations, decided, requesters = [], [], [], []
        for u, cs in sorted(paired.items()):
            for c in cs:
                community = communities[c]
                requested = self.at(rng, 400, 1800)
                approved = requested + dt.timedelta(days=rng.randint(1, 10), minutes=rng.randrange(-120, 120))
                pairings.append(Pairing(unit=self.units[u], community=community, since=approved.date()))
                registrations.append(
                    Registration(
                        unit=self.units[u],
                        community=community,
                        status=S.APPROVED,
                        requested_at=requested,
                        decided_at=approved,
                    )
                )
                decided.append(self.staff[community.pk])
                requesters.append(self.demo_users["demo-unit"] if u == 0 else None)
        self.insert(Pairing, pairings)
        self.insert(Registration, registrations)
        self.insert(RegistrationEvent, _events(registrations, decided, requesters))
        # demo-unit administers unit 0, which round robin paired with the demo community.
        self.demo_unit = self.units[0]
        self.insert(
            RoleAssignment,
            [RoleAssignment(user=self.demo_users["demo-unit"], role=Role.UNIT_ADMIN, unit=self.demo_unit)],
        )

    def build_members(self):
        """Members: mostly unit party members (报到 with a paired community, many also at home),
        some retired party members and non-party volunteers living in the town."""
        rng = self.rng("members")
        people = self.people.fork(rng)
        communities = {c.pk: c for c in self.communities}
        # 费家畈村 (seed 000's F村) draws few members even from the units paired with it.
        pull = {c.pk: (0.25 if c.code == N.COMMUNITIES[-1][0] else 1.0) for c in self.communities}

        # Residents who can serve, by kind, in a fixed shuffled order.
        working, retired, volunteers = [], [], []
        for i, resident in enumerate(self.residents):
            age = years_old(resident.birth_date)
            if resident.is_party_member and 23 <= age <= 58:
                working.append(i)
            elif resident.is_party_member and 55 <= age <= 78:
                retired.append(i)
            elif not resident.is_party_member and 18 <= age <= 70 and resident.phone:
                volunteers.append(i)
        for pool in (working, retired, volunteers):
            rng.shuffle(pool)

        n = self.n_members
        member_nos = rng.sample(range(10**8, 10**9), n)
        unit_cum = list(itertools.accumulate(self.unit_sizes))
        skill_cum = list(itertools.accumulate(self.skill_weights))
        electrical = next(s for s in self.skills if s.code == "electrical")
        members, skills, resources, registrations, requesters, deciders = [], [], [], [], [], []
        for i in range(n):
            # Member 0 is demo-member; member 1 a colleague whose registration is still pending;
            # members 2 and 3 make sure even a tiny town has a volunteer and a retired member.
            r = rng.random()
            kind = FIRST_MEMBER_KINDS[i] if i < len(FIRST_MEMBER_KINDS) else _member_kind(r)
            index = None
            if kind == "unit":
                if working and rng.random() < 0.4:
                    index = working.pop()
            else:
                pool = retired if kind == "retired" else volunteers
                if pool:
                    index = pool.pop()
                else:
                    kind = "unit"
            u = (
                (0 if i < 2 else rng.choices(range(len(self.units)), cum_weights=unit_cum)[0])
                if kind == "unit"
                else None
            )
            if index is not None:
                res = self.residents[index]
                person = Person(res.name, res.gender, res.birth_date, res.id_number, res.phone)
                home_grid = self.grids[self.resident_home[index][1]]
                home = communities[home_grid.community_id]
                area = f"{N.ADDRESS_PREFIX}{home.name}"
            else:
                person = people.person("M" if rng.random() < 0.6 else "F", rng.randint(25, 56))
                home_grid = home = None
                area = rng.choice(N.OUTSIDE_AREAS)
            age = years_old(person.birth_date)

            # Where they register (报到): the unit's paired community, often home too.
            targets = []
            if u is not None:
                paired = self.unit_communities[u]
                targets.append(paired[0] if i < 2 else rng.choices(paired, weights=[pull[c.pk] for c in paired])[0])
                if home is not None and home.pk != targets[0].pk and rng.random() < 0.6:
                    targets.append(home)
            else:
                targets.append(home)
            user = self.demo_users["demo-member"] if i == 0 else None
            first_at = None
            for k, community in enumerate(targets):
                r = rng.random()
                if i == 0:
                    status = S.APPROVED
                elif i == 1 and k == 0:
                    status = S.REQUESTED
                else:
                    status = S.REQUESTED if r < 0.04 else S.DECLINED if r < 0.06 else S.APPROVED
                # Pending requests are recent; decided ones anywhere in the last two and a half years.
                requested = self.at(rng, 0.5, 14) if status == S.REQUESTED else self.at(rng, 20, 900)
                decided = None
                if status != S.REQUESTED:
                    decided = min(self.now, requested + dt.timedelta(minutes=rng.randrange(120, 7200)))
                first_at = min(first_at, requested) if first_at else requested  # consents come with the first
                registrations.append(
                    Registration(
                        member_id=i,  # replaced by the member's pk once inserted
                        community=community,
                        status=status,
                        requested_at=requested,
                        decided_at=decided,
                        reason=rng.choice(N.DECLINE_REASONS) if status == S.DECLINED else "",
                    )
                )
                requesters.append(user)
                deciders.append(self.staff[community.pk])

            # Skills: often one their unit is known for, the rest by popularity.
            chosen: dict[int, tuple[Skill, int]] = {}
            if i == 0:
                chosen[electrical.pk] = (electrical, MemberSkill.Level.EXPERT)
            if u is not None and self.unit_skills[u] and rng.random() < 0.7:
                skill = rng.choice(self.unit_skills[u])
                chosen.setdefault(skill.pk, (skill, rng.choices((1, 2, 3), weights=(15, 45, 40))[0]))
            wanted = rng.choices((1, 2, 3, 4), weights=(30, 35, 25, 10))[0]
            while len(chosen) < wanted:
                skill = rng.choices(self.skills, cum_weights=skill_cum)[0]
                chosen.setdefault(skill.pk, (skill, rng.choices((1, 2, 3), weights=(50, 35, 15))[0]))
            service_types = list(dict.fromkeys(self.skill_service[pk] for pk in chosen))
            if rng.random() < 0.15:
                service_types.append("safety")
            if rng.random() < 0.08:
                service_types.append("poverty")

            # Weekly half-day slots (bit 2*day, +1 for the afternoon): people at work serve on
            # weekends, retired people on weekdays.
            at_work = kind != "retired" and age < 60
            p_weekday, p_weekend = (0.12, 0.6) if at_work else (0.5, 0.35)
            availability = sum(
                1 << slot for slot in range(14) if rng.random() < (p_weekend if slot >= 10 else p_weekday)
            )
            consent_contact = i == 0 or rng.random() < 0.95
            consent_report = u is not None and (i == 0 or rng.random() < 0.85)
            member = Member(
                user=user,
                member_no=f"M{member_nos[i]:09d}",
                name=person.name,
                gender=person.gender,
                birth_date=person.birth_date,
                id_type=IdType.RESIDENT_ID,
                id_number=person.id_number,
                id_hash=crypto.lookup_hash(f"{IdType.RESIDENT_ID}:{person.id_number}"),
                residence_area=area,
                phone=person.phone,
                phone_hash=crypto.lookup_hash(person.phone),
                service_types=service_types,
                is_party_member=kind != "volunteer",
                unit=self.units[u] if u is not None else None,
                home_community=home,
                home_grid=home_grid,
                availability=availability or 1 << 10,  # at least Saturday morning
                load_cap=rng.choices((1, 2, 3), weights=(30, 45, 25))[0],
                consent_contact_at=first_at if consent_contact else None,
                consent_report_at=first_at if consent_report else None,
            )
            members.append(member)
            skills.extend((member, skill, level) for skill, level in chosen.values())
            if rng.random() < 0.35:
                kinds = {"vehicle": 30, "tech": 12, "venue": 10, "funds": 10, "medical": 6, "legal": 5, "other": 8}
                for skill, _level in chosen.values():
                    if skill.code in ("medical", "legal"):
                        kinds[skill.code] += 40
                picked = set(rng.choices(list(kinds), weights=list(kinds.values()), k=rng.choice((1, 1, 1, 2))))
                resources.extend((member, kind, rng.choice(N.RESOURCES[kind])) for kind in sorted(picked))

        self.members = self.insert(Member, members)
        self.insert(MemberSkill, [MemberSkill(member=m, skill=s, level=level) for m, s, level in skills])
        self.insert(MemberResource, [MemberResource(member=m, kind=k, description=d) for m, k, d in resources])
        for reg in registrations:
            reg.member = members[reg.member_id]
        self.member_registrations = self.insert(Registration, registrations)
        self.insert(RegistrationEvent, _events(registrations, deciders, requesters))
        self.demo_member = members[0]
        demo_user = self.demo_users["demo-member"]
        User.objects.filter(pk=demo_user.pk).update(name=self.demo_member.name)
        self.insert(RoleAssignment, [RoleAssignment(user=demo_user, role=Role.MEMBER)])

    def build_orders(self):
        from linli.demo.orders import build_orders  # its own module: town.py stays readable

        build_orders(self)

    def build_activities(self):
        from linli.activities.demo import build_activities

        build_activities(self)

    def build_feedback(self):
        from linli.reports.demo import build_feedback

        build_feedback(self)

    def build_party(self):
        """社区党委 → 网格党支部 → 楼栋党小组, with 书记, 委员, 党小组长, 单元长 and 党员中心户."""
        rng = self.rng("party")
        K, T = PartyOrg.Kind, PartyPosition.Title
        communities = {c.pk: c for c in self.communities}
        committees = {
            pk: PartyOrg(community=c, kind=K.COMMITTEE, name=f"中共{c.name}委员会") for pk, c in communities.items()
        }
        self.insert(PartyOrg, list(committees.values()))
        branches = [
            PartyOrg(
                community_id=g.community_id,
                parent=committees[g.community_id],
                kind=K.BRANCH,
                name=f"{g.name}党支部",
                grid=g,
            )
            for g in self.grids
        ]
        self.insert(PartyOrg, branches)

        # Party members by community, grid and building; heads and party members by entrance.
        by_community, by_grid, by_building = defaultdict(list), defaultdict(list), defaultdict(list)
        by_entrance = defaultdict(lambda: defaultdict(list))
        building_grid = {}
        for i, resident in enumerate(self.residents):
            hi, gi = self.resident_home[i]
            b = self.household_building[hi][1]
            building_grid[b] = gi
            if resident.is_party_member:
                by_community[self.grids[gi].community_id].append(i)
                by_grid[gi].append(i)
                by_building[b].append(i)
            if resident.is_party_member or resident.relation == "户主":
                by_entrance[b][self.households[hi].entrance].append(i)

        groups = {}
        for b in sorted(by_building):
            if len(by_building[b]) < 3 or rng.random() >= 0.6:
                continue
            building, grid = self.buildings[b], self.grids[building_grid[b]]
            community = communities[grid.community_id]
            # In a village the 组 name alone is ambiguous: 王家湾村3组党小组.
            prefix = community.name if community.kind == Community.Kind.RURAL else ""
            groups[b] = PartyOrg(
                community=community,
                parent=branches[building_grid[b]],
                kind=K.GROUP,
                name=f"{prefix}{building.name}党小组",
                grid=grid,
                building=building,
            )
        self.insert(PartyOrg, list(groups.values()))

        positions = []

        def hold(org, title, *, resident=None, member=None):
            since = (self.now - dt.timedelta(days=rng.uniform(200, 2000))).date()
            positions.append(PartyPosition(party_org=org, title=title, resident=resident, member=member, since=since))

        committee_titles = (T.SECRETARY, T.DEPUTY, T.COMMITTEE_MEMBER, T.COMMITTEE_MEMBER, T.COMMITTEE_MEMBER)
        for community_id, committee in committees.items():
            candidates = by_community[community_id]
            for i, title in zip(rng.sample(candidates, min(5, len(candidates))), committee_titles, strict=False):
                hold(committee, title, resident=self.residents[i])
        # 兼职委员: unit party members registered with the community sit on its 大党委 (seed 000).
        serving = defaultdict(list)
        for reg in self.member_registrations:
            if reg.status == S.APPROVED and reg.member.unit_id and reg.member.is_party_member:
                serving[reg.community_id].append(reg.member)
        for community_id, committee in committees.items():
            for member in rng.sample(serving[community_id], min(rng.randint(1, 2), len(serving[community_id]))):
                hold(committee, T.COMMITTEE_MEMBER, member=member)
        for gi, branch in enumerate(branches):
            candidates = by_grid[gi]
            branch_titles = (T.SECRETARY, T.COMMITTEE_MEMBER, T.COMMITTEE_MEMBER)
            for i, title in zip(rng.sample(candidates, min(3, len(candidates))), branch_titles, strict=False):
                hold(branch, title, resident=self.residents[i])
        for b, group in groups.items():
            picked = rng.sample(by_building[b], min(len(by_building[b]), rng.randint(2, 3)))
            hold(group, T.GROUP_LEADER, resident=self.residents[picked[0]])
            for i in picked[1:]:
                hold(group, T.CENTRAL_HOUSEHOLD, resident=self.residents[i])
            # 单元长 for most entrances of the building, a party member where one lives there.
            for entrance in sorted(by_entrance[b]):
                if not entrance or rng.random() >= 0.7:
                    continue
                candidates = by_entrance[b][entrance]
                party = [i for i in candidates if self.residents[i].is_party_member]
                hold(group, T.ENTRANCE_LEADER, resident=self.residents[rng.choice(party or candidates)])
        self.insert(PartyPosition, positions)


FIRST_MEMBER_KINDS = ("unit", "unit", "volunteer", "retired")


def _member_kind(r: float) -> str:
    return "unit" if r < 0.75 else "retired" if r < 0.85 else "volunteer"


def _events(registrations, deciders, requesters) -> list[RegistrationEvent]:
    """The event rows the actions write: requested, then the decision if there is one."""
    events = []
    for reg, decider, requester in zip(registrations, deciders, requesters, strict=True):
        events.append(
            RegistrationEvent(
                registration=reg, at=reg.requested_at, actor=requester, from_status="", to_status=S.REQUESTED
            )
        )
        if reg.status in (S.APPROVED, S.DECLINED):
            events.append(
                RegistrationEvent(
                    registration=reg,
                    at=reg.decided_at,
                    actor=decider,
                    from_status=S.REQUESTED,
                    to_status=reg.status,
                    note=reg.reason if reg.status == S.DECLINED else "",
                )
            )
    return events
