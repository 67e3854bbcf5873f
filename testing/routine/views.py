"""应检尽检 pages: the overview, a group and its members, the schedule, the cycles and their missed
lists (to notify), recording and importing tests. Built for community workers on a phone as well.

Reads go through testing.routine.selectors (scoped to the user's subtree by the member's unit),
writes through testing.routine.services; a group, member or unit outside the user's reach is 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import AccessAction
from accounts.permissions import require, user_policy
from accounts.rules import mask_id_number, shown_phone
from accounts.services import log_access
from core.db import prefix_q
from core.excel import workbook_bytes, xlsx_response
from core.http import AuthedRequest
from core.indicators import Period
from core.pages import cleaned, query_without_page, unit_param
from core.scoping import visible_units
from orgunits.models import Level, OrgUnit
from registry.selectors import filter_unit_choices
from testing.models import KeyGroup, KeyGroupMember, ScheduleSlot
from testing.routine import rules, selectors, services
from testing.routine.forms import (
    GroupForm,
    LeaveForm,
    MemberEditForm,
    MemberFilterForm,
    MemberForm,
    MemberRecordForm,
    MoveBatchForm,
    PeriodForm,
    QuickRecordForm,
    RecordForm,
    RenameForm,
    RetireForm,
    ScheduleForm,
    SlotFormSet,
    UploadForm,
)

PAGE_SIZE = 50
DEFAULT_WEEKS = 12
RECENT_CYCLES = 10
BLANK_SLOTS = 3


def _today() -> dt.date:
    return timezone.localdate()


def _add_errors(form: Any, exc: ValidationError, mapping: dict[str, str] | None = None) -> None:
    fields = set(form.fields)
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, msgs in exc.message_dict.items():
        name = (mapping or {}).get(key, key)
        form.add_error(name if name in fields else None, msgs)


def _group(request: AuthedRequest, pk: int) -> KeyGroup:
    group = selectors.groups_for(request.user).filter(pk=pk).first()
    if group is None:
        raise Http404
    return group


def _member(request: AuthedRequest, pk: int) -> KeyGroupMember:
    member = selectors.members_for(request.user).filter(pk=pk).first()
    if member is None:
        raise Http404
    return member


def _can_manage(request: AuthedRequest, group: KeyGroup) -> bool:
    from core.scoping import unit_in_scope

    return user_policy(request.user).can_manage_units and unit_in_scope(request.user, group.unit)


def _member_units(request: AuthedRequest, group: KeyGroup) -> list[OrgUnit]:
    """Where a member of the group may belong: the group's unit and its communities, within the user's reach."""
    return list(
        visible_units(request.user)
        .filter(group.unit.subtree_q(""), retired_on__isnull=True)
        .filter(level__in=[Level.DISTRICT, Level.STREET, Level.COMMUNITY])
        .select_related("parent")
        .order_by("path")
    )


def _period(request: AuthedRequest, *, group: KeyGroup | None = None) -> tuple[PeriodForm, dt.date, dt.date]:
    """The period asked for, else the last twelve weeks of the schedule up to today."""
    form = PeriodForm(request.GET or None, units=filter_unit_choices(request.user))
    cd = cleaned(form)
    today = _today()
    first, last = selectors.schedule_span(request.user, group=group)
    end = min(cd.get("end") or min(today, last or today), today)
    start = cd.get("start") or end - dt.timedelta(weeks=DEFAULT_WEEKS) + rules.DAY
    if not cd.get("start") and first is not None and first <= end:
        start = max(start, first)
    start = min(start, end)
    if not form.is_bound:
        form.initial.update(start=start, end=end)
    return form, start, end


def _cycle_url(day: dt.date, batch: int | None, **extra: Any) -> str:
    query = {"batch": batch if batch is not None else "none", **{k: v for k, v in extra.items() if v}}
    return f"{reverse('testing:routine_cycle', args=[day.isoformat()])}?{urlencode(query)}"


def _cycle_rows(counts: list[rules.CycleCounts], **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "c": c,
            "weekday": _weekday(c.cycle.day),
            "url": _cycle_url(c.cycle.day, c.cycle.batch, **extra),
        }
        for c in counts
    ]


def _weekday(day: dt.date) -> str:
    return rules.WEEKDAY_NAMES[day.weekday()]


def _named(slots: list[ScheduleSlot]) -> list[ScheduleSlot]:
    """Slots with their weekday's Chinese name (``day_name``) for the templates."""
    for s in slots:
        s.day_name = rules.WEEKDAY_NAMES[s.weekday]  # type: ignore[attr-defined]
    return slots


def _stamp_name(prefix: str) -> str:
    return _("%(prefix)s_%(date)s.xlsx") % {"prefix": prefix, "date": f"{_today():%Y%m%d}"}


def _safe_next(request: AuthedRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _base(request: AuthedRequest) -> dict[str, Any]:
    return {"policy": user_policy(request.user), "today": _today()}


# ---- overview -----------------------------------------------------------------------------------------------------


@login_required
def overview(request: AuthedRequest) -> HttpResponse:
    user = request.user
    unit = unit_param(request)
    form, start, end = _period(request)
    groups = list(selectors.groups_for(user).order_by("retired_on", "unit__path", "pk"))
    members = selectors.member_scope(user, unit=unit)
    figures = selectors.figures(members, groups, end)
    counts = selectors.cycle_table(user, start, end, today=_today(), unit=unit)
    totals = rules.Totals()
    for c in counts:
        totals.add(c)
    extra = {"unit": unit.pk if unit else ""}
    chart = {
        "days": [f"{c.cycle.day:%m-%d}" + (f" {c.cycle.batch}" if c.cycle.batch else "") for c in counts],
        "completion": [float(c.completion) if c.completion is not None else None for c in counts],
        "on_time": [float(c.on_time_rate) if c.on_time_rate is not None else None for c in counts],
        "names": {"completion": _("完成率（含补检）"), "on_time": _("按时检测率"), "title": _("各检测批次完成率（%）")},
    }
    return render(
        request,
        "testing/routine/overview.html",
        {
            **_base(request),
            "form": form,
            "unit": unit,
            "start": start,
            "end": end,
            "groups": groups,
            "figures": figures,
            "unit_rows": figures.unit_rows(),
            "recent": _cycle_rows(list(reversed(counts))[:RECENT_CYCLES], **extra),
            "cycle_count": len(counts),
            "totals": totals,
            "chart": chart,
            "query_string": query_without_page(request),
            "can_manage": user_policy(user).can_manage_units,
        },
    )


# ---- groups -------------------------------------------------------------------------------------------------------


def _manageable_units(request: AuthedRequest) -> list[OrgUnit]:
    return list(
        visible_units(request.user)
        .filter(retired_on__isnull=True, level__in=[Level.DISTRICT, Level.STREET, Level.COMMUNITY])
        .select_related("parent")
        .order_by("path")[:500]
    )


@login_required
def group_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, "can_manage_units")
    units = _manageable_units(request)
    own = request.user.org_unit
    form = GroupForm(request.POST or None, units=units, initial={"unit": own.pk if own else None})
    if request.method == "POST" and form.is_valid():
        unit = next((u for u in units if u.pk == form.cleaned_data["unit"]), None)
        if unit is None:
            form.add_error("unit", _("所选单位不在您的管辖范围内"))
        else:
            try:
                group = services.create_group(unit=unit, name=form.cleaned_data["name"], by=request.user)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                text = _("已新建应检人群：%(name)s。请设置检测安排并添加人员。") % {"name": group.name}
                messages.success(request, text)
                return redirect("testing:routine_schedule", pk=group.pk)
    return render(request, "testing/routine/group_form.html", {**_base(request), "form": form})


def _member_filters(
    request: AuthedRequest, group: KeyGroup
) -> tuple[MemberFilterForm, QuerySet[KeyGroupMember], list[OrgUnit]]:
    units = _member_units(request, group)
    batches = sorted(
        {b for b in group.members.exclude(batch__isnull=True).values_list("batch", flat=True).distinct() if b}
    )
    form = MemberFilterForm(request.GET or None, units=units, batches=batches)
    cd = cleaned(form)
    qs = selectors.members_for(request.user).filter(group=group)
    status = cd.get("status") or ""
    if status == "left":
        qs = qs.filter(left_on__isnull=False)
    elif status != "all":
        qs = qs.filter(left_on__isnull=True)
    if cd.get("unit"):
        unit = next((u for u in units if u.pk == cd["unit"]), None)
        if unit is None:
            raise Http404
        qs = qs.filter(unit.subtree_q("unit__"))
    batch = cd.get("batch") or ""
    if batch == "none":
        qs = qs.filter(batch__isnull=True)
    elif batch:
        qs = qs.filter(batch=int(batch))
    q = (cd.get("q") or "").strip()
    if q:
        digits = q.upper()
        is_digits = digits[:-1].isdigit() if digits.endswith("X") else digits.isdigit()
        if is_digits:
            qs = qs.filter(Q(id_number__endswith=digits) | Q(phone__endswith=digits))
        else:
            qs = qs.filter(prefix_q("name", q) | Q(workplace__contains=q))
    return form, qs.order_by("unit__path", "batch", "name", "pk"), units


@login_required
def group_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    group = _group(request, pk)
    form, qs, _units = _member_filters(request, group)
    if request.GET.get("export") == "xlsx":
        return _members_export(request, group, qs)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    role = request.user.role
    today = _today()
    figures = selectors.figures(selectors.members_for(request.user), [group], today)
    _f, start, end = _period(request, group=group)
    counts = selectors.cycle_table(request.user, start, end, today=today, group=group)
    slots = _named(selectors.schedule_now(group, min(today, end)) or selectors.schedule_now(group, end))
    return render(
        request,
        "testing/routine/group_detail.html",
        {
            **_base(request),
            "group": group,
            "form": form,
            "page": page,
            "rows": [
                {"m": m, "id_number": mask_id_number(m.id_number), "phone": shown_phone(role, m.phone)}
                for m in page.object_list
            ],
            "figures": figures.groups[0],
            "unit_rows": figures.unit_rows(),
            "slots": slots,
            "recent": _cycle_rows(list(reversed(counts))[:RECENT_CYCLES], group=group.pk),
            "query_string": query_without_page(request),
            "can_manage": _can_manage(request, group),
        },
    )


def _members_export(request: AuthedRequest, group: KeyGroup, qs: QuerySet[KeyGroupMember]) -> HttpResponse:
    require(request.user, "can_export")
    role = request.user.role
    headers = [
        _("姓名"),
        _("证件号码"),
        _("联系电话"),
        _("所属社区"),
        _("工作单位"),
        _("批次"),
        _("纳入日期"),
        _("移出日期"),
        _("移出原因"),
    ]
    rows = [
        [
            m.name,
            mask_id_number(m.id_number),
            shown_phone(role, m.phone),
            m.unit.name,
            m.workplace,
            m.batch,
            m.joined_on,
            m.left_on,
            m.left_reason,
        ]
        for m in qs
    ]
    content = workbook_bytes(headers, rows, sheet_title=_("应检人员"), title=group.name)
    filters = {k: str(v) for k, v in request.GET.items() if v and k not in ("page", "export")}
    log_access(
        user=request.user, action=AccessAction.EXPORT, object_type="key_group", object_id=group.pk, filters=filters
    )
    return xlsx_response(_stamp_name(group.name), content)


@login_required
def group_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    group = _group(request, pk)
    if not _can_manage(request, group):
        raise PermissionDenied(_("只有人群所属单位及上级可以修改"))
    rename = RenameForm(initial={"name": group.name})
    retire = RetireForm(initial={"retired_on": _today()})
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "rename":
                rename = RenameForm(request.POST)
                if rename.is_valid():
                    services.rename_group(group=group, name=rename.cleaned_data["name"], by=request.user)
                    messages.success(request, _("已修改名称"))
                    return redirect("testing:routine_group", pk=group.pk)
            elif action == "retire":
                retire = RetireForm(request.POST)
                if retire.is_valid():
                    cd = retire.cleaned_data
                    services.retire_group(
                        group=group, on=cd["retired_on"], reason=cd["retired_reason"], by=request.user
                    )
                    messages.success(request, _("已停用：%(name)s") % {"name": group.name})
                    return redirect("testing:routine_group", pk=group.pk)
        except ValidationError as exc:
            _add_errors(rename if action == "rename" else retire, exc)
    return render(
        request,
        "testing/routine/group_edit.html",
        {**_base(request), "group": group, "rename": rename, "retire": retire},
        status=400 if request.method == "POST" else 200,
    )


# ---- schedule -----------------------------------------------------------------------------------------------------


@login_required
def schedule(request: AuthedRequest, pk: int) -> HttpResponse:
    group = _group(request, pk)
    today = _today()
    open_slots = _named(list(group.slots.filter(valid_to__isnull=True).order_by("weekday", "batch", "site")))
    initial = [{"weekday": str(s.weekday), "batch": s.batch, "site": s.site} for s in open_slots]
    formset = SlotFormSet(initial=[*initial, *([{}] * BLANK_SLOTS)], prefix="slot")
    form = ScheduleForm(initial={"valid_from": today})
    can_manage = _can_manage(request, group)
    status = 200
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied(_("只有人群所属单位及上级可以调整检测安排"))
        formset = SlotFormSet(request.POST, prefix="slot")
        form = ScheduleForm(request.POST)
        if formset.is_valid() and form.is_valid():
            slots = [
                services.SlotData(weekday=int(cd["weekday"]), batch=cd.get("batch"), site=cd.get("site") or "")
                for cd in formset.cleaned_data
                if cd and cd.get("weekday") not in (None, "")
            ]
            try:
                change = services.change_schedule(
                    group=group, slots=slots, valid_from=form.cleaned_data["valid_from"], by=request.user
                )
            except ValidationError as exc:
                _add_errors(form, exc, {"slots": "__all__", "weekday": "__all__", "batch": "__all__"})
            else:
                messages.success(
                    request,
                    _("检测安排已保存：新增%(opened)s项，停止%(closed)s项，不变%(kept)s项")
                    % {"opened": change.opened, "closed": change.closed, "kept": change.kept},
                )
                return redirect("testing:routine_schedule", pk=group.pk)
        status = 400
    history = _named(list(ScheduleSlot.objects.filter(group=group).order_by("-valid_from", "weekday", "batch", "site")))
    return render(
        request,
        "testing/routine/schedule.html",
        {
            **_base(request),
            "group": group,
            "formset": formset,
            "form": form,
            "open_slots": open_slots,
            "history": history,
            "weekday_names": rules.WEEKDAY_NAMES,
            "can_manage": can_manage,
        },
        status=status,
    )


# ---- members ------------------------------------------------------------------------------------------------------


@login_required
def member_add(request: AuthedRequest, pk: int) -> HttpResponse:
    group = _group(request, pk)
    require(request.user, "can_write")
    units = _member_units(request, group)
    form = MemberForm(request.POST or None, units=units, initial={"joined_on": _today()})
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        unit = next((u for u in units if u.pk == cd.get("unit")), None)
        if cd.get("unit") and unit is None:
            form.add_error("unit", _("所选单位不在您的管辖范围内"))
        else:
            data = services.MemberData(
                id_number=cd["id_number"],
                joined_on=cd["joined_on"],
                name=cd.get("name") or "",
                phone=cd.get("phone") or "",
                unit=unit,
                workplace=cd.get("workplace") or "",
                batch=cd.get("batch"),
            )
            try:
                member = services.add_member(group=group, data=data, by=request.user)
            except ValidationError as exc:
                _add_errors(form, exc, {"group": "__all__"})
            else:
                messages.success(request, _("已添加：%(name)s") % {"name": member.name})
                if request.POST.get("again"):
                    return redirect("testing:routine_member_add", pk=group.pk)
                return redirect("testing:routine_member", pk=member.pk)
    return render(
        request,
        "testing/routine/member_form.html",
        {**_base(request), "group": group, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def member_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    member = _member(request, pk)
    today = _today()
    forms: dict[str, Any] = {
        "edit": MemberEditForm(initial={"phone": member.phone, "workplace": member.workplace}),
        "move": MoveBatchForm(initial={"batch": member.batch, "on": today}),
        "leave": LeaveForm(initial={"left_on": today}),
        "record": MemberRecordForm(initial={"tested_on": today}),
    }
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in forms:
            raise Http404
        done, forms[action] = _member_action(request, member, action)
        if done is not None:
            return redirect("testing:routine_member", pk=done.pk)
        status = 400
    history = selectors.member_history(member, today=today)
    role = request.user.role
    return render(
        request,
        "testing/routine/member_detail.html",
        {
            **_base(request),
            "member": member,
            "group": member.group,
            "id_number": mask_id_number(member.id_number),
            "phone": shown_phone(role, member.phone),
            "history": history,
            "due": [
                {"m": m, "d": d, "label": rules.STATUS_LABELS[d.status], "weekday": _weekday(d.cycle.day)}
                for m, d in history.due[:100]
            ],
            "forms": forms,
            "active": member.left_on is None,
        },
        status=status,
    )


def _member_action(request: AuthedRequest, member: KeyGroupMember, action: str) -> tuple[KeyGroupMember | None, Any]:
    user = request.user
    form: Any
    try:
        if action == "edit":
            form = MemberEditForm(request.POST)
            if form.is_valid():
                cd = form.cleaned_data
                services.update_member(member=member, phone=cd["phone"], workplace=cd["workplace"], by=user)
                messages.success(request, _("已保存"))
                return member, form
        elif action == "move":
            form = MoveBatchForm(request.POST)
            if form.is_valid():
                cd = form.cleaned_data
                fresh = services.move_batch(member=member, batch=cd.get("batch"), on=cd["on"], by=user)
                messages.success(request, _("已调整批次"))
                return fresh, form
        elif action == "leave":
            form = LeaveForm(request.POST)
            if form.is_valid():
                cd = form.cleaned_data
                services.leave_group(member=member, on=cd["left_on"], reason=cd["left_reason"], by=user)
                messages.success(request, _("已移出：%(name)s") % {"name": member.name})
                return member, form
        else:
            form = MemberRecordForm(request.POST)
            if form.is_valid():
                cd = form.cleaned_data
                _test, created = services.record_test(
                    member=member, tested_on=cd["tested_on"], site=cd.get("site") or "", by=user
                )
                if created:
                    messages.success(request, _("已登记%(date)s的检测") % {"date": cd["tested_on"].isoformat()})
                else:
                    day = cd["tested_on"].isoformat()
                    messages.info(request, _("%(date)s已有检测记录，不重复登记") % {"date": day})
                return member, form
    except ValidationError as exc:
        _add_errors(form, exc, {"left_on": "left_on", "on": "on"})
    return None, form


@login_required
def member_import(request: AuthedRequest, pk: int) -> HttpResponse:
    group = _group(request, pk)
    require(request.user, "can_import")
    form = UploadForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = services.import_members(group=group, content=upload.read(), filename=upload.name, by=request.user)
        log_access(
            user=request.user,
            action=AccessAction.IMPORT,
            object_type="key_group",
            object_id=group.pk,
            rows=result.rows,
            errors=len(result.errors),
        )
        if not result.errors:
            messages.success(
                request,
                _("导入完成：新增%(created)s人，更新%(updated)s人，无变化%(unchanged)s人")
                % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
            )
            return redirect("testing:routine_group", pk=group.pk)
    return render(
        request,
        "testing/routine/import.html",
        {
            **_base(request),
            "group": group,
            "form": form,
            "result": result,
            "kind": "members",
            "columns": [h for h, _k, _r in services.MEMBER_COLUMNS],
            "required": [h for h, _k, r in services.MEMBER_COLUMNS if r],
            "template_url": reverse("testing:routine_member_template"),
        },
        status=400 if result is not None else 200,
    )


@login_required
def member_template(request: AuthedRequest) -> HttpResponse:
    return xlsx_response(_("应检人员导入模板.xlsx"), services.member_template_bytes())


# ---- cycles -------------------------------------------------------------------------------------------------------


@login_required
def cycle_list(request: AuthedRequest) -> HttpResponse:
    unit = unit_param(request)
    group = _group(request, int(request.GET["group"])) if request.GET.get("group", "").isdigit() else None
    form, start, end = _period(request, group=group)
    counts = selectors.cycle_table(request.user, start, end, today=_today(), unit=unit, group=group)
    rows = _cycle_rows(list(reversed(counts)), unit=unit.pk if unit else "", group=group.pk if group else "")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    totals = rules.Totals()
    for c in counts:
        totals.add(c)
    return render(
        request,
        "testing/routine/cycle_list.html",
        {
            **_base(request),
            "form": form,
            "unit": unit,
            "group": group,
            "start": start,
            "end": end,
            "page": page,
            "totals": totals,
            "query_string": query_without_page(request),
        },
    )


def _day(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise Http404 from None


def _cycle_params(request: AuthedRequest) -> tuple[int | None, bool, KeyGroup | None, OrgUnit | None]:
    raw = request.GET.get("batch", "")
    any_batch = raw == ""
    batch = None
    if raw and raw != "none":
        if not raw.isdigit():
            raise Http404
        batch = int(raw)
    group = _group(request, int(request.GET["group"])) if request.GET.get("group", "").isdigit() else None
    return batch, any_batch, group, unit_param(request)


@login_required
def cycle_detail(request: AuthedRequest, day: str) -> HttpResponse:
    on = _day(day)
    today = _today()
    if on > today:
        raise Http404
    batch, any_batch, group, unit = _cycle_params(request)
    detail = selectors.cycle_detail(
        request.user, on, today=today, batch=batch, any_batch=any_batch, unit=unit, group=group
    )
    role = request.user.role
    if request.GET.get("export") == "xlsx":
        return _notify_export(request, detail, group)

    def show(rows: list[selectors.CycleMember]) -> list[dict[str, Any]]:
        return [
            {
                "r": r,
                "id_number": mask_id_number(r.member.id_number),
                "phone": shown_phone(role, r.member.phone),
                "label": rules.STATUS_LABELS[r.due.status],
                "can_make_up": r.due.status == rules.Status.PENDING,
            }
            for r in rows
        ]

    counts = rules.CycleCounts(rules.Cycle(0, on, batch, detail.sites))
    for r in detail.rows:
        counts.add(r.due)
    return render(
        request,
        "testing/routine/cycle_detail.html",
        {
            **_base(request),
            "on": on,
            "weekday": _weekday(on),
            "batch": batch,
            "any_batch": any_batch,
            "group": group,
            "unit": unit,
            "detail": detail,
            "counts": counts,
            "outstanding": show(detail.outstanding),
            "made_up": show(detail.made_up),
            "on_time": show(detail.on_time),
            "make_up_day": today,
            "query_string": request.GET.urlencode(),
            "here": request.get_full_path(),
        },
    )


def _notify_export(request: AuthedRequest, detail: selectors.CycleDetail, group: KeyGroup | None) -> HttpResponse:
    """The missed list with phones (as the role may see them), for the community to call each person."""
    require(request.user, "can_export")
    role = request.user.role
    headers = [
        _("姓名"),
        _("证件号码"),
        _("联系电话"),
        _("所属社区"),
        _("应检人群"),
        _("工作单位"),
        _("批次"),
        _("应检日期"),
        _("补检截止"),
        _("状态"),
        _("已通知（签字）"),
    ]
    rows = [
        [
            r.member.name,
            mask_id_number(r.member.id_number),
            shown_phone(role, r.member.phone),
            r.unit_name,
            r.group_name,
            r.member.workplace,
            r.member.batch,
            r.due.cycle.day,
            r.due.window_end,
            str(rules.STATUS_LABELS[r.due.status]),
            "",
        ]
        for r in detail.outstanding
    ]
    title = _("%(date)s 应检未检人员通知名单") % {"date": detail.day.isoformat()}
    content = workbook_bytes(headers, rows, sheet_title=_("漏检通知名单"), title=title)
    log_access(
        user=request.user,
        action=AccessAction.EXPORT,
        object_type="routine_cycle",
        object_id=detail.day.isoformat(),
        group=group.pk if group else None,
        rows=len(rows),
    )
    return xlsx_response(_stamp_name(_("漏检通知名单")), content)


# ---- tests --------------------------------------------------------------------------------------------------------


@login_required
@require_POST
def record_quick(request: AuthedRequest) -> HttpResponse:
    """The "登记补检" button of a cycle's missed list."""
    require(request.user, "can_write")
    form = QuickRecordForm(request.POST)
    if not form.is_valid():
        raise Http404
    member = _member(request, form.cleaned_data["member"])
    try:
        _test, created = services.record_test(
            member=member, tested_on=form.cleaned_data["tested_on"], site=form.cleaned_data["site"], by=request.user
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        if created:
            messages.success(request, _("已登记补检：%(name)s") % {"name": member.name})
        else:
            messages.info(request, _("%(name)s当天已有检测记录") % {"name": member.name})
    return redirect(_safe_next(request, reverse("testing:routine_overview")))


@login_required
def record_page(request: AuthedRequest) -> HttpResponse:
    """Enter tests one person after another (ID number, date, site): the phone page of a testing site."""
    require(request.user, "can_write")
    today = _today()
    form = RecordForm(
        request.POST or None, initial={"tested_on": request.GET.get("date") or today, "site": request.GET.get("site")}
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            cd = form.cleaned_data
            try:
                recorded = _record_by_number(request, cd["id_number"], cd["tested_on"], cd.get("site") or "")
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, recorded)
                query = urlencode({"date": cd["tested_on"].isoformat(), "site": cd.get("site") or ""})
                return redirect(f"{reverse('testing:routine_test_record')}?{query}")
    return render(request, "testing/routine/test_form.html", {**_base(request), "form": form}, status=status)


def _record_by_number(request: AuthedRequest, raw: str, day: dt.date, site: str) -> str:
    number = services.clean_id_number(raw)
    rows = [
        m
        for m in selectors.find_member_rows(request.user, number)
        if rules.is_member_on(rules.Membership(m.joined_on, m.left_on), day)
    ]
    if not rows:
        message = _("该证件号码在%(date)s不是应检人员（或不在您的管辖范围内）") % {"date": day.isoformat()}
        raise ValidationError({"id_number": message})
    parts = []
    for m in rows:
        _test, created = services.record_test(member=m, tested_on=day, site=site, by=request.user)
        parts.append(
            _("%(name)s（%(group)s）%(what)s")
            % {"name": m.name, "group": m.group.name, "what": _("已登记") if created else _("当天已有记录")}
        )
    return "；".join(parts)


@login_required
def records_import(request: AuthedRequest) -> HttpResponse:
    require(request.user, "can_import")
    groups = list(selectors.groups_for(request.user).filter(retired_on__isnull=True).order_by("name"))
    form = UploadForm(request.POST or None, request.FILES or None, groups=groups)
    result = None
    if request.method == "POST" and form.is_valid():
        group_pk = form.cleaned_data.get("group")
        group = next((g for g in groups if g.pk == group_pk), None) if group_pk else None
        upload = form.cleaned_data["file"]
        result = services.import_tests(content=upload.read(), filename=upload.name, by=request.user, group=group)
        log_access(
            user=request.user,
            action=AccessAction.IMPORT,
            object_type="routine_test",
            rows=result.rows,
            errors=len(result.errors),
        )
        if not result.errors:
            messages.success(
                request,
                _("导入完成：新增检测记录%(created)s条，已有记录%(unchanged)s条，文件内重复%(dup)s条（只计一次）")
                % {"created": result.created, "unchanged": result.unchanged, "dup": len(result.duplicates)},
            )
            if not result.duplicates:
                return redirect("testing:routine_overview")
    return render(
        request,
        "testing/routine/import.html",
        {
            **_base(request),
            "form": form,
            "result": result,
            "kind": "tests",
            "columns": [h for h, _k, _r in services.TEST_COLUMNS],
            "required": [h for h, _k, r in services.TEST_COLUMNS if r],
            "template_url": reverse("testing:routine_test_template"),
        },
        status=400 if result is not None and result.errors else 200,
    )


@login_required
def records_template(request: AuthedRequest) -> HttpResponse:
    return xlsx_response(_("检测记录导入模板.xlsx"), services.records_template_bytes())


@login_required
@require_POST
def from_rounds(request: AuthedRequest) -> HttpResponse:
    """Members sampled in the mass-testing rounds of the period get their test (idempotent)."""
    form = PeriodForm(request.POST, units=filter_unit_choices(request.user))
    cd = cleaned(form)
    today = _today()
    end = min(cd.get("end") or today, today)
    start = cd.get("start") or end - dt.timedelta(weeks=DEFAULT_WEEKS) + rules.DAY
    result = services.record_from_rounds(period=Period(min(start, end), end), by=request.user)
    messages.success(
        request,
        _("已从全员核酸补录检测记录%(created)s条（已有%(existing)s条）")
        % {"created": result.created, "existing": result.existing},
    )
    return redirect(_safe_next(request, reverse("testing:routine_overview")))


urlpatterns: list[URLPattern] = [
    path("routine/", overview, name="routine_overview"),
    path("routine/groups/new/", group_create, name="routine_group_create"),
    path("routine/groups/<int:pk>/", group_detail, name="routine_group"),
    path("routine/groups/<int:pk>/edit/", group_edit, name="routine_group_edit"),
    path("routine/groups/<int:pk>/schedule/", schedule, name="routine_schedule"),
    path("routine/groups/<int:pk>/members/new/", member_add, name="routine_member_add"),
    path("routine/groups/<int:pk>/members/import/", member_import, name="routine_member_import"),
    path("routine/members/<int:pk>/", member_detail, name="routine_member"),
    path("routine/members/template.xlsx", member_template, name="routine_member_template"),
    path("routine/cycles/", cycle_list, name="routine_cycles"),
    path("routine/cycles/<str:day>/", cycle_detail, name="routine_cycle"),
    path("routine/tests/new/", record_page, name="routine_test_record"),
    path("routine/tests/quick/", record_quick, name="routine_test_quick"),
    path("routine/tests/import/", records_import, name="routine_test_import"),
    path("routine/tests/template.xlsx", records_template, name="routine_test_template"),
    path("routine/tests/from-rounds/", from_rounds, name="routine_from_rounds"),
]
