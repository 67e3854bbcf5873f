"""The 计生 ledgers over HTTP (/api/familyplanning/): the same selectors, services, scoping,
permissions and masking as the pages. Lists always show ID numbers masked.
"""

# No `from __future__ import annotations`: ninja's @paginate wraps the views, and the wrapper's
# module could not resolve postponed annotations such as `dt.date` in the query parameters.
import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from accounts.permissions import require
from accounts.rules import mask_id_number, policy
from core.http import AuthedRequest
from core.indicators import Period
from core.scoping import visible_units
from familyplanning import documents, selectors, services
from familyplanning.indicators import familyplanning as familyplanning_indicators
from familyplanning.models import Application, Beneficiary, Birth, BirthServiceRegistration, Scheme, Standard
from orgunits.models import OrgUnit
from registry.models import Resident
from registry.rules import IdNumberError, parse_id_number
from registry.selectors import residents_for

router = Router(tags=["计生"])

FIRST_YEAR = 1949


def _masked(value: str) -> str:
    return mask_id_number(value) if value else ""


def _in_scope_unit(request: AuthedRequest, pk: int | None) -> OrgUnit | None:
    """A unit filter: None when not given, 404 when outside the user's subtree."""
    if pk is None:
        return None
    return get_object_or_404(visible_units(request.user), pk=pk)


def _resident(request: AuthedRequest, pk: int) -> Resident:
    return get_object_or_404(residents_for(request.user).select_related("unit", "household"), pk=pk)


# ---- births and registrations -----------------------------------------------------------------------------------


class BirthOut(Schema):
    id: int
    unit_id: int
    child_id: int | None
    child_name: str
    sex: str
    birth_date: dt.date
    birth_order: int
    place: str
    mother_id: int | None
    mother_name: str
    mother_id_number: str
    father_id: int | None
    father_name: str
    father_id_number: str
    registration_id: int | None
    out_of_policy: bool
    out_of_policy_reason: str
    entered_on: dt.date
    days_to_entry: int

    @staticmethod
    def resolve_mother_id_number(obj: Birth) -> str:
        return _masked(obj.mother_id_number)

    @staticmethod
    def resolve_father_id_number(obj: Birth) -> str:
        return _masked(obj.father_id_number)


class ParentIn(Schema):
    """A parent: ``resident_id`` of a resident in scope, or a name and ID number (a resident in scope
    with that number is linked; anyone else is kept by name and number)."""

    resident_id: int | None = None
    name: str = ""
    id_number: str = ""


class BirthIn(Schema):
    child_name: str
    sex: str
    birth_date: dt.date
    birth_order: int
    mother: ParentIn
    father: ParentIn | None = None
    unit_id: int | None = None
    child_id: int | None = None
    place: str = ""
    out_of_policy: bool = False
    out_of_policy_reason: str = ""
    registration_id: int | None = None


def _parent(request: AuthedRequest, given: ParentIn | None, field: str) -> services.Parent:
    if given is None:
        return services.Parent()
    if given.resident_id is not None:
        return services.Parent(resident=_resident(request, given.resident_id))
    raw = (given.id_number or "").strip().replace(" ", "").upper()
    number = raw
    if len(raw) in (15, 18) and raw[:-1].isdigit():
        try:
            number = parse_id_number(raw).number
        except IdNumberError as exc:
            raise ValidationError({field: str(exc)}) from None
    if number:
        resident = residents_for(request.user).select_related("unit").filter(id_number=number).first()
        if resident is not None:
            return services.Parent(resident=resident)
    return services.Parent(name=given.name, id_number=number)


def _record_unit(request: AuthedRequest, unit_id: int | None, mother: services.Parent) -> OrgUnit:
    if unit_id is not None:
        # A unit that exists but lies outside the subtree is refused by the service (403).
        unit = OrgUnit.objects.filter(pk=unit_id).first()
        if unit is None:
            raise Http404
        return unit
    if mother.resident is not None:
        return mother.resident.unit
    raise ValidationError({"unit_id": _("母亲不是在册居民，请指定所在单位（unit_id）")})


@router.get("/births", response=list[BirthOut], summary="出生登记（筛选同页面；母亲/父亲证件号码脱敏）")
@paginate(LimitOffsetPagination)
def list_births(
    request: AuthedRequest,
    q: str = "",
    unit: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    sex: str = "",
    order: str = "",
    late: str = "",
) -> Any:
    params = {"q": q, "start": start, "end": end, "sex": sex, "order": order, "late": late}
    return selectors.filter_births(request.user, params, unit=_in_scope_unit(request, unit))


@router.post("/births", response={201: BirthOut}, summary="登记出生（母亲：resident_id，或姓名+证件号码）")
def create_birth(request: AuthedRequest, payload: BirthIn) -> Any:
    require(request.user, "can_write")
    mother = _parent(request, payload.mother, "mother")
    father = _parent(request, payload.father, "father")
    child = _resident(request, payload.child_id) if payload.child_id is not None else None
    registration = (
        get_object_or_404(selectors.registrations_for(request.user), pk=payload.registration_id)
        if payload.registration_id is not None
        else None
    )
    unit = _record_unit(request, payload.unit_id, mother)
    data = services.BirthData(
        child_name=payload.child_name,
        sex=payload.sex,
        birth_date=payload.birth_date,
        birth_order=payload.birth_order,
        mother=mother,
        father=father,
        place=payload.place,
        child=child,
        out_of_policy=payload.out_of_policy,
        out_of_policy_reason=payload.out_of_policy_reason,
        registration=registration,
    )
    birth = services.record_birth(data=data, unit=unit, by=request.user)
    return Status(201, birth)


class RegistrationOut(Schema):
    id: int
    unit_id: int
    mother_id: int | None
    mother_name: str
    mother_id_number: str
    father_id: int | None
    father_name: str
    father_id_number: str
    birth_order: int
    registered_on: dt.date
    status: str
    status_reason: str

    @staticmethod
    def resolve_mother_id_number(obj: BirthServiceRegistration) -> str:
        return _masked(obj.mother_id_number)

    @staticmethod
    def resolve_father_id_number(obj: BirthServiceRegistration) -> str:
        return _masked(obj.father_id_number)


class RegistrationIn(Schema):
    mother: ParentIn
    father: ParentIn | None = None
    birth_order: int
    registered_on: dt.date
    unit_id: int | None = None


@router.get("/registrations", response=list[RegistrationOut], summary="生育服务登记（证件号码脱敏）")
@paginate(LimitOffsetPagination)
def list_registrations(
    request: AuthedRequest,
    q: str = "",
    unit: int | None = None,
    status: str = "",
    order: str = "",
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Any:
    params = {"q": q, "status": status, "order": order, "start": start, "end": end}
    return selectors.filter_registrations(request.user, params, unit=_in_scope_unit(request, unit))


@router.post("/registrations", response={201: RegistrationOut}, summary="生育服务登记")
def create_registration(request: AuthedRequest, payload: RegistrationIn) -> Any:
    require(request.user, "can_write")
    mother = _parent(request, payload.mother, "mother")
    father = _parent(request, payload.father, "father")
    unit = _record_unit(request, payload.unit_id, mother)
    reg = services.record_registration(
        unit=unit,
        mother=mother,
        father=father,
        birth_order=payload.birth_order,
        registered_on=payload.registered_on,
        by=request.user,
    )
    return Status(201, reg)


# ---- schemes and beneficiaries ----------------------------------------------------------------------------------


class StandardOut(Schema):
    id: int
    attribute_value: str
    amount: Decimal
    valid_from: dt.date
    valid_to: dt.date | None
    reason: str


class SchemeOut(Schema):
    id: int
    code: str
    name: str
    short_name: str
    category: str
    payment_unit: str
    period: str
    attribute_label: str
    attribute_values: list[str]
    retired_on: dt.date | None
    standards: list[StandardOut]

    @staticmethod
    def resolve_attribute_values(obj: Scheme) -> list[str]:
        return obj.attribute_choices

    @staticmethod
    def resolve_standards(obj: Scheme) -> list[Standard]:
        return list(obj.standards.all())


@router.get("/schemes", response=list[SchemeOut], summary="扶助项目及其各期标准")
def list_schemes(request: AuthedRequest) -> Any:
    # Schemes and standards are shared data (set by the district), the same for every unit.
    standards = Prefetch("standards", queryset=Standard.objects.order_by("attribute_value", "valid_from"))
    return Scheme.objects.prefetch_related(standards).order_by("sort_order", "code")


class PersonRef(Schema):
    id: int
    name: str
    id_number: str


def _person(r: Resident) -> dict[str, Any]:
    return {"id": r.pk, "name": r.name, "id_number": _masked(r.id_number)}


class BeneficiaryOut(Schema):
    id: int
    scheme_code: str
    scheme_name: str
    unit_id: int
    person: PersonRef
    household_id: int | None
    members: list[PersonRef]
    attribute_value: str
    start_month: dt.date
    end_date: dt.date | None
    end_reason: str
    end_note: str
    documents: list[str]
    bank_account: str
    note: str

    @staticmethod
    def resolve_scheme_code(obj: Beneficiary) -> str:
        return obj.scheme.code

    @staticmethod
    def resolve_scheme_name(obj: Beneficiary) -> str:
        return obj.scheme.name

    @staticmethod
    def resolve_person(obj: Beneficiary) -> dict[str, Any]:
        return _person(obj.person)

    @staticmethod
    def resolve_members(obj: Beneficiary) -> list[dict[str, Any]]:
        return [_person(m) for m in obj.members.all()]

    @staticmethod
    def resolve_documents(obj: Beneficiary) -> list[str]:
        return [str(d) for d in obj.documents or []]

    @staticmethod
    def resolve_bank_account(obj: Beneficiary, context: Any) -> str:
        # As on the pages: in full only to the roles that see full ID numbers.
        reveal = policy(context["request"].user.role).sees_full_id_number
        return documents.shown_bank_account(obj.bank_account, reveal=reveal)


class EnrollIn(Schema):
    scheme: str  # the scheme's code
    person_id: int
    start_month: dt.date
    attribute_value: str = ""
    members: list[int] = []
    documents: list[str] = []
    bank_account: str = ""
    note: str = ""


class EndIn(Schema):
    end_date: dt.date
    reason: str  # death | moved_out | ineligible
    note: str = ""


def _beneficiary(request: AuthedRequest, pk: int) -> Beneficiary:
    return get_object_or_404(
        selectors.beneficiaries_for(request.user).prefetch_related("members"),
        pk=pk,  # type: ignore[arg-type]
    )


@router.get("/beneficiaries", response=list[BeneficiaryOut], summary="扶助对象（status=active|ended|all）")
@paginate(LimitOffsetPagination)
def list_beneficiaries(
    request: AuthedRequest, scheme: str = "", status: str = "active", q: str = "", unit: int | None = None
) -> Any:
    qs = selectors.filter_beneficiaries(
        request.user, {"scheme": scheme, "status": status, "q": q}, unit=_in_scope_unit(request, unit)
    ).prefetch_related("members")
    return qs


@router.post("/beneficiaries", response={201: BeneficiaryOut}, summary="登记扶助对象")
def enroll(request: AuthedRequest, payload: EnrollIn) -> Any:
    require(request.user, "can_write")
    scheme = Scheme.objects.filter(code=payload.scheme).first()
    if scheme is None:
        raise ValidationError({"scheme": _("没有代码为“%(code)s”的扶助项目") % {"code": payload.scheme}})
    person = _resident(request, payload.person_id)
    members = [_resident(request, pk) for pk in dict.fromkeys(payload.members)]
    b = services.enroll(
        scheme=scheme,
        person=person,
        start_month=payload.start_month,
        by=request.user,
        members=members,
        attribute_value=payload.attribute_value,
        documents=payload.documents,
        bank_account=payload.bank_account,
        note=payload.note,
    )
    return Status(201, _beneficiary(request, b.pk))


@router.post("/beneficiaries/{beneficiary_id}/end", response=BeneficiaryOut, summary="终止享受（死亡/迁出/失去资格）")
def end(request: AuthedRequest, beneficiary_id: int, payload: EndIn) -> Any:
    b = _beneficiary(request, beneficiary_id)
    require(request.user, "can_write")
    services.end_enrollment(
        beneficiary=b, end_date=payload.end_date, reason=payload.reason, note=payload.note, by=request.user
    )
    return _beneficiary(request, b.pk)


# ---- applications -----------------------------------------------------------------------------------------------


class ApplicationOut(Schema):
    id: int
    unit_id: int
    unit_name: str
    year: int
    status: str
    total: Decimal
    note: str
    submitted_by: str
    submitted_at: dt.datetime

    @staticmethod
    def resolve_unit_name(obj: Application) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_submitted_by(obj: Application) -> str:
        return str(obj.submitted_by)


class SchemeTotalOut(Schema):
    scheme_code: str
    scheme_name: str
    lines: int
    people: int
    applied: Decimal
    adjusted: Decimal
    total: Decimal


class LineOut(Schema):
    id: int
    beneficiary_id: int
    scheme_code: str
    unit_id: int
    name: str
    id_number: str
    attribute_value: str
    people: int
    months: int
    detail: str
    amount: Decimal
    adjusted: Decimal


class ApplicationDetail(ApplicationOut):
    applied: Decimal
    adjusted: Decimal
    grand_total: Decimal
    schemes: list[SchemeTotalOut]
    lines: list[LineOut]

    @staticmethod
    def resolve_lines(obj: Application) -> list[dict[str, Any]]:
        return obj.line_rows  # type: ignore[attr-defined, no-any-return]


@router.get("/applications", response=list[ApplicationOut], summary="年度申报")
@paginate(LimitOffsetPagination)
def list_applications(request: AuthedRequest, year: int | None = None, unit: int | None = None) -> Any:
    qs = selectors.applications_for(request.user)
    scope = _in_scope_unit(request, unit)
    if scope is not None:
        qs = qs.filter(unit__path__gte=scope.path, unit__path__lt=scope.path_end)
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by("-year", "unit__path")


@router.get(
    "/applications/{application_id}", response=ApplicationDetail, summary="年度申报明细（分项目合计，证件号码脱敏）"
)
def get_application(request: AuthedRequest, application_id: int) -> Any:
    application = get_object_or_404(selectors.applications_for(request.user), pk=application_id)
    totals = selectors.application_totals(application)
    lines = (
        application.lines.select_related("scheme")
        .prefetch_related("adjustment_lines")
        .order_by("scheme__sort_order", "scheme__code", "id")
    )
    # Set on the instance so that the inherited resolvers (unit name, submitter) still apply.
    application.applied = totals["applied"]  # type: ignore[attr-defined]
    application.adjusted = totals["adjusted"]  # type: ignore[attr-defined]
    application.grand_total = totals["total"]  # type: ignore[attr-defined]
    application.schemes = [  # type: ignore[attr-defined]
        {
            "scheme_code": row["scheme"].code,
            "scheme_name": row["scheme"].name,
            "lines": row["lines"],
            "people": row["people"],
            "applied": row["applied"],
            "adjusted": row["adjusted"],
            "total": row["total"],
        }
        for row in totals["rows"]
    ]
    application.line_rows = [  # type: ignore[attr-defined]
        {
            "id": line.pk,
            "beneficiary_id": line.beneficiary_id,
            "scheme_code": line.scheme.code,
            "unit_id": line.unit_id,
            "name": line.name,
            "id_number": _masked(line.id_number),
            "attribute_value": line.attribute_value,
            "people": line.people,
            "months": line.months,
            "detail": line.detail,
            "amount": line.amount,
            "adjusted": sum((a.amount for a in line.adjustment_lines.all()), Decimal(0)),
        }
        for line in lines
    ]
    return application


# ---- statistics -------------------------------------------------------------------------------------------------


class StatisticsOut(Schema):
    unit_code: str
    unit_name: str
    year: int
    start: dt.date
    end: dt.date
    figures: dict[str, Any]


@router.get(
    "/statistics",
    response=StatisticsOut,
    summary="计生指标（单位代码、年度；键名同 docs/indicators.md，去掉 familyplanning. 前缀）",
)
def statistics(request: AuthedRequest, unit: str, year: int | None = None) -> Any:
    scope = visible_units(request.user).filter(code=unit).first()
    if scope is None:
        raise Http404
    today = timezone.localdate()
    year = today.year if year is None else year
    if not FIRST_YEAR <= year <= today.year:
        raise ValidationError({"year": _("年份应在%(first)s年到今年之间") % {"first": FIRST_YEAR}})
    period = Period.year(year, today=today)
    return {
        "unit_code": scope.code,
        "unit_name": scope.name,
        "year": year,
        "start": period.start,
        "end": period.end,
        "figures": familyplanning_indicators(scope, period),
    }


__all__ = ["router"]
