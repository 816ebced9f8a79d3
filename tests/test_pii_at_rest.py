"""ID numbers, phones and care tags are stored encrypted, found by keyed hash (checked by raw SQL)."""

import hashlib

import pytest
from django.db import connection

from linli import testing as t
from linli.lib import crypto
from linli.people import actions
from linli.people.models import CareTag, Member, Resident


def _rows(table: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # table names come from Django
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _column(table: str, column: str, pk: int):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(column)} FROM {connection.ops.quote_name(table)} WHERE id = %s",
            [pk],
        )
        return cursor.fetchone()[0]


def _secrets(personas) -> set[str]:
    """Every plaintext that must not be found at rest: ID numbers, phones, tag codes and labels."""
    people = [personas.resident, personas.resident_b, personas.member, personas.member_b]
    values = {p.id_number for p in people} | {p.phone for p in people}
    values |= {code for code, _ in CareTag.choices} | {str(label) for _, label in CareTag.choices}
    assert all(values) and len(values) > 10
    return values


@pytest.mark.parametrize("table", ["people_resident", "people_member"])
def test_no_plaintext_in_any_text_column(personas, table):
    secrets = _secrets(personas)
    rows = _rows(table)
    assert rows
    for row in rows:
        for column, value in row.items():
            if isinstance(value, str):
                leaked = [s for s in secrets if s in value]
                assert not leaked, f"{table}.{column} holds {leaked}"


def test_no_id_number_or_phone_anywhere_in_the_database(personas, world, django_capture_on_commit_callbacks):
    # Write the rows that mention people: registrations, their events, notifications (with SMS,
    # as the member consented to contact) and audit rows.
    volunteer = t.make_member(user=t.make_user(), consent_contact=True, name="志愿者丙")
    with django_capture_on_commit_callbacks(execute=True):
        registration = actions.request_registration(volunteer, community=world.b, actor=volunteer.user)
        actions.approve_registration(registration, actor=personas.staff_b)
    assert volunteer.user.notifications.exists() and personas.staff_b.notifications.exists()
    people = [personas.resident, personas.resident_b, personas.member, personas.member_b, volunteer]
    secrets = {p.id_number for p in people} | {p.phone for p in people}
    tables = connection.introspection.table_names()
    for table in tables:
        for row in _rows(table):
            for column, value in row.items():
                if isinstance(value, str):
                    assert not [s for s in secrets if s in value], f"{table}.{column}"
    assert "accounts_auditentry" in tables and "accounts_notification" in tables


def test_the_models_read_back_the_plaintext(personas):
    resident = Resident.objects.get(pk=personas.resident.pk)
    assert resident.tags == ["elderly_alone"]
    assert resident.tag_labels() == ["独居老人"]
    assert resident.id_number == personas.resident.id_number and len(resident.id_number) == 18


def test_same_plaintext_gives_different_ciphertexts(world):
    first = t.make_resident(world.hh_a1, phone="13712345678", tags=["dibao"])
    second = t.make_resident(world.hh_a1, phone="13712345678", tags=["dibao"])
    for column in ("phone", "tags"):
        a, b = _column("people_resident", column, first.pk), _column("people_resident", column, second.pk)
        assert a != b and a.startswith("v1:") and b.startswith("v1:")
    # The keyed hash is deterministic: that is what makes lookup possible.
    assert _column("people_resident", "phone_hash", first.pk) == _column("people_resident", "phone_hash", second.pk)


def test_one_person_as_resident_and_member_shares_no_ciphertext(world):
    number = t.make_id_number(4242)
    resident = t.make_resident(world.hh_a1, id_number=number)
    member = t.make_member(id_number=number)
    stored_resident = _column("people_resident", "id_number", resident.pk)
    stored_member = _column("people_member", "id_number", member.pk)
    assert stored_resident != stored_member
    assert number not in stored_resident and number not in stored_member


def test_lookup_by_keyed_hash_finds_the_row(personas):
    resident, member = personas.resident, personas.member
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM people_resident WHERE id_hash = %s", [crypto.lookup_hash(resident.id_number)])
        assert cursor.fetchall() == [(resident.pk,)]
        cursor.execute("SELECT id FROM people_resident WHERE phone_hash = %s", [crypto.lookup_hash(resident.phone)])
        assert cursor.fetchall() == [(resident.pk,)]
    assert Member.objects.get(id_hash=crypto.lookup_hash(f"resident_id:{member.id_number}")) == member
    assert Member.objects.get(phone_hash=crypto.lookup_hash(member.phone)) == member
    # A hash is not the plain SHA-256 of the value: without the key it cannot be recomputed.
    assert crypto.lookup_hash(resident.phone) != hashlib.sha256(resident.phone.encode()).hexdigest()
