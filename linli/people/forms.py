"""Forms of people's pages. They check shape; the actions enforce the domain rules."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.orgs.models import Community, Pairing
from linli.people.models import Member, Registration


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


def registrable_communities(member: Member):
    """Communities a member may ask to register with (报到), and has no live registration with.

    Those of the towns of the member's home community and unit, and those paired with the
    member's unit (包保). Community names are not personal data, but the list stays local so a
    province's 30,000 communities never land in one select.
    """
    towns = {t for t in (getattr(member.home_community, "town_id", None), getattr(member.unit, "town_id", None)) if t}
    q = Q(town_id__in=towns)
    if member.unit_id:
        q |= Q(pk__in=Pairing.objects.filter(unit_id=member.unit_id).values("community_id"))
    live = Registration.objects.active().filter(member=member).values("community_id")
    return Community.objects.filter(q).exclude(pk__in=live).select_related("town").order_by("town__name", "code")


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
