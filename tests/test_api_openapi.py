"""The OpenAPI document at /api/v1/openapi.json describes every operation, its errors and its auth."""

from pathlib import Path

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
    ("get", "/api/v1/orders/{order_id}/suggestions"): "list_order_suggestions",
    ("post", "/api/v1/dispatch/runs"): "plan_dispatch_run",
    ("get", "/api/v1/dispatch/runs"): "list_dispatch_runs",
    ("get", "/api/v1/dispatch/runs/{run_id}"): "get_dispatch_run",
    ("post", "/api/v1/dispatch/runs/{run_id}/confirm"): "confirm_dispatch_run",
    ("post", "/api/v1/dispatch/runs/{run_id}/discard"): "discard_dispatch_run",
    ("get", "/api/v1/tasks"): "list_tasks",
    ("get", "/api/v1/pool"): "list_pool",
    ("get", "/api/v1/activities"): "list_activities",
    ("get", "/api/v1/activities/{activity_id}"): "get_activity",
    ("post", "/api/v1/shifts/{shift_id}/signup"): "sign_up_shift",
    ("post", "/api/v1/signups/{signup_id}/cancel"): "cancel_signup",
    ("get", "/api/v1/signups"): "list_my_signups",
    ("get", "/api/v1/signups/{signup_id}"): "get_signup",
    ("post", "/api/v1/checkin"): "check_in",
    ("get", "/api/v1/calendar"): "get_calendar_feed",
    ("post", "/api/v1/calendar/regenerate"): "regenerate_calendar_feed",
    ("get", "/api/v1/ledger/service-records"): "list_service_records",
    ("get", "/api/v1/ledger/points"): "list_point_entries",
    ("get", "/api/v1/ledger/standing"): "get_standing",
    ("get", "/api/v1/ledger/star-events"): "list_star_events",
    ("get", "/api/v1/ledger/corrections"): "list_corrections",
    ("post", "/api/v1/service-records/{record_id}/corrections"): "request_correction",
    ("get", "/api/v1/registrations"): "list_registrations",
    ("post", "/api/v1/registrations"): "request_registration",
    ("get", "/api/v1/registrations/communities"): "list_registrable_communities",
    ("get", "/api/v1/registrations/{registration_id}"): "get_registration",
    ("post", "/api/v1/registrations/{registration_id}/approve"): "approve_registration",
    ("post", "/api/v1/registrations/{registration_id}/decline"): "decline_registration",
    ("post", "/api/v1/registrations/{registration_id}/withdraw"): "withdraw_registration",
    ("get", "/api/v1/notifications"): "list_notifications",
    ("get", "/api/v1/notifications/unread-count"): "count_unread_notifications",
    ("post", "/api/v1/notifications/{notification_id}/read"): "mark_notification_read",
    ("post", "/api/v1/notifications/read-all"): "mark_all_notifications_read",
}
# Operations whose request body is optional or absent.
NO_BODY = {
    "revoke_token",
    "claim_order",
    "start_order",
    "sign_up_shift",
    "confirm_dispatch_run",
    "discard_dispatch_run",
    "regenerate_calendar_feed",
    "mark_notification_read",
    "mark_all_notifications_read",
}
OPTIONAL_BODY = {
    "cancel_order",
    "recall_order",
    "acknowledge_order",
    "cancel_signup",
    "approve_registration",
    "withdraw_registration",
}
# Lists: paginated with limit/offset, answering items and count.
LISTS = {
    "list_orders",
    "list_order_suggestions",
    "list_dispatch_runs",
    "list_tasks",
    "list_pool",
    "list_activities",
    "list_my_signups",
    "list_service_records",
    "list_point_entries",
    "list_star_events",
    "list_corrections",
    "list_registrations",
    "list_registrable_communities",
    "list_notifications",
}
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
        if op_id in NO_BODY or key[0] == "get":
            assert body is None, key
            continue
        assert body is not None, key
        assert body.get("required", False) is (op_id not in OPTIONAL_BODY), key
        schema = body["content"]["application/json"]["schema"]
        refs = [schema] if "$ref" in schema else schema["anyOf"]
        assert any(r.get("$ref", "").startswith("#/components/schemas/") for r in refs), key


def test_every_operation_has_a_summary_and_a_success_schema(doc):
    for key, operation in _operations(doc):
        assert operation.get("summary"), key
        successes = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
        for status, response in successes.items():
            if status == "204":
                continue
            schema = response["content"]["application/json"]["schema"]
            schema = schema.get("items", schema)  # list_categories: a short array of the town's categories
            assert schema["$ref"].startswith("#/components/schemas/"), key


def test_every_list_is_paginated_with_a_count(doc):
    found = set()
    for key, operation in _operations(doc):
        if key[0] != "get":
            continue
        names = {p["name"] for p in operation.get("parameters", [])}
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        if "$ref" not in schema:
            continue  # list_categories: the town's categories, a short configuration list
        properties = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]["properties"]
        if "items" in properties:
            found.add(operation["operationId"])
            assert {"limit", "offset"} <= names, key
            assert "count" in properties, key
    assert found == LISTS


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


def test_dispatch_shapes_are_documented(doc):
    schemas = doc["components"]["schemas"]
    suggestion = schemas["SuggestionOut"]["properties"]
    assert {"member", "member_no", "score", "match_score", "parts", "reasons", "eligible", "problems"} == set(
        suggestion
    )
    assert schemas["SuggestionPage"]["properties"]["source"]["const"] == "engine"
    run_in = schemas["DispatchRunIn"]
    assert set(run_in["required"]) == {"scope_kind", "scope_id"}
    assert run_in["properties"]["scope_kind"]["enum"] == ["grid", "community", "town"]
    detail = schemas["DispatchRunDetail"]["properties"]
    assert {"status", "scope", "n_orders", "n_assigned", "n_applied", "assignments"} <= set(detail)
    assignment = schemas["DispatchAssignmentOut"]["properties"]
    assert {"order", "member", "member_no", "score", "reasons", "applied", "note"} == set(assignment)
    plan = doc["paths"]["/api/v1/dispatch/runs"]["post"]
    assert "201" in plan["responses"] and {"limit", "offset"} <= {p["name"] for p in plan["parameters"]}


def test_an_unknown_path_is_a_json_404(db):
    for path in ("/nothing", "/orders/1/fly", "/orders/"):
        response = api_client().get(path)
        assert response.status_code == 404
        assert response.json() == {"code": "no_such_endpoint", "message": "接口不存在，请查看 /api/v1/openapi.json"}


def test_docs_api_md_lists_every_operation():
    text = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text()
    missing = sorted(op for op in OPERATIONS.values() if f"`{op}`" not in text)
    assert missing == []
