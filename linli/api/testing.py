"""A JSON client for tests of the API: `api_client(user)` carries a fresh bearer token."""

import json

from django.test import Client

from linli.api.actions import create_api_token

PREFIX = "/api/v1"


class ApiClient:
    """Paths are relative to /api/v1; bodies are JSON; answers have `.json()`."""

    def __init__(self, token: str | None = None, **extra):
        self.client = Client(**extra)
        self.token = token

    def _headers(self, headers):
        merged = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        merged.update(headers or {})
        return merged

    def get(self, path: str, params=None, *, headers=None):
        return self.client.get(PREFIX + path, params or {}, headers=self._headers(headers))

    def post(self, path: str, body=None, *, headers=None):
        data = json.dumps(body) if body is not None else ""
        return self.client.post(PREFIX + path, data, content_type="application/json", headers=self._headers(headers))


def api_client(user=None, **extra) -> ApiClient:
    """A client authenticated as `user` (anonymous without one)."""
    if user is None:
        return ApiClient(**extra)
    _, raw = create_api_token(actor=user)
    return ApiClient(raw, **extra)
