"""Registers out: only what the exporter may see, personal data masked, every export audited."""

import io

import openpyxl
import pytest

from linli import testing as t
from linli.accounts.models import AuditEntry
from linli.lib import masking
from tests.conftest import login


def export(client, kind):
    response = client.get(f"/registers/{kind}/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def all_text(rows) -> str:
    return " ".join(str(v) for row in rows for v in row.values() if v is not None)


def test_residents_export_masks_id_numbers_and_phones_and_is_audited(personas, world):
    headers, rows = export(login(personas.staff_a), "residents")
    assert headers[:3] == ["社区编码", "网格编码", "户地址"]
    resident = personas.resident
    row = next(r for r in rows if r["姓名"] == "居民甲")
    assert row["身份证号"] == masking.mask_id_number(resident.id_number)
    assert row["身份证号"].startswith(resident.id_number[:6]) and row["身份证号"].endswith(resident.id_number[-4:])
    assert row["联系电话"] == resident.phone[:3] + "****" + resident.phone[-4:]
    assert row["关爱标签"] == "独居老人"
    assert row["社区编码"] == "CA"
    everything = all_text(rows)
    assert resident.id_number not in everything and resident.phone not in everything
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert entry.actor == personas.staff_a
    assert entry.detail == {"register": "residents", "rows": len(rows)}


def test_staff_of_b_cannot_export_residents_of_a(personas, world):
    _headers, rows = export(login(personas.staff_b), "residents")
    names = {r["姓名"] for r in rows}
    assert "居民乙" in names
    assert "居民甲" not in names
    assert {r["社区编码"] for r in rows} == {"CB"}


def test_town_admin_exports_the_whole_town(personas, world):
    _headers, rows = export(login(personas.town_admin), "residents")
    assert {"居民甲", "居民乙"} <= {r["姓名"] for r in rows}


def test_members_export_masks_and_keeps_scope(personas, world):
    headers, rows = export(login(personas.staff_a), "members")
    assert headers[0] == "队员编号" and "证件号码" in headers and "专业技能" in headers
    member = personas.member
    row = next(r for r in rows if r["姓名"] == "党员甲")
    assert row["队员编号"] == member.member_no
    assert row["证件号码"] == masking.mask_id_number(member.id_number)
    assert row["联系方式"] == masking.mask_phone(member.phone)
    assert row["专业技能"] == "水电维修:专业"
    assert row["报到社区编码"] == "CA" and row["单位编码"] == "U01"
    assert row["同意向单位反馈"] == "是"
    assert "党员乙" not in {r["姓名"] for r in rows}
    assert member.id_number not in all_text(rows)


def test_households_and_units_export(personas, world):
    client = login(personas.staff_a)
    _headers, households = export(client, "households")
    assert {r["网格编码"] for r in households} == {"CA01", "CA02"}
    assert world.hh_a1.address in {r["地址"] for r in households}
    _headers, units = export(client, "units")
    assert units == []  # U01 is not paired with A yet
    t.make_unit(world.town, code="U09", name="区民政局").pairings.create(community=world.a)
    _headers, units = export(client, "units")
    assert [(u["编码"], u["包保社区编码"]) for u in units] == [("U09", "CA")]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).count() == 3


def test_formula_like_text_is_exported_as_text(personas, world):
    t.make_resident(world.hh_a1, name="=1+2")
    response = login(personas.staff_a).get("/registers/residents/export/")
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cells = [c for row in workbook.worksheets[0].iter_rows() for c in row if c.value == "=1+2"]
    assert cells and all(c.data_type == "s" for c in cells)


def test_export_round_trips_into_the_importer_for_households(personas, world):
    """An export of households is a valid import file for another community's staff to read."""
    response = login(personas.staff_a).get("/registers/households/export/")
    from linli.lib import xlsx
    from linli.people import registers

    table = xlsx.read_table(io.BytesIO(b"".join(response.streaming_content)), "export.xlsx")
    checked = registers.check("households", table, user=personas.staff_a)
    # Same rows again: every one is reported as already registered, nothing else.
    assert checked.errors and all("该户已登记" in e.message for e in checked.errors)


@pytest.mark.parametrize("who", ["grid_worker", "unit_admin", "resident_user"])
def test_others_cannot_export(personas, who):
    assert login(getattr(personas, who)).get("/registers/residents/export/").status_code == 404
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).exists()
