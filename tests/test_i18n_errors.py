"""The actions' error messages are translated at raise time, in the request's language.

Chinese is the source language (the msgids); English comes from locale/en. Only messages whose
English is already in the catalog are asserted in English here; the others are checked to go
through gettext with named placeholders (a stand-in catalog), since their English is added later.
"""

import json
from decimal import Decimal
from unittest import mock

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy

from linli import testing as t
from linli.activities import actions as activity_actions
from linli.api.testing import api_client
from linli.lib.errors import DomainError
from linli.orders import actions as order_actions


def _error_of(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def test_an_action_error_is_english_when_english_is_active():
    submit = lambda: order_actions.submit_order(actor=None, title="  ")  # noqa: E731
    with translation.override("en"):
        error = _error_of(submit)
    assert (error.code, error.message, str(error)) == ("title", "Enter a title", "Enter a title")
    with translation.override(settings.LANGUAGE_CODE):  # Chinese: the msgid, unchanged
        error = _error_of(submit)
    assert (error.code, error.message) == ("title", "请填写诉求标题")


def test_the_api_answers_in_the_requests_language(world, personas):
    category = t.make_category(world.town, name="水电维修")
    resident, staff = api_client(personas.resident_user), api_client(personas.staff_a)
    order_id = resident.post("/orders", {"title": "厨房水管漏水"}).json()["id"]
    assert staff.post(f"/orders/{order_id}/accept", {"category_id": category.pk}).status_code == 200
    response = staff.post(f"/orders/{order_id}/dispatch", {})
    assert response.json() == {"code": "target", "message": "请选择派给党员、单位或领单池之一"}
    # The language the user chose (the language cookie; Accept-Language is ignored: Chinese first).
    staff.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = staff.post(f"/orders/{order_id}/dispatch", {})
    assert response.status_code == 400
    assert response.json() == {"code": "target", "message": "Choose one of: a member, a unit or the pool"}


@pytest.mark.parametrize(
    ("call", "msgid", "chinese", "english"),
    [
        (
            lambda: order_actions._check_photos([object()] * 4),
            "最多上传%(max)s张照片",
            "最多上传3张照片",
            "At most 3 photos",
        ),
        (
            lambda: order_actions._hours("30", Decimal("24")),
            "单次服务时长不能超过%(cap)s小时",
            "单次服务时长不能超过24小时",
            "At most 24 hours at a time",
        ),
    ],
)
def test_interpolated_messages_are_translated_before_the_values_go_in(call, msgid, chinese, english):
    # The msgid keeps its named placeholders (translators may move them); the values are
    # substituted into whatever gettext returns.
    catalog = {
        "最多上传%(max)s张照片": "At most %(max)s photos",
        "单次服务时长不能超过%(cap)s小时": "At most %(cap)s hours at a time",
    }
    with mock.patch.object(order_actions, "_", side_effect=lambda s: catalog.get(s, s)) as gettext:
        error = _error_of(call)
    gettext.assert_called_once_with(msgid)
    assert error.message == english
    with translation.override(settings.LANGUAGE_CODE):
        assert _error_of(call).message == chinese


def test_a_lazy_message_is_plain_str_in_the_error():
    with translation.override("en"):
        error = DomainError(gettext_lazy("请填写诉求标题"))
    assert type(error.message) is str and type(str(error)) is str
    assert json.loads(json.dumps({"message": error.message})) == {"message": "Enter a title"}
    # A module-level (lazy) message of an action: str when raised.
    with translation.override(settings.LANGUAGE_CODE):
        error = _error_of(lambda: activity_actions._resolve_code("not-a-code", None))
    assert error.code == "tampered"
    assert type(error.message) is str
    assert error.message == "二维码无效，请扫描活动现场屏幕上的签到二维码。"
