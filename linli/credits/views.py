"""Pages of the ledgers: a member's service record (and its .xlsx), correction requests and the
community's correction queue, certificates (PDF) and the public certificate check.

parse → access (linli.credits.access) → act (linli.credits.actions) → respond. Every number
on the record page comes from linli.credits.ledger: a SUM over ledger rows, never a stored
balance.
"""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.actions import record_audit
from linli.accounts.models import AuditEntry
from linli.credits import actions, ledger
from linli.credits.access import (
    find_certificate_by_code,
    get_certificate_for_user,
    get_correction_for_user,
    get_member_record_for_user,
    get_service_record_for_user,
    record_viewer,
)
from linli.credits.certificates import FontMissing, render_pdf
from linli.credits.forms import CertificateForm, CorrectionForm, DecisionForm, DeclineForm, VerifyForm
from linli.credits.models import CorrectionRequest, PointEntry, ServiceKind, ServiceRecord
from linli.lib import xlsx
from linli.lib.errors import DomainError, NotAllowed
from linli.orgs.access import get_community_for_user
from linli.orgs.models import Community

YEARS_SHOWN = 5
RECENT_DECIDED = 20


def _year(value, today: dt.date) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        return today.year
    return year if today.year - 50 <= year <= today.year else today.year


def _issue_communities(user, member):
    """Communities where the user may issue this member a certificate: staffed, with volunteer records."""
    volunteered = ServiceRecord.objects.filter(member=member, kind=ServiceKind.VOLUNTEER).values("community_id")
    return Community.objects.staffed_by(user).filter(id__in=volunteered).select_related("town").order_by("code")


@login_required
def member_record(request, pk):
    """A member's service record: the year's ledger rows, hours vs target, points, stars, corrections."""
    member = get_member_record_for_user(request, pk)
    viewer = record_viewer(request.user.scope, member)
    today = timezone.localdate()
    year = _year(request.GET.get("year"), today)
    standing = ledger.standing(member, year, today)
    open_request = CorrectionRequest.objects.filter(record=OuterRef("pk"), status=CorrectionRequest.Status.REQUESTED)
    records = (
        ServiceRecord.objects.filter(member=member, service_date__year=year)
        .select_related("community")
        .annotate(has_open_request=Exists(open_request))
        .order_by("-service_date", "-id")
    )
    points = (
        PointEntry.objects.filter(member=member, earned_on__year=year)
        .select_related("rule")
        .order_by("-earned_on", "-id")
    )
    corrections = CorrectionRequest.objects.filter(member=member).select_related("record").order_by("-requested_at")
    issue_communities = list(_issue_communities(request.user, member)) if viewer == "staff" else []
    return render(
        request,
        "credits/record.html",
        {
            "member": member,
            "viewer": viewer,
            "is_self": viewer == "self",
            "may_correct": viewer in ("self", "staff"),
            "year": year,
            "years": range(today.year, today.year - YEARS_SHOWN, -1),
            "standing": standing,
            "records": records,
            "points": points,
            "stars_range": range(1, 6),
            "star_events": member.star_events.order_by("-at", "-id")[:10],
            "pending_corrections": [c for c in corrections if c.status == CorrectionRequest.Status.REQUESTED],
            "decided_corrections": [c for c in corrections if c.status != CorrectionRequest.Status.REQUESTED][:10],
            "certificates": member.certificates.select_related("community").order_by("-issued_at", "-id")[:20],
            "certificate_form": CertificateForm(
                communities=issue_communities,
                initial={"period_start": dt.date(year, 1, 1), "period_end": min(today, dt.date(year, 12, 31))},
            )
            if issue_communities
            else None,
        },
    )


XLSX_HEADERS = [
    "记录编号",
    "类型",
    "活动名称",
    "服务日期",
    "服务地点",
    "服务内容",
    "服务时长（小时）",
    "组织单位",
    "负责人",
    "来源",
    "来源编号",
    "更正的记录",
    "记录时间",
    "超期录入",
]


@login_required
def member_record_xlsx(request, pk):
    """The member's whole service record (every year, corrections as their own rows) as .xlsx; audited."""
    member = get_member_record_for_user(request, pk)
    kinds = dict(ServiceKind.choices)
    rows = (
        [
            r.pk,
            str(kinds.get(r.kind, r.kind)),
            r.activity_name,
            r.service_date,
            r.place,
            r.content,
            float(r.hours),
            r.organizer,
            r.leader,
            r.get_source_type_display(),
            r.source_id,
            r.corrects_id,
            timezone.localtime(r.recorded_at).strftime("%Y-%m-%d %H:%M"),
            "是" if r.late else "",
        ]
        for r in ServiceRecord.objects.filter(member=member).order_by("service_date", "id").iterator()
    )
    output, count = xlsx.write_table(
        XLSX_HEADERS, rows, title=_("服务记录"), widths=(9, 12, 24, 12, 20, 30, 10, 18, 10, 10, 10, 10, 17, 8)
    )
    record_audit(
        request.user,
        AuditEntry.Action.EXPORT,
        obj=member,
        detail={"register": "service_records", "rows": count},
        request=request,
    )
    return FileResponse(
        output,
        as_attachment=True,
        filename=f"service-record-{member.member_no}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@login_required
def correction_new(request, pk):
    """The member (or their community's staff) asks to correct one record's hours."""
    try:
        record = get_service_record_for_user(request, pk, write=True)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    original = record.corrects or record
    current = ledger.effective_hours(original)
    form = CorrectionForm(request.POST or None, initial={"proposed_hours": current})
    if request.method == "POST" and form.is_valid():
        try:
            actions.request_correction(
                original,
                actor=request.user,
                proposed_hours=form.cleaned_data["proposed_hours"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("更正申请已提交，请等待社区审核。"))
            return redirect(reverse("member_record", args=[original.member_id]) + f"?year={original.service_date.year}")
    return render(request, "credits/correction_form.html", {"record": original, "current": current, "form": form})


@login_required
def correction_queue(request, pk):
    """The community's pending correction requests with approve / decline, and recent decisions."""
    try:
        community = get_community_for_user(request, pk, write=True)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    requests = CorrectionRequest.objects.filter(community=community).select_related("record", "member")
    pending = requests.filter(status=CorrectionRequest.Status.REQUESTED).order_by("requested_at", "id")
    decided = requests.exclude(status=CorrectionRequest.Status.REQUESTED).order_by("-decided_at", "-id")
    return render(
        request,
        "credits/correction_queue.html",
        {"community": community, "pending": pending, "decided": decided[:RECENT_DECIDED], "can_decide": True},
    )


def _correction_to_decide(request, pk):
    """(request, error): 404 outside scope; an error message when the user may not decide."""
    try:
        return get_correction_for_user(request, pk, write=True), None
    except NotAllowed as exc:
        return get_correction_for_user(request, pk), exc.message


def _after_decision(request, correction, ok: str | None, error: str | None):
    if request.htmx:
        return render(
            request,
            "credits/correction_queue.html#row",
            {"c": correction, "row_message": ok, "row_error": error, "can_decide": error is None},
        )
    if ok:
        messages.success(request, ok)
    if error:
        messages.error(request, error)
    return redirect("correction_queue", correction.community_id)


@require_POST
@login_required
def correction_approve(request, pk):
    correction, error = _correction_to_decide(request, pk)
    if error:
        return _after_decision(request, correction, None, error)
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        actions.approve_correction(correction, actor=request.user, note=note)
    except DomainError as exc:
        return _after_decision(request, correction, None, exc.message)
    ok = _("已更正 %(name)s 的服务记录。") % {"name": correction.member.name}
    return _after_decision(request, correction, ok, None)


@require_POST
@login_required
def correction_decline(request, pk):
    correction, error = _correction_to_decide(request, pk)
    if error:
        return _after_decision(request, correction, None, error)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return _after_decision(request, correction, None, _("请填写不通过的原因"))
    try:
        actions.decline_correction(correction, actor=request.user, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        return _after_decision(request, correction, None, exc.message)
    ok = _("已退回 %(name)s 的更正申请。") % {"name": correction.member.name}
    return _after_decision(request, correction, ok, None)


@require_POST
@login_required
def certificate_issue(request, pk):
    """Community staff issue a 志愿服务证明 from the member's volunteer records in a period."""
    member = get_member_record_for_user(request, pk)
    communities = list(_issue_communities(request.user, member))
    form = CertificateForm(request.POST, communities=communities)
    back = reverse("member_record", args=[member.pk])
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    community = next(c for c in communities if c.pk == form.cleaned_data["community"])
    try:
        certificate = actions.issue_certificate(
            member,
            actor=request.user,
            community=community,
            period_start=form.cleaned_data["period_start"],
            period_end=form.cleaned_data["period_end"],
            request=request,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, _("已出具志愿服务证明，编号 %(number)s。") % {"number": certificate.number})
    return redirect(back)


@login_required
def certificate_pdf(request, pk):
    """The certificate as PDF, for its member and the issuing community's staff; others' downloads are audited."""
    certificate = get_certificate_for_user(request, pk)
    try:
        pdf = render_pdf(certificate, verify_url=request.build_absolute_uri(reverse("verify")))
    except FontMissing as exc:
        return HttpResponse(exc.args[0], status=503, content_type="text/plain; charset=utf-8")
    if certificate.member_id != request.user.scope.member_id:
        record_audit(
            request.user, AuditEntry.Action.EXPORT, obj=certificate, detail={"kind": "certificate_pdf"}, request=request
        )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{certificate.number}.pdf"'
    return response


def verify(request, code: str = ""):
    """Public check of a certificate by its code: the masked name, the hours and the issuer, nothing more.

    /verify/?code=… answers on the page; /verify/<code>/ (the link printed on a certificate)
    is a 404 when no certificate has that code.
    """
    raw = code or request.GET.get("code")
    form = VerifyForm({"code": raw}) if raw is not None else VerifyForm()
    checked = form.is_bound and form.is_valid()
    certificate = find_certificate_by_code(form.cleaned_data["code"]) if checked else None
    return render(
        request,
        "credits/verify.html",
        {"form": form, "checked": checked, "certificate": certificate},
        status=404 if code and certificate is None else 200,
    )
