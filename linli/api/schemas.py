"""Request and response shapes of the JSON API. They validate shape; actions enforce the rules."""

import datetime as dt
from typing import Annotated, Literal

from ninja import Field, Schema

from linli.activities.models import Activity, SignUp
from linli.activities.models import Kind as ActivityKind
from linli.credits.models import CorrectionRequest, ServiceKind, SourceType
from linli.orders.models import Kind, Rating, Status
from linli.people.models import Registration

# An object's id, in a body or a query: as large as a 64-bit primary key and no larger (a larger
# integer overflows the database driver — a server error instead of "not found").
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


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
    community_id: Id | None = None
    household_id: Id | None = None
    address: str = Field("", max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    long: float | None = Field(None, ge=-180, le=180)
    category_id: Id | None = None
    anonymous: bool = Field(False, description="对党员匿名")
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20, pattern=r"^[0-9+\- ]*$")


class OrderFilters(Schema):
    status: Status | None = None
    category: Id | None = Field(None, description="类别 id")
    grid: Id | None = Field(None, description="网格 id")
    community: Id | None = Field(None, description="社区 id")
    overdue: bool = Field(False, description="只看超时未响应或未办结的")
    mine: bool = Field(False, description="只看我提交的或我承办的")


class NoteIn(Schema):
    note: str = Field("", max_length=500)


class ReasonIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


class OptionalReasonIn(Schema):
    reason: str = Field("", max_length=200)


class AcceptIn(Schema):
    category_id: Id
    priority: int = Field(3, ge=1, le=5, description="1 最低 … 5 紧急")
    kind: Kind | None = None
    note: str = Field("", max_length=500)


class MergeIn(Schema):
    into_id: Id = Field(..., description="合并到的工单 id（本社区、未结束）")
    note: str = Field("", max_length=500)


class DispatchIn(Schema):
    """Exactly one target: a member, a unit (集体派单) or the pool (灵活下单)."""

    member_id: Id | None = None
    unit_id: Id | None = None
    pool: bool = False
    note: str = Field("", max_length=500)


class TeamHoursIn(Schema):
    member_id: Id
    hours: float = Field(..., gt=0, le=24)


class ResolveIn(Schema):
    note: str = Field(..., min_length=1, max_length=4000, description="办理结果")
    hours: float | None = Field(None, gt=0, le=24, description="本人服务时长（小时）；部门办结时不填")
    team_hours: list[TeamHoursIn] = Field(default_factory=list, max_length=50, description="同组其他党员的时长")


class RateIn(Schema):
    rating: Rating
    comment: str = Field("", max_length=500)


class EscalateIn(Schema):
    department_id: Id
    due: dt.datetime | None = Field(None, description="部门办理时限（ISO 8601）；不填则为办结时限")
    note: str = Field("", max_length=500)


def _choices(choices) -> object:
    """An inline enum of a model's choices: Literal["a", "b", …] (no shared component name, so
    the several models' `Status` enums never collide in the OpenAPI document)."""
    return Literal[tuple(value for value, _label in choices)]


# --- my tasks and the pool ------------------------------------------------------------------------


class PoolItem(Schema):
    """A pooled order with how well it fits me: claim the ones with `can_claim`."""

    order: OrderListItem
    fit: int = Field(..., description="2 具备所需技能；1 无技能要求；0 缺少所需技能")
    same_grid: bool = Field(..., description="工单在我居住的网格")
    can_claim: bool = Field(..., description="现在就能领单（blockers 为空）")
    reasons: list[str] = Field(..., description="适合的理由（中文）")
    blockers: list[str] = Field(..., description="不能领单的原因（中文），空表示可以领")


class PoolPage(Schema):
    items: list[PoolItem]
    count: int
    load: int = Field(..., description="我当前承接中的工单数")
    load_cap: int = Field(..., description="同时承接工单上限")


# --- dispatch suggestions ----------------------------------------------------------------------------


class ScorePart(Schema):
    name: Literal["priority", "skill", "place", "fairness", "rating", "load"] = Field(
        ...,
        description=(
            "得分项：priority 紧急程度，skill 技能水平，place 距离，fairness 今年服务时长，rating 评价，load 当前负荷"
        ),
    )
    label: str = Field(..., description="得分项的中文名")
    points: int = Field(..., description="该项得分（load 为负：手上工单越多扣分越多）")


class SuggestionOut(Schema):
    member: Ref
    member_no: str
    score: int = Field(..., description="推荐得分：匹配分减去当前负荷扣分，越高越合适；按它排序")
    match_score: int = Field(..., description="匹配分（不含负荷扣分）：批量智能派单用的分数")
    parts: list[ScorePart] = Field(..., description="得分构成：各项之和即 score")
    reasons: list[str] = Field(..., description="推荐理由（中文）")
    eligible: bool = Field(..., description="满足派单的硬性条件（报到、技能、时段、接单上限）；推荐名单中恒为 true")
    problems: list[str] = Field(..., description="不满足的硬性条件（推荐名单中为空）")


class SuggestionPage(Schema):
    items: list[SuggestionOut]
    count: int = Field(..., description="候选人数（最多 100）；仅“已受理、待派单”的工单有推荐，其他状态为 0")
    source: Literal["engine"] = Field(..., description="推荐来源：engine（派单引擎 matching/）")


# --- auto-dispatch runs ------------------------------------------------------------------------------


class DispatchScopeOut(Schema):
    kind: Literal["grid", "community", "town"] = Field(..., description="范围类型：网格、社区、街道/镇")
    id: int
    label: str = Field(..., description="范围名称")


class DispatchRunIn(Schema):
    scope_kind: Literal["grid", "community", "town"] = Field(..., description="范围类型：grid、community 或 town")
    scope_id: Id = Field(..., description="网格、社区或街道/镇的 id")


class DispatchRunFilters(Schema):
    status: Literal["previewed", "confirmed", "discarded"] | None = Field(
        None, description="previewed 待确认，confirmed 已派单，discarded 已放弃"
    )


class DispatchRunOut(Schema):
    id: int
    status: Literal["previewed", "confirmed", "discarded"]
    status_label: str
    scope: DispatchScopeOut
    town_id: int
    created_by: str | None = Field(None, description="发起人姓名")
    created_at: dt.datetime
    decided_by: str | None = Field(None, description="确认或放弃的人")
    decided_at: dt.datetime | None
    n_orders: int = Field(..., description="范围内待派（已受理）的工单数")
    n_members: int = Field(..., description="候选党员数")
    n_assigned: int = Field(..., description="方案中拟派的工单数")
    n_applied: int = Field(..., description="确认后实际派出的工单数")
    total_score: int = Field(..., description="方案总分（匹配分之和减去负荷扣分）")
    exact: bool = Field(..., description="是否为最优解")


class DispatchRunPage(Schema):
    items: list[DispatchRunOut]
    count: int


class DispatchOrderRef(Schema):
    id: int
    title: str


class DispatchAssignmentOut(Schema):
    order: DispatchOrderRef
    member: Ref | None = Field(None, description="拟派党员；无人可派时为 null，原因见 note")
    member_no: str | None
    score: int | None = Field(None, description="匹配分")
    reasons: list[str] = Field(..., description="推荐理由（中文）")
    applied: bool = Field(..., description="确认后是否已派出")
    note: str = Field(..., description="无人可派或未能派出的原因")


class DispatchAssignmentPage(Schema):
    items: list[DispatchAssignmentOut]
    count: int = Field(..., description="方案中的工单总数（分页见 limit、offset）")


class DispatchRunDetail(DispatchRunOut):
    assignments: DispatchAssignmentPage


# --- activities ----------------------------------------------------------------------------------------


class _ActivityFields(Schema):
    id: int
    title: str
    kind: _choices(ActivityKind.choices)  # type: ignore[valid-type]
    kind_label: str
    status: _choices(Activity.Status.choices)  # type: ignore[valid-type]
    status_label: str
    community: Ref
    place: str
    leader: str
    required_skill: Ref | None = Field(..., description="报名所需技能")
    unit_quota: bool = Field(..., description="单位指派（计为下沉服务，不计志愿服务）")
    signup_opens_at: dt.datetime
    signup_closes_at: dt.datetime
    next_start: dt.datetime | None = Field(..., description="下一个未开始班次的开始时间")
    seats_left: int = Field(..., description="未开始班次的剩余名额合计")
    signed_up: bool = Field(..., description="我已报名其中的班次")


class ActivityListItem(_ActivityFields):
    """An activity row as listed: read from the annotated model row."""

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_status_label(obj) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_community(obj):
        return {"id": obj.community_id, "name": obj.community.name}

    @staticmethod
    def resolve_required_skill(obj):
        return {"id": obj.required_skill_id, "name": obj.required_skill.name} if obj.required_skill_id else None


class ActivityFilters(Schema):
    open: bool = Field(True, description="只看正在报名、还有未开始班次的活动；false 为全部可见活动（工作人员含草稿）")
    community: Id | None = Field(None, description="社区 id")
    kind: _choices(ActivityKind.choices) | None = Field(None, description="活动类型")  # type: ignore[valid-type]


class SignUpFilters(Schema):
    upcoming: bool | None = Field(None, description="true 只看待参加的；false 只看历史；不填为全部")


class MySignUpRef(Schema):
    id: int
    status: _choices(SignUp.Status.choices)  # type: ignore[valid-type]
    status_label: str


class ShiftOut(Schema):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    hours: float = Field(..., description="班次时长（小时）")
    capacity: int
    seats_taken: int
    seats_left: int
    note: str
    started: bool
    cancel_deadline: dt.datetime = Field(..., description="此时间之前可以取消报名")
    my_signup: MySignUpRef | None = Field(..., description="我在该班次的报名（未取消的）")
    can_sign_up: bool
    reason: str = Field(..., description="不能报名的原因（中文）；可以报名或已报名时为空")
    can_cancel: bool


class ActivityOut(_ActivityFields):
    description: str
    cancel_hours: int = Field(..., description="开始前多少小时内不可取消报名")
    cancel_reason: str
    published_at: dt.datetime | None
    manages: bool = Field(..., description="我是该活动所在社区的工作人员")
    signup_errors: list[str] = Field(..., description="我不能报名该活动任何班次的原因（中文）")
    shifts: list[ShiftOut]


class SignUpShift(Schema):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    note: str


class SignUpActivity(Schema):
    id: int
    title: str
    place: str
    leader: str
    status: _choices(Activity.Status.choices)  # type: ignore[valid-type]
    community: Ref


class SignUpOut(Schema):
    id: int
    status: _choices(SignUp.Status.choices)  # type: ignore[valid-type]
    status_label: str
    signed_up_at: dt.datetime
    cancelled_at: dt.datetime | None
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    hours: float | None = Field(..., description="记入服务记录的时长（签退或登记出勤后）")
    cancel_deadline: dt.datetime
    can_cancel: bool
    shift: SignUpShift
    activity: SignUpActivity


class SignUpPage(Schema):
    items: list[SignUpOut]
    count: int


class CheckInIn(Schema):
    token: str = Field(..., min_length=1, max_length=500, description="扫描现场二维码得到的 t 参数")


class CheckInOut(Schema):
    action: Literal["checked_in", "checked_out", "already_in", "already_out"] = Field(
        ..., description="本次扫码的结果：签到、签退，或此前已签到/已签退"
    )
    message: str = Field(..., description="给用户看的中文说明")
    hours: float | None = Field(..., description="签退时记入的服务时长")
    signup: SignUpOut


class CalendarOut(Schema):
    url: str | None = Field(..., description="私密的 iCalendar 订阅地址；尚未生成时为 null")
    created_at: dt.datetime | None


class CancelSignUpIn(Schema):
    reason: str = Field("", max_length=200)


# --- ledgers ---------------------------------------------------------------------------------------------


class ServiceRecordOut(Schema):
    id: int
    kind: _choices(ServiceKind.choices)  # type: ignore[valid-type]
    kind_label: str
    activity_name: str
    service_date: dt.date
    place: str
    content: str
    hours: float = Field(..., description="时长（小时，一位小数）；更正记录可为负")
    organizer: str
    leader: str
    community: Ref
    source_type: _choices(SourceType.choices)  # type: ignore[valid-type]
    source_label: str
    source_id: int
    corrects_id: int | None = Field(..., description="更正记录：被更正的原记录 id")
    recorded_at: dt.datetime
    late: bool = Field(..., description="超期录入（服务后超过10个工作日）")
    has_open_correction: bool = Field(..., description="有待审核的更正申请")

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_source_label(obj) -> str:
        return str(obj.get_source_type_display())

    @staticmethod
    def resolve_hours(obj) -> float:
        return float(obj.hours)

    @staticmethod
    def resolve_community(obj):
        return {"id": obj.community_id, "name": obj.community.name}


class PointRuleRef(Schema):
    code: str
    label: str


class PointEntryOut(Schema):
    id: int
    points: float
    rule: PointRuleRef
    hours: float | None
    rate: float | None = Field(..., description="按时长计分时的每小时积分")
    source_type: _choices(SourceType.choices)  # type: ignore[valid-type]
    source_id: int
    earned_on: dt.date
    at: dt.datetime

    @staticmethod
    def resolve_points(obj) -> float:
        return float(obj.points)

    @staticmethod
    def resolve_hours(obj) -> float | None:
        return None if obj.hours is None else float(obj.hours)

    @staticmethod
    def resolve_rate(obj) -> float | None:
        return None if obj.rate is None else float(obj.rate)

    @staticmethod
    def resolve_rule(obj):
        return {"code": obj.rule.code, "label": obj.rule.label}


class StandingOut(Schema):
    member: Ref
    year: int
    target_hours: float = Field(..., description="年度服务时长目标")
    hours_year: float
    volunteer_hours_year: float
    registration_hours_year: float
    volunteer_hours_total: float = Field(..., description="累计志愿服务时长（志愿星级的依据）")
    points_year: float = Field(..., description="本年积分合计（可为负）")
    base_score: int
    score_year: float = Field(..., description="本年得分 = 基础分 + 积分，最低为 0")
    stars: int = Field(..., description="志愿星级 0–5")
    next_star_hours: float | None = Field(..., description="下一星级所需累计时长；已五星为 null")
    rating_stars: int = Field(..., description="年度星级评定 0–5")
    pace_hours: float = Field(..., description="按目标，到今天应有的时长")
    behind_pace: bool
    target_percent: int


class StarEventOut(Schema):
    at: dt.datetime
    from_level: int
    to_level: int
    hours: float
    record_id: int

    @staticmethod
    def resolve_hours(obj) -> float:
        return float(obj.hours)


class CorrectionIn(Schema):
    proposed_hours: float = Field(..., ge=0, lt=10000, description="更正后的时长（小时，一位小数）")
    reason: str = Field(..., min_length=1, max_length=500)


class CorrectionOut(Schema):
    id: int
    record_id: int
    proposed_hours: float
    reason: str
    status: _choices(CorrectionRequest.Status.choices)  # type: ignore[valid-type]
    status_label: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str
    adjustment_id: int | None = Field(..., description="审核通过后写入的更正记录 id")

    @staticmethod
    def resolve_proposed_hours(obj) -> float:
        return float(obj.proposed_hours)

    @staticmethod
    def resolve_status_label(obj) -> str:
        return str(obj.get_status_display())


class LedgerFilters(Schema):
    member: Id | None = Field(None, description="队员 id；不填为本人")
    year: int | None = Field(None, ge=1900, le=2200, description="年份；不填为全部年份")


class ServiceRecordFilters(LedgerFilters):
    kind: _choices(ServiceKind.choices) | None = Field(  # type: ignore[valid-type]
        None, description="volunteer 志愿服务；registration 下沉/报到服务"
    )


class StandingQuery(Schema):
    member: Id | None = Field(None, description="队员 id；不填为本人")
    year: int | None = Field(None, ge=1900, le=2200, description="年份；不填为今年")


class MemberQuery(Schema):
    member: Id | None = Field(None, description="队员 id；不填为本人")


# --- registrations (报到) ------------------------------------------------------------------------------


class _RegistrationFields(Schema):
    id: int
    member: Ref | None = Field(..., description="报到的党员（个人报到）")
    unit: Ref | None = Field(..., description="报到的单位（单位报到）")
    community: Ref
    status: _choices(Registration.Status.choices)  # type: ignore[valid-type]
    status_label: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    reason: str = Field(..., description="申请说明，或不通过的原因")


class RegistrationOut(_RegistrationFields):
    """A registration as listed: read from the model row."""

    @staticmethod
    def resolve_member(obj):
        return {"id": obj.member_id, "name": obj.member.name} if obj.member_id else None

    @staticmethod
    def resolve_unit(obj):
        return {"id": obj.unit_id, "name": obj.unit.name} if obj.unit_id else None

    @staticmethod
    def resolve_community(obj):
        return {"id": obj.community_id, "name": obj.community.name}

    @staticmethod
    def resolve_status_label(obj) -> str:
        return str(obj.get_status_display())


class RegistrationEventOut(Schema):
    at: dt.datetime
    from_status: str
    to_status: str
    note: str
    actor: str | None


class RegistrationDetail(_RegistrationFields):
    can_decide: bool = Field(..., description="我可以通过或退回")
    can_withdraw: bool = Field(..., description="我可以撤回")
    events: list[RegistrationEventOut]


class RegistrationFilters(Schema):
    status: _choices(Registration.Status.choices) | None = Field(  # type: ignore[valid-type]
        None, description="requested 待审核；approved；declined；withdrawn"
    )
    community: Id | None = Field(None, description="社区 id")
    mine: bool = Field(False, description="只看我本人的报到")


class RegistrationIn(Schema):
    community_id: Id = Field(..., description="报到社区 id（见 GET /registrations/communities）")
    note: str = Field("", max_length=200)


class DeclineIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


class RegistrationNoteIn(Schema):
    note: str = Field("", max_length=200)


class CommunityOut(Schema):
    id: int
    name: str
    town: Ref

    @staticmethod
    def resolve_town(obj):
        return {"id": obj.town_id, "name": obj.town.name}


# --- notifications ---------------------------------------------------------------------------------------


class NotificationOut(Schema):
    id: int
    title: str
    body: str
    url: str = Field(..., description="相关页面的站内路径")
    created_at: dt.datetime
    read_at: dt.datetime | None
    is_read: bool

    @staticmethod
    def resolve_is_read(obj) -> bool:
        return obj.read_at is not None


class NotificationFilters(Schema):
    unread: bool = Field(False, description="只看未读")


class UnreadCountOut(Schema):
    unread: int


class MarkedOut(Schema):
    marked: int = Field(..., description="本次标记为已读的条数")
