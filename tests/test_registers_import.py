"""Registers in: templates, .xlsx/.csv uploads, row-level errors, all-or-nothing, scope, audit."""

import datetime as dt
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from linli import testing as t
from linli.accounts.models import AuditEntry
from linli.lib import crypto, idcard, xlsx
from linli.orgs.models import Building, Estate, Household, Pairing, Unit
from linli.people import actions
from linli.people.models import Member, MemberSkill, Registration, Resident
from tests.conftest import login

RESIDENT_HEADERS = ["户地址", "姓名", "性别", "出生日期", "联系电话", "身份证号", "关爱标签", "党员", "与户主关系"]


def xlsx_file(headers, rows, name="register.xlsx"):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def csv_file(headers, rows, name="register.csv", encoding="utf-8-sig"):
    lines = [",".join(headers)] + [",".join(str(v) for v in row) for row in rows]
    return SimpleUploadedFile(name, ("\r\n".join(lines) + "\r\n").encode(encoding))


def id_no(i, born=dt.date(1990, 1, 1)):
    return idcard.make("420203", born, 100 + i)


def resident_rows(household, n, *, start=0):
    return [
        [household.address, f"导入居民{i}", "", "", f"1390000{i:04d}", id_no(start + i), "独居老人，低保", "是", "户主"]
        for i in range(n)
    ]


def post(client, kind, upload, **extra):
    return client.post(f"/registers/{kind}/import/", {"file": upload}, **extra)


def text(response) -> str:
    return response.content.decode()


# --- Residents -----------------------------------------------------------------------------


def test_good_residents_file_imports_every_row(personas, world):
    before = Resident.objects.count()
    response = post(login(personas.staff_a), "residents", xlsx_file(RESIDENT_HEADERS, resident_rows(world.hh_a1, 5)))
    assert response.status_code == 200
    assert "已导入 5 行" in text(response)
    assert Resident.objects.count() == before + 5
    imported = Resident.objects.get(name="导入居民3")
    assert imported.household == world.hh_a1
    assert imported.id_number == id_no(3)
    assert imported.id_hash == crypto.lookup_hash(id_no(3))
    assert imported.phone_hash == crypto.lookup_hash("13900000003")
    # Gender and birth date come from the ID number when the columns are empty.
    assert imported.birth_date == dt.date(1990, 1, 1)
    assert imported.gender == idcard.gender(id_no(3))
    assert imported.tags == ["dibao", "elderly_alone"]
    assert imported.is_party_member is True


def test_personal_data_of_imported_rows_is_encrypted_at_rest(personas, world):
    post(login(personas.staff_a), "residents", xlsx_file(RESIDENT_HEADERS, resident_rows(world.hh_a1, 1)))
    resident = Resident.objects.get(name="导入居民0")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone, tags FROM people_resident WHERE id = %s", [resident.pk])
        raw = cursor.fetchone()
    assert all(value.startswith("v1:") for value in raw)
    assert id_no(0) not in "".join(raw)


def test_one_bad_id_number_saves_nothing_and_names_row_and_column(personas, world):
    rows = resident_rows(world.hh_a1, 4)
    bad = id_no(2)
    rows[2][5] = bad[:17] + ("0" if bad[17] != "0" else "1")  # spreadsheet row 4
    before = Resident.objects.count()
    response = post(login(personas.staff_a), "residents", xlsx_file(RESIDENT_HEADERS, rows))
    body = text(response)
    assert "未导入任何数据" in body
    assert "第 4 行「身份证号」" in body and "身份证号校验位不正确" in body
    assert "第 2 行" not in body
    assert Resident.objects.count() == before


def test_error_message_format_names_row_and_column(world, personas):
    table = xlsx.Table(headers=RESIDENT_HEADERS, rows=[(12, ("地址", "张三", "男", "", "", "420203199001011230"))])
    with pytest.raises(actions.ImportRejected) as caught:
        actions.import_register("residents", table, actor=personas.staff_a)
    messages = [str(e) for e in caught.value.errors]
    assert "第 12 行「身份证号」：身份证号校验位不正确" in messages


def test_duplicate_inside_the_file_is_reported(personas, world):
    rows = resident_rows(world.hh_a1, 3)
    rows[2][5] = rows[0][5]
    response = post(login(personas.staff_a), "residents", xlsx_file(RESIDENT_HEADERS, rows))
    assert "第 4 行" in text(response) and "与第 2 行重复" in text(response)
    assert not Resident.objects.filter(name__startswith="导入居民").exists()


def test_duplicate_against_the_database_is_reported(personas, world):
    existing = t.make_resident(world.hh_a1)
    rows = resident_rows(world.hh_a1, 2)
    rows[1][5] = existing.id_number
    response = post(login(personas.staff_a), "residents", xlsx_file(RESIDENT_HEADERS, rows))
    assert "第 3 行" in text(response) and "该身份证号已登记" in text(response)
    assert not Resident.objects.filter(name__startswith="导入居民").exists()


def test_every_error_of_every_row_is_listed(personas, world):
    rows = [
        ["不存在的地址", "", "男", "1990-13-01", "12ab", "123", "外星人", "也许", ""],
        [world.hh_a1.address, "王五", "", "", "", "", "", "", ""],  # no ID number and no gender
    ]
    body = text(post(login(personas.staff_a), "residents", xlsx_file(RESIDENT_HEADERS, rows)))
    for expected in (
        "找不到该户",
        "必填，不能为空",
        "日期格式应为 1980-05-17",
        "联系电话应为7到12位数字",
        "身份证号应为18位",
        "「外星人」不是可选值",
        "请填写“是”或“否”",
        "必填（或填写身份证号）",
    ):
        assert expected in body, expected


def test_household_found_by_building_entrance_and_door(personas, world):
    hh = world.hh_a2
    headers = ["网格编码", "楼栋", "单元", "门牌号", "姓名", "性别", "身份证号"]
    rows = [["CA02", hh.building.name, hh.entrance, hh.door, "赵六", "女", ""]]
    response = post(login(personas.staff_a), "residents", xlsx_file(headers, rows))
    assert "已导入 1 行" in text(response)
    assert Resident.objects.get(name="赵六").household == hh


def test_staff_of_b_cannot_import_residents_into_a(personas, world):
    rows = resident_rows(world.hh_a1, 1)
    response = post(
        login(personas.staff_b), "residents", xlsx_file(["社区编码", *RESIDENT_HEADERS], [["CA", *rows[0]]])
    )
    body = text(response)
    assert "第 2 行" in body and "社区编码「CA」不存在或不在您的管理范围内" in body
    assert not Resident.objects.filter(name__startswith="导入居民").exists()


def test_csv_works_in_utf8_and_gbk(personas, world):
    client = login(personas.staff_a)
    response = post(client, "residents", csv_file(RESIDENT_HEADERS, resident_rows(world.hh_a1, 2)))
    assert "已导入 2 行" in text(response)
    gbk = csv_file(RESIDENT_HEADERS, resident_rows(world.hh_a1, 2, start=10), encoding="gbk")
    assert "已导入 2 行" in text(post(client, "residents", gbk))
    assert Resident.objects.filter(name__startswith="导入居民").count() == 4


def test_id_number_stored_as_a_number_by_excel_gets_a_clear_message(personas, world):
    rows = resident_rows(world.hh_a1, 1)
    rows[0][5] = float(id_no(0)[:17] + "1")
    body = text(post(login(personas.staff_a), "residents", xlsx_file(RESIDENT_HEADERS, rows)))
    assert "存成了数字" in body


def test_missing_required_header_is_reported(personas, world):
    body = text(post(login(personas.staff_a), "residents", xlsx_file(["户地址", "电话"], [["x", "1"]])))
    assert "第 1 行「姓名」" in body and "表头缺少此列，请使用导入模板" in body


# --- Files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("register.pdf", b"%PDF-1.4", "文件类型不支持，请上传 .xlsx 或 .csv 文件"),
        ("register.xls", b"\xd0\xcf\x11\xe0", "不支持 .xls 等旧格式"),
        ("register.xlsx", b"not a spreadsheet at all", "它不是有效的 .xlsx 文件"),
        ("register.xlsx", b"PK\x03\x04broken zip", "它不是有效的 .xlsx 文件"),
        ("register.csv", b"", "文件是空的"),
    ],
)
def test_wrong_or_unreadable_file_gives_a_clear_message(personas, name, content, message):
    response = post(login(personas.staff_a), "residents", SimpleUploadedFile(name, content))
    assert response.status_code == 200
    assert message in text(response)
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).exists()


def test_file_over_the_size_limit_is_refused(personas, settings, monkeypatch):
    from linli.people import register_views

    monkeypatch.setattr(register_views, "MAX_UPLOAD_BYTES", 10)
    response = post(login(personas.staff_a), "residents", SimpleUploadedFile("r.csv", "姓名\n张三三三三\n".encode()))
    assert "文件太大" in text(response)


def test_no_file_is_a_clear_message(personas):
    response = login(personas.staff_a).post("/registers/residents/import/", {})
    assert "请选择要导入的文件" in text(response)


def test_template_download_opens_and_has_chinese_headers(personas):
    client = login(personas.staff_a)
    for kind, first in (("households", "社区编码"), ("residents", "社区编码"), ("members", "姓名"), ("units", "编码")):
        response = client.get(f"/registers/{kind}/template/")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
        sheet = workbook.worksheets[0]
        headers = [c.value for c in sheet[1]]
        assert headers[0] == first
        assert all(c.comment is not None for c in sheet[1])  # a hint per column
        assert "填写说明" in workbook.sheetnames
    # The residents template: ID and phone columns are text, gender has a drop-down.
    workbook = openpyxl.load_workbook(
        io.BytesIO(b"".join(client.get("/registers/residents/template/").streaming_content))
    )
    sheet = workbook.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert {"户地址", "姓名", "性别", "身份证号", "关爱标签", "党员"} <= set(headers)
    lists = [dv.formula1 for dv in sheet.data_validations.dataValidation]
    assert '"男,女"' in lists and '"是,否"' in lists


def test_filled_template_imports(personas, world):
    client = login(personas.staff_a)
    content = b"".join(client.get("/registers/residents/template/").streaming_content)
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    headers = [c.value for c in sheet[1]]
    values = {"户地址": world.hh_a1.address, "姓名": "模板居民", "身份证号": id_no(7), "党员": "否"}
    for index, header in enumerate(headers, start=1):
        sheet.cell(row=2, column=index, value=values.get(header))
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = post(client, "residents", SimpleUploadedFile("filled.xlsx", buffer.getvalue()))
    assert "已导入 1 行" in text(response)


# --- Access --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["grid_worker", "unit_admin", "member_user", "resident_user", "dept"])
def test_only_town_admins_and_community_staff_see_the_pages(personas, world, who):
    client = login(getattr(personas, who))
    assert client.get("/registers/").status_code == 404
    assert client.get("/registers/residents/template/").status_code == 404
    assert client.get("/registers/residents/upload/").status_code == 404
    assert client.get("/registers/residents/export/").status_code == 404
    assert post(client, "residents", xlsx_file(RESIDENT_HEADERS, resident_rows(world.hh_a1, 1))).status_code == 404
    assert not Resident.objects.filter(name__startswith="导入居民").exists()


def test_pages_need_login_and_import_is_post_only_with_csrf(personas, world):
    from django.test import Client

    assert Client().get("/registers/").status_code == 302
    client = login(personas.staff_a)
    assert client.get("/registers/").status_code == 200
    assert client.get("/registers/residents/upload/").status_code == 200
    assert client.get("/registers/residents/import/").status_code == 405
    assert client.get("/registers/nonsense/upload/").status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(personas.staff_a)
    upload = xlsx_file(RESIDENT_HEADERS, resident_rows(world.hh_a1, 1))
    assert strict.post("/registers/residents/import/", {"file": upload}).status_code == 403


def test_index_lists_the_four_registers_with_their_verbs(personas):
    body = text(login(personas.town_admin).get("/registers/"))
    for kind in ("households", "residents", "members", "units"):
        for verb in ("template", "upload", "export"):
            assert f"/registers/{kind}/{verb}/" in body
    assert body.count("下载模板") >= 4


def test_htmx_post_gets_only_the_result(personas, world):
    upload = xlsx_file(RESIDENT_HEADERS, resident_rows(world.hh_a1, 1))
    response = post(login(personas.staff_a), "residents", upload, HTTP_HX_REQUEST="true")
    body = text(response)
    assert "已导入 1 行" in body and "<html" not in body


# --- Audit ---------------------------------------------------------------------------------


def test_import_writes_an_audit_row_without_personal_data(personas, world):
    post(login(personas.staff_a), "residents", xlsx_file(RESIDENT_HEADERS, resident_rows(world.hh_a1, 3)))
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert entry.actor == personas.staff_a
    assert entry.detail == {"register": "residents", "rows": 3, "saved": 3}
    assert id_no(0) not in str(entry.detail) and "13900000000" not in str(entry.detail)


def test_rejected_import_is_audited_too(personas, world):
    rows = resident_rows(world.hh_a1, 2)
    rows[1][5] = "123"
    post(login(personas.staff_a), "residents", xlsx_file(RESIDENT_HEADERS, rows))
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert entry.detail == {"register": "residents", "rows": 2, "saved": 0, "errors": 1}


# --- Households ----------------------------------------------------------------------------

HOUSEHOLD_HEADERS = ["社区编码", "网格编码", "小区", "楼栋", "单元", "门牌号", "地址"]


def test_town_admin_imports_households_in_two_communities_building_what_is_missing(personas, world):
    rows = [
        ["CA", "CA01", "幸福家园", "9栋", "1单元", "101", "幸福路9号1单元101"],
        ["CA", "CA01", "幸福家园", "9栋", "1单元", "102", ""],
        ["CB", "CB01", "", "3号楼", "", "5", "和平村3号楼5号"],
    ]
    response = post(login(personas.town_admin), "households", xlsx_file(HOUSEHOLD_HEADERS, rows))
    assert "已导入 3 行" in text(response)
    building = Building.objects.get(grid=world.a1, name="9栋")
    assert building.estate == Estate.objects.get(community=world.a, name="幸福家园")
    assert list(building.households.order_by("door").values_list("door", "address")) == [
        ("101", "幸福路9号1单元101"),
        ("102", "幸福家园9栋1单元102"),
    ]
    assert Household.objects.filter(building__grid=world.b1, door="5").exists()
    assert AuditEntry.objects.get(action="import").detail["buildings"] == 2


def test_households_errors_scope_grid_and_duplicates(personas, world):
    existing = world.hh_a1
    rows = [
        ["CB", "CB01", "", "1栋", "", "1", ""],  # B is not staff A's
        ["CA", "CB01", "", "1栋", "", "1", ""],  # grid of another community
        ["CA", "CA01", "", existing.building.name, existing.entrance, existing.door, ""],  # already there
        ["CA", "CA02", "", "2栋", "", "8", ""],
        ["CA", "CA02", "", "2栋", "", "8", ""],
    ]
    body = text(post(login(personas.staff_a), "households", xlsx_file(HOUSEHOLD_HEADERS, rows)))
    assert "第 2 行「社区编码」" in body and "社区编码「CB」不存在或不在您的管理范围内" in body
    assert "网格编码「CB01」不属于该社区" in body
    assert "该户已登记" in body
    assert "与第 5 行重复" in body
    assert not Building.objects.filter(name="2栋").exists()


# --- Members -------------------------------------------------------------------------------

MEMBER_HEADERS = [
    "姓名",
    "性别",
    "出生日期",
    "证件类型",
    "证件号码",
    "居住区域",
    "联系方式",
    "专业技能",
    "服务类别",
    "党员",
    "单位编码",
    "居住社区编码",
    "报到社区编码",
    "同意联系",
    "同意向单位反馈",
]


def member_row(i, **overrides):
    row = {
        "姓名": f"导入党员{i}",
        "性别": "",
        "出生日期": "",
        "证件类型": "居民身份证",
        "证件号码": id_no(500 + i, born=dt.date(1985, 3, 1)),
        "居住区域": "幸福社区9栋",
        "联系方式": f"1370000{i:04d}",
        "专业技能": "水电维修:专业",
        "服务类别": "社区服务，助老助残",
        "党员": "是",
        "单位编码": "U01",
        "居住社区编码": "CA",
        "报到社区编码": "CA",
        "同意联系": "是",
        "同意向单位反馈": "否",
    }
    row.update(overrides)
    return [row[h] for h in MEMBER_HEADERS]


def test_members_import_with_skills_services_and_registrations(personas, world):
    rows = [member_row(i) for i in range(3)]
    rows.append(member_row(9, 证件类型="护照", 证件号码="E12345678", 性别="女", 出生日期="1990/2/3", 报到社区编码=""))
    response = post(login(personas.staff_a), "members", xlsx_file(MEMBER_HEADERS, rows))
    assert "已导入 4 行" in text(response)
    member = Member.objects.get(name="导入党员1")
    assert member.id_hash == crypto.lookup_hash(f"resident_id:{id_no(501, born=dt.date(1985, 3, 1))}")
    assert member.phone_hash == crypto.lookup_hash("13700000001")
    assert member.birth_date == dt.date(1985, 3, 1)
    assert member.unit == world.unit and member.home_community == world.a
    assert member.service_types == ["community", "elderly_disabled"]
    assert member.consent_contact_at is not None and member.consent_report_at is None
    assert list(MemberSkill.objects.filter(member=member).values_list("skill", "level")) == [(world.electrical.pk, 3)]
    registration = Registration.objects.get(member=member)
    assert registration.status == "approved" and registration.community == world.a
    assert [(e.from_status, e.to_status) for e in registration.events.all()] == [
        ("", "requested"),
        ("requested", "approved"),
    ]
    passport = Member.objects.get(name="导入党员9")
    assert passport.id_type == "passport" and passport.birth_date == dt.date(1990, 2, 3)
    numbers = list(Member.objects.values_list("member_no", flat=True))
    assert len(numbers) == len(set(numbers))
    assert all(n.startswith("M") and len(n) == 10 for n in numbers)


def test_members_errors(personas, world):
    rows = [
        member_row(0, 证件号码=personas.member.id_number),  # already a member
        member_row(1, 专业技能="飞行:大师", 服务类别="唱歌"),
        member_row(2, 单位编码="NOPE", 居住社区编码="CB", 报到社区编码="CB"),
        member_row(3, 居住社区编码="", 报到社区编码=""),
        member_row(4, 联系方式=""),
        member_row(5, 证件类型="护照", 证件号码="X1", 性别="", 出生日期=""),
    ]
    body = text(post(login(personas.staff_a), "members", xlsx_file(MEMBER_HEADERS, rows)))
    for expected in (
        "该证件号码已登记为队员",
        "未知技能「飞行」",
        "「唱歌」不是可选值",
        "单位编码「NOPE」不存在",
        "社区编码「CB」不存在或不在您的管理范围内",
        "居住社区编码和报到社区编码至少填一项",
        "必填，不能为空",
        "必填（或填写身份证号）",
        "必填（居民身份证可不填）",
    ):
        assert expected in body, expected
    assert not Member.objects.filter(name__startswith="导入党员").exists()


def test_new_member_numbers_skip_numbers_in_use(world, monkeypatch):
    taken = t.make_member().member_no
    draws = iter([taken, taken, "M000000001", "M000000002"])
    monkeypatch.setattr(actions, "_new_member_no", lambda: next(draws))
    assert actions._new_member_nos(2) == ["M000000001", "M000000002"]


# --- Units ---------------------------------------------------------------------------------

UNIT_HEADERS = ["编码", "名称", "类型", "党组织名称", "包保社区编码"]


def test_units_import_with_pairings(personas, world):
    rows = [["U10", "区教育局", "机关", "区教育局机关党委", "CA"], ["U11", "区医院", "事业单位", "", "CA，CB"]]
    response = post(login(personas.town_admin), "units", xlsx_file(UNIT_HEADERS, rows))
    assert "已导入 2 行" in text(response)
    hospital = Unit.objects.get(code="U11")
    assert hospital.kind == "institution" and hospital.town == world.town
    assert set(Pairing.objects.filter(unit=hospital).values_list("community__code", flat=True)) == {"CA", "CB"}


def test_units_errors(personas, world):
    rows = [
        ["U01", "重复编码", "机关", "", "CA"],  # U01 exists
        ["U20", "某单位", "工厂", "", "CB"],  # kind and scope
        ["U21", "无包保", "", "", ""],  # staff must pair it
        ["U22", "单位甲", "", "", "CA"],
        ["U22", "单位乙", "", "", "CA"],
    ]
    body = text(post(login(personas.staff_a), "units", xlsx_file(UNIT_HEADERS, rows)))
    for expected in (
        "单位编码「U01」已存在",
        "「工厂」不是可选值",
        "社区编码「CB」不存在",
        "请填写包保社区编码",
        "与第 5 行重复",
    ):
        assert expected in body, expected
    assert not Unit.objects.filter(code__startswith="U2").exists()


def test_town_admin_may_import_a_unit_without_pairing(personas, world):
    response = post(login(personas.town_admin), "units", xlsx_file(UNIT_HEADERS, [["U30", "区税务局", "", "", ""]]))
    assert "已导入 1 行" in text(response)
    assert Unit.objects.get(code="U30").town == world.town


# --- The .xlsx reader ----------------------------------------------------------------------


def handmade_xlsx(sheet_xml: str, *, shared: str = "", styles: str = "", date1904: bool = False, doctype: str = ""):
    """A minimal .xlsx as Excel writes it (shared strings, styles), without openpyxl."""
    import zipfile

    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        pr = '<workbookPr date1904="1"/>' if date1904 else ""
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook {ns} {rel_ns}>{pr}<sheets><sheet name="数据" sheetId="1" r:id="rId7"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId7" Target="worksheets/data.xml" Type="worksheet"/></Relationships>',
        )
        archive.writestr(
            "xl/worksheets/data.xml", f"{doctype}<worksheet {ns}><sheetData>{sheet_xml}</sheetData></worksheet>"
        )
        if shared:
            archive.writestr("xl/sharedStrings.xml", f"<sst {ns}>{shared}</sst>")
        if styles:
            archive.writestr("xl/styles.xml", f"<styleSheet {ns}>{styles}</styleSheet>")
    return io.BytesIO(buffer.getvalue())


def test_reader_handles_what_excel_writes():
    shared = (
        "<si><t>姓名</t></si><si><t>出生日期</t></si>"
        "<si><r><t>张</t></r><r><t>三</t></r><rPh><t>zhang</t></rPh></si>"  # rich text with a phonetic hint
    )
    styles = (
        '<numFmts><numFmt numFmtId="176" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></numFmts>'
        '<cellXfs><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="176"/><xf numFmtId="49"/></cellXfs>'
    )
    sheet = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="3"><c r="A3" t="s"><v>2</v></c><c r="B3" s="1"><v>29358</v></c><c r="D3" s="2"><v>29359</v></c></row>'
        '<row r="4"><c r="B4" t="b"><v>1</v></c><c r="C4" t="e"><v>#N/A</v></c><c r="E4"><v>13812345678</v></c></row>'
        '<row r="5"><c r="A5" s="3" t="str"><v>0123</v></c><c r="AA5"><v>4.20203198005171E+17</v></c></row>'
    )
    table = xlsx.read_table(handmade_xlsx(sheet, shared=shared, styles=styles), "x.xlsx")
    assert table.headers == ["姓名", "出生日期"]
    rows = dict(table.rows)
    assert list(rows) == [3, 4, 5]
    assert rows[3][0] == "张三"
    assert rows[3][1].date() == dt.date(1980, 5, 17) and rows[3][3].date() == dt.date(1980, 5, 18)
    assert rows[4][1] is True and rows[4][2] is None and rows[4][4] == 13812345678
    assert rows[5][0] == "0123" and rows[5][26] == pytest.approx(4.20203198005171e17)


def test_reader_uses_the_1904_date_system_when_the_workbook_says_so():
    styles = '<cellXfs><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs>'
    sheet = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>日期</t></is></c></row><row r="2"><c r="A2" s="1"><v>1</v></c></row>'
    )
    table = xlsx.read_table(handmade_xlsx(sheet, styles=styles, date1904=True), "x.xlsx")
    assert table.rows[0][1][0].date() == dt.date(1904, 1, 2)  # 1 in the 1900 system is 1900-01-01


def test_reader_refuses_xml_with_a_dtd():
    bomb = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
    sheet = '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
    with pytest.raises(xlsx.UnreadableFile):
        xlsx.read_table(handmade_xlsx(sheet, doctype=bomb), "x.xlsx")


def test_reader_refuses_a_zip_bomb(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_INFLATED_BYTES", 100)
    sheet = "".join(f'<row r="{i}"><c r="A{i}"><v>{i}</v></c></row>' for i in range(1, 50))
    with pytest.raises(xlsx.UnreadableFile, match="过大"):
        xlsx.read_table(handmade_xlsx(sheet), "x.xlsx")


def test_reader_matches_openpyxl_on_an_export(personas, world):
    """What openpyxl writes (inline strings, styles), our reader reads back the same."""
    client = login(personas.staff_a)
    content = b"".join(client.get("/registers/residents/export/").streaming_content)
    ours = xlsx.read_table(io.BytesIO(content), "export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    theirs = [tuple(c.value for c in row) for row in sheet.iter_rows()]
    assert tuple(ours.headers) == theirs[0]

    def tidy(values):
        values = ["" if v is None else v for v in values]
        while values and values[-1] == "":
            values.pop()  # trailing empty cells are not stored
        return values

    assert len(ours.rows) == len(theirs) - 1 >= 1
    for (_number, mine), other in zip(ours.rows, theirs[1:], strict=True):
        assert tidy(mine) == tidy(other)


def test_csv_row_numbers_and_blank_rows():
    raw = "姓名,身份证号\r\n\r\n张三,1\r\n,\r\n李四,2\r\n".encode()
    table = xlsx.read_table(io.BytesIO(raw), "x.csv")
    assert [number for number, _cells in table.rows] == [3, 5]


def test_a_duplicate_that_slips_past_the_check_rolls_everything_back(personas, world, monkeypatch):
    """A concurrent registration between check and save: the unique index wins, nothing saved."""
    from linli.lib.errors import Conflict
    from linli.people import registers

    existing = t.make_resident(world.hh_a1)
    monkeypatch.setattr(registers, "_taken", lambda *args: None)  # the check no longer sees it
    rows = resident_rows(world.hh_a1, 3)
    rows[2][5] = existing.id_number
    table = xlsx.Table(headers=RESIDENT_HEADERS, rows=[(i + 2, tuple(r)) for i, r in enumerate(rows)])
    before = Resident.objects.count()
    with pytest.raises(Conflict):
        actions.import_register("residents", table, actor=personas.staff_a)
    assert Resident.objects.count() == before
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).exists()


def test_grid_worker_cannot_import_through_the_action_either(personas, world):
    from linli.lib.errors import NotAllowed

    table = xlsx.Table(headers=RESIDENT_HEADERS, rows=[(2, tuple(resident_rows(world.hh_a1, 1)[0]))])
    with pytest.raises(NotAllowed):
        actions.import_register("residents", table, actor=personas.grid_worker)
