"""The JSON API under /api/v1/: one NinjaAPI, bearer-token auth, rate limits, one error shape.

OpenAPI document: /api/v1/openapi.json (interactive docs at /api/v1/docs when "ninja" is in
INSTALLED_APPS, so its vendored Swagger UI is served locally: no CDN, ever).
"""

from django.conf import settings
from django.http import JsonResponse
from django.urls import re_path
from ninja import NinjaAPI, Swagger
from ninja.parser import Parser
from ninja.renderers import JSONRenderer

from linli.api import activities, auth, dispatch, errors, ledgers, notifications, orders, registrations, tasks


class Utf8JSONRenderer(JSONRenderer):
    # Chinese messages as UTF-8, readable in curl and logs, not as \\uXXXX escapes.
    json_dumps_params = {"ensure_ascii": False}


class ObjectParser(Parser):
    """Bodies are JSON objects; anything else is refused (400 invalid_json), never read as empty.

    No text in a body may contain U+0000: PostgreSQL cannot store it (a server error otherwise),
    and no person types it. Refused as a 422 naming the field (linli.api.errors).
    """

    def parse_body(self, request):
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError("the body is not a JSON object")
        errors.reject_nul(data)
        return data


api = NinjaAPI(
    title="Linli 邻里 API",
    version="1",
    description=(
        "邻里社区治理平台的 JSON 接口。先用 POST /auth/token 换取访问令牌，"
        "之后每个请求带 `Authorization: Bearer <token>`。错误统一为 "
        '`{"code": ..., "message": ...}`。见 docs/api.md。'
    ),
    auth=auth.TokenAuth(),
    throttle=[auth.TokenRateThrottle()],
    urls_namespace="api",
    renderer=Utf8JSONRenderer(),
    parser=ObjectParser(),
    docs_url="/docs" if "ninja" in settings.INSTALLED_APPS else None,
    # Swagger UI's default validatorUrl fetches a badge from validator.swagger.io: no CDN, ever.
    docs=Swagger(settings={"validatorUrl": None}),
)
errors.install(api)
api.add_router("", auth.router)
api.add_router("", orders.router)
api.add_router("", dispatch.router)
api.add_router("", tasks.router)
api.add_router("", activities.router)
api.add_router("", ledgers.router)
api.add_router("", registrations.router)
api.add_router("", notifications.router)


def unknown_path(request, rest=""):
    """Any other path under /api/v1/: the API's 404 shape, not the HTML error page."""
    body = errors.error_body("no_such_endpoint", "接口不存在，请查看 /api/v1/openapi.json")
    return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})


# Included by config/urls.py under "api/v1/"; the namespace lets the docs page find the schema.
app_name = "api"
urlpatterns = [*api.urls[0], re_path(r"^(?P<rest>.*)$", unknown_path)]
