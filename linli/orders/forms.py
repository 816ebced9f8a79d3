"""Forms of the order pages. They check shape; linli.orders.actions enforces the domain rules.

Choice fields get querysets already limited to what the user may see or pick (their household,
their grids' households, the town's categories and departments); a value outside them is a
form error naming the field, never a lookup outside the user's scope.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from linli.orders.models import Channel, FollowUp, Kind, Rating
from linli.orders.models import Status as S
from linli.orgs.models import Category, Community, Department, Grid, Household
from linli.people.models import Resident

TEXT = {"class": "text-input"}
SELECT = {"class": "select-box"}
AREA = {"class": "text-input", "rows": 4}


def _category_field(required=False):
    return forms.ModelChoiceField(
        label=_("类别"),
        queryset=Category.objects.none(),
        required=required,
        empty_label=_("不确定（由社区分类）") if not required else _("请选择类别"),
        widget=forms.Select(attrs=SELECT),
        error_messages={"invalid_choice": _("类别无效"), "required": _("请选择类别")},
    )


class _OrderFields(forms.Form):
    """What every filed order says: kind, category, title, description, anonymity."""

    kind = forms.ChoiceField(
        label=_("类型"), choices=Kind.choices, initial=Kind.NEED, widget=forms.Select(attrs=SELECT)
    )
    category = _category_field()
    title = forms.CharField(
        label=_("标题"),
        max_length=100,
        widget=forms.TextInput(attrs={**TEXT, "placeholder": _("一句话说明问题，例如：楼道灯不亮")}),
        error_messages={"required": _("请填写诉求标题"), "max_length": _("标题不能超过100字")},
    )
    description = forms.CharField(
        label=_("描述"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={**AREA, "placeholder": _("时间、地点、具体情况")}),
        error_messages={"max_length": _("描述不能超过4000字")},
    )
    anonymous = forms.BooleanField(label=_("对党员匿名"), required=False)

    def _set_categories(self, town_ids):
        self.fields["category"].queryset = Category.objects.filter(town_id__in=town_ids).order_by("code")


class OrderForm(_OrderFields):
    """A resident (or anyone who may file in a community) files an order: at home or at an address."""

    WHERE = [("home", _("我家")), ("address", _("其他地址"))]

    where = forms.ChoiceField(label=_("地点"), choices=WHERE, initial="home", widget=forms.RadioSelect)
    community = forms.ModelChoiceField(
        label=_("所在社区"),
        queryset=Community.objects.none(),
        required=False,
        empty_label=_("请选择社区"),
        widget=forms.Select(attrs=SELECT),
        error_messages={"invalid_choice": _("社区无效")},
    )
    address = forms.CharField(
        label=_("地址"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={**TEXT, "placeholder": _("例如：幸福路12号门口")}),
    )

    field_order = ["kind", "category", "title", "description", "where", "community", "address", "anonymous"]

    def __init__(self, *args, household: Household | None, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.household = household
        self.fields["community"].queryset = communities
        towns = set(communities.values_list("town_id", flat=True))
        if household is not None:
            towns.add(household.building.grid.community.town_id)
            self.fields["community"].initial = household.building.grid.community_id
        else:
            self.fields["where"].choices = [c for c in self.WHERE if c[0] == "address"]
            self.fields["where"].initial = "address"
        self._set_categories(towns)

    def clean(self):
        data = super().clean()
        if data.get("where") == "address":
            if not data.get("community"):
                self.add_error("community", _("请选择所在社区"))
            if not (data.get("address") or "").strip():
                self.add_error("address", _("请填写地址"))
        return data


class OnBehalfForm(_OrderFields):
    """A grid worker (or community staff) files for a resident of their grids (网格员代办)."""

    CHANNELS = [
        (Channel.GRID_WORKER, Channel.GRID_WORKER.label),
        (Channel.PHONE, Channel.PHONE.label),
        (Channel.VISIT, Channel.VISIT.label),
    ]

    household = forms.ModelChoiceField(
        label=_("住户"),
        queryset=Household.objects.none(),
        empty_label=_("请选择住户"),
        widget=forms.Select(attrs=SELECT),
        error_messages={"required": _("请选择住户"), "invalid_choice": _("住户不在您的网格内")},
    )
    resident = forms.ModelChoiceField(
        label=_("居民"),
        queryset=Resident.objects.none(),
        required=False,
        empty_label=_("不指定"),
        widget=forms.Select(attrs=SELECT),
        error_messages={"invalid_choice": _("居民不在您的网格内")},
    )
    channel = forms.ChoiceField(
        label=_("渠道"), choices=CHANNELS, initial=Channel.GRID_WORKER, widget=forms.Select(attrs=SELECT)
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False, widget=forms.TextInput(attrs=TEXT))
    contact_phone = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={**TEXT, "inputmode": "tel", "autocomplete": "off"}),
    )

    field_order = [
        "household",
        "resident",
        "channel",
        "contact_name",
        "contact_phone",
        "kind",
        "category",
        "title",
        "description",
        "anonymous",
    ]

    def __init__(self, *args, households, town_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = households
        self.fields["household"].label_from_instance = lambda h: f"{h.building.grid.name} · {h.address}"
        residents = Resident.objects.current().filter(household__in=households).select_related("household")
        self.fields["resident"].queryset = residents
        self.fields["resident"].label_from_instance = lambda r: r.name
        self._set_categories(town_ids)

    def resident_choices(self):
        """The residents of the chosen household (the select is refilled by htmx when it changes)."""
        household = self["household"].value()
        if not household:
            return Resident.objects.none()
        try:
            household = int(household)
        except (TypeError, ValueError):
            return Resident.objects.none()
        return self.fields["resident"].queryset.filter(household_id=household).order_by("id")

    def clean(self):
        data = super().clean()
        household, resident = data.get("household"), data.get("resident")
        if household and resident and resident.household_id != household.pk:
            self.add_error("resident", _("该居民不住在所选住户"))
        return data


# --- triage and dispatch -----------------------------------------------------------------------


class AcceptForm(forms.Form):
    category = _category_field(required=True)
    priority = forms.TypedChoiceField(
        label=_("优先级"),
        coerce=int,
        choices=[(5, _("5 紧急")), (4, _("4 较急")), (3, _("3 一般")), (2, _("2 较缓")), (1, _("1 不急"))],
        initial=3,
        widget=forms.Select(attrs=SELECT),
    )
    kind = forms.ChoiceField(label=_("类型"), choices=Kind.choices, widget=forms.Select(attrs=SELECT))
    note = forms.CharField(label=_("备注"), max_length=200, required=False, widget=forms.TextInput(attrs=TEXT))

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(town_id=order.town_id).order_by("code")
        self.fields["category"].initial = order.category_id
        self.fields["priority"].initial = order.priority
        self.fields["kind"].initial = order.kind


def reason_form(message):
    """A form with one required `reason`; `message` is what an empty reason says."""

    class ReasonForm(forms.Form):
        reason = forms.CharField(
            label=_("原因"),
            max_length=500,
            widget=forms.TextInput(attrs=TEXT),
            error_messages={"required": message},
        )

    return ReasonForm


class NoteForm(forms.Form):
    note = forms.CharField(label=_("说明"), max_length=500, required=False, widget=forms.TextInput(attrs=TEXT))


class MergeForm(forms.Form):
    into = forms.IntegerField(
        label=_("合并到工单号"),
        min_value=1,
        error_messages={"required": _("请选择或填写要合并到的工单"), "invalid": _("工单号应为数字")},
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class DispatchForm(forms.Form):
    """One of: a member (因人派单), a unit (集体派单), the pool (灵活派单)."""

    member = forms.IntegerField(required=False, min_value=1)
    unit = forms.IntegerField(required=False, min_value=1)
    pool = forms.BooleanField(required=False)
    note = forms.CharField(max_length=200, required=False)

    def clean(self):
        data = super().clean()
        chosen = [bool(data.get("member")), bool(data.get("unit")), bool(data.get("pool"))]
        if sum(chosen) != 1:
            raise forms.ValidationError(_("请选择派给党员、单位或领单池之一"))
        return data


class EscalateForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("职能部门"),
        queryset=Department.objects.none(),
        empty_label=_("请选择部门"),
        widget=forms.Select(attrs=SELECT),
        error_messages={"required": _("请选择职能部门"), "invalid_choice": _("部门无效")},
    )
    due = forms.DateTimeField(
        label=_("办理时限"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={**TEXT, "type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": _("办理时限格式不对")},
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False, widget=forms.TextInput(attrs=TEXT))

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(town_id=order.town_id).order_by("name")


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=_("办理结果"),
        max_length=2000,
        widget=forms.Textarea(attrs={**AREA, "rows": 3}),
        error_messages={"required": _("请填写办理结果")},
    )
    hours = forms.DecimalField(
        label=_("服务时长（小时）"),
        required=False,
        max_digits=4,
        decimal_places=1,
        widget=forms.NumberInput(attrs={**TEXT, "step": "0.5", "min": "0.5", "inputmode": "decimal"}),
        error_messages={"invalid": _("服务时长应为数字"), "max_decimal_places": _("服务时长最多一位小数")},
    )


class RateForm(forms.Form):
    rating = forms.ChoiceField(
        label=_("评价"),
        choices=Rating.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择评价"), "invalid_choice": _("评价无效")},
    )
    comment = forms.CharField(
        label=_("评价意见"), max_length=500, required=False, widget=forms.Textarea(attrs={**AREA, "rows": 2})
    )


class FollowUpForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("回访结果"),
        choices=FollowUp.Outcome.choices,
        widget=forms.Select(attrs=SELECT),
        error_messages={"required": _("请选择回访结果"), "invalid_choice": _("回访结果无效")},
    )
    note = forms.CharField(label=_("说明"), max_length=500, required=False, widget=forms.TextInput(attrs=TEXT))


# --- lists -------------------------------------------------------------------------------------

QUEUE_STATUSES = [
    ("", _("未办结")),
    ("all", _("全部")),
    ("working", _("已派单办理中")),
    ("escalation", _("吹哨中")),
    *[(value, label) for value, label in S.choices],
]


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"), choices=QUEUE_STATUSES, required=False, widget=forms.Select(attrs=SELECT)
    )
    category = forms.ModelChoiceField(
        label=_("类别"),
        queryset=Category.objects.none(),
        required=False,
        empty_label=_("全部类别"),
        widget=forms.Select(attrs=SELECT),
    )
    grid = forms.ModelChoiceField(
        label=_("网格"),
        queryset=Grid.objects.none(),
        required=False,
        empty_label=_("全部网格"),
        widget=forms.Select(attrs=SELECT),
    )
    overdue = forms.BooleanField(label=_("只看超时"), required=False)

    def __init__(self, *args, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(town_id=community.town_id).order_by("code")
        self.fields["grid"].queryset = Grid.objects.filter(community=community).order_by("code")
