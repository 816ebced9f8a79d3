"""Reading the ledgers: totals, stars, targets and pace. Read-only; every total is a SUM of rows.

Nothing here stores a balance. Pages, reports and the API call these functions so that a
number shown anywhere is the same SUM over the same rows.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from linli.credits.models import (
    DEFAULT_BASE_SCORE,
    DEFAULT_TARGET_HOURS,
    CreditSettings,
    PointEntry,
    ServiceKind,
    ServiceRecord,
)
from linli.lib import workcal

ZERO = Decimal("0.0")
_TENTH = Decimal("0.1")
_HOURS = DecimalField(max_digits=10, decimal_places=1)


# --- settings and pure rules ------------------------------------------------------------------


def settings_for(town_id) -> CreditSettings:
    """The town's settings row, or the defaults (unsaved) when the town has none."""
    if town_id is None:
        return CreditSettings(target_hours=DEFAULT_TARGET_HOURS, base_score=DEFAULT_BASE_SCORE)
    found = CreditSettings.objects.filter(town_id=town_id).first()
    return found or CreditSettings(town_id=town_id)


def star_level(hours: Decimal, thresholds) -> int:
    """Volunteer stars (0–5) for cumulative volunteer-service hours."""
    return sum(1 for threshold in thresholds if hours >= threshold)


def rating_stars(score: Decimal, bands) -> int:
    """Annual 星级评定 (0–5) for a year's score: the first band whose minimum the score reaches."""
    for minimum, stars in bands:
        if score >= minimum:
            return stars
    return 0


def year_score(base_score: int, points_sum: Decimal) -> Decimal:
    """A year's score: the base score plus the year's points, never shown below 0.

    The floor is a clamp at read time, not a compensating ledger row: a compensating row would
    have to be re-computed whenever an earlier entry (a correction, a late deduction) arrives,
    and the ledger sum would stop meaning "what the rules gave". The raw sum stays visible
    beside the score.
    """
    return max(ZERO, Decimal(base_score) + points_sum).quantize(_TENTH)


def working_days_after(start: dt.date, end: dt.date, cal: workcal.Calendar | None = None) -> int:
    """Working days in (start, end]: how long after the service a record was entered.

    With `cal=None` weekends are the only days off; callers that know the town's holidays and
    make-up days (the orders app: town_calendar) pass them in, because credits may not read
    the orders app's Holiday table.
    """
    cal = cal or workcal.Calendar()
    if end <= start:
        return 0
    days = 0
    day = start + dt.timedelta(days=1)
    while day <= end:
        if cal.is_workday(day):
            days += 1
        day += dt.timedelta(days=1)
    return days


def year_fraction(year: int, today: dt.date) -> Decimal:
    """The fraction of `year` elapsed by the end of `today` (0 before it starts, 1 after it ends)."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    if today < start:
        return Decimal(0)
    if today >= end:
        return Decimal(1)
    return Decimal((today - start).days + 1) / Decimal((end - start).days + 1)


# --- sums for one member --------------------------------------------------------------------------


def _tenths(value) -> Decimal:
    # SQLite's SUM loses the scale (7 rather than 7.0): every total is shown with one decimal.
    return Decimal(value or 0).quantize(_TENTH)


def _sum_hours(qs) -> Decimal:
    return _tenths(qs.aggregate(total=Coalesce(Sum("hours"), Value(ZERO), output_field=_HOURS))["total"])


def hours_in_year(member_id: int, year: int, *, kind: str | None = None) -> Decimal:
    qs = ServiceRecord.objects.filter(member_id=member_id, service_date__year=year)
    if kind:
        qs = qs.filter(kind=kind)
    return _sum_hours(qs)


def volunteer_hours_total(member_id: int, *, until: dt.date | None = None) -> Decimal:
    """Cumulative volunteer-service hours (adjustments included): the basis of volunteer stars."""
    qs = ServiceRecord.objects.filter(member_id=member_id, kind=ServiceKind.VOLUNTEER)
    if until is not None:
        qs = qs.filter(service_date__lte=until)
    return _sum_hours(qs)


def effective_hours(record: ServiceRecord) -> Decimal:
    """A record's hours after its corrections (the original plus its adjustment rows)."""
    original = record.corrects_id or record.pk
    return _sum_hours(ServiceRecord.objects.filter(Q(pk=original) | Q(corrects_id=original)))


def points_in_year(member_id: int, year: int) -> Decimal:
    return _tenths(
        PointEntry.objects.filter(member_id=member_id, earned_on__year=year).aggregate(
            total=Coalesce(Sum("points"), Value(ZERO), output_field=_HOURS)
        )["total"]
    )


@dataclass(frozen=True)
class Standing:
    """Everything the member record page shows as a number, each from one SUM."""

    year: int
    target_hours: Decimal
    hours_year: Decimal
    volunteer_hours_year: Decimal
    registration_hours_year: Decimal
    volunteer_hours_total: Decimal
    points_year: Decimal
    base_score: int
    score_year: Decimal
    stars: int
    next_star_hours: Decimal | None
    rating_stars: int
    pace_hours: Decimal
    behind_pace: bool

    @property
    def target_percent(self) -> int:
        if self.target_hours <= 0:
            return 100
        return min(100, int(self.hours_year * 100 / self.target_hours))


def standing(member, year: int, today: dt.date, *, town_id=None) -> Standing:
    """The member's year in numbers: hours by kind vs target, points and score, stars, pace."""
    conf = settings_for(town_id if town_id is not None else _home_town_id(member))
    by_kind = dict(
        ServiceRecord.objects.filter(member=member, service_date__year=year)
        .values_list("kind")
        .annotate(total=Sum("hours"))
        .values_list("kind", "total")
    )
    volunteer_year = _tenths(by_kind.get(ServiceKind.VOLUNTEER))
    registration_year = _tenths(by_kind.get(ServiceKind.REGISTRATION))
    hours_year = volunteer_year + registration_year
    total_volunteer = volunteer_hours_total(member.pk)
    thresholds = conf.thresholds
    stars = star_level(total_volunteer, thresholds)
    points = points_in_year(member.pk, year)
    score = year_score(conf.base_score, points)
    pace = (conf.target_hours * year_fraction(year, today)).quantize(Decimal("0.1"))
    return Standing(
        year=year,
        target_hours=conf.target_hours,
        hours_year=hours_year,
        volunteer_hours_year=volunteer_year,
        registration_hours_year=registration_year,
        volunteer_hours_total=total_volunteer,
        points_year=points,
        base_score=conf.base_score,
        score_year=score,
        stars=stars,
        next_star_hours=thresholds[stars] if stars < len(thresholds) else None,
        rating_stars=rating_stars(score, conf.bands),
        pace_hours=pace,
        behind_pace=hours_year < pace,
    )


def _home_town_id(member):
    return member.home_community.town_id if member.home_community_id else None


# --- many members at once (community and unit pages) -------------------------------------------------


def with_year_hours(queryset, year: int):
    """Annotate members with `year_hours`: their service hours of both kinds in `year` (one subquery)."""
    per_member = (
        ServiceRecord.objects.filter(member=OuterRef("pk"), service_date__year=year)
        .order_by()
        .values("member")
        .annotate(total=Sum("hours"))
        .values("total")
    )
    return queryset.annotate(year_hours=Coalesce(Subquery(per_member, output_field=_HOURS), Value(ZERO)))


def members_behind_pace(queryset, year: int, today: dt.date, *, town=None):
    """Members of `queryset` whose hours in `year` are below pace, annotated with `year_hours`.

    Pace = the annual target (the town's setting, default 20 hours) × the fraction of the
    year elapsed by `today`. Usable by community and unit pages on any Member queryset.
    """
    conf = settings_for(getattr(town, "pk", town))
    pace = (conf.target_hours * year_fraction(year, today)).quantize(Decimal("0.1"))
    return with_year_hours(queryset, year).filter(year_hours__lt=pace)
