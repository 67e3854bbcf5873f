"""计生 pages: schemes and their standards, beneficiaries, annual applications and their documents.

Reads go through familyplanning.selectors (scoped to the user's subtree), writes through
familyplanning.services; a record outside the subtree answers 404. Amounts, eligibility and
back-pay are worked out by the services, never here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, QuerySet, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
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
from core.pages import cleaned as _cleaned
from core.pages import query_without_page as _query_without_page
from core.scoping import visible_units
from familyplanning import documents, selectors, services
from familyplanning.models import Application, Beneficiary, PaymentUnit, Scheme, Standard
from familyplanning.scheme_forms import (
    ApplicationForm,
    BackPayForm,
    BeneficiaryFilterForm,
    EndEnrollmentForm,
    EnrollForm,
    SchemeForm,
    StandardForm,
)
from orgunits.models import Level, OrgUnit
from registry.models import Resident
from registry.selectors import residents_for

PAGE_SIZE = 50
LINES_PAGE_SIZE = 100
DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# ---- helpers ----------------------------------------------------------------------------------------------------


def _add_errors(form: Any, exc: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """Service errors next to their field when the form shows it (under its alias), above the form otherwise."""
    visible = {f.name for f in form.visible_fields()}
    for key, msgs in exc.message_dict.items():
        name = (aliases or {}).get(key, key)
        form.add_error(name if name in visible else None, msgs)


def _messages_of(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(exc.messages)


def _filter_units(request: AuthedRequest) -> QuerySet[OrgUnit]:
    """The units a list can be narrowed to or an application made for: streets and communities in scope."""
    return (
        visible_units(request.user)
        .filter(level__in=[Level.STREET, Level.COMMUNITY], retired_on__isnull=True)
        .order_by("path")
    )


def _unit_param(request: AuthedRequest) -> OrgUnit | None:
    raw = request.GET.get("unit")
    if not raw:
        return None
    try:
        return visible_units(request.user).get(pk=int(raw))
    except (ValueError, OrgUnit.DoesNotExist):
        raise Http404 from None


def _person_not_found() -> str:
    return _("未找到该证件号码的居民（或不在您的管辖范围内）")


def _attachment(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


# ---- schemes and standards --------------------------------------------------------------------------------------


@login_required
def scheme_list(request: AuthedRequest) -> HttpResponse:
    """Every scheme (schemes are shared data, not scoped) with its standards as a timeline."""
    today = timezone.localdate()
    standards = Standard.objects.select_related("created_by").order_by("attribute_value", "valid_from")
    schemes = Scheme.objects.prefetch_related(Prefetch("standards", queryset=standards))
    enrolled = dict(
        selectors.beneficiaries_for(request.user)
        .filter(end_date__isnull=True)
        .order_by()
        .values("scheme_id")
        .annotate(n=Count("id"))
        .values_list("scheme_id", "n")
    )
    rows = [
        {
            "scheme": s,
            "enrolled": enrolled.get(s.pk, 0),
            "standards": [
                {"obj": st, "current": st.valid_from <= today and (st.valid_to is None or today <= st.valid_to)}
                for st in s.standards.all()
            ],
        }
        for s in schemes
    ]
    return render(request, "familyplanning/scheme_list.html", {"rows": rows, "policy": user_policy(request.user)})


@login_required
def scheme_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, "can_manage_schemes")
    form = SchemeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            scheme = services.create_scheme(**form.cleaned_data, by=request.user)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已新增扶助项目：%(name)s。请为它设置标准。") % {"name": scheme.name})
            return redirect("familyplanning:standard_create", pk=scheme.pk)
    return render(request, "familyplanning/scheme_form.html", {"form": form})


@login_required
def standard_create(request: AuthedRequest, pk: int) -> HttpResponse:
    require(request.user, "can_manage_schemes")
    scheme = get_object_or_404(Scheme, pk=pk)
    form = StandardForm(request.POST or None, scheme=scheme)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            standard = services.add_standard(
                scheme=scheme,
                amount=cd["amount"],
                valid_from=cd["valid_from"],
                valid_to=cd.get("valid_to"),
                attribute_value=cd.get("attribute_value") or "",
                reason=cd.get("reason") or "",
                by=request.user,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _("已设置“%(scheme)s”新标准：%(amount)s元，自%(date)s起")
                % {"scheme": scheme.name, "amount": standard.amount, "date": standard.valid_from.isoformat()},
            )
            return redirect(reverse("familyplanning:scheme_list") + f"#scheme-{scheme.pk}")
    existing = scheme.standards.select_related("created_by").order_by("attribute_value", "valid_from")
    return render(
        request, "familyplanning/scheme_standard_form.html", {"form": form, "scheme": scheme, "existing": existing}
    )


# ---- beneficiaries ----------------------------------------------------------------------------------------------


def _beneficiary_filters(request: AuthedRequest) -> tuple[BeneficiaryFilterForm, QuerySet[Beneficiary]]:
    unit = _unit_param(request)
    units = list(_filter_units(request)[:500])
    if unit is not None and unit not in units:
        units.append(unit)
    form = BeneficiaryFilterForm(request.GET or None, schemes=list(Scheme.objects.all()), units=units)
    qs = selectors.filter_beneficiaries(request.user, _cleaned(form), unit=unit)
    return form, qs.annotate(n_members=Count("members"))


@login_required
def beneficiary_list(request: AuthedRequest) -> HttpResponse:
    form, qs = _beneficiary_filters(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    policy = user_policy(request.user)
    communities = selectors.community_names({b.unit_id for b in page.object_list})
    rows = [
        {
            "obj": b,
            "id_number": mask_id_number(b.person.id_number),
            "community": communities.get(b.unit_id, ""),
            "bank_account": documents.shown_bank_account(b.bank_account, reveal=policy.sees_full_id_number),
        }
        for b in page.object_list
    ]
    return render(
        request,
        "familyplanning/beneficiary_list.html",
        {"form": form, "page": page, "rows": rows, "query_string": _query_without_page(request), "policy": policy},
    )


@login_required
def beneficiary_export(request: AuthedRequest) -> HttpResponse:
    """Every row matching the list's filters; full ID and account numbers only on request, for roles that may."""
    require(request.user, "can_export")
    reveal = request.GET.get("reveal") == "1"
    if reveal:
        require(request.user, "sees_full_id_number")
    _form, qs = _beneficiary_filters(request)
    headers = [
        _("扶助项目"),
        _("姓名"),
        _("证件号码"),
        _("所在社区"),
        _("依据取值"),
        _("起始月份"),
        _("终止日期"),
        _("终止原因"),
        _("涉及人数"),
        _("已核验材料"),
        _("银行账号"),
        _("备注"),
    ]
    count = 0
    beneficiaries = list(qs)
    communities = selectors.community_names({b.unit_id for b in beneficiaries})

    def rows() -> Iterator[list[Any]]:
        nonlocal count
        for b in beneficiaries:
            count += 1
            yield [
                b.scheme.name,
                b.person.name,
                b.person.id_number if reveal else mask_id_number(b.person.id_number),
                communities.get(b.unit_id, ""),
                b.attribute_value,
                b.start_month.strftime("%Y-%m"),
                b.end_date,
                b.get_end_reason_display(),
                b.n_members,  # type: ignore[attr-defined]
                "、".join(b.documents),
                documents.shown_bank_account(b.bank_account, reveal=reveal),
                b.note,
            ]

    content = workbook_bytes(headers, rows(), sheet_title=_("扶助对象"))
    log_access(
        user=request.user,
        action=AccessAction.EXPORT,
        object_type="fp_beneficiary",
        filters={k: v for k, v in request.GET.items() if v and k != "page"},
        rows=count,
        full_id_numbers=reveal,
    )
    today = timezone.localdate()
    return xlsx_response(_("扶助对象_%(date)s.xlsx") % {"date": f"{today:%Y%m%d}"}, content)


def _member_label(m: Resident) -> str:
    return f"{m.name}（{m.get_relation_display()}，{mask_id_number(m.id_number)}）"


@login_required
def beneficiary_create(request: AuthedRequest) -> HttpResponse:
    """Enrol a resident found by ID number; for a per-household scheme the user confirms the members covered.

    "查找" (action=lookup) shows who the number belongs to and, for a per-household scheme, the household's
    members, all checked; the members are taken from the form only once the user has seen them for this
    person (``members_for``), so that saving straight away cannot silently cover nobody but the applicant.
    """
    require(request.user, "can_write")
    schemes = list(Scheme.objects.filter(retired_on__isnull=True))
    code = request.POST.get("scheme") or request.GET.get("scheme") or ""
    scheme = next((s for s in schemes if s.code == code), None)
    data = request.POST.copy() if request.method == "POST" else None
    person: Resident | None = None
    household_members: list[Resident] = []
    number = (data.get("id_number") or "").strip().replace(" ", "").upper() if data is not None else ""
    if data is not None:
        if number:
            person = (
                residents_for(request.user)
                .select_related("unit", "household")
                .filter(id_number=number)
                .order_by("pk")
                .first()
            )
        if person is not None and person.household_id:
            household_members = list(
                residents_for(request.user)
                .filter(household_id=person.household_id, left_on__isnull=True)
                .order_by("relation", "birth_date")
            )
            if person not in household_members:
                household_members.insert(0, person)
    per_household = scheme is not None and scheme.payment_unit == PaymentUnit.HOUSEHOLD
    members_shown = per_household and person is not None and bool(household_members)
    member_choices = [(str(m.pk), _member_label(m)) for m in household_members] if members_shown else []
    not_found = False
    if data is not None and data.get("action") == "lookup":
        # Only showing who the number belongs to: the form is redrawn with what was typed, without complaints.
        initial: dict[str, Any] = {k: data.get(k) for k in data if k not in ("documents", "members")}
        initial["documents"] = data.getlist("documents")
        initial["members"] = [pk for pk, _label in member_choices]
        form = EnrollForm(schemes=schemes, scheme=scheme, member_choices=member_choices, initial=initial)
        not_found = person is None and bool(number)
    else:
        confirmed = members_shown and data is not None and data.get("members_for") == str(person.pk if person else "")
        if members_shown and data is not None and not confirmed:
            data.setlist("members", [pk for pk, _label in member_choices])
        form = EnrollForm(data, schemes=schemes, scheme=scheme, member_choices=member_choices, initial={"scheme": code})
        if data is not None and form.is_valid():
            if person is None:
                form.add_error("id_number", _person_not_found())
            elif members_shown and not confirmed:
                messages.info(request, _("请确认本户涉及的人员，然后再次点击“登记”。"))
            else:
                beneficiary = _enroll(request, form, person, household_members, schemes, per_household=per_household)
                if beneficiary is not None:
                    return redirect("familyplanning:beneficiary_detail", pk=beneficiary.pk)
        elif data is not None and person is None and data.get("id_number") and "id_number" not in form.errors:
            form.add_error("id_number", _person_not_found())
    if not members_shown:
        del form.fields["members"]
    return render(
        request,
        "familyplanning/beneficiary_form.html",
        {
            "form": form,
            "scheme": scheme,
            "person": person,
            "person_id_masked": mask_id_number(person.id_number) if person else "",
            "members_shown": members_shown,
            "not_found": not_found,
        },
    )


def _enroll(
    request: AuthedRequest,
    form: EnrollForm,
    person: Resident,
    household_members: list[Resident],
    schemes: list[Scheme],
    *,
    per_household: bool,
) -> Beneficiary | None:
    cd = form.cleaned_data
    chosen = set(cd.get("members") or [])
    try:
        beneficiary = services.enroll(
            scheme=next(s for s in schemes if s.code == cd["scheme"]),
            person=person,
            start_month=cd["start_month"],
            by=request.user,
            household=person.household if per_household else None,
            members=[m for m in household_members if str(m.pk) in chosen],
            attribute_value=cd.get("attribute_value") or "",
            documents=cd.get("documents") or [],
            bank_account=cd.get("bank_account") or "",
            note=cd.get("note") or "",
        )
    except ValidationError as exc:
        _add_errors(form, exc, {"person": "id_number", "household": "id_number"})
        return None
    except PermissionDenied:
        form.add_error("id_number", _person_not_found())
        return None
    messages.success(
        request,
        _("已登记扶助对象：%(name)s（%(scheme)s）")
        % {"name": beneficiary.person.name, "scheme": beneficiary.scheme.name},
    )
    return beneficiary


def _beneficiary(request: AuthedRequest, pk: int) -> Beneficiary:
    try:
        return selectors.beneficiaries_for(request.user).get(pk=pk)
    except Beneficiary.DoesNotExist:
        raise Http404 from None


def _distinct_versions(history: Any) -> list[Any]:
    """Newest first, without the echo version simple-history writes when the members are set."""
    fields = ("history_change_reason", "end_date", "end_reason", "attribute_value", "bank_account", "note")
    kept: list[Any] = []
    for v in history:
        if kept and all(getattr(v, f) == getattr(kept[-1], f) for f in fields):
            continue
        kept.append(v)
    return kept[::-1][:50]


def _beneficiary_page(
    request: AuthedRequest, beneficiary: Beneficiary, end_form: EndEnrollmentForm | None = None
) -> HttpResponse:
    policy = user_policy(request.user)
    b = beneficiary
    versions = _distinct_versions(b.history.select_related("history_user").order_by("history_date", "history_id"))
    members = [
        {"obj": m, "id_number": mask_id_number(m.id_number)} for m in b.members.order_by("relation", "birth_date")
    ]
    lines = b.application_lines.select_related("application", "application__unit").annotate(
        back_pay=Sum("adjustment_lines__amount")
    )
    return render(
        request,
        "familyplanning/beneficiary_detail.html",
        {
            "b": b,
            "id_masked": mask_id_number(b.person.id_number),
            "community": selectors.community_names([b.unit_id]).get(b.unit_id, ""),
            "bank_account": documents.shown_bank_account(b.bank_account, reveal=policy.sees_full_id_number),
            "members": members,
            "versions": versions,
            "lines": lines.order_by("-application__year"),
            "policy": policy,
            "end_form": end_form or EndEnrollmentForm(initial={"end_date": timezone.localdate()}),
        },
    )


@login_required
def beneficiary_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return _beneficiary_page(request, _beneficiary(request, pk))


@login_required
@require_POST
def beneficiary_end(request: AuthedRequest, pk: int) -> HttpResponse:
    beneficiary = _beneficiary(request, pk)
    require(request.user, "can_write")
    form = EndEnrollmentForm(request.POST)
    if form.is_valid():
        cd = form.cleaned_data
        try:
            services.end_enrollment(
                beneficiary=beneficiary,
                end_date=cd["end_date"],
                reason=cd["end_reason"],
                note=cd.get("note") or "",
                by=request.user,
            )
        except ValidationError as exc:
            beneficiary.refresh_from_db()
            _add_errors(form, exc)
        else:
            messages.success(request, _("已终止：%(name)s") % {"name": beneficiary.person.name})
            return redirect("familyplanning:beneficiary_detail", pk=pk)
    return _beneficiary_page(request, beneficiary, form)


# ---- applications -----------------------------------------------------------------------------------------------


@login_required
def application_list(request: AuthedRequest) -> HttpResponse:
    qs = selectors.applications_for(request.user).order_by("-year", "unit__path")
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    rows = [{"obj": a, "totals": selectors.application_totals(a)} for a in page.object_list]
    return render(
        request,
        "familyplanning/application_list.html",
        {"page": page, "rows": rows, "query_string": "", "policy": user_policy(request.user)},
    )


def _preview_page(request: AuthedRequest, form: ApplicationForm) -> HttpResponse:
    context: dict[str, Any] = {"form": form}
    if form.is_bound and form.is_valid():
        unit = _filter_units(request).get(pk=form.cleaned_data["unit"])
        year = form.cleaned_data["year"]
        preview = services.preview_application(unit=unit, year=year, by=request.user)
        page = Paginator(preview.lines, LINES_PAGE_SIZE).get_page(request.GET.get("page"))
        communities = selectors.community_names({line.beneficiary.unit_id for line in page.object_list})
        context.update(
            unit=unit,
            year=year,
            preview=preview,
            schemes=preview.by_scheme(),
            page=page,
            lines=[
                {
                    "line": line,
                    "id_number": mask_id_number(line.beneficiary.person.id_number),
                    "community": communities.get(line.beneficiary.unit_id, ""),
                }
                for line in page.object_list
            ],
            query_string=urlencode({"unit": unit.pk, "year": year}),
            submitted=selectors.applications_for(request.user).filter(unit=unit, year=year).first(),
        )
    return render(request, "familyplanning/application_preview.html", context)


@login_required
def application_preview(request: AuthedRequest) -> HttpResponse:
    require(request.user, "can_apply_funds")
    units = list(_filter_units(request)[:500])
    form = ApplicationForm(request.GET or None, units=units, initial={"unit": units[0].pk if units else None})
    return _preview_page(request, form)


@login_required
@require_POST
def application_submit(request: AuthedRequest) -> HttpResponse:
    """Submit, then back to the preview with the reasons when refused (so that its links keep working)."""
    require(request.user, "can_apply_funds")
    form = ApplicationForm(request.POST, units=list(_filter_units(request)[:500]))
    preview_url = (
        reverse("familyplanning:application_preview")
        + "?"
        + urlencode({k: request.POST.get(k, "") for k in ("unit", "year")})
    )
    if not form.is_valid():
        for field, msgs in form.errors.items():
            for msg in msgs:
                messages.error(request, f"{form.fields[field].label}：{msg}" if field in form.fields else str(msg))
        return redirect(preview_url)
    unit = _filter_units(request).get(pk=form.cleaned_data["unit"])
    try:
        application = services.submit_application(
            unit=unit, year=form.cleaned_data["year"], by=request.user, note=request.POST.get("note", "")
        )
    except ValidationError as exc:
        for msg in _messages_of(exc):
            messages.error(request, msg)
        return redirect(preview_url)
    messages.success(
        request,
        _("已提交 %(unit)s %(year)s 年度申报，共 %(total)s 元")
        % {"unit": unit.name, "year": application.year, "total": application.total},
    )
    return redirect("familyplanning:application_detail", pk=application.pk)


def _application(request: AuthedRequest, pk: int) -> Application:
    try:
        return selectors.applications_for(request.user).get(pk=pk)
    except Application.DoesNotExist:
        raise Http404 from None


def _application_page(
    request: AuthedRequest,
    application: Application,
    *,
    back_pay_form: BackPayForm | None = None,
) -> HttpResponse:
    policy = user_policy(request.user)
    lines_qs = (
        application.lines.select_related("scheme")
        .annotate(back_pay=Sum("adjustment_lines__amount"))
        .order_by("scheme__sort_order", "scheme__code", "unit__path", "id")
    )
    page = Paginator(lines_qs, LINES_PAGE_SIZE).get_page(request.GET.get("page"))
    communities = selectors.community_names({line.unit_id for line in page.object_list})
    back_pay = services.preview_back_pay(application=application, by=request.user)
    return render(
        request,
        "familyplanning/application_detail.html",
        {
            "a": application,
            "totals": selectors.application_totals(application),
            "page": page,
            "lines": [
                {"obj": line, "id_number": mask_id_number(line.id_number), "community": communities.get(line.unit_id)}
                for line in page.object_list
            ],
            "query_string": "",
            "adjustments": application.adjustments.select_related("created_by"),
            "back_pay": back_pay,
            "back_pay_total": sum(b.back_pay.amount for b in back_pay),
            "back_pay_form": back_pay_form or BackPayForm(),
            "roster_schemes": Scheme.objects.filter(pk__in=application.lines.values("scheme_id")),
            "policy": policy,
        },
    )


@login_required
def application_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return _application_page(request, _application(request, pk))


@login_required
@require_POST
def application_back_pay(request: AuthedRequest, pk: int) -> HttpResponse:
    application = _application(request, pk)
    require(request.user, "can_apply_funds")
    form = BackPayForm(request.POST)
    if form.is_valid():
        try:
            adjustment = services.record_back_pay(
                application=application, reason=form.cleaned_data["reason"], by=request.user
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已登记补发：%(total)s 元") % {"total": adjustment.total})
            return redirect("familyplanning:application_detail", pk=pk)
    return _application_page(request, application, back_pay_form=form)


@login_required
def application_roster(request: AuthedRequest, pk: int) -> HttpResponse:
    """The roster of one scheme (?scheme=code); ?reveal=1 gives full ID and account numbers to roles that may."""
    application = _application(request, pk)
    require(request.user, "can_export")
    scheme = Scheme.objects.filter(
        code=request.GET.get("scheme", ""), pk__in=application.lines.values("scheme_id")
    ).first()
    if scheme is None:
        raise Http404
    reveal = request.GET.get("reveal") == "1"
    if reveal:
        require(request.user, "sees_full_id_number")
    content = documents.roster_xlsx(application, scheme, reveal_ids=reveal)
    log_access(
        user=request.user,
        action=AccessAction.EXPORT,
        object_type="fp_roster",
        object_id=application.pk,
        scheme=scheme.code,
        rows=application.lines.filter(scheme=scheme).count(),
        full_id_numbers=reveal,
    )
    filename = _("%(unit)s_%(year)s年_%(scheme)s花名册.xlsx") % {
        "unit": application.unit.name,
        "year": application.year,
        "scheme": scheme.name,
    }
    return xlsx_response(filename, content)


@login_required
def application_report_docx(request: AuthedRequest, pk: int) -> HttpResponse:
    application = _application(request, pk)
    require(request.user, "can_export")
    content = documents.disbursement_docx(application)
    log_access(user=request.user, action=AccessAction.EXPORT, object_type="fp_report", object_id=application.pk)
    filename = _("%(unit)s_%(year)s年度拨款报告.docx") % {"unit": application.unit.name, "year": application.year}
    return _attachment(content, filename, DOCX_CONTENT_TYPE)


urlpatterns: list[URLPattern] = [
    path("schemes/", scheme_list, name="scheme_list"),
    path("schemes/new/", scheme_create, name="scheme_create"),
    path("schemes/<int:pk>/standards/new/", standard_create, name="standard_create"),
    path("beneficiaries/", beneficiary_list, name="beneficiary_list"),
    path("beneficiaries/export/", beneficiary_export, name="beneficiary_export"),
    path("beneficiaries/new/", beneficiary_create, name="beneficiary_create"),
    path("beneficiaries/<int:pk>/", beneficiary_detail, name="beneficiary_detail"),
    path("beneficiaries/<int:pk>/end/", beneficiary_end, name="beneficiary_end"),
    path("applications/", application_list, name="application_list"),
    path("applications/new/", application_preview, name="application_preview"),
    path("applications/submit/", application_submit, name="application_submit"),
    path("applications/<int:pk>/", application_detail, name="application_detail"),
    path("applications/<int:pk>/back-pay/", application_back_pay, name="application_back_pay"),
    path("applications/<int:pk>/roster/", application_roster, name="application_roster"),
    path("applications/<int:pk>/report.docx", application_report_docx, name="application_report_docx"),
]
