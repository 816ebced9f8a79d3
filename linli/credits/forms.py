"""Shapes of the credits forms; the actions enforce the domain rules."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _


class CorrectionForm(forms.Form):
    proposed_hours = forms.DecimalField(
        label=_("更正后时长（小时）"),
        min_value=Decimal("0"),
        max_value=Decimal("9999.9"),
        decimal_places=1,
        max_digits=5,
        error_messages={"max_decimal_places": _("时长最多保留一位小数")},
    )
    reason = forms.CharField(label=_("更正理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("审核意见"), max_length=500, required=False)


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("不通过的原因"), max_length=500)


class CertificateForm(forms.Form):
    community = forms.TypedChoiceField(label=_("出具社区"), coerce=int)
    period_start = forms.DateField(label=_("起始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("截止日期"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [(c.pk, c.name) for c in communities]


class VerifyForm(forms.Form):
    code = forms.CharField(label=_("验证码"), max_length=16, min_length=4)

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper().replace(" ", "")
