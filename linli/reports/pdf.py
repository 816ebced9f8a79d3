"""A unit's feedback report as a PDF (landscape A4), drawn with reportlab from the frozen UnitReport.

The font is the one the certificates embed (linli.credits.certificates: Debian's
fonts-wqy-zenhei, a TrueType CJK face reportlab can embed); only the glyphs used are embedded.
The PDF says exactly what the report row says, so printing it again next year gives the same
document (`invariant=1`).
"""

import io

from django.utils import timezone, translation

from linli.credits.certificates import FontMissing, _esc, _register_font
from linli.reports.feedback import Period
from linli.reports.models import UnitReport

__all__ = ["FLAG_LABELS", "FontMissing", "render_unit_report_pdf"]

FLAG_LABELS = {
    "not_serving": "报到未下沉",
    "behind_pace": "进度落后",
    "declines": "拒单较多",
    "no_shows": "活动缺席",
}
WITHHELD = {
    "no_consent": "本人未同意向单位反馈，依法不列示服务数据",
    "minor": "未成年人，未取得监护人同意，依法不列示服务数据",
}


def _cn_date(iso: str) -> str:
    y, m, d = (int(part) for part in iso.split("-"))
    return f"{y}年{m}月{d}日"


def flag_texts(row: dict, threshold: int) -> list[str]:
    """The row's flags in words, with their counts (拒单 4 次 …)."""
    texts = []
    for flag in row.get("flags", []):
        if flag == "declines":
            texts.append(f"拒单{row['declined']}次（超过{threshold}次）")
        elif flag == "no_shows":
            texts.append(f"活动缺席{row['no_shows']}次")
        else:
            texts.append(FLAG_LABELS.get(flag, flag))
    return texts


def render_unit_report_pdf(report: UnitReport) -> bytes:
    """The report as PDF bytes: header, the unit's summary, one row per member, the privacy note.

    The document is Chinese whatever the reader's UI language: it is what the unit files.
    """
    with translation.override("zh-hans"):
        return _render(report)


def _render(report: UnitReport) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _register_font()
    base = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=20, leading=28, alignment=TA_CENTER, spaceAfter=2)
    sub = ParagraphStyle("sub", parent=base, alignment=TA_CENTER, textColor=colors.HexColor("#333333"))
    small = ParagraphStyle("small", parent=base, fontSize=8.5, leading=12, textColor=colors.HexColor("#444444"))
    cell = ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11.5)
    head = ParagraphStyle("head", parent=cell, textColor=colors.HexColor("#222222"))
    bad = ParagraphStyle("bad", parent=cell, textColor=colors.HexColor("#b3261e"))

    s = report.summary
    period = Period.parse(report.period)
    generated = timezone.localtime(report.generated_at)
    threshold = s.get("decline_threshold", 3)
    story = [
        Paragraph("下沉党员服务情况反馈表", title),
        Paragraph(
            f"{_esc(s['unit_name'])}{'（' + _esc(s['party_branch']) + '）' if s.get('party_branch') else ''}"
            f" · {period.label}（{_cn_date(s['start'])}至{_cn_date(s['last'])}）",
            sub,
        ),
        Spacer(1, 4 * mm),
        _summary_table(s, base, cell, mm, colors, Table, TableStyle, Paragraph),
        Spacer(1, 4 * mm),
    ]

    header = [
        "姓名",
        "报到社区",
        "志愿服务\n（小时）",
        "下沉服务\n（小时）",
        "本期合计\n（小时）",
        "年度累计/目标\n（小时）",
        "接单",
        "办结",
        "评价（件）\n满意/基本/不满意",
        "积分\n本期/年度得分",
        "星级（星）\n志愿/评定",
        "提示",
    ]
    rows = [[Paragraph(h.replace("\n", "<br/>"), head) for h in header]]
    spans = []
    for r in report.rows:
        if not r["consent"]:
            spans.append(len(rows))
            rows.append(
                [Paragraph(_esc(r["name"]), cell), Paragraph(WITHHELD.get(r["reason"], ""), small)]
                + [""] * (len(header) - 2)
            )
            continue
        flags = flag_texts(r, threshold)
        rows.append(
            [
                Paragraph(_esc(r["name"]), cell),
                Paragraph(_esc("、".join(r["communities"]) or "未报到"), cell),
                Paragraph(r["volunteer_hours"], cell),
                Paragraph(r["registration_hours"], cell),
                Paragraph(f"<b>{r['hours']}</b>", cell),
                Paragraph(f"{r['year_hours']} / {s['target_hours']}（{r['target_percent']}%）", cell),
                Paragraph(str(r["taken"]), cell),
                Paragraph(str(r["resolved"]), cell),
                Paragraph(f"{r['satisfied']} / {r['basically']} / {r['unsatisfied']}", cell),
                Paragraph(f"{r['points']} / {r['score_year']}", cell),
                Paragraph(f"{r['stars']} / {r['rating_stars']}", cell),
                Paragraph("；".join(flags) or "—", bad if flags else cell),
            ]
        )
    widths = [w * mm for w in (18, 30, 15, 15, 15, 31, 10, 10, 30, 22, 18, 59)]
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for i in spans:
        style += [("SPAN", (1, i), (-1, i)), ("BACKGROUND", (0, i), (-1, i), colors.HexColor("#f7f7f7"))]
    table.setStyle(TableStyle(style))
    story += [
        table if report.rows else Paragraph("本单位暂无登记的下沉党员。", base),
        Spacer(1, 4 * mm),
        Paragraph(
            "说明：服务时长、接单、办结、评价、积分均为本期（周期内）数据，年度累计与年度得分截至本期末；"
            f"“进度落后”指年度累计时长低于截至本期末应达的 {s['pace_hours']} 小时"
            f"（年度目标 {s['target_hours']} 小时）；"
            "“报到未下沉”指已向社区报到但本期没有服务记录；星级为志愿星级（累计志愿服务时长）与年度星级评定。"
            "本表仅列示本人同意向所在单位反馈的党员的数据（《个人信息保护法》第二十三条），"
            "未同意者与未成年人仅列姓名，且不计入任何合计。",
            small,
        ),
        Paragraph(
            f"本报告于 {generated:%Y-%m-%d %H:%M} 生成，内容自生成时起固定。编号 {report.pk}-{report.period}。", small
        ),
    ]

    def page_number(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawRightString(
            doc.pagesize[0] - 12 * mm, 8 * mm, f"{s['unit_name']} · {period.label} · 第 {doc.page} 页"
        )
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=14 * mm,
        title=f"下沉党员服务情况反馈表 {s['unit_name']} {period.label}",
        author="邻里",
        invariant=1,
    )
    doc.build(story, onFirstPage=page_number, onLaterPages=page_number)
    return buffer.getvalue()


def _summary_table(s, base, cell, mm, colors, Table, TableStyle, Paragraph):
    """The unit's figures in a two-column box: 报到多下沉少 first."""
    ratio = "—" if s.get("active_percent") is None else f"{s['active_percent']}%"

    def names(people):
        return "、".join(f"{_esc(p['name'])}（{p['hours']}小时）" for p in people) or "—"

    lines = [
        (
            "党员人数",
            f"{s['members']} 人，其中同意向单位反馈 {s['consented']} 人"
            + (f"，未同意 {s['not_consented']} 人" if s["not_consented"] else "")
            + (f"，未成年人 {s['minors']} 人" if s["minors"] else ""),
        ),
        (
            "报到与下沉",
            f"已报到 {s['registered']} 人，本期参与服务 {s['active']} 人，参与率 {ratio}；"
            f"报到未下沉 <b>{s['not_serving']}</b> 人",
        ),
        (
            "服务时长",
            f"本期合计 {s['hours']} 小时（志愿服务 {s['volunteer_hours']}，下沉/报到服务 {s['registration_hours']}）；"
            f"办结工单 {s['resolved']} 件",
        ),
        (
            "年度目标",
            f"每人 {s['target_hours']} 小时，截至{_cn_date(s['pace_day'])}应达 {s['pace_hours']} 小时；"
            f"进度落后 <b>{s['behind_pace']}</b> 人",
        ),
        ("其他提示", f"拒单超过 {s['decline_threshold']} 次 {s['declines']} 人；活动缺席 {s['no_shows']} 人"),
        ("表现突出", names(s["top"])),
        ("需加督促", names(s["bottom"])),
    ]
    rows = [[Paragraph(k, cell), Paragraph(v, base)] for k, v in lines]
    table = Table(rows, colWidths=[26 * mm, 247 * mm])
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.6, colors.HexColor("#999999")),
                ("LINEBELOW", (0, 0), (-1, -2), 0.3, colors.HexColor("#dddddd")),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f2f2")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table
