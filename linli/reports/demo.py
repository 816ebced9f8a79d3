"""Feedback and red/black lists for the demo town: a step of linli.demo.town.TownBuilder.

`build_feedback(builder)` runs after the orders and activities steps. It generates the last
completed quarter's report for every unit with the product's own code (linli.reports.actions:
the same rows, notifications and audit entries a real quarter-end would write), records a
quarter of staff inspections of the property companies, and takes a red/black list through
the whole workflow — proposed, public notice, an appeal and its decision, published — with the
actions, back-dated through their `now` argument so every event has a plausible time.

Inspection rows are bulk-inserted through the builder (docs/decisions/0004-demo-bulk-inserts.md).
"""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from linli.orgs.models import Unit
from linli.reports import actions
from linli.reports.feedback import Period
from linli.reports.models import Inspection, ListEntry, Preset

# How far apart the list's steps are, from the end of its quarter.
PROPOSED_AFTER = dt.timedelta(days=2, hours=9)
APPEAL_AFTER = dt.timedelta(days=2, hours=3)
DECIDED_AFTER = dt.timedelta(days=4, hours=2)
DEMO_RULE = {"min_orders": 3, "red_threshold": Decimal("90.0"), "black_threshold": Decimal("80.0")}
NOTES = ("公共区域保洁到位", "门岗管理规范", "消防通道畅通", "绿化有缺损", "电梯维保记录不全", "楼道堆物未清理")


def build_feedback(b) -> None:
    """The last completed quarter's unit reports and a published red/black list for the builder's town."""
    now = b.now
    today = timezone.localtime(now).date()
    quarter = Period.last_completed(Preset.QUARTERLY, today)
    actions.generate_unit_reports(period=quarter, units=Unit.objects.filter(town=b.town), now=now)

    # The demo town's rule, as a town admin would set it in the admin: stricter than the default
    # black line, and fewer orders needed, so even a small demo town has both lists.
    rule = actions.set_list_rule(b.town, actor=b.demo_users["demo-town"], **DEMO_RULE)
    # The list needs its notice period to be over by now: else the quarter before.
    listed = quarter
    while aware(listed.end) + PROPOSED_AFTER + dt.timedelta(days=rule.notice_days + 1) > now:
        listed = listed.previous()
    _inspections(b, listed)
    _list(b, listed, rule)


def aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _inspections(b, period: Period) -> None:
    """Two or three inspections of each estate with a company in the period, scored around a level
    per company."""
    rng = b.rng("inspections")
    inspector = b.demo_users["demo-town"]
    # demo-property's company inspects badly (so its account has an entry and an appeal to show);
    # the others from good to fair.
    demo = b.demo_estate.company_id
    others = sorted({e.company_id for e in b.estates if e.company_id and e.company_id != demo})
    level = {c: 95 - 25 * i / max(1, len(others) - 1) for i, c in enumerate(others)}
    level[demo] = 45
    days = (period.end - period.start).days
    rows = []
    for estate in b.estates:
        if estate.company_id is None:
            continue
        for _ in range(rng.choice((2, 2, 3))):
            score = round(min(100, max(0, rng.gauss(level[estate.company_id], 6))))
            day = period.start + dt.timedelta(days=rng.randrange(days))
            rows.append(
                Inspection(
                    company_id=estate.company_id,
                    estate=estate,
                    date=day,
                    score=score,
                    inspector=inspector,
                    note=rng.choice(NOTES),
                    recorded_at=timezone.make_aware(dt.datetime.combine(day, dt.time(16, rng.randrange(60)))),
                )
            )
    b.insert(Inspection, rows)


def _list(b, period: Period, rule) -> None:
    """Proposed two days after the quarter, noticed at once; the demo company appeals if it is on
    the black list (upheld), or else the first black entry stays; published after the notice."""
    town_admin = b.demo_users["demo-town"]
    proposed_at = aware(period.end) + PROPOSED_AFTER
    plist = actions.propose_property_list(b.town, period=period, actor=town_admin, now=proposed_at)
    actions.open_list_notice(plist, actor=town_admin, now=proposed_at + dt.timedelta(minutes=30))
    demo_company = b.demo_estate.company_id
    entry = plist.entries.filter(company_id=demo_company, kind=ListEntry.Kind.BLACK).first()
    if entry is not None:
        property_user = b.demo_users["demo-property"]
        actions.appeal_list_entry(
            entry,
            actor=property_user,
            statement="评定周期内部分不满意评价系业主与开发商的遗留纠纷，已提交整改记录与回访情况，请予复核。",
            now=proposed_at + APPEAL_AFTER,
        )
        actions.decide_list_appeal(
            entry,
            actor=town_admin,
            upheld=False,
            note="经复核，按时办结率与巡查评分均未达标，维持黑榜评定，请限期整改。",
            now=proposed_at + DECIDED_AFTER,
        )
    plist.refresh_from_db()
    actions.publish_property_list(plist, actor=town_admin, now=plist.notice_ends_at + dt.timedelta(hours=20))
