"""Every state change of people: residents, members, registrations (报到).

Each function validates, runs in one transaction, writes its event row and schedules side
effects after commit. Registration statuses change only through `_transition()`.
"""

import secrets
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.actions import notify, record_audit
from linli.accounts.models import AuditEntry, Role, RoleAssignment, User
from linli.lib import crypto, idcard
from linli.lib.errors import Conflict, DomainError, NotAllowed
from linli.orgs.models import Building, Community, Estate, Household, Pairing, Unit
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
        raise DomainError(_("证件号码不能为空"), code="id_number")
    return number


def _validated_phone(phone: str, *, required: bool) -> str:
    phone = (phone or "").strip().replace(" ", "").replace("-", "")
    if not phone:
        if required:
            raise DomainError(_("联系电话不能为空"), code="phone")
        return ""
    if not phone.isdigit() or not 7 <= len(phone) <= 12:
        raise DomainError(_("联系电话应为7到12位数字"), code="phone")
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
        raise DomainError(_("姓名不能为空"), code="name")
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
        raise DomainError(_("该身份证号已登记"), code="id_number") from None
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
        raise DomainError(_("姓名不能为空"), code="name")
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
            raise DomainError(_("该证件号码已登记为队员"), code="id_number")
        for _attempt in range(5):
            member.member_no = _new_member_no()
            try:
                with transaction.atomic():
                    member.save()
                break
            except IntegrityError:
                if Member.objects.filter(id_hash=member.id_hash).exists():
                    raise DomainError(_("该证件号码已登记为队员"), code="id_number") from None
                member.pk = None  # member_no collided: draw another
        else:  # pragma: no cover - 1e9 numbers, five draws
            raise Conflict(_("无法生成队员编号，请重试"))
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
        raise Conflict(_("已向该社区报到或正在审核中"))
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
        raise Conflict(_("已向该社区报到或正在审核中")) from None
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
        raise Conflict(_("报到状态为“%(status)s”，不能执行此操作") % {"status": registration.get_status_display()})
    now = timezone.now()
    with transaction.atomic():
        updated = Registration.objects.filter(pk=registration.pk, status=old).update(status=to, **fields)
        if updated != 1:
            raise Conflict(_("该报到已被他人处理，请刷新"))
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
        raise DomainError(_("请填写不通过的原因"), code="reason")
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


# --- Registers in: importing households, residents, members and units from a spreadsheet ----
# Appended as one section; its imports sit here so the section reads on its own.


# Rows per bulk_create for the few tables that need primary keys back (estates, buildings,
# units); Django lowers it further where the backend needs.
_BATCH = 1000
# Rows per executemany() in _insert_rows: bounds the memory of prepared values.
_INSERT_CHUNK = 5000


class ImportRejected(DomainError):
    """A register file with row errors: nothing was saved. `errors` lists every one of them."""

    code = "rows"

    def __init__(self, errors, *, total: int):
        super().__init__(_("文件中有 %(count)s 处错误，未导入任何数据") % {"count": len(errors)})
        self.errors = errors
        self.total = total


@dataclass
class Imported:
    kind: str
    saved: int
    created: dict = field(default_factory=dict)  # other rows made on the way (buildings …)


def import_register(kind: str, table, *, actor, request=None) -> Imported:
    """Import register `kind` from `table` (linli.lib.xlsx.Table), all or nothing.

    Every row is checked first (linli.people.registers.check: formats, GB 11643 ID numbers,
    phones, duplicates in the file and in the database, community codes within the actor's
    scope). Any error → ImportRejected with the full list and nothing saved; otherwise every
    row is saved in one transaction with bulk inserts. Both outcomes are audited with counts
    only. A row that became a duplicate between the check and the save (a concurrent
    registration) hits a unique index → Conflict, nothing saved. Bulk imports send no
    notifications: they record a register that already exists on paper.
    """
    from linli.people import registers  # registers uses this module's validators

    if not Community.objects.staffed_by(actor).exists():
        raise NotAllowed(_("只有街道管理员和社区工作人员可以导入"))
    checked = registers.check(kind, table, user=actor)
    detail = {"register": kind, "rows": checked.total}
    if not checked.ok:
        record_audit(
            actor,
            AuditEntry.Action.IMPORT,
            detail={**detail, "saved": 0, "errors": len(checked.errors)},
            request=request,
        )
        raise ImportRejected(checked.errors, total=checked.total)
    try:
        with transaction.atomic():
            created = _SAVERS[kind](checked.rows, actor=actor)
            record_audit(
                actor,
                AuditEntry.Action.IMPORT,
                detail={**detail, "saved": len(checked.rows), **created},
                request=request,
            )
    except IntegrityError:
        raise Conflict(_("导入期间数据已被他人修改（例如同一证件号码刚被登记），未导入任何数据，请重新导入")) from None
    return Imported(kind=kind, saved=len(checked.rows), created=created)


def _insert_rows(model, objs) -> int:
    """INSERT unsaved `objs` with one prepared statement per chunk (executemany); no pks back.

    Values go through the same field methods bulk_create uses (pre_save, then
    get_db_prep_save, where EncryptedTextField encrypts), so what lands in the table is the
    same. Why not bulk_create: Django 5.2 caps an SQLite statement at 999 parameters, so
    40,000 members become ~850 multi-row INSERTs, each compiled in Python; executemany of
    one statement takes half the CPU (measured in bench/import_registers.py).
    """
    # The connection itself, not django.db.connection: that proxy costs a lookup per value.
    conn = transaction.get_connection()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = conn.ops.quote_name
    # Table and column names come from the model's meta; every value is a bound parameter.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608  # nosec B608
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    count = 0
    with conn.cursor() as cursor:
        for start in range(0, len(objs), _INSERT_CHUNK):
            chunk = objs[start : start + _INSERT_CHUNK]
            cursor.executemany(sql, [[f.get_db_prep_save(f.pre_save(o, True), conn) for f in fields] for o in chunk])
            count += len(chunk)
    return count


def _ids_by(model, key: str, values) -> dict:
    """Primary keys of rows just inserted, looked up by a unique column, in slices."""
    values = list(values)
    found = {}
    for start in range(0, len(values), 900):
        found.update(model.objects.filter(**{f"{key}__in": values[start : start + 900]}).values_list(key, "id"))
    return found


def _save_households(rows, *, actor) -> dict:
    # Estates and buildings are few and need their pks back: bulk_create (RETURNING on
    # PostgreSQL and SQLite ≥ 3.35). Households are many: _insert_rows.
    estates = {}
    for r in rows:
        key = (r["community_id"], r["estate"])
        if r["estate"] and r["estate_id"] is None and key not in estates:
            estates[key] = Estate(community_id=r["community_id"], name=r["estate"])
    Estate.objects.bulk_create(estates.values(), batch_size=_BATCH)
    buildings = {}
    for r in rows:
        key = (r["grid_id"], r["building"])
        if r["building_id"] is None and key not in buildings:
            estate_id = r["estate_id"] or (estates[(r["community_id"], r["estate"])].pk if r["estate"] else None)
            buildings[key] = Building(
                grid_id=r["grid_id"], name=r["building"], address=r["building_address"], estate_id=estate_id
            )
    Building.objects.bulk_create(buildings.values(), batch_size=_BATCH)
    _insert_rows(
        Household,
        [
            Household(
                building_id=r["building_id"] or buildings[(r["grid_id"], r["building"])].pk,
                entrance=r["entrance"],
                door=r["door"],
                address=r["address"],
            )
            for r in rows
        ],
    )
    return {"estates": len(estates), "buildings": len(buildings)}


def _save_residents(rows, *, actor) -> dict:
    # The fields create_resident sets, hashes included; encryption happens in the field.
    _insert_rows(
        Resident,
        [
            Resident(
                household_id=r["household_id"],
                name=r["name"],
                gender=r["gender"],
                birth_date=r["birth_date"],
                phone=r["phone"],
                phone_hash=r["phone_hash"],
                id_number=r["id_number"],
                id_hash=r["id_hash"],
                tags=r["tags"],
                is_party_member=r["is_party_member"],
                relation=r["relation"],
            )
            for r in rows
        ],
    )
    return {}


def _new_member_nos(count: int) -> list[str]:
    """`count` member numbers in create_member's scheme, distinct and not yet in use."""
    chosen: set[str] = set()
    while len(chosen) < count:
        draw = {_new_member_no() for _ in range(count - len(chosen))} - chosen
        draw.difference_update(_ids_by(Member, "member_no", draw))
        chosen |= draw
    return sorted(chosen)


def _save_members(rows, *, actor) -> dict:
    # The fields create_member sets. A row's 报到社区编码 are registrations already approved
    # on paper: recorded approved, with the two events the transitions table walks through.
    now = timezone.now()
    numbers = _new_member_nos(len(rows))
    members = [
        Member(
            member_no=member_no,
            name=r["name"],
            gender=r["gender"],
            birth_date=r["birth_date"],
            id_type=r["id_type"],
            id_number=r["id_number"],
            id_hash=r["id_hash"],
            phone=r["phone"],
            phone_hash=r["phone_hash"],
            residence_area=r["residence_area"],
            service_types=r["service_types"],
            is_party_member=r["is_party_member"],
            unit_id=r["unit_id"],
            home_community_id=r["home_community_id"],
            consent_contact_at=now if r["consent_contact"] else None,
            consent_report_at=now if r["consent_report"] else None,
        )
        for r, member_no in zip(rows, numbers, strict=True)
    ]
    _insert_rows(Member, members)
    member_ids = _ids_by(Member, "member_no", numbers)
    pairs = [(member_ids[no], r) for no, r in zip(numbers, rows, strict=True)]
    _insert_rows(
        MemberSkill,
        [
            MemberSkill(member_id=pk, skill_id=skill, level=level)
            for pk, r in pairs
            for skill, level in r["skills"].items()
        ],
    )
    registrations = [
        Registration(member_id=pk, community_id=community_id, status=S.APPROVED, requested_at=now, decided_at=now)
        for pk, r in pairs
        for community_id in r["community_ids"]
    ]
    _insert_rows(Registration, registrations)
    # The members are new, so every registration they have is one of these.
    registration_ids = [
        pk
        for start in range(0, len(pairs), 900)
        for pk in Registration.objects.filter(member_id__in=[p for p, _r in pairs[start : start + 900]]).values_list(
            "id", flat=True
        )
    ]
    _insert_rows(
        RegistrationEvent,
        [
            RegistrationEvent(registration_id=pk, at=now, actor=actor, from_status=old, to_status=new, note="导入")
            for pk in registration_ids
            for old, new in (("", S.REQUESTED), (S.REQUESTED, S.APPROVED))
        ],
    )
    return {"registrations": len(registrations)}


def _save_units(rows, *, actor) -> dict:
    # Units are few (hundreds per town) and their pks are needed for the pairings.
    units = [
        Unit(code=r["code"], name=r["name"], kind=r["kind"], party_branch=r["party_branch"], town_id=r["town_id"])
        for r in rows
    ]
    Unit.objects.bulk_create(units, batch_size=_BATCH)
    today = timezone.localdate()
    pairings = [
        Pairing(unit_id=u.pk, community_id=community_id, since=today)
        for u, r in zip(units, rows, strict=True)
        for community_id in r["community_ids"]
    ]
    Pairing.objects.bulk_create(pairings, batch_size=_BATCH)
    return {"pairings": len(pairings)}


_SAVERS = {
    "households": _save_households,
    "residents": _save_residents,
    "members": _save_members,
    "units": _save_units,
}
