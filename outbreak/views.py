"""疫情防控 pages: the dashboard, event admin, screenings (摸排), follow-ups on a phone, alerts,
release notices and the daily reports with the upper level's table.

Reads go through outbreak.selectors (scoped to the user's subtree), writes through
outbreak.services; a record or unit outside the subtree answers 404. The checkpoint screen is in
checkpoint_views.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Min, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import AccessAction
from accounts.permissions import require, user_policy
from accounts.rules import mask_id_number, shown_phone
from accounts.services import log_access
from core.excel import workbook_bytes, xlsx_response
from core.http import AuthedRequest
from core.pages import query_without_page as _query_without_page
from core.scoping import unit_in_scope, visible_units
from orgunits.models import Level, OrgUnit
from outbreak import selectors, services
from outbreak.forms import (
    EventForm,
    ExtendForm,
    FollowUpForm,
    HandleForm,
    MeasureRuleForm,
    ReportForm,
    RiskAreaForm,
    RiskAreaImportForm,
    ScreeningFilterForm,
    ScreeningForm,
    StatusForm,
)
from outbreak.models import (
    Alert,
    DailyReport,
    Event,
    EventStatus,
    Finding,
    Measure,
    PersonKind,
    RiskLevel,
    Screening,
    Slot,
    TrackingStatus,
)
from outbreak.rules import SYMPTOMS
from registry.rules import IdNumberError, parse_id_number
from registry.selectors import filter_unit_choices, residents_for

PAGE_SIZE = 50
CHART_DAYS = 30

# The figures of a daily report, in the order the report forms list them.
COUNT_LABELS: list[tuple[str, Any]] = [
    ("new_screened", gettext_lazy("今日新增排查")),
    ("screened_total", gettext_lazy("累计排查")),
    ("central_quarantine", gettext_lazy("集中隔离")),
    ("home_quarantine", gettext_lazy("居家隔离")),
    ("health_monitoring", gettext_lazy("居家健康监测")),
    ("released", gettext_lazy("今日解除")),
    ("alerts", gettext_lazy("发热/症状预警")),
    ("fever", gettext_lazy("其中发热")),
    ("close_contacts", gettext_lazy("密切接触者")),
]
STATUS_LABELS = {
    "on_time": (gettext_lazy("按时"), "success"),
    "late": (gettext_lazy("迟报"), "warning"),
    "missing": (gettext_lazy("未报"), "danger"),
}


# ---- helpers ----------------------------------------------------------------------------------------------


def _today() -> dt.date:
    return timezone.localdate()


def _param(request: AuthedRequest, name: str) -> str:
    return (request.POST.get(name) if request.method == "POST" else None) or request.GET.get(name) or ""


def _event(request: AuthedRequest, *, required: bool = True) -> Event | None:
    """?event=<id> among the user's events; by default the latest active one (then the latest)."""
    events = selectors.events_for(request.user)
    raw = _param(request, "event")
    if raw:
        try:
            return events.get(pk=int(raw))
        except (ValueError, Event.DoesNotExist):
            raise Http404 from None
    chosen = events.filter(status=EventStatus.ACTIVE).order_by("-started_on", "-id").first() or events.first()
    if chosen is None and required:
        raise Http404
    return chosen


def _unit_param(request: AuthedRequest) -> OrgUnit | None:
    """?unit=<id>: any unit of the user's subtree; another unit is "not found", never "forbidden"."""
    raw = _param(request, "unit")
    if not raw:
        return None
    try:
        return visible_units(request.user).select_related("parent").get(pk=int(raw))
    except (ValueError, OrgUnit.DoesNotExist):
        raise Http404 from None


def _home_unit(request: AuthedRequest) -> OrgUnit | None:
    user = request.user
    if user.org_unit is not None:
        return user.org_unit
    return visible_units(user).filter(parent__isnull=True).order_by("path").first()


def _unit(request: AuthedRequest) -> OrgUnit:
    unit = _unit_param(request) or _home_unit(request)
    if unit is None:
        raise Http404
    return unit


def _date_param(request: AuthedRequest, name: str = "date") -> tuple[dt.date, str]:
    today = _today()
    raw = _param(request, name)
    if not raw:
        return today, ""
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        return today, _("日期格式不正确，应为YYYY-MM-DD")
    if value > today:
        return today, _("日期不能晚于今天")
    return value, ""


def _crumbs(request: AuthedRequest, unit: OrgUnit) -> list[OrgUnit]:
    own = request.user.org_unit
    return [u for u in unit.ancestors() if own is None or u.path.startswith(own.path)]


def _add_errors(form: Any, exc: ValidationError, mapping: dict[str, str] | None = None) -> None:
    fields = {f.name for f in form.visible_fields()}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, msgs in exc.message_dict.items():
        name = (mapping or {}).get(key, key)
        form.add_error(name if name in fields else None, msgs)


def _with_event(url: str, event: Event, **extra: Any) -> str:
    return f"{url}?{urlencode({'event': event.pk, **extra})}"


def _stamp_name(prefix: str) -> str:
    return _("%(prefix)s_%(date)s.xlsx") % {"prefix": prefix, "date": f"{_today():%Y%m%d}"}


def _base(request: AuthedRequest, event: Event | None) -> dict[str, Any]:
    return {
        "event": event,
        "events": list(selectors.events_for(request.user).order_by("-started_on", "-id")[:50]),
        "policy": user_policy(request.user),
    }


def _can_manage(request: AuthedRequest, event: Event) -> bool:
    return user_policy(request.user).can_manage_units and unit_in_scope(request.user, event.unit)


# ---- dashboard ----------------------------------------------------------------------------------------------


def _new_by_day(event: Event, unit: OrgUnit, start: dt.date, end: dt.date) -> list[int]:
    """People first found on each day (a merged second finding is not a new person)."""
    firsts = (
        Finding.objects.filter(screening__event=event, screening__unit__path__gte=unit.path)
        .filter(screening__unit__path__lt=unit.path_end)
        .values("screening_id")
        .annotate(first=Min("found_on"))
        .filter(first__gte=start, first__lte=end)
        .values_list("first", flat=True)
    )
    out = [0] * ((end - start).days + 1)
    for day in firsts:
        out[(day - start).days] += 1
    return out


def _open_alerts(request: AuthedRequest, event: Event, unit: OrgUnit) -> QuerySet[Alert]:
    return selectors.alerts_for(request.user).filter(
        unit.subtree_q("screening__unit__"), screening__event=event, handled_at__isnull=True
    )


@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    event = _event(request, required=False)
    if event is None:
        return render(request, "outbreak/dashboard.html", _base(request, None))
    unit = _unit(request)
    on, error = _date_param(request)
    counts = selectors.daily_counts(event, unit, on)
    quarantine = {
        m: selectors.quarantine_now(event, unit, on, m)
        for m in (Measure.HOME_QUARANTINE, Measure.CENTRAL_QUARANTINE, Measure.HEALTH_MONITORING)
    }
    table = selectors.report_table(event, unit, on)
    start = on - dt.timedelta(days=CHART_DAYS - 1)
    by_measure = selectors.measures_by_day(event, unit, start, on)
    chart = {
        "days": [f"{start + dt.timedelta(days=k):%m-%d}" for k in range(CHART_DAYS)],
        "measures": [
            {"name": str(Measure(m).label), "data": by_measure[m]}
            for m in (Measure.CENTRAL_QUARANTINE, Measure.HOME_QUARANTINE, Measure.HEALTH_MONITORING)
        ],
        "new": {"name": _("新增排查"), "data": _new_by_day(event, unit, start, on)},
        "titles": {"measures": _("各类管控人数（近30天）"), "new": _("每日新增排查人数")},
    }
    children = [
        (child, selectors.under_measure(event, child, on).count(), _open_alerts(request, event, child).count())
        for child in OrgUnit.objects.filter(parent=unit, retired_on__isnull=True).order_by("path")
        if child.level != Level.BUILDING
    ]
    return render(
        request,
        "outbreak/dashboard.html",
        {
            **_base(request, event),
            "unit": unit,
            "on": on,
            "is_today": on == _today(),
            "error": error,
            "counts": counts,
            "home": quarantine[Measure.HOME_QUARANTINE],
            "central": quarantine[Measure.CENTRAL_QUARANTINE],
            "monitoring": quarantine[Measure.HEALTH_MONITORING],
            "open_alerts": _open_alerts(request, event, unit).count(),
            "missing": [r.unit for r in table.rows if r.status == "missing"],
            "expected": table.expected,
            "crumbs": _crumbs(request, unit),
            "children": children,
            "chart": chart,
            "can_manage": _can_manage(request, event),
        },
    )


# ---- event admin ----------------------------------------------------------------------------------------------


@login_required
def event_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, "can_manage_units")
    unit = request.user.org_unit
    if unit is None:
        raise Http404
    form = EventForm(request.POST or None, initial={"started_on": _today()})
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            event = services.create_event(
                unit=unit,
                name=cd["name"],
                disease=cd["disease"],
                started_on=cd["started_on"],
                report_deadline=cd["report_deadline"],
                lost_after_days=cd["lost_after_days"],
                by=request.user,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已创建疫情事件：%(name)s。请添加风险地区和管控规则。") % {"name": event.name})
            return redirect("outbreak:event_detail", pk=event.pk)
    return render(request, "outbreak/event_form.html", {**_base(request, None), "form": form, "unit": unit})


def _event_by_pk(request: AuthedRequest, pk: int) -> Event:
    try:
        return selectors.events_for(request.user).get(pk=pk)
    except Event.DoesNotExist:
        raise Http404 from None


def _rule_table(event: Event) -> list[dict[str, Any]]:
    rules = {(r.person_kind, r.risk_level): r for r in event.measure_rules.all()}
    levels = [*RiskLevel.values, ""]
    return [
        {"kind": label, "kind_value": kind, "cells": [(level, rules.get((kind, level))) for level in levels]}
        for kind, label in PersonKind.choices
    ]


def _event_page(request: AuthedRequest, event: Event, **extra: Any) -> HttpResponse:
    context = {
        **_base(request, event),
        "areas": list(event.risk_areas.all()),
        "rule_rows": _rule_table(event),
        "levels": [*RiskLevel.labels, _("任何地区")],
        "can_manage": _can_manage(request, event),
        "area_form": RiskAreaForm(initial={"valid_from": _today()}),
        "import_form": RiskAreaImportForm(),
        "rule_form": MeasureRuleForm(),
        **extra,
    }
    return render(request, "outbreak/event_detail.html", context, status=400 if extra.get("failed") else 200)


@login_required
def event_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return _event_page(request, _event_by_pk(request, pk))


@login_required
@require_POST
def risk_area_add(request: AuthedRequest, pk: int) -> HttpResponse:
    event = _event_by_pk(request, pk)
    require(request.user, "can_manage_units")
    form = RiskAreaForm(request.POST)
    if form.is_valid():
        cd = form.cleaned_data
        try:
            area = services.add_risk_area(
                event=event,
                area=cd["area"],
                level=cd["level"],
                valid_from=cd["valid_from"],
                valid_to=cd["valid_to"],
                by=request.user,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已添加风险地区：%(area)s") % {"area": str(area)})
            return redirect("outbreak:event_detail", pk=event.pk)
    return _event_page(request, event, area_form=form, failed=True)


@login_required
@require_POST
def risk_area_import(request: AuthedRequest, pk: int) -> HttpResponse:
    event = _event_by_pk(request, pk)
    require(request.user, "can_manage_units")
    form = RiskAreaImportForm(request.POST, request.FILES)
    if form.is_valid():
        result = services.import_risk_areas(event=event, csv_text=form.cleaned_data["csv_text"], by=request.user)
        if not result.errors:
            messages.success(request, _("已导入%(n)s个风险地区") % {"n": result.created})
            return redirect("outbreak:event_detail", pk=event.pk)
        return _event_page(request, event, import_form=form, import_errors=result.errors, failed=True)
    return _event_page(request, event, import_form=form, failed=True)


@login_required
@require_POST
def rule_set(request: AuthedRequest, pk: int) -> HttpResponse:
    event = _event_by_pk(request, pk)
    require(request.user, "can_manage_units")
    form = MeasureRuleForm(request.POST)
    if form.is_valid():
        cd = form.cleaned_data
        try:
            rule = services.set_measure_rule(
                event=event,
                person_kind=cd["person_kind"],
                risk_level=cd["risk_level"],
                measure=cd["measure"],
                days=cd["days"],
                by=request.user,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已保存管控规则：%(rule)s天") % {"rule": str(rule)})
            return redirect("outbreak:event_detail", pk=event.pk)
    return _event_page(request, event, rule_form=form, failed=True)


# ---- screenings -------------------------------------------------------------------------------------------


def _screening_filters(
    request: AuthedRequest, event: Event
) -> tuple[ScreeningFilterForm, OrgUnit | None, QuerySet[Screening]]:
    unit = _unit_param(request)
    units = list(filter_unit_choices(request.user))
    if unit is not None and unit not in units:
        units.append(unit)
    form = ScreeningFilterForm(request.GET or None, units=units)
    cd: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()
        cd = dict(form.cleaned_data)
    qs = selectors.screenings_for(request.user).filter(event=event)
    if unit is not None:
        qs = qs.filter(unit.subtree_q("unit__"))
    q = (cd.get("q") or "").strip().upper()
    if q:
        digits = q[:-1].isdigit() if q.endswith("X") else q.isdigit()
        qs = qs.filter(id_number__endswith=q) if digits else qs.filter(name__startswith=q)
    for name in ("status", "measure"):
        if cd.get(name):
            qs = qs.filter(**{name: cd[name]})
    if cd.get("from_area"):
        qs = qs.filter(from_area__contains=cd["from_area"].strip())
    if cd.get("start"):
        qs = qs.filter(arrival_date__gte=cd["start"])
    if cd.get("end"):
        qs = qs.filter(arrival_date__lte=cd["end"])
    return form, unit, qs.order_by("-arrival_date", "-id")


@login_required
def screening_list(request: AuthedRequest) -> HttpResponse:
    event = _event(request, required=False)
    if event is None:
        return render(request, "outbreak/dashboard.html", _base(request, None))
    form, unit, qs = _screening_filters(request, event)
    page: Page[Screening] = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "outbreak/screening_list.html",
        {
            **_base(request, event),
            "form": form,
            "unit": unit,
            "page": page,
            "rows": [{"obj": s, "id_number": mask_id_number(s.id_number)} for s in page.object_list],
            "query_string": _query_without_page(request),
            "today": _today(),
        },
    )


@login_required
def screening_export(request: AuthedRequest) -> HttpResponse:
    require(request.user, "can_export")
    event = _event(request)
    assert event is not None
    _form, _unit, qs = _screening_filters(request, event)
    headers = [
        _("姓名"),
        _("证件号码"),
        _("联系电话"),
        _("所在单位"),
        _("现住址"),
        _("来自地区"),
        _("风险等级"),
        _("抵达日期"),
        _("人员类别"),
        _("管控措施"),
        _("管控开始"),
        _("计划解除"),
        _("跟踪状态"),
        _("同住人数"),
        _("包保网格员"),
        _("包保医生"),
        _("包保民警"),
    ]
    role = request.user.role
    rows = [
        [
            s.name,
            mask_id_number(s.id_number),
            shown_phone(role, s.phone),
            s.unit.name,
            s.address,
            s.from_area,
            s.get_risk_level_display() if s.risk_level else "",
            s.arrival_date,
            s.get_person_kind_display(),
            s.get_measure_display(),
            s.measure_start,
            s.measure_end,
            s.get_status_display(),
            s.household_members,
            s.team_grid_worker,
            s.team_doctor,
            s.team_police,
        ]
        for s in qs
    ]
    content = workbook_bytes(headers, rows, sheet_title=_("摸排台账"), title=event.name)
    filters = {k: str(v) for k, v in request.GET.items() if v and k != "page"}
    log_access(user=request.user, action=AccessAction.EXPORT, object_type="screening", filters=filters, rows=len(rows))
    return xlsx_response(_stamp_name(_("摸排台账")), content)


def _writable_units(request: AuthedRequest) -> list[OrgUnit]:
    units = list(
        visible_units(request.user)
        .filter(retired_on__isnull=True, level__in=[Level.COMMUNITY, Level.GRID])
        .select_related("parent")
        .order_by("path")[:3000]
    )
    own = request.user.org_unit
    if own is not None and own not in units and own.level not in (Level.DISTRICT, Level.STREET):
        units.insert(0, own)
    return units


def _normalised_id(raw: str) -> str:
    value = (raw or "").strip().replace(" ", "").upper()
    if len(value) in (15, 18) and value[:-1].isdigit():
        return parse_id_number(value).number
    return value


def _screening_data(request: AuthedRequest, cd: dict[str, Any]) -> tuple[OrgUnit, services.ScreeningData]:
    """The resident in scope with that ID number, else a visitor with what was typed."""
    try:
        number = _normalised_id(cd["id_number"])
    except IdNumberError as exc:
        raise ValidationError({"id_number": str(exc)}) from None
    resident = residents_for(request.user).select_related("unit", "household").filter(id_number=number).first()
    unit: OrgUnit | None = None
    if cd.get("unit"):
        unit = visible_units(request.user).filter(pk=cd["unit"]).first()
        if unit is None:
            raise ValidationError({"unit": _("所选单位不在您的管辖范围内")})
    elif resident is not None:
        unit = resident.unit
    if unit is None:
        raise ValidationError({"unit": _("该证件号码不是本辖区的在册居民，请选择所在单位")})
    data = services.ScreeningData(
        from_area=cd["from_area"],
        arrival_date=cd["arrival_date"],
        found_by=cd["found_by"],
        person_kind=cd["person_kind"],
        person=resident,
        name=cd.get("name") or "",
        id_number=number,
        phone=cd.get("phone") or "",
        address=cd.get("address") or "",
        household_members=cd.get("household_members") or 0,
        team_grid_worker=cd.get("team_grid_worker") or "",
        team_doctor=cd.get("team_doctor") or "",
        team_police=cd.get("team_police") or "",
        measure=cd.get("measure") or None,
        note=cd.get("note") or "",
    )
    return unit, data


@login_required
def screening_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, "can_write")
    event = _event(request)
    assert event is not None
    initial = {"arrival_date": _today(), "team_grid_worker": request.user.full_name}
    form = ScreeningForm(request.POST or None, units=_writable_units(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            unit, data = _screening_data(request, form.cleaned_data)
            screening, merged = services.screen_person(event=event, unit=unit, data=data, by=request.user)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if merged:
                messages.info(
                    request,
                    _("已合并到已有记录：%(name)s（同一事件中同一证件号码只记一人）") % {"name": screening.name},
                )
            else:
                messages.success(
                    request,
                    _("已登记摸排对象：%(name)s，%(measure)s")
                    % {"name": screening.name, "measure": screening.get_measure_display()},
                )
            return redirect("outbreak:screening_detail", pk=screening.pk)
    return render(request, "outbreak/screening_form.html", {**_base(request, event), "form": form})


@login_required
def screening_lookup(request: AuthedRequest) -> HttpResponse:
    """htmx: who an ID number is, among the residents in scope (masked), as the form is filled in."""
    try:
        number = _normalised_id(request.GET.get("id_number", ""))
    except IdNumberError as exc:
        return render(request, "outbreak/_lookup.html", {"error": str(exc)})
    resident = residents_for(request.user).select_related("unit").filter(id_number=number).first() if number else None
    return render(request, "outbreak/_lookup.html", {"r": resident, "number": number})


def _screening(request: AuthedRequest, pk: int) -> Screening:
    try:
        return selectors.screenings_for(request.user).get(pk=pk)
    except Screening.DoesNotExist:
        raise Http404 from None


def _history(s: Screening) -> list[dict[str, Any]]:
    rows = list(s.history.select_related("history_user").order_by("-history_date", "-history_id")[:50])  # type: ignore[attr-defined]
    return [
        {
            "at": h.history_date,
            "by": h.history_user or "—",
            "reason": h.history_change_reason or "",
            "status": TrackingStatus(h.status).label if h.status else "",
            "measure_end": h.measure_end,
        }
        for h in rows
    ]


@login_required
def screening_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    s = _screening(request, pk)
    today = _today()
    return render(
        request,
        "outbreak/screening_detail.html",
        {
            **_base(request, s.event),
            "s": s,
            "id_number": mask_id_number(s.id_number),
            "phone": shown_phone(request.user.role, s.phone),
            "findings": list(s.findings.select_related("recorded_by")),
            "follow_ups": list(s.follow_ups.select_related("recorded_by").order_by("-date", "-slot")),
            "alerts": list(s.alerts.select_related("handled_by")),
            "history": _history(s),
            "tracking": s.status == TrackingStatus.TRACKING,
            "can_release": s.status == TrackingStatus.TRACKING and (s.measure_end is None or s.measure_end <= today),
            "can_change": s.status != TrackingStatus.RELEASED,
            "extend_form": ExtendForm(),
            "status_form": StatusForm(),
        },
    )


def _messages_of(request: AuthedRequest, exc: ValidationError) -> None:
    for msg in exc.messages:
        messages.error(request, msg)


@login_required
@require_POST
def screening_release(request: AuthedRequest, pk: int) -> HttpResponse:
    s = _screening(request, pk)
    require(request.user, "can_write")
    try:
        s = services.release(screening=s, on=_today(), by=request.user)
    except ValidationError as exc:
        _messages_of(request, exc)
        return redirect("outbreak:screening_detail", pk=s.pk)
    messages.success(request, _("已解除：%(name)s，告知书编号 %(no)s") % {"name": s.name, "no": s.notice_number})
    return redirect("outbreak:release_notice", pk=s.pk)


@login_required
@require_POST
def screening_extend(request: AuthedRequest, pk: int) -> HttpResponse:
    s = _screening(request, pk)
    require(request.user, "can_write")
    form = ExtendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写新的解除日期和延长原因"))
    else:
        try:
            services.extend(
                screening=s, new_end=form.cleaned_data["new_end"], reason=form.cleaned_data["reason"], by=request.user
            )
        except ValidationError as exc:
            _messages_of(request, exc)
        else:
            messages.success(request, _("已延长管控至%(date)s") % {"date": form.cleaned_data["new_end"].isoformat()})
    return redirect("outbreak:screening_detail", pk=s.pk)


@login_required
@require_POST
def screening_status(request: AuthedRequest, pk: int) -> HttpResponse:
    s = _screening(request, pk)
    require(request.user, "can_write")
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择状态并写明原因"))
    else:
        try:
            services.change_status(
                screening=s,
                status=form.cleaned_data["status"],
                on=_today(),
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except ValidationError as exc:
            _messages_of(request, exc)
        else:
            messages.success(request, _("已改为“%(status)s”") % {"status": s.get_status_display()})
    return redirect("outbreak:screening_detail", pk=s.pk)


# ---- follow-ups on a phone ----------------------------------------------------------------------------------

SLOT_LABELS = dict(Slot.choices)


def _cards(
    checks: list[selectors.DueCheck], event: Event, errors: dict[tuple[int, str], dict[str, Any]]
) -> list[dict[str, Any]]:
    cards = []
    for c in checks:
        slots = []
        for slot in c.due:
            typed = errors.get((c.screening.pk, slot), {})
            slots.append(
                {
                    "slot": slot,
                    "label": SLOT_LABELS[slot],
                    "done": c.done.get(slot),
                    "errors": typed.get("errors", []),
                    "temperature": typed.get("temperature", ""),
                    "symptoms": typed.get("symptoms", []),
                }
            )
        cards.append(
            {
                "s": c.screening,
                "slots": slots,
                "days_not_seen": c.days_not_seen,
                "flagged": c.days_not_seen >= event.lost_after_days,
                "has_error": any(x["errors"] for x in slots),
            }
        )
    return cards


def _followup_page(
    request: AuthedRequest, event: Event, errors: dict[tuple[int, str], dict[str, Any]] | None = None
) -> HttpResponse:
    today = _today()
    unit = _unit_param(request)
    checks = selectors.follow_ups_due(request.user, event, today, unit=unit)
    yesterday = today - dt.timedelta(days=1)
    missed = [
        (c.screening, [SLOT_LABELS[s] for s in c.missing])
        for c in selectors.follow_ups_due(request.user, event, yesterday, unit=unit)
        if c.missing
    ]
    cards = _cards(checks, event, errors or {})
    pending = sum(1 for c in cards for s in c["slots"] if s["done"] is None)
    return render(
        request,
        "outbreak/followup_list.html",
        {
            **_base(request, event),
            "unit": unit,
            "today": today,
            "yesterday": yesterday,
            "cards": cards,
            "pending": pending,
            "flagged": sum(1 for c in cards if c["flagged"]),
            "missed": missed,
            "symptom_choices": SYMPTOMS,
        },
        status=400 if errors else 200,
    )


@login_required
def followup_list(request: AuthedRequest) -> HttpResponse:
    event = _event(request, required=False)
    if event is None:
        return render(request, "outbreak/dashboard.html", _base(request, None))
    return _followup_page(request, event)


@login_required
@require_POST
def followup_record(request: AuthedRequest, pk: int) -> HttpResponse:
    s = _screening(request, pk)
    require(request.user, "can_write")
    form = FollowUpForm(request.POST)
    slot = request.POST.get("slot", "")
    temperature = request.POST.get("temperature", "").strip()
    symptoms = request.POST.getlist("symptoms")
    try:
        if not form.is_valid():
            raise ValidationError({k: [str(m) for m in v] for k, v in form.errors.items()})
        services.record_follow_up(
            screening=s,
            date=_today(),
            slot=form.cleaned_data["slot"],
            temperature=temperature,
            symptoms=form.cleaned_data["symptoms"],
            by=request.user,
        )
    except ValidationError as exc:
        errors = {(s.pk, slot): {"errors": exc.messages, "temperature": temperature, "symptoms": symptoms}}
        return _followup_page(request, s.event, errors)
    messages.success(
        request,
        _("已登记 %(name)s %(slot)s体温 %(t)s℃")
        % {"name": s.name, "slot": SLOT_LABELS.get(slot, ""), "t": temperature},
    )
    return redirect(_with_event(reverse("outbreak:followup_list"), s.event) + f"#s-{s.pk}")


# ---- alerts --------------------------------------------------------------------------------------------------


@login_required
def alert_list(request: AuthedRequest) -> HttpResponse:
    event = _event(request, required=False)
    if event is None:
        return render(request, "outbreak/dashboard.html", _base(request, None))
    unit = _unit_param(request)
    show_all = request.GET.get("all") == "1"
    qs = selectors.alerts_for(request.user).filter(screening__event=event).select_related("handled_by")
    if unit is not None:
        qs = qs.filter(unit.subtree_q("screening__unit__"))
    if not show_all:
        qs = qs.filter(handled_at__isnull=True)
    page: Page[Alert] = Paginator(qs.order_by("-raised_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "outbreak/alert_list.html",
        {
            **_base(request, event),
            "unit": unit,
            "show_all": show_all,
            "page": page,
            "query_string": _query_without_page(request),
        },
    )


@login_required
@require_POST
def alert_handle(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        alert = selectors.alerts_for(request.user).get(pk=pk)
    except Alert.DoesNotExist:
        raise Http404 from None
    require(request.user, "can_write")
    form = HandleForm(request.POST)
    form.is_valid()
    try:
        services.handle_alert(alert=alert, handling=form.cleaned_data.get("handling") or "", by=request.user)
    except ValidationError as exc:
        _messages_of(request, exc)
    else:
        messages.success(request, _("已处置预警：%(detail)s") % {"detail": alert.detail})
    return redirect(_with_event(reverse("outbreak:alert_list"), alert.screening.event))


# ---- release notices ----------------------------------------------------------------------------------------


def _notices(request: AuthedRequest, screenings: list[Screening]) -> HttpResponse:
    full = user_policy(request.user).sees_full_id_number
    if full and screenings:
        # A printed notice carries the full number: that is a view of it, kept in the audit log.
        for s in screenings:
            log_access(user=request.user, action=AccessAction.VIEW_ID_NUMBER, object_type="screening", object_id=s.pk)
    notices = [
        {
            "s": s,
            "id_number": s.id_number if full else mask_id_number(s.id_number),
            "days": (s.released_on - s.measure_start).days if s.released_on else 0,
        }
        for s in screenings
    ]
    return render(
        request,
        "outbreak/release_notices.html",
        {"notices": notices, "printed_on": _today(), "policy": user_policy(request.user)},
    )


@login_required
def release_notice(request: AuthedRequest, pk: int) -> HttpResponse:
    s = _screening(request, pk)
    if s.status != TrackingStatus.RELEASED:
        messages.error(request, _("%(name)s 尚未解除，不能打印解除告知书") % {"name": s.name})
        return redirect("outbreak:screening_detail", pk=s.pk)
    return _notices(request, [s])


@login_required
def release_due(request: AuthedRequest) -> HttpResponse:
    event = _event(request)
    assert event is not None
    unit = _unit(request)
    today = _today()
    if request.method == "POST":
        require(request.user, "can_write")
        try:
            released = services.release_due(event=event, unit=unit, on=today, by=request.user)
        except ValidationError as exc:
            _messages_of(request, exc)
        else:
            if released:
                return _notices(request, released)
            messages.info(request, _("今天没有到期需要解除的人员"))
        return redirect(_with_event(reverse("outbreak:release_due"), event, unit=unit.pk))
    due = (
        selectors.screenings_for(request.user)
        .filter(unit.subtree_q("unit__"), event=event, status=TrackingStatus.TRACKING, measure_end__lte=today)
        .order_by("measure_end", "id")
    )
    return render(
        request,
        "outbreak/release_due.html",
        {
            **_base(request, event),
            "unit": unit,
            "today": today,
            "rows": [{"obj": s, "id_number": mask_id_number(s.id_number)} for s in due],
        },
    )


# ---- daily reports -----------------------------------------------------------------------------------------


def _counts(counts: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(key, label, counts.get(key, 0)) for key, label in COUNT_LABELS]


def _report_units(request: AuthedRequest, unit: OrgUnit) -> list[OrgUnit]:
    units = list(
        visible_units(request.user)
        .filter(retired_on__isnull=True, level=Level.COMMUNITY)
        .select_related("parent")
        .order_by("path")[:500]
    )
    if unit not in units:
        units.insert(0, unit)
    return units


@login_required
def report_submit(request: AuthedRequest) -> HttpResponse:
    event = _event(request, required=False)
    if event is None:
        return render(request, "outbreak/dashboard.html", _base(request, None))
    unit = _unit(request)
    on, date_error = _date_param(request)
    versions = list(
        DailyReport.objects.filter(event=event, unit=unit, date=on).select_related("submitted_by").order_by("version")
    )
    form = ReportForm(request.POST or None)
    if request.method == "POST":
        require(request.user, "can_write")
        if form.is_valid():
            try:
                report = services.submit_daily_report(
                    event=event,
                    unit=unit,
                    date=on,
                    by=request.user,
                    text=form.cleaned_data["text"],
                    zero="zero" in request.POST,
                    correction_reason=form.cleaned_data["correction_reason"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                kind = _("零报告") if report.is_zero else _("日报告")
                messages.success(
                    request,
                    _("已提交 %(unit)s %(date)s %(kind)s（第%(v)s版）")
                    % {"unit": unit.name, "date": on.isoformat(), "kind": kind, "v": report.version},
                )
                return redirect(
                    _with_event(reverse("outbreak:report_submit"), event, unit=unit.pk, date=on.isoformat())
                )
    deadline = dt.datetime.combine(on, event.report_deadline, tzinfo=timezone.get_current_timezone())
    return render(
        request,
        "outbreak/report_submit.html",
        {
            **_base(request, event),
            "unit": unit,
            "units": _report_units(request, unit),
            "on": on,
            "date_error": date_error,
            "counts": _counts(selectors.daily_counts(event, unit, on)),
            "versions": [{"r": r, "counts": _counts(r.counts)} for r in versions],
            "form": form,
            "deadline": deadline,
            "past_deadline": timezone.now() > deadline,
        },
        status=400 if form.errors else 200,
    )


def _table_rows(table: selectors.ReportTable) -> list[dict[str, Any]]:
    rows = []
    for r in table.rows:
        label, css = STATUS_LABELS[r.status]
        rows.append(
            {
                "unit": r.unit,
                "status": r.status,
                "label": label,
                "css": css,
                "report": r.report,
                "values": [r.report.counts.get(k, 0) if r.report else None for k, _label in COUNT_LABELS],
            }
        )
    return rows


@login_required
def report_table(request: AuthedRequest) -> HttpResponse:
    event = _event(request, required=False)
    if event is None:
        return render(request, "outbreak/dashboard.html", _base(request, None))
    unit = _unit(request)
    on, error = _date_param(request)
    table = selectors.report_table(event, unit, on)
    today = _today()
    return render(
        request,
        "outbreak/report_table.html",
        {
            **_base(request, event),
            "unit": unit,
            "on": on,
            "error": error,
            "table": table,
            "rows": _table_rows(table),
            "headers": [label for _key, label in COUNT_LABELS],
            "totals": [table.totals.get(k, 0) for k, _label in COUNT_LABELS],
            "prev": on - dt.timedelta(days=1),
            "next": on + dt.timedelta(days=1) if on < today else None,
            "crumbs": _crumbs(request, unit),
        },
    )


@login_required
def report_table_export(request: AuthedRequest) -> HttpResponse:
    require(request.user, "can_export")
    event = _event(request)
    assert event is not None
    unit = _unit(request)
    on, _error = _date_param(request)
    table = selectors.report_table(event, unit, on)
    headers = [_("单位"), _("报告情况"), _("提交时间"), _("零报告"), _("版本"), *[str(lbl) for _k, lbl in COUNT_LABELS]]
    rows: list[list[Any]] = []
    for r in _table_rows(table):
        report = r["report"]
        rows.append(
            [
                r["unit"].name,
                str(r["label"]),
                timezone.localtime(report.submitted_at) if report else "",
                (_("是") if report.is_zero else _("否")) if report else "",
                report.version if report else "",
                *[v if v is not None else "" for v in r["values"]],
            ]
        )
    rows.append([_("合计"), "", "", "", "", *[table.totals.get(k, 0) for k, _lbl in COUNT_LABELS]])
    rows.append(
        [
            _("完整率 %(c)s%%，及时率 %(t)s%%")
            % {
                "c": table.completeness if table.completeness is not None else "—",
                "t": table.timeliness if table.timeliness is not None else "—",
            }
        ]
    )
    title = _("%(event)s %(unit)s %(date)s 日报告汇总") % {
        "event": event.name,
        "unit": unit.name,
        "date": on.isoformat(),
    }
    content = workbook_bytes(headers, rows, sheet_title=_("日报告汇总"), title=title)
    log_access(
        user=request.user,
        action=AccessAction.EXPORT,
        object_type="daily_report",
        filters={"date": on.isoformat()},
        rows=len(table.rows),
    )
    return xlsx_response(_stamp_name(_("日报告汇总")), content)


urlpatterns: list[URLPattern] = [
    path("", dashboard, name="dashboard"),
    path("events/new/", event_create, name="event_create"),
    path("events/<int:pk>/", event_detail, name="event_detail"),
    path("events/<int:pk>/areas/", risk_area_add, name="risk_area_add"),
    path("events/<int:pk>/areas/import/", risk_area_import, name="risk_area_import"),
    path("events/<int:pk>/rules/", rule_set, name="rule_set"),
    path("screenings/", screening_list, name="screening_list"),
    path("screenings/export/", screening_export, name="screening_export"),
    path("screenings/new/", screening_create, name="screening_create"),
    path("screenings/lookup/", screening_lookup, name="screening_lookup"),
    path("screenings/<int:pk>/", screening_detail, name="screening_detail"),
    path("screenings/<int:pk>/release/", screening_release, name="screening_release"),
    path("screenings/<int:pk>/extend/", screening_extend, name="screening_extend"),
    path("screenings/<int:pk>/status/", screening_status, name="screening_status"),
    path("screenings/<int:pk>/notice/", release_notice, name="release_notice"),
    path("screenings/<int:pk>/followup/", followup_record, name="followup_record"),
    path("followups/", followup_list, name="followup_list"),
    path("alerts/", alert_list, name="alert_list"),
    path("alerts/<int:pk>/handle/", alert_handle, name="alert_handle"),
    path("release-due/", release_due, name="release_due"),
    path("reports/", report_submit, name="report_submit"),
    path("reports/table/", report_table, name="report_table"),
    path("reports/table/export/", report_table_export, name="report_table_export"),
]
