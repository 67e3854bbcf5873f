"""疫苗接种 pages: the coverage dashboard, the dose ledger, a person's vaccination card, the import,
the reconciliation (底数清) with its named list, door-to-door lists, and the products and reasons
(data kept by the district administrator).

Reads go through vaccination.selectors (scoped to the user's subtree), writes through
vaccination.services; a person or unit outside the subtree answers 404. ID numbers are always
masked in lists and exports; phones as the role's policy says.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import AccessAction
from accounts.permissions import require, user_policy
from accounts.rules import mask_id_number, shown_phone
from accounts.services import log_access
from core.excel import workbook_bytes, xlsx_response
from core.http import AuthedRequest
from core.pages import cleaned, query_without_page
from core.scoping import visible_units
from orgunits.models import Level, OrgUnit
from registry.models import Resident, Tag
from registry.rules import age_on
from registry.selectors import filter_unit_choices, residents_for, search_residents
from vaccination import importing, rules, selectors, services
from vaccination.forms import (
    CorrectDoseForm,
    DoorToDoorForm,
    DoseFilterForm,
    DoseForm,
    EndReasonForm,
    ImportForm,
    ProductForm,
    ReasonForm,
    ReasonTypeForm,
    ReconciliationForm,
    RetireForm,
)
from vaccination.models import Dose, NonVaccinationReason, ReasonRecord, VaccineProduct

PAGE_SIZE = 50
LIST_PAGE_SIZE = 100
DOOR_TAG_CODES = ("disabled", "chronic")  # 残疾, 慢病: the tags a door-to-door list may be narrowed to


# ---- helpers ----------------------------------------------------------------------------------------------------


def _today() -> dt.date:
    return timezone.localdate()


def _unit_param(request: AuthedRequest, raw: Any = None) -> OrgUnit | None:
    raw = raw if raw is not None else request.GET.get("unit")
    if raw in (None, ""):
        return None
    try:
        return visible_units(request.user).select_related("parent").get(pk=int(raw))
    except (ValueError, TypeError, OrgUnit.DoesNotExist):
        raise Http404 from None


def _unit(request: AuthedRequest, raw: Any = None) -> OrgUnit:
    unit = _unit_param(request, raw)
    if unit is None:
        unit = request.user.org_unit or visible_units(request.user).filter(parent__isnull=True).order_by("path").first()
    if unit is None:
        raise Http404
    return unit


def _date(request: AuthedRequest, raw: Any = None) -> tuple[dt.date, str]:
    today = _today()
    if isinstance(raw, dt.date):
        value = raw
    else:
        raw = raw if raw is not None else request.GET.get("date", "")
        if not raw:
            return today, ""
        try:
            value = dt.date.fromisoformat(str(raw))
        except ValueError:
            return today, _("日期格式不正确，应为YYYY-MM-DD")
    if value > today:
        return today, _("日期不能晚于今天")
    return value, ""


def _crumbs(request: AuthedRequest, unit: OrgUnit) -> list[OrgUnit]:
    own = request.user.org_unit
    return [u for u in unit.ancestors() if own is None or u.path.startswith(own.path)]


def _base(request: AuthedRequest) -> dict[str, Any]:
    return {"policy": user_policy(request.user)}


def _add_errors(form: Any, exc: ValidationError, aliases: dict[str, str] | None = None) -> None:
    visible = {f.name for f in form.visible_fields()}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, msgs in exc.message_dict.items():
        name = (aliases or {}).get(key, key)
        form.add_error(name if name in visible else None, msgs)


def _labelled(form: Any, key: str, message: Any) -> str:
    field = form.fields.get(key)
    return f"{field.label}：{message}" if field is not None else message


def _stamp(prefix: str, unit: OrgUnit, on: dt.date) -> str:
    return f"{prefix}_{unit.name}_{on:%Y%m%d}.xlsx"


def _person_table(rows: list[selectors.PersonRow]) -> tuple[list[str], list[list[Any]]]:
    headers = [
        _("姓名"),
        _("性别"),
        _("年龄"),
        _("证件号码"),
        _("联系电话"),
        _("社区"),
        _("网格"),
        _("住址"),
        _("重点人群"),
        _("已接种剂次"),
        _("最近接种"),
        _("下一剂可接种日期"),
    ]
    body = [
        [
            r.name,
            r.sex,
            r.age,
            r.id_number,
            r.phone,
            r.community,
            r.grid,
            r.address,
            "、".join(r.tags),
            r.doses,
            r.last_dose_on,
            r.next_due,
        ]
        for r in rows
    ]
    return headers, body


# ---- dashboard ----------------------------------------------------------------------------------------------------


@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    unit = _unit(request)
    on, error = _date(request)
    rows = selectors.coverage_for(request.user, unit, on)
    chart = {
        "groups": [str(r.group.label) for r in rows],
        "series": [
            {
                "name": str(rules.LEVEL_LABELS[level]),
                "data": [float(r.cell.percent(level) or 0) for r in rows],
                "counts": [r.cell.count(level) for r in rows],
            }
            for level in rules.LEVELS
        ],
        "title": _("各年龄组接种率（%）"),
    }
    children = list(
        OrgUnit.objects.filter(parent=unit, retired_on__isnull=True).exclude(level=Level.BUILDING).order_by("path")
    )
    return render(
        request,
        "vaccination/dashboard.html",
        {
            **_base(request),
            "unit": unit,
            "on": on,
            "error": error,
            "rows": rows,
            "levels": [(level, rules.LEVEL_LABELS[level]) for level in rules.LEVELS],
            "chart": chart,
            "children": children,
            "crumbs": _crumbs(request, unit),
        },
    )


# ---- dose ledger -----------------------------------------------------------------------------------------------------


def _dose_filters(request: AuthedRequest) -> tuple[DoseFilterForm, OrgUnit | None, Any]:
    unit = _unit_param(request)
    units = list(filter_unit_choices(request.user))
    if unit is not None and unit not in units:
        units.append(unit)
    form = DoseFilterForm(request.GET or None, units=units)
    params = cleaned(form)
    qs = selectors.filter_doses(request.user, params, unit=unit)
    return form, unit, qs


@login_required
def dose_list(request: AuthedRequest) -> HttpResponse:
    form, unit, qs = _dose_filters(request)
    if request.GET.get("export"):
        return _dose_export(request, qs)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "vaccination/dose_list.html",
        {
            **_base(request),
            "form": form,
            "unit": unit,
            "page": page,
            "rows": [{"obj": d, "id_number": mask_id_number(d.resident.id_number)} for d in page.object_list],
            "query_string": query_without_page(request),
        },
    )


def _dose_export(request: AuthedRequest, qs: Any) -> HttpResponse:
    require(request.user, "can_export")
    headers = [
        _("姓名"),
        _("证件号码"),
        _("所在单位"),
        _("疫苗"),
        _("疫苗类型"),
        _("剂次"),
        _("接种日期"),
        _("接种单位"),
        _("上门接种"),
        _("备注"),
        _("登记时间"),
        _("状态"),
    ]
    rows = [
        [
            d.resident.name,
            mask_id_number(d.resident.id_number),
            d.resident.unit.name,
            str(d.product),
            d.product.get_kind_display(),
            d.dose_number,
            d.date,
            d.site,
            _("是") if d.door_to_door else _("否"),
            d.note,
            timezone.localtime(d.recorded_at),
            _("已作废：%(r)s") % {"r": d.retired_reason} if d.retired_at else _("有效"),
        ]
        for d in qs.iterator(chunk_size=2000)
    ]
    filters = {k: v for k, v in request.GET.items() if v and k not in ("page", "export")}
    log_access(
        user=request.user, action=AccessAction.EXPORT, object_type="vaccine_dose", filters=filters, rows=len(rows)
    )
    content = workbook_bytes(headers, rows, sheet_title=_("接种台账"), title=_("新冠病毒疫苗接种台账"))
    return xlsx_response(f"{_('接种台账')}_{_today():%Y%m%d}.xlsx", content)


# ---- finding a person, and the vaccination card ----------------------------------------------------------------


@login_required
def find(request: AuthedRequest) -> HttpResponse:
    q = (request.GET.get("q") or "").strip()
    people: list[dict[str, Any]] = []
    if q:
        today = _today()
        people = [
            {"obj": r, "id_number": mask_id_number(r.id_number), "age": age_on(r.birth_date, today)}
            for r in search_residents(request.user, q).select_related("unit")[:50]
        ]
    return render(request, "vaccination/find.html", {**_base(request), "q": q, "people": people})


def _resident(request: AuthedRequest, pk: int) -> Resident:
    try:
        return residents_for(request.user).select_related("unit", "household").get(pk=pk)
    except Resident.DoesNotExist:
        raise Http404 from None


def _card_page(request: AuthedRequest, resident: Resident, status: int = 200, **forms: Any) -> HttpResponse:
    today = _today()
    card = selectors.card(resident, today)
    nxt = card.next_dose
    dose_initial = {"date": today, "dose_number": nxt.number if nxt else card.progress.doses + 1}
    if card.doses:
        dose_initial["product"] = next((d.product_id for d in card.doses if d.dose_number == 1), None)
    context = {
        **_base(request),
        "r": resident,
        "card": card,
        "age": age_on(resident.birth_date, today),
        "id_masked": mask_id_number(resident.id_number),
        "phone": shown_phone(request.user.role, resident.phone),
        "today": today,
        "dose_form": forms.get("dose_form") or DoseForm(initial=dose_initial),
        "reason_form": forms.get("reason_form") or ReasonForm(initial={"valid_from": today}),
        "correct_errors": forms.get("correct_errors"),
        "retire_form": RetireForm(),
        "end_form": EndReasonForm(initial={"valid_to": today}),
        "products": list(VaccineProduct.objects.filter(retired_on__isnull=True).order_by("id")),
    }
    return render(request, "vaccination/card.html", context, status=status)


@login_required
def card(request: AuthedRequest, pk: int) -> HttpResponse:
    return _card_page(request, _resident(request, pk))


def _dose_data(cd: dict[str, Any]) -> services.DoseData:
    return services.DoseData(
        product=cd["product"],
        dose_number=cd["dose_number"],
        date=cd["date"],
        site=cd.get("site") or "",
        door_to_door=bool(cd.get("door_to_door")),
        note=cd.get("note") or "",
        confirm_interval=bool(cd.get("confirm_interval")),
    )


@login_required
@require_POST
def dose_add(request: AuthedRequest, pk: int) -> HttpResponse:
    resident = _resident(request, pk)
    require(request.user, "can_write")
    form = DoseForm(request.POST)
    if form.is_valid():
        try:
            dose = services.record_dose(resident=resident, data=_dose_data(form.cleaned_data), by=request.user)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, _("已登记第%(n)s剂（%(date)s）") % {"n": dose.dose_number, "date": dose.date.isoformat()}
            )
            return redirect("vaccination:card", pk=resident.pk)
    return _card_page(request, resident, status=400, dose_form=form)


def _dose(request: AuthedRequest, pk: int) -> Dose:
    return get_object_or_404(selectors.doses_for(request.user), pk=pk)


@login_required
@require_POST
def dose_correct(request: AuthedRequest, pk: int) -> HttpResponse:
    dose = _dose(request, pk)
    require(request.user, "can_write")
    form = CorrectDoseForm(request.POST)
    if form.is_valid():
        try:
            services.correct_dose(
                dose=dose, data=_dose_data(form.cleaned_data), reason=form.cleaned_data["reason"], by=request.user
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已更正第%(n)s剂，原记录已作废并保留") % {"n": dose.dose_number})
            return redirect("vaccination:card", pk=dose.resident_id)
    errors = [_labelled(form, key, message) for key, msgs in form.errors.items() for message in msgs]
    return _card_page(request, dose.resident, status=400, correct_errors={dose.pk: errors})


@login_required
@require_POST
def dose_retire(request: AuthedRequest, pk: int) -> HttpResponse:
    dose = _dose(request, pk)
    require(request.user, "can_write")
    form = RetireForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"reason": _("请填写作废原因")})
        services.retire_dose(dose=dose, reason=form.cleaned_data["reason"], by=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已作废第%(n)s剂") % {"n": dose.dose_number})
    return redirect("vaccination:card", pk=dose.resident_id)


@login_required
@require_POST
def reason_add(request: AuthedRequest, pk: int) -> HttpResponse:
    resident = _resident(request, pk)
    require(request.user, "can_write")
    form = ReasonForm(request.POST)
    if form.is_valid():
        cd = form.cleaned_data
        try:
            services.record_reason(
                resident=resident,
                reason=cd["reason"],
                scope=cd["scope"],
                valid_from=cd["valid_from"],
                valid_to=cd.get("valid_to"),
                note=cd.get("note") or "",
                by=request.user,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已登记未接种原因：%(r)s") % {"r": cd["reason"].name})
            return redirect("vaccination:card", pk=resident.pk)
    return _card_page(request, resident, status=400, reason_form=form)


def _reason_record(request: AuthedRequest, pk: int) -> ReasonRecord:
    return get_object_or_404(selectors.reasons_for(request.user), pk=pk)


@login_required
@require_POST
def reason_end(request: AuthedRequest, pk: int) -> HttpResponse:
    record = _reason_record(request, pk)
    require(request.user, "can_write")
    form = EndReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"valid_to": _("请填写截止日期")})
        services.end_reason(record=record, valid_to=form.cleaned_data["valid_to"], by=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("原因已截止"))
    return redirect("vaccination:card", pk=record.resident_id)


@login_required
@require_POST
def reason_retire(request: AuthedRequest, pk: int) -> HttpResponse:
    record = _reason_record(request, pk)
    require(request.user, "can_write")
    form = RetireForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"reason": _("请填写作废原因")})
        services.retire_reason(record=record, reason=form.cleaned_data["reason"], by=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已作废该原因记录"))
    return redirect("vaccination:card", pk=record.resident_id)


# ---- the reconciliation (底数清) and door-to-door lists -----------------------------------------------------------


def _group_form(request: AuthedRequest, form_class: Any, **kw: Any) -> tuple[Any, OrgUnit, str, str, dt.date, str]:
    units = list(filter_unit_choices(request.user))
    data = request.GET.copy() if request.GET else None
    unit = _unit(request)
    if unit not in units:
        units.insert(0, unit)
    if data is not None and not data.get("unit"):
        data["unit"] = str(unit.pk)
    form = form_class(data, units=units, initial={"unit": unit.pk, "date": _today()}, **kw)
    cd = cleaned(form)
    group = cd.get("group") or form.fields["group"].initial
    if group not in dict(form.fields["group"].choices):
        group = form.fields["group"].choices[0][0]
    level = cd.get("level") or rules.FULL_COURSE
    on, error = _date(request, cd.get("date") or request.GET.get("date", ""))
    return form, unit, group, level, on, error


@login_required
def reconciliation(request: AuthedRequest) -> HttpResponse:
    form, unit, group, level, on, error = _group_form(request, ReconciliationForm)
    result = selectors.reconciliation_for(request.user, unit, group, level, on)
    if request.GET.get("export"):
        require(request.user, "can_export")
        people = selectors.person_rows(request.user, result.unexplained_ids, on, result.progress)
        headers, body = _person_table(people)
        title = _("%(unit)s %(group)s %(level)s 底数核对：未说明原因人员（截至%(date)s）") % {
            "unit": unit.name,
            "group": result.group.label,
            "level": rules.LEVEL_LABELS[level],
            "date": on.isoformat(),
        }
        counts = [[row.label, row.count] for row in result.rows]
        log_access(
            user=request.user,
            action=AccessAction.EXPORT,
            object_type="vaccination_reconciliation",
            filters={"unit": unit.code, "group": group, "level": level, "date": on.isoformat()},
            rows=len(body),
        )
        content = workbook_bytes(
            headers,
            [*body, [], [_("分类"), _("人数")], *counts, [_("合计"), result.total]],
            sheet_title=_("底数核对"),
            title=title,
        )
        return xlsx_response(_stamp(_("底数核对"), unit, on), content)
    ids = result.unexplained_ids
    page = Paginator(ids, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    people = selectors.person_rows(request.user, list(page.object_list), on, result.progress)
    return render(
        request,
        "vaccination/reconciliation.html",
        {
            **_base(request),
            "form": form,
            "unit": unit,
            "on": on,
            "error": error,
            "result": result,
            "level_label": rules.LEVEL_LABELS[level],
            "page": page,
            "people": people,
            "query_string": query_without_page(request),
            "door_groups": selectors.DOOR_GROUPS,
        },
    )


def _door_tags() -> list[Tag]:
    return list(Tag.objects.filter(code__in=DOOR_TAG_CODES, retired_on__isnull=True).order_by("code"))


@login_required
def door_to_door(request: AuthedRequest) -> HttpResponse:
    tags = _door_tags()
    form, unit, group, level, on, error = _group_form(request, DoorToDoorForm, tags=tags)
    tag_raw = request.GET.get("tag") or ""
    tag = next((t for t in tags if str(t.pk) == tag_raw), None)
    rows = selectors.door_to_door(
        request.user, unit, on, group_key=group, level=level, tag_ids=[tag.pk] if tag else None
    )
    if request.GET.get("export"):
        require(request.user, "can_export")
        headers, body = _person_table(rows)
        title = _("%(unit)s %(group)s 上门接种名单（%(level)s，截至%(date)s）") % {
            "unit": unit.name,
            "group": rules.GROUPS[group].label,
            "level": rules.LEVEL_LABELS[level],
            "date": on.isoformat(),
        }
        log_access(
            user=request.user,
            action=AccessAction.EXPORT,
            object_type="vaccination_door_to_door",
            filters={"unit": unit.code, "group": group, "level": level, "tag": tag_raw, "date": on.isoformat()},
            rows=len(body),
        )
        content = workbook_bytes(headers, body, sheet_title=_("上门接种名单"), title=title)
        return xlsx_response(_stamp(_("上门接种名单"), unit, on), content)
    page = Paginator(rows, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "vaccination/door_to_door.html",
        {
            **_base(request),
            "form": form,
            "unit": unit,
            "on": on,
            "error": error,
            "group_label": rules.GROUPS[group].label,
            "level_label": rules.LEVEL_LABELS[level],
            "tag": tag,
            "page": page,
            "total": len(rows),
            "query_string": query_without_page(request),
        },
    )


# ---- import --------------------------------------------------------------------------------------------------------


@login_required
def import_page(request: AuthedRequest) -> HttpResponse:
    require(request.user, "can_import")
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    file_error = ""
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = importing.import_doses(content=upload.read(), by=request.user)
        except importing.DoseFileError as exc:
            file_error = str(exc)
        else:
            log_access(
                user=request.user,
                action=AccessAction.IMPORT,
                object_type="vaccine_dose",
                file=upload.name,
                rows=result.rows,
                created=result.created,
                errors=len(result.errors),
            )
            if not result.errors:
                messages.success(
                    request,
                    _("已导入%(n)s剂次（%(u)s行与已登记记录相同，已跳过）")
                    % {"n": result.created, "u": result.unchanged},
                )
                return redirect("vaccination:dose_list")
    status = 400 if (file_error or (result and result.errors)) else 200
    return render(
        request,
        "vaccination/import.html",
        {**_base(request), "form": form, "result": result, "file_error": file_error, "columns": importing.COLUMNS},
        status=status,
    )


@login_required
def import_template(request: AuthedRequest) -> HttpResponse:
    return xlsx_response(_("接种记录导入模板.xlsx"), importing.template_bytes())


# ---- products and reasons (data kept by the district administrator) ---------------------------------------------


def _may_manage(request: AuthedRequest) -> bool:
    return bool(user_policy(request.user).can_manage_schemes)


@login_required
def products(request: AuthedRequest) -> HttpResponse:
    form = ProductForm(request.POST or None)
    if request.method == "POST":
        if not _may_manage(request):
            raise PermissionDenied(_("只有区级管理员可以维护疫苗产品和未接种原因"))
        if form.is_valid():
            try:
                services.save_product(data=services.ProductData(**form.cleaned_data), by=request.user)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("已保存疫苗产品"))
                return redirect("vaccination:products")
    return render(
        request,
        "vaccination/products.html",
        {
            **_base(request),
            "products": VaccineProduct.objects.order_by("retired_on", "id"),
            "form": form,
            "may_manage": _may_manage(request),
        },
        status=400 if form.errors else 200,
    )


@login_required
def product_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(VaccineProduct, pk=pk)
    if not _may_manage(request):
        raise PermissionDenied(_("只有区级管理员可以维护疫苗产品和未接种原因"))
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_product(data=services.ProductData(**form.cleaned_data), product=product, by=request.user)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已保存疫苗产品"))
            return redirect("vaccination:products")
    return render(
        request,
        "vaccination/product_form.html",
        {**_base(request), "form": form, "product": product},
        status=400 if form.errors else 200,
    )


@login_required
def reasons(request: AuthedRequest) -> HttpResponse:
    form = ReasonTypeForm(request.POST or None)
    if request.method == "POST":
        if not _may_manage(request):
            raise PermissionDenied(_("只有区级管理员可以维护疫苗产品和未接种原因"))
        if form.is_valid():
            cd = form.cleaned_data
            try:
                services.save_reason_type(
                    code=cd["code"], name=cd["name"], absent=cd["absent"], retired_on=cd["retired_on"], by=request.user
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("已保存未接种原因"))
                return redirect("vaccination:reasons")
    return render(
        request,
        "vaccination/reasons.html",
        {
            **_base(request),
            "reasons": NonVaccinationReason.objects.order_by("retired_on", "id"),
            "form": form,
            "may_manage": _may_manage(request),
            "computed": [rules.CATEGORY_LABELS[rules.INTERVAL_NOT_MET], rules.CATEGORY_LABELS[rules.NO_BOOSTER_NEEDED]],
        },
        status=400 if form.errors else 200,
    )


@login_required
def reason_type_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    reason = get_object_or_404(NonVaccinationReason, pk=pk)
    if not _may_manage(request):
        raise PermissionDenied(_("只有区级管理员可以维护疫苗产品和未接种原因"))
    form = ReasonTypeForm(request.POST or None, instance=reason)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            services.save_reason_type(
                code=cd["code"],
                name=cd["name"],
                absent=cd["absent"],
                retired_on=cd["retired_on"],
                reason=reason,
                by=request.user,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已保存未接种原因"))
            return redirect("vaccination:reasons")
    return render(
        request,
        "vaccination/reason_form.html",
        {**_base(request), "form": form, "reason": reason},
        status=400 if form.errors else 200,
    )


urlpatterns: list[URLPattern] = [
    path("", dashboard, name="dashboard"),
    path("doses/", dose_list, name="dose_list"),
    path("doses/<int:pk>/correct/", dose_correct, name="dose_correct"),
    path("doses/<int:pk>/retire/", dose_retire, name="dose_retire"),
    path("find/", find, name="find"),
    path("residents/<int:pk>/", card, name="card"),
    path("residents/<int:pk>/doses/", dose_add, name="dose_add"),
    path("residents/<int:pk>/reasons/", reason_add, name="reason_add"),
    path("reason-records/<int:pk>/end/", reason_end, name="reason_end"),
    path("reason-records/<int:pk>/retire/", reason_retire, name="reason_retire"),
    path("reconciliation/", reconciliation, name="reconciliation"),
    path("door-to-door/", door_to_door, name="door_to_door"),
    path("import/", import_page, name="import"),
    path("import/template/", import_template, name="import_template"),
    path("products/", products, name="products"),
    path("products/<int:pk>/", product_edit, name="product_edit"),
    path("reasons/", reasons, name="reasons"),
    path("reasons/<int:pk>/", reason_type_edit, name="reason_type_edit"),
]
