"""Every state change of feedback reports and red/black lists. Nothing else writes these tables.

Unit reports: `generate_unit_report` computes a unit's rows (linli.reports.feedback, read-only),
freezes them on one UnitReport row, delivers the report in-app to the unit's admins and records
the sending in the audit table — all or nothing, once per unit and period (a unique constraint:
the end-of-period task, the `unit_reports` command and the "generate" button may race).

Red/black lists: propose → public notice (the company may appeal a black entry) → a decision on
each appeal → published. Statuses move only through `_move_list()` / `_move_entry()`,
compare-and-set against LIST_TRANSITIONS / ENTRY_TRANSITIONS, each writing one ListEvent.
Notifications go out after commit (notify()).
"""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.actions import notify, record_audit
from linli.accounts.models import AuditEntry, Role, User
from linli.lib.errors import Conflict, DomainError, NotAllowed
from linli.orgs.models import Estate, Town, Unit
from linli.reports import feedback
from linli.reports.feedback import Period
from linli.reports.models import (
    ENTRY_TRANSITIONS,
    LIST_TRANSITIONS,
    Inspection,
    ListEntry,
    ListEvent,
    ListRule,
    PropertyList,
    UnitReport,
)

L, N, E = PropertyList.Status, ListEntry.Status, ListEvent.Kind


# --- who is acting ----------------------------------------------------------------------------------


def _town_admin(actor, town_id) -> bool:
    if actor is None:
        return False
    s = actor.scope
    return s.superuser or town_id in s.town_ids


def _unit_admins(unit_id):
    return User.objects.filter(role_assignments__role=Role.UNIT_ADMIN, role_assignments__unit_id=unit_id).distinct()


def _town_admins(town_id):
    return User.objects.filter(role_assignments__role=Role.TOWN_ADMIN, role_assignments__town_id=town_id).distinct()


def _company_staff(company_ids):
    return User.objects.filter(
        role_assignments__role=Role.PROPERTY_STAFF, role_assignments__company_id__in=list(company_ids)
    ).distinct()


# --- unit reports -----------------------------------------------------------------------------------


def generate_unit_report(unit: Unit, *, period: Period, actor, now: dt.datetime | None = None):
    """Generate, freeze and send the unit's report for a completed period; returns (report, created).

    Idempotent: when the report exists it is returned unchanged (its content was frozen when it
    was first generated). `actor` is the unit's admin, a town admin of the unit's town, or None
    for the end-of-period task. Raises DomainError for a period that has not ended yet.
    """
    now = now or timezone.now()
    if actor is not None and not feedback.may_see_unit_feedback(actor.scope, unit):
        raise NotAllowed(_("只有本单位管理员或街道/镇管理员可以生成反馈报告"))
    if period.end > timezone.localtime(now).date():
        raise DomainError(_("%(period)s尚未结束，只能生成已结束周期的报告") % {"period": period.label}, code="period")
    existing = UnitReport.objects.filter(unit=unit, period=period.code).first()
    if existing is not None:
        return existing, False
    built = feedback.unit_feedback(unit, start=period.start, end=period.end, now=now)
    recipients = list(_unit_admins(unit.pk).values_list("pk", flat=True))
    try:
        with transaction.atomic():
            report = UnitReport.objects.create(
                unit=unit,
                period=period.code,
                preset=period.preset,
                period_start=period.start,
                period_end=period.last,
                summary=built.summary,
                rows=built.rows,
                generated_at=now,
                generated_by=actor if getattr(actor, "pk", None) else None,
            )
            record_audit(
                actor,
                AuditEntry.Action.REPORT_SENT,
                obj=report,
                detail={
                    "unit": unit.pk,
                    "period": period.code,
                    "recipients": recipients,
                    "members": built.summary["members"],
                    "consented": built.summary["consented"],
                },
            )
    except IntegrityError:
        # Someone generated the same report a moment ago: theirs stands, frozen.
        return UnitReport.objects.get(unit=unit, period=period.code), False
    notify(
        User.objects.filter(pk__in=recipients),
        title=f"下沉党员服务情况反馈：{period.label}",
        body=f"{unit.name}：{built.summary['consented']} 名党员同意反馈，"
        f"报到 {built.summary['registered']} 人，本期参与服务 {built.summary['active']} 人。",
        url=f"/unit-reports/{report.pk}/",
        dedupe_key=f"unit_report:{report.pk}",
    )
    return report, True


@dataclass
class Generated:
    created: int = 0
    existing: int = 0


def generate_unit_reports(*, period: Period, actor=None, units=None, progress=None, now=None) -> Generated:
    """Generate the period's report for every unit with members (or those in `units`) that lacks one.

    Idempotent: units that have the report are skipped in the query, so a second run (or the
    sweep every minute) costs one query and changes nothing.
    """
    if units is None:
        units = Unit.objects.all()
    due = units.filter(members__isnull=False).exclude(feedback_reports__period=period.code).distinct()
    result = Generated(existing=units.filter(feedback_reports__period=period.code).distinct().count())
    for unit in due.select_related("town").order_by("pk").iterator(chunk_size=200):
        _report, created = generate_unit_report(unit, period=period, actor=actor, now=now)
        if created:
            result.created += 1
        else:
            result.existing += 1
        if progress is not None:
            progress(1)
    return result


def remind_members_behind_pace(unit: Unit, *, actor, today: dt.date | None = None) -> int:
    """Remind the unit's consenting members whose hours are behind the annual pace; once a day each.

    The notification's dedupe key names the day, so pressing the button again (or two admins
    pressing it) reminds nobody twice. Returns how many members were reminded (or already were).
    """
    if actor is None or not feedback.may_see_unit_feedback(actor.scope, unit):
        raise NotAllowed(_("只有本单位管理员可以提醒党员"))
    today = today or timezone.localdate()
    members = list(feedback.behind_pace_members(unit, today=today))
    if members:
        notify(
            [m.user for m in members],
            title="服务时长提醒：本年度服务进度落后",
            body=f"{unit.name}提醒您：本年度下沉/志愿服务时长落后于年度目标进度，请及时参加社区服务。",
            url="/",
            dedupe_key=f"pace_reminder:{today.isoformat()}",
        )
    return len(members)


# --- the town's list rule ----------------------------------------------------------------------------

RULE_FIELDS = frozenset(
    {
        "weight_satisfaction",
        "weight_on_time",
        "weight_reopen",
        "weight_inspection",
        "red_threshold",
        "black_threshold",
        "min_orders",
        "notice_days",
    }
)


def set_list_rule(town: Town, *, actor, **values) -> ListRule:
    """A town admin sets the town's red/black list rule (the admin's form does the same); audited.

    Lists already proposed keep the rule they were scored with (PropertyList.rule).
    """
    if not _town_admin(actor, town.pk):
        raise NotAllowed(_("只有街道/镇管理员可以设置红黑榜规则"))
    unknown = set(values) - RULE_FIELDS
    if unknown:
        raise DomainError(_("未知的规则项：%(fields)s") % {"fields": "、".join(sorted(unknown))}, code="rule")
    rule = feedback.list_rule(town.pk)
    for name, value in values.items():
        setattr(rule, name, value)
    try:
        rule.full_clean()
    except ValidationError as exc:
        raise DomainError("；".join(exc.messages), code="rule") from None
    with transaction.atomic():
        rule.save()
        record_audit(
            actor, AuditEntry.Action.ADMIN_CHANGE, obj=rule, detail={k: str(v) for k, v in sorted(values.items())}
        )
    return rule


# --- inspections --------------------------------------------------------------------------------------


def record_inspection(estate: Estate, *, actor, date: dt.date, score, note: str = "") -> Inspection:
    """Staff record an inspection score (0–100) of the company serving `estate`.

    Town admins of the estate's town and staff of its community may; the company is the one
    serving the estate now.
    """
    community = estate.community
    s = actor.scope if actor is not None else None
    if s is None or not (s.superuser or community.pk in s.community_ids or community.town_id in s.town_ids):
        raise NotAllowed(_("只有本社区工作人员或街道/镇管理员可以录入巡查"))
    if estate.company_id is None:
        raise DomainError(_("%(estate)s没有物业公司") % {"estate": estate.name}, code="estate")
    try:
        score = int(score)
    except (TypeError, ValueError):
        raise DomainError(_("评分应为0到100的整数"), code="score") from None
    if not 0 <= score <= 100:
        raise DomainError(_("评分应为0到100的整数"), code="score")
    if date > timezone.localdate():
        raise DomainError(_("巡查日期不能晚于今天"), code="date")
    with transaction.atomic():
        return Inspection.objects.create(
            company_id=estate.company_id,
            estate=estate,
            date=date,
            score=score,
            inspector=actor,
            note=(note or "").strip()[:500],
            recorded_at=timezone.now(),
        )


# --- red/black lists: transitions ---------------------------------------------------------------------


def _move_list(plist: PropertyList, to: str, *, actor, kind: str, now, note: str = "", data=None, **fields):
    """Compare-and-set the list's status and write its event, in one transaction."""
    old = plist.status
    if to not in LIST_TRANSITIONS[old]:
        raise Conflict(
            _("榜单当前状态为“%(status)s”，不能%(action)s")
            % {"status": plist.get_status_display(), "action": ListEvent.Kind(kind).label}
        )
    with transaction.atomic():
        if PropertyList.objects.filter(pk=plist.pk, status=old).update(status=to, **fields) != 1:
            raise Conflict(_("榜单已被他人处理，请刷新后重试"), code="already_taken")
        event = ListEvent.objects.create(
            plist=plist,
            at=now,
            actor=actor if getattr(actor, "pk", None) else None,
            kind=kind,
            from_status=old,
            to_status=to,
            note=note,
            data=data or {},
        )
    plist.status = to
    for key, value in fields.items():
        setattr(plist, key, value)
    return event


def _move_entry(entry: ListEntry, to: str, *, actor, kind: str, now, note: str = "", **fields):
    """Compare-and-set the entry's status and write its event, in one transaction."""
    old = entry.status
    if to not in ENTRY_TRANSITIONS[old]:
        raise Conflict(
            _("该条目当前状态为“%(status)s”，不能%(action)s")
            % {"status": entry.get_status_display(), "action": ListEvent.Kind(kind).label}
        )
    with transaction.atomic():
        if ListEntry.objects.filter(pk=entry.pk, status=old).update(status=to, **fields) != 1:
            raise Conflict(_("该条目已被他人处理，请刷新后重试"), code="already_taken")
        event = ListEvent.objects.create(
            plist_id=entry.plist_id,
            entry=entry,
            at=now,
            actor=actor if getattr(actor, "pk", None) else None,
            kind=kind,
            from_status=old,
            to_status=to,
            note=note,
        )
    entry.status = to
    for key, value in fields.items():
        setattr(entry, key, value)
    return event


# --- red/black lists: the steps ------------------------------------------------------------------------


def propose_property_list(town: Town, *, period: Period, actor, now: dt.datetime | None = None) -> PropertyList:
    """Score every property company of the town for a completed period and propose the list.

    Companies at or above the red threshold go on the red list, those below the black threshold
    on the black list, each with the reasons (figures) behind the score. One live list per town
    and period (Conflict otherwise); the rule used is kept on the list.
    """
    now = now or timezone.now()
    if not _town_admin(actor, town.pk):
        raise NotAllowed(_("只有街道/镇管理员可以拟定红黑榜"))
    if period.end > timezone.localtime(now).date():
        raise DomainError(_("%(period)s尚未结束，只能对已结束的周期评定") % {"period": period.label}, code="period")
    rule = feedback.list_rule(town.pk)
    scores = feedback.company_scores(town, period=period, rule=rule, now=now)
    try:
        with transaction.atomic():
            plist = PropertyList.objects.create(
                town=town,
                period=period.code,
                preset=period.preset,
                period_start=period.start,
                period_end=period.last,
                status=L.PROPOSED,
                rule=rule.snapshot(),
                scores=[s.as_json() for s in scores],
                proposed_at=now,
                proposed_by=actor if getattr(actor, "pk", None) else None,
            )
            ListEntry.objects.bulk_create(
                [
                    ListEntry(
                        plist=plist,
                        company_id=s.company_id,
                        company_name=s.name,
                        estates=s.estates,
                        kind=s.kind,
                        score=s.score,
                        figures=s.figures(),
                        reasons=s.reasons,
                    )
                    for s in scores
                    if s.kind
                ]
            )
            ListEvent.objects.create(
                plist=plist,
                at=now,
                actor=actor if getattr(actor, "pk", None) else None,
                kind=E.PROPOSED,
                from_status="",
                to_status=L.PROPOSED,
                data={"red": sum(s.kind == "red" for s in scores), "black": sum(s.kind == "black" for s in scores)},
            )
    except IntegrityError:
        raise Conflict(_("%(period)s的红黑榜已存在") % {"period": period.label}, code="exists") from None
    return plist


def open_list_notice(plist: PropertyList, *, actor, now: dt.datetime | None = None) -> PropertyList:
    """公示: put the proposed list up for public notice for the rule's notice days; companies may appeal."""
    now = now or timezone.now()
    if not _town_admin(actor, plist.town_id):
        raise NotAllowed(_("只有街道/镇管理员可以公示红黑榜"))
    days = int(plist.rule.get("notice_days") or feedback.list_rule(plist.town_id).notice_days)
    ends = now + dt.timedelta(days=days)
    event = _move_list(plist, L.NOTICE, actor=actor, kind=E.NOTICE, now=now, notice_starts_at=now, notice_ends_at=ends)
    company_ids = plist.entries.values_list("company_id", flat=True)
    notify(
        _company_staff(company_ids),
        title=f"红黑榜公示：{Period.parse(plist.period).label}",
        body=f"公示至 {timezone.localtime(ends):%Y-%m-%d %H:%M}，对黑榜评定有异议的可在公示期内申诉。",
        url="/property/lists/",
        dedupe_key=f"plist:{plist.pk}:event:{event.pk}",
    )
    return plist


def appeal_list_entry(entry: ListEntry, *, actor, statement: str, now: dt.datetime | None = None) -> ListEntry:
    """申诉: the listed company's staff appeal a black entry with a statement, during the notice period."""
    now = now or timezone.now()
    s = actor.scope if actor is not None else None
    if s is None or entry.company_id not in s.company_ids:
        raise NotAllowed(_("只有被列入榜单的物业公司可以申诉"))
    statement = (statement or "").strip()
    if not statement:
        raise DomainError(_("请填写申诉理由"), code="statement")
    if len(statement) > 2000:
        raise DomainError(_("申诉理由不能超过2000字"), code="statement")
    if entry.kind != ListEntry.Kind.BLACK:
        raise DomainError(_("只能对黑榜评定申诉"), code="kind")
    plist = entry.plist
    if plist.status != L.NOTICE or plist.notice_ends_at is None or now >= plist.notice_ends_at:
        raise Conflict(_("不在公示期内，不能申诉"), code="not_in_notice")
    event = _move_entry(
        entry,
        N.APPEALED,
        actor=actor,
        kind=E.APPEAL,
        now=now,
        note=statement,
        appeal_statement=statement,
        appealed_at=now,
        appealed_by=actor,
    )
    notify(
        _town_admins(plist.town_id),
        title=f"红黑榜申诉：{entry.company_name}",
        body=statement[:200],
        url=f"/property-lists/{plist.pk}/",
        dedupe_key=f"listentry:{entry.pk}:event:{event.pk}",
    )
    return entry


def decide_list_appeal(
    entry: ListEntry, *, actor, upheld: bool, note: str, now: dt.datetime | None = None
) -> ListEntry:
    """复核: a town admin decides an appeal — upheld removes the company from the list, rejected keeps it."""
    now = now or timezone.now()
    if not _town_admin(actor, entry.plist.town_id):
        raise NotAllowed(_("只有街道/镇管理员可以复核申诉"))
    note = (note or "").strip()
    if not note:
        raise DomainError(_("请填写复核意见"), code="note")
    if entry.plist.status != L.NOTICE:
        raise Conflict(_("榜单不在公示期，不能复核申诉"), code="not_in_notice")
    event = _move_entry(
        entry,
        N.REMOVED if upheld else N.CONFIRMED,
        actor=actor,
        kind=E.DECISION,
        now=now,
        note=note[:500],
        decision_note=note[:500],
        decided_at=now,
        decided_by=actor,
    )
    notify(
        _company_staff([entry.company_id]),
        title=f"申诉复核结果：{'申诉成立，已移出黑榜' if upheld else '申诉未采纳，维持黑榜'}",
        body=note[:200],
        url="/property/lists/",
        dedupe_key=f"listentry:{entry.pk}:event:{event.pk}",
    )
    return entry


def publish_property_list(plist: PropertyList, *, actor, now: dt.datetime | None = None) -> PropertyList:
    """发布: after the notice period, with every appeal decided, the list goes public with its reasons."""
    now = now or timezone.now()
    if not _town_admin(actor, plist.town_id):
        raise NotAllowed(_("只有街道/镇管理员可以发布红黑榜"))
    if plist.status == L.NOTICE and plist.notice_ends_at and now < plist.notice_ends_at:
        raise Conflict(
            _("公示期至 %(ends)s，公示期满后才能发布")
            % {"ends": f"{timezone.localtime(plist.notice_ends_at):%Y-%m-%d %H:%M}"},
            code="in_notice",
        )
    pending = plist.entries.filter(status=N.APPEALED).count()
    if pending:
        raise Conflict(_("还有 %(count)s 项申诉未复核") % {"count": pending}, code="appeals_pending")
    event = _move_list(plist, L.PUBLISHED, actor=actor, kind=E.PUBLISHED, now=now, published_at=now)
    notify(
        _company_staff(plist.entries.values_list("company_id", flat=True)),
        title=f"红黑榜已发布：{Period.parse(plist.period).label}",
        url="/property/lists/",
        dedupe_key=f"plist:{plist.pk}:event:{event.pk}",
    )
    return plist


def withdraw_property_list(plist: PropertyList, *, actor, reason: str, now: dt.datetime | None = None):
    """撤销: a town admin withdraws a list (proposed, under notice or published) with a reason."""
    now = now or timezone.now()
    if not _town_admin(actor, plist.town_id):
        raise NotAllowed(_("只有街道/镇管理员可以撤销红黑榜"))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写撤销原因"), code="reason")
    _move_list(plist, L.WITHDRAWN, actor=actor, kind=E.WITHDRAWN, now=now, note=reason[:500])
    return plist


# --- the dashboards' daily roll-up ------------------------------------------------------------------------


def replace_order_event_days(first: dt.date, last: dt.date, *, rows: list, actor=None, mark: bool = False) -> int:
    """Replace the OrderEventDay rows of the days first..last with `rows` (computed by
    linli.reports.dashboard_rollup.day_rows) in one transaction; with `mark`, move the roll-up's
    mark to `last`.

    Derived data, like a cache: no event is written and no actor is needed (`actor` is accepted for
    the actions' common signature); rebuilding days any number of times gives the same rows.
    """
    from linli.reports.models import OrderEventDay, OrderEventDayMark

    with transaction.atomic():
        OrderEventDay.objects.filter(day__gte=first, day__lte=last).delete()
        OrderEventDay.objects.bulk_create(rows, batch_size=2000)
        if mark:
            OrderEventDayMark.objects.update_or_create(pk=1, defaults={"through": last, "built_at": timezone.now()})
    return len(rows)
