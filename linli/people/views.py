"""Pages of people: member and resident details, and the registration (报到) queue and verbs.

parse → access (linli.people.access, linli.orgs.access) → act (linli.people.actions) → respond.
Domain errors become messages; objects outside the user's scope are 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.actions import record_audit
from linli.accounts.models import AuditEntry
from linli.lib.errors import DomainError, NotAllowed
from linli.orgs.access import get_community_for_user
from linli.people import actions
from linli.people.access import (
    get_member_for_user,
    get_registration_for_user,
    get_resident_for_user,
    may_withdraw_registration,
)
from linli.people.forms import ApproveForm, DeclineForm, RegistrationRequestForm, WithdrawForm
from linli.people.models import MemberSkill, Registration, Resident


def _manages(scope, community) -> bool:
    """Town admin of the community's town or staff of the community (no query)."""
    return scope.superuser or community.town_id in scope.town_ids or community.pk in scope.community_ids


def _back(request, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _audit_view(request, obj, *, is_self: bool):
    """Opening someone's detail page (masked PII, care tags) is a PII view: audited."""
    if not is_self:
        record_audit(request.user, AuditEntry.Action.PII_VIEW, obj=obj, request=request)


@login_required
def member_detail(request, pk):
    member = get_member_for_user(request, pk)
    s = request.user.scope
    is_self = member.pk == s.member_id
    skills = MemberSkill.objects.filter(member=member).select_related("skill").order_by("skill__code")
    registrations = (
        Registration.objects.visible_to(request.user)
        .filter(member=member)
        .select_related("community")
        .order_by("-requested_at")
    )
    _audit_view(request, member, is_self=is_self)
    return render(
        request,
        "people/member_detail.html",
        {
            "member": member,
            "is_self": is_self,
            "skills": skills,
            "resources": member.resources.all(),
            "registrations": registrations,
            "positions": member.party_positions.select_related("party_org"),
        },
    )


@login_required
def resident_detail(request, pk):
    resident = get_resident_for_user(request, pk)
    s = request.user.scope
    grid = resident.household.building.grid
    community = grid.community
    staff_view = _manages(s, community) or grid.pk in s.grid_ids
    housemates = []
    if staff_view:
        housemates = (
            Resident.objects.visible_to(request.user)
            .current()
            .filter(household_id=resident.household_id)
            .exclude(pk=resident.pk)
            .order_by("id")
        )
    _audit_view(request, resident, is_self=resident.pk == s.resident_id)
    return render(
        request,
        "people/resident_detail.html",
        {
            "resident": resident,
            "household": resident.household,
            "grid": grid,
            "community": community,
            "staff_view": staff_view,
            "housemates": housemates,
        },
    )


@login_required
def registration_queue(request, pk):
    """The community's pending registrations (报到) with approve / decline, and recent decisions."""
    try:
        community = get_community_for_user(request, pk, write=True)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    visible = (
        Registration.objects.visible_to(request.user)
        .filter(community=community)
        .select_related("member__unit", "member__home_community", "unit", "community")
    )
    pending = visible.filter(status=Registration.Status.REQUESTED).order_by("requested_at", "id")
    decided = visible.exclude(status=Registration.Status.REQUESTED).order_by(
        F("decided_at").desc(nulls_last=True), "-id"
    )[:20]
    return render(
        request,
        "people/registration_queue.html",
        {"community": community, "pending": pending, "decided": decided, "can_decide": True},
    )


@login_required
def registration_detail(request, pk):
    registration = get_registration_for_user(request, pk)
    s = request.user.scope
    labels = dict(Registration.Status.choices)
    events = [
        {"event": e, "from": labels.get(e.from_status, ""), "to": labels.get(e.to_status, e.to_status)}
        for e in registration.events.select_related("actor").order_by("at", "id")
    ]
    return render(
        request,
        "people/registration_detail.html",
        {
            "registration": registration,
            "events": events,
            "can_decide": registration.status == Registration.Status.REQUESTED and _manages(s, registration.community),
            "can_withdraw": may_withdraw_registration(s, registration)
            and registration.status in (Registration.Status.REQUESTED, Registration.Status.APPROVED),
        },
    )


def _respond_after_verb(request, registration, ok_message: str | None, error: str | None):
    """A queue row for htmx; otherwise a message and a redirect back."""
    if request.htmx:
        return render(
            request,
            "people/registration_queue.html#row",
            {
                "r": registration,
                "row_message": ok_message,
                "row_error": error,
                "can_decide": _manages(request.user.scope, registration.community),
            },
        )
    if ok_message:
        messages.success(request, ok_message)
    if error:
        messages.error(request, error)
    return redirect(_back(request, reverse("registration", args=[registration.pk])))


def _registration_to_decide(request, pk):
    """(registration, error): 404 outside scope; an error message when the user may not decide."""
    try:
        return get_registration_for_user(request, pk, write=True), None
    except NotAllowed as exc:
        return get_registration_for_user(request, pk), exc.message


@require_POST
@login_required
def registration_approve(request, pk):
    registration, error = _registration_to_decide(request, pk)
    if error:
        return _respond_after_verb(request, registration, None, error)
    form = ApproveForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        actions.approve_registration(registration, actor=request.user, note=note)
    except DomainError as exc:
        return _respond_after_verb(request, registration, None, exc.message)
    done = _("已通过 %(name)s 的报到。") % {"name": registration.registrant.name}
    return _respond_after_verb(request, registration, done, None)


@require_POST
@login_required
def registration_decline(request, pk):
    registration, error = _registration_to_decide(request, pk)
    if error:
        return _respond_after_verb(request, registration, None, error)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return _respond_after_verb(request, registration, None, _("请填写不通过的原因"))
    try:
        actions.decline_registration(registration, actor=request.user, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        return _respond_after_verb(request, registration, None, exc.message)
    done = _("已退回 %(name)s 的报到。") % {"name": registration.registrant.name}
    return _respond_after_verb(request, registration, done, None)


@require_POST
@login_required
def registration_withdraw(request, pk):
    registration = get_registration_for_user(request, pk)
    form = WithdrawForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        if not may_withdraw_registration(request.user.scope, registration):
            raise NotAllowed(_("只有报到人或社区工作人员可以撤回"))
        actions.withdraw_registration(registration, actor=request.user, note=note)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已撤回向%(community)s的报到。") % {"community": registration.community})
    return redirect(_back(request, reverse("registration", args=[registration.pk])))


@require_POST
@login_required
def registration_request(request):
    """A member asks to register (报到) with a community from their home page."""
    s = request.user.scope
    if not s.member_id:
        raise Http404
    member = get_member_for_user(request, s.member_id)
    form = RegistrationRequestForm(request.POST, member=member)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("home")
    community = form.cleaned_data["community"]
    try:
        actions.request_registration(member, community=community, actor=request.user, note=form.cleaned_data["note"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已向%(community)s提交报到申请，请等待社区审核。") % {"community": community})
    return redirect("home")
