"""Registrations (报到) over JSON: a member's own, asking and withdrawing; the community's staff list
the pending ones and approve or decline them.

Objects come through linli.people.access.get_registration_for_user (outside scope: 404;
deciding without being the community's staff: 403); changes are linli.people.actions.
"""

from django.db.models import F
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.pagination import paginate

from linli.api.errors import invalid_reference
from linli.api.pagination import Pagination
from linli.api.schemas import (
    ERRORS,
    CommunityOut,
    DeclineIn,
    RegistrationDetail,
    RegistrationFilters,
    RegistrationIn,
    RegistrationNoteIn,
    RegistrationOut,
)
from linli.lib.errors import NotAllowed
from linli.orgs.models import Community
from linli.people import actions
from linli.people.access import (
    get_member_for_user,
    get_registration_for_user,
    may_withdraw_registration,
    registrable_communities,
)
from linli.people.models import Registration

router = Router(tags=["registrations"])

DETAIL = {200: RegistrationDetail, **ERRORS}


def _manages(scope, registration) -> bool:
    community = registration.community
    return scope.superuser or community.town_id in scope.town_ids or community.pk in scope.community_ids


def _detail(request, registration_id: int) -> dict:
    """The registration as it now stands, with its history and what the caller may do to it."""
    registration = get_registration_for_user(request, registration_id)
    s = request.user.scope
    live = registration.status in (Registration.Status.REQUESTED, Registration.Status.APPROVED)
    events = registration.events.select_related("actor").order_by("at", "id")
    return {
        "id": registration.pk,
        "member": {"id": registration.member_id, "name": registration.member.name} if registration.member_id else None,
        "unit": {"id": registration.unit_id, "name": registration.unit.name} if registration.unit_id else None,
        "community": {"id": registration.community_id, "name": registration.community.name},
        "status": registration.status,
        "status_label": str(registration.get_status_display()),
        "requested_at": registration.requested_at,
        "decided_at": registration.decided_at,
        "reason": registration.reason,
        "can_decide": registration.status == Registration.Status.REQUESTED and _manages(s, registration),
        "can_withdraw": live and may_withdraw_registration(s, registration),
        "events": [
            {
                "at": e.at,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
                "actor": (e.actor.name or e.actor.get_username()) if e.actor_id else None,
            }
            for e in events
        ],
    }


def _own_member(request):
    member_id = request.user.scope.member_id
    if not member_id:
        raise NotAllowed(_("只有已登记的党员/志愿者可以报到"))
    return get_member_for_user(request, member_id)


@router.get(
    "/registrations",
    response={200: list[RegistrationOut], **ERRORS},
    operation_id="list_registrations",
    summary="报到列表（本人的；工作人员：本社区的）",
)
@paginate(Pagination)
def list_registrations(request, filters: Query[RegistrationFilters]):
    """The registrations the caller may see: a member their own; community staff and town admins
    their communities'; unit admins their unit's and its members'. Pending ones for my communities:
    `status=requested`. Oldest request first for pending, else latest decision first."""
    qs = Registration.objects.visible_to(request.user).select_related("member", "unit", "community")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.community is not None:
        qs = qs.filter(community_id=filters.community)
    if filters.mine:
        member_id = request.user.scope.member_id
        qs = qs.filter(member_id=member_id) if member_id else qs.none()
    if filters.status == Registration.Status.REQUESTED:
        return qs.order_by("requested_at", "id")
    return qs.order_by(F("decided_at").desc(nulls_last=True), "-requested_at", "-id")


@router.get(
    "/registrations/communities",
    response={200: list[CommunityOut], **ERRORS},
    operation_id="list_registrable_communities",
    summary="我可以报到的社区",
)
@paginate(Pagination)
def list_registrable_communities(request):
    """Communities of the towns of my home community and my unit, and those paired with my unit,
    that I have no live registration with. Not a member: an empty list."""
    member_id = request.user.scope.member_id
    if not member_id:
        return Community.objects.none()
    return registrable_communities(get_member_for_user(request, member_id))


@router.post(
    "/registrations",
    response={201: RegistrationDetail, **ERRORS},
    operation_id="request_registration",
    summary="申请报到",
)
def request_registration(request, payload: RegistrationIn):
    """A member asks to register with a community; its staff decide. 409 when a registration with
    that community is already pending or approved; 400 `invalid_reference` for a community I may
    not register with; 403 for a user who is not a member."""
    member = _own_member(request)
    live = Registration.objects.active().filter(member=member, community_id=payload.community_id)
    # A community already registered with goes to the action, which answers 409; any other must
    # be one the member may register with.
    community = (
        Community.objects.filter(pk__in=live.values("community_id")).first()
        or registrable_communities(member).filter(pk=payload.community_id).first()
    )
    if community is None:
        raise invalid_reference("community_id", _("社区不存在，或不能向该社区报到"))
    registration = actions.request_registration(member, community=community, actor=request.user, note=payload.note)
    return Status(201, _detail(request, registration.pk))


@router.get("/registrations/{registration_id}", response=DETAIL, operation_id="get_registration", summary="报到详情")
def get_registration(request, registration_id: int):
    return _detail(request, registration_id)


@router.post(
    "/registrations/{registration_id}/approve",
    response=DETAIL,
    operation_id="approve_registration",
    summary="通过报到",
)
def approve_registration(request, registration_id: int, payload: RegistrationNoteIn | None = None):
    """Staff of the registration's community. The body is optional."""
    registration = get_registration_for_user(request, registration_id, write=True)
    actions.approve_registration(registration, actor=request.user, note=payload.note if payload else "")
    return _detail(request, registration.pk)


@router.post(
    "/registrations/{registration_id}/decline",
    response=DETAIL,
    operation_id="decline_registration",
    summary="退回报到",
)
def decline_registration(request, registration_id: int, payload: DeclineIn):
    registration = get_registration_for_user(request, registration_id, write=True)
    actions.decline_registration(registration, actor=request.user, reason=payload.reason)
    return _detail(request, registration.pk)


@router.post(
    "/registrations/{registration_id}/withdraw",
    response=DETAIL,
    operation_id="withdraw_registration",
    summary="撤回报到",
)
def withdraw_registration(request, registration_id: int, payload: RegistrationNoteIn | None = None):
    """The registrant (the member, or the unit's admin) or the community's staff end a pending or
    approved registration. The body is optional."""
    registration = get_registration_for_user(request, registration_id)
    if not may_withdraw_registration(request.user.scope, registration):
        raise NotAllowed(_("只有报到人或社区工作人员可以撤回"))
    actions.withdraw_registration(registration, actor=request.user, note=payload.note if payload else "")
    return _detail(request, registration.pk)
