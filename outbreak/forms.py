"""Forms of the 疫情防控 pages.

They only parse what was typed; measures, dates, alerts and who may do what are decided by
outbreak.services, whose messages the views put back on these fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from familyplanning.forms import dress
from outbreak.models import FoundBy, Measure, PersonKind, RiskLevel, TrackingStatus
from outbreak.rules import SYMPTOMS
from registry.forms import unit_choices


def _date_input() -> forms.DateInput:
    # type=date inputs take ISO dates only, whatever the locale's display format.
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class EventForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100, initial=_("新冠肺炎疫情防控"))
    disease = forms.CharField(label=_("病种"), max_length=60, initial=_("新型冠状病毒肺炎"))
    started_on = forms.DateField(label=_("开始日期"), widget=_date_input())
    report_deadline = forms.TimeField(
        label=_("日报截止时间"), initial=dt.time(17, 0), widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"})
    )
    lost_after_days = forms.IntegerField(
        label=_("连续未随访天数视为失访"),
        min_value=1,
        max_value=30,
        initial=2,
        help_text=_("超过该天数未随访的人员标红并预警"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dress(self)


class RiskAreaForm(forms.Form):
    area = forms.CharField(label=_("地区"), max_length=100, help_text=_("如“湖北省武汉市”；其下各区县自动包含在内"))
    level = forms.ChoiceField(label=_("风险等级"), choices=RiskLevel.choices)
    valid_from = forms.DateField(label=_("起始日期"), widget=_date_input())
    valid_to = forms.DateField(label=_("截止日期"), required=False, widget=_date_input())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dress(self)


class RiskAreaImportForm(forms.Form):
    csv_text = forms.CharField(
        label=_("粘贴CSV"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 5, "placeholder": "地区,风险等级,起始日期,截止日期\n湖北省武汉市,高,2020-01-23,"}
        ),
    )
    file = forms.FileField(label=_("或上传CSV文件"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dress(self)

    def clean(self) -> dict[str, Any]:
        cd = super().clean() or {}
        upload = cd.get("file")
        if upload is not None:
            raw = upload.read()
            try:
                cd["csv_text"] = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                # Excel on Chinese Windows saves csv as GBK.
                try:
                    cd["csv_text"] = raw.decode("gb18030")
                except UnicodeDecodeError:
                    self.add_error("file", _("文件编码无法识别，请另存为UTF-8编码的CSV"))
        if not (cd.get("csv_text") or "").strip() and not self.errors:
            self.add_error("csv_text", _("请粘贴CSV内容或上传文件"))
        return cd


class MeasureRuleForm(forms.Form):
    person_kind = forms.ChoiceField(label=_("人员类别"), choices=PersonKind.choices)
    risk_level = forms.ChoiceField(
        label=_("风险等级"), required=False, choices=[("", _("任何地区")), *RiskLevel.choices]
    )
    measure = forms.ChoiceField(label=_("管控措施"), choices=Measure.choices)
    days = forms.IntegerField(label=_("天数"), min_value=0, max_value=90)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dress(self)


class ScreeningFilterForm(forms.Form):
    q = forms.CharField(label=_("搜索"), required=False, max_length=50)
    unit = forms.IntegerField(label=_("单位"), required=False, widget=forms.Select)
    status = forms.ChoiceField(
        label=_("跟踪状态"), required=False, choices=[("", _("全部状态")), *TrackingStatus.choices]
    )
    measure = forms.ChoiceField(label=_("管控措施"), required=False, choices=[("", _("全部措施")), *Measure.choices])
    from_area = forms.CharField(label=_("来自地区"), required=False, max_length=100)
    start = forms.DateField(label=_("抵达日期从"), required=False, widget=_date_input())
    end = forms.DateField(label=_("抵达日期到"), required=False, widget=_date_input())

    def __init__(self, *args: Any, units: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = [("", _("全部单位")), *unit_choices(units)]
        self.fields["q"].widget.attrs["placeholder"] = _("姓名或证件号码后几位")
        self.fields["from_area"].widget.attrs["placeholder"] = _("来自地区")
        dress(self)


class ScreeningForm(forms.Form):
    id_number = forms.CharField(
        label=_("证件号码"), max_length=32, help_text=_("本辖区在册居民输入身份证号即可带出姓名和住址")
    )
    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    address = forms.CharField(label=_("现住址"), max_length=200, required=False)
    unit = forms.IntegerField(label=_("所在单位"), required=False, widget=forms.Select)
    from_area = forms.CharField(label=_("来自地区"), max_length=100, help_text=_("如“湖北省武汉市江岸区”"))
    arrival_date = forms.DateField(label=_("抵达日期"), widget=_date_input())
    found_by = forms.ChoiceField(label=_("发现途径"), choices=FoundBy.choices)
    person_kind = forms.ChoiceField(label=_("人员类别"), choices=PersonKind.choices)
    measure = forms.ChoiceField(
        label=_("管控措施"),
        required=False,
        choices=[("", _("按规则自动确定")), *Measure.choices],
        help_text=_("一般留空，由风险地区和管控规则决定"),
    )
    household_members = forms.IntegerField(label=_("同住人数"), min_value=0, max_value=50, initial=0)
    team_grid_worker = forms.CharField(label=_("包保网格员"), max_length=50, required=False)
    team_doctor = forms.CharField(label=_("包保医生"), max_length=50, required=False)
    team_police = forms.CharField(label=_("包保民警"), max_length=50, required=False)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, units: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = [("", _("在册居民按其住址")), *unit_choices(units)]
        dress(self)


class ExtendForm(forms.Form):
    new_end = forms.DateField(label=_("新的解除日期"), widget=_date_input())
    reason = forms.CharField(label=_("延长原因"), max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dress(self)


STATUS_CHANGES = [
    (TrackingStatus.TRANSFERRED.value, TrackingStatus.TRANSFERRED.label),
    (TrackingStatus.LOST.value, TrackingStatus.LOST.label),
    (TrackingStatus.NOT_REQUIRED.value, TrackingStatus.NOT_REQUIRED.label),
    (TrackingStatus.TRACKING.value, TrackingStatus.TRACKING.label),
]


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("改为"), choices=STATUS_CHANGES)
    note = forms.CharField(label=_("原因"), max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dress(self)


class FollowUpForm(forms.Form):
    """One slot of one person: the service checks the range and raises the alerts."""

    slot = forms.ChoiceField(choices=[("am", _("上午")), ("pm", _("下午"))])
    temperature = forms.CharField(label=_("体温"), max_length=8, required=False)
    symptoms = forms.MultipleChoiceField(
        label=_("症状"), required=False, choices=[(s, s) for s in SYMPTOMS], widget=forms.CheckboxSelectMultiple
    )


class HandleForm(forms.Form):
    handling = forms.CharField(label=_("处置情况"), max_length=200, required=False)


class ReportForm(forms.Form):
    text = forms.CharField(label=_("情况说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    correction_reason = forms.CharField(label=_("更正原因"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dress(self)
