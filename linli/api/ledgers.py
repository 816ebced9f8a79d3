"""A member's ledgers over JSON: service records, points entries, the year's standing and stars,
star changes, correction requests; and asking for a correction.

By default the caller's own ledgers. `member=<id>` reads another member's, through
linli.credits.access.get_member_record_for_user: the member's community staff, or their unit's
admin with the member's consent — anyone else gets 404, exactly as on the record page. Every
number is a SUM over ledger rows (linli.credits.ledger), never a stored balance.
"""

from django.db.models import Exists, OuterRef
from django.http import Http404
from django.utils import timezone
from ninja import Query, Router, Status
from ninja.pagination import paginate

from linli.api.pagination import Pagination
from linli.api.schemas import (
    ERRORS,
    CorrectionIn,
    CorrectionOut,
    LedgerFilters,
    MemberQuery,
    PointEntryOut,
    ServiceRecordFilters,
    ServiceRecordOut,
    StandingOut,
    StandingQuery,
    StarEventOut,
)
from linli.credits import actions, ledger
from linli.credits.access import get_member_record_for_user, get_service_record_for_user
from linli.credits.models import CorrectionRequest, PointEntry, ServiceRecord, StarEvent

router = Router(tags=["ledgers"])


def _member(request, member_id: int | None):
    """The member whose ledgers are read: the one named (if the caller may see their record), else
    the caller's own profile. Not a member and naming nobody: 404."""
    if member_id is None:
        member_id = request.user.scope.member_id
        if not member_id:
            raise Http404("not a member")
    return get_member_record_for_user(request, member_id)


@router.get(
    "/ledger/service-records",
    response={200: list[ServiceRecordOut], **ERRORS},
    operation_id="list_service_records",
    summary="服务记录（志愿服务与下沉/报到服务）",
)
@paginate(Pagination)
def list_service_records(request, filters: Query[ServiceRecordFilters]):
    """Ledger rows, newest service first; a correction is its own row (`corrects_id`, hours may be negative)."""
    member = _member(request, filters.member)
    open_request = CorrectionRequest.objects.filter(record=OuterRef("pk"), status=CorrectionRequest.Status.REQUESTED)
    qs = (
        ServiceRecord.objects.filter(member=member)
        .select_related("community")
        .annotate(has_open_correction=Exists(open_request))
        .order_by("-service_date", "-id")
    )
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.year is not None:
        qs = qs.in_year(filters.year)
    return qs


@router.get(
    "/ledger/points",
    response={200: list[PointEntryOut], **ERRORS},
    operation_id="list_point_entries",
    summary="积分记录",
)
@paginate(Pagination)
def list_point_entries(request, filters: Query[LedgerFilters]):
    """Points entries with the rule that gave them and their source, newest first."""
    member = _member(request, filters.member)
    qs = PointEntry.objects.filter(member=member).select_related("rule").order_by("-earned_on", "-id")
    if filters.year is not None:
        qs = qs.filter(earned_on__year=filters.year)
    return qs


@router.get(
    "/ledger/standing",
    response={200: StandingOut, **ERRORS},
    operation_id="get_standing",
    summary="年度时长、积分、得分和星级",
)
def get_standing(request, query: Query[StandingQuery]):
    """The year's hours by kind against the target and pace, points and score, volunteer stars and the annual rating."""
    member = _member(request, query.member)
    today = timezone.localdate()
    s = ledger.standing(member, query.year or today.year, today)
    hours = (
        "target_hours",
        "hours_year",
        "volunteer_hours_year",
        "registration_hours_year",
        "volunteer_hours_total",
        "points_year",
        "score_year",
        "pace_hours",
    )
    return {
        "member": {"id": member.pk, "name": member.name},
        **{name: float(getattr(s, name)) for name in hours},
        "year": s.year,
        "base_score": s.base_score,
        "stars": s.stars,
        "next_star_hours": float(s.next_star_hours) if s.next_star_hours is not None else None,
        "rating_stars": s.rating_stars,
        "behind_pace": s.behind_pace,
        "target_percent": s.target_percent,
    }


@router.get(
    "/ledger/star-events",
    response={200: list[StarEventOut], **ERRORS},
    operation_id="list_star_events",
    summary="志愿星级变化",
)
@paginate(Pagination)
def list_star_events(request, query: Query[MemberQuery]):
    member = _member(request, query.member)
    return StarEvent.objects.filter(member=member).order_by("-at", "-id")


@router.get(
    "/ledger/corrections",
    response={200: list[CorrectionOut], **ERRORS},
    operation_id="list_corrections",
    summary="服务记录更正申请",
)
@paginate(Pagination)
def list_corrections(request, query: Query[MemberQuery]):
    member = _member(request, query.member)
    return CorrectionRequest.objects.filter(member=member).order_by("-requested_at", "-id")


@router.post(
    "/service-records/{record_id}/corrections",
    response={201: CorrectionOut, **ERRORS},
    operation_id="request_correction",
    summary="申请更正服务记录",
)
def request_correction(request, record_id: int, payload: CorrectionIn):
    """The member (or their community's staff) asks to correct a record's hours; the community
    decides. A correction row's request goes to the original record. 409 if one is already open;
    400 `proposed_hours` if nothing would change."""
    record = get_service_record_for_user(request, record_id, write=True)
    correction = actions.request_correction(
        record.corrects or record, actor=request.user, proposed_hours=payload.proposed_hours, reason=payload.reason
    )
    return Status(201, correction)
