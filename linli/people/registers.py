"""The four registers communities keep in Excel — households, residents, members, units.

Here: each register's columns, how a row is read and checked, the template to fill in and
the rows of an export. Reads only: checking a file looks codes and duplicates up in the
database but writes nothing; linli.people.actions.import_register saves a checked file.

Column headers are the file format: fixed Chinese strings (marked with gettext_noop so an
English UI can show them translated); an upload may use either. Choice columns speak the
models' Chinese labels (CareTag, ServiceType, IdType, Unit.Kind, MemberSkill.Level).
"""

import datetime as dt
import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_noop as N_

from linli.lib import crypto, idcard, masking, xlsx
from linli.lib.errors import DomainError
from linli.orgs.models import Building, Community, Estate, Grid, Household, Unit
from linli.people import actions as people_actions
from linli.people.models import (
    CareTag,
    Gender,
    IdType,
    Member,
    MemberSkill,
    Registration,
    Resident,
    ServiceType,
    Skill,
)

# Lookups with many keys go to the database in slices: old SQLite builds allow 999
# parameters per statement, and one giant IN list plans badly on PostgreSQL too.
_SLICE = 900
_LIST_SPLIT = re.compile(r"[,，、;；\s]+")
_YES = {"是", "y", "yes", "1", "true", "√", "✓", "有"}
_NO = {"否", "n", "no", "0", "false", "×", "无"}
_YES_NO = ("是", "否")
_GENDERS = {"男": Gender.MALE, "女": Gender.FEMALE, "m": Gender.MALE, "f": Gender.FEMALE}
_GENDER_LABEL = {Gender.MALE: "男", Gender.FEMALE: "女"}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")
_ID_TYPE_ALIASES = {"身份证": IdType.RESIDENT_ID}


@functools.cache
def _zh(choices) -> dict[str, object]:
    """Chinese label → value of a model's choices."""
    with translation.override("zh-hans"):
        return {str(label): value for value, label in choices.choices}


@functools.cache
def _zh_by_value(choices) -> dict[object, str]:
    return {value: label for label, value in _zh(choices).items()}


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the fixed Chinese header, marked with N_()
    hint: str = ""  # marked with N_(); a cell comment in the template and a line of its notes
    required: bool = False
    choices: tuple[str, ...] = ()  # a drop-down list in the template
    options: type | None = None  # a model's choices: a drop-down, or listed in the hint if multi
    multi: bool = False  # a comma-separated list
    text: bool = False  # formatted as text in the template (ID numbers, phones, codes)
    width: int = 14
    max_length: int = 200
    example: str = ""

    @property
    def label(self) -> str:
        return _(self.header)

    def choice_labels(self) -> tuple[str, ...]:
        return tuple(_zh(self.options)) if self.options else self.choices


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self):
        return _("第 %(row)d 行「%(column)s」：%(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class Checked:
    """A checked file: clean rows ready to save, or the errors that stop all of them."""

    kind: str
    rows: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Register:
    kind: str
    title: object  # a lazy translation
    columns: tuple[Column, ...]
    check_rows: Callable
    export_rows: Callable
    export_first: tuple[Column, ...] = ()  # columns an export adds before the import columns

    @property
    def export_columns(self) -> tuple[Column, ...]:
        return self.export_first + self.columns


def _c(key, header, hint="", **kw) -> Column:
    return Column(key=key, header=header, hint=hint, **kw)


# --- Reading cells -------------------------------------------------------------------------


class _Sheet:
    """One uploaded table read as a register: which column is where, and the errors found."""

    def __init__(self, register: Register, table: xlsx.Table):
        self.register = register
        self.table = table
        self.errors: list[RowError] = []
        self.columns = {c.key: c for c in register.columns}
        self.labels = {c.key: c.label for c in register.columns}
        self.index: dict[str, int] = {}
        by_header = {}
        for column in register.columns:
            by_header[column.header] = column
            by_header[column.label] = column
        for position, header in enumerate(table.headers):
            column = by_header.get(header)
            if column is not None and column.key not in self.index:
                self.index[column.key] = position
        for column in register.columns:
            if column.required and column.key not in self.index:
                self.errors.append(RowError(table.header_row, column.label, _("表头缺少此列，请使用导入模板")))

    def rows(self) -> Iterator["_Row"]:
        for number, cells in self.table.rows:
            yield _Row(self, number, cells)

    def distinct_texts(self, key: str) -> set[str]:
        """Every distinct text in a column, to look codes up in one query before the rows."""
        position = self.index.get(key)
        if position is None:
            return set()
        texts = set()
        for _number, cells in self.table.rows:
            if position < len(cells):
                texts.update(_split(_text(cells[position])))
        return texts

    def error(self, row: int, key: str, message) -> None:
        self.errors.append(RowError(row, self.labels[key], str(message)))


class _Row:
    """One data row; every reader records its own errors and returns a usable default."""

    __slots__ = ("cells", "number", "ok", "sheet")

    def __init__(self, sheet: _Sheet, number: int, cells: tuple):
        self.sheet = sheet
        self.number = number
        self.cells = cells
        self.ok = True

    def raw(self, key: str):
        position = self.sheet.index.get(key)
        if position is None or position >= len(self.cells):
            return None
        return self.cells[position]

    def given(self, key: str) -> bool:
        return bool(_text(self.raw(key)))

    def error(self, key: str, message) -> None:
        self.ok = False
        self.sheet.error(self.number, key, message)

    def text(self, key: str) -> str:
        value = _text(self.raw(key))
        column = self.sheet.columns[key]
        if not value:
            if column.required:
                self.error(key, _("必填，不能为空"))
            return ""
        if len(value) > column.max_length:
            self.error(key, _("不能超过 %(max)d 个字") % {"max": column.max_length})
            return ""
        return value

    def choice(self, key: str, mapping: dict, *, default=None):
        value = self.text(key)
        if not value:
            return default
        found = mapping.get(value, mapping.get(value.lower()))
        if found is None:
            self._not_a_choice(key, value, mapping)
        return found

    def _not_a_choice(self, key: str, value: str, mapping: dict) -> None:
        choices = "、".join(self.sheet.columns[key].choice_labels() or mapping)
        self.error(key, _("「%(value)s」不是可选值（%(choices)s）") % {"value": value, "choices": choices})

    def yes_no(self, key: str, *, default: bool) -> bool:
        value = self.text(key).lower()
        if not value:
            return default
        if value in _YES:
            return True
        if value in _NO:
            return False
        self.error(key, _("请填写“是”或“否”"))
        return default

    def labels(self, key: str, choices) -> list[str]:
        """A comma-separated list of a model's labels (or values) → sorted distinct values."""
        mapping = _zh(choices)
        values = set()
        for item in _split(self.text(key)):
            value = mapping.get(item) or (item if item in choices.values else None)
            if value is None:
                self._not_a_choice(key, item, mapping)
            else:
                values.add(str(value))
        return sorted(values)

    def date(self, key: str) -> dt.date | None:
        value = self.raw(key)
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            parsed = value
        else:
            text = self.text(key)
            if not text:
                return None
            parsed = _parse_date(text)
            if parsed is None:
                self.error(key, _("日期格式应为 1980-05-17"))
                return None
        if not dt.date(1900, 1, 1) <= parsed <= timezone.localdate():
            self.error(key, _("日期不在合理范围内"))
            return None
        return parsed

    def id_number(self, key: str, id_type: str = IdType.RESIDENT_ID) -> str:
        value = self.raw(key)
        if isinstance(value, float) and value >= 1e11:
            # Excel keeps 15 significant digits: an 18-digit number typed into a "General"
            # cell has already lost its last digits. Say so instead of "wrong checksum".
            self.error(key, _("证件号码被 Excel 存成了数字，末几位已丢失；请把该列设为“文本”后重新填写"))
            return ""
        text = self.text(key)
        if not text:
            return ""
        try:
            return people_actions._validated_id(id_type, text)
        except DomainError as exc:
            self.error(key, exc.message)
            return ""

    def phone(self, key: str) -> str:
        text = self.text(key)  # a required column reports emptiness itself
        if not text:
            return ""
        try:
            return people_actions._validated_phone(text, required=False)
        except DomainError as exc:
            self.error(key, exc.message)
            return ""

    def communities(self, key: str, communities: dict[str, int], *, many: bool = True) -> list[int]:
        """Community codes → ids; a code outside the user's scope is an error."""
        ids: list[int] = []
        codes = _split(self.text(key))
        if len(codes) > 1 and not many:
            self.error(key, _("只能填写一个社区编码"))
            return ids
        for code in codes:
            community_id = communities.get(code)
            if community_id is None:
                self.error(key, _out_of_scope(code))
            elif community_id not in ids:
                ids.append(community_id)
        return ids

    def duplicate(self, key: str, seen: dict, value) -> bool:
        """Report a value already seen on an earlier row of the same file."""
        first = seen.setdefault(value, self.number)
        if first != self.number:
            self.error(key, _("与第 %(row)d 行重复") % {"row": first})
            return True
        return False


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _parse_date(text: str) -> dt.date | None:
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _split(text: str) -> list[str]:
    return [item for item in _LIST_SPLIT.split(text) if item]


def _out_of_scope(code: str) -> str:
    # One message for "no such code" and "not yours": the codes of other communities are
    # not confirmed to someone outside them.
    return _("社区编码「%(code)s」不存在或不在您的管理范围内") % {"code": code}


def _identity(row: _Row, *, number: str, id_type: str, id_key: str = "id_number"):
    """Gender and birth date from their columns, checked against (or taken from) the ID number."""
    gender = row.choice("gender", _GENDERS)
    birth = row.date("birth_date")
    if number and id_type == IdType.RESIDENT_ID:
        from_id, born = idcard.gender(number), idcard.birth_date(number)
        if gender is None and not row.given("gender"):
            gender = from_id
        elif gender is not None and gender != from_id:
            row.error("gender", _("性别与身份证号不符"))
        if birth is None and not row.given("birth_date"):
            birth = born
        elif birth is not None and birth != born:
            row.error("birth_date", _("出生日期与身份证号不符"))
    # Without a (valid) ID number the two columns must be filled; an invalid ID number has
    # its own error already, and one error per defect is enough.
    id_failed = row.given(id_key) and not number
    if gender is None and not row.given("gender") and not id_failed:
        row.error("gender", _("必填（或填写身份证号）"))
    return gender, birth


def _staffed(user):
    return Community.objects.staffed_by(user)


def _in_slices(values: Iterable, query: Callable[[list], Iterable]) -> list:
    values = list(values)
    found: list = []
    for start in range(0, len(values), _SLICE):
        found.extend(query(values[start : start + _SLICE]))
    return found


def _taken(sheet: _Sheet, rows: list[dict], model, message: str) -> None:
    """Rows whose id_hash is already in the database are errors (one query per slice)."""
    hashes = [r["id_hash"] for r in rows if r["id_hash"]]
    taken = set(_in_slices(hashes, lambda s: model.objects.filter(id_hash__in=s).values_list("id_hash", flat=True)))
    for r in rows:
        if r["id_hash"] in taken:
            sheet.error(r["row"], "id_number", message)


def resident_id_hash(number: str) -> str | None:
    """The keyed hash create_resident stores beside a resident's ID number."""
    return crypto.lookup_hash(number) if number else None


def member_id_hash(id_type: str, number: str) -> str:
    """The keyed hash create_member stores beside a member's ID number (type-qualified)."""
    return crypto.lookup_hash(f"{id_type}:{number}")


# --- Households ----------------------------------------------------------------------------

HOUSEHOLD_COLUMNS = (
    _c(
        "community", N_("社区编码"), N_("户所在社区的编码，须在您的管理范围内"), required=True, text=True, max_length=32
    ),
    _c("grid", N_("网格编码"), N_("户所在网格的编码，须属于该社区"), required=True, text=True, max_length=32),
    _c("estate", N_("小区"), N_("小区名称，可不填；新的小区名称会自动建立"), max_length=100, example="幸福家园"),
    _c("building", N_("楼栋"), N_("楼栋名称，如“3栋”；网格内新的楼栋会自动建立"), required=True, max_length=100),
    _c("entrance", N_("单元"), N_("如“1单元”，没有单元可不填"), text=True, max_length=20, example="1单元"),
    _c("door", N_("门牌号"), N_("如“301”"), required=True, text=True, max_length=20, example="301"),
    _c("address", N_("地址"), N_("户的完整地址；不填则按 小区+楼栋+单元+门牌号 生成"), width=30),
    _c("building_address", N_("楼栋地址"), N_("新楼栋的地址，如“幸福路12号”；不填则按 小区+楼栋 生成"), width=24),
)


def _check_households(sheet: _Sheet, user) -> list[dict]:
    staffed = _staffed(user)
    communities = dict(staffed.values_list("code", "id"))
    grids = {
        code: (pk, cid)
        for code, pk, cid in Grid.objects.filter(community__in=staffed).values_list("code", "id", "community_id")
    }
    estates = {
        (cid, name): pk
        for pk, cid, name in Estate.objects.filter(community__in=staffed).values_list("id", "community_id", "name")
    }
    buildings = {
        (grid_id, name): pk
        for pk, grid_id, name in Building.objects.filter(grid__community__in=staffed).values_list(
            "id", "grid_id", "name"
        )
    }
    existing = set(
        Household.objects.filter(building__grid__community__in=staffed).values_list("building_id", "entrance", "door")
    )
    seen: dict = {}
    out = []
    for row in sheet.rows():
        community_code, grid_code = row.text("community"), row.text("grid")
        estate, building = row.text("estate"), row.text("building")
        entrance, door = row.text("entrance"), row.text("door")
        address, building_address = row.text("address"), row.text("building_address")
        community_id = communities.get(community_code)
        if community_code and community_id is None:
            row.error("community", _out_of_scope(community_code))
        grid_id, grid_community = grids.get(grid_code, (None, None))
        if grid_code and community_id is not None and (grid_id is None or grid_community != community_id):
            row.error("grid", _("网格编码「%(code)s」不属于该社区") % {"code": grid_code})
        if not row.ok or row.duplicate("door", seen, (grid_id, building, entrance, door)):
            continue
        building_id = buildings.get((grid_id, building))
        if building_id is not None and (building_id, entrance, door) in existing:
            row.error("door", _("该户已登记（同一楼栋、单元、门牌号）"))
            continue
        out.append(
            {
                "row": row.number,
                "community_id": community_id,
                "grid_id": grid_id,
                "estate": estate,
                "estate_id": estates.get((community_id, estate)) if estate else None,
                "building": building,
                "building_id": building_id,
                "building_address": building_address or f"{estate}{building}",
                "entrance": entrance,
                "door": door,
                "address": address or f"{estate}{building}{entrance}{door}",
            }
        )
    return out


def _export_households(user) -> Iterator[list]:
    qs = (
        Household.objects.visible_to(user)
        .order_by("building__grid__community__code", "building__grid__code", "building__name", "entrance", "door")
        .values_list(
            "building__grid__community__code",
            "building__grid__code",
            "building__estate__name",
            "building__name",
            "entrance",
            "door",
            "address",
            "building__address",
        )
    )
    for values in qs.iterator(chunk_size=2000):
        yield [v or "" for v in values]


# --- Residents -----------------------------------------------------------------------------

RESIDENT_COLUMNS = (
    _c("community", N_("社区编码"), N_("可不填；同一地址在多个社区时用来区分"), text=True, max_length=32),
    _c("grid", N_("网格编码"), N_("可不填；同名楼栋在多个网格时用来区分"), text=True, max_length=32),
    _c("address", N_("户地址"), N_("与住户登记的地址一致；也可不填，改填 楼栋、单元、门牌号"), width=30),
    _c("building", N_("楼栋"), N_("与住户登记一致，如“3栋”"), max_length=100),
    _c("entrance", N_("单元"), N_("如“1单元”，没有单元可不填"), text=True, max_length=20),
    _c("door", N_("门牌号"), N_("如“301”"), text=True, max_length=20),
    _c("name", N_("姓名"), N_("必填"), required=True, max_length=50, example="张三"),
    _c("gender", N_("性别"), N_("男 或 女；不填则按身份证号判断"), choices=("男", "女"), width=8),
    _c("birth_date", N_("出生日期"), N_("如 1980-05-17；不填则按身份证号判断"), text=True, example="1980-05-17"),
    _c("phone", N_("联系电话"), N_("7到12位数字"), text=True, example="13812345678"),
    _c("id_number", N_("身份证号"), N_("18位，末位可为X；按 GB 11643 校验"), text=True, width=22),
    _c(
        "tags",
        N_("关爱标签"),
        N_("可填多个，用逗号分隔"),
        options=CareTag,
        multi=True,
        width=20,
        example="独居老人，低保",
    ),
    _c("party", N_("党员"), N_("是 或 否，默认 否"), choices=_YES_NO, width=8),
    _c("relation", N_("与户主关系"), N_("如 户主、配偶、子女"), max_length=20, example="户主"),
)


def _household_index(user):
    rows = Household.objects.filter(building__grid__community__in=_staffed(user)).values_list(
        "id", "address", "building__name", "entrance", "door", "building__grid__code", "building__grid__community__code"
    )
    by_address, by_key = defaultdict(list), defaultdict(list)
    for pk, address, building, entrance, door, grid_code, community_code in rows:
        entry = (pk, community_code, grid_code)
        by_address[address].append(entry)
        by_key[(building, entrance, door)].append(entry)
    return by_address, by_key


def _find_household(row: _Row, by_address, by_key, community_codes) -> int | None:
    community, grid = row.text("community"), row.text("grid")
    address, building = row.text("address"), row.text("building")
    entrance, door = row.text("entrance"), row.text("door")
    if community and community not in community_codes:
        row.error("community", _out_of_scope(community))
        return None
    if building and door:
        key, candidates = "door", by_key.get((building, entrance, door), [])
    elif address:
        key, candidates = "address", by_address.get(address, [])
    else:
        row.error("address", _("请填写户地址，或者填写楼栋、单元、门牌号"))
        return None
    matches = [pk for pk, c, g in candidates if (not community or c == community) and (not grid or g == grid)]
    if not matches:
        row.error(key, _("找不到该户（或不在您的管理范围内），请先导入住户"))
        return None
    if len(matches) > 1:
        row.error(key, _("对应了 %(n)d 户，请填写社区编码或网格编码加以区分") % {"n": len(matches)})
        return None
    return matches[0]


def _check_residents(sheet: _Sheet, user) -> list[dict]:
    community_codes = set(_staffed(user).values_list("code", flat=True))
    by_address, by_key = _household_index(user)
    seen: dict = {}
    out = []
    for row in sheet.rows():
        household_id = _find_household(row, by_address, by_key, community_codes)
        name = row.text("name")
        number = row.id_number("id_number")
        gender, birth = _identity(row, number=number, id_type=IdType.RESIDENT_ID)
        phone = row.phone("phone")
        tags = row.labels("tags", CareTag)
        party = row.yes_no("party", default=False)
        relation = row.text("relation")
        id_hash = resident_id_hash(number)
        if (id_hash and row.duplicate("id_number", seen, id_hash)) or not row.ok:
            continue
        out.append(
            {
                "row": row.number,
                "household_id": household_id,
                "name": name,
                "gender": gender,
                "birth_date": birth,
                "phone": phone,
                "phone_hash": crypto.lookup_hash(phone) if phone else "",
                "id_number": number,
                "id_hash": id_hash,
                "tags": tags,
                "is_party_member": party,
                "relation": relation,
            }
        )
    _taken(sheet, out, Resident, _("该身份证号已登记"))
    return out


def _export_residents(user) -> Iterator[list]:
    # values_list, not model instances: a third of the time for 40,000 rows, and the field
    # converters still decrypt (from_db_value runs for values_list too).
    qs = (
        Resident.objects.visible_to(user)
        .current()
        .order_by("household__building__grid__community__code", "household_id", "id")
        .values_list(
            "household__building__grid__community__code",
            "household__building__grid__code",
            "household__address",
            "household__building__name",
            "household__entrance",
            "household__door",
            "name",
            "gender",
            "birth_date",
            "phone",
            "id_number",
            "tags",
            "is_party_member",
            "relation",
        )
    )
    tag_labels = _zh_by_value(CareTag)
    for *place, name, gender, birth, phone, number, tags, party, relation in qs.iterator(chunk_size=2000):
        yield [
            *place,
            name,
            _GENDER_LABEL.get(gender, ""),
            birth,
            masking.mask_phone(phone),
            masking.mask_id_number(number),
            "，".join(tag_labels.get(t, t) for t in tags or []),
            "是" if party else "否",
            relation,
        ]


# --- Members (民政部令第67号 art. 5, plus 双报到) -------------------------------------------

MEMBER_COLUMNS = (
    _c("name", N_("姓名"), N_("必填"), required=True, max_length=50, example="李四"),
    _c("gender", N_("性别"), N_("男 或 女；居民身份证可不填"), choices=("男", "女"), width=8),
    _c("birth_date", N_("出生日期"), N_("如 1985-03-01；居民身份证可不填"), text=True, example="1985-03-01"),
    _c("id_type", N_("证件类型"), N_("默认 居民身份证"), options=IdType, width=20),
    _c("id_number", N_("证件号码"), N_("必填；居民身份证按 GB 11643 校验"), required=True, text=True, width=22),
    _c("residence_area", N_("居住区域"), N_("如“幸福社区3栋”"), width=20),
    _c("phone", N_("联系方式"), N_("必填，7到12位数字"), required=True, text=True, example="13812345678"),
    _c(
        "skills",
        N_("专业技能"),
        N_("技能名称，可填多个，用逗号分隔；可加水平（了解、熟练、专业），如“水电维修:专业”，默认 熟练"),
        width=24,
        example="水电维修:专业",
    ),
    _c("service_types", N_("服务类别"), N_("可填多个，用逗号分隔"), options=ServiceType, multi=True, width=20),
    _c("party", N_("党员"), N_("是 或 否，默认 是"), choices=_YES_NO, width=8),
    _c("unit", N_("单位编码"), N_("报到单位的编码，可不填；须先导入单位"), text=True, max_length=32),
    _c(
        "home_community",
        N_("居住社区编码"),
        N_("须在您的管理范围内；与报到社区编码至少填一项"),
        text=True,
        max_length=32,
    ),
    _c("communities", N_("报到社区编码"), N_("已报到并通过审核的社区编码，可填多个，用逗号分隔"), text=True),
    _c("consent_contact", N_("同意联系"), N_("是 或 否，默认 否"), choices=_YES_NO, width=10),
    _c(
        "consent_report",
        N_("同意向单位反馈"),
        N_("是 或 否，默认 否；本人同意后才向其单位反馈服务情况"),
        choices=_YES_NO,
        width=14,
    ),
)


def _skill_index() -> dict[str, int]:
    index = {}
    for pk, code, name in Skill.objects.values_list("id", "code", "name"):
        index[code] = pk
        index[name] = pk
    return index


def _skills(row: _Row, skills: dict[str, int]) -> dict[int, int]:
    levels = _zh(MemberSkill.Level)
    chosen = {}
    for item in _split(row.text("skills")):
        name, _sep, level_text = item.replace("：", ":").partition(":")
        skill_id = skills.get(name)
        if skill_id is None:
            row.error("skills", _("未知技能「%(name)s」（技能清单由街道维护）") % {"name": name})
        elif level_text and level_text not in levels:
            row.error("skills", _("技能水平应为 了解、熟练 或 专业"))
        else:
            chosen[skill_id] = levels[level_text] if level_text else MemberSkill.Level.SKILLED
    return chosen


def _check_members(sheet: _Sheet, user) -> list[dict]:
    communities = dict(_staffed(user).values_list("code", "id"))
    skills = _skill_index()
    id_types = {**_zh(IdType), **_ID_TYPE_ALIASES}
    unit_codes = sheet.distinct_texts("unit")
    units = dict(_in_slices(unit_codes, lambda s: Unit.objects.filter(code__in=s).values_list("code", "id")))
    seen: dict = {}
    out = []
    for row in sheet.rows():
        name = row.text("name")
        id_type = row.choice("id_type", id_types, default=IdType.RESIDENT_ID)
        number = row.id_number("id_number", id_type) if id_type else ""
        gender, birth = _identity(row, number=number, id_type=id_type)
        if birth is None and not row.given("birth_date") and not (row.given("id_number") and not number):
            row.error("birth_date", _("必填（居民身份证可不填）"))
        phone = row.phone("phone")
        member_skills = _skills(row, skills)
        service_types = row.labels("service_types", ServiceType)
        unit_code = row.text("unit")
        unit_id = units.get(unit_code)
        if unit_code and unit_id is None:
            row.error("unit", _("单位编码「%(code)s」不存在，请先导入单位") % {"code": unit_code})
        home = row.communities("home_community", communities, many=False)
        registered = row.communities("communities", communities)
        if not home and not registered and not row.given("home_community") and not row.given("communities"):
            row.error("home_community", _("居住社区编码和报到社区编码至少填一项"))
        party = row.yes_no("party", default=True)
        consent_contact = row.yes_no("consent_contact", default=False)
        consent_report = row.yes_no("consent_report", default=False)
        residence_area = row.text("residence_area")
        id_hash = member_id_hash(id_type, number) if number else ""
        if (id_hash and row.duplicate("id_number", seen, id_hash)) or not row.ok:
            continue
        out.append(
            {
                "row": row.number,
                "name": name,
                "gender": gender,
                "birth_date": birth,
                "id_type": id_type,
                "id_number": number,
                "id_hash": id_hash,
                "phone": phone,
                "phone_hash": crypto.lookup_hash(phone),
                "residence_area": residence_area,
                "service_types": service_types,
                "skills": member_skills,
                "is_party_member": party,
                "unit_id": unit_id,
                "home_community_id": home[0] if home else None,
                "community_ids": registered,
                "consent_contact": consent_contact,
                "consent_report": consent_report,
            }
        )
    _taken(sheet, out, Member, _("该证件号码已登记为队员"))
    return out


def _export_members(user) -> Iterator[list]:
    qs = (
        Member.objects.visible_to(user)
        .order_by("member_no")
        .values_list(
            "id",
            "member_no",
            "name",
            "gender",
            "birth_date",
            "id_type",
            "id_number",
            "residence_area",
            "phone",
            "service_types",
            "is_party_member",
            "unit__code",
            "home_community__code",
            "consent_contact_at",
            "consent_report_at",
        )
    )
    approved = Registration.objects.visible_to(user).filter(status=Registration.Status.APPROVED)
    id_types, services = _zh_by_value(IdType), _zh_by_value(ServiceType)
    levels = _zh_by_value(MemberSkill.Level)
    for chunk in _chunks(qs.iterator(chunk_size=2000), 900):
        ids = [values[0] for values in chunk]
        skills, communities = defaultdict(list), defaultdict(list)
        for member_id, skill, level in (
            MemberSkill.objects.filter(member_id__in=ids)
            .order_by("skill__code")
            .values_list("member_id", "skill__name", "level")
        ):
            skills[member_id].append(f"{skill}:{levels.get(level, '')}")
        for member_id, code in (
            approved.filter(member_id__in=ids).order_by("community__code").values_list("member_id", "community__code")
        ):
            communities[member_id].append(code)
        for (
            pk,
            no,
            name,
            gender,
            birth,
            id_type,
            number,
            area,
            phone,
            service_types,
            party,
            unit,
            home,
            contact,
            report,
        ) in chunk:
            yield [
                no,
                name,
                _GENDER_LABEL.get(gender, ""),
                birth,
                id_types.get(id_type, id_type),
                masking.mask_id_number(number),
                area,
                masking.mask_phone(phone),
                "，".join(skills[pk]),
                "，".join(services.get(s, s) for s in service_types or []),
                "是" if party else "否",
                unit or "",
                home or "",
                "，".join(communities[pk]),
                "是" if contact else "否",
                "是" if report else "否",
            ]


def _chunks(iterable: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- Units ---------------------------------------------------------------------------------

UNIT_COLUMNS = (
    _c("code", N_("编码"), N_("单位编码，全局唯一，如 U01"), required=True, text=True, max_length=32, example="U01"),
    _c("name", N_("名称"), N_("必填"), required=True, max_length=100, example="区财政局"),
    _c("kind", N_("类型"), N_("默认 机关"), options=Unit.Kind, width=12),
    _c("party_branch", N_("党组织名称"), N_("如“区财政局机关党支部”"), max_length=100, width=24),
    _c(
        "communities",
        N_("包保社区编码"),
        N_("包保（结对）社区的编码，可填多个，用逗号分隔；社区工作人员导入时必填"),
        text=True,
        width=18,
    ),
)


def _check_units(sheet: _Sheet, user) -> list[dict]:
    rows = _staffed(user).values_list("code", "id", "town_id")
    communities = {code: pk for code, pk, _town in rows}
    town_of = {pk: town for _code, pk, town in rows}
    own_towns = sorted(user.scope.town_ids)
    codes = sheet.distinct_texts("code")
    taken = set(_in_slices(codes, lambda s: Unit.objects.filter(code__in=s).values_list("code", flat=True)))
    kinds = _zh(Unit.Kind)
    seen: dict = {}
    out = []
    for row in sheet.rows():
        code, name = row.text("code"), row.text("name")
        kind = row.choice("kind", kinds, default=Unit.Kind.ORGAN)
        party_branch = row.text("party_branch")
        paired = row.communities("communities", communities)
        if code and row.duplicate("code", seen, code):
            continue
        if code in taken:
            row.error("code", _("单位编码「%(code)s」已存在") % {"code": code})
        # A unit belongs to a town; staff of a community see it only through a pairing.
        town_id = town_of[paired[0]] if paired else (own_towns[0] if len(own_towns) == 1 else None)
        if town_id is None and not row.given("communities"):
            row.error("communities", _("请填写包保社区编码"))
        if not row.ok:
            continue
        out.append(
            {
                "row": row.number,
                "code": code,
                "name": name,
                "kind": kind,
                "party_branch": party_branch,
                "town_id": town_id,
                "community_ids": paired,
            }
        )
    return out


def _export_units(user) -> Iterator[list]:
    kinds = _zh_by_value(Unit.Kind)
    qs = Unit.objects.visible_to(user).prefetch_related("pairings__community").order_by("code")
    for u in qs.iterator(chunk_size=2000):
        paired = sorted(p.community.code for p in u.pairings.all())
        yield [u.code, u.name, kinds.get(u.kind, u.kind), u.party_branch, "，".join(paired)]


# --- The registers -------------------------------------------------------------------------

REGISTERS: dict[str, Register] = {
    "households": Register(
        "households", gettext_lazy("住户"), HOUSEHOLD_COLUMNS, _check_households, _export_households
    ),
    "residents": Register("residents", gettext_lazy("居民"), RESIDENT_COLUMNS, _check_residents, _export_residents),
    "members": Register(
        "members",
        gettext_lazy("下沉党员/志愿者"),
        MEMBER_COLUMNS,
        _check_members,
        _export_members,
        export_first=(_c("member_no", N_("队员编号"), width=12),),
    ),
    "units": Register("units", gettext_lazy("单位"), UNIT_COLUMNS, _check_units, _export_units),
}


def check(kind: str, table: xlsx.Table, *, user) -> Checked:
    """Read and check every row of `table` as register `kind` for `user`. Reads only.

    Community codes must be ones the user manages (a town admin: the town's communities;
    community staff: their own). Errors come sorted by row, then by column order.
    """
    register = REGISTERS[kind]
    sheet = _Sheet(register, table)
    result = Checked(kind=kind, total=len(table.rows))
    if not sheet.errors and not table.rows:
        sheet.errors.append(RowError(table.header_row + 1, register.columns[0].label, _("文件中没有数据行")))
    if not sheet.errors:
        result.rows = register.check_rows(sheet, user)
    order = {column.label: i for i, column in enumerate(register.columns)}
    result.errors = sorted(sheet.errors, key=lambda e: (e.row, order.get(e.column, 0)))
    return result


def template_workbook(kind: str) -> bytes:
    """The .xlsx template of a register: headers, a comment and a drop-down per column, notes."""
    register = REGISTERS[kind]
    columns = []
    for c in register.columns:
        hint = _(c.hint) if c.hint else ""
        if c.multi:
            hint = f"{hint}：{'、'.join(c.choice_labels())}"
        columns.append(
            xlsx.TemplateColumn(
                header=c.label,
                hint=hint,
                required=c.required,
                choices=() if c.multi else c.choice_labels(),
                text=c.text,
                width=c.width,
                example=c.example,
            )
        )
    return xlsx.build_template(
        columns,
        title=str(register.title),
        notes_title=_("填写说明"),
        notes_headers=[_("列名"), _("必填"), _("说明"), _("可选值"), _("示例")],
    )


# Exports show personal data masked (ID first 6 + last 4, phone 138****1234) whatever the
# exporter's role: no role needs a full list of ID numbers in a spreadsheet, and revealing
# one person's number is a separate, audited act on that person's page.


def export_table(kind: str, user) -> tuple[list[str], list[int], Iterator[list]]:
    """Headers, column widths and (lazily) the rows of register `kind` that `user` may see."""
    register = REGISTERS[kind]
    columns = register.export_columns
    return [c.label for c in columns], [c.width for c in columns], register.export_rows(user)
