"""The unit admin's pages: members this year, reports (list, generate, detail, PDF, .xlsx), the town's
overview — who may see them, what they show, and that members without consent show no figures."""

import datetime as dt
import io
import re
import shutil
import subprocess

import pytest
import time_machine
from django.urls import reverse

from linli import testing as t
from linli.accounts.models import AuditEntry, Role
from linli.lib import xlsx
from linli.reports import actions
from linli.reports.feedback import Period
from linli.reports.models import UnitReport
from tests.conftest import login
from tests.test_feedback_generate import Q2, at, build_scene


@pytest.fixture
def clock(db):
    with time_machine.travel(at(4, 8), tick=False) as traveller:
        yield traveller


@pytest.fixture
def scene(clock, personas, world):
    return build_scene(clock, personas, world)


@pytest.fixture
def report(scene, world):
    return actions.generate_unit_report(world.unit, period=Q2, actor=None)[0]


# --- members this year -------------------------------------------------------------------------------


def test_unit_admin_sees_members_progress_and_flags(scene, personas, world):
    response = login(personas.unit_admin).get(reverse("unit_members", args=[world.unit.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    rows = {r["name"]: r for r in response.context["page"]}
    me = rows["党员甲"]
    assert (me["year_hours"], me["target_percent"]) == ("9.0", 45)
    assert "declines" in me["flags"]
    assert f'href="{reverse("member_record", args=[personas.member.pk])}"' in html
    assert "拒单4次（超过3次）" in html
    # 丙 (no consent) and 丁 (a minor): names only.
    assert rows["丙"] == {**rows["丙"], "consent": False, "reason": "no_consent"} and "hours" not in rows["丙"]
    assert "本人未同意向单位反馈，不列示数据" in html
    assert "未成年人：未取得监护人同意，不列示数据" in html
    assert f'href="{reverse("member_record", args=[scene["silent"].pk])}"' not in html


def test_members_page_costs_the_same_queries_for_more_members(scene, personas, world, django_assert_max_num_queries):
    client = login(personas.unit_admin)
    url = reverse("unit_members", args=[world.unit.pk])
    client.get(url)
    for i in range(10):
        t.make_member(unit=world.unit, home_community=world.a, name=f"新{i}", consent_report=True)
    with django_assert_max_num_queries(16):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("who", ["staff_a", "member_user", "property", "resident_user", "dept", "staff_b"])
def test_others_get_404(scene, personas, world, who):
    client = login(getattr(personas, who))
    for name in ("unit_members", "unit_reports"):
        assert client.get(reverse(name, args=[world.unit.pk])).status_code == 404


def test_another_units_admin_gets_404_and_the_town_admin_sees_it(scene, personas, world):
    other = t.make_unit(world.town)
    admin = t.make_user("unit_b", roles=[(Role.UNIT_ADMIN, other)])
    assert login(admin).get(reverse("unit_members", args=[world.unit.pk])).status_code == 404
    assert login(personas.town_admin).get(reverse("unit_members", args=[world.unit.pk])).status_code == 200


# --- the reminder --------------------------------------------------------------------------------------


def test_remind_notifies_behind_pace_consenting_members_once_a_day(
    scene, personas, world, clock, django_capture_on_commit_callbacks
):
    idle_user = t.make_user("idle", name="乙")
    scene["idle"].__class__.objects.filter(pk=scene["idle"].pk).update(user=idle_user)  # arrange only
    silent_user = t.make_user("silent", name="丙")
    scene["silent"].__class__.objects.filter(pk=scene["silent"].pk).update(user=silent_user)
    client = login(personas.unit_admin)
    url = reverse("unit_remind", args=[world.unit.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    assert "已提醒 2 名进度落后的党员" in response.content.decode()
    reminded = set(personas.unit_admin.__class__.objects.filter(notifications__dedupe_key="pace_reminder:2026-07-02"))
    assert reminded == {personas.member_user, idle_user}  # 丙 did not consent
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
    assert personas.member_user.notifications.filter(dedupe_key__startswith="pace_reminder:").count() == 1
    clock.move_to(dt.datetime(2026, 7, 3, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    with django_capture_on_commit_callbacks(execute=True):
        login(personas.unit_admin).post(url)  # a new session: the old one timed out overnight
    keys = personas.member_user.notifications.filter(dedupe_key__startswith="pace_reminder:")
    assert sorted(keys.values_list("dedupe_key", flat=True)) == ["pace_reminder:2026-07-02", "pace_reminder:2026-07-03"]


def test_remind_is_post_only_and_for_the_units_admins(scene, personas, world):
    url = reverse("unit_remind", args=[world.unit.pk])
    assert login(personas.unit_admin).get(url).status_code == 405
    assert login(personas.staff_a).post(url).status_code == 404


# --- reports ----------------------------------------------------------------------------------------------


def test_generate_from_the_reports_page(scene, personas, world):
    client = login(personas.unit_admin)
    page = client.get(reverse("unit_reports", args=[world.unit.pk]))
    assert page.status_code == 200
    assert 'value="2026Q2"' in page.content.decode()
    response = client.post(reverse("unit_report_generate", args=[world.unit.pk]), {"period": "2026Q2"})
    report = UnitReport.objects.get(unit=world.unit, period="2026Q2")
    assert response["Location"] == reverse("unit_report", args=[report.pk])
    assert report.generated_by == personas.unit_admin
    # Again: the same report, with a message saying so.
    response = client.post(reverse("unit_report_generate", args=[world.unit.pk]), {"period": "2026Q2"}, follow=True)
    assert "内容不再变动" in response.content.decode()
    assert UnitReport.objects.count() == 1
    listed = client.get(reverse("unit_reports", args=[world.unit.pk])).content.decode()
    assert "2026年第2季度" in listed and "已生成" in listed


@pytest.mark.parametrize(("period", "message"), [("2026Q3", "尚未结束"), ("nonsense", "周期无效")])
def test_generate_refuses_running_or_bad_periods(scene, personas, world, period, message):
    response = login(personas.unit_admin).post(
        reverse("unit_report_generate", args=[world.unit.pk]), {"period": period}, follow=True
    )
    assert message in response.content.decode()
    assert not UnitReport.objects.exists()


def test_report_detail_shows_the_frozen_rows(report, personas, scene):
    response = login(personas.unit_admin).get(reverse("unit_report", args=[report.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "2026年第2季度" in html and "报到未下沉" in html and "活动缺席1次" in html
    assert "本人未同意向单位反馈，不列示数据" in html
    # 丙's 9 hours appear nowhere.
    silent_row = re.search(rf'data-member="{scene["silent"].pk}".*?</tr>', html, re.S).group(0)
    assert "9.0" not in silent_row


@pytest.mark.parametrize("name", ["unit_report", "unit_report_pdf", "unit_report_xlsx"])
def test_report_pages_are_404_outside_the_unit(report, personas, world, name):
    other = t.make_unit(world.town)
    admin = t.make_user("unit_b", roles=[(Role.UNIT_ADMIN, other)])
    for user in (admin, personas.staff_a, personas.member_user, personas.property):
        assert login(user).get(reverse(name, args=[report.pk])).status_code == 404
    assert login(personas.town_admin).get(reverse(name, args=[report.pk])).status_code == 200


def test_pdf_is_chinese_audited_and_names_only_without_consent(report, personas, tmp_path):
    response = login(personas.unit_admin).get(reverse("unit_report_pdf", args=[report.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert (entry.actor, entry.object_id, entry.detail["kind"]) == (
        personas.unit_admin,
        str(report.pk),
        "unit_report_pdf",
    )
    if shutil.which("pdftotext"):
        path = tmp_path / "r.pdf"
        path.write_bytes(pdf)
        text = re.sub(r"\s+", "", subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout)
        for expected in (
            "下沉党员服务情况反馈表",
            "区财政局",
            "2026年第2季度（2026年4月1日至2026年6月30日）",
            "党员甲",
            "已报到2人，本期参与服务1人，参与率50.0%；报到未下沉1人",
            "本人未同意向单位反馈，依法不列示服务数据",
            "未成年人，未取得监护人同意，依法不列示服务数据",
            "拒单4次（超过3次）",
        ):
            assert expected in text, expected
        assert "丙本人未同意向单位反馈，依法不列示服务数据" in text  # the name, then no figures
    if shutil.which("pdftoppm"):
        path = tmp_path / "r.pdf"
        path.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "30", str(path), str(tmp_path / "page")], check=True)
        assert list(tmp_path.glob("page-*.png"))


def test_xlsx_has_a_row_per_member_and_no_figures_without_consent(report, personas, scene):
    response = login(personas.unit_admin).get(reverse("unit_report_xlsx", args=[report.pk]))
    assert response.status_code == 200
    table = xlsx.read_table(io.BytesIO(b"".join(response.streaming_content)), "r.xlsx")
    assert table.headers[:4] == ["队员编号", "姓名", "同意向单位反馈", "报到社区"]
    rows = {cells[1]: cells for _n, cells in table.rows}
    assert set(rows) == {"党员甲", "乙", "丙", "丁", "戊"}
    assert rows["党员甲"][6] == 7.5 and rows["党员甲"][2] == "是"
    assert rows["丙"][2] == "否" and all(v is None for v in rows["丙"][3:])
    assert rows["丁"][2] == "未成年人（无监护人同意）"
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT, detail__kind="unit_report_xlsx").count() == 1


# --- the town's overview -----------------------------------------------------------------------------


def test_town_admin_generates_for_every_unit_in_the_background(scene, personas, world):
    other = t.make_unit(world.town)
    t.make_member(unit=other, home_community=world.b, consent_report=True)
    foreign = t.make_unit(t.make_town())
    t.make_member(unit=foreign, consent_report=True)
    client = login(personas.town_admin)
    page = client.get(reverse("town_unit_reports", args=[world.town.pk]))
    assert page.status_code == 200 and world.unit.name in page.content.decode()
    response = client.post(reverse("town_unit_reports_generate", args=[world.town.pk]), {"period": "2026Q2"})
    assert response.status_code == 302
    # Tests run tasks at once: both units of the town, not the other town's.
    assert set(UnitReport.objects.values_list("unit", flat=True)) == {world.unit.pk, other.pk}
    assert UnitReport.objects.get(unit=world.unit).generated_by == personas.town_admin


@pytest.mark.parametrize("who", ["unit_admin", "staff_a", "property"])
def test_town_overview_is_for_town_admins(scene, personas, world, who):
    client = login(getattr(personas, who))
    assert client.get(reverse("town_unit_reports", args=[world.town.pk])).status_code == 404
    url = reverse("town_unit_reports_generate", args=[world.town.pk])
    assert client.post(url, {"period": "2026Q2"}).status_code == 404
    assert not UnitReport.objects.exists()


def test_list_pages_cost_the_same_queries_for_more_rows(scene, personas, world, django_assert_max_num_queries):
    actions.generate_unit_reports(period=Q2)
    client = login(personas.town_admin)
    urls = [reverse("unit_reports", args=[world.unit.pk]), reverse("town_unit_reports", args=[world.town.pk])]
    before = {}
    for url in urls:
        with django_assert_max_num_queries(50) as ctx:
            client.get(url)
        before[url] = len(ctx.captured_queries)
    for i in range(4):
        unit = t.make_unit(world.town)
        t.make_member(unit=unit, home_community=world.a, consent_report=True)
    for period in ("2025Q4", "2026Q1", "2026-05", "2026-06"):
        actions.generate_unit_report(world.unit, period=Period.parse(period), actor=None)
    actions.generate_unit_reports(period=Q2)
    for url in urls:
        with django_assert_max_num_queries(before[url]):
            assert client.get(url).status_code == 200
