"""Forms of the vaccination pages. They only parse what was typed; the rules (dates, intervals,
duplicates, scope) are vaccination.services', whose messages the views put back on these fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from familyplanning.forms import dress
from registry.forms import unit_choices
from vaccination import rules
from vaccination.models import NonVaccinationReason, ReasonScope, VaccineKind, VaccineProduct


def _date_input() -> forms.DateInput:
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def _products(include_retired: bool = False) -> Any:
    qs = VaccineProduct.objects.order_by("id")
    return qs if include_retired else qs.filter(retired_on__isnull=True)


class DoseForm(forms.Form):
    product = forms.ModelChoiceField(label=_("疫苗"), queryset=VaccineProduct.objects.none())
    dose_number = forms.IntegerField(label=_("剂次"), min_value=1, max_value=9)
    date = forms.DateField(label=_("接种日期"), widget=_date_input())
    site = forms.CharField(label=_("接种单位"), max_length=100, required=False)
    door_to_door = forms.BooleanField(label=_("上门接种"), required=False)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)
    confirm_interval = forms.BooleanField(
        label=_("间隔不足，确认按实际日期登记"),
        required=False,
        help_text=_("仅用于补录外地或历史接种记录，须在备注中说明"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["product"]
        field.queryset = _products()
        dress(self)


class CorrectDoseForm(DoseForm):
    reason = forms.CharField(label=_("更正原因"), max_length=150)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dose_number"].widget = forms.HiddenInput()


class RetireForm(forms.Form):
    reason = forms.CharField(label=_("作废原因"), max_length=150)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dress(self)


class ReasonForm(forms.Form):
    reason = forms.ModelChoiceField(label=_("原因"), queryset=NonVaccinationReason.objects.none())
    scope = forms.ChoiceField(label=_("适用剂次"), choices=ReasonScope.choices, initial=ReasonScope.ANY)
    valid_from = forms.DateField(label=_("起始日期"), widget=_date_input())
    valid_to = forms.DateField(label=_("截止日期"), required=False, widget=_date_input())
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["reason"]
        field.queryset = NonVaccinationReason.objects.filter(retired_on__isnull=True).order_by("id")
        dress(self)


class EndReasonForm(forms.Form):
    valid_to = forms.DateField(label=_("截止日期"), widget=_date_input())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dress(self)


class DoseFilterForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=50)
    unit = forms.IntegerField(label=_("单位"), required=False, widget=forms.Select)
    product = forms.ModelChoiceField(label=_("疫苗"), queryset=VaccineProduct.objects.none(), required=False)
    dose_number = forms.IntegerField(label=_("剂次"), required=False, min_value=1, max_value=9)
    start = forms.DateField(label=_("接种日期从"), required=False, widget=_date_input())
    end = forms.DateField(label=_("到"), required=False, widget=_date_input())
    door_to_door = forms.ChoiceField(
        label=_("上门接种"), required=False, choices=[("", _("全部接种方式")), ("1", _("上门接种")), ("0", _("接种点"))]
    )
    retired = forms.BooleanField(label=_("含已作废"), required=False)

    def __init__(self, *args: Any, units: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("姓名开头或证件号码后几位")
        unit: Any = self.fields["unit"]
        unit.widget.choices = [("", _("全部单位")), *unit_choices(units)]
        product: Any = self.fields["product"]
        product.queryset = _products(include_retired=True)
        product.empty_label = _("全部疫苗")
        dress(self)


GROUP_CHOICES = [(g.key, g.label) for g in rules.AGE_GROUPS]
LEVEL_CHOICES = [(level, rules.LEVEL_LABELS[level]) for level in rules.LEVELS]


class ReconciliationForm(forms.Form):
    unit = forms.IntegerField(label=_("单位"), required=False, widget=forms.Select)
    group = forms.ChoiceField(label=_("人群"), choices=GROUP_CHOICES, initial="age_60_plus")
    level = forms.ChoiceField(label=_("核对剂次"), choices=LEVEL_CHOICES, initial=rules.FULL_COURSE)
    date = forms.DateField(label=_("截至日期"), required=False, widget=_date_input())

    def __init__(self, *args: Any, units: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit: Any = self.fields["unit"]
        unit.widget.choices = unit_choices(units)
        dress(self)


class DoorToDoorForm(ReconciliationForm):
    tag = forms.IntegerField(label=_("重点人群"), required=False, widget=forms.Select)

    def __init__(self, *args: Any, tags: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        group: Any = self.fields["group"]
        group.choices = [c for c in GROUP_CHOICES if c[0] in ("age_60_plus", "age_80_plus")]
        tag: Any = self.fields["tag"]
        tag.widget.choices = [("", _("全部老人")), *[(t.pk, _("仅%(name)s") % {"name": t.name}) for t in tags]]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("接种记录表（xlsx）"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dress(self)


class ProductForm(forms.ModelForm):
    class Meta:
        model = VaccineProduct
        fields = [
            "code",
            "name",
            "manufacturer",
            "kind",
            "course_doses",
            "min_interval_days",
            "booster_needed",
            "booster_interval_days",
            "retired_on",
        ]
        widgets = {"retired_on": _date_input(), "kind": forms.Select(choices=VaccineKind.choices)}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dress(self)  # type: ignore[arg-type]

    def validate_unique(self) -> None:  # the service checks and answers in Chinese
        pass

    def _post_clean(self) -> None:  # no model validation here: services.save_product decides
        pass


class ReasonTypeForm(forms.ModelForm):
    class Meta:
        model = NonVaccinationReason
        fields = ["code", "name", "absent", "retired_on"]
        widgets = {"retired_on": _date_input()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dress(self)  # type: ignore[arg-type]

    def validate_unique(self) -> None:
        pass

    def _post_clean(self) -> None:
        pass
