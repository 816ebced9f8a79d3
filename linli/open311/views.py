"""GeoReport v2 under /open311/v2/: plain function views, one renderer for JSON and XML.

Each view parses → finds the jurisdiction (a town, by its code) → obtains objects through
linli.open311.access → acts through linli.open311.actions (POST only) → renders with
linli.open311.render. Errors are the spec's lists in the requested format:

| status | when |
|---|---|
| 400 | a parameter is missing or malformed, a general failure (the body's code may be 405 or 500) |
| 403 | the api_key of a POST is missing, invalid, revoked, or not for this jurisdiction |
| 404 | unknown jurisdiction_id, service_code, service_request_id or token; an unknown URL |
| 429 | too many requests in a minute (per key for POSTs, per client address for reads) |

URLs work with and without a trailing slash on the base (linli/open311/urls.py).
"""

import datetime as dt
import functools
import logging

from django.conf import settings
from django.http import Http404, QueryDict
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from linli.lib.errors import DomainError
from linli.open311 import access, actions, attributes, present
from linli.open311.forms import ServiceRequestForm
from linli.open311.locate import LocationError, locate
from linli.open311.render import JSON, XML, errors, parse_w3c, render
from linli.orgs.models import Town

logger = logging.getLogger(__name__)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When the shape of this endpoint last changed (discovery's changeset; sortable, in the past).
CHANGESET = "2026-11-22T00:00:00Z"
FORMATS = ["text/xml", "application/json"]
KEYS_PAGE = "/open311/keys/"  # linli/open311/page_urls.py, mounted at open311/
WINDOW_SECONDS = 60
MAX_DAYS = 90
MAX_REQUESTS = 1000
MAX_IDS = 1000
READ_METHODS = ("GET", "HEAD")
UNKNOWN_RESOURCE = (
    "没有这个资源：请使用 discovery、services、services/{service_code}、requests、requests/{id} "
    "或 tokens/{token}，后缀 .json 或 .xml"
)


class Problem(Exception):
    """An error answer: HTTP status, one or more problems (descriptions or (code, description))."""

    def __init__(self, status: int, *problems, headers: dict | None = None):
        super().__init__(*problems)
        self.status = status
        self.problems = problems
        self.headers = headers or {}


def _client_ip(request) -> str:
    """REMOTE_ADDR, or the n-th address from the right of X-Forwarded-For behind n trusted proxies."""
    remote = request.META.get("REMOTE_ADDR") or ""
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
    return addresses[-min(proxies, len(addresses))] if addresses else remote


def _limit(bucket: str, limit: int) -> None:
    """Raise a 429 Problem when `bucket` went over `limit` requests this minute (0: no limit)."""
    if limit <= 0:
        return
    if actions.count_request(bucket, window_seconds=WINDOW_SECONDS) > limit:
        wait = WINDOW_SECONDS - int(timezone.now().timestamp()) % WINDOW_SECONDS
        raise Problem(
            429,
            f"请求过于频繁：每分钟最多 {limit} 次，请 {wait} 秒后再试",
            headers={"Retry-After": str(wait)},
        )


def endpoint(*methods):
    """An Open311 view: CSRF-exempt (partners POST forms), errors in the requested format."""

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, fmt, **kwargs):
            try:
                if request.method not in methods:
                    allowed = ", ".join(methods)
                    raise Problem(
                        400, (405, f"不支持 {request.method} 方法，请使用 {allowed}"), headers={"Allow": allowed}
                    )
                if request.method in READ_METHODS:
                    _limit(f"read:{_client_ip(request)}", getattr(settings, "OPEN311_READ_RATE_PER_MINUTE", 120))
                return view(request, fmt, **kwargs)
            except Problem as problem:
                return errors(fmt, problem.status, *problem.problems, headers=problem.headers)
            except Http404 as exc:
                return errors(fmt, 404, str(exc) or "不存在")
            except DomainError as exc:
                return errors(fmt, 400, exc.message)
            except Exception:
                # Logged with its traceback; the client gets the spec's "general failure".
                logger.exception("Open311 error on %s %s", request.method, request.path)
                return errors(fmt, 400, (500, "服务器内部错误，请稍后再试"))

        return wrapper

    return decorate


def _params(request) -> QueryDict:
    """The query string and the form body as one QueryDict; the body wins for a name in both."""
    merged = request.GET.copy()
    if request.method == "POST":
        for name in request.POST:
            merged.setlist(name, request.POST.getlist(name))
    return merged


def _jurisdiction(params) -> Town:
    """The town named by jurisdiction_id; absent or empty: the only town the server hosts."""
    code = (params.get("jurisdiction_id") or "").strip()
    if code:
        town = access.town_by_code(code)
        if town is None:
            raise Problem(404, f"jurisdiction_id “{code[:50]}” 不存在")
        return town
    town = access.only_town()
    if town is None:
        if not access.any_town():
            raise Problem(404, "本服务尚未设立任何街道/镇")
        raise Problem(400, "缺少 jurisdiction_id：本服务承载多个街道/镇，请以街道/镇编码指明")
    return town


def _base_url(request, resource: str) -> str:
    """The endpoint's base URL as the client reached it, without the trailing slash."""
    path = request.path
    return request.build_absolute_uri(path[: path.rindex(resource)].rstrip("/"))


# --- discovery and services ---------------------------------------------------------------------


@endpoint("GET", "HEAD")
def discovery(request, fmt):
    base = _base_url(request, "discovery.")
    contact = getattr(settings, "OPEN311_CONTACT", "") or "所在街道/镇的邻里平台管理员"
    keys_page = request.build_absolute_uri(KEYS_PAGE)
    data = {
        "changeset": CHANGESET,
        "contact": contact,
        "key_service": (
            f"接入密钥由街道/镇管理员在邻里平台“Open311 接入密钥”页面（{keys_page}）创建，"
            "或由运维人员执行 manage.py partner_key create 生成；密钥只显示一次。"
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": FORMATS,
            }
        ],
    }
    return render(fmt, "discovery", data)


@endpoint("GET", "HEAD")
def services(request, fmt):
    town = _jurisdiction(request.GET)
    return render(fmt, "services", [present.service(c) for c in access.services(town)])


@endpoint("GET", "HEAD")
def service_definition(request, fmt, service_code):
    town = _jurisdiction(request.GET)
    category = access.get_service_for_user(request, service_code, town=town)
    return render(fmt, "service_definition", present.definition(category, access.service_attributes(category)))


# --- service requests ---------------------------------------------------------------------------


@endpoint("GET", "HEAD", "POST")
def service_requests(request, fmt):
    if request.method == "POST":
        return _create(request, fmt)
    return _list(request, fmt)


def _comma_list(params, name: str) -> list[str]:
    """A filter "declared multiple times, comma delimited": `a,b`, or `name=a&name=b`, or both."""
    return [part.strip() for value in params.getlist(name) for part in value.split(",") if part.strip()]


def _date(params, name: str) -> dt.datetime | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        return parse_w3c(value)
    except ValueError:
        raise Problem(
            400, f"{name} 应为带时区的 W3C 日期时间，如 2026-01-01T00:00:00Z 或 2026-01-01T08:00:00+08:00"
        ) from None


def _positive(params, name: str, default: int, maximum: int) -> int:
    value = (params.get(name) or "").strip()
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        raise Problem(400, f"{name} 应为 1 到 {maximum} 之间的整数")
    return int(value)


def _window(params) -> tuple[dt.datetime, dt.datetime]:
    """start_date/end_date, at most 90 days apart; defaults: the 90 days before now or around the one given."""
    start, end = _date(params, "start_date"), _date(params, "end_date")
    span = dt.timedelta(days=MAX_DAYS)
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - span
    if end is None:
        end = start + span
    if end < start:
        raise Problem(400, "end_date 不能早于 start_date")
    if end - start > span:
        raise Problem(400, f"start_date 与 end_date 相隔不能超过{MAX_DAYS}天")
    return start, end


def _list(request, fmt):
    params = request.GET
    town = _jurisdiction(params)
    rows = access.public_requests(town)
    ids = _comma_list(params, "service_request_id")
    if ids:
        # The spec: a service_request_id list overrides every other argument.
        if not all(i.isdigit() for i in ids):
            raise Problem(400, "service_request_id 应为以逗号分隔的编号")
        if len(ids) > MAX_IDS:
            raise Problem(400, f"service_request_id 最多 {MAX_IDS} 个")
        rows = rows.filter(pk__in=[int(i) for i in ids])
        page, size = 1, MAX_REQUESTS
    else:
        codes = _comma_list(params, "service_code")
        if codes:
            rows = rows.filter(category__code__in=codes)
        wanted = [s.lower() for s in _comma_list(params, "status")]
        if wanted:
            unknown = [s for s in wanted if s not in present.OUR_STATUSES]
            if unknown:
                raise Problem(400, "status 只能是 open、closed 或二者以逗号分隔")
            rows = rows.filter(status__in=set().union(*(present.OUR_STATUSES[s] for s in wanted)))
        start, end = _window(params)
        rows = rows.filter(created_at__gte=start, created_at__lte=end)
        page = _positive(params, "page", 1, 1_000_000)
        size = _positive(params, "page_size", MAX_REQUESTS, MAX_REQUESTS)
    rows = rows.order_by("-created_at", "-pk")[(page - 1) * size : page * size]
    return render(fmt, "service_requests", [present.service_request(request, order) for order in rows])


def _partner_key(params):
    raw = (params.get("api_key") or "").strip()
    if not raw:
        raise Problem(403, "缺少 api_key：提交诉求需要接入密钥")
    key = access.partner_key_from_raw(raw)
    if key is None:
        raise Problem(403, "api_key 无效或已吊销")
    code = (params.get("jurisdiction_id") or "").strip()
    if code and code != key.town.code:
        if access.town_by_code(code) is None:
            raise Problem(404, f"jurisdiction_id “{code[:50]}” 不存在")
        raise Problem(403, "该 api_key 不能向此 jurisdiction_id 提交")
    return key


def _create(request, fmt):
    params = _params(request)
    key = _partner_key(params)
    _limit(f"key:{key.pk}", key.rate_limit_per_minute)
    actions.touch_partner_key(key)
    form = ServiceRequestForm(params)
    form.is_valid()
    if "service_code" in form.errors:
        raise Problem(400, *form.problems())
    category = access.get_service_for_user(request, form.cleaned_data["service_code"], town=key.town)
    problems = form.problems()
    location = None
    try:
        location = locate(key, params)
    except LocationError as exc:
        problems.append(str(exc))
    answers, attribute_problems = attributes.clean(access.service_attributes(category), params)
    problems += attribute_problems
    if problems:
        raise Problem(400, *problems)
    data = form.cleaned_data
    order = actions.file_service_request(
        key=key,
        category=category,
        location=location,
        description=data["description"],
        answers=answers,
        first_name=data["first_name"],
        last_name=data["last_name"],
        phone=data["phone"],
        email=data["email"],
        device=data["device_id"],
        account=data["account_id"],
        media_url=data["media_url"],
    )
    return render(fmt, "service_requests", [present.created(order, account=data["account_id"])])


@endpoint("GET", "HEAD")
def service_request(request, fmt, service_request_id):
    town = _jurisdiction(request.GET)
    order = access.get_service_request_for_user(request, service_request_id, town=town)
    return render(fmt, "service_requests", [present.service_request(request, order)])


@endpoint("GET", "HEAD")
def token(request, fmt, token):
    town = _jurisdiction(request.GET)
    row = access.get_token_for_user(request, token, town=town)
    return render(fmt, "service_requests", [present.token(row)])


@csrf_exempt
def not_found(request, rest):
    """Any other URL under the endpoint: a 404 in the format its name asks for (XML by default)."""
    fmt = JSON if rest.lower().endswith(".json") else XML
    return errors(fmt, 404, UNKNOWN_RESOURCE)
