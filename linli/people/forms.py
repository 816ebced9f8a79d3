"""Forms of people's pages. They check shape; the actions enforce the domain rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.orgs.models import Community
from linli.people.access import registrable_communities
from linli.people.models import Member


class ApproveForm(forms.Form):
    note = forms.CharField(label=_("备注"), max_length=200, required=False)


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("不通过的原因"),
        max_length=200,
        error_messages={"required": _("请填写不通过的原因")},
    )


class WithdrawForm(forms.Form):
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class RegistrationRequestForm(forms.Form):
    community = forms.ModelChoiceField(
        label=_("报到社区"),
        queryset=Community.objects.none(),
        empty_label=_("请选择社区"),
        error_messages={"invalid_choice": _("不能向该社区报到"), "required": _("请选择社区")},
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args, member: Member, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = registrable_communities(member)
