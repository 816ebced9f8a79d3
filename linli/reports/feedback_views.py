"""Pages of feedback to units (信息反馈) and of the red/black lists of property companies (红黑榜).

parse → access (linli.reports.feedback's *_for_user helpers; outside scope is a 404) → act
(linli.reports.actions) → respond. Transitions are POST-only verb URLs. The public list pages
need no login and show companies and estates only, never a person.
"""

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linli.accounts.actions import record_audit
from linli.accounts.models import AuditEntry
from linli.lib import xlsx
from linli.lib.errors import DomainError
from linli.orgs.access import get_town_for_user
from linli.orgs.models import Estate, PropertyCompany, Town, Unit
from linli.reports import actions, feedback, tasks
from linli.reports.feedback import (
    Period,
    find_town_by_code,
    get_list_entry_for_user,
    get_property_list_for_user,
    get_unit_for_user,
    get_unit_report_for_user,
)
from linli.reports.models import Inspection, ListEntry, Preset, PropertyList, UnitReport
from linli.reports.pdf import FontMissing, flag_texts, render_unit_report_pdf

MEMBERS_PER_PAGE = 50
INSPECTIONS_SHOWN = 100
# How many completed periods of each kind the "generate" and "propose" forms offer.
RECENT = {Preset.MONTHLY: 6, Preset.QUARTERLY: 4, Preset.HALF_YEARLY: 2, Preset.YEARLY: 2}
FLAG_LABELS = {
    "not_serving": gettext_lazy("报到未下沉"),
    "behind_pace": gettext_lazy("进度落后"),
    "declines": gettext_lazy("拒单较多"),
    "no_shows": gettext_lazy("活动缺席"),
}


# --- forms (shapes only; the actions enforce the rules) ---------------------------------------------


class PeriodForm(forms.Form):
    period = forms.CharField(max_length=8)

    def clean_period(self):
        try:
            return Period.parse(self.cleaned_data["period"])
        except ValueError:
            raise forms.ValidationError(_("周期无效")) from None


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500)


class StatementForm(forms.Form):
    statement = forms.CharField(max_length=2000)


class DecisionForm(forms.Form):
    upheld = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1")
    note = forms.CharField(max_length=500)


class InspectionForm(forms.Form):
    estate = forms.TypedChoiceField(coerce=int)
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    score = forms.IntegerField(min_value=0, max_value=100)
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, estates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["estate"].choices = [(e.pk, f"{e.name}（{e.company.name}）") for e in estates]


def _form_errors(request, form):
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def _period_choices(preferred: str, today: dt.date, taken=frozenset()):
    """[(preset label, [(code, label, taken)])] with the town's own preset first."""
    order = [preferred] + [p for p in Preset.values if p != preferred]
    return [
        (Preset(p).label, [(q.code, q.label, q.code in taken) for q in Period.recent(p, today, RECENT[p])])
        for p in order
    ]


# --- a unit's members (live) and its reports -------------------------------------------------------


@login_required
def unit_members(request, pk):
    """The unit's members this year: hours by kind vs the annual target, flags; consent respected."""
    unit = get_unit_for_user(request, pk)
    today = timezone.localdate()
    built = feedback.unit_feedback(unit, start=dt.date(today.year, 1, 1), end=today + dt.timedelta(days=1))
    page = Paginator(built.rows, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    threshold = built.summary["decline_threshold"]
    for row in page:
        row["flag_texts"] = flag_texts(row, threshold) if row["consent"] else []
    return render(
        request,
        "reports/feedback_members.html",
        {"unit": unit, "page": page, "summary": built.summary, "year": today.year, "today": today},
    )


@require_POST
@login_required
def unit_remind(request, pk):
    """Remind the unit's consenting members who are behind the annual pace (once a day each)."""
    unit = get_unit_for_user(request, pk, write=True)
    try:
        n = actions.remind_members_behind_pace(unit, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if n:
            messages.success(request, _("已提醒 %(n)d 名进度落后的党员（每人每天最多一次）。") % {"n": n})
        else:
            messages.success(request, _("没有进度落后且同意反馈的党员。"))
    return redirect("unit_members", unit.pk)


@login_required
def unit_reports(request, pk):
    """The unit's reports, newest first, and the form to generate one for a completed period."""
    unit = get_unit_for_user(request, pk)
    reports = list(UnitReport.objects.filter(unit=unit).defer("rows").order_by("-period_start", "-id"))
    preset = feedback.feedback_settings(unit.town_id).preset
    choices = _period_choices(preset, timezone.localdate(), frozenset(r.period for r in reports))
    for report in reports:
        report.label = Period.parse(report.period).label
    return render(
        request, "reports/feedback_reports.html", {"unit": unit, "reports": reports, "period_choices": choices}
    )


@require_POST
@login_required
def unit_report_generate(request, pk):
    """Generate (and send) the unit's report for a completed period, or open the one already sent."""
    unit = get_unit_for_user(request, pk, write=True)
    form = PeriodForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("unit_reports", unit.pk)
    try:
        report, created = actions.generate_unit_report(unit, period=form.cleaned_data["period"], actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("unit_reports", unit.pk)
    if created:
        messages.success(request, _("报告已生成并发送给本单位管理员。"))
    else:
        messages.info(request, _("该周期的报告已于 %(at)s 生成，内容不再变动。") % {"at": _local(report.generated_at)})
    return redirect("unit_report", report.pk)


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@login_required
def unit_report_detail(request, pk):
    """One frozen report: the unit's summary, then a row per member (names only without consent)."""
    report = get_unit_report_for_user(request, pk)
    threshold = report.summary.get("decline_threshold", 3)
    rows = [dict(row, flag_texts=flag_texts(row, threshold) if row["consent"] else []) for row in report.rows]
    return render(
        request,
        "reports/feedback_report.html",
        {"report": report, "unit": report.unit, "period": Period.parse(report.period), "rows": rows},
    )


@login_required
def unit_report_pdf(request, pk):
    """The report as a printable PDF (audited as an export)."""
    report = get_unit_report_for_user(request, pk)
    try:
        pdf = render_unit_report_pdf(report)
    except FontMissing as exc:
        return HttpResponse(exc.args[0], status=503, content_type="text/plain; charset=utf-8")
    record_audit(
        request.user, AuditEntry.Action.EXPORT, obj=report, detail={"kind": "unit_report_pdf"}, request=request
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="unit-report-{report.unit.code}-{report.period}.pdf"'
    return response


XLSX_HEADERS = [
    "队员编号",
    "姓名",
    "同意向单位反馈",
    "报到社区",
    "志愿服务（小时）",
    "下沉/报到服务（小时）",
    "本期合计（小时）",
    "年度累计（小时）",
    "年度目标（小时）",
    "目标完成%",
    "接单",
    "办结",
    "满意",
    "基本满意",
    "不满意",
    "拒单",
    "活动缺席",
    "本期积分",
    "年度得分",
    "志愿星级",
    "年度星级评定",
    "提示",
]


@login_required
def unit_report_xlsx(request, pk):
    """The report's rows as .xlsx (audited as an export); members without consent by name only."""
    report = get_unit_report_for_user(request, pk)
    s = report.summary
    threshold = s.get("decline_threshold", 3)

    def cells(r):
        if not r["consent"]:
            why = "未成年人（无监护人同意）" if r["reason"] == "minor" else "否"
            return [r["member_no"], r["name"], why] + [None] * (len(XLSX_HEADERS) - 3)
        return [
            r["member_no"],
            r["name"],
            "是",
            "、".join(r["communities"]),
            float(r["volunteer_hours"]),
            float(r["registration_hours"]),
            float(r["hours"]),
            float(r["year_hours"]),
            float(s["target_hours"]),
            r["target_percent"],
            r["taken"],
            r["resolved"],
            r["satisfied"],
            r["basically"],
            r["unsatisfied"],
            r["declined"],
            r["no_shows"],
            float(r["points"]),
            float(r["score_year"]),
            r["stars"],
            r["rating_stars"],
            "；".join(flag_texts(r, threshold)),
        ]

    widths = (12, 10, 10, 22, 10, 12, 10, 10, 10, 9, 6, 6, 6, 8, 7, 6, 8, 8, 8, 8, 10, 30)
    title = f"{s['unit_name']} {Period.parse(report.period).label}"
    output, count = xlsx.write_table(XLSX_HEADERS, (cells(r) for r in report.rows), title=title, widths=widths)
    record_audit(
        request.user,
        AuditEntry.Action.EXPORT,
        obj=report,
        detail={"kind": "unit_report_xlsx", "rows": count},
        request=request,
    )
    return FileResponse(
        output,
        as_attachment=True,
        filename=f"unit-report-{report.unit.code}-{report.period}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@login_required
def town_unit_reports(request, pk):
    """Town admins: the town's units with their members and latest report; generate for all units."""
    town = get_town_for_user(request, pk)
    latest = UnitReport.objects.filter(unit=OuterRef("pk")).order_by("-period_start", "-id")
    units = (
        Unit.objects.filter(town=town)
        .annotate(n_members=Count("members", distinct=True))
        .annotate(
            latest_period=latest.values("period")[:1],
            latest_id=latest.values("pk")[:1],
        )
        .order_by("code")
    )
    preset = feedback.feedback_settings(town.pk).preset
    return render(
        request,
        "reports/feedback_town.html",
        {"town": town, "units": units, "period_choices": _period_choices(preset, timezone.localdate())},
    )


@require_POST
@login_required
def town_unit_reports_generate(request, pk):
    """Queue the period's reports for every unit of the town (a background task; idempotent)."""
    town = get_town_for_user(request, pk, write=True)
    form = PeriodForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("town_unit_reports", town.pk)
    period = form.cleaned_data["period"]
    if period.end > timezone.localdate():
        messages.error(request, _("%(p)s尚未结束，只能生成已结束周期的报告") % {"p": period.label})
        return redirect("town_unit_reports", town.pk)
    tasks.generate_unit_reports.enqueue(period.code, [town.pk], request.user.pk)
    messages.success(request, _("已开始生成%(p)s各单位的反馈报告，已有的报告不会重复生成。") % {"p": period.label})
    return redirect("town_unit_reports", town.pk)


# --- red/black lists: staff --------------------------------------------------------------------------


@login_required
def town_lists(request, pk):
    """Town admins: the town's red/black lists in every status, the rule, and the propose form."""
    town = get_town_for_user(request, pk)
    counts = {
        "n_red": Count("entries", filter=Q(entries__kind=ListEntry.Kind.RED) & ~Q(entries__status="removed")),
        "n_black": Count("entries", filter=Q(entries__kind=ListEntry.Kind.BLACK) & ~Q(entries__status="removed")),
        "n_appeals": Count("entries", filter=Q(entries__status=ListEntry.Status.APPEALED)),
    }
    lists = PropertyList.objects.filter(town=town).annotate(**counts).order_by("-period_start", "-id")
    taken = frozenset(lists.exclude(status=PropertyList.Status.WITHDRAWN).values_list("period", flat=True))
    return render(
        request,
        "reports/lists_town.html",
        {
            "town": town,
            "lists": lists,
            "rule": feedback.list_rule(town.pk),
            "period_choices": _period_choices(Preset.QUARTERLY, timezone.localdate(), taken),
        },
    )


@require_POST
@login_required
def town_lists_propose(request, pk):
    town = get_town_for_user(request, pk, write=True)
    form = PeriodForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("town_lists", town.pk)
    try:
        plist = actions.propose_property_list(town, period=form.cleaned_data["period"], actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("town_lists", town.pk)
    messages.success(request, _("已拟定红黑榜，请核对后公示。"))
    return redirect("property_list", plist.pk)


@login_required
def property_list(request, pk):
    """Town admins: one list with its entries, every company's score, appeals to decide and the history."""
    plist = get_property_list_for_user(request, pk)
    entries = list(plist.entries.order_by("kind", "-score", "company_name"))
    events = plist.events.select_related("actor", "entry").order_by("at", "id")
    return render(
        request,
        "reports/lists_detail.html",
        {
            "plist": plist,
            "town": plist.town,
            "period": Period.parse(plist.period),
            "red": [e for e in entries if e.kind == ListEntry.Kind.RED],
            "black": [e for e in entries if e.kind == ListEntry.Kind.BLACK],
            "appeals": [e for e in entries if e.status == ListEntry.Status.APPEALED],
            "events": events,
            "now": timezone.now(),
        },
    )


def _list_verb(request, pk, act, ok: str):
    plist = get_property_list_for_user(request, pk, write=True)
    try:
        act(plist)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, ok)
    return redirect("property_list", plist.pk)


@require_POST
@login_required
def property_list_notice(request, pk):
    return _list_verb(request, pk, lambda p: actions.open_list_notice(p, actor=request.user), _("红黑榜已进入公示期。"))


@require_POST
@login_required
def property_list_publish(request, pk):
    return _list_verb(request, pk, lambda p: actions.publish_property_list(p, actor=request.user), _("红黑榜已发布。"))


@require_POST
@login_required
def property_list_withdraw(request, pk):
    form = ReasonForm(request.POST)
    if not form.is_valid():
        plist = get_property_list_for_user(request, pk, write=True)
        messages.error(request, _("请填写撤销原因"))
        return redirect("property_list", plist.pk)
    reason = form.cleaned_data["reason"]
    return _list_verb(
        request,
        pk,
        lambda p: actions.withdraw_property_list(p, actor=request.user, reason=reason),
        _("红黑榜已撤销。"),
    )


@require_POST
@login_required
def list_entry_decide(request, pk):
    """A town admin decides an appeal: upheld (removed from the list) or rejected (kept)."""
    entry = get_list_entry_for_user(request, pk, write=True)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择复核结论并填写复核意见"))
        return redirect("property_list", entry.plist_id)
    try:
        actions.decide_list_appeal(
            entry, actor=request.user, upheld=form.cleaned_data["upheld"], note=form.cleaned_data["note"]
        )
    except DomainError as exc:
        if exc.status == 403:
            raise PermissionDenied(exc.message) from None
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已复核 %(c)s 的申诉。") % {"c": entry.company_name})
    return redirect("property_list", entry.plist_id)


# --- red/black lists: the company ---------------------------------------------------------------------


@login_required
def company_lists(request):
    """Property company staff: their entries on lists under notice or published; appeal a black entry."""
    s = request.user.scope
    if not s.company_ids:
        raise Http404
    visible = [PropertyList.Status.NOTICE, PropertyList.Status.PUBLISHED]
    entries = (
        ListEntry.objects.filter(company_id__in=s.company_ids, plist__status__in=visible)
        .select_related("plist__town")
        .order_by("-plist__period_start", "kind", "company_name")
    )
    now = timezone.now()
    for entry in entries:
        p = entry.plist
        entry.period_label = Period.parse(p.period).label
        entry.may_appeal = (
            entry.kind == ListEntry.Kind.BLACK
            and entry.status == ListEntry.Status.LISTED
            and p.status == PropertyList.Status.NOTICE
            and p.notice_ends_at is not None
            and now < p.notice_ends_at
        )
    companies = PropertyCompany.objects.filter(pk__in=s.company_ids).order_by("name")
    return render(request, "reports/lists_company.html", {"entries": entries, "companies": companies})


@require_POST
@login_required
def list_entry_appeal(request, pk):
    """The listed company appeals a black entry with a statement during the notice period."""
    entry = get_list_entry_for_user(request, pk, write=True)
    form = StatementForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写申诉理由（不超过2000字）"))
        return redirect("company_lists")
    try:
        actions.appeal_list_entry(entry, actor=request.user, statement=form.cleaned_data["statement"])
    except DomainError as exc:
        if exc.status == 403:
            raise PermissionDenied(exc.message) from None
        messages.error(request, exc.message)
    else:
        messages.success(request, _("申诉已提交，街道/镇将在公示期内复核。"))
    return redirect("company_lists")


# --- inspections -------------------------------------------------------------------------------------


def _inspectable_estates(user):
    """Estates with a company in the communities the user manages (town admin or community staff)."""
    s = user.scope
    estates = Estate.objects.filter(company__isnull=False).select_related("company", "community")
    if not s.superuser:
        estates = estates.filter(Q(community__town_id__in=s.town_ids) | Q(community_id__in=s.community_ids))
    return estates.order_by("community__code", "name", "id")


@login_required
def inspections(request):
    """Staff: record an inspection score of a property company in an estate; recent inspections."""
    s = request.user.scope
    if not (s.superuser or s.town_ids or s.community_ids):
        raise Http404
    estates = list(_inspectable_estates(request.user))
    recent = (
        Inspection.objects.filter(estate__in=[e.pk for e in estates])
        .select_related("estate", "company", "inspector")
        .order_by("-date", "-id")[:INSPECTIONS_SHOWN]
    )
    form = InspectionForm(estates=estates, initial={"date": timezone.localdate()})
    return render(request, "reports/lists_inspections.html", {"form": form, "estates": estates, "recent": recent})


@require_POST
@login_required
def inspection_new(request):
    s = request.user.scope
    if not (s.superuser or s.town_ids or s.community_ids):
        raise Http404
    estates = list(_inspectable_estates(request.user))
    form = InspectionForm(request.POST, estates=estates)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("inspections")
    estate = next(e for e in estates if e.pk == form.cleaned_data["estate"])
    try:
        actions.record_inspection(
            estate,
            actor=request.user,
            date=form.cleaned_data["date"],
            score=form.cleaned_data["score"],
            note=form.cleaned_data["note"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已记录 %(e)s 的巡查评分。") % {"e": estate.name})
    return redirect("inspections")


# --- public pages (no login) -----------------------------------------------------------------------


def public_lists(request):
    """Every town with a published red/black list (or one under notice), with its current list's counts."""
    live = PropertyList.objects.filter(
        town=OuterRef("pk"), status__in=[PropertyList.Status.PUBLISHED, PropertyList.Status.NOTICE]
    )
    towns = Town.objects.filter(Exists(live)).order_by("code")
    return render(request, "reports/lists_public.html", {"towns": towns})


def public_town_lists(request, code: str):
    """A town's current published list (or ?period=…), its lists under notice, and earlier periods.

    Companies and estates, scores and reasons: no person's name, no appeal text.
    """
    town = find_town_by_code(code)
    published = feedback.published_lists(town)
    wanted = request.GET.get("period")
    current = (published.filter(period=wanted) if wanted else published).first()
    if wanted and current is None:
        raise Http404
    on_list = ~Q(status=ListEntry.Status.REMOVED)
    entries = Prefetch("entries", queryset=ListEntry.objects.filter(on_list).order_by("-score", "company_name"))
    notices = (
        PropertyList.objects.filter(town=town, status=PropertyList.Status.NOTICE)
        .prefetch_related(entries)
        .order_by("-period_start")
    )
    ctx = {
        "town": town,
        "current": current,
        "notices": [(p, Period.parse(p.period)) for p in notices],
        "history": [(p.period, Period.parse(p.period).label) for p in published.only("period")],
    }
    if current is not None:
        listed = list(current.entries.filter(on_list).order_by("-score", "company_name"))
        ctx.update(
            period=Period.parse(current.period),
            red=[e for e in listed if e.kind == ListEntry.Kind.RED],
            black=sorted(
                (e for e in listed if e.kind == ListEntry.Kind.BLACK), key=lambda e: (e.score, e.company_name)
            ),
        )
    return render(request, "reports/lists_public_town.html", ctx)
