"""Spreadsheets in and out: read an .xlsx or .csv upload into rows, write .xlsx workbooks.

Generic I/O only. Which columns a register has and what they mean lives with the register
(linli.people.registers); this module knows cells, rows, headers and file formats.
"""

import csv
import datetime as dt
import functools
import io
import re
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from xml.etree import ElementTree  # nosec B405 - parsed only through _iterparse, which refuses DTDs
from xml.sax.saxutils import escape as xml_escape

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.datetime import CALENDAR_MAC_1904, from_excel
from openpyxl.worksheet.datavalidation import DataValidation

# An .xlsx is a zip of XML: refuse archives that inflate far beyond any real register
# (a zip bomb would otherwise exhaust memory in the XML parser).
MAX_INFLATED_BYTES = 400 * 1024 * 1024
TEXT_FORMAT = "@"
# Excel's own limit for an inline data-validation list.
_MAX_INLINE_LIST = 255
_HEADER_FILL = PatternFill("solid", fgColor="E8F5E9")
_REQUIRED_FONT = Font(bold=True, color="C62828")
_HEADER_FONT = Font(bold=True)
_BAD_TITLE_CHARS = re.compile(r"[\\/*?:\[\]]")


class UnreadableFile(ValueError):
    """The upload is not a spreadsheet we can read; the message says why, in Chinese."""


@dataclass
class Table:
    """The first sheet of a file: its header row and its non-empty data rows.

    Each row is (spreadsheet row number, cell values); numbers are what a person sees in
    Excel, so error messages can point at them. Cells keep the types the file gave
    (str, int, float, datetime, bool or None); a CSV gives only strings.
    """

    headers: list[str]
    rows: list[tuple[int, tuple]] = field(default_factory=list)
    header_row: int = 1


def read_table(fileobj, filename: str, *, max_rows: int = 100_000) -> Table:
    """Read the first sheet of an .xlsx or a .csv file (UTF-8 or GB18030).

    The first non-empty row is the header; empty rows are skipped but keep their numbers.
    Raises UnreadableFile with a message for people when the file cannot be used.
    """
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        rows = _xlsx_rows(fileobj)
    elif name.endswith(".csv"):
        rows = _csv_rows(fileobj)
    elif name.endswith((".xls", ".et", ".wps")):
        raise UnreadableFile(_("不支持 .xls 等旧格式，请在 Excel 或 WPS 中“另存为” .xlsx 后再上传"))
    else:
        raise UnreadableFile(_("文件类型不支持，请上传 .xlsx 或 .csv 文件"))
    return _table(rows, max_rows=max_rows)


def _table(rows: Iterable[tuple[int, Sequence]], *, max_rows: int) -> Table:
    table = None
    for number, values in rows:
        cells = tuple(_tidy(v) for v in values)
        if not any(v is not None for v in cells):
            continue
        if table is None:
            table = Table(headers=[_header_text(v) for v in cells], header_row=number)
            continue
        if len(table.rows) >= max_rows:
            raise UnreadableFile(_("文件超过 %(max)d 行，请拆分后分批导入") % {"max": max_rows})
        table.rows.append((number, cells))
    if table is None:
        raise UnreadableFile(_("文件是空的：没有找到表头行"))
    return table


def _tidy(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _header_text(value) -> str:
    # Headers may carry a required-marker or stray line breaks from wrapped cells.
    text = "" if value is None else str(value)
    return text.replace("\n", "").replace("*", "").replace("＊", "").strip()


def _xlsx_rows(fileobj) -> Iterable[tuple[int, Sequence]]:
    fileobj.seek(0)
    if fileobj.read(4) != b"PK\x03\x04":
        raise UnreadableFile(_NOT_XLSX())
    fileobj.seek(0)
    try:
        archive = zipfile.ZipFile(fileobj)
        if sum(info.file_size for info in archive.infolist()) > MAX_INFLATED_BYTES:
            raise UnreadableFile(_("文件解压后过大，无法读取"))
        book = _Book(archive)
    except UnreadableFile:
        raise
    except Exception:  # zip, XML and key errors alike mean a broken or foreign file
        raise UnreadableFile(_NOT_XLSX()) from None
    return book.rows()


def _NOT_XLSX() -> str:
    return _("文件无法读取：它不是有效的 .xlsx 文件（可能已损坏，或只是改了扩展名）")


# Built-in number formats that are dates: 14–22 and 45–47 everywhere, 27–36 and 50–58 in
# the Chinese (and other East Asian) locales, where Excel writes 年/月/日 dates with them.
_DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])


class _Book:
    """A streaming reader of an .xlsx's first worksheet, values only.

    openpyxl's read-only mode builds an object per cell and reads 40,000 rows in seconds;
    this reads the same XML with iterparse and keeps only what a register needs: text,
    numbers, booleans, and dates where the cell's number format says so.
    """

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        names = set(archive.namelist())
        workbook = self._tree("xl/workbook.xml")
        self.ns = workbook.tag[: workbook.tag.index("}") + 1] if workbook.tag.startswith("{") else ""
        props = workbook.find(f"{self.ns}workbookPr")
        self.epoch = CALENDAR_MAC_1904 if props is not None and props.get("date1904") in ("1", "true") else None
        self.sheet_path = self._first_sheet(workbook)
        self.shared = self._shared_strings() if "xl/sharedStrings.xml" in names else []
        self.date_styles = self._date_styles() if "xl/styles.xml" in names else frozenset()

    def _tree(self, name: str):
        """The root element of a small part (workbook, relationships, styles)."""
        root = None
        with self.archive.open(name) as handle:
            for _event, elem in _iterparse(handle):
                root = elem  # the root element ends last
        return root

    def _first_sheet(self, workbook) -> str:
        sheet = workbook.find(f"{self.ns}sheets/{self.ns}sheet")
        rel_id = next(value for key, value in sheet.attrib.items() if key.endswith("}id"))
        rels = self._tree("xl/_rels/workbook.xml.rels")
        target = next(rel.get("Target") for rel in rels if rel.get("Id") == rel_id)
        return target.lstrip("/") if target.startswith("/") else f"xl/{target}"

    def _shared_strings(self) -> list[str]:
        si, t, r = f"{self.ns}si", f"{self.ns}t", f"{self.ns}r"
        strings = []
        with self.archive.open("xl/sharedStrings.xml") as handle:
            for _event, elem in _iterparse(handle):
                if elem.tag == si:
                    # Plain <t>, or rich-text runs <r><t>; phonetic hints (<rPh>) are skipped.
                    parts = [elem.findtext(t) or ""] + [run.findtext(t) or "" for run in elem.iter(r)]
                    strings.append("".join(parts))
                    elem.clear()
        return strings

    def _date_styles(self) -> frozenset[int]:
        styles = self._tree("xl/styles.xml")
        custom = {
            int(fmt.get("numFmtId")): fmt.get("formatCode", "")
            for fmt in styles.iterfind(f"{self.ns}numFmts/{self.ns}numFmt")
        }
        dates = set()
        for index, xf in enumerate(styles.iterfind(f"{self.ns}cellXfs/{self.ns}xf")):
            fmt_id = int(xf.get("numFmtId", "0"))
            if fmt_id in _DATE_FORMAT_IDS or (fmt_id in custom and is_date_format(custom[fmt_id])):
                dates.add(index)
        return frozenset(dates)

    def rows(self) -> Iterable[tuple[int, Sequence]]:
        row_tag, c_tag, v_tag = f"{self.ns}row", f"{self.ns}c", f"{self.ns}v"
        is_tag = f"{self.ns}is"
        number = 0
        cells: dict[int, object] = {}
        try:
            with self.archive.open(self.sheet_path) as handle:
                for _event, elem in _iterparse(handle):
                    tag = elem.tag
                    if tag == c_tag:
                        ref = elem.get("r")
                        column = _column_index(ref) if ref else len(cells)
                        kind = elem.get("t", "n")
                        if kind == "inlineStr":
                            inline = elem.find(is_tag)
                            value = "".join(inline.itertext()) if inline is not None else None
                        else:
                            value = self._value(kind, elem.findtext(v_tag), elem.get("s"))
                        if value is not None:
                            cells[column] = value
                    elif tag == row_tag:
                        r = elem.get("r")
                        number = int(r) if r else number + 1
                        if cells:
                            values = [None] * (max(cells) + 1)
                            for column, value in cells.items():
                                values[column] = value
                            yield number, values
                            cells = {}
                        elem.clear()  # keeps memory flat: a row's cells are done with
        except UnreadableFile:
            raise
        except Exception:
            raise UnreadableFile(_("文件无法读取：工作表内容已损坏")) from None
        finally:
            self.archive.close()

    def _value(self, kind: str, text: str | None, style: str | None):
        if text is None or text == "":
            return None
        if kind == "s":
            return self.shared[int(text)]
        if kind in ("str", "d"):
            return text
        if kind == "b":
            return text == "1"
        if kind == "e":
            return None  # #N/A, #REF! …: no value
        if style is not None and int(style) in self.date_styles:
            return from_excel(float(text), self.epoch) if self.epoch else from_excel(float(text))
        try:
            return int(text)
        except ValueError:
            return float(text)


_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def _iterparse(handle):
    """iterparse (end events) that refuses any DTD: no part of an .xlsx has one, and entity
    definitions are how XML bombs work. Expat ≥ 2.4.1 limits entity blow-ups too; this is
    the second lock, and it needs no extra dependency."""
    parser = ElementTree.XMLPullParser(events=("end",))
    tail = b""
    while chunk := handle.read(1 << 16):
        if _DTD.search(tail + chunk):
            raise UnreadableFile(_NOT_XLSX())
        tail = chunk[-16:]
        parser.feed(chunk)
        yield from parser.read_events()
    parser.close()
    yield from parser.read_events()


@functools.lru_cache(maxsize=256)
def _column_letters_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


def _column_index(ref: str) -> int:
    end = 0
    while end < len(ref) and ref[end] >= "A":  # letters sort after digits in ASCII
        end += 1
    return _column_letters_index(ref[:end])


def _csv_rows(fileobj) -> Iterable[tuple[int, Sequence]]:
    fileobj.seek(0)
    raw = fileobj.read()
    if isinstance(raw, str):
        text = raw
    else:
        if raw[:4] == b"PK\x03\x04" or b"\x00" in raw[:1024]:
            raise UnreadableFile(_("文件无法读取：这不是 .csv 文本文件"))
        text = _decode(raw)
    # csv counts physical lines only through its reader; line_num gives the row number a
    # spreadsheet program shows (quoted cells with line breaks span lines).
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for values in reader:
            yield reader.line_num, values
    except csv.Error:
        raise UnreadableFile(_("文件无法读取：第 %(row)d 行的 CSV 格式有误") % {"row": reader.line_num}) from None


def _decode(raw: bytes) -> str:
    # Excel on Chinese Windows saves CSV as GBK (GB18030 is its superset); others save UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(_("文件无法读取：无法识别的文字编码，请保存为 UTF-8 的 .csv 或 .xlsx"))


# --- Writing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateColumn:
    header: str
    hint: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    text: bool = False  # keep as text so Excel does not turn ID numbers into 4.2E+17
    width: int = 14
    example: str = ""


def build_template(
    columns: Sequence[TemplateColumn],
    *,
    title: str,
    notes_title: str,
    notes_headers: Sequence[str],
    data_rows: int = 5000,
) -> bytes:
    """An empty register to fill in: header row, a comment and a validation list per column.

    A second sheet lists every column with its rules and an example, for people who never
    open comments. The data sheet stays empty: an example row there would be imported.
    """
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(title)
    choices_sheet = None
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = _REQUIRED_FONT if column.required else _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        if column.hint:
            comment = Comment(column.hint, "Linli")
            comment.width, comment.height = 260, 120
            cell.comment = comment
        sheet.column_dimensions[letter].width = column.width
        if column.text:
            sheet.column_dimensions[letter].number_format = TEXT_FORMAT
        if column.choices:
            inline = ",".join(column.choices)
            if len(inline) + 2 <= _MAX_INLINE_LIST:
                formula = f'"{inline}"'
            else:
                if choices_sheet is None:
                    choices_sheet = workbook.create_sheet("choices")
                    choices_sheet.sheet_state = "hidden"
                for row, choice in enumerate(column.choices, start=1):
                    choices_sheet.cell(row=row, column=index, value=choice)
                end = len(column.choices)
                formula = f"{quote_sheetname(choices_sheet.title)}!${letter}$1:${letter}${end}"
            validation = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True)
            validation.add(f"{letter}2:{letter}{data_rows + 1}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet(_sheet_title(notes_title))
    notes.append(list(notes_headers))
    for cell in notes[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    for column in columns:
        notes.append(
            [column.header, "✓" if column.required else "", column.hint, "、".join(column.choices), column.example]
        )
    for letter, width in zip("ABCDE", (16, 8, 60, 40, 24), strict=True):
        notes.column_dimensions[letter].width = width
    if choices_sheet is not None:
        workbook.move_sheet(choices_sheet, offset=len(workbook.sheetnames))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OOXML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_OOXML}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_OOXML}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_OOXML}.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{_REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL_NS}/styles" Target="styles.xml"/></Relationships>'
    ),
    # Style 0: plain; style 1: the header (bold on the template's light green).
    "xl/styles.xml": (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="{_MAIN_NS}">'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="3"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill>'
        '<fill><patternFill patternType="solid"><fgColor rgb="FFE8F5E9"/></patternFill></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
    ),
}


def write_table(
    headers: Sequence[str],
    rows: Iterable[Sequence],
    *,
    title: str,
    widths: Sequence[int] = (),
):
    """Write a header row and `rows` as a one-sheet .xlsx; returns (file at 0, rows written).

    The sheet XML is written directly, row by row, into the zip (openpyxl's write-only mode
    spends ~30 µs per cell; a 40,000-member register has 640,000). Every text is an inline
    string, so a name like "=HYPERLINK(…)" can never become a live formula. Values: str,
    int, float, bool, date (written as 1980-05-17 text, as the importer reads it) or None.
    The file spills to disk past 16 MB so a province-sized export does not sit in memory.
    """
    output = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - handed to the response
    letters = [get_column_letter(i + 1) for i in range(max(len(headers), len(widths)) + 64)]
    count = 0
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, content in _PARTS.items():
            archive.writestr(name, content)
        archive.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            f'<sheets><sheet name="{_xml_text(_sheet_title(title))}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        with archive.open("xl/worksheets/sheet1.xml", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8") as sheet:
            cols = "".join(
                f'<col min="{i}" max="{i}" width="{width}" customWidth="1"/>' for i, width in enumerate(widths, start=1)
            )
            sheet.write(
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_MAIN_NS}">'
                '<sheetViews><sheetView workbookViewId="0">'
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
                f"{f'<cols>{cols}</cols>' if cols else ''}<sheetData>"
            )
            sheet.write(_xml_row(1, headers, letters, style=' s="1"'))
            buffer = []
            for number, row in enumerate(rows, start=2):
                if len(row) > len(letters):
                    letters = [get_column_letter(i + 1) for i in range(len(row))]
                buffer.append(_xml_row(number, row, letters))
                if len(buffer) >= 1000:
                    sheet.write("".join(buffer))
                    buffer.clear()
                count += 1
            sheet.write("".join(buffer))
            sheet.write("</sheetData></worksheet>")
    output.seek(0)
    return output, count


def _xml_row(number: int, values: Sequence, letters: Sequence[str], *, style: str = "") -> str:
    cells = []
    for index, value in enumerate(values):
        if value is None or value == "":
            continue
        ref = f"{letters[index]}{number}"
        if isinstance(value, bool):
            cells.append(f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>')
        elif isinstance(value, int | float):
            cells.append(f'<c r="{ref}"{style}><v>{value!r}</v></c>')
        else:
            if isinstance(value, dt.datetime):
                value = value.date()
            text = value.isoformat() if isinstance(value, dt.date) else str(value)
            cells.append(
                f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{_xml_text(text)}</t></is></c>'
            )
    return f'<row r="{number}">{"".join(cells)}</row>'


def _xml_text(text: str) -> str:
    # Control characters are not allowed in XML 1.0: a stray one would make Excel refuse the file.
    return xml_escape(ILLEGAL_CHARACTERS_RE.sub("", text), {'"': "&quot;"})


def _sheet_title(title: str) -> str:
    # Excel forbids \ / * ? : [ ] in sheet names and cuts them at 31 characters.
    return _BAD_TITLE_CHARS.sub("_", str(title))[:31] or "Sheet"
