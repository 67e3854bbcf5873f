"""Forms of the scheme, beneficiary and application pages. They only parse input; rules live in services."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from familyplanning.models import EndReason, PaymentPeriod, PaymentUnit, Scheme, SchemeCategory

# The documents an office checks before enrolling someone: the Chinese labels themselves are stored.
DOCUMENTS = [
    gettext_noop("身份证"),
    gettext_noop("户口簿"),
    gettext_noop("独生子女证"),
    gettext_noop("残疾证"),
    gettext_noop("死亡证明"),
    gettext_noop("其他"),
]

STATUS_CHOICES = [("active", _("享受中")), ("ended", _("已终止")), ("all", _("全部"))]


def _dress(form: forms.Form) -> None:
    """Bootstrap classes on the widgets Django renders (the pages need no script for this)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput | forms.HiddenInput):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MonthField(forms.DateField):
    """An ``<input type=month>``: "2024-03" (or a full date) -> the first of that month."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    default_error_messages = {"invalid": _("月份格式应为“年-月”，如 2024-03")}

    def to_python(self, value: Any) -> dt.date | None:
        if isinstance(value, dt.date):
            return value.replace(day=1)
        raw = (value or "").strip()
        if not raw:
            return None
        m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})月?(?:[-/.](\d{1,2})日?)?", raw)
        if not m:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), 1)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


# ---- schemes and standards ----------------------------------------------------------------------------------------


class SchemeForm(forms.Form):
    code = forms.SlugField(
        label=_("代码"), max_length=40, help_text=_("英文字母、数字或连字符，如 disability；创建后不变")
    )
    name = forms.CharField(label=_("名称"), max_length=60)
    short_name = forms.CharField(label=_("简称"), max_length=20, required=False, help_text=_("用于工作总结，如“伤残”"))
    category = forms.ChoiceField(label=_("类别"), choices=SchemeCategory.choices)
    payment_unit = forms.ChoiceField(label=_("发放单位"), choices=PaymentUnit.choices)
    period = forms.ChoiceField(label=_("发放周期"), choices=PaymentPeriod.choices)
    attribute_label = forms.CharField(
        label=_("标准依据"), max_length=30, required=False, help_text=_("标准因对象而异时填写，如“子女性别”")
    )
    attribute_values = forms.CharField(
        label=_("依据取值"), max_length=200, required=False, help_text=_("用顿号或逗号分隔，如“男、女”")
    )
    sort_order = forms.IntegerField(label=_("排序"), min_value=0, max_value=32767, initial=100)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _dress(self)


class StandardForm(forms.Form):
    attribute_value = forms.ChoiceField(label=_("依据取值"))
    amount = forms.DecimalField(
        label=_("标准（元）"), max_digits=12, decimal_places=2, min_value=0, help_text=_("每人（户）每月/每年/一次")
    )
    valid_from = forms.DateField(label=_("起始日期"), widget=_date_widget())
    valid_to = forms.DateField(
        label=_("截止日期"), required=False, widget=_date_widget(), help_text=_("不填表示长期有效，直至下一标准施行")
    )
    reason = forms.CharField(label=_("依据文件/原因"), max_length=200, required=False)

    def __init__(self, *args: Any, scheme: Scheme, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = scheme.attribute_choices
        if choices:
            field = self.fields["attribute_value"]
            field.label = scheme.attribute_label or _("依据取值")
            field.choices = [("", _("请选择")), *((c, c) for c in choices)]  # type: ignore[attr-defined]
        else:
            del self.fields["attribute_value"]
        _dress(self)


# ---- beneficiaries ------------------------------------------------------------------------------------------------


def scheme_choices(schemes: Iterable[Scheme], blank: Any) -> list[tuple[str, Any]]:
    return [("", blank), *((s.code, s.name) for s in schemes)]


class BeneficiaryFilterForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=50)
    scheme = forms.ChoiceField(label=_("扶助项目"), required=False)
    status = forms.ChoiceField(label=_("状态"), required=False, choices=STATUS_CHOICES)
    unit = forms.IntegerField(label=_("单位"), required=False, widget=forms.Select)

    def __init__(self, *args: Any, schemes: Sequence[Scheme], units: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scheme"].choices = scheme_choices(schemes, _("全部项目"))  # type: ignore[attr-defined]
        self.fields["unit"].widget.choices = [("", _("全部单位")), *((u.pk, u.name) for u in units)]
        self.fields["q"].widget.attrs["placeholder"] = _("姓名或身份证号（后几位）")
        _dress(self)


class EnrollForm(forms.Form):
    scheme = forms.ChoiceField(label=_("扶助项目"))
    id_number = forms.CharField(label=_("对象（领款人）证件号码"), max_length=32, help_text=_("须为本辖区在册居民"))
    members = forms.MultipleChoiceField(
        label=_("本户涉及人员"), required=False, widget=forms.CheckboxSelectMultiple, choices=[]
    )
    attribute_value = forms.ChoiceField(label=_("依据取值"), required=False)
    start_month = MonthField(label=_("起始月份"), help_text=_("从该月1日起享受"))
    documents = forms.MultipleChoiceField(
        label=_("已核验材料"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(d, _(d)) for d in DOCUMENTS],
    )
    bank_account = forms.CharField(label=_("银行账号"), max_length=40, required=False)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(
        self,
        *args: Any,
        schemes: Sequence[Scheme],
        scheme: Scheme | None = None,
        member_choices: Sequence[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scheme"].choices = scheme_choices(schemes, _("请选择"))  # type: ignore[attr-defined]
        self.fields["members"].choices = list(member_choices)  # type: ignore[attr-defined]
        attr = self.fields["attribute_value"]
        if scheme is not None and scheme.attribute_choices:
            attr.label = scheme.attribute_label or _("依据取值")
            attr.choices = [("", _("请选择")), *((c, c) for c in scheme.attribute_choices)]  # type: ignore[attr-defined]
        elif scheme is not None:
            attr.widget = forms.HiddenInput()  # the scheme's standards do not depend on anything
        else:
            # Before a scheme is chosen: every scheme's values, grouped under its name.
            groups: list[tuple[Any, Any]] = [
                (f"{s.name} · {s.attribute_label}", [(c, c) for c in s.attribute_choices])
                for s in schemes
                if s.attribute_choices
            ]
            attr.choices = [("", _("（不区分）")), *groups]  # type: ignore[attr-defined]
        self.fields["start_month"].initial = timezone.localdate().replace(day=1)
        self.fields["documents"].initial = DOCUMENTS[:2]
        _dress(self)

    def clean_id_number(self) -> str:
        return self.cleaned_data["id_number"].strip().replace(" ", "").upper()


class EndEnrollmentForm(forms.Form):
    end_date = forms.DateField(label=_("终止日期"), widget=_date_widget())
    end_reason = forms.ChoiceField(label=_("终止原因"), choices=[("", _("请选择")), *EndReason.choices])
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _dress(self)


# ---- applications -------------------------------------------------------------------------------------------------


class ApplicationForm(forms.Form):
    unit = forms.TypedChoiceField(label=_("申报单位"), coerce=int)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)

    def __init__(self, *args: Any, units: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.pk, u.name) for u in units]  # type: ignore[attr-defined]
        self.fields["year"].initial = timezone.localdate().year
        _dress(self)


class BackPayForm(forms.Form):
    reason = forms.CharField(
        label=_("补发原因"),
        max_length=200,
        error_messages={"required": _("请写明补发原因（如标准调整文件）")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].widget.attrs["placeholder"] = _("如：X卫发〔2022〕X号 提高特扶标准")
        _dress(self)
