"""Every state change of people: residents, members, registrations (报到).

Each function validates, runs in one transaction, writes its event row and schedules side
effects after commit. Registration statuses change only through `_transition()`.
"""

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from linli.accounts.actions import notify
from linli.accounts.models import Role, RoleAssignment, User
from linli.lib import crypto, idcard
from linli.lib.errors import Conflict, DomainError
from linli.orgs.models import Pairing
from linli.people.models import (
    REGISTRATION_TRANSITIONS,
    IdType,
    Member,
    MemberSkill,
    Registration,
    RegistrationEvent,
    Resident,
)

S = Registration.Status


def _validated_id(id_type: str, id_number: str) -> str:
    if id_type == IdType.RESIDENT_ID:
        try:
            return idcard.validate(id_number)
        except idcard.InvalidIdNumber as exc:
            raise DomainError(str(exc), code="id_number") from None
    number = (id_number or "").strip()
    if not number:
        raise DomainError("证件号码不能为空", code="id_number")
    return number


def _validated_phone(phone: str, *, required: bool) -> str:
    phone = (phone or "").strip().replace(" ", "").replace("-", "")
    if not phone:
        if required:
            raise DomainError("联系电话不能为空", code="phone")
        return ""
    if not phone.isdigit() or not 7 <= len(phone) <= 12:
        raise DomainError("联系电话应为7到12位数字", code="phone")
    return phone


def create_resident(
    *,
    household,
    name: str,
    gender: str,
    actor,
    birth_date=None,
    phone: str = "",
    id_number: str = "",
    tags=(),
    is_party_member=False,
    relation: str = "",
) -> Resident:
    """Register a resident in a household (personal data encrypted, ID number checksum-validated)."""
    name = (name or "").strip()
    if not name:
        raise DomainError("姓名不能为空", code="name")
    number = _validated_id(IdType.RESIDENT_ID, id_number) if id_number else ""
    phone = _validated_phone(phone, required=False)
    if number and birth_date is None:
        birth_date = idcard.birth_date(number)
    resident = Resident(
        household=household,
        name=name,
        gender=gender,
        birth_date=birth_date,
        phone=phone,
        phone_hash=crypto.lookup_hash(phone) if phone else "",
        id_number=number,
        id_hash=crypto.lookup_hash(number) if number else None,
        tags=sorted(set(tags)),
        is_party_member=is_party_member,
        relation=relation,
    )
    try:
        with transaction.atomic():
            resident.save()
    except IntegrityError:
        raise DomainError("该身份证号已登记", code="id_number") from None
    return resident


def _new_member_no() -> str:
    return f"M{secrets.randbelow(10**9):09d}"


def create_member(
    *,
    name: str,
    gender: str,
    birth_date,
    id_number: str,
    phone: str,
    actor,
    id_type: str = IdType.RESIDENT_ID,
    user=None,
    unit=None,
    home_community=None,
    home_grid=None,
    residence_area: str = "",
    service_types=(),
    is_party_member=True,
    skills=None,
    load_cap: int = 3,
    availability=None,
    consent_contact: bool = False,
    consent_report: bool = False,
) -> Member:
    """Register a member (下沉党员/志愿者). `skills` maps Skill → level. Consents are time-stamped."""
    name = (name or "").strip()
    if not name:
        raise DomainError("姓名不能为空", code="name")
    number = _validated_id(id_type, id_number)
    phone = _validated_phone(phone, required=True)
    now = timezone.now()
    member = Member(
        user=user,
        name=name,
        gender=gender,
        birth_date=birth_date,
        id_type=id_type,
        id_number=number,
        id_hash=crypto.lookup_hash(f"{id_type}:{number}"),
        phone=phone,
        phone_hash=crypto.lookup_hash(phone),
        residence_area=residence_area,
        service_types=list(service_types),
        is_party_member=is_party_member,
        unit=unit,
        home_community=home_community,
        home_grid=home_grid,
        load_cap=load_cap,
        consent_contact_at=now if consent_contact else None,
        consent_report_at=now if consent_report else None,
    )
    if availability is not None:
        member.availability = availability
    with transaction.atomic():
        if Member.objects.filter(id_hash=member.id_hash).exists():
            raise DomainError("该证件号码已登记为队员", code="id_number")
        for _attempt in range(5):
            member.member_no = _new_member_no()
            try:
                with transaction.atomic():
                    member.save()
                break
            except IntegrityError:
                if Member.objects.filter(id_hash=member.id_hash).exists():
                    raise DomainError("该证件号码已登记为队员", code="id_number") from None
                member.pk = None  # member_no collided: draw another
        else:  # pragma: no cover - 1e9 numbers, five draws
            raise Conflict("无法生成队员编号，请重试")
        MemberSkill.objects.bulk_create(
            [MemberSkill(member=member, skill=skill, level=level) for skill, level in (skills or {}).items()]
        )
        if user is not None:
            RoleAssignment.objects.get_or_create(user=user, role=Role.MEMBER)
    return member


def request_registration(registrant, *, community, actor, note: str = "") -> Registration:
    """A member or a unit asks to register (报到) with a community."""
    is_member = isinstance(registrant, Member)
    live = Registration.objects.active().filter(community=community)
    live = live.filter(member=registrant) if is_member else live.filter(unit=registrant)
    if live.exists():
        raise Conflict("已向该社区报到或正在审核中")
    now = timezone.now()
    try:
        with transaction.atomic():
            registration = Registration.objects.create(
                member=registrant if is_member else None,
                unit=None if is_member else registrant,
                community=community,
                requested_at=now,
                reason=note,
            )
            RegistrationEvent.objects.create(
                registration=registration, at=now, actor=actor, from_status="", to_status=S.REQUESTED, note=note
            )
    except IntegrityError:
        # Two requests raced past the check; the partial unique index kept one.
        raise Conflict("已向该社区报到或正在审核中") from None
    staff = _community_staff_users(community)
    notify(
        staff,
        title=f"新的报到申请：{registrant.name}",
        url=f"/registrations/{registration.pk}/",
        dedupe_key=f"registration:{registration.pk}:requested",
    )
    return registration


def _transition(registration: Registration, to: str, *, actor, note: str = "", **fields) -> Registration:
    """Compare-and-set the status and write the event, in one transaction."""
    old = registration.status
    if to not in REGISTRATION_TRANSITIONS[old]:
        raise Conflict(f"报到状态为“{registration.get_status_display()}”，不能执行此操作")
    now = timezone.now()
    with transaction.atomic():
        updated = Registration.objects.filter(pk=registration.pk, status=old).update(status=to, **fields)
        if updated != 1:
            raise Conflict("该报到已被他人处理，请刷新")
        RegistrationEvent.objects.create(
            registration=registration, at=now, actor=actor, from_status=old, to_status=to, note=note
        )
    registration.status = to
    for key, value in fields.items():
        setattr(registration, key, value)
    return registration


def approve_registration(registration: Registration, *, actor, note: str = "") -> Registration:
    """Approve; a member's unit is informed (报备); an approved unit becomes paired (包保)."""
    now = timezone.now()
    with transaction.atomic():
        _transition(registration, S.APPROVED, actor=actor, note=note, decided_at=now)
        if registration.unit_id:
            Pairing.objects.get_or_create(
                unit_id=registration.unit_id, community_id=registration.community_id, defaults={"since": now.date()}
            )
    if registration.member_id:
        member = registration.member
        if member.user_id:
            notify(
                [member.user],
                title=f"您向{registration.community}的报到已通过",
                dedupe_key=f"registration:{registration.pk}:approved",
            )
        if member.unit_id:
            notify(
                _unit_admin_users(member.unit_id),
                title=f"报备：{member.name}已到{registration.community}报到",
                url=f"/members/{member.pk}/",
                dedupe_key=f"registration:{registration.pk}:unit",
            )
    return registration


def decline_registration(registration: Registration, *, actor, reason: str) -> Registration:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写不通过的原因", code="reason")
    _transition(registration, S.DECLINED, actor=actor, note=reason, decided_at=timezone.now(), reason=reason)
    if registration.member_id and registration.member.user_id:
        notify(
            [registration.member.user],
            title=f"您向{registration.community}的报到未通过：{reason}",
            dedupe_key=f"registration:{registration.pk}:declined",
        )
    return registration


def withdraw_registration(registration: Registration, *, actor, note: str = "") -> Registration:
    """The registrant (or the community) ends a requested or approved registration."""
    with transaction.atomic():
        _transition(registration, S.WITHDRAWN, actor=actor, note=note)
        if (
            registration.unit_id
            and not Registration.objects.filter(
                unit_id=registration.unit_id, community_id=registration.community_id, status=S.APPROVED
            ).exists()
        ):
            Pairing.objects.filter(unit_id=registration.unit_id, community_id=registration.community_id).delete()
    return registration


def _community_staff_users(community):
    return User.objects.filter(role_assignments__role=Role.COMMUNITY_STAFF, role_assignments__community=community)


def _unit_admin_users(unit_id):
    return User.objects.filter(role_assignments__role=Role.UNIT_ADMIN, role_assignments__unit_id=unit_id)
