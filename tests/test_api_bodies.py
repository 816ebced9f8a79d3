"""Text in a JSON body never holds U+0000: PostgreSQL cannot store it, so it is a 422 naming the
field on both backends, before any action runs (found by schemathesis on PostgreSQL)."""

from linli.api.testing import api_client
from linli.orders.models import Order


def test_a_nul_character_in_any_field_is_a_422_naming_it(world, personas):
    client = api_client(personas.resident_user)
    response = client.post("/orders", {"title": "漏水\x00", "description": "x"})
    assert response.status_code == 422
    assert response.json() == {
        "code": "validation_error",
        "message": "请求内容有误：title",
        "detail": [{"field": "title", "message": "不能包含空字符（U+0000）"}],
    }
    nested = client.post("/orders", {"title": "漏水", "extra": [{"a\x00": 1}]})
    assert nested.status_code == 422 and nested.json()["detail"][0]["field"] == "extra.0"
    assert not Order.objects.exists()


def test_a_nul_character_in_a_decline_reason(world, personas):
    registration = personas.member_b.registrations.get()
    response = api_client(personas.staff_b).post(f"/registrations/{registration.pk}/decline", {"reason": "\x00"})
    assert response.status_code == 422
    assert response.json()["detail"] == [{"field": "reason", "message": "不能包含空字符（U+0000）"}]
    registration.refresh_from_db()
    assert registration.status == "approved"


def test_a_body_that_is_not_an_object_is_still_invalid_json(world, personas):
    response = api_client(personas.resident_user).post("/orders", ["\x00"])
    assert response.status_code == 400 and response.json()["code"] == "invalid_json"
