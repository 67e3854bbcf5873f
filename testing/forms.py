"""Forms of the round pages. They only parse what was typed; the rules (scope, one site per building, one
sampler per table, who may do what) are testing.services', whose messages the views put back here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from familyplanning.forms import dress
from orgunits.models import OrgUnit
from outbreak.models import Measure
from registry.forms import unit_choices
from testing.models import Result, Round, SampleType, SamplingSite, SamplingTable, StaffRole, TableKind


def _date_input() -> forms.DateInput:
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class _Dressed(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dress(self)


class UnitChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        parent = obj.parent.name + " · " if obj.parent_id and obj.parent is not None else ""
        return parent + obj.name


class RoundForm(_Dressed):
    name = forms.CharField(label=_("名称"), max_length=100, initial=_("全员核酸检测"))
    sample_type = forms.ChoiceField(label=_("采样方式"), choices=SampleType.choices, initial=SampleType.POOLED)
    starts_on = forms.DateField(label=_("开始日期"), widget=_date_input())
    ends_on = forms.DateField(label=_("结束日期"), widget=_date_input())
    scope_units = UnitChoiceField(
        label=_("检测范围"),
        queryset=OrgUnit.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("参加本轮的社区/村（按住Ctrl多选）"),
    )
    recent_test_hours = forms.IntegerField(
        label=_("近期已检豁免（小时）"),
        min_value=0,
        max_value=168,
        initial=48,
        help_text=_("本轮开始前多少小时内已有核酸记录的人无需采集；0 表示不豁免"),
    )
    previous_round = forms.ModelChoiceField(
        label=_("上一轮（已采者无需采集）"), queryset=Round.objects.none(), required=False
    )
    table_rate_per_hour = forms.IntegerField(label=_("每台每小时采样人数"), min_value=1, max_value=2000, initial=120)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], rounds: QuerySet[Round], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope_units"].queryset = units  # type: ignore[attr-defined]
        self.fields["previous_round"].queryset = rounds  # type: ignore[attr-defined]


class SiteForm(_Dressed):
    name = forms.CharField(label=_("采样点名称"), max_length=100)
    unit = forms.TypedChoiceField(label=_("所在社区"), coerce=int)
    location = forms.CharField(
        label=_("位置"), max_length=200, required=False, help_text=_("“小区名 具体位置”，如“璟苑B区 3号楼前广场”")
    )
    leader = forms.CharField(label=_("点长"), max_length=50, required=False)
    leader_phone = forms.CharField(label=_("点长电话"), max_length=20, required=False)

    def __init__(self, *args: Any, units: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = unit_choices(units)  # type: ignore[attr-defined]


class BuildingsForm(_Dressed):
    buildings = UnitChoiceField(
        label=_("负责楼栋"),
        queryset=OrgUnit.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text=_("一栋楼每轮只属于一个采样点（按住Ctrl多选）"),
    )

    def __init__(self, *args: Any, buildings: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["buildings"].queryset = buildings  # type: ignore[attr-defined]


class TablesForm(_Dressed):
    kind = forms.ChoiceField(label=_("类型"), choices=TableKind.choices)
    count = forms.IntegerField(label=_("数量"), min_value=1, max_value=50, initial=1)


class RetireForm(_Dressed):
    reason = forms.CharField(label=_("撤销原因"), max_length=200)


class StaffForm(_Dressed):
    role = forms.ChoiceField(label=_("岗位"), choices=StaffRole.choices)
    name = forms.CharField(label=_("姓名"), max_length=50)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    organisation = forms.CharField(label=_("所属单位"), max_length=100, required=False)
    vehicle_plate = forms.CharField(label=_("车牌号"), max_length=20, required=False, help_text=_("转运人员填写"))
    site = forms.ModelChoiceField(label=_("采样点"), queryset=SamplingSite.objects.none(), required=False)
    table = forms.ModelChoiceField(
        label=_("采样台"), queryset=SamplingTable.objects.none(), required=False, help_text=_("采样、登记人员填写")
    )

    def __init__(self, *args: Any, round_: Round, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = SamplingSite.objects.filter(  # type: ignore[attr-defined]
            round=round_, retired_at__isnull=True
        ).order_by("name")
        self.fields["table"].queryset = (  # type: ignore[attr-defined]
            SamplingTable.objects.filter(site__round=round_, site__retired_at__isnull=True, retired_at__isnull=True)
            .select_related("site")
            .order_by("site__name", "kind", "number")
        )


class UploadForm(_Dressed):
    file = forms.FileField(label=_("文件（xlsx或csv）"))

    def content(self) -> tuple[bytes, str]:
        upload = self.cleaned_data["file"]
        return upload.read(), upload.name


class ResultForm(_Dressed):
    result = forms.ChoiceField(label=_("结果"), choices=Result.choices)
    tested_at = forms.DateTimeField(
        label=_("检测时间"), widget=forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"})
    )
    lab = forms.CharField(label=_("检测机构"), max_length=100, required=False)
    reason = forms.CharField(label=_("更正原因"), max_length=200, required=False)


HANDOVER_MEASURES = [
    (Measure.HOME_QUARANTINE.value, Measure.HOME_QUARANTINE.label),
    (Measure.CENTRAL_QUARANTINE.value, Measure.CENTRAL_QUARANTINE.label),
    (Measure.HEALTH_MONITORING.value, Measure.HEALTH_MONITORING.label),
]


class HandOverForm(_Dressed):
    event = forms.TypedChoiceField(label=_("疫情事件"), coerce=int)
    measure = forms.ChoiceField(label=_("管控措施"), choices=HANDOVER_MEASURES, initial=Measure.HOME_QUARANTINE)

    def __init__(self, *args: Any, events: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["event"].choices = [(e.pk, e.name) for e in events]  # type: ignore[attr-defined]


class CopyPlanForm(_Dressed):
    source = forms.ModelChoiceField(label=_("复制哪一轮的计划"), queryset=Round.objects.none())

    def __init__(self, *args: Any, rounds: QuerySet[Round], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = rounds  # type: ignore[attr-defined]


class UnitFilterForm(_Dressed):
    unit = forms.TypedChoiceField(label=_("网格/社区"), coerce=int, required=False)

    def __init__(self, *args: Any, units: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [("", _("全部")), *unit_choices(units)]  # type: ignore[attr-defined]
