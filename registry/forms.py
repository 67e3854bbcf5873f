from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from registry.models import HouseholdType, IdType, LivingStatus, MaritalStatus, Relation, Sex, Tag

AGE_GROUPS = [
    ("", _("全部年龄")),
    ("0-14", _("0–14岁")),
    ("15-49", _("15–49岁")),
    ("50-59", _("50–59岁")),
    ("60+", _("60岁以上")),
    ("80+", _("80岁以上")),
]


def unit_choices(units: Any) -> list[tuple[int, str]]:
    """Indented by depth, with the parent's name, so that the many "第一网格" can be told apart."""
    out = []
    for u in units:
        parent = u.parent.name + " · " if u.parent_id and u.parent is not None else ""
        out.append((u.pk, "\u3000" * max(0, u.depth - 1) + parent + u.name))
    return out


def _blank(choices: Any, label: Any) -> list[tuple[str, Any]]:
    return [("", label), *choices]


class ResidentFilterForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    # A select of the user's units down to grids; ?unit=<id> may also name a building (links from other pages).
    unit = forms.IntegerField(label=_("单位"), required=False, widget=forms.Select)
    living_status = forms.ChoiceField(label=_("居住状态"), required=False)
    sex = forms.ChoiceField(label=_("性别"), required=False)
    registered = forms.ChoiceField(
        label=_("户籍"), required=False, choices=[("", _("户籍/非户籍")), ("1", _("户籍")), ("0", _("非户籍"))]
    )
    marital_status = forms.ChoiceField(label=_("婚姻状况"), required=False)
    tag = forms.ModelChoiceField(label=_("重点人群"), required=False, queryset=Tag.objects.none(), to_field_name="code")
    age = forms.ChoiceField(label=_("年龄段"), required=False, choices=AGE_GROUPS)

    def __init__(self, *args, units=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = [("", _("全部单位")), *unit_choices(units)]
        self.fields["living_status"].choices = _blank(LivingStatus.choices, _("全部状态"))  # type: ignore[attr-defined]
        self.fields["sex"].choices = _blank(Sex.choices, _("男/女"))  # type: ignore[attr-defined]
        self.fields["marital_status"].choices = _blank(MaritalStatus.choices, _("全部婚姻状况"))  # type: ignore[attr-defined]
        tag_field = self.fields["tag"]
        tag_field.queryset = Tag.objects.filter(retired_on__isnull=True)  # type: ignore[attr-defined]
        tag_field.empty_label = _("全部重点人群")  # type: ignore[attr-defined]


class ResidentForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_type = forms.ChoiceField(label=_("证件类型"), choices=IdType.choices, initial=IdType.RESIDENT_ID)
    id_number = forms.CharField(label=_("证件号码"), max_length=32)
    sex = forms.ChoiceField(label=_("性别"), choices=_blank(Sex.choices, _("由身份证号推出")), required=False)
    birth_date = forms.DateField(
        label=_("出生日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text=_("身份证可不填")
    )
    phone = forms.CharField(label=_("联系电话"), required=False, max_length=20)
    unit = forms.IntegerField(label=_("所在单位"), widget=forms.Select)
    household = forms.IntegerField(required=False, widget=forms.HiddenInput)
    relation = forms.ChoiceField(label=_("与户主关系"), choices=Relation.choices, initial=Relation.OTHER)
    registered = forms.BooleanField(label=_("户籍人口"), required=False, initial=True)
    living_status = forms.ChoiceField(label=_("居住状态"), choices=LivingStatus.choices)
    arrived_on = forms.DateField(
        label=_("迁入日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("本地出生者填出生日期"),
    )
    marital_status = forms.ChoiceField(
        label=_("婚姻状况"), choices=MaritalStatus.choices, initial=MaritalStatus.UNKNOWN
    )
    tags = forms.ModelMultipleChoiceField(
        label=_("重点人群"), required=False, queryset=Tag.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(label=_("备注"), required=False, max_length=200)
    reason = forms.CharField(label=_("修改原因"), required=False, max_length=100)

    def __init__(self, *args, units=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["tags"].queryset = Tag.objects.filter(retired_on__isnull=True)  # type: ignore[attr-defined]
        self.fields["unit"].widget.choices = unit_choices(units)


class StatusForm(forms.Form):
    living_status = forms.ChoiceField(label=_("新的居住状态"), choices=LivingStatus.choices)
    on = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("原因"), max_length=100)


class RetireForm(forms.Form):
    reason = forms.CharField(label=_("作废原因"), max_length=100)


class HouseholdForm(forms.Form):
    unit = forms.IntegerField(label=_("楼栋/网格/社区"), widget=forms.Select)
    entrance = forms.CharField(label=_("单元"), required=False, max_length=20)
    door = forms.CharField(label=_("门牌号"), max_length=30)
    household_type = forms.ChoiceField(label=_("户类型"), choices=HouseholdType.choices)
    head_name = forms.CharField(label=_("户主姓名"), required=False, max_length=50)
    occupied_since = forms.DateField(
        label=_("入住日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, units=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = unit_choices(units)


class HouseholdFilterForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    unit = forms.IntegerField(label=_("单位"), required=False, widget=forms.Select)
    household_type = forms.ChoiceField(label=_("户类型"), required=False)

    def __init__(self, *args, units=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = [("", _("全部单位")), *unit_choices(units)]
        self.fields["household_type"].choices = _blank(HouseholdType.choices, _("全部户类型"))  # type: ignore[attr-defined]
