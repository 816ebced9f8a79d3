"""The API reference page /api/v1/docs works offline: Swagger UI from our own static files, no
request to any other host (government intranets have no internet: no CDN, ever)."""

import json
import re

from django.conf import settings
from django.contrib.staticfiles import finders

from linli.api.testing import api_client


def _page(db):
    response = api_client().client.get("/api/v1/docs")
    assert response.status_code == 200
    return response.content.decode()


def test_the_docs_page_names_no_other_host(db):
    html = _page(db)
    hosts = set(re.findall(r"(?:https?:)?//([^/\"'\s)]+)", html))
    assert hosts <= {"testserver"}, hosts


def test_every_asset_is_a_local_static_file_that_exists(db):
    html = _page(db)
    assets = re.findall(r"(?:src|href)=\"([^\"]+)\"", html)
    assert len(assets) >= 4  # the stylesheet, two favicons, the bundle and its init script
    for url in assets:
        assert url.startswith("/" + settings.STATIC_URL.strip("/") + "/"), url
        assert finders.find(url.split("/", 2)[2]), url  # collectstatic ships it


def test_swagger_ui_is_told_not_to_call_its_online_validator(db):
    html = _page(db)
    block = re.search(r'<script type="application/json" id="swagger-settings">(.*?)</script>', html, re.S)
    config = json.loads(block.group(1))
    # Swagger UI's default validatorUrl loads a badge from validator.swagger.io.
    assert config["validatorUrl"] is None
    assert config["url"] == "/api/v1/openapi.json"
