"""Registry pages: resident search and list, resident page, households. Scoping via core.scoping.

Every page reads through registry.selectors (scoped to the user's subtree) and writes through
registry.services; a record outside the subtree answers 404 so that its existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import AccessAction
from accounts.permissions import require, user_policy
from accounts.rules import mask_id_number, shown_id_number, shown_phone
from accounts.services import log_access
from core.excel import workbook_bytes, xlsx_response
from core.http import AuthedRequest
from core.pages import cleaned as _cleaned
from core.pages import query_without_page as _query_without_page
from core.pages import unit_param as _unit_param
from core.scoping import visible_units
from orgunits.models import Level, OrgUnit
from registry.forms import (
    HouseholdFilterForm,
    HouseholdForm,
    ResidentFilterForm,
    ResidentForm,
    RetireForm,
    StatusForm,
)
from registry.models import Household, Resident
from registry.rules import age_on
from registry.selectors import (
    filter_households,
    filter_residents,
    filter_unit_choices,
    households_for,
    resident_versions,
    residents_for,
    status_history,
)
from registry.services import (
    ResidentData,
    change_living_status,
    create_household,
    create_resident,
    retire_resident,
    update_resident,
)

PAGE_SIZE = 50


# ---- helpers ----------------------------------------------------------------------------------------------


def _filter_units(request: AuthedRequest, unit: OrgUnit | None) -> list[OrgUnit]:
    units = list(filter_unit_choices(request.user))
    if unit is not None and unit not in units:
        units.append(unit)  # a building chosen by link stays selected in the form
    return units


def _unit_chain(unit: OrgUnit) -> dict[str, str]:
    """Names of the community, grid and building a unit lies in (needs unit__parent__parent selected)."""
    chain: dict[str, str] = {}
    u: OrgUnit | None = unit
    while u is not None and u.level not in chain:
        chain[u.level] = u.name
        u = u.parent if u.level in (Level.BUILDING, Level.GRID) else None
    return chain


def _address(unit: OrgUnit, household: Household | None) -> str:
    """Community / building / entrance / door: what a grid worker says when asked where someone lives."""
    chain = _unit_chain(unit)
    parts = [chain.get(Level.COMMUNITY, ""), chain.get(Level.BUILDING, "")]
    if not any(parts):
        parts = [unit.name]
    if household is not None:
        if household.entrance:
            parts.append(_("%(n)s单元") % {"n": household.entrance})
        parts.append(household.door)
    return " ".join(p for p in parts if p)


def _rows(request: AuthedRequest, residents: Any) -> list[dict[str, Any]]:
    role = request.user.role
    today = timezone.localdate()
    return [
        {
            "obj": r,
            "age": age_on(r.birth_date, today),
            "id_number": mask_id_number(r.id_number),
            "phone": shown_phone(role, r.phone),
            "address": _address(r.unit, r.household),
        }
        for r in residents
    ]


def _is_htmx_partial(request: AuthedRequest) -> bool:
    # A history restore (back button after the cache expired) needs the whole page, not the fragment.
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def _writable_units(request: AuthedRequest) -> list[OrgUnit]:
    return list(
        visible_units(request.user)
        .filter(retired_on__isnull=True, level__in=[Level.COMMUNITY, Level.GRID, Level.BUILDING])
        .select_related("parent")
        .order_by("path")[:3000]
    )


def _add_errors(form: Any, exc: ValidationError) -> None:
    """Service errors next to their field when the form shows it, above the form otherwise."""
    visible = {f.name for f in form.visible_fields()}
    for field, msgs in exc.message_dict.items():
        form.add_error(field if field in visible else None, msgs)


def _filter_log(request: AuthedRequest) -> dict[str, str]:
    return {k: str(v) for k, v in request.GET.items() if v and k not in ("export", "page")}


# ---- residents --------------------------------------------------------------------------------------------


def _resident_filters(request: AuthedRequest) -> tuple[ResidentFilterForm, OrgUnit | None, Any]:
    unit = _unit_param(request)
    form = ResidentFilterForm(request.GET or None, units=_filter_units(request, unit))
    qs = filter_residents(request.user, _cleaned(form), unit=unit)
    return form, unit, qs


@login_required
def resident_list(request: AuthedRequest) -> HttpResponse:
    form, unit, qs = _resident_filters(request)
    qs = qs.select_related("unit", "unit__parent", "unit__parent__parent", "household").prefetch_related("tags")
    page: Page[Resident] = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "unit": unit,
        "page": page,
        "rows": _rows(request, page.object_list),
        "query_string": _query_without_page(request),
        "policy": user_policy(request.user),
    }
    template = "registry/_resident_table.html" if _is_htmx_partial(request) else "registry/resident_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _resident_export_headers() -> list[str]:
    return [
        _("姓名"),
        _("性别"),
        _("出生日期"),
        _("年龄"),
        _("证件类型"),
        _("证件号码"),
        _("联系电话"),
        _("社区"),
        _("网格"),
        _("楼栋"),
        _("单元"),
        _("门牌号"),
        _("与户主关系"),
        _("户籍"),
        _("居住状态"),
        _("状态日期"),
        _("婚姻状况"),
        _("重点人群"),
    ]


@login_required
def resident_export(request: AuthedRequest) -> HttpResponse:
    """All rows matching the list's filters (not just one page); full ID numbers only for roles that may see them."""
    require(request.user, "can_export")
    _form, _unit, qs = _resident_filters(request)
    qs = qs.select_related("unit", "unit__parent", "unit__parent__parent", "household").prefetch_related("tags")
    role = request.user.role
    today = timezone.localdate()
    yes, no = _("是"), _("否")
    count = 0

    def rows() -> Iterator[list[Any]]:
        nonlocal count
        for r in qs.iterator(chunk_size=2000):
            count += 1
            chain = _unit_chain(r.unit)
            hh = r.household
            yield [
                r.name,
                r.get_sex_display(),
                r.birth_date,
                age_on(r.birth_date, today),
                r.get_id_type_display(),
                shown_id_number(role, r.id_number, reveal=True),
                shown_phone(role, r.phone),
                chain.get(Level.COMMUNITY, ""),
                chain.get(Level.GRID, ""),
                chain.get(Level.BUILDING, ""),
                hh.entrance if hh else "",
                hh.door if hh else "",
                r.get_relation_display(),
                yes if r.registered else no,
                r.get_living_status_display(),
                r.status_since,
                r.get_marital_status_display(),
                "、".join(t.name for t in r.tags.all()),
            ]

    content = workbook_bytes(_resident_export_headers(), rows(), sheet_title=_("居民花名册"))
    log_access(
        user=request.user, action=AccessAction.EXPORT, object_type="resident", filters=_filter_log(request), rows=count
    )
    return xlsx_response(_("居民花名册_%(date)s.xlsx") % {"date": f"{today:%Y%m%d}"}, content)


def _resident(request: AuthedRequest, pk: int) -> Resident:
    try:
        return (
            residents_for(request.user)
            .select_related("unit", "unit__parent", "unit__parent__parent", "household")
            .get(pk=pk)
        )
    except Resident.DoesNotExist:
        raise Http404 from None


@login_required
def resident_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    resident = _resident(request, pk)
    role = request.user.role
    today = timezone.localdate()
    members = []
    if resident.household_id:
        members = [
            {"obj": m, "id_number": mask_id_number(m.id_number), "age": age_on(m.birth_date, today)}
            for m in residents_for(request.user)
            .filter(household_id=resident.household_id)
            .exclude(pk=pk)
            .order_by("birth_date")
        ]
    versions = resident_versions(resident, show_phone=lambda p: shown_phone(role, p))
    return render(
        request,
        "registry/resident_detail.html",
        {
            "r": resident,
            "age": age_on(resident.birth_date, today),
            "id_masked": mask_id_number(resident.id_number),
            "phone": shown_phone(role, resident.phone),
            "members": members,
            "versions": versions,
            "statuses": status_history(versions),
            "address": _address(resident.unit, resident.household),
            "policy": user_policy(request.user),
            "status_form": StatusForm(initial={"on": today, "living_status": resident.living_status}),
            "retire_form": RetireForm(),
        },
    )


@login_required
@require_POST
def resident_reveal(request: AuthedRequest, pk: int) -> HttpResponse:
    resident = _resident(request, pk)
    require(request.user, "sees_full_id_number")
    log_access(user=request.user, action=AccessAction.VIEW_ID_NUMBER, object_type="resident", object_id=pk)
    if request.headers.get("HX-Request"):
        # Passport numbers are free text: escaped like any other value.
        return HttpResponse(format_html('<span class="masked" id="id-number">{}</span>', resident.id_number))
    return JsonResponse({"id_number": resident.id_number})


def _form_data(cd: dict[str, Any], *, id_number: str, id_type: str) -> ResidentData:
    return ResidentData(
        name=cd["name"],
        id_number=id_number,
        id_type=id_type,
        sex=cd.get("sex") or "",
        birth_date=cd.get("birth_date"),
        phone=cd.get("phone") or "",
        relation=cd["relation"],
        registered=cd.get("registered", False),
        living_status=cd["living_status"],
        arrived_on=cd.get("arrived_on"),
        marital_status=cd["marital_status"],
        tags=[t.name for t in cd.get("tags") or []],
        note=cd.get("note") or "",
    )


def _household(request: AuthedRequest, pk: int) -> Household:
    try:
        return households_for(request.user).select_related("unit", "unit__parent", "unit__parent__parent").get(pk=pk)
    except Household.DoesNotExist:
        raise Http404 from None


@login_required
def resident_create(request: AuthedRequest, household_pk: int | None = None) -> HttpResponse:
    """A new resident; with a household (from the household page) the person joins it."""
    require(request.user, "can_write")
    raw = household_pk or request.GET.get("household") or request.POST.get("household")
    household = None
    if raw:
        try:
            household = _household(request, int(raw))
        except ValueError:
            raise Http404 from None
    units = _writable_units(request)
    initial = {"unit": household.unit_id if household else None, "household": household.pk if household else None}
    form = ResidentForm(request.POST or None, units=units, initial=initial)
    del form.fields["reason"]  # a first registration has no "reason for the change"
    if household is not None:
        # The member lives at the household's address: the unit follows from it.
        form.fields["unit"].disabled = True
        form.fields["unit"].required = False
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            unit = household.unit if household else visible_units(request.user).get(pk=cd["unit"])
            resident = create_resident(
                data=_form_data(cd, id_number=cd["id_number"], id_type=cd["id_type"]),
                unit=unit,
                household=household,
                by=request.user,
            )
        except OrgUnit.DoesNotExist:
            form.add_error("unit", _("所选单位不在您的管辖范围内"))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已登记：%(name)s") % {"name": resident.name})
            if household is not None:
                return redirect("registry:household_detail", pk=household.pk)
            return redirect("registry:resident_detail", pk=resident.pk)
    return render(request, "registry/resident_form.html", {"form": form, "household": household, "creating": True})


@login_required
def resident_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    resident = _resident(request, pk)
    require(request.user, "can_write")
    units = _writable_units(request)
    if resident.unit not in units:
        units.append(resident.unit)
    initial = {
        "name": resident.name,
        "sex": resident.sex,
        "birth_date": resident.birth_date,
        "phone": resident.phone,
        "unit": resident.unit_id,
        "relation": resident.relation,
        "registered": resident.registered,
        "living_status": resident.living_status,
        "arrived_on": resident.arrived_on,
        "marital_status": resident.marital_status,
        "tags": list(resident.tags.all()),
        "note": resident.note,
    }
    form = ResidentForm(request.POST or None, units=units, initial=initial)
    # The ID number cannot change (retire and register again); it is not even sent to the browser,
    # since roles that may write do not all may see it in full.
    del form.fields["id_number"]
    del form.fields["id_type"]
    form.fields["reason"].required = False
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            unit = visible_units(request.user).get(pk=cd["unit"])
            data = _form_data(cd, id_number=resident.id_number, id_type=resident.id_type)
            # A status changed here dates from today; the status form lets the user give another date.
            data.status_since = (
                resident.status_since if cd["living_status"] == resident.living_status else timezone.localdate()
            )
            changed = update_resident(
                resident=resident,
                data=data,
                by=request.user,
                reason=cd.get("reason") or "",
                unit=unit,
                household=resident.household if unit.pk == resident.unit_id else None,
            )
        except OrgUnit.DoesNotExist:
            form.add_error("unit", _("所选单位不在您的管辖范围内"))
        except (ValidationError, PermissionDenied) as exc:
            if isinstance(exc, ValidationError):
                _add_errors(form, exc)
            else:
                form.add_error("unit", str(exc))
        else:
            messages.success(request, _("已保存") if changed else _("没有修改"))
            return redirect("registry:resident_detail", pk=resident.pk)
    return render(
        request,
        "registry/resident_form.html",
        {"form": form, "r": resident, "id_masked": mask_id_number(resident.id_number), "creating": False},
    )


def _messages_of(exc: ValidationError) -> str:
    return "；".join(m for msgs in exc.message_dict.values() for m in msgs)


@login_required
@require_POST
def resident_status(request: AuthedRequest, pk: int) -> HttpResponse:
    resident = _resident(request, pk)
    require(request.user, "can_write")
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            change_living_status(
                resident=resident,
                status=form.cleaned_data["living_status"],
                on=form.cleaned_data["on"],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, _("居住状态已更新"))
        except ValidationError as exc:
            messages.error(request, _messages_of(exc))
    else:
        messages.error(request, _("请填写新的状态、日期和原因"))
    return redirect("registry:resident_detail", pk=pk)


@login_required
@require_POST
def resident_retire(request: AuthedRequest, pk: int) -> HttpResponse:
    resident = _resident(request, pk)
    require(request.user, "can_write")
    form = RetireForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("作废必须填写原因"))
        return redirect("registry:resident_detail", pk=pk)
    try:
        retire_resident(resident=resident, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
        return redirect("registry:resident_detail", pk=pk)
    messages.success(request, _("记录已作废（历史仍保留）：%(name)s") % {"name": resident.name})
    return redirect("registry:resident_list")


# ---- households -------------------------------------------------------------------------------------------


def _household_filters(request: AuthedRequest) -> tuple[HouseholdFilterForm, OrgUnit | None, Any]:
    unit = _unit_param(request)
    form = HouseholdFilterForm(request.GET or None, units=_filter_units(request, unit))
    cd = _cleaned(form)
    qs = filter_households(
        request.user, query=cd.get("q") or "", unit=unit, household_type=cd.get("household_type") or ""
    )
    return form, unit, qs.select_related("unit", "unit__parent", "unit__parent__parent")


def _household_export_headers() -> list[str]:
    return [
        _("社区"),
        _("网格"),
        _("楼栋"),
        _("单元"),
        _("门牌号"),
        _("户类型"),
        _("户主"),
        _("在册人数"),
        _("入住日期"),
    ]


@login_required
def household_list(request: AuthedRequest) -> HttpResponse:
    form, unit, qs = _household_filters(request)
    if request.GET.get("export"):
        return _household_export(request, qs)
    page: Page[Household] = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"obj": h, "address": _address(h.unit, h)} for h in page.object_list]
    template = "registry/_household_table.html" if _is_htmx_partial(request) else "registry/household_list.html"
    response = render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "rows": rows,
            "unit": unit,
            "query_string": _query_without_page(request),
            "policy": user_policy(request.user),
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


def _household_export(request: AuthedRequest, qs: Any) -> HttpResponse:
    require(request.user, "can_export")
    rows = []
    for h in qs.iterator(chunk_size=2000):
        chain = _unit_chain(h.unit)
        rows.append(
            [
                chain.get(Level.COMMUNITY, ""),
                chain.get(Level.GRID, ""),
                chain.get(Level.BUILDING, ""),
                h.entrance,
                h.door,
                h.get_household_type_display(),
                h.head_name,
                h.member_count,
                h.occupied_since,
            ]
        )
    content = workbook_bytes(_household_export_headers(), rows, sheet_title=_("户"))
    log_access(
        user=request.user,
        action=AccessAction.EXPORT,
        object_type="household",
        filters=_filter_log(request),
        rows=len(rows),
    )
    today = timezone.localdate()
    return xlsx_response(_("户台账_%(date)s.xlsx") % {"date": f"{today:%Y%m%d}"}, content)


@login_required
def household_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    role = request.user.role
    today = timezone.localdate()
    members = residents_for(request.user).filter(household=household).order_by("relation", "birth_date")
    rows = [
        {
            "obj": m,
            "id_number": mask_id_number(m.id_number),
            "phone": shown_phone(role, m.phone),
            "age": age_on(m.birth_date, today),
        }
        for m in members
    ]
    return render(
        request,
        "registry/household_detail.html",
        {
            "h": household,
            "address": _address(household.unit, household),
            "rows": rows,
            "policy": user_policy(request.user),
            "versions": household.history.select_related("history_user").order_by("-history_date", "-history_id")[:20],
        },
    )


@login_required
def household_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, "can_write")
    units = _writable_units(request)
    initial = {}
    if request.GET.get("unit"):
        initial["unit"] = request.GET["unit"]
    form = HouseholdForm(request.POST or None, units=units, initial=initial)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            unit = visible_units(request.user).get(pk=cd["unit"])
            hh = create_household(
                unit=unit,
                door=cd["door"],
                entrance=cd.get("entrance") or "",
                household_type=cd["household_type"],
                head_name=cd.get("head_name") or "",
                occupied_since=cd.get("occupied_since"),
                by=request.user,
            )
        except OrgUnit.DoesNotExist:
            form.add_error("unit", _("所选单位不在您的管辖范围内"))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已登记新户：%(address)s") % {"address": hh.address})
            return redirect("registry:household_detail", pk=hh.pk)
    return render(request, "registry/household_form.html", {"form": form})
