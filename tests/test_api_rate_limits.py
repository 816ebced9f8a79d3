"""Rate limits: fixed windows counted in the database, per token and per client address for logins."""

import threading

import pytest
import time_machine
from django.db import connections
from django.test import RequestFactory
from django.utils import timezone

from linli import testing as t
from linli.api import actions
from linli.api.auth import client_ip
from linli.api.models import RateCounter
from linli.api.testing import api_client


def test_requests_per_token_are_limited(personas, settings):
    settings.API_RATE_PER_MINUTE = 3
    start = timezone.now().timestamp()
    with time_machine.travel(start - start % 60 + 1, tick=False):
        client = api_client(personas.resident_user)
        assert [client.get("/me").status_code for _ in range(3)] == [200, 200, 200]
        response = client.get("/orders")
        assert response.status_code == 429
        assert response.json() == {"code": "rate_limited", "message": "请求过于频繁，请稍后再试"}
        assert int(response.headers["Retry-After"]) == 59
        # Another token of the same user has its own bucket.
        assert api_client(personas.resident_user).get("/me").status_code == 200
    with time_machine.travel(start - start % 60 + 61, tick=False):
        assert client.get("/me").status_code == 200  # a new window


def test_token_requests_are_limited_per_client_address(personas, settings):
    settings.API_LOGIN_RATE_PER_MINUTE = 2
    start = timezone.now().timestamp()
    with time_machine.travel(start - start % 60 + 1, tick=False):
        client = api_client()
        body = {"username": "resident", "password": t.PASSWORD}
        assert [client.post("/auth/token", body).status_code for _ in range(2)] == [201, 201]
        response = client.post("/auth/token", body)
        assert response.status_code == 429
        assert response.json()["code"] == "rate_limited"
        other = api_client(REMOTE_ADDR="10.0.0.9")
        assert other.post("/auth/token", body).status_code == 201


def test_zero_switches_a_limit_off(personas, settings):
    settings.API_RATE_PER_MINUTE = 0
    client = api_client(personas.resident_user)
    assert all(client.get("/me").status_code == 200 for _ in range(5))
    assert not RateCounter.objects.exists()


def test_a_new_window_clears_the_bucket_s_old_windows(db):
    actions.count_api_request("token:1", now=1_200_000.0)
    actions.count_api_request("token:2", now=1_200_000.0)
    assert actions.count_api_request("token:1", now=1_200_059.9) == 2
    assert actions.count_api_request("token:1", now=1_200_060.0) == 1
    assert sorted(RateCounter.objects.values_list("bucket", "window_start")) == [
        ("token:1", 1_200_060),
        ("token:2", 1_200_000),
    ]


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_are_each_counted_once():
    threads, per_thread = 8, 20
    barrier = threading.Barrier(threads)
    errors = []

    def hit():
        try:
            barrier.wait()
            for _ in range(per_thread):
                actions.count_api_request("token:race", now=2_000_000.0)
        except Exception as exc:  # reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    workers = [threading.Thread(target=hit) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    assert RateCounter.objects.get(bucket="token:race").hits == threads * per_thread


def test_client_address_trusts_only_the_configured_proxies(settings):
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert client_ip(request) == "127.0.0.1"  # no proxy configured: the header is the client's claim
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.7"  # what our one proxy saw
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "6.6.6.6"
