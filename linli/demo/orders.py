"""A year of orders for the demo town, consistent with what the actions would have written.

Each order's life is simulated in time order — submitted, accepted (deadlines on the town's
working calendar), dispatched to a member, pooled or escalated, declined or returned sometimes,
claimed, resolved with hours, rated (不满意 reopens it), auto-closed, followed up — and stops at
`now`, so recent orders are still open and some are overdue. Every status change is an
OrderEvent with the same kind/from/to/data the actions write, so the timeline replays.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from linli.accounts.models import Role, RoleAssignment
from linli.credits.actions import EMERGENCY_PRIORITY, ensure_point_rules, service_kind
from linli.credits.models import PointEntry, ServiceRecord, SourceType
from linli.lib import workcal
from linli.orders.models import (
    CategoryRule,
    Channel,
    FollowUp,
    Holiday,
    Kind,
    Order,
    OrderEvent,
    OrderHours,
    Rating,
)
from linli.orders.models import Status as S
from linli.people.models import MemberSkill, Registration

FULL_ORDERS = 3600  # a year at full scale: ~9 per 100 households

# (category code, weight, kinds, titles)
CATEGORY_MIX = {
    "repair": (18, "need", ("楼道灯不亮", "水管漏水", "下水道堵塞", "电路跳闸", "水龙头损坏")),
    "sanitation": (13, "complaint", ("垃圾清运不及时", "楼道堆放杂物", "小区卫生死角")),
    "property": (9, "complaint", ("物业服务不到位", "门禁损坏无人修", "停车管理混乱")),
    "elevator": (3, "complaint", ("电梯经常停运", "电梯异响")),
    "elderly": (8, "need", ("独居老人需要陪护就医", "老人代买生活用品", "助餐送餐")),
    "dispute": (6, "need", ("邻里噪音纠纷", "漏水引发邻里矛盾", "占用公共空间纠纷")),
    "noise": (5, "complaint", ("夜间施工扰民", "广场舞噪音")),
    "road": (5, "complaint", ("路灯损坏", "路面坑洼", "井盖破损")),
    "greening": (3, "suggestion", ("树枝遮挡窗户", "绿化带缺乏养护")),
    "illegal_build": (2, "complaint", ("楼顶违章搭建",)),
    "assistance": (4, "need", ("困难家庭申请临时救助", "残疾人出行帮助")),
    "health": (3, "need", ("慢病老人需要上门测血压",)),
    "employment": (2, "consultation", ("失业人员求职咨询",)),
    "policy": (6, "consultation", ("医保缴费政策咨询", "养老保险办理咨询", "居住证办理咨询")),
    "safety": (4, "complaint", ("电动车楼道充电", "消防通道被占用")),
    "security": (2, "need", ("小区监控损坏",)),
    "wish": (4, "micro_wish", ("留守儿童想要一套课外书", "独居老人想要一台收音机", "孩子想学书法")),
}

# Deadlines and needed skills per category: (respond minutes, resolve days, skill, must have it, max hours)
RULES = {
    "repair": (120, 3, "electrical", True, 4),
    "elevator": (60, 1, None, False, 4),
    "safety": (60, 1, None, False, 4),
    "elderly": (120, 3, "eldercare", False, 8),
    "dispute": (120, 5, "mediation", False, 6),
    "health": (120, 3, "medical", True, 4),
    "policy": (120, 2, "policy", False, 2),
    "wish": (240, 10, None, False, 8),
}

# A demo calendar for 2025–2026 in the shape of the State Council's notices (holidays on
# weekdays and make-up working days on weekends); production towns enter the real one.
HOLIDAYS = [
    *[(dt.date(2025, 10, d), "国庆节、中秋节") for d in range(1, 9)],
    *[(dt.date(2026, 1, d), "元旦") for d in (1, 2, 3)],
    *[(dt.date(2026, 2, d), "春节") for d in range(15, 24)],
    *[(dt.date(2026, 4, d), "清明节") for d in (4, 5, 6)],
    *[(dt.date(2026, 5, d), "劳动节") for d in range(1, 6)],
    *[(dt.date(2026, 6, d), "端午节") for d in (19, 20, 21)],
    *[(dt.date(2026, 9, d), "中秋节") for d in (25, 26, 27)],
    *[(dt.date(2026, 10, d), "国庆节") for d in range(1, 8)],
]
MAKEUP_DAYS = [
    dt.date(2025, 9, 28),
    dt.date(2025, 10, 11),
    dt.date(2026, 1, 4),
    dt.date(2026, 2, 14),
    dt.date(2026, 2, 28),
    dt.date(2026, 5, 9),
    dt.date(2026, 9, 20),
    dt.date(2026, 10, 10),
]

RESULTS = ("已上门处理完毕", "已联系相关单位解决", "已协调处理，群众认可", "已更换配件，恢复正常", "已陪同办理完毕")
DECLINE_REASONS = ("本周出差，无法上门", "时间冲突", "不熟悉该类问题")
RETURN_REASONS = ("不属于本部门职责，请转住建局", "需社区先行核实情况", "材料不全，请补充后再提交")
COMMENTS = {
    Rating.SATISFIED: ("处理及时，非常满意", "党员同志很热心", ""),
    Rating.BASICALLY: ("基本解决了", "速度可以再快一些", ""),
    Rating.UNSATISFIED: ("问题没有彻底解决", "等了太久"),
}

# Orders accepted this recently are, with some chance, left waiting for dispatch.
WAITING_DAYS = 5


def build_orders(b) -> None:
    """Insert a year of orders with events, hours and follow-ups into the builder's town."""
    rng = b.rng("orders")
    cal = workcal.Calendar(holidays=frozenset(d for d, _ in HOLIDAYS), makeup_workdays=frozenset(MAKEUP_DAYS))
    b.insert(
        Holiday,
        [Holiday(town=b.town, date=d, name=name) for d, name in HOLIDAYS]
        + [Holiday(town=b.town, date=d, is_workday=True, name="调休上班") for d in MAKEUP_DAYS],
    )
    skills = {s.code: s for s in b.skills}
    rules = {}
    for code, category in b.categories.items():
        respond, resolve, skill, must, max_hours = RULES.get(code, (120, 3, None, False, 4))
        rules[code] = CategoryRule(
            category=category,
            respond_minutes=respond,
            resolve_days=resolve,
            required_skill=skills.get(skill) if skill else None,
            skill_required_to_claim=must,
            max_hours=Decimal(max_hours),
        )
    CategoryRule.objects.bulk_create(rules.values())

    # Who may take orders where: approved members per community, with their skills.
    by_community = defaultdict(list)
    for reg in b.member_registrations:
        if reg.status == Registration.Status.APPROVED:
            by_community[reg.community_id].append(reg.member)
    member_skills = defaultdict(set)
    for member_id, skill_id in MemberSkill.objects.filter(member__in=b.members).values_list("member_id", "skill_id"):
        member_skills[member_id].add(skill_id)
    grid_worker = dict(
        RoleAssignment.objects.filter(role=Role.GRID_WORKER, grid__in=b.grids)
        .order_by("id")
        .values_list("grid_id", "user_id")[::-1]  # the first worker of each grid wins
    )
    dept_for = defaultdict(list)
    for dept in b.departments:
        for category_id in dept.categories.values_list("id", flat=True):
            dept_for[category_id].append(dept)
    residents_of = defaultdict(list)
    for ri, (hi, _gi) in enumerate(b.resident_home):
        residents_of[hi].append(ri)
    demo_dept_user = b.demo_users["demo-dept"]
    urban_households = [i for i, (_gi, bi) in enumerate(b.household_building) if b.buildings[bi].estate_id]

    codes = list(CATEGORY_MIX)
    weights = [CATEGORY_MIX[c][0] for c in codes]
    n = max(40, round(FULL_ORDERS * b.scale))
    sims = []
    for i in range(n):
        created = b.at(rng, 0.05, 365)
        sims.append(
            _simulate(
                b,
                rng,
                cal,
                rules,
                i,
                created,
                codes,
                weights,
                residents_of,
                urban_households,
                by_community,
                member_skills,
                grid_worker,
                dept_for,
                demo_dept_user,
            )
        )
    sims.extend(
        _demo_orders(
            b, rng, cal, rules, residents_of, by_community, member_skills, grid_worker, dept_for, demo_dept_user
        )
    )
    sims.sort(key=lambda s: s.order.created_at)

    orders = b.insert(Order, [s.order for s in sims])
    events, hours, follow_ups = [], [], []
    for sim, order in zip(sims, orders, strict=True):
        for ev in sim.events:
            ev.order = order
        events.extend(sim.events)
    b.insert(OrderEvent, events)
    for sim in sims:
        for ev, member, h in sim.hours:
            hours.append(OrderHours(event=ev, order=sim.order, member=member, hours=h))
        for ev, outcome, note in sim.follow_ups:
            follow_ups.append(FollowUp(order=sim.order, event=ev, outcome=outcome, note=note))
    b.insert(OrderHours, hours)
    b.insert(FollowUp, follow_ups)
    _credit(b, sims)


_TENTH = Decimal("0.1")


def _credit(b, sims) -> None:
    """The ledger rows linli.credits.actions.credit_closed_order writes when an order closes —
    one service record per member of the last resolution, points per hour, the pool, 满意 and
    emergency bonuses, and the 不满意 deductions — recorded at the time the order closed."""
    rules = {r.code: r for r in ensure_point_rules(b.town)}
    kinds = {}
    records, points = [], []

    def award(member, code, *, source_type, source_id, when, at, hours=None):
        rule = rules[code]
        if not rule.active:
            return
        if rule.per_hour:
            value = (rule.points_per_hour * hours).quantize(_TENTH)
            extra = {"hours": hours, "rate": rule.points_per_hour}
        else:
            value, extra = rule.points, {}
        if value:
            points.append(
                PointEntry(
                    member=member,
                    town=b.town,
                    rule=rule,
                    points=value,
                    source_type=source_type,
                    source_id=source_id,
                    earned_on=when,
                    at=at,
                    **extra,
                )
            )

    for sim in sims:
        o = sim.order
        for ev in sim.events:
            if ev.kind == OrderEvent.Kind.REOPEN and ev.member is not None and ev.data.get("rating") == "unsatisfied":
                award(
                    ev.member,
                    "unsatisfied",
                    source_type=SourceType.REOPEN,
                    source_id=ev.pk,
                    when=timezone.localdate(ev.at),
                    at=ev.at,
                )
        if o.status != S.CLOSED or not sim.hours:
            continue
        resolution, _m, _h = sim.hours[-1]
        last = [(m, h) for ev, m, h in sim.hours if ev is resolution]
        closing = next(ev for ev in reversed(sim.events) if ev.to_status == S.CLOSED)
        claim = next((ev for ev in reversed(sim.events) if ev.to_status == S.CLAIMED), None)
        key = (o.community_id, o.category_id)
        if key not in kinds:
            kinds[key] = service_kind(o.community, source_type=SourceType.ORDER, category=o.category)
        day = timezone.localdate(resolution.at)
        for member, hours in last:
            records.append(
                ServiceRecord(
                    member=member,
                    community_id=o.community_id,
                    kind=kinds[key],
                    activity_name=o.title,
                    service_date=day,
                    place=o.address,
                    content=o.result_note or o.title,
                    hours=hours,
                    organizer=o.community.name,
                    source_type=SourceType.ORDER,
                    source_id=o.pk,
                    category=o.category,
                    recorded_at=closing.at,
                )
            )
            common = {"source_type": SourceType.ORDER, "source_id": o.pk, "when": day, "at": closing.at}
            award(member, "service_hours", hours=hours, **common)
            if claim is not None and claim.member is member and claim.data.get("from_pool"):
                award(member, "pool_claim", **common)
            if closing.data.get("rating") == "satisfied":
                award(member, "satisfied", **common)
            if o.priority >= EMERGENCY_PRIORITY:
                award(member, "emergency", **common)
    b.insert(ServiceRecord, records)
    b.insert(PointEntry, points)


class _Sim:
    """One order's simulated life: the Order row and its events, applied in time order."""

    def __init__(self, order: Order, now: dt.datetime):
        self.order = order
        self.now = now
        self.events: list[OrderEvent] = []
        self.hours = []
        self.follow_ups = []
        self.stopped = False
        self.grid_worker_id = None

    def submitted(self, at, submitter_id, channel) -> None:
        """The first event, as submit_order writes it (from "" to submitted)."""
        self.events.append(
            OrderEvent(
                at=at,
                actor_id=submitter_id,
                from_status="",
                to_status=S.SUBMITTED,
                note="提交了诉求",
                data={"channel": channel},
            )
        )

    def event(
        self,
        at,
        to=None,
        *,
        actor=None,
        kind=OrderEvent.Kind.TRANSITION,
        note="",
        member=None,
        department=None,
        data=None,
        **fields,
    ) -> OrderEvent | None:
        """Apply a status change (or a plain event when `to` is None) if it happened before now."""
        if self.stopped or at > self.now:
            self.stopped = True
            return None
        o = self.order
        ev = OrderEvent(
            at=at,
            actor=actor,
            kind=kind,
            from_status=o.status if to else "",
            to_status=to or "",
            note=note,
            member=member,
            department=department,
            data=data or {},
        )
        self.events.append(ev)
        if to:
            o.status = to
            o.updated_at = at
        for key, value in fields.items():
            setattr(o, key, value)
        return ev


def _hours_after(rng, at, lo, hi):
    return at + dt.timedelta(hours=rng.uniform(lo, hi))


def _pick_member(rng, members, member_skills, rule, exclude=()):
    pool = [m for m in members if m.pk not in exclude]
    if rule.required_skill_id:
        skilled = [m for m in pool if rule.required_skill_id in member_skills[m.pk]]
        if skilled and (rule.skill_required_to_claim or rng.random() < 0.8):
            pool = skilled
        elif rule.skill_required_to_claim:
            return None
    return rng.choice(pool) if pool else None


def _simulate(
    b,
    rng,
    cal,
    rules,
    i,
    created,
    codes,
    weights,
    residents_of,
    urban_households,
    by_community,
    member_skills,
    grid_worker,
    dept_for,
    demo_dept_user,
    *,
    household_index=None,
    code=None,
    script=None,
):
    code = code or rng.choices(codes, weights=weights)[0]
    category = b.categories[code]
    if household_index is None:
        pool = urban_households if category.is_property and urban_households else None
        household_index = rng.choice(pool) if pool else rng.randrange(len(b.households))
    household = b.households[household_index]
    gi, bi = b.household_building[household_index]
    grid = b.grids[gi]
    community_id = grid.community_id
    staff = b.staff[community_id]
    resident = b.residents[rng.choice(residents_of[household_index])] if residents_of[household_index] else None
    _w, kind, titles = CATEGORY_MIX[code]
    if rng.random() < 0.03:
        kind = Kind.SUGGESTION
    channel = (script or {}).get("channel") or rng.choices(
        [Channel.GRID_WORKER, Channel.PHONE, Channel.VISIT, Channel.API], weights=(45, 30, 15, 10)
    )[0]
    submitter = {
        Channel.GRID_WORKER: grid_worker.get(grid.pk),
        Channel.PHONE: staff.pk,
        Channel.VISIT: staff.pk,
    }.get(channel)
    if script and script.get("submitted_by"):
        submitter = script["submitted_by"].pk
    order = Order(
        town=b.town,
        community_id=community_id,
        grid=grid,
        building=b.buildings[bi],
        household=household,
        address=household.address,
        kind=kind,
        category=None,
        title=rng.choice(titles),
        description="",
        channel=channel,
        submitted_by_id=submitter,
        resident=resident,
        contact_name=resident.name if resident else "",
        contact_phone=(resident.phone or "") if resident else "",
        anonymous=rng.random() < 0.05,
        created_at=created,
        updated_at=created,
        status=S.SUBMITTED,
        priority=3,
    )
    sim = _Sim(order, b.now)
    sim.grid_worker_id = grid_worker.get(grid.pk)
    sim.submitted(created, submitter, channel)
    rule = rules[code]
    members = by_community.get(community_id, [])
    r = rng.random()
    t = _hours_after(rng, created, 0.1, 20)
    if r < 0.02:
        cancelled = _hours_after(rng, created, 0.1, 6)
        sim.event(cancelled, S.CANCELLED, note="居民撤销", closed_at=cancelled)
        return sim
    if r < 0.06:
        sim.event(
            t,
            S.REJECTED,
            actor=staff,
            note="不属于社区受理范围，已告知居民拨打12345",
            reject_reason="不属于社区受理范围，已告知居民拨打12345",
            closed_at=t,
            responded_at=t,
        )
        return sim
    local = timezone.localtime(t)
    priority = 5 if code in ("safety", "elevator") else rng.choices((2, 3, 4), weights=(3, 6, 2))[0]
    respond_by = workcal.add_working_minutes(local, rule.respond_minutes, cal)
    resolve_by = workcal.add_working_days(local, rule.resolve_days, cal)
    sim.event(
        t,
        S.ACCEPTED,
        actor=staff,
        note="受理",
        category=category,
        priority=priority,
        accepted_at=t,
        respond_by=respond_by,
        resolve_by=resolve_by,
    )
    if script is None and created > b.now - dt.timedelta(days=WAITING_DAYS) and rng.random() < 0.7:
        # Accepted in the last days and waiting for dispatch (待派单): on first start the
        # dispatcher's queue, the order page's suggestions and auto-dispatch have work to show.
        return sim
    if script is None and created > b.now - dt.timedelta(days=40) and rng.random() < 0.12:
        # 一派了之: some recent orders stall — dispatched and never taken, or taken and left
        # unfinished — so the queue shows overdue work the sweep and the dashboards must catch.
        script = {"stop": rng.choice((S.DISPATCHED, S.IN_PROGRESS, S.IN_PROGRESS)), "route": "member"}
    route = (script or {}).get("route") or rng.choices(("member", "pool", "escalate"), weights=(72, 15, 13))[0]
    late = rng.random() < 0.15
    t = _hours_after(rng, t, 2.5, 30) if late else _hours_after(rng, t, 0.05, 1.8)
    _work(b, sim, rng, rule, route, t, staff, members, member_skills, dept_for, demo_dept_user, script or {})
    return sim


def _work(b, sim, rng, rule, route, t, staff, members, member_skills, dept_for, demo_dept_user, script, reopened=False):
    if sim.stopped:  # the order's life reached `now` before this step
        return
    o = sim.order
    first_response = {"responded_at": o.responded_at or t}
    if route == "escalate":
        depts = dept_for.get(o.category.pk) or b.departments
        dept = rng.choice(depts)
        dept_user = demo_dept_user if dept.pk == b.departments[0].pk else None
        sim.event(
            t,
            S.ESCALATED,
            actor=staff,
            department=dept,
            note=f"吹哨至{dept.name}",
            department_id=dept.pk,
            escalation_due=o.resolve_by,
            **first_response,
        )
        if rng.random() < 0.25:
            t = _hours_after(rng, t, 6, 60)
            sim.event(
                t,
                S.ACCEPTED,
                actor=dept_user,
                kind=OrderEvent.Kind.BOUNCE,
                department=dept,
                note=rng.choice(RETURN_REASONS),
                department_id=None,
                escalation_due=None,
            )
            _work(
                b,
                sim,
                rng,
                rule,
                "member",
                _hours_after(rng, t, 1, 24),
                staff,
                members,
                member_skills,
                dept_for,
                demo_dept_user,
                script,
            )
            return
        t = _hours_after(rng, t, 1, 20)
        sim.event(t, S.ACKNOWLEDGED, actor=dept_user, department=dept, note="部门报到")
        t = _hours_after(rng, t, 12, 130)
        note = rng.choice(RESULTS)
        sim.event(t, S.RESOLVED, actor=dept_user, department=dept, note=note, result_note=note, resolved_at=t)
        _rate(b, sim, rng, rule, t, staff, members, member_skills, dept_for, demo_dept_user, script, reopened)
        return
    member = script.get("member") or _pick_member(rng, members, member_skills, rule)
    if member is None:  # nobody fits: the community escalates instead
        _work(b, sim, rng, rule, "escalate", t, staff, members, member_skills, dept_for, demo_dept_user, script)
        return
    user = member.user
    if route == "pool":
        sim.event(t, S.POOLED, actor=staff, note="发布到领单池", assignee=None, assignee_unit=None, **first_response)
        t = _hours_after(rng, t, 0.3, 14)
        sim.event(
            t,
            S.CLAIMED,
            actor=user,
            member=member,
            note=f"{member.name}接单",
            assignee=member,
            data={"from_pool": True},
        )
    else:
        sim.event(
            t,
            S.DISPATCHED,
            actor=staff,
            member=member,
            note=f"派给{member.name}",
            assignee=member,
            assignee_unit=None,
            **first_response,
        )
        if script.get("stop") == S.DISPATCHED:
            sim.stopped = True
            return
        if not script and rng.random() < 0.08:
            t = _hours_after(rng, t, 0.5, 10)
            sim.event(
                t,
                S.ACCEPTED,
                actor=user,
                member=member,
                note=rng.choice(DECLINE_REASONS),
                assignee=None,
                data={"declined": True},
            )
            other = _pick_member(rng, members, member_skills, rule, exclude={member.pk})
            if other is None:
                return
            member, user = other, other.user
            t = _hours_after(rng, t, 0.2, 4)
            sim.event(t, S.DISPATCHED, actor=staff, member=member, note=f"派给{member.name}", assignee=member)
        t = _hours_after(rng, t, 0.1, 6)
        sim.event(
            t,
            S.CLAIMED,
            actor=user,
            member=member,
            note=f"{member.name}接单",
            assignee=member,
            data={"from_pool": False},
        )
    t = _hours_after(rng, t, 0.2, 24)
    sim.event(t, S.IN_PROGRESS, actor=user, member=member, note="开始办理")
    if script.get("stop") == S.IN_PROGRESS:
        sim.stopped = True
        return
    t = _hours_after(rng, t, 1, 100 if rng.random() < 0.12 else 40)
    note = rng.choice(RESULTS)
    ev = sim.event(t, S.RESOLVED, actor=user, member=member, note=note, result_note=note, resolved_at=t)
    if ev is None:
        return
    h = min(rule.max_hours, Decimal(rng.choice((5, 10, 10, 15, 20, 20, 30, 40))) / 10)
    sim.hours.append((ev, member, h))
    _rate(b, sim, rng, rule, t, staff, members, member_skills, dept_for, demo_dept_user, script, reopened)


def _rate(b, sim, rng, rule, t, staff, members, member_skills, dept_for, demo_dept_user, script, reopened):
    o = sim.order
    if script.get("stop") == S.RESOLVED:
        sim.stopped = True
        return
    resident_user = o.submitted_by if o.channel == Channel.WEB else None
    if rng.random() < 0.65:
        t = _hours_after(rng, t, 0.5, 70)
        rating = rng.choices(list(Rating), weights=(78, 17, 5) if not reopened else (70, 30, 0))[0]
        comment = rng.choice(COMMENTS[rating])
        if rating == Rating.UNSATISFIED:
            local = timezone.localtime(t)
            cal = workcal.Calendar(holidays=frozenset(d for d, _ in HOLIDAYS), makeup_workdays=frozenset(MAKEUP_DAYS))
            previous = o.assignee
            ev = sim.event(
                t,
                S.ACCEPTED,
                actor=resident_user,
                kind=OrderEvent.Kind.REOPEN,
                note=comment or "群众不满意",
                member=previous,
                data={"rating": rating},
                assignee=None,
                assignee_unit=None,
                department_id=None,
                resolved_at=None,
                closed_at=None,
                rating=rating,
                rating_comment=comment,
                resolve_by=workcal.add_working_days(local, rule.resolve_days, cal),
            )
            if ev is not None:
                _work(
                    b,
                    sim,
                    rng,
                    rule,
                    "member",
                    _hours_after(rng, t, 0.5, 8),
                    staff,
                    members,
                    member_skills,
                    dept_for,
                    demo_dept_user,
                    script,
                    reopened=True,
                )
            return
        sim.event(
            t,
            S.CLOSED,
            actor=resident_user,
            note=comment or rating.label,
            rating=rating,
            rating_comment=comment,
            closed_at=t,
            data={"rating": rating},
        )
    else:
        t = t + dt.timedelta(days=7, minutes=rng.randrange(1, 600))
        sim.event(t, S.CLOSED, note="超期未评价，自动关闭", closed_at=t, data={"auto": True})
    if o.status == S.CLOSED and rng.random() < 0.3:
        t = _hours_after(rng, t, 20, 120)
        outcome = rng.choices(list(FollowUp.Outcome), weights=(80, 5, 15))[0]
        ev = sim.event(
            t, None, actor=None, kind=OrderEvent.Kind.FOLLOW_UP, note=outcome.label, data={"outcome": outcome}
        )
        if ev is not None:
            ev.actor_id = sim.grid_worker_id
            sim.follow_ups.append((ev, outcome, ""))


def _demo_orders(b, rng, cal, rules, residents_of, by_community, member_skills, grid_worker, dept_for, demo_dept_user):
    """Orders the demo accounts find on first start: demo-resident's own, demo-member's tasks,
    a fresh queue for demo-staff."""
    resident_user = b.demo_users["demo-resident"]
    hi = next(i for i, (h, _g) in enumerate(b.resident_home) if b.residents[i].pk == b.demo_resident.pk)
    household_index = b.resident_home[hi][0]
    now = b.now
    common = {
        "residents_of": residents_of,
        "urban_households": [],
        "by_community": by_community,
        "member_skills": member_skills,
        "grid_worker": grid_worker,
        "dept_for": dept_for,
        "demo_dept_user": demo_dept_user,
    }
    sims = []
    plans = [
        # demo-resident: one resolved awaiting a rating, one closed, one being handled, one just filed.
        (
            30,
            "repair",
            {
                "channel": Channel.WEB,
                "submitted_by": resident_user,
                "member": b.demo_member,
                "stop": S.RESOLVED,
                "route": "member",
            },
        ),
        (60, "sanitation", {"channel": Channel.WEB, "submitted_by": resident_user}),
        (
            4,
            "property",
            {
                "channel": Channel.WEB,
                "submitted_by": resident_user,
                "member": b.demo_member,
                "stop": S.IN_PROGRESS,
                "route": "member",
            },
        ),
        # demo-member: a dispatch waiting to be accepted.
        (3, "elderly", {"member": b.demo_member, "stop": S.DISPATCHED, "route": "member"}),
    ]
    for days_ago, code, script in plans:
        created = now - dt.timedelta(days=days_ago, hours=2) if days_ago > 1 else now - dt.timedelta(hours=5)
        sims.append(
            _simulate(
                b,
                rng,
                cal,
                rules,
                0,
                created,
                None,
                None,
                household_index=household_index,
                code=code,
                script=script,
                **common,
            )
        )
    # A fresh queue for demo-staff: filed in the last hours, not yet triaged.
    demo_households = [
        i for i, (gi, _b) in enumerate(b.household_building) if b.grids[gi].community_id == b.demo_community.pk
    ]
    for k in range(6):
        created = now - dt.timedelta(minutes=20 + 37 * k)
        code = rng.choice(("repair", "sanitation", "dispute", "policy", "elderly", "road"))
        sim = _Sim(
            Order(
                town=b.town,
                community=b.demo_community,
                household=b.households[(h := rng.choice(demo_households))],
                grid=b.grids[b.household_building[h][0]],
                building=b.buildings[b.household_building[h][1]],
                address=b.households[h].address,
                kind=CATEGORY_MIX[code][1],
                title=rng.choice(CATEGORY_MIX[code][2]),
                channel=Channel.PHONE,
                submitted_by=b.staff[b.demo_community.pk],
                created_at=created,
                updated_at=created,
                status=S.SUBMITTED,
                priority=3,
            ),
            now,
        )
        sim.submitted(created, b.staff[b.demo_community.pk].pk, Channel.PHONE)
        sims.append(sim)
    return sims
