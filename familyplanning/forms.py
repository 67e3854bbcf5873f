"""Forms of the 计生 ledgers (births, birth-service registrations, holiday visits).

The forms only parse what was typed; who the mother is, whether the order fits and whether the
date is possible are decided by familyplanning.services, whose messages the views put back on
these fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from familyplanning.models import MAX_BIRTH_ORDER, RegistrationStatus
from familyplanning.rules import order_label
from registry.forms import unit_choices
from registry.models import Sex


def _date_input() -> forms.DateInput:
    # type=date inputs take ISO dates only, whatever the locale's display format.
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def _order_choices() -> list[tuple[int, str]]:
    return [(n, order_label(n)) for n in range(1, MAX_BIRTH_ORDER + 1)]


def _filter_order_choices() -> list[tuple[str, Any]]:
    return [("", _("全部孩次")), ("1", _("一孩")), ("2", _("二孩")), ("3", _("三孩及以上"))]


def dress(form: forms.Form) -> None:
    """Bootstrap classes on the rendered widgets, so the pages look right without any script."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.HiddenInput):
            continue
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()


class LedgerFilterForm(forms.Form):
    """What every 计生 ledger filters on: a unit of the user's subtree, a search and a date range."""

    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    unit = forms.IntegerField(label=_("单位"), required=False, widget=forms.Select)
    start = forms.DateField(label=_("起始日期"), required=False, widget=_date_input())
    end = forms.DateField(label=_("截止日期"), required=False, widget=_date_input())
    order = forms.ChoiceField(label=_("孩次"), required=False, choices=_filter_order_choices)

    def __init__(self, *args: Any, units: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = [("", _("全部单位")), *unit_choices(units)]
        dress(self)


class BirthFilterForm(LedgerFilterForm):
    sex = forms.ChoiceField(label=_("性别"), required=False, choices=[("", _("男/女")), *Sex.choices])
    late = forms.IntegerField(label=_("录入超过N天"), required=False, min_value=0, max_value=3650)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("婴儿或母亲姓名、母亲证件号码（或后几位）")
        self.fields["late"].widget.attrs["placeholder"] = _("录入超过N天")


class RegistrationFilterForm(LedgerFilterForm):
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部状态")), *RegistrationStatus.choices]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("女方或男方姓名、女方证件号码（或后几位）")


class CoupleForm(forms.Form):
    """The parents: an ID number found among the residents in scope links the resident; otherwise name + number."""

    mother_id_number = forms.CharField(
        label=_("母亲证件号码"),
        required=False,
        max_length=32,
        help_text=_("本辖区在册居民填证件号码即可自动关联；非在册的须同时填写姓名"),
    )
    mother_name = forms.CharField(label=_("母亲姓名"), required=False, max_length=50, help_text=_("非在册居民必填"))
    father_id_number = forms.CharField(label=_("父亲证件号码"), required=False, max_length=32)
    father_name = forms.CharField(label=_("父亲姓名"), required=False, max_length=50)
    unit = forms.IntegerField(
        label=_("所在单位"), required=False, widget=forms.Select, help_text=_("不选则为母亲（在册居民）所在单位")
    )

    def __init__(self, *args: Any, units: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = [("", _("（母亲所在单位）")), *unit_choices(units)]

    def clean(self) -> dict[str, Any]:
        cd = super().clean() or {}
        if not (cd.get("mother_id_number") or "").strip() and not (cd.get("mother_name") or "").strip():
            self.add_error("mother_id_number", _("请填写母亲的证件号码（在册居民）或姓名"))
        return cd


class BirthForm(CoupleForm):
    child_name = forms.CharField(label=_("婴儿姓名"), max_length=50, help_text=_("未取名可填“某某之子/之女”"))
    sex = forms.ChoiceField(label=_("性别"), choices=[("", "—"), *Sex.choices])
    birth_date = forms.DateField(label=_("出生日期"), widget=_date_input())
    birth_order = forms.TypedChoiceField(label=_("孩次"), coerce=int, choices=_order_choices)
    place = forms.CharField(label=_("出生地点"), required=False, max_length=100)
    out_of_policy = forms.BooleanField(label=_("认定为政策外生育"), required=False)
    out_of_policy_reason = forms.CharField(label=_("政策外原因"), required=False, max_length=200)

    field_order = [
        "child_name",
        "sex",
        "birth_date",
        "birth_order",
        "mother_id_number",
        "mother_name",
        "father_id_number",
        "father_name",
        "place",
        "unit",
        "out_of_policy",
        "out_of_policy_reason",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dress(self)


class RegistrationForm(CoupleForm):
    birth_order = forms.TypedChoiceField(label=_("登记孩次"), coerce=int, choices=_order_choices)
    registered_on = forms.DateField(label=_("登记日期"), widget=_date_input())

    field_order = [
        "mother_id_number",
        "mother_name",
        "father_id_number",
        "father_name",
        "birth_order",
        "registered_on",
        "unit",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mother_id_number"].label = _("女方证件号码")
        self.fields["mother_name"].label = _("女方姓名")
        self.fields["father_id_number"].label = _("男方证件号码")
        self.fields["father_name"].label = _("男方姓名")
        self.fields["unit"].help_text = _("不选则为女方（在册居民）所在单位")
        dress(self)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200)


OCCASIONS = [_("春节"), _("元旦"), _("母亲节"), _("端午节"), _("中秋节")]


class VisitForm(forms.Form):
    unit = forms.IntegerField(widget=forms.HiddenInput)
    date = forms.DateField(label=_("慰问日期"), widget=_date_input())
    occasion = forms.CharField(
        label=_("节日/事由"), max_length=30, widget=forms.TextInput(attrs={"list": "occasions", "autocomplete": "off"})
    )
    given = forms.CharField(label=_("慰问内容"), max_length=200, help_text=_("如：慰问金500元、米面油"))
    note = forms.CharField(label=_("备注"), required=False, max_length=200)
    people = forms.TypedMultipleChoiceField(
        label=_("慰问对象"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, people: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["people"].choices = list(people)  # type: ignore[attr-defined]
        dress(self)
