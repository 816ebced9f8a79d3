"""Every error of the JSON API in one shape: {"code": ..., "message": <Chinese>, "detail": [...]}.

The one place exceptions become HTTP statuses:

| exception | status |
|---|---|
| DomainError (linli.lib.errors) | 400; 422 for code `idempotency_mismatch` |
| NotAllowed | 403 |
| Conflict | 409 |
| Http404 (access helpers) | 404 |
| missing/invalid/expired/revoked token | 401 |
| schema validation (ninja); text containing U+0000 | 422, with `detail` naming each field |
| rate limit | 429, with Retry-After |
"""

import logging

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from linli.lib.errors import DomainError

logger = logging.getLogger(__name__)

# Domain codes that are about the request as a whole rather than the domain state.
UNPROCESSABLE_CODES = frozenset({"idempotency_mismatch"})

# Chinese for the pydantic error types a client is likely to meet; others keep pydantic's text.
_FIELD_MESSAGES = {
    "missing": "必填",
    "string_too_short": "不能为空",
    "string_too_long": "过长",
    "string_type": "应为字符串",
    "string_pattern_mismatch": "格式不正确",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "enum": "取值无效",
    "literal_error": "取值无效",
    "greater_than": "取值过小",
    "greater_than_equal": "取值过小",
    "less_than": "取值过大",
    "less_than_equal": "取值过大",
    "datetime_parsing": "应为 ISO 8601 时间",
    "datetime_from_date_parsing": "应为 ISO 8601 时间",
    "datetime_type": "应为 ISO 8601 时间",
    "list_type": "应为列表",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "json_invalid": "不是合法的 JSON",
    "too_long": "元素过多",
}
# Where ninja puts each parameter; clients know fields by name only.
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file", "payload", "filters"}


class ApiError(Exception):
    """An error the API itself raises (authentication, references, limits) with its status."""

    def __init__(self, status: int, code: str, message: str, *, detail: list | None = None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.headers = headers or {}


class NulInText(ValueError):
    """A string in the body contains U+0000 (PostgreSQL text cannot hold it)."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


def reject_nul(data, path: tuple = ()) -> None:
    """Raise NulInText naming the first string (or key) of a parsed JSON body that contains U+0000."""
    if isinstance(data, str):
        if "\x00" in data:
            raise NulInText(_field_name(path))
    elif isinstance(data, dict):
        for key, value in data.items():
            if "\x00" in key:
                raise NulInText(_field_name(path))
            reject_nul(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            reject_nul(value, (*path, index))


def invalid_reference(field: str, message: str) -> ApiError:
    """An id in a request body that does not exist or lies outside the caller's scope (never says which)."""
    return ApiError(400, "invalid_reference", message, detail=[{"field": field, "message": message}])


def error_body(code: str, message: str, detail: list | None = None) -> dict:
    body = {"code": code, "message": message}
    if detail is not None:
        body["detail"] = detail
    return body


def _field_name(loc) -> str:
    parts = [str(p) for p in loc]
    while parts and parts[0] in _SOURCES:
        parts.pop(0)
    return ".".join(parts) or "body"


def validation_detail(errors: list[dict]) -> list[dict]:
    detail = []
    for error in errors:
        kind = error.get("type", "")
        message = _FIELD_MESSAGES.get(kind) or error.get("msg", "无效")
        detail.append({"field": _field_name(error.get("loc", ())), "message": message})
    return detail


def install(api: NinjaAPI) -> None:
    """Register the handlers on `api` (replacing ninja's defaults)."""

    def respond(request, status, code, message, detail=None, headers=None):
        response = api.create_response(request, error_body(code, message, detail), status=status)
        for name, value in (headers or {}).items():
            response[name] = value
        return response

    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        status = 422 if exc.code in UNPROCESSABLE_CODES else exc.status
        return respond(request, status, exc.code, exc.message)

    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return respond(request, exc.status, exc.code, exc.message, exc.detail, exc.headers)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return respond(request, 404, "not_found", "对象不存在，或您无权查看")

    @api.exception_handler(ValidationError)
    def invalid(request, exc: ValidationError):
        detail = validation_detail(exc.errors)
        fields = "、".join(dict.fromkeys(d["field"] for d in detail))
        return respond(request, 422, "validation_error", f"请求内容有误：{fields}", detail)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return respond(
            request,
            401,
            "unauthenticated",
            "请先登录：缺少访问令牌或令牌无效",
            headers={"WWW-Authenticate": 'Bearer realm="linli"'},
        )

    @api.exception_handler(Throttled)
    def throttled(request, exc: Throttled):
        return respond(request, 429, "rate_limited", "请求过于频繁，请稍后再试")

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        if isinstance(exc.__cause__, NulInText):
            # ninja wraps whatever the body parser raises; this one is about a field, not the JSON.
            detail = [{"field": exc.__cause__.field, "message": "不能包含空字符（U+0000）"}]
            return respond(request, 422, "validation_error", f"请求内容有误：{exc.__cause__.field}", detail)
        if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
            # ninja's only 400 of its own: a body that is not a JSON object.
            return respond(request, 400, "invalid_json", "请求体应为 JSON 对象")
        return respond(request, exc.status_code, "error", str(exc))

    @api.exception_handler(Exception)
    def server_error(request, exc: Exception):
        # Logged with its traceback; the client learns nothing about the internals.
        logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
        return respond(request, 500, "server_error", "服务器内部错误，请稍后再试")
