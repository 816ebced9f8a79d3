"""The only way a credits view obtains a member's record, a service record, a correction or a certificate.

Who may see a member's service record: the member themself; staff (and town admins) of a
community the member registered with or lives in; the admin of the member's unit only if the
member consented to reports to their unit (PIPL art. 23: consent_report_at). Anything else is a
404, like every object outside a user's scope.
"""

from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from linli.credits.models import Certificate, CorrectionRequest, ServiceRecord
from linli.lib.errors import NotAllowed
from linli.people.access import get_member_for_user
from linli.people.models import Member, Registration


def manages_member(scope, member: Member) -> bool:
    """Staff or town admin of a community the member asked to register or is registered with (or
    lives in)."""
    if scope.superuser:
        return True
    if not (scope.community_ids or scope.town_ids):
        return False
    home = member.home_community
    if home is not None and (home.pk in scope.community_ids or home.town_id in scope.town_ids):
        return True
    # Only a live registration (asked for or approved): a declined or withdrawn one gives the
    # community no hold on the member's records.
    return (
        Registration.objects.filter(member=member, status__in=Registration.LIVE_STATUSES)
        .filter(Q(community_id__in=scope.community_ids) | Q(community__town_id__in=scope.town_ids))
        .exists()
    )


def record_viewer(scope, member: Member) -> str | None:
    """How a user may see a member's record: "self", "staff", "unit" or None."""
    if member.pk == scope.member_id:
        return "self"
    if manages_member(scope, member):
        return "staff"
    if member.unit_id is not None and member.unit_id in scope.unit_ids and member.consent_report_at is not None:
        return "unit"
    return None


def get_member_record_for_user(request, pk, *, write: bool = False) -> Member:
    """The member whose service record the user may see (see the module docstring); else 404."""
    member = get_member_for_user(request, pk)
    if record_viewer(request.user.scope, member) is None:
        raise Http404
    return member


def get_service_record_for_user(request, pk, *, write: bool = False) -> ServiceRecord:
    """A service record of a member whose record the user may see; write=True: the member or their staff."""
    record = get_object_or_404(ServiceRecord.objects.select_related("member", "community", "corrects"), pk=pk)
    viewer = record_viewer(request.user.scope, get_member_for_user(request, record.member_id))
    if viewer is None:
        raise Http404
    if write and viewer == "unit":
        raise NotAllowed(_("单位管理员不能更正服务记录"))
    return record


def get_correction_for_user(request, pk, *, write: bool = False) -> CorrectionRequest:
    """A correction request: its member and the community's staff see it; write=True: staff only."""
    qs = CorrectionRequest.objects.select_related("record", "member__user", "community__town")
    correction = get_object_or_404(qs, pk=pk)
    s = request.user.scope
    staff = s.superuser or correction.community_id in s.community_ids or correction.community.town_id in s.town_ids
    if not staff and correction.member_id != s.member_id:
        raise Http404
    if write and not staff:
        raise NotAllowed(_("只有该社区的工作人员可以审核更正"))
    return correction


def get_certificate_for_user(request, pk, *, write: bool = False) -> Certificate:
    """A certificate: its member and the issuing community's staff (or town admin)."""
    certificate = get_object_or_404(Certificate.objects.select_related("community", "member"), pk=pk)
    s = request.user.scope
    staff = s.superuser or certificate.community_id in s.community_ids or certificate.community.town_id in s.town_ids
    if not staff and certificate.member_id != s.member_id:
        raise Http404
    return certificate


def find_certificate_by_code(code: str) -> Certificate | None:
    """The certificate with this verification code, for the public check (no login, by design).

    The page built on it shows only the masked name, the hours and the issuer; codes are 10
    characters from a 32-letter alphabet, too many to guess.
    """
    return Certificate.objects.filter(code=code).first()
