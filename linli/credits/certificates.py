"""The 志愿服务证明 as a PDF (民政部令第67号 art. 15), drawn with reportlab from a Certificate row.

Chinese needs an embedded TrueType font: reportlab embeds TrueType outlines only (NotoSansCJK
is CFF-based and cannot be embedded). We use Debian's fonts-wqy-zenhei (文泉驿正黑, GPL with a
font-embedding exception), subfont 0 of its .ttc; `make test` and deployments install it.
reportlab embeds only the glyphs used, so a certificate is ~40 KB.
"""

import io
from functools import lru_cache
from pathlib import Path

from django.utils import timezone

from linli.credits.models import Certificate

FONT_NAME = "LinliCJK"
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
)
# Up to this many services are listed one by one; more are summarised by activity, so a
# certificate stays one page.
SERVICES_LISTED = 15


class FontMissing(RuntimeError):
    """No embeddable CJK TrueType font on this machine (install fonts-wqy-zenhei)."""


@lru_cache(maxsize=1)
def _register_font() -> str:
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for path in FONT_CANDIDATES:
        if path.exists():
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=0))
            # One weight only: <b> maps to the same face (the font has no bold cut).
            for bold in (0, 1):
                for italic in (0, 1):
                    addMapping(FONT_NAME, bold, italic, FONT_NAME)
            return FONT_NAME
    raise FontMissing("没有可嵌入的中文字体：请安装 fonts-wqy-zenhei（apt-get install fonts-wqy-zenhei）")


def _cn_date(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def render_pdf(certificate: Certificate, *, verify_url: str = "") -> bytes:
    """The certificate as PDF bytes: name, ID type and masked number, organisation, period,
    total hours, the services, issuer, date, number and verification code (art. 15)."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font = _register_font()
    base = ParagraphStyle("body", fontName=font, fontSize=12, leading=20, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=24, leading=32, alignment=TA_CENTER, spaceAfter=6)
    small = ParagraphStyle("small", parent=base, fontSize=9.5, leading=14, textColor=colors.HexColor("#444444"))
    right = ParagraphStyle("right", parent=base, alignment=2)
    cell = ParagraphStyle("cell", parent=base, fontSize=10, leading=14)

    c = certificate
    issued = timezone.localtime(c.issued_at).date()
    story = [
        Paragraph("志愿服务证明", title),
        Paragraph(f"证明编号：{c.number}", right),
        Spacer(1, 6 * mm),
        Paragraph(
            f"兹证明 <b>{_esc(c.member_name)}</b>（{_esc(c.id_type)}：{_esc(c.id_number_masked)}）"
            f"于 {_cn_date(c.period_start)} 至 {_cn_date(c.period_end)} 期间，"
            f"在{_esc(c.issuer)}参加志愿服务，累计志愿服务时长 <b>{c.hours}</b> 小时。",
            base,
        ),
        Spacer(1, 4 * mm),
        Paragraph("服务记录摘要：", base),
        Spacer(1, 2 * mm),
    ]
    story.append(_services_table(c.services, cell, small))
    story += [
        Spacer(1, 6 * mm),
        Paragraph("特此证明。", base),
        Spacer(1, 10 * mm),
        Paragraph(f"出具单位：{_esc(c.issuer)}（盖章）", right),
        Paragraph(f"经办人：{_esc(_issuer_person(c))}", right),
        Paragraph(f"出具日期：{_cn_date(issued)}", right),
        Spacer(1, 10 * mm),
        Paragraph(f"验证码：<b>{c.code}</b>", base),
        Paragraph(
            "本证明依据《志愿服务记录与证明出具办法》（民政部令第67号）第十五条出具，"
            "仅依据本单位的志愿服务记录；下沉/报到服务不计入。"
            + (f"查验地址：{_esc(verify_url)}" if verify_url else "可在本平台“证明查验”页面输入验证码查验。"),
            small,
        ),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=20 * mm,
        bottomMargin=18 * mm,
        title=f"志愿服务证明 {c.number}",
        author=c.issuer,
        invariant=1,  # the same certificate prints to the same bytes
    )
    doc.build(story)
    return buffer.getvalue()


def _services_table(services: list[dict], cell, small):
    """The services one by one, or — past SERVICES_LISTED — summed per activity (日期范围, 次数, 时长)."""
    from decimal import Decimal

    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, Table, TableStyle

    if len(services) <= SERVICES_LISTED:
        header = ("日期", "活动名称", "地点", "服务内容", "小时")
        body = [(s["date"], s["name"], s.get("place", ""), s.get("content", ""), s["hours"]) for s in services]
        widths = (22 * mm, 48 * mm, 34 * mm, 52 * mm, 18 * mm)
        note = ""
    else:
        groups: dict[str, dict] = {}
        for s in services:
            g = groups.setdefault(s["name"], {"first": s["date"], "last": s["date"], "times": 0, "hours": Decimal(0)})
            g["first"], g["last"] = min(g["first"], s["date"]), max(g["last"], s["date"])
            g["times"] += 1
            g["hours"] += Decimal(s["hours"])
        ranked = sorted(groups.items(), key=lambda item: (-item[1]["hours"], item[1]["first"], item[0]))
        header = ("日期", "活动名称", "次数", "小时")
        body = [
            (
                g["first"] if g["first"] == g["last"] else f"{g['first']} 至 {g['last']}",
                name,
                str(g["times"]),
                str(g["hours"]),
            )
            for name, g in ranked[:SERVICES_LISTED]
        ]
        rest = ranked[SERVICES_LISTED:]
        if rest:
            body.append(
                (
                    "",
                    f"其他 {len(rest)} 项活动",
                    str(sum(g["times"] for _n, g in rest)),
                    str(sum(g["hours"] for _n, g in rest)),
                )
            )
        widths = (44 * mm, 94 * mm, 16 * mm, 20 * mm)
        note = f"共 {len(services)} 次服务，按活动汇总。"
    rows = [[Paragraph(h, cell) for h in header]] + [[Paragraph(_esc(v), cell) for v in row] for row in body]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return KeepTogether([table, Paragraph(note, small)] if note else [table])


def _issuer_person(c: Certificate) -> str:
    user = c.issued_by
    return user.name or user.get_username()


def _esc(text) -> str:
    """reportlab paragraphs are a small markup language: escape what comes from people."""
    return str(text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
