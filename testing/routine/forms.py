"""Forms of the 应检尽检 pages: they parse what was typed; the rules and the refusals are the services'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from familyplanning.forms import dress
from registry.forms import unit_choices
from testing.routine.rules import WEEKDAY_NAMES
from testing.routine.services import MAX_BATCH

WEEKDAY_CHOICES = [(str(i), _("星期%(d)s") % {"d": d}) for i, d in enumerate(WEEKDAY_NAMES)]


def _date_input() -> forms.DateInput:
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def _batch_field(**kw: Any) -> forms.IntegerField:
    return forms.IntegerField(label=_("批次"), min_value=1, max_value=MAX_BATCH, required=False, **kw)


class Dressed(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dress(self)


class PeriodForm(Dressed):
    """?start=&end= (and ?unit=) of the overview and the cycle list."""

    unit = forms.IntegerField(label=_("单位"), required=False, widget=forms.Select)
    start = forms.DateField(label=_("起始日期"), required=False, widget=_date_input())
    end = forms.DateField(label=_("截止日期"), required=False, widget=_date_input())

    def __init__(self, *args: Any, units: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = [("", _("全部单位")), *unit_choices(units)]

    def clean(self) -> dict[str, Any]:
        cd = super().clean() or {}
        if cd.get("start") and cd.get("end") and cd["start"] > cd["end"]:
            self.add_error("end", _("截止日期早于起始日期"))
        return cd


class GroupForm(Dressed):
    name = forms.CharField(label=_("人群名称"), max_length=60, help_text=_("如：社区干部、物业人员、快递外卖人员"))
    unit = forms.IntegerField(label=_("管理单位"), widget=forms.Select)

    def __init__(self, *args: Any, units: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = unit_choices(units)


class RenameForm(Dressed):
    name = forms.CharField(label=_("人群名称"), max_length=60)


class RetireForm(Dressed):
    retired_on = forms.DateField(label=_("停用日期"), widget=_date_input(), help_text=_("自该日起不再安排检测"))
    retired_reason = forms.CharField(label=_("停用原因"), max_length=200)


class MemberFilterForm(Dressed):
    q = forms.CharField(label=_("搜索"), required=False, max_length=50)
    unit = forms.IntegerField(label=_("社区"), required=False, widget=forms.Select)
    batch = forms.ChoiceField(label=_("批次"), required=False)
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("在册")), ("left", _("已移出")), ("all", _("全部"))],
    )

    def __init__(self, *args: Any, units: Any = (), batches: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = [("", _("全部社区")), *unit_choices(units)]
        batch_field: Any = self.fields["batch"]
        batch_field.choices = [
            ("", _("全部批次")),
            *[(str(b), _("第%(n)s批") % {"n": b}) for b in batches],
            ("none", _("未分批")),
        ]
        self.fields["q"].widget.attrs["placeholder"] = _("姓名、证件号码后几位或工作单位")


class MemberForm(Dressed):
    id_number = forms.CharField(label=_("证件号码"), max_length=32)
    name = forms.CharField(label=_("姓名"), max_length=50, required=False, help_text=_("在册居民可不填，自动读取"))
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    unit = forms.IntegerField(label=_("所属社区"), required=False, widget=forms.Select)
    workplace = forms.CharField(label=_("工作单位"), max_length=100, required=False)
    batch = _batch_field(help_text=_("不填则每个检测日都应检"))
    joined_on = forms.DateField(label=_("纳入日期"), widget=_date_input())

    def __init__(self, *args: Any, units: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = [("", _("按户籍登记")), *unit_choices(units)]
        self.fields["id_number"].widget.attrs.update({"autocomplete": "off", "inputmode": "text"})
        self.fields["phone"].widget.attrs["inputmode"] = "tel"


class MemberEditForm(Dressed):
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    workplace = forms.CharField(label=_("工作单位"), max_length=100, required=False)


class MoveBatchForm(Dressed):
    batch = _batch_field()
    on = forms.DateField(label=_("自何日起"), widget=_date_input())


class LeaveForm(Dressed):
    left_on = forms.DateField(label=_("移出日期"), widget=_date_input(), help_text=_("自该日起不再应检"))
    left_reason = forms.CharField(label=_("移出原因"), max_length=200)


class SlotForm(forms.Form):
    weekday = forms.ChoiceField(label=_("星期"), required=False, choices=[("", "—"), *WEEKDAY_CHOICES])
    batch = _batch_field()
    site = forms.CharField(label=_("采样点"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dress(self)


SlotFormSet = forms.formset_factory(SlotForm, extra=0, max_num=30, absolute_max=30)


class ScheduleForm(Dressed):
    valid_from = forms.DateField(label=_("自何日起执行"), widget=_date_input())


class RecordForm(Dressed):
    id_number = forms.CharField(label=_("证件号码"), max_length=32)
    tested_on = forms.DateField(label=_("检测日期"), widget=_date_input())
    site = forms.CharField(label=_("采样点"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["id_number"].widget.attrs.update({"autocomplete": "off", "autofocus": True})


class MemberRecordForm(Dressed):
    """A test of the member whose page this is."""

    tested_on = forms.DateField(label=_("检测日期"), widget=_date_input())
    site = forms.CharField(label=_("采样点"), max_length=100, required=False)


class QuickRecordForm(forms.Form):
    """The "已补检" button of a cycle's list: a member and a day."""

    member = forms.IntegerField()
    tested_on = forms.DateField()
    site = forms.CharField(max_length=100, required=False)


class UploadForm(Dressed):
    file = forms.FileField(label=_("选择文件（.xlsx 或 .csv）"))
    group = forms.IntegerField(label=_("应检人群"), required=False, widget=forms.Select)

    def __init__(self, *args: Any, groups: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if groups is None:
            del self.fields["group"]
        else:
            self.fields["group"].widget.choices = [("", _("全部人群")), *[(g.pk, g.name) for g in groups]]
