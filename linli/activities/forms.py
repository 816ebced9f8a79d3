"""Forms of the activity pages. They check shape; linli.activities.actions enforces the rules.

Times are entered in local time (datetime-local inputs, the town's time zone) and stored aware.
"""

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from linli.activities.models import Kind
from linli.people.models import Skill

TEXT = {"class": "text-input"}
SELECT = {"class": "select-box"}
AREA = {"class": "text-input", "rows": 4}
WHEN = {"class": "text-input", "type": "datetime-local"}
_WHEN_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


def _when(label, **kw):
    return forms.DateTimeField(
        label=label,
        input_formats=_WHEN_FORMATS,
        widget=forms.DateTimeInput(attrs=WHEN, format="%Y-%m-%dT%H:%M"),
        # format_lazy: the message is built in the request's language, not at import time.
        error_messages={"required": format_lazy(_("请填写{label}"), label=label), "invalid": _("时间格式不正确")},
        **kw,
    )


class ActivityForm(forms.Form):
    title = forms.CharField(
        label=_("活动名称"),
        max_length=100,
        widget=forms.TextInput(attrs={**TEXT, "placeholder": _("例如：幸福小区楼道清理")}),
        error_messages={"required": _("请填写活动名称"), "max_length": _("活动名称不能超过100字")},
    )
    kind = forms.ChoiceField(label=_("活动类型"), choices=Kind.choices, widget=forms.Select(attrs=SELECT))
    place = forms.CharField(
        label=_("地点"),
        max_length=200,
        widget=forms.TextInput(attrs={**TEXT, "placeholder": _("例如：幸福社区党群服务中心")}),
        error_messages={"required": _("请填写活动地点")},
    )
    leader = forms.CharField(
        label=_("负责人"),
        max_length=50,
        widget=forms.TextInput(attrs=TEXT),
        error_messages={"required": _("请填写负责人")},
    )
    description = forms.CharField(
        label=_("活动内容"), max_length=4000, required=False, widget=forms.Textarea(attrs=AREA)
    )
    required_skill = forms.ModelChoiceField(
        label=_("所需技能"),
        queryset=Skill.objects.order_by("code"),
        required=False,
        empty_label=_("不限"),
        widget=forms.Select(attrs=SELECT),
        error_messages={"invalid_choice": _("技能无效")},
    )
    unit_quota = forms.BooleanField(label=_("单位指派（计入下沉/报到服务，不计志愿服务）"), required=False)
    signup_opens_at = _when(_("报名开始"))
    signup_closes_at = _when(_("报名截止"))
    cancel_hours = forms.IntegerField(
        label=_("开始前多少小时内不可取消"),
        min_value=0,
        max_value=720,
        initial=24,
        widget=forms.NumberInput(attrs={**TEXT, "inputmode": "numeric"}),
        error_messages={"required": _("请填写取消截止"), "invalid": _("请填写整数")},
    )


class ShiftForm(forms.Form):
    starts_at = _when(_("开始时间"))
    ends_at = _when(_("结束时间"))
    capacity = forms.IntegerField(
        label=_("人数上限"),
        min_value=1,
        max_value=1000,
        widget=forms.NumberInput(attrs={**TEXT, "inputmode": "numeric"}),
        error_messages={
            "required": _("请填写人数上限"),
            "invalid": _("请填写整数"),
            "min_value": _("人数上限至少为1"),
            "max_value": _("人数上限不能超过1000"),
        },
    )
    note = forms.CharField(
        label=_("说明"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={**TEXT, "placeholder": _("例如：上午班")}),
    )


class CapacityForm(forms.Form):
    capacity = ShiftForm.base_fields["capacity"]


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("取消原因"),
        max_length=200,
        widget=forms.TextInput(attrs={**TEXT, "placeholder": _("将通知已报名的队员")}),
        error_messages={"required": _("请填写取消原因")},
    )


class AttendanceForm(forms.Form):
    present = forms.TypedChoiceField(
        choices=[("1", _("出勤")), ("0", _("缺席"))], coerce=lambda v: v == "1", error_messages={"required": ""}
    )
    hours = forms.DecimalField(label=_("服务时长（小时）"), required=False, min_value=0, max_digits=4, decimal_places=1)
