"""The OpenAPI document at /api/v1/openapi.json describes every operation, its errors and its auth."""

import pytest

from linli.api.testing import api_client

# (method, path) → operationId. Stable names: clients generate code from them.
OPERATIONS = {
    ("post", "/api/v1/auth/token"): "create_token",
    ("post", "/api/v1/auth/logout"): "revoke_token",
    ("get", "/api/v1/me"): "get_me",
    ("post", "/api/v1/orders"): "create_order",
    ("get", "/api/v1/orders"): "list_orders",
    ("get", "/api/v1/orders/{order_id}"): "get_order",
    ("get", "/api/v1/categories"): "list_categories",
    ("post", "/api/v1/orders/{order_id}/accept"): "accept_order",
    ("post", "/api/v1/orders/{order_id}/reject"): "reject_order",
    ("post", "/api/v1/orders/{order_id}/merge"): "merge_order",
    ("post", "/api/v1/orders/{order_id}/cancel"): "cancel_order",
    ("post", "/api/v1/orders/{order_id}/dispatch"): "dispatch_order",
    ("post", "/api/v1/orders/{order_id}/recall"): "recall_order",
    ("post", "/api/v1/orders/{order_id}/claim"): "claim_order",
    ("post", "/api/v1/orders/{order_id}/decline"): "decline_order",
    ("post", "/api/v1/orders/{order_id}/start"): "start_order",
    ("post", "/api/v1/orders/{order_id}/resolve"): "resolve_order",
    ("post", "/api/v1/orders/{order_id}/rate"): "rate_order",
    ("post", "/api/v1/orders/{order_id}/reopen"): "reopen_order",
    ("post", "/api/v1/orders/{order_id}/escalate"): "escalate_order",
    ("post", "/api/v1/orders/{order_id}/acknowledge"): "acknowledge_order",
    ("post", "/api/v1/orders/{order_id}/return"): "return_order",
}
# Operations whose request body is optional or absent.
NO_BODY = {"revoke_token", "get_me", "list_orders", "get_order", "list_categories", "claim_order", "start_order"}
OPTIONAL_BODY = {"cancel_order", "recall_order", "acknowledge_order"}
ERROR_STATUSES = ("400", "401", "403", "404", "409", "422", "429")


@pytest.fixture
def doc(db):
    response = api_client().get("/openapi.json")  # public: clients need it before they have a token
    assert response.status_code == 200
    return response.json()


def _operations(doc):
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            yield (method, path), operation


def test_it_is_openapi_3_with_a_title_and_version(doc):
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["version"] == "1"


def test_every_operation_is_listed_with_its_stable_id(doc):
    found = {key: operation["operationId"] for key, operation in _operations(doc)}
    assert found == OPERATIONS


def test_every_operation_documents_its_errors_with_the_error_schema(doc):
    for key, operation in _operations(doc):
        responses = operation["responses"]
        for status in ERROR_STATUSES:
            assert status in responses, (key, status)
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (key, status)
        successes = [s for s in responses if s.startswith("2")]
        assert successes, key


def test_the_error_schema(doc):
    error = doc["components"]["schemas"]["ErrorOut"]
    assert set(error["required"]) == {"code", "message"}
    assert set(error["properties"]) == {"code", "message", "detail"}


def test_bearer_auth_is_declared_and_required_everywhere_but_the_token_endpoint(doc):
    assert doc["components"]["securitySchemes"] == {"TokenAuth": {"type": "http", "scheme": "bearer"}}
    for key, operation in _operations(doc):
        if operation["operationId"] == "create_token":
            assert "security" not in operation
        else:
            assert operation["security"] == [{"TokenAuth": []}], key


def test_request_bodies_are_described(doc):
    for key, operation in _operations(doc):
        op_id = operation["operationId"]
        body = operation.get("requestBody")
        if op_id in NO_BODY:
            assert body is None, key
            continue
        assert body is not None, key
        assert body.get("required", False) is (op_id not in OPTIONAL_BODY), key
        schema = body["content"]["application/json"]["schema"]
        refs = [schema] if "$ref" in schema else schema["anyOf"]
        assert any(r.get("$ref", "").startswith("#/components/schemas/") for r in refs), key


def test_the_list_is_paginated_and_filterable(doc):
    operation = doc["paths"]["/api/v1/orders"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert names == {"status", "category", "grid", "community", "overdue", "mine", "limit", "offset"}
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(doc["components"]["schemas"][page]["properties"]) == {"items", "count"}


def test_the_idempotency_key_header_is_documented(doc):
    parameters = doc["paths"]["/api/v1/orders"]["post"]["parameters"]
    assert [(p["in"], p["name"], p.get("required", False)) for p in parameters] == [
        ("header", "Idempotency-Key", False)
    ]


def test_the_order_detail_carries_the_timeline_and_counts(doc):
    order = doc["components"]["schemas"]["OrderOut"]["properties"]
    assert {"events", "bounce_count", "reopen_count", "status", "status_label", "is_overdue"} <= set(order)


def test_an_unknown_path_is_a_json_404(db):
    for path in ("/nothing", "/orders/1/fly", "/orders/"):
        response = api_client().get(path)
        assert response.status_code == 404
        assert response.json() == {"code": "no_such_endpoint", "message": "接口不存在，请查看 /api/v1/openapi.json"}
