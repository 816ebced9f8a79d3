"""Building feedback reports to units and scoring property companies: read-only, by SQL aggregation.

* `Period` — monthly, quarterly (default), half-yearly and yearly periods with their codes
  ("2026-07", "2026Q3", "2026H2", "2026").
* `unit_feedback(unit, period)` — the rows and the summary of a unit's report: one annotated
  query over the unit's consenting members (a correlated subquery per figure), one for the
  names of those who did not consent, one prefetch of registered communities. Never a query
  per member.
* `company_scores(town, period)` — every property company of a town scored from residents'
  ratings of property orders, resolve-in-time and reopen rates and staff inspections: one
  annotated query.
* Access helpers: the only way the feedback and list pages obtain a unit, a report, a town, a
  company, a list or a list entry (outside the user's scope: 404).

Privacy (PIPL art. 23; docs/feedback.md): a member's figures reach the unit only when the member
consented (`Member.consent_report_at`). Minors (under 18 on 1 January of the report's year)
would need a guardian's consent, which Linli does not record: they count as not consenting.
Members who did not consent appear by name only, and are left out of every sum and ratio.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Avg, DecimalField, F, FloatField, OuterRef, Prefetch, Subquery, Sum
from django.db.models import Value as V
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.activities.models import SignUp
from linli.credits import ledger
from linli.credits.models import PointEntry, ServiceKind, ServiceRecord
from linli.orders.models import Order, OrderEvent, Rating
from linli.orders.models import Status as S
from linli.orgs.models import Estate, PropertyCompany, Town, Unit
from linli.people.models import Member, Registration
from linli.reports.models import (
    DEFAULT_DECLINE_THRESHOLD,
    DEFAULT_PRESET,
    FeedbackSettings,
    Inspection,
    ListEntry,
    ListRule,
    Preset,
    PropertyList,
    UnitReport,
)
from linli.reports.queries import _count

ZERO = Decimal("0.0")
_TENTH = Decimal("0.1")
_DEC = DecimalField(max_digits=12, decimal_places=1)
ADULT_AGE = 18
TOP_N = 3

# --- periods ---------------------------------------------------------------------------------------

_MONTHS = {Preset.MONTHLY: 1, Preset.QUARTERLY: 3, Preset.HALF_YEARLY: 6, Preset.YEARLY: 12}
_CODE = re.compile(r"^(?P<year>\d{4})(?:(?:-|M)(?P<month>\d{1,2})|Q(?P<quarter>[1-4])|H(?P<half>[12]))?$")


@dataclass(frozen=True)
class Period:
    """A calendar period: `index` is the month, quarter or half of `year` (1 for a year)."""

    preset: str
    year: int
    index: int = 1

    def __post_init__(self):
        per_year = 12 // _MONTHS[self.preset]
        if not 1 <= self.index <= per_year or not 2000 <= self.year <= 2999:
            raise ValueError(f"no such period: {self.preset} {self.year}/{self.index}")

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, (self.index - 1) * _MONTHS[self.preset] + 1, 1)

    @property
    def end(self) -> dt.date:
        """The day after the period (exclusive end)."""
        return self.next().start

    @property
    def last(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def code(self) -> str:
        if self.preset == Preset.MONTHLY:
            return f"{self.year}-{self.index:02d}"
        if self.preset == Preset.QUARTERLY:
            return f"{self.year}Q{self.index}"
        if self.preset == Preset.HALF_YEARLY:
            return f"{self.year}H{self.index}"
        return f"{self.year}"

    @property
    def label(self) -> str:
        if self.preset == Preset.MONTHLY:
            return _("%(y)d年%(m)d月") % {"y": self.year, "m": self.index}
        if self.preset == Preset.QUARTERLY:
            return _("%(y)d年第%(q)d季度") % {"y": self.year, "q": self.index}
        if self.preset == Preset.HALF_YEARLY:
            return (_("%(y)d年上半年") if self.index == 1 else _("%(y)d年下半年")) % {"y": self.year}
        return _("%(y)d年度") % {"y": self.year}

    def __str__(self):
        return self.code

    def next(self) -> "Period":
        per_year = 12 // _MONTHS[self.preset]
        if self.index < per_year:
            return Period(self.preset, self.year, self.index + 1)
        return Period(self.preset, self.year + 1, 1)

    def previous(self) -> "Period":
        if self.index > 1:
            return Period(self.preset, self.year, self.index - 1)
        return Period(self.preset, self.year - 1, 12 // _MONTHS[self.preset])

    @classmethod
    def containing(cls, preset: str, day: dt.date) -> "Period":
        return cls(preset, day.year, (day.month - 1) // _MONTHS[preset] + 1)

    @classmethod
    def last_completed(cls, preset: str, today: dt.date) -> "Period":
        """The latest period that has ended by `today` (today's own period is still running)."""
        return cls.containing(preset, today).previous()

    @classmethod
    def recent(cls, preset: str, today: dt.date, n: int) -> list["Period"]:
        """The last `n` completed periods, newest first."""
        periods = [cls.last_completed(preset, today)]
        while len(periods) < n:
            periods.append(periods[-1].previous())
        return periods

    @classmethod
    def parse(cls, code: str) -> "Period":
        """ "2026Q3", "2026-07" (or "2026M07"), "2026H2", "2026"; ValueError for anything else."""
        match = _CODE.match((code or "").strip().upper())
        if not match:
            raise ValueError(f"period code not understood: {code!r}")
        year = int(match["year"])
        if match["month"]:
            return cls(Preset.MONTHLY, year, int(match["month"]))
        if match["quarter"]:
            return cls(Preset.QUARTERLY, year, int(match["quarter"]))
        if match["half"]:
            return cls(Preset.HALF_YEARLY, year, int(match["half"]))
        return cls(Preset.YEARLY, year, 1)


def aware(day: dt.date) -> dt.datetime:
    """Local midnight at the start of `day`, as an aware datetime (periods are local days)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def feedback_settings(town_id) -> FeedbackSettings:
    """The town's feedback settings, or the defaults (unsaved) when it has none."""
    found = FeedbackSettings.objects.filter(town_id=town_id).first() if town_id else None
    return found or FeedbackSettings(
        town_id=town_id, preset=DEFAULT_PRESET, decline_threshold=DEFAULT_DECLINE_THRESHOLD
    )


def list_rule(town_id) -> ListRule:
    """The town's red/black list rule, or the defaults (unsaved)."""
    return ListRule.objects.filter(town_id=town_id).first() or ListRule(town_id=town_id)


# --- a unit's members, by SQL aggregation ----------------------------------------------------------


def _tenths(value) -> Decimal:
    # SQLite's SUM comes back as int or float: every figure is shown with one decimal.
    return Decimal(str(value or 0)).quantize(_TENTH)


def _sum(queryset, group_by: str, column: str = "hours"):
    """A correlated `SUM(column)` subquery over `queryset` grouped by `group_by` (0 when no rows)."""
    summed = queryset.order_by().values(group_by).annotate(t=Sum(column)).values("t")
    return Coalesce(Subquery(summed, output_field=_DEC), V(ZERO), output_field=_DEC)


def with_figures(members, *, start: dt.date, end: dt.date, year_start: dt.date):
    """Annotate members with their figures for [start, end) and the year to date [year_start, end).

    One SQL statement whatever the number of members: each figure is a correlated subquery.
    """
    s_at, e_at = aware(start), aware(end)
    m = OuterRef("pk")
    records = ServiceRecord.objects.filter(member=m)
    in_period = records.filter(service_date__gte=start, service_date__lt=end)
    points = PointEntry.objects.filter(member=m, earned_on__lt=end)
    events = OrderEvent.objects.filter(member=m, at__gte=s_at, at__lt=e_at)
    # Only transitions lead to CLAIMED, RESOLVED or CLOSED, so `kind` is left out of these
    # filters: with it, SQLite walks the (kind, at) index over every event of the period for
    # each member instead of the member's own (member, kind) rows.
    # A closing event names no member: the rating goes to the member who held the order.
    closings = OrderEvent.objects.filter(order__assignee=m, to_status=S.CLOSED, at__gte=s_at, at__lt=e_at)
    registered = Registration.objects.filter(member=m, status=Registration.Status.APPROVED, decided_at__lt=e_at)
    no_shows = SignUp.objects.filter(
        member=m, status=SignUp.Status.NO_SHOW, shift__starts_at__gte=s_at, shift__starts_at__lt=e_at
    )
    return members.annotate(
        n_registrations=_count(registered, "member"),
        volunteer_hours=_sum(in_period.filter(kind=ServiceKind.VOLUNTEER), "member"),
        registration_hours=_sum(in_period.filter(kind=ServiceKind.REGISTRATION), "member"),
        year_hours=_sum(records.filter(service_date__gte=year_start, service_date__lt=end), "member"),
        volunteer_total=_sum(records.filter(kind=ServiceKind.VOLUNTEER, service_date__lt=end), "member"),
        period_points=_sum(points.filter(earned_on__gte=start), "member", "points"),
        year_points=_sum(points.filter(earned_on__gte=year_start), "member", "points"),
        taken=_count(events.filter(to_status=S.CLAIMED), "member"),
        resolved=_count(events.filter(to_status=S.RESOLVED), "member"),
        declined=_count(events.filter(data__declined=True), "member"),
        satisfied=_count(closings.filter(data__rating=Rating.SATISFIED), "order__assignee"),
        basically=_count(closings.filter(data__rating=Rating.BASICALLY), "order__assignee"),
        unsatisfied=_count(events.filter(kind=OrderEvent.Kind.REOPEN, data__rating=Rating.UNSATISFIED), "member"),
        no_shows=_count(no_shows, "member"),
    )


def consenting(members, *, year_start: dt.date, now: dt.datetime):
    """Members whose figures may go to their unit: consent recorded, and adult on `year_start`."""
    adult_born_by = _years_before(year_start, ADULT_AGE)
    return members.filter(consent_report_at__isnull=False, consent_report_at__lte=now, birth_date__lte=adult_born_by)


def _registered_communities():
    approved = Registration.objects.filter(status=Registration.Status.APPROVED).select_related("community")
    return Prefetch("registrations", queryset=approved.order_by("community__code", "id"), to_attr="approved_regs")


@dataclass
class Feedback:
    """A unit's rows (one per member) and its summary, as plain JSON-able values."""

    rows: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)


def unit_feedback(
    unit: Unit,
    *,
    start: dt.date,
    end: dt.date,
    now: dt.datetime | None = None,
    pace_day: dt.date | None = None,
    decline_threshold: int | None = None,
) -> Feedback:
    """Rows and summary for the unit's members over [start, end).

    Year-to-date figures (hours vs the annual target, points, score) run from 1 January of the
    year of the period's last day to `end`; pace is the annual target × the part of the year
    elapsed by `pace_day` (default: the period's last day). Three queries in all.
    """
    now = now or timezone.now()
    last = end - dt.timedelta(days=1)
    pace_day = pace_day or last
    year_start = dt.date(last.year, 1, 1)
    conf = ledger.settings_for(unit.town_id)
    threshold = (
        decline_threshold if decline_threshold is not None else feedback_settings(unit.town_id).decline_threshold
    )
    pace = (conf.target_hours * ledger.year_fraction(last.year, pace_day)).quantize(_TENTH)

    members = Member.objects.filter(unit=unit)
    allowed = consenting(members, year_start=year_start, now=now)
    annotated = (
        with_figures(allowed, start=start, end=end, year_start=year_start)
        .prefetch_related(_registered_communities())
        .order_by("name", "member_no")
    )
    rows = [_member_row(m, conf=conf, pace=pace, threshold=threshold) for m in annotated]
    rows.sort(key=lambda r: (-Decimal(r["hours"]), r["name"], r["member_no"]))

    adult_born_by = _years_before(year_start, ADULT_AGE)
    withheld = (
        members.exclude(pk__in=allowed.values("pk"))
        .order_by("name", "member_no")
        .values_list("pk", "member_no", "name", "birth_date")
    )
    for pk, member_no, name, born in withheld:
        rows.append(
            {
                "member_id": pk,
                "member_no": member_no,
                "name": name,
                "consent": False,
                "reason": "minor" if born > adult_born_by else "no_consent",
            }
        )
    return Feedback(
        rows=rows,
        summary=_summary(
            unit,
            rows,
            conf=conf,
            pace=pace,
            threshold=threshold,
            start=start,
            last=last,
            pace_day=pace_day,
        ),
    )


def _member_row(m, *, conf, pace: Decimal, threshold: int) -> dict:
    volunteer, registration = _tenths(m.volunteer_hours), _tenths(m.registration_hours)
    hours = volunteer + registration
    year_hours = _tenths(m.year_hours)
    score = ledger.year_score(conf.base_score, _tenths(m.year_points))
    flags = []
    if m.n_registrations and hours == 0 and m.resolved == 0:
        flags.append("not_serving")
    if year_hours < pace:
        flags.append("behind_pace")
    if m.declined > threshold:
        flags.append("declines")
    if m.no_shows:
        flags.append("no_shows")
    target = conf.target_hours
    return {
        "member_id": m.pk,
        "member_no": m.member_no,
        "name": m.name,
        "consent": True,
        "communities": [r.community.name for r in m.approved_regs],
        "registrations": m.n_registrations,
        "volunteer_hours": str(volunteer),
        "registration_hours": str(registration),
        "hours": str(hours),
        "year_hours": str(year_hours),
        "target_percent": 100 if target <= 0 else min(100, int(year_hours * 100 / target)),
        "taken": m.taken,
        "resolved": m.resolved,
        "satisfied": m.satisfied,
        "basically": m.basically,
        "unsatisfied": m.unsatisfied,
        "declined": m.declined,
        "no_shows": m.no_shows,
        "points": str(_tenths(m.period_points)),
        "year_points": str(_tenths(m.year_points)),
        "score_year": str(score),
        "stars": ledger.star_level(_tenths(m.volunteer_total), conf.thresholds),
        "rating_stars": ledger.rating_stars(score, conf.bands),
        "flags": flags,
    }


def _summary(unit, rows, *, conf, pace, threshold, start, last, pace_day) -> dict:
    shown = [r for r in rows if r["consent"]]
    registered = [r for r in shown if r["registrations"]]
    active = [r for r in registered if "not_serving" not in r["flags"]]
    by_hours = sorted(shown, key=lambda r: (-Decimal(r["hours"]), r["name"], r["member_no"]))
    top = [r for r in by_hours if Decimal(r["hours"]) > 0][:TOP_N]
    top_ids = {r["member_id"] for r in top}
    bottom = sorted(
        (r for r in registered if r["member_id"] not in top_ids),
        key=lambda r: (Decimal(r["hours"]), r["name"], r["member_no"]),
    )[:TOP_N]

    def total(key):
        return str(sum((Decimal(r[key]) for r in shown), ZERO))

    def brief(r):
        return {"member_id": r["member_id"], "name": r["name"], "hours": r["hours"]}

    return {
        "unit_name": unit.name,
        "party_branch": unit.party_branch,
        "start": start.isoformat(),
        "last": last.isoformat(),
        "pace_day": pace_day.isoformat(),
        "target_hours": str(conf.target_hours),
        "pace_hours": str(pace),
        "decline_threshold": threshold,
        "members": len(rows),
        "consented": len(shown),
        "not_consented": sum(1 for r in rows if not r["consent"] and r["reason"] == "no_consent"),
        "minors": sum(1 for r in rows if not r["consent"] and r["reason"] == "minor"),
        "registered": len(registered),
        "active": len(active),
        "not_serving": len(registered) - len(active),
        # 报到多下沉少: the share of registered members who served in the period.
        "active_percent": None if not registered else round(len(active) * 100 / len(registered), 1),
        "volunteer_hours": total("volunteer_hours"),
        "registration_hours": total("registration_hours"),
        "hours": total("hours"),
        "resolved": sum(r["resolved"] for r in shown),
        "behind_pace": sum(1 for r in shown if "behind_pace" in r["flags"]),
        "declines": sum(1 for r in shown if "declines" in r["flags"]),
        "no_shows": sum(1 for r in shown if "no_shows" in r["flags"]),
        "top": [brief(r) for r in top],
        "bottom": [brief(r) for r in bottom],
    }


def behind_pace_members(unit: Unit, *, today: dt.date, now: dt.datetime | None = None):
    """Consenting adult members of `unit` with an account whose hours this year are below pace."""
    now = now or timezone.now()
    year = today.year
    members = consenting(Member.objects.filter(unit=unit, user__isnull=False), year_start=dt.date(year, 1, 1), now=now)
    return ledger.members_behind_pace(members, year, today, town=unit.town_id).select_related("user")


# --- property companies ----------------------------------------------------------------------------

COMPONENTS = ("satisfaction", "on_time", "reopen", "inspection")


@dataclass
class CompanyScore:
    company_id: int
    name: str
    estates: list[str]
    orders: int
    due: int
    on_time: int
    satisfied: int
    unsatisfied: int
    resolutions: int
    reopens: int
    inspections: int
    inspection_avg: Decimal | None
    components: dict
    score: Decimal | None
    eligible: bool
    kind: str  # "red", "black" or ""
    reasons: list[str]

    def as_json(self) -> dict:
        return {
            "company_id": self.company_id,
            "name": self.name,
            "estates": self.estates,
            "figures": self.figures(),
            "score": None if self.score is None else str(self.score),
            "eligible": self.eligible,
            "kind": self.kind,
            "reasons": self.reasons,
        }

    def figures(self) -> dict:
        return {
            "orders": self.orders,
            "due": self.due,
            "on_time": self.on_time,
            "satisfied": self.satisfied,
            "unsatisfied": self.unsatisfied,
            "resolutions": self.resolutions,
            "reopens": self.reopens,
            "inspections": self.inspections,
            "inspection_avg": None if self.inspection_avg is None else str(self.inspection_avg),
            "components": {k: None if v is None else str(v) for k, v in self.components.items()},
        }


def _percent(num: int, den: int) -> Decimal | None:
    return None if not den else (Decimal(num) * 100 / Decimal(den)).quantize(_TENTH)


def company_scores(town: Town, *, period: Period, rule: ListRule, now: dt.datetime | None = None):
    """Every property company of the town with its figures, score and proposed list, best first.

    Orders are the town's property orders (category.is_property) in estates the company serves
    now (order.household.building.estate.company). In the period [start, end):
    * satisfaction = closings rated 满意/基本满意 ÷ (those + 不满意 ratings, which reopen);
    * on time = orders accepted in the period and due by its end (or now) resolved by their deadline;
    * not reopened = 1 − reopenings ÷ resolutions;
    * inspection = the mean of staff inspection scores.
    A company with fewer than `rule.min_orders` accepted orders is not scored onto a list.
    """
    now = now or timezone.now()
    s_at, e_at = aware(period.start), aware(period.end)
    due_by = min(e_at, now)
    c = OuterRef("pk")
    path = "household__building__estate__company"
    orders = Order.objects.filter(category__is_property=True, **{path: c}, accepted_at__gte=s_at, accepted_at__lt=e_at)
    due = orders.filter(resolve_by__lt=due_by)
    events = OrderEvent.objects.filter(
        order__category__is_property=True, **{f"order__{path}": c}, at__gte=s_at, at__lt=e_at
    )
    good = [Rating.SATISFIED, Rating.BASICALLY]
    inspections = Inspection.objects.filter(company=c, date__gte=period.start, date__lt=period.end)
    mean = inspections.order_by().values("company").annotate(a=Avg("score")).values("a")
    estates = Prefetch("estates", queryset=Estate.objects.order_by("name", "id"), to_attr="served")
    companies = (
        PropertyCompany.objects.filter(town=town)
        .annotate(
            n_orders=_count(orders, path),
            n_due=_count(due, path),
            n_on_time=_count(due.filter(resolved_at__lte=F("resolve_by")), path),
            n_satisfied=_count(
                events.filter(kind=OrderEvent.Kind.TRANSITION, to_status=S.CLOSED, data__rating__in=good),
                f"order__{path}",
            ),
            n_unsatisfied=_count(
                events.filter(kind=OrderEvent.Kind.REOPEN, data__rating=Rating.UNSATISFIED), f"order__{path}"
            ),
            n_resolutions=_count(
                events.filter(kind=OrderEvent.Kind.TRANSITION, to_status=S.RESOLVED), f"order__{path}"
            ),
            n_reopens=_count(events.filter(kind=OrderEvent.Kind.REOPEN), f"order__{path}"),
            n_inspections=_count(inspections, "company"),
            inspection_avg=Subquery(mean, output_field=FloatField()),
        )
        .prefetch_related(estates)
        .order_by("name", "id")
    )
    scored = [_score(company, rule) for company in companies]
    scored.sort(key=lambda s: (s.score is None, -(s.score or 0), s.name))
    return scored


def _score(company, rule: ListRule) -> CompanyScore:
    avg = None if company.inspection_avg is None else Decimal(str(company.inspection_avg)).quantize(_TENTH)
    reopen_rate = _percent(min(company.n_reopens, company.n_resolutions), company.n_resolutions)
    components = {
        "satisfaction": _percent(company.n_satisfied, company.n_satisfied + company.n_unsatisfied),
        "on_time": _percent(company.n_on_time, company.n_due),
        "reopen": None if reopen_rate is None else Decimal(100) - reopen_rate,
        "inspection": avg,
    }
    weights = rule.weights
    used = {k: v for k, v in components.items() if v is not None and weights[k] > 0}
    score = None
    if used:
        total = sum(weights[k] for k in used)
        score = (sum(weights[k] * v for k, v in used.items()) / total).quantize(_TENTH)
    eligible = company.n_orders >= rule.min_orders and score is not None
    kind = ""
    if eligible and score >= rule.red_threshold:
        kind = ListEntry.Kind.RED
    elif eligible and score < rule.black_threshold:
        kind = ListEntry.Kind.BLACK
    result = CompanyScore(
        company_id=company.pk,
        name=company.name,
        estates=[e.name for e in company.served],
        orders=company.n_orders,
        due=company.n_due,
        on_time=company.n_on_time,
        satisfied=company.n_satisfied,
        unsatisfied=company.n_unsatisfied,
        resolutions=company.n_resolutions,
        reopens=company.n_reopens,
        inspections=company.n_inspections,
        inspection_avg=avg,
        components=components,
        score=score,
        eligible=eligible,
        kind=kind,
        reasons=[],
    )
    result.reasons = _reasons(result, rule)
    return result


def _reasons(s: CompanyScore, rule: ListRule) -> list[str]:
    """The reasons printed with an entry: the verdict, then each figure with its basis (Chinese, as published)."""
    lines = []
    if not s.eligible:
        if s.score is None:
            lines.append(f"周期内无可评分数据（受理物业类工单 {s.orders} 件）")
        else:
            lines.append(f"周期内受理物业类工单 {s.orders} 件，少于 {rule.min_orders} 件，样本不足，不参评")
    elif s.kind == ListEntry.Kind.RED:
        lines.append(f"综合得分 {s.score}，达到红榜分数线 {rule.red_threshold}")
    elif s.kind == ListEntry.Kind.BLACK:
        lines.append(f"综合得分 {s.score}，低于黑榜分数线 {rule.black_threshold}")
    else:
        lines.append(f"综合得分 {s.score}")
    c = s.components
    if c["satisfaction"] is not None:
        lines.append(f"群众满意率 {c['satisfaction']}%（满意/基本满意 {s.satisfied} 件，不满意 {s.unsatisfied} 件）")
    if c["on_time"] is not None:
        lines.append(f"按时办结率 {c['on_time']}%（到期 {s.due} 件，按时办结 {s.on_time} 件）")
    if c["reopen"] is not None:
        rate = (Decimal(100) - c["reopen"]).quantize(_TENTH)
        lines.append(f"重新办理率 {rate}%（办结 {s.resolutions} 次，重新办理 {s.reopens} 次）")
    if c["inspection"] is not None:
        lines.append(f"巡查平均分 {c['inspection']}（{s.inspections} 次巡查）")
    return lines


# --- access helpers --------------------------------------------------------------------------------


def may_see_unit_feedback(scope, unit: Unit) -> bool:
    """The unit's admins, town admins of the unit's town and superusers."""
    return scope.superuser or unit.pk in scope.unit_ids or (unit.town_id is not None and unit.town_id in scope.town_ids)


def get_unit_for_user(request, pk, *, write: bool = False) -> Unit:
    """A unit whose feedback the user may see and generate (see may_see_unit_feedback); else 404."""
    unit = get_object_or_404(Unit.objects.select_related("town").visible_to(request.user), pk=pk)
    if not may_see_unit_feedback(request.user.scope, unit):
        raise Http404
    return unit


def get_unit_report_for_user(request, pk, *, write: bool = False) -> UnitReport:
    report = get_object_or_404(UnitReport.objects.select_related("unit__town", "generated_by"), pk=pk)
    if not may_see_unit_feedback(request.user.scope, report.unit):
        raise Http404
    return report


def get_property_list_for_user(request, pk, *, write: bool = False) -> PropertyList:
    """A list of a town the user administers; else 404."""
    plist = get_object_or_404(PropertyList.objects.select_related("town"), pk=pk)
    s = request.user.scope
    if not (s.superuser or plist.town_id in s.town_ids):
        raise Http404
    return plist


def get_list_entry_for_user(request, pk, *, write: bool = False) -> ListEntry:
    """An entry: the listed company's staff and the town's admins see it; others get a 404.

    Who may do what with it (a company appeals, the town decides) is the actions' to check.
    """
    entry = get_object_or_404(ListEntry.objects.select_related("plist__town", "company"), pk=pk)
    s = request.user.scope
    if not (s.superuser or entry.plist.town_id in s.town_ids or entry.company_id in s.company_ids):
        raise Http404
    return entry


def find_town_by_code(code: str) -> Town:
    """A town by its code for the public list page (no login, by design: lists are public)."""
    return get_object_or_404(Town, code=code)


def published_lists(town: Town):
    """The town's published lists, newest period first (the public page shows the first)."""
    return PropertyList.objects.filter(town=town, status=PropertyList.Status.PUBLISHED).order_by(
        "-period_start", "-published_at", "-id"
    )
