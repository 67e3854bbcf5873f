"""计生 pages: the dashboard, the births ledger, birth-service registrations and holiday visits.

Reads go through familyplanning.selectors (scoped to the user's subtree), writes through
familyplanning.services; a record or unit outside the subtree answers 404. Schemes, beneficiaries
and applications are in scheme_views.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import AccessAction
from accounts.permissions import require, user_policy
from accounts.rules import mask_id_number
from accounts.services import log_access
from core.excel import workbook_bytes, xlsx_response
from core.http import AuthedRequest
from core.indicators import Period
from core.pages import cleaned as _cleaned
from core.pages import query_without_page as _query_without_page
from core.pages import unit_param as _unit_param
from core.scoping import scoped, visible_units
from familyplanning import selectors, services
from familyplanning.forms import (
    OCCASIONS,
    BirthFilterForm,
    BirthForm,
    CoupleForm,
    ReasonForm,
    RegistrationFilterForm,
    RegistrationForm,
    VisitForm,
)
from familyplanning.models import Birth, BirthServiceRegistration, RegistrationStatus, SchemeCategory, Visit
from familyplanning.rules import order_label
from orgunits.models import Level, OrgUnit
from registry.models import Resident, Sex
from registry.rules import IdNumberError, parse_id_number
from registry.selectors import filter_unit_choices, residents_for

PAGE_SIZE = 50
LATE_DAYS = 30  # the "录入滞后" quick filter and the highlight in the births ledger
FIRST_YEAR = 1949


# ---- helpers ----------------------------------------------------------------------------------------------


def _home_unit(request: AuthedRequest) -> OrgUnit | None:
    """The unit a page starts from: the user's own, or the top of what a unit-less superuser sees."""
    user = request.user
    if user.org_unit is not None:
        return user.org_unit
    return visible_units(user).filter(parent__isnull=True).order_by("path").first()


def _filter_units(request: AuthedRequest, unit: OrgUnit | None) -> list[OrgUnit]:
    units = list(filter_unit_choices(request.user))
    if unit is not None and unit not in units:
        units.append(unit)
    return units


def _writable_units(request: AuthedRequest) -> list[OrgUnit]:
    """Units a record may be filed under: communities and grids (buildings are too many for a select)."""
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


def _filter_log(request: AuthedRequest) -> dict[str, str]:
    return {k: str(v) for k, v in request.GET.items() if v and k != "page"}


def _today() -> dt.date:
    return timezone.localdate()


def _stamp_name(prefix: str) -> str:
    return _("%(prefix)s_%(date)s.xlsx") % {"prefix": prefix, "date": f"{_today():%Y%m%d}"}


# Form fields named after the service's error keys: the message lands next to what the user typed.
ERROR_FIELDS = {"mother": "mother_id_number", "father": "father_id_number", "child": "child_name"}


def _add_errors(form: Any, exc: ValidationError, *, mapping: dict[str, str] | None = None) -> None:
    fields = {f.name for f in form.visible_fields()}
    mapping = mapping or ERROR_FIELDS
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, msgs in exc.message_dict.items():
        name = mapping.get(key, key)
        form.add_error(name if name in fields else None, msgs)


def _normalised_id(raw: str) -> str:
    """A resident ID number in its 18-character form; other documents (passports) trimmed and upper-cased."""
    value = (raw or "").strip().replace(" ", "").upper()
    if len(value) in (15, 18) and value[:-1].isdigit():
        return parse_id_number(value).number
    return value


def _parent(request: AuthedRequest, cd: dict[str, Any], who: str) -> services.Parent:
    """A parent from the form: the resident in scope with that ID number, else the typed name and number."""
    raw_id, name = cd.get(f"{who}_id_number") or "", (cd.get(f"{who}_name") or "").strip()
    try:
        number = _normalised_id(raw_id)
    except IdNumberError as exc:
        raise ValidationError({f"{who}_id_number": str(exc)}) from None
    if number:
        resident = residents_for(request.user).select_related("unit").filter(id_number=number).first()
        if resident is not None:
            return services.Parent(resident=resident)
        if not name:
            raise ValidationError({f"{who}_name": _("该证件号码不是本辖区的在册居民，请填写姓名（按非在册人员登记）")})
    return services.Parent(name=name, id_number=number)


def _record_unit(request: AuthedRequest, cd: dict[str, Any], mother: services.Parent) -> OrgUnit:
    if cd.get("unit"):
        try:
            return visible_units(request.user).get(pk=cd["unit"])
        except OrgUnit.DoesNotExist:
            raise ValidationError({"unit": _("所选单位不在您的管辖范围内")}) from None
    if mother.resident is not None:
        return mother.resident.unit
    raise ValidationError({"unit": _("母亲不是在册居民，请选择所在单位")})


def _year_param(request: AuthedRequest, today: dt.date) -> tuple[int, str]:
    raw = request.GET.get("year")
    if not raw:
        return today.year, ""
    try:
        year = int(raw)
    except ValueError:
        return today.year, _("年份格式不正确")
    if not FIRST_YEAR <= year <= today.year:
        return today.year, _("年份应在%(first)s年到今年之间") % {"first": FIRST_YEAR}
    return year, ""


def _masked_or_blank(value: str) -> str:
    return mask_id_number(value) if value else ""


# ---- history ------------------------------------------------------------------------------------------------

HISTORY_NOISE = ["updated_at", "created_at", "created_by"]
ID_FIELDS = {"mother_id_number", "father_id_number"}


def _versions(obj: Birth | BirthServiceRegistration, *, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first, each with its changed fields as readable old -> new values (ID numbers masked)."""
    rows = list(obj.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    model = type(obj)
    labels = {f.name: str(f.verbose_name) for f in model._meta.concrete_fields}
    choices = {f.name: {k: str(v) for k, v in f.choices} for f in model._meta.concrete_fields if f.choices}
    deltas = []
    unit_ids: set[int] = set()
    resident_ids: set[int] = set()
    for i, v in enumerate(rows[:limit]):
        older = rows[i + 1] if i + 1 < len(rows) else None
        delta = v.diff_against(older, excluded_fields=HISTORY_NOISE).changes if older is not None else []
        for c in delta:
            ids = {x for x in (c.old, c.new) if x}
            if c.field == "unit":
                unit_ids |= ids
            elif c.field in ("mother", "father", "child"):
                resident_ids |= ids
        deltas.append((v, delta))
    units = dict(OrgUnit.objects.filter(pk__in=unit_ids).values_list("pk", "name"))
    residents = dict(Resident.objects.filter(pk__in=resident_ids).values_list("pk", "name"))

    def shown(field: str, value: Any) -> str:
        if value is None or value == "":
            return "—"
        if field in ID_FIELDS:
            return mask_id_number(str(value))
        if field == "unit":
            return str(units.get(value, value))
        if field in ("mother", "father", "child"):
            return str(residents.get(value, value))
        if field in choices:
            return choices[field].get(value, str(value))
        if isinstance(value, bool):
            return _("是") if value else _("否")
        if isinstance(value, dt.datetime):
            return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
        if isinstance(value, dt.date):
            return f"{value:%Y-%m-%d}"
        return str(value)

    return [
        {
            "at": v.history_date,
            "by": v.history_user or "—",
            "kind": v.history_type,
            "reason": v.history_change_reason or "",
            "changes": [
                {"label": labels.get(c.field, c.field), "old": shown(c.field, c.old), "new": shown(c.field, c.new)}
                for c in delta
            ],
        }
        for v, delta in deltas
    ]


# ---- dashboard ----------------------------------------------------------------------------------------------


def _by_order_and_sex(request: AuthedRequest, unit: OrgUnit, period: Period) -> dict[str, list[int]]:
    params = {"start": period.start, "end": period.end}
    male, female = [0, 0, 0], [0, 0, 0]
    rows = selectors.filter_births(request.user, params, unit=unit).order_by().values("birth_order", "sex")
    for row in rows.annotate(n=Count("id")):
        (male if row["sex"] == Sex.MALE else female)[min(row["birth_order"], 3) - 1] += row["n"]
    return {"male": male, "female": female}


@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    unit = _unit_param(request) or _home_unit(request)
    if unit is None:
        return render(request, "familyplanning/dashboard.html", {"unit": None})
    today = _today()
    year, error = _year_param(request, today)
    period = Period.year(year, today=today)
    stats = selectors.birth_statistics(unit, period)
    own = request.user.org_unit
    crumbs = [u for u in unit.ancestors() if own is None or u.path.startswith(own.path)]
    children = [
        (child, selectors.filter_births(request.user, {"start": period.start, "end": period.end}, unit=child).count())
        for child in OrgUnit.objects.filter(parent=unit, retired_on__isnull=True).order_by("code")
    ]
    by_month = selectors.births_by_month(unit, year)
    by_order = _by_order_and_sex(request, unit, period)
    boys, girls = _("男"), _("女")
    chart = {
        "months": [_("%(m)s月") % {"m": m} for m in range(1, 13)],
        "orders": [_("一孩"), _("二孩"), _("三孩及以上")],
        "series": {"male": boys, "female": girls},
        "by_month": by_month,
        "by_order": by_order,
        "titles": {"month": _("各月出生人数"), "order": _("按孩次、性别")},
    }
    return render(
        request,
        "familyplanning/dashboard.html",
        {
            "unit": unit,
            "year": year,
            "years": list(range(today.year, max(FIRST_YEAR, today.year - 10) - 1, -1)),
            "period": period,
            "partial": period.end != dt.date(year, 12, 31),
            "error": error,
            "s": stats,
            "crumbs": crumbs,
            "children": children,
            "special": selectors.special_families(unit, period.end),
            "visits": selectors.visit_year(unit, year),
            "chart": chart,
            "late_days": LATE_DAYS,
            "late": len(selectors.late_entries(unit, period, days=LATE_DAYS)),
            "policy": user_policy(request.user),
        },
    )


# ---- births -------------------------------------------------------------------------------------------------


def _birth_filters(request: AuthedRequest) -> tuple[BirthFilterForm, OrgUnit | None, QuerySet[Birth]]:
    unit = _unit_param(request)
    form = BirthFilterForm(request.GET or None, units=_filter_units(request, unit))
    params = _cleaned(form)
    params.pop("unit", None)
    return form, unit, selectors.filter_births(request.user, params, unit=unit)


def _birth_row(b: Birth) -> dict[str, Any]:
    return {
        "obj": b,
        "order": order_label(b.birth_order),
        "mother_id": _masked_or_blank(b.mother_id_number),
        "days": b.days_to_entry,
        "late": b.days_to_entry > LATE_DAYS,
    }


@login_required
def birth_list(request: AuthedRequest) -> HttpResponse:
    form, unit, qs = _birth_filters(request)
    page: Page[Birth] = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "familyplanning/birth_list.html",
        {
            "form": form,
            "unit": unit,
            "page": page,
            "rows": [_birth_row(b) for b in page.object_list],
            "query_string": _query_without_page(request),
            "late_days": LATE_DAYS,
            "policy": user_policy(request.user),
        },
    )


@login_required
def birth_export(request: AuthedRequest) -> HttpResponse:
    """Every birth matching the ledger's filters (not one page); ID numbers masked."""
    require(request.user, "can_export")
    _form, _unit, qs = _birth_filters(request)
    births = list(qs)
    communities = selectors.community_names({b.unit_id for b in births})
    headers = [
        _("婴儿姓名"),
        _("性别"),
        _("出生日期"),
        _("孩次"),
        _("母亲姓名"),
        _("母亲证件号码"),
        _("父亲姓名"),
        _("出生地点"),
        _("社区"),
        _("录入日期"),
        _("录入滞后（天）"),
        _("生育服务登记"),
        _("政策外生育"),
    ]
    yes, no = _("是"), _("否")
    rows = [
        [
            b.child_name,
            b.get_sex_display(),
            b.birth_date,
            order_label(b.birth_order),
            b.mother_name,
            _masked_or_blank(b.mother_id_number),
            b.father_name,
            b.place,
            communities.get(b.unit_id, ""),
            b.entered_on,
            b.days_to_entry,
            b.registration.registered_on if b.registration else "",
            yes if b.out_of_policy else no,
        ]
        for b in births
    ]
    content = workbook_bytes(headers, rows, sheet_title=_("出生登记"))
    log_access(
        user=request.user, action=AccessAction.EXPORT, object_type="birth", filters=_filter_log(request), rows=len(rows)
    )
    return xlsx_response(_stamp_name(_("出生登记台账")), content)


def _birth_data(cd: dict[str, Any], mother: services.Parent, father: services.Parent) -> services.BirthData:
    return services.BirthData(
        child_name=cd["child_name"],
        sex=cd["sex"],
        birth_date=cd["birth_date"],
        birth_order=cd["birth_order"],
        mother=mother,
        father=father,
        place=cd.get("place") or "",
        out_of_policy=bool(cd.get("out_of_policy")),
        out_of_policy_reason=cd.get("out_of_policy_reason") or "",
    )


def _couple(request: AuthedRequest, form: CoupleForm) -> tuple[services.Parent, services.Parent, OrgUnit]:
    """Mother, father and unit of a birth or registration form; every problem raised at once."""
    cd = form.cleaned_data
    errors: dict[str, list[str]] = {}
    mother = father = services.Parent()
    try:
        mother = _parent(request, cd, "mother")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        father = _parent(request, cd, "father")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    unit: OrgUnit | None = None
    if not errors:
        try:
            unit = _record_unit(request, cd, mother)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors or unit is None:
        raise ValidationError(errors)
    return mother, father, unit


@login_required
def birth_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, "can_write")
    form = BirthForm(request.POST or None, units=_writable_units(request))
    if request.method == "POST" and form.is_valid():
        try:
            mother, father, unit = _couple(request, form)
            birth = services.record_birth(
                data=_birth_data(form.cleaned_data, mother, father), unit=unit, by=request.user
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已登记出生：%(name)s") % {"name": birth.child_name})
            return redirect("familyplanning:birth_detail", pk=birth.pk)
    return render(request, "familyplanning/birth_form.html", {"form": form})


def _birth(request: AuthedRequest, pk: int) -> Birth:
    # Retired births stay readable (with their history): nothing is deleted.
    try:
        return scoped(Birth.objects.all(), request.user).select_related("unit", "registration").get(pk=pk)
    except Birth.DoesNotExist:
        raise Http404 from None


@login_required
def birth_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    birth = _birth(request, pk)
    return render(
        request,
        "familyplanning/birth_detail.html",
        {
            "b": birth,
            "order": order_label(birth.birth_order),
            "mother_id": _masked_or_blank(birth.mother_id_number),
            "father_id": _masked_or_blank(birth.father_id_number),
            "versions": _versions(birth),
            "retire_form": ReasonForm(),
            "late": birth.days_to_entry > LATE_DAYS,
            "policy": user_policy(request.user),
        },
    )


@login_required
@require_POST
def birth_retire(request: AuthedRequest, pk: int) -> HttpResponse:
    birth = _birth(request, pk)
    require(request.user, "can_write")
    try:
        services.retire_birth(birth=birth, reason=request.POST.get("reason", ""), by=request.user)
    except ValidationError as exc:
        for msg in exc.messages:
            messages.error(request, msg)
    else:
        messages.success(request, _("已作废出生登记：%(name)s") % {"name": birth.child_name})
    return redirect("familyplanning:birth_detail", pk=birth.pk)


# ---- birth-service registrations ----------------------------------------------------------------------------


def _registration_filters(
    request: AuthedRequest,
) -> tuple[RegistrationFilterForm, OrgUnit | None, QuerySet[BirthServiceRegistration]]:
    unit = _unit_param(request)
    form = RegistrationFilterForm(request.GET or None, units=_filter_units(request, unit))
    qs = selectors.filter_registrations(request.user, _cleaned(form), unit=unit)
    return form, unit, qs


def _births_of(registrations: Iterable[BirthServiceRegistration]) -> dict[int, Birth]:
    ids = [r.pk for r in registrations]
    births = Birth.objects.filter(registration_id__in=ids, retired_at__isnull=True)
    return {b.registration_id: b for b in births if b.registration_id is not None}


@login_required
def registration_list(request: AuthedRequest) -> HttpResponse:
    form, unit, qs = _registration_filters(request)
    page: Page[BirthServiceRegistration] = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    births = _births_of(page.object_list)
    rows = [
        {
            "obj": r,
            "order": order_label(r.birth_order),
            "mother_id": _masked_or_blank(r.mother_id_number),
            "birth": births.get(r.pk),
        }
        for r in page.object_list
    ]
    return render(
        request,
        "familyplanning/registration_list.html",
        {
            "form": form,
            "unit": unit,
            "page": page,
            "rows": rows,
            "query_string": _query_without_page(request),
            "policy": user_policy(request.user),
        },
    )


@login_required
def registration_export(request: AuthedRequest) -> HttpResponse:
    require(request.user, "can_export")
    _form, _unit, qs = _registration_filters(request)
    registrations = list(qs)
    births = _births_of(registrations)
    communities = selectors.community_names({r.unit_id for r in registrations})
    headers = [
        _("女方姓名"),
        _("女方证件号码"),
        _("男方姓名"),
        _("登记孩次"),
        _("登记日期"),
        _("状态"),
        _("状态说明"),
        _("社区"),
        _("婴儿"),
        _("出生日期"),
    ]
    rows = []
    for r in registrations:
        birth = births.get(r.pk)
        rows.append(
            [
                r.mother_name,
                _masked_or_blank(r.mother_id_number),
                r.father_name,
                order_label(r.birth_order),
                r.registered_on,
                r.get_status_display(),
                r.status_reason,
                communities.get(r.unit_id, ""),
                birth.child_name if birth else "",
                birth.birth_date if birth else "",
            ]
        )
    content = workbook_bytes(headers, rows, sheet_title=_("生育服务登记"))
    log_access(
        user=request.user,
        action=AccessAction.EXPORT,
        object_type="birth_registration",
        filters=_filter_log(request),
        rows=len(rows),
    )
    return xlsx_response(_stamp_name(_("生育服务登记台账")), content)


# Registration errors speak of 女方/男方; the form fields are the same as the birth form's.
REGISTRATION_ERROR_FIELDS = {"mother": "mother_id_number", "father": "father_id_number"}


@login_required
def registration_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, "can_write")
    form = RegistrationForm(request.POST or None, units=_writable_units(request), initial={"registered_on": _today()})
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            mother, father, unit = _couple(request, form)
            reg = services.record_registration(
                unit=unit,
                mother=mother,
                father=father,
                birth_order=cd["birth_order"],
                registered_on=cd["registered_on"],
                by=request.user,
            )
        except ValidationError as exc:
            _add_errors(form, exc, mapping=REGISTRATION_ERROR_FIELDS)
        else:
            messages.success(
                request,
                _("已登记生育服务：%(name)s（%(order)s）")
                % {"name": reg.mother_name, "order": order_label(reg.birth_order)},
            )
            return redirect("familyplanning:registration_detail", pk=reg.pk)
    return render(request, "familyplanning/registration_form.html", {"form": form})


def _registration(request: AuthedRequest, pk: int) -> BirthServiceRegistration:
    try:
        return selectors.registrations_for(request.user).get(pk=pk)
    except BirthServiceRegistration.DoesNotExist:
        raise Http404 from None


@login_required
def registration_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    reg = _registration(request, pk)
    return render(
        request,
        "familyplanning/registration_detail.html",
        {
            "r": reg,
            "order": order_label(reg.birth_order),
            "mother_id": _masked_or_blank(reg.mother_id_number),
            "father_id": _masked_or_blank(reg.father_id_number),
            "birth": _births_of([reg]).get(reg.pk),
            "versions": _versions(reg),
            "can_cancel": reg.status == RegistrationStatus.REGISTERED,
            "policy": user_policy(request.user),
        },
    )


@login_required
@require_POST
def registration_cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    reg = _registration(request, pk)
    require(request.user, "can_write")
    try:
        services.cancel_registration(registration=reg, reason=request.POST.get("reason", ""), by=request.user)
    except ValidationError as exc:
        for msg in exc.messages:
            messages.error(request, msg)
    else:
        messages.success(request, _("已注销生育服务登记：%(name)s") % {"name": reg.mother_name})
    return redirect("familyplanning:registration_detail", pk=reg.pk)


# ---- holiday visits ----------------------------------------------------------------------------------------


def _visits(request: AuthedRequest, unit: OrgUnit, year: int) -> QuerySet[Visit]:
    return (
        selectors.visits_for(request.user)
        .filter(unit.subtree_q("unit__"), date__year=year)
        .annotate(n_people=Count("people"))
        .order_by("-date", "-id")
    )


@login_required
def visit_list(request: AuthedRequest) -> HttpResponse:
    unit = _unit_param(request) or _home_unit(request)
    if unit is None:
        raise Http404
    today = _today()
    year, error = _year_param(request, today)
    page: Page[Visit] = Paginator(_visits(request, unit, year), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "familyplanning/visit_list.html",
        {
            "unit": unit,
            "year": year,
            "years": list(range(today.year, max(FIRST_YEAR, today.year - 10) - 1, -1)),
            "error": error,
            "totals": selectors.visit_year(unit, year),
            "page": page,
            "units": _filter_units(request, unit),
            "query_string": _query_without_page(request),
            "policy": user_policy(request.user),
        },
    )


@login_required
def visit_export(request: AuthedRequest) -> HttpResponse:
    require(request.user, "can_export")
    unit = _unit_param(request) or _home_unit(request)
    if unit is None:
        raise Http404
    year, _error = _year_param(request, _today())
    visits = list(_visits(request, unit, year).prefetch_related("people"))
    headers = [_("日期"), _("节日/事由"), _("慰问内容"), _("户数"), _("人数"), _("慰问对象"), _("备注")]
    rows = [
        [
            v.date,
            v.occasion,
            v.given,
            len({p.household_id or -p.pk for p in v.people.all()}),
            v.n_people,  # type: ignore[attr-defined]
            "、".join(p.name for p in v.people.all()),
            v.note,
        ]
        for v in visits
    ]
    totals = selectors.visit_year(unit, year)
    title = _("%(unit)s %(year)s年慰问：%(visits)s次，%(households)s户，%(people)s人") % {
        "unit": unit.name,
        "year": year,
        "visits": totals.visits,
        "households": totals.households,
        "people": totals.people,
    }
    content = workbook_bytes(headers, rows, sheet_title=_("慰问"), title=title)
    log_access(
        user=request.user, action=AccessAction.EXPORT, object_type="visit", filters=_filter_log(request), rows=len(rows)
    )
    return xlsx_response(_stamp_name(_("慰问台账")), content)


def _visit_candidates(request: AuthedRequest, unit: OrgUnit) -> list[tuple[Resident, str]]:
    """The people covered by current special-assistance enrollments in the unit, with what they receive."""
    today = _today()
    enrollments = (
        selectors.beneficiaries_for(request.user)
        .filter(
            unit.subtree_q("unit__"),
            scheme__category=SchemeCategory.SPECIAL_ASSISTANCE,
            start_month__lte=today,
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .prefetch_related(
            Prefetch("members", queryset=Resident.objects.select_related("unit", "household", "household__unit"))
        )
        .order_by("unit__path", "id")
    )
    schemes: dict[int, list[str]] = {}
    people: dict[int, Resident] = {}
    for enrollment in enrollments:
        for m in enrollment.members.all():
            if m.retired_at is not None or m.left_on is not None:
                continue
            people.setdefault(m.pk, m)
            labels = schemes.setdefault(m.pk, [])
            if enrollment.scheme.label not in labels:
                labels.append(enrollment.scheme.label)
    return [(p, "、".join(schemes[p.pk])) for p in people.values()]


@login_required
def visit_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, "can_write")
    raw_unit = request.POST.get("unit") if request.method == "POST" else request.GET.get("unit")
    unit: OrgUnit | None
    if raw_unit:
        try:
            unit = visible_units(request.user).get(pk=int(raw_unit))
        except (ValueError, OrgUnit.DoesNotExist):
            raise Http404 from None
    else:
        unit = _home_unit(request)
    if unit is None:
        raise Http404
    candidates = _visit_candidates(request, unit)
    by_pk = {p.pk: p for p, _label in candidates}
    choices = [(p.pk, p.name) for p, _label in candidates]
    initial = {"unit": unit.pk, "date": _today(), "people": list(by_pk)}
    form = VisitForm(request.POST or None, people=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            visit = services.record_visit(
                unit=unit,
                date=cd["date"],
                occasion=cd["occasion"],
                given=cd["given"],
                note=cd.get("note") or "",
                people=[by_pk[pk] for pk in cd["people"]],
                by=request.user,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _("已登记慰问：%(date)s %(occasion)s，%(n)s人")
                % {"date": f"{visit.date:%Y-%m-%d}", "occasion": visit.occasion, "n": len(cd["people"])},
            )
            return redirect(f"{reverse('familyplanning:visit_list')}?unit={unit.pk}&year={visit.date.year}")
    checked = {int(x) for x in form["people"].value() or [] if str(x).isdigit()}
    people = [
        {"obj": p, "schemes": label, "checked": p.pk in checked, "id_number": _masked_or_blank(p.id_number)}
        for p, label in candidates
    ]
    return render(
        request,
        "familyplanning/visit_form.html",
        {
            "form": form,
            "unit": unit,
            "people": people,
            "occasions": OCCASIONS,
            "units": _filter_units(request, unit),
        },
    )


urlpatterns: list[URLPattern] = [
    path("", dashboard, name="dashboard"),
    path("births/", birth_list, name="birth_list"),
    path("births/export/", birth_export, name="birth_export"),
    path("births/new/", birth_create, name="birth_create"),
    path("births/<int:pk>/", birth_detail, name="birth_detail"),
    path("births/<int:pk>/retire/", birth_retire, name="birth_retire"),
    path("registrations/", registration_list, name="registration_list"),
    path("registrations/export/", registration_export, name="registration_export"),
    path("registrations/new/", registration_create, name="registration_create"),
    path("registrations/<int:pk>/", registration_detail, name="registration_detail"),
    path("registrations/<int:pk>/cancel/", registration_cancel, name="registration_cancel"),
    path("visits/", visit_list, name="visit_list"),
    path("visits/export/", visit_export, name="visit_export"),
    path("visits/new/", visit_create, name="visit_create"),
]
