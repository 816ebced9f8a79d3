"""Idempotency-Key on POST /api/v1/orders: a retried request makes one order."""

from linli.api.testing import api_client
from linli.orders.models import IdempotencyKey, Order

BODY = {"title": "电梯困人", "description": "3号楼", "kind": "complaint"}


def test_same_key_and_body_make_one_order(personas):
    client = api_client(personas.resident_user)
    headers = {"Idempotency-Key": "a5f0c1e2-retry"}
    first = client.post("/orders", BODY, headers=headers)
    again = client.post("/orders", BODY, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Order.objects.count() == 1
    assert IdempotencyKey.objects.get().order_id == first.json()["id"]


def test_defaults_spelled_out_are_the_same_body(personas):
    client = api_client(personas.resident_user)
    headers = {"Idempotency-Key": "k1"}
    first = client.post("/orders", BODY, headers=headers)
    again = client.post("/orders", {**BODY, "anonymous": False, "address": ""}, headers=headers)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]


def test_same_key_with_another_body_is_422(personas):
    client = api_client(personas.resident_user)
    headers = {"Idempotency-Key": "k2"}
    assert client.post("/orders", BODY, headers=headers).status_code == 201
    response = client.post("/orders", {**BODY, "title": "电梯又困人"}, headers=headers)
    assert response.status_code == 422
    assert response.json() == {"code": "idempotency_mismatch", "message": "同一 Idempotency-Key 对应的请求内容不同"}
    assert Order.objects.count() == 1


def test_keys_belong_to_their_user(personas):
    headers = {"Idempotency-Key": "shared-key"}
    mine = api_client(personas.resident_user).post("/orders", BODY, headers=headers)
    theirs = api_client(personas.staff_a).post(
        "/orders", {**BODY, "community_id": mine.json()["community"]["id"], "address": "幸福路1号"}, headers=headers
    )
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]


def test_without_a_key_each_post_is_a_new_order(personas):
    client = api_client(personas.resident_user)
    assert [client.post("/orders", BODY).status_code for _ in range(2)] == [201, 201]
    assert Order.objects.count() == 2


def test_a_key_longer_than_100_characters_is_422(personas):
    response = api_client(personas.resident_user).post("/orders", BODY, headers={"Idempotency-Key": "k" * 101})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "Idempotency-Key"
    assert not Order.objects.exists()
