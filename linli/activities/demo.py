"""A year of community activities for the demo town, consistent with what the actions write.

`build_activities(builder)` is a step of linli.demo.town.TownBuilder: each community runs
clean-ups, duty posts, visits to elderly people living alone, policy publicity, tutoring …
with shifts from a year ago to a month ahead. Members registered with the community sign up
within the sign-up window, never for overlapping shifts, never beyond capacity, only with the
required skill; some cancel before the deadline. Past shifts end in sign-in/out scans (hours
capped by the shift, one decimal), attendance marked by hand, or no-shows marked by the sweep;
each completed sign-up has its service record and points, each no-show its deduction — the
same rows, events included, that linli.activities.actions would have written. A shift is in
progress in demo-staff's community now, so its sign-in code can be shown.

Bulk inserts through the builder (see docs/decisions/0004-demo-bulk-inserts.md).
"""

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from linli.activities.actions import CHECK_IN_EARLY, HOURS_RULE, NO_SHOW_RULE, REMIND_AHEAD, SOURCE_TYPE
from linli.activities.models import Activity, ActivityEvent, Kind, Shift, SignUp, hours_between
from linli.credits import actions as credits
from linli.credits.models import PointEntry, ServiceKind, ServiceRecord
from linli.people.models import MemberSkill, Registration

A, U, E = Activity.Status, SignUp.Status, ActivityEvent.Kind

# Activities a year at full scale (10 communities): about one a week per community.
FULL_ACTIVITIES = 520
PAST_DAYS, AHEAD_DAYS = 365, 30

# kind: (weight, titles, skill code required sometimes (share), capacity range, typical slots)
KINDS = {
    Kind.CLEANUP: (
        26,
        ("楼道杂物清理", "小区环境卫生整治", "背街小巷清扫", "河道沿岸垃圾清捡"),
        None,
        (8, 20),
        ((8, 30, 2.5), (14, 30, 2.5)),
    ),
    Kind.DUTY: (
        16,
        ("文明交通劝导值守", "小区卡口值守", "防汛值守", "森林防火值守"),
        None,
        (2, 6),
        ((7, 0, 3), (10, 0, 3), (14, 0, 3), (17, 0, 3)),
    ),
    Kind.ELDERLY_VISIT: (
        14,
        ("探访独居老人", "高龄老人节日慰问", "助老送餐上门"),
        ("eldercare", 0.4),
        (3, 8),
        ((9, 0, 2.5), (15, 0, 2)),
    ),
    Kind.POLICY: (
        14,
        ("医保缴费政策宣传", "反诈骗宣传进小区", "垃圾分类宣传", "防溺水安全宣传"),
        ("policy", 0.3),
        (4, 10),
        ((9, 0, 2), (15, 0, 2)),
    ),
    Kind.TUTORING: (
        10,
        ("留守儿童课业辅导", "周末作业辅导", "暑期托管课业辅导"),
        ("tutoring", 0.8),
        (2, 6),
        ((9, 0, 2), (14, 30, 2), (19, 0, 1.5)),
    ),
    Kind.PATROL: (8, ("平安巡逻", "夜间治安巡逻"), None, (4, 8), ((19, 0, 2), (20, 30, 2))),
    Kind.CULTURE: (6, ("社区文艺汇演志愿服务", "全民健身日服务"), ("performance", 0.2), (6, 15), ((9, 0, 3),)),
    Kind.HEALTH: (6, ("义诊进社区", "免费测血压测血糖"), ("medical", 0.9), (3, 6), ((8, 30, 3),)),
}
PLACES = ("{c}党群服务中心", "{c}文化广场", "{c}新时代文明实践站", "{c}老年活动中心", "{c}主干道路口")
DESCRIPTIONS = {
    Kind.CLEANUP: "清理楼道堆放杂物、卫生死角，请穿方便劳动的衣服，工具由社区提供。",
    Kind.DUTY: "按排班到岗值守，做好登记和劝导。",
    Kind.ELDERLY_VISIT: "两人一组上门看望独居老人，了解生活需求并登记。",
    Kind.POLICY: "发放宣传资料，现场解答居民咨询。",
    Kind.TUTORING: "辅导小学生完成作业，陪伴阅读。",
    Kind.PATROL: "沿指定路线巡逻，发现隐患及时报告。",
    Kind.CULTURE: "协助活动现场秩序维护和后勤保障。",
    Kind.HEALTH: "协助医护人员组织居民排队、登记。",
}
CANCEL_REASONS = ("天气原因（暴雨预警），活动取消", "场地临时被占用，活动取消", "上级通知调整，活动延期")


def build_activities(b) -> None:
    """Insert a year of activities, shifts, sign-ups, events and their ledger rows into the builder's town."""
    rng = b.rng("activities")
    now = b.now
    by_community = defaultdict(list)
    for reg in b.member_registrations:
        if reg.status == Registration.Status.APPROVED:
            by_community[reg.community_id].append(reg.member)
    skills = defaultdict(set)
    for member_id, skill_id in MemberSkill.objects.filter(member__in=b.members).values_list("member_id", "skill_id"):
        skills[member_id].add(skill_id)
    skill_by_code = {s.code: s for s in b.skills}
    busy = defaultdict(list)  # member pk → [(start, end)] of live sign-ups: no overlaps
    rules = {code: credits.point_rule(b.town.pk, code) for code in (HOURS_RULE, NO_SHOW_RULE)}

    kinds = list(KINDS)
    weights = [KINDS[k][0] for k in kinds]
    n = max(20, round(FULL_ACTIVITIES * b.scale))
    plans = []
    for i in range(n):
        community = b.communities[i % len(b.communities)]
        first_day = timezone.localtime(now).date() + dt.timedelta(days=rng.randint(-PAST_DAYS, AHEAD_DAYS))
        plans.append((community, rng.choices(kinds, weights=weights)[0], first_day, {}))
    plans += _showcase(b, rng)
    plans.sort(key=lambda p: (p[2], p[0].pk))

    sims = [
        _plan_activity(b, rng, community, kind, day, script, skill_by_code) for community, kind, day, script in plans
    ]
    sims = [sim for sim in sims if sim is not None]
    b.insert(Activity, [sim.activity for sim in sims])
    for sim in sims:
        # Sign-ups first: they decide each shift's seats_taken before the shifts are inserted.
        _fill(b, rng, sim, by_community[sim.activity.community_id], skills, busy, now)
    shifts = []
    for sim in sims:
        for shift in sim.shifts:
            shift.activity = sim.activity
        shifts.extend(sim.shifts)
    b.insert(Shift, shifts)
    b.insert(SignUp, [signup for sim in sims for signup, _history in sim.signups])

    events, records, points = [], [], []
    for sim in sims:
        a = sim.activity
        events.extend(sim.activity_events())
        for signup, history in sim.signups:
            for ev in history:
                ev.activity, ev.shift, ev.signup = a, signup.shift, signup
            events.extend(history)
            last = history[-1]
            if signup.status == U.COMPLETED:
                records.append(_record(a, signup, recorder_id=last.actor_id))
                points.append(_points(rules[HOURS_RULE], b.town, signup, at=last.at, actor_id=last.actor_id))
            elif signup.status == U.NO_SHOW:
                points.append(_points(rules[NO_SHOW_RULE], b.town, signup, at=last.at, actor_id=None))
    b.insert(ActivityEvent, events)
    b.insert(ServiceRecord, records)
    b.insert(PointEntry, [p for p in points if p.points])


class _Sim:
    """One activity's rows and events, built in time order."""

    def __init__(self, activity: Activity, shifts: list[Shift], staff, script: dict):
        self.activity = activity
        self.shifts = shifts
        self.staff = staff
        self.script = script
        self.signups: list[tuple[SignUp, list[ActivityEvent]]] = []

    def activity_events(self) -> list[ActivityEvent]:
        a, staff = self.activity, self.staff
        rows = [ActivityEvent(activity=a, at=a.created_at, actor=staff, kind=E.CREATED, to_status=A.DRAFT)]
        for shift in self.shifts:
            local = timezone.localtime(shift.starts_at)
            rows.append(
                ActivityEvent(
                    activity=a,
                    shift=shift,
                    at=a.created_at,
                    actor=staff,
                    kind=E.SHIFT_ADDED,
                    note=f"{local:%m-%d %H:%M}–{timezone.localtime(shift.ends_at):%H:%M}，{shift.capacity}人",
                    data={
                        "starts_at": shift.starts_at.isoformat(),
                        "ends_at": shift.ends_at.isoformat(),
                        "capacity": shift.capacity,
                    },
                )
            )
        if a.published_at:
            rows.append(
                ActivityEvent(
                    activity=a,
                    at=a.published_at,
                    actor=staff,
                    kind=E.PUBLISHED,
                    from_status=A.DRAFT,
                    to_status=A.PUBLISHED,
                )
            )
        if a.cancelled_at:
            rows.append(
                ActivityEvent(
                    activity=a,
                    at=a.cancelled_at,
                    actor=staff,
                    kind=E.CANCELLED,
                    from_status=A.PUBLISHED,
                    to_status=A.CANCELLED,
                    note=a.cancel_reason,
                )
            )
        return rows


def _showcase(b, rng) -> list:
    """Activities the demo accounts need: one in progress in demo-staff's community, open ones ahead."""
    today = timezone.localtime(b.now).date()
    c = b.demo_community
    return [
        (c, Kind.CLEANUP, today, {"now": True, "title": "幸福家园楼道清理（进行中）"}),
        (c, Kind.POLICY, today + dt.timedelta(days=3), {"open": True, "demo_member": True}),
        (c, Kind.ELDERLY_VISIT, today + dt.timedelta(days=6), {"open": True}),
        (c, Kind.TUTORING, today + dt.timedelta(days=9), {"open": True, "demo_member": True}),
        (c, Kind.DUTY, today + dt.timedelta(days=12), {"open": True, "unit_quota": True}),
        (c, Kind.CLEANUP, today + dt.timedelta(days=20), {"draft": True}),
        # demo-member's own history: served, and once did not come.
        (c, Kind.ELDERLY_VISIT, today - dt.timedelta(days=25), {"demo_member": True}),
        (c, Kind.CLEANUP, today - dt.timedelta(days=60), {"demo_member": True}),
        (c, Kind.POLICY, today - dt.timedelta(days=95), {"demo_member": True, "demo_outcome": "no_show"}),
    ]


def _aware(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _plan_activity(b, rng, community, kind, first_day, script, skill_by_code):
    now = b.now
    _w, titles, skill_spec, (cap_lo, cap_hi), slots = KINDS[kind]
    staff = b.staff[community.pk]
    shifts = []
    if script.get("now"):
        start = (timezone.localtime(now) - dt.timedelta(minutes=40)).replace(second=0, microsecond=0)
        shifts.append(Shift(starts_at=start, ends_at=start + dt.timedelta(hours=3), capacity=12, note="现场签到演示"))
    else:
        days = [first_day + dt.timedelta(days=7 * k) for k in range(rng.choice((1, 1, 1, 2, 3)))]
        for day in days:
            for hour, minute, length in rng.sample(slots, k=min(len(slots), rng.choice((1, 1, 2)))):
                start = _aware(day, hour, minute)
                shifts.append(
                    Shift(
                        starts_at=start,
                        ends_at=start + dt.timedelta(hours=length),
                        capacity=rng.randint(cap_lo, cap_hi),
                        note="上午班" if hour < 12 else ("下午班" if hour < 18 else "晚班"),
                    )
                )
    shifts.sort(key=lambda s: s.starts_at)
    first = shifts[0].starts_at
    created = first - dt.timedelta(days=rng.uniform(7, 20))
    if script:  # the demo accounts' activities exist already
        created = min(created, now - dt.timedelta(days=rng.uniform(1, 3)))
    if created > now:
        return None  # not yet planned by anyone
    draft = script.get("draft") or (not script and first > now and rng.random() < 0.1)
    published = None if draft else min(now, created + dt.timedelta(hours=rng.uniform(1, 48)))
    skill = None
    if skill_spec and rng.random() < skill_spec[1] and not script.get("demo_member"):
        skill = skill_by_code.get(skill_spec[0])
    closes = first - dt.timedelta(hours=rng.choice((2, 12, 24)))
    if script.get("now"):
        closes = first - dt.timedelta(minutes=30)
    cancelled = None
    reason = ""
    if not draft and not script and rng.random() < 0.03:
        cancelled = max(published + dt.timedelta(minutes=5), first - dt.timedelta(hours=rng.uniform(3, 48)))
        if cancelled <= now:
            reason = rng.choice(CANCEL_REASONS)
        else:
            cancelled = None  # it would be cancelled later: not yet
    status = A.DRAFT if draft else (A.CANCELLED if cancelled else A.PUBLISHED)
    activity = Activity(
        community=community,
        kind=kind,
        title=script.get("title") or rng.choice(titles),
        description=DESCRIPTIONS[kind],
        place=rng.choice(PLACES).format(c=community.name),
        leader=staff.name or staff.username,
        required_skill=skill,
        unit_quota=bool(script.get("unit_quota")) or (kind == Kind.DUTY and rng.random() < 0.4),
        signup_opens_at=published or created,
        signup_closes_at=max(closes, (published or created) + dt.timedelta(hours=1)),
        cancel_hours=rng.choice((2, 12, 24)),
        status=status,
        created_by=staff,
        created_at=created,
        updated_at=cancelled or published or created,
        published_at=published,
        cancelled_at=cancelled,
        cancel_reason=reason,
    )
    return _Sim(activity, shifts, staff, script)


def _fill(b, rng, sim, members, skills, busy, now):
    """Sign-ups for each shift, and what became of each: the simulated lives, up to `now`."""
    a = sim.activity
    if a.status == A.DRAFT or not members:
        return
    staff = sim.staff
    pool = [m for m in members if not a.required_skill_id or a.required_skill_id in skills[m.pk]]
    demo = b.demo_member if sim.script.get("demo_member") or sim.script.get("now") else None
    for shift in sim.shifts:
        window_end = min(a.signup_closes_at, shift.starts_at, a.cancelled_at or now, now)
        if window_end <= a.signup_opens_at:
            continue
        open_ahead = a.signup_closes_at > now and shift.starts_at > now
        share = rng.uniform(0.3, 0.7) if open_ahead else rng.uniform(0.6, 1.0)
        wanted = min(shift.capacity, round(shift.capacity * share))
        chosen = []
        if demo is not None and demo in pool:
            chosen.append(demo)
        candidates = rng.sample(pool, k=min(len(pool), wanted * 2 + 2))
        for m in candidates:
            if len(chosen) >= wanted:
                break
            if m not in chosen:
                chosen.append(m)
        for member in chosen:
            if any(s < shift.ends_at and shift.starts_at < e for s, e in busy[member.pk]):
                continue  # already holds an overlapping shift: sign_up would refuse
            at = a.signup_opens_at + (window_end - a.signup_opens_at) * rng.random()
            at = at.replace(microsecond=0)
            # The sign-up's fields as its life goes on; the row is made from them at the end.
            life = {"shift": shift, "member": member, "status": U.SIGNED_UP, "signed_up_at": at}
            history = [ActivityEvent(at=at, actor_id=member.user_id, kind=E.SIGNED_UP, to_status=U.SIGNED_UP)]
            deadline = shift.starts_at - dt.timedelta(hours=a.cancel_hours)
            if member is not demo and rng.random() < 0.08 and at < min(deadline, now):
                when = at + (min(deadline, now) - at) * rng.random()
                _move(life, history, U.CANCELLED, when, member.user_id, E.SIGNUP_CANCELLED, cancelled_at=when)
                sim.signups.append((SignUp(**life), history))
                continue
            busy[member.pk].append((shift.starts_at, shift.ends_at))
            if at < shift.starts_at - REMIND_AHEAD and shift.starts_at - REMIND_AHEAD + dt.timedelta(hours=10) <= now:
                life["reminded_at"] = shift.starts_at - REMIND_AHEAD + dt.timedelta(hours=10)
            if a.cancelled_at:
                _move(
                    life,
                    history,
                    U.CANCELLED,
                    a.cancelled_at,
                    staff.pk,
                    E.SIGNUP_CANCELLED,
                    note="活动取消",
                    data={"activity_cancelled": True},
                    cancelled_at=a.cancelled_at,
                )
            else:
                outcome = sim.script.get("demo_outcome") if member is demo else None
                _attend(rng, life, history, shift, staff, now, demo=member is demo, outcome=outcome)
            sim.signups.append((SignUp(**life), history))
        shift.seats_taken = sum(1 for s, _h in sim.signups if s.shift is shift and s.status != U.CANCELLED)


def _move(life: dict, history, to, at, actor_id, kind, note="", data=None, **fields):
    """A status change of a simulated sign-up, with the event the action would write."""
    history.append(
        ActivityEvent(
            at=at, actor_id=actor_id, kind=kind, from_status=life["status"], to_status=to, note=note, data=data or {}
        )
    )
    life.update(status=to, **fields)


def _attend(rng, life, history, shift, staff, now, *, demo=False, outcome=None):
    """Sign-in/out scans, attendance by hand, or a no-show — whatever happened before `now`."""
    uid = life["member"].user_id
    r = rng.random() if outcome is None else (0.95 if outcome == "no_show" else 0.1)
    if demo and shift.ends_at > now:
        return  # demo-member scans the live code themselves
    checked_in = shift.starts_at + dt.timedelta(minutes=rng.uniform(-CHECK_IN_EARLY.total_seconds() / 60, 15))
    checked_in = checked_in.replace(microsecond=0)
    if r < 0.82:
        if checked_in > now:
            return
        _move(life, history, U.CHECKED_IN, checked_in, uid, E.CHECKED_IN, checked_in_at=checked_in)
        out = (shift.ends_at + dt.timedelta(minutes=rng.uniform(-25, 20))).replace(microsecond=0)
        if out > now:
            return
        hours = min(hours_between(checked_in, out), shift.length_hours)
        _move(
            life,
            history,
            U.COMPLETED,
            out,
            uid,
            E.CHECKED_OUT,
            data={"hours": str(hours)},
            checked_out_at=out,
            hours=hours,
        )
    elif r < 0.9:
        marked = shift.ends_at + dt.timedelta(minutes=rng.uniform(5, 600))
        if marked > now:
            return
        hours = shift.length_hours
        _move(
            life,
            history,
            U.COMPLETED,
            marked,
            staff.pk,
            E.MARKED_PRESENT,
            data={"hours": str(hours)},
            checked_out_at=marked,
            hours=hours,
        )
    else:
        swept = shift.ends_at + dt.timedelta(minutes=rng.uniform(1, 10))
        if swept > now:
            return
        _move(life, history, U.NO_SHOW, swept, None, E.NO_SHOW)


def _record(activity, signup, *, recorder_id) -> ServiceRecord:
    return ServiceRecord(
        member=signup.member,
        community=activity.community,
        # No ServiceKindRule rows in the demo: shifts are volunteer service, unit quotas registration service.
        kind=ServiceKind.REGISTRATION if activity.unit_quota else ServiceKind.VOLUNTEER,
        activity_name=activity.title,
        service_date=timezone.localtime(signup.shift.starts_at).date(),
        place=activity.place,
        content=activity.description[:500],
        hours=signup.hours,
        organizer=activity.community.name,
        leader=activity.leader,
        source_type=SOURCE_TYPE,
        source_id=signup.pk,
        activity_kind=activity.kind,
        recorder_id=recorder_id,
        recorded_at=signup.checked_out_at,
        late=False,
    )


def _points(rule, town, signup, *, at, actor_id) -> PointEntry:
    """The entry award_points writes: per-hour rules multiply the hours, fixed ones give their points."""
    hours = signup.hours if rule.per_hour else None
    points = (rule.points_per_hour * hours).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if hours else rule.points
    return PointEntry(
        member=signup.member,
        town=town,
        rule=rule,
        points=points,
        hours=hours,
        rate=rule.points_per_hour if rule.per_hour else None,
        source_type=SOURCE_TYPE,
        source_id=signup.pk,
        earned_on=timezone.localtime(signup.shift.starts_at).date(),
        at=at,
        actor_id=actor_id,
    )
