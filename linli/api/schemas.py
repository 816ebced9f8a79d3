"""Request and response shapes of the JSON API. They validate shape; actions enforce the rules."""

import datetime as dt

from ninja import Field, Schema

from linli.orders.models import Kind, Rating, Status


class ErrorField(Schema):
    field: str = Field(..., description="出错的字段名")
    message: str


class ErrorOut(Schema):
    """Every error response: a stable machine-readable code and a message to show (Chinese)."""

    code: str = Field(..., description="稳定的错误代码，如 not_found、conflict、already_taken")
    message: str = Field(..., description="给用户看的中文说明")
    detail: list[ErrorField] | None = Field(None, description="校验错误：逐字段说明")


# The error responses every operation documents (and may return).
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


# --- auth -----------------------------------------------------------------------------------


class TokenIn(Schema):
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=200)


class TokenOut(Schema):
    token: str = Field(..., description="访问令牌：请求时放在 Authorization: Bearer <token> 中；只显示这一次")
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_at: dt.datetime


class MeResident(Schema):
    id: int
    household_id: int


class MeMember(Schema):
    id: int
    name: str
    community_ids: list[int] = Field(..., description="已报到（审核通过）的社区")


class MeOut(Schema):
    id: int
    username: str
    name: str
    roles: list[str]
    resident: MeResident | None
    member: MeMember | None
    community_ids: list[int] = Field(..., description="作为社区工作人员或街道管理员管理的社区")
    grid_ids: list[int]
    department_ids: list[int]


# --- orders: output -----------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class OrderEventOut(Schema):
    at: dt.datetime
    kind: str = Field(..., description="transition | bounce | reopen | overdue | follow_up | note")
    from_status: str
    to_status: str
    note: str
    actor: str | None = Field(None, description="操作人姓名（匿名工单对党员隐去居民姓名）")


class OrderListItem(Schema):
    id: int
    title: str
    kind: Kind
    status: Status
    status_label: str
    priority: int
    community: Ref
    grid: Ref | None
    category: Ref | None
    assignee: Ref | None
    created_at: dt.datetime
    respond_by: dt.datetime | None
    resolve_by: dt.datetime | None
    is_overdue: bool

    @staticmethod
    def resolve_status_label(obj) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_community(obj):
        return {"id": obj.community_id, "name": obj.community.name}

    @staticmethod
    def resolve_grid(obj):
        return {"id": obj.grid_id, "name": obj.grid.name} if obj.grid_id else None

    @staticmethod
    def resolve_category(obj):
        return {"id": obj.category_id, "name": obj.category.name} if obj.category_id else None

    @staticmethod
    def resolve_assignee(obj):
        return {"id": obj.assignee_id, "name": obj.assignee.name} if obj.assignee_id else None


class OrderOut(Schema):
    id: int
    title: str
    description: str
    kind: Kind
    status: Status
    status_label: str
    priority: int
    channel: str
    community: Ref
    grid: Ref | None
    household_id: int | None
    category: Ref | None
    address: str
    lat: float | None
    long: float | None
    anonymous: bool
    contact_name: str = Field(..., description="匿名工单对党员和部门为空")
    contact_phone: str = Field(..., description="总是脱敏显示，如 138****1234")
    assignee: Ref | None
    assignee_unit: Ref | None
    department: Ref | None
    merged_into_id: int | None
    created_at: dt.datetime
    accepted_at: dt.datetime | None
    respond_by: dt.datetime | None
    responded_at: dt.datetime | None
    resolve_by: dt.datetime | None
    escalation_due: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    is_overdue: bool
    result_note: str
    reject_reason: str
    rating: Rating | None
    rating_comment: str
    bounce_count: int = Field(..., description="被职能部门退回的次数（推回社区）")
    reopen_count: int = Field(..., description="重新办理的次数（不满意或回访后重办）")
    events: list[OrderEventOut] = Field(..., description="时间线，按时间先后")


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    group: str
    is_property: bool = Field(..., description="物业类（计入物业公司红黑榜）")


# --- orders: input ------------------------------------------------------------------------------


class OrderIn(Schema):
    """A new order. Location: `household_id`, or `community_id` with an address or coordinates;
    a resident who gives neither files for their own household."""

    title: str = Field(..., min_length=1, max_length=100)
    description: str = Field("", max_length=4000)
    kind: Kind = Kind.NEED
    community_id: int | None = None
    household_id: int | None = None
    address: str = Field("", max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    long: float | None = Field(None, ge=-180, le=180)
    category_id: int | None = None
    anonymous: bool = Field(False, description="对党员匿名")
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20, pattern=r"^[0-9+\- ]*$")


class OrderFilters(Schema):
    status: Status | None = None
    category: int | None = Field(None, description="类别 id")
    grid: int | None = Field(None, description="网格 id")
    community: int | None = Field(None, description="社区 id")
    overdue: bool = Field(False, description="只看超时未响应或未办结的")
    mine: bool = Field(False, description="只看我提交的或我承办的")


class NoteIn(Schema):
    note: str = Field("", max_length=500)


class ReasonIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


class OptionalReasonIn(Schema):
    reason: str = Field("", max_length=200)


class AcceptIn(Schema):
    category_id: int
    priority: int = Field(3, ge=1, le=5, description="1 最低 … 5 紧急")
    kind: Kind | None = None
    note: str = Field("", max_length=500)


class MergeIn(Schema):
    into_id: int = Field(..., description="合并到的工单 id（本社区、未结束）")
    note: str = Field("", max_length=500)


class DispatchIn(Schema):
    """Exactly one target: a member, a unit (集体派单) or the pool (灵活下单)."""

    member_id: int | None = None
    unit_id: int | None = None
    pool: bool = False
    note: str = Field("", max_length=500)


class TeamHoursIn(Schema):
    member_id: int
    hours: float = Field(..., gt=0, le=24)


class ResolveIn(Schema):
    note: str = Field(..., min_length=1, max_length=4000, description="办理结果")
    hours: float | None = Field(None, gt=0, le=24, description="本人服务时长（小时）；部门办结时不填")
    team_hours: list[TeamHoursIn] = Field(default_factory=list, max_length=50, description="同组其他党员的时长")


class RateIn(Schema):
    rating: Rating
    comment: str = Field("", max_length=500)


class EscalateIn(Schema):
    department_id: int
    due: dt.datetime | None = Field(None, description="部门办理时限（ISO 8601）；不填则为办结时限")
    note: str = Field("", max_length=500)
