"""Shapes of what comes in: a partner's POST (its plain fields) and the keys page's form.

They check shape only; linli.open311.actions enforces the rules (scope, lengths of what is
stored). A POST's location and extra questions are checked by locate.py and attributes.py.
"""

from django import forms
from django.core.validators import RegexValidator, URLValidator
from django.utils.translation import gettext_lazy as _

from linli.open311.actions import MAX_RATE, default_rate
from linli.orgs.models import Community, Town

TEXT = {"class": "text-input"}
SELECT = {"class": "select-box"}


def _text(name: str, max_length: int, **kwargs) -> forms.CharField:
    return forms.CharField(
        required=kwargs.pop("required", False),
        max_length=max_length,
        strip=True,
        error_messages={"max_length": f"{name} 不能超过{max_length}字", "required": f"缺少 {name}"},
        **kwargs,
    )


class ServiceRequestForm(forms.Form):
    """The plain arguments of POST requests.{fmt}; each error names the argument."""

    service_code = _text("service_code", 32, required=True)
    description = _text("description", 4000)
    first_name = _text("first_name", 50)
    last_name = _text("last_name", 50)
    phone = _text(
        "phone",
        30,
        validators=[RegexValidator(r"^[0-9+\-() ]*$", message="phone 只能包含数字、空格和 + - ( )")],
    )
    email = forms.EmailField(
        required=False, max_length=254, error_messages={"invalid": "email 格式不正确", "max_length": "email 过长"}
    )
    device_id = _text("device_id", 100)
    account_id = _text("account_id", 100)
    media_url = _text(
        "media_url",
        500,
        validators=[URLValidator(schemes=["http", "https"], message="media_url 应为 http(s) 链接")],
    )

    def problems(self) -> list[str]:
        return [str(message) for errors in self.errors.values() for message in errors]


class PartnerKeyForm(forms.Form):
    name = forms.CharField(
        label=_("合作方名称"),
        max_length=100,
        widget=forms.TextInput(attrs={**TEXT, "placeholder": _("例如：市民热线 App")}),
        error_messages={"required": _("请填写合作方名称"), "max_length": _("合作方名称不能超过100字")},
    )
    town = forms.ModelChoiceField(
        label=_("街道/镇"),
        queryset=Town.objects.none(),
        empty_label=None,
        widget=forms.Select(attrs=SELECT),
        error_messages={"invalid_choice": _("街道/镇无效")},
    )
    community = forms.ModelChoiceField(
        label=_("限定社区"),
        queryset=Community.objects.none(),
        required=False,
        empty_label=_("不限（全街道/镇）"),
        widget=forms.Select(attrs=SELECT),
        error_messages={"invalid_choice": _("社区无效")},
    )
    rate_limit_per_minute = forms.IntegerField(
        label=_("每分钟请求上限"),
        min_value=0,
        max_value=MAX_RATE,
        widget=forms.NumberInput(attrs={**TEXT, "inputmode": "numeric"}),
        error_messages={
            "required": _("请填写每分钟请求上限"),
            "min_value": _("不能小于0"),
            "max_value": _("过大"),
            "invalid": _("应为整数"),
        },
    )

    def __init__(self, *args, towns, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["town"].queryset = towns
        self.fields["community"].queryset = Community.objects.filter(town__in=towns).order_by("code")
        self.fields["rate_limit_per_minute"].initial = default_rate()

    def clean(self):
        data = super().clean()
        town, community = data.get("town"), data.get("community")
        if town is not None and community is not None and community.town_id != town.pk:
            self.add_error("community", _("社区不属于所选街道/镇"))
        return data
