"""疫苗接种 over HTTP (/api/vaccination/): the same selectors, services, scoping, permissions and
masking as the pages. ID numbers are always masked; phones as the role's policy says.

- ``GET /doses`` the dose ledger (paginated, filters), ``POST /doses`` records a dose (201; refusals 422
  in Chinese by field, nothing stored);
- ``GET /coverage`` coverage by age group and level of a unit's subtree on a date;
- ``GET /reconciliation`` the reconciliation of an age group for a level: the counts per category and
  the people nobody explained, by name.
"""

# No `from __future__ import annotations`: ninja's @paginate wraps the views, and the wrapper's
# module could not resolve postponed annotations such as `dt.date` in the query parameters.
import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from accounts.permissions import require
from accounts.rules import mask_id_number
from core.http import AuthedRequest
from core.pages import unit_by_code
from registry.selectors import residents_for
from vaccination import rules, selectors, services
from vaccination.models import Dose, VaccineProduct

router = Router(tags=["疫苗接种"])


def _on(date: dt.date | None) -> dt.date:
    today = timezone.localdate()
    if date is None:
        return today
    if date > today:
        raise ValidationError({"date": _("日期不能晚于今天")})
    return date


# ---- doses -------------------------------------------------------------------------------------------------------


class DoseOut(Schema):
    id: int
    resident_id: int
    name: str
    id_number: str
    unit_name: str
    product: str
    product_kind: str
    dose_number: int
    date: dt.date
    site: str
    door_to_door: bool
    note: str
    retired: bool

    @staticmethod
    def resolve_name(obj: Dose) -> str:
        return obj.resident.name

    @staticmethod
    def resolve_id_number(obj: Dose) -> str:
        return mask_id_number(obj.resident.id_number)

    @staticmethod
    def resolve_unit_name(obj: Dose) -> str:
        return obj.resident.unit.name

    @staticmethod
    def resolve_product(obj: Dose) -> str:
        return obj.product.code

    @staticmethod
    def resolve_product_kind(obj: Dose) -> str:
        return obj.product.kind

    @staticmethod
    def resolve_retired(obj: Dose) -> bool:
        return obj.retired_at is not None


class DoseIn(Schema):
    resident_id: int
    product: str  # the product's code (GET /api/vaccination/products)
    dose_number: int
    date: dt.date
    site: str = ""
    door_to_door: bool = False
    note: str = ""
    confirm_interval: bool = False


class ProductOut(Schema):
    code: str
    name: str
    manufacturer: str
    kind: str
    course_doses: int
    min_interval_days: int
    booster_needed: bool
    booster_interval_days: int
    retired_on: dt.date | None


@router.get("/products", response=list[ProductOut], summary="疫苗产品及其接种规则")
def list_products(request: AuthedRequest) -> Any:
    return VaccineProduct.objects.order_by("id")


@router.get("/doses", response=list[DoseOut], summary="接种记录（筛选；证件号码脱敏）")
@paginate(LimitOffsetPagination)
def list_doses(
    request: AuthedRequest,
    unit: str = "",
    product: str = "",
    dose_number: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    door_to_door: bool | None = None,
    q: str = "",
    retired: bool = False,
) -> Any:
    params: dict[str, Any] = {"q": q, "dose_number": dose_number, "start": date_from, "end": date_to}
    params["retired"] = retired
    if door_to_door is not None:
        params["door_to_door"] = door_to_door
    if product:
        params["product"] = get_object_or_404(VaccineProduct, code=product)
    scope = unit_by_code(request, unit) if unit else None
    qs: QuerySet[Dose] = selectors.filter_doses(request.user, params, unit=scope)
    return qs


@router.post("/doses", response={201: DoseOut}, summary="登记接种（不合规则的返回422及中文原因，不保存）")
def create_dose(request: AuthedRequest, payload: DoseIn) -> Any:
    resident = get_object_or_404(residents_for(request.user).select_related("unit"), pk=payload.resident_id)
    require(request.user, "can_write")
    product = VaccineProduct.objects.filter(code=payload.product).first()
    if product is None:
        raise ValidationError({"product": _("没有这个疫苗：%(code)s") % {"code": payload.product}})
    data = services.DoseData(
        product=product,
        dose_number=payload.dose_number,
        date=payload.date,
        site=payload.site,
        door_to_door=payload.door_to_door,
        note=payload.note,
        confirm_interval=payload.confirm_interval,
    )
    dose = services.record_dose(resident=resident, data=data, by=request.user)
    return Status(201, Dose.objects.select_related("resident", "resident__unit", "product").get(pk=dose.pk))


# ---- coverage and the reconciliation ---------------------------------------------------------------------------


class CoverageOut(Schema):
    group: str
    label: str
    people: int
    first_dose: int
    full_course: int
    booster: int
    first_dose_percent: float | None
    full_course_percent: float | None
    booster_percent: float | None


class CoverageReport(Schema):
    unit: str
    unit_name: str
    date: dt.date
    groups: list[CoverageOut]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


@router.get("/coverage", response=CoverageReport, summary="各年龄组首针、全程、加强接种人数和接种率")
def coverage(request: AuthedRequest, unit: str = "", date: dt.date | None = None) -> Any:
    scope = unit_by_code(request, unit)
    on = _on(date)
    rows = selectors.coverage_for(request.user, scope, on)
    return {
        "unit": scope.code,
        "unit_name": scope.name,
        "date": on,
        "groups": [
            {
                "group": r.group.key,
                "label": str(r.group.label),
                "people": r.cell.people,
                **{level: r.cell.count(level) for level in rules.LEVELS},
                **{f"{level}_percent": _float(r.cell.percent(level)) for level in rules.LEVELS},
            }
            for r in rows
        ],
    }


class CategoryOut(Schema):
    key: str
    label: str
    count: int
    kind: str


class PersonOut(Schema):
    id: int
    name: str
    sex: str
    age: int
    id_number: str
    phone: str
    community: str
    grid: str
    address: str
    tags: list[str]
    doses: int
    last_dose_on: dt.date | None
    next_due: dt.date | None


class ReconciliationOut(Schema):
    unit: str
    group: str
    level: str
    date: dt.date
    total: int
    base: int
    absent: int
    present: int
    present_vaccinated: int
    categories: list[CategoryOut]
    unexplained: list[PersonOut]


@router.get(
    "/reconciliation",
    response=ReconciliationOut,
    summary="底数核对：某人群某剂次每人的分类（已接种/各原因/不满足间隔/未说明原因）及未说明原因人员名单",
)
def reconciliation(
    request: AuthedRequest,
    unit: str = "",
    group: str = "age_60_plus",
    level: str = rules.FULL_COURSE,
    date: dt.date | None = None,
) -> Any:
    if group not in rules.GROUPS:
        raise ValidationError({"group": _("人群应为 %(keys)s 之一") % {"keys": "、".join(rules.GROUPS)}})
    if level not in rules.LEVELS:
        raise ValidationError({"level": _("剂次应为 %(keys)s 之一") % {"keys": "、".join(rules.LEVELS)}})
    scope = unit_by_code(request, unit)
    on = _on(date)
    result = selectors.reconciliation_for(request.user, scope, group, level, on)
    people = selectors.person_rows(request.user, result.unexplained_ids, on, result.progress)
    return {
        "unit": scope.code,
        "group": group,
        "level": level,
        "date": on,
        "total": result.total,
        "base": result.base,
        "absent": result.tally.absent,
        "present": result.tally.present,
        "present_vaccinated": result.tally.present_vaccinated,
        "categories": [{"key": r.key, "label": r.label, "count": r.count, "kind": r.kind} for r in result.rows],
        "unexplained": [p.as_dict() for p in people],
    }
