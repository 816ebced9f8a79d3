"""issue_certificate, the certificate PDF and the public check (/verify/)."""

import datetime as dt
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from linli.accounts.models import AuditEntry
from linli.credits import actions
from linli.credits.certificates import render_pdf
from linli.credits.models import Certificate
from linli.lib.errors import DomainError, NotAllowed
from tests.conftest import login

NOW = dt.datetime(2026, 7, 2, 2, 0, tzinfo=dt.UTC)
JAN1, TODAY = dt.date(2026, 1, 1), dt.date(2026, 7, 2)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _serve(member, community, sid, hours, *, source_type="shift", day=dt.date(2026, 5, 9), name="助老探访"):
    return actions.record_service(
        member,
        hours=hours,
        source_type=source_type,
        source_id=sid,
        community=community,
        service_date=day,
        activity_name=name,
        place="幸福社区养老驿站",
        content="陪伴独居老人",
        organizer=community.name,
        leader="王主任",
    )


@pytest.fixture
def served(personas, world):
    m = personas.member
    _serve(m, world.a, 1, "2.0")
    record = _serve(m, world.a, 2, "3.5", name="垃圾分类宣传")
    _serve(m, world.a, 3, "8.0", source_type="order")  # registration service: never on a certificate
    _serve(m, world.b, 4, "1.0")  # another community's records: its own certificate
    _serve(m, world.a, 5, "6.0", day=dt.date(2025, 12, 30))  # outside the period
    correction = actions.request_correction(record, actor=personas.member_user, proposed_hours="3.0", reason="记错")
    actions.approve_correction(correction, actor=personas.staff_a)
    return m


def _issue(personas, world, **kw):
    kw = {"actor": personas.staff_a, "community": world.a, "period_start": JAN1, "period_end": TODAY} | kw
    return actions.issue_certificate(personas.member, **kw)


def test_a_certificate_counts_volunteer_service_of_the_community_and_period_only(personas, world, served):
    cert = _issue(personas, world)
    assert cert.hours == Decimal("5.0")  # 2.0 + (3.5 − 0.5); not the order, not B, not 2025
    assert [(s["name"], s["hours"]) for s in cert.services] == [("助老探访", "2.0"), ("垃圾分类宣传", "3.0")]
    assert (cert.member_name, cert.id_type) == ("党员甲", "居民身份证")
    assert cert.id_number_masked == personas.member.id_number_masked
    assert "*" in cert.id_number_masked
    assert cert.issuer == "D镇幸福社区"
    assert (cert.period_start, cert.period_end, cert.issued_by) == (JAN1, TODAY, personas.staff_a)
    assert re.fullmatch(r"ZYFW20260702\d{6}", cert.number)
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{10}", cert.code)


def test_issuing_is_audited(personas, world, served):
    cert = _issue(personas, world)
    audit = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT, object_id=str(cert.pk))
    assert audit.actor == personas.staff_a
    assert audit.detail["kind"] == "certificate"


def test_no_volunteer_service_no_certificate(personas, world, served):
    with pytest.raises(DomainError):
        _issue(personas, world, period_start=dt.date(2026, 6, 1))


def test_only_the_communitys_staff_issue(personas, world, served):
    for actor in (personas.member_user, personas.staff_b, personas.unit_admin):
        with pytest.raises(NotAllowed):
            _issue(personas, world, actor=actor)
    assert _issue(personas, world, actor=personas.town_admin).hours == Decimal("5.0")


def test_the_period_must_be_sane(personas, world, served):
    with pytest.raises(DomainError):
        _issue(personas, world, period_start=TODAY, period_end=JAN1)
    with pytest.raises(DomainError):
        _issue(personas, world, period_end=TODAY + dt.timedelta(days=1))


def test_the_pdf_embeds_a_cjk_font_and_says_what_article_15_asks(personas, world, served, tmp_path):
    cert = _issue(personas, world)
    pdf = render_pdf(cert, verify_url="https://example.cn/verify/")
    assert pdf.startswith(b"%PDF")
    assert b"/FontFile2" in pdf  # an embedded TrueType font, not a reference to one
    if shutil.which("pdftotext"):
        path = tmp_path / "c.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        text = re.sub(r"\s+", "", text)
        for expected in (
            "志愿服务证明",
            "党员甲",
            cert.id_number_masked,
            "D镇幸福社区",
            "2026年1月1日至2026年7月2日",
            "5.0小时",
            "助老探访",
            cert.number,
            cert.code,
            "出具日期：2026年7月2日",
        ):
            assert expected in text, expected
        assert "8.0" not in text  # the registration service is not on it


def test_the_pdf_download_is_for_the_member_and_the_issuing_staff(personas, world, served):
    cert = _issue(personas, world)
    url = f"/certificates/{cert.pk}/pdf/"
    mine = login(personas.member_user).get(url)
    assert mine.status_code == 200
    assert mine["Content-Type"] == "application/pdf"
    assert login(personas.staff_a).get(url).status_code == 200
    for other in (personas.staff_b, personas.unit_admin, personas.resident_user, personas.grid_worker):
        assert login(other).get(url).status_code == 404
    # Staff downloads are audited; the member's own are not.
    kinds = list(AuditEntry.objects.filter(object_id=str(cert.pk)).values_list("actor__username", "detail__kind"))
    assert ("staff_a", "certificate_pdf") in kinds
    assert ("member", "certificate_pdf") not in kinds


def test_staff_issue_from_the_record_page(personas, world, served):
    client = login(personas.staff_a)
    page = client.get(f"/members/{served.pk}/record/").content.decode()
    assert "出具证明" in page
    response = client.post(
        f"/members/{served.pk}/certificates/issue/",
        {"community": world.a.pk, "period_start": "2026-01-01", "period_end": "2026-07-02"},
    )
    assert response.status_code == 302
    cert = Certificate.objects.get()
    assert cert.hours == Decimal("5.0")
    assert cert.number in client.get(f"/members/{served.pk}/record/").content.decode()


def test_the_member_and_other_staff_cannot_issue(personas, world, served):
    assert "出具证明" not in login(personas.member_user).get(f"/members/{served.pk}/record/").content.decode()
    data = {"community": world.a.pk, "period_start": "2026-01-01", "period_end": "2026-07-02"}
    login(personas.member_user).post(f"/members/{served.pk}/certificates/issue/", data)
    assert login(personas.staff_b).post(f"/members/{served.pk}/certificates/issue/", data).status_code == 404
    assert not Certificate.objects.exists()


def test_the_public_check_shows_only_the_masked_name_hours_and_issuer(personas, world, served):
    cert = _issue(personas, world)
    for response in (Client().get(f"/verify/{cert.code}/"), Client().get("/verify/", {"code": cert.code.lower()})):
        html = response.content.decode()
        assert response.status_code == 200
        assert "证明有效" in html
        assert "党**" in html
        assert "党员甲" not in html
        assert "5.0" in html
        assert "D镇幸福社区" in html
        assert cert.id_number_masked not in html
        assert personas.member.id_number[-4:] not in html
        assert "助老探访" not in html


def test_an_unknown_code_is_not_found(db):
    assert Client().get("/verify/ABCDEFGHJK/").status_code == 404
    html = Client().get("/verify/", {"code": "ABCDEFGHJK"}).content.decode()
    assert "未找到该验证码对应的证明" in html
    assert Client().get("/verify/").status_code == 200
