"""Writes of vaccination: named, keyword-only, transactional; each checks the user's scope and role.

A dose is checked by rules.dose_problems (before birth, in the future, under 3, dose N without dose
N-1 or dated before it, duplicate number, interval shorter than the product's rule). A correction
retires the wrong record and adds the right one; nothing is deleted. Products and reasons are data
kept by the district administrator (the role that keeps the other shared data, e.g. 计生 schemes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import require, user_policy
from core.audit import stamp
from core.scoping import require_unit
from registry.models import Resident
from vaccination import rules
from vaccination.models import (
    Dose,
    DoseSummary,
    NonVaccinationReason,
    ReasonRecord,
    ReasonScope,
    VaccineKind,
    VaccineProduct,
)

if TYPE_CHECKING:
    from accounts.models import User


def product_rule(product: VaccineProduct) -> rules.ProductRule:
    return rules.ProductRule(
        course_doses=product.course_doses,
        min_interval_days=product.min_interval_days,
        booster_needed=product.booster_needed,
        booster_interval_days=product.booster_interval_days,
        kind=product.kind,
    )


def _check_person(resident: Resident, by: User) -> None:
    require_unit(by, resident.unit)
    require(by, "can_write")
    if resident.retired_at is not None:
        raise ValidationError({"resident": _("该居民记录已作废，不能登记")})


# ---- doses ------------------------------------------------------------------------------------------------------

SUMMARY_CHUNK = 900  # residents per statement (SQLite's old 999-parameter limit)


def refresh_summaries(resident_ids: Iterable[int] | None = None) -> None:
    """Rebuild DoseSummary from the active doses: of the given people, or of everyone (None).

    One DELETE and one INSERT … SELECT … GROUP BY per chunk: the same SQL on SQLite and PostgreSQL.
    """
    q = connection.ops.quote_name
    table, doses = q(DoseSummary._meta.db_table), q(Dose._meta.db_table)
    columns = ", ".join(q(c) for c in ("resident_id", "product_id", "doses", "d1", "d2", "d3", "d4", "last"))
    nth = ", ".join(f"MAX(CASE WHEN dose_number = {k} THEN {q('date')} END)" for k in range(1, 5))
    select = (
        f"SELECT resident_id, MAX(CASE WHEN dose_number = 1 THEN product_id END), COUNT(*), {nth}, "  # noqa: S608
        f"MAX({q('date')}) FROM {doses} WHERE retired_at IS NULL"
    )
    with connection.cursor() as cursor:
        if resident_ids is None:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            cursor.execute(f"INSERT INTO {table} ({columns}) {select} GROUP BY resident_id")
            return
        ids = sorted(set(resident_ids))
        for i in range(0, len(ids), SUMMARY_CHUNK):
            chunk = ids[i : i + SUMMARY_CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"DELETE FROM {table} WHERE resident_id IN ({marks})", chunk)  # noqa: S608
            cursor.execute(
                f"INSERT INTO {table} ({columns}) {select} AND resident_id IN ({marks}) GROUP BY resident_id",
                chunk,
            )


@dataclass
class DoseData:
    product: VaccineProduct
    dose_number: int
    date: dt.date
    site: str = ""
    door_to_door: bool = False
    note: str = ""
    # The interval is shorter than the product's rule and the user confirms the real dates (with a note).
    confirm_interval: bool = False


def check_dose(
    resident: Resident, data: DoseData, *, today: dt.date | None = None, exclude: Dose | None = None
) -> None:
    """Raise ValidationError (keyed by field, Chinese) when the dose cannot be recorded."""
    today = today or timezone.localdate()
    active = Dose.objects.filter(resident=resident, retired_at__isnull=True).select_related("product")
    if exclude is not None:
        active = active.exclude(pk=exclude.pk)
    doses = list(active)
    earlier = {d.dose_number: d.date for d in doses}
    first = next((d.product for d in doses if d.dose_number == 1), None)
    course = product_rule(first if first is not None and data.dose_number != 1 else data.product)
    errors: dict[str, str] = {}
    if data.product.retired_on is not None and data.product.retired_on <= data.date:
        errors["product"] = _("该疫苗产品已于%(date)s停用") % {"date": data.product.retired_on.isoformat()}
    if len(data.site) > 100:
        errors["site"] = _("接种单位过长（最多100个字）")
    problems, warnings = rules.dose_problems(
        birth=resident.birth_date,
        number=data.dose_number,
        date=data.date,
        today=today,
        earlier=earlier,
        course=course,
        replacing=exclude is not None,
    )
    errors.update({k: v for k, v in problems.items() if k not in errors})
    if warnings and not errors:
        if not data.confirm_interval:
            errors.update(warnings)
        elif not data.note.strip():
            errors["note"] = _("间隔不足仍按实际登记时，请在备注中说明原因")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def record_dose(*, resident: Resident, data: DoseData, by: User, today: dt.date | None = None) -> Dose:
    _check_person(resident, by)
    Resident.objects.select_for_update().filter(pk=resident.pk).first()  # one writer per person at a time
    check_dose(resident, data, today=today)
    dose = Dose(
        resident=resident,
        product=data.product,
        dose_number=data.dose_number,
        date=data.date,
        site=data.site.strip(),
        door_to_door=data.door_to_door,
        note=data.note.strip(),
        recorded_by=by,
    )
    stamp(dose, by=by, reason=_("登记接种"))
    try:
        with transaction.atomic():
            dose.save()
    except IntegrityError:
        raise ValidationError({"dose_number": _("第%(n)s剂已登记") % {"n": data.dose_number}}) from None
    refresh_summaries([resident.pk])
    return dose


@transaction.atomic
def correct_dose(*, dose: Dose, data: DoseData, reason: str, by: User, today: dt.date | None = None) -> Dose:
    """The wrong record is retired (kept, with the reason) and the corrected one recorded in its place."""
    resident = dose.resident
    _check_person(resident, by)
    if dose.retired_at is not None:
        raise ValidationError({"dose": _("该记录已作废")})
    if not reason.strip():
        raise ValidationError({"reason": _("请填写更正原因")})
    if data.dose_number != dose.dose_number:
        raise ValidationError({"dose_number": _("更正时不能改变剂次；剂次登记错误请作废后重新登记")})
    Resident.objects.select_for_update().filter(pk=resident.pk).first()
    check_dose(resident, data, today=today, exclude=dose)
    _retire(dose, _("更正：%(reason)s") % {"reason": reason.strip()}, by)
    new = Dose(
        resident=resident,
        product=data.product,
        dose_number=data.dose_number,
        date=data.date,
        site=data.site.strip(),
        door_to_door=data.door_to_door,
        note=data.note.strip(),
        recorded_by=by,
    )
    stamp(new, by=by, reason=_("更正接种记录"))
    new.save()
    refresh_summaries([resident.pk])
    return new


def _retire(dose: Dose, reason: str, by: User) -> None:
    dose.retired_at = timezone.now()
    dose.retired_reason = reason[:200]
    stamp(dose, by=by, reason=reason)
    dose.save(update_fields=["retired_at", "retired_reason"])


@transaction.atomic
def retire_dose(*, dose: Dose, reason: str, by: User) -> Dose:
    """A record entered by mistake (wrong person, never given): retired with the reason, kept."""
    _check_person(dose.resident, by)
    if dose.retired_at is not None:
        raise ValidationError({"dose": _("该记录已作废")})
    if not reason.strip():
        raise ValidationError({"reason": _("请填写作废原因")})
    later = (
        Dose.objects.filter(resident_id=dose.resident_id, retired_at__isnull=True, dose_number__gt=dose.dose_number)
        .order_by("-dose_number")
        .first()
    )
    if later is not None:
        raise ValidationError({"dose": _("已登记第%(n)s剂，请先作废后面的剂次") % {"n": later.dose_number}})
    _retire(dose, reason.strip(), by)
    refresh_summaries([dose.resident_id])
    return dose


# ---- reasons for not being vaccinated -----------------------------------------------------------------------------


@transaction.atomic
def record_reason(
    *,
    resident: Resident,
    reason: NonVaccinationReason,
    scope: str,
    valid_from: dt.date,
    by: User,
    valid_to: dt.date | None = None,
    note: str = "",
    today: dt.date | None = None,
) -> ReasonRecord:
    _check_person(resident, by)
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    if reason.retired_on is not None and reason.retired_on <= valid_from:
        errors["reason"] = _("该原因已停用")
    if scope not in ReasonScope.values:
        errors["scope"] = _("适用剂次应为全部剂次、全程接种或加强免疫")
    if valid_from > today:
        errors["valid_from"] = _("起始日期不能晚于今天")
    elif valid_from < resident.birth_date:
        errors["valid_from"] = _("起始日期早于出生日期")
    if valid_to is not None and valid_to < valid_from:
        errors["valid_to"] = _("截止日期早于起始日期")
    if len(note) > 200:
        errors["note"] = _("说明过长（最多200个字）")
    if errors:
        raise ValidationError(errors)
    record = ReasonRecord(
        resident=resident,
        reason=reason,
        scope=scope,
        valid_from=valid_from,
        valid_to=valid_to,
        note=note.strip(),
        recorded_by=by,
    )
    stamp(record, by=by, reason=_("登记未接种原因"))
    record.save()
    return record


@transaction.atomic
def end_reason(*, record: ReasonRecord, valid_to: dt.date, by: User) -> ReasonRecord:
    """The reason no longer holds from the day after ``valid_to`` (returned, contraindication over …)."""
    _check_person(record.resident, by)
    if record.retired_at is not None:
        raise ValidationError({"record": _("该记录已作废")})
    if valid_to < record.valid_from:
        raise ValidationError({"valid_to": _("截止日期早于起始日期")})
    record.valid_to = valid_to
    stamp(record, by=by, reason=_("原因截止"))
    record.save(update_fields=["valid_to"])
    return record


@transaction.atomic
def retire_reason(*, record: ReasonRecord, reason: str, by: User) -> ReasonRecord:
    """A reason recorded by mistake: retired (kept); the person is unexplained again if nothing else holds."""
    _check_person(record.resident, by)
    if record.retired_at is not None:
        raise ValidationError({"record": _("该记录已作废")})
    if not reason.strip():
        raise ValidationError({"reason": _("请填写作废原因")})
    record.retired_at = timezone.now()
    record.retired_reason = reason.strip()[:200]
    stamp(record, by=by, reason=record.retired_reason)
    record.save(update_fields=["retired_at", "retired_reason"])
    return record


# ---- products and reasons (shared data) ---------------------------------------------------------------------------


def _require_admin(by: User) -> None:
    if not user_policy(by).can_manage_schemes:
        raise PermissionDenied(_("只有区级管理员可以维护疫苗产品和未接种原因"))


@dataclass
class ProductData:
    code: str
    name: str
    manufacturer: str
    kind: str
    course_doses: int
    min_interval_days: int = 0
    booster_needed: bool = True
    booster_interval_days: int = 90
    retired_on: dt.date | None = None


def _check_product(data: ProductData) -> None:
    errors: dict[str, str] = {}
    if not data.code.strip():
        errors["code"] = _("请填写代码")
    if not data.name.strip():
        errors["name"] = _("请填写疫苗名称")
    if not data.manufacturer.strip():
        errors["manufacturer"] = _("请填写生产企业")
    if data.kind not in VaccineKind.values:
        errors["kind"] = _("疫苗类型应为灭活、重组蛋白或腺病毒载体")
    if not 1 <= data.course_doses <= 3:
        errors["course_doses"] = _("全程接种剂次应为1到3")
    if data.course_doses > 1 and data.min_interval_days < 1:
        errors["min_interval_days"] = _("多剂次全程接种应规定最短间隔天数")
    if data.booster_needed and data.booster_interval_days < 1:
        errors["booster_interval_days"] = _("需要加强免疫时应规定与全程接种的最短间隔天数")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_product(*, data: ProductData, by: User, product: VaccineProduct | None = None) -> VaccineProduct:
    """Create a product, or change one. A changed rule applies to every record from then on (the
    reconciliation is computed, never stored): the product's history keeps the old values."""
    _require_admin(by)
    _check_product(data)
    target = product or VaccineProduct()
    for name in ProductData.__dataclass_fields__:
        value = getattr(data, name)
        setattr(target, name, value.strip() if isinstance(value, str) else value)
    stamp(target, by=by, reason=_("修改疫苗产品") if product else _("新增疫苗产品"))
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError:
        raise ValidationError({"code": _("代码或“名称+生产企业”已存在")}) from None
    return target


@transaction.atomic
def save_reason_type(
    *,
    code: str,
    name: str,
    absent: bool,
    by: User,
    reason: NonVaccinationReason | None = None,
    retired_on: dt.date | None = None,
) -> NonVaccinationReason:
    _require_admin(by)
    errors: dict[str, str] = {}
    code, name = code.strip(), name.strip()
    if not code:
        errors["code"] = _("请填写代码")
    elif code in rules.RESERVED_CODES:
        errors["code"] = _("该代码由系统计算使用（如“不满足接种间隔”由接种记录算出，无需登记）")
    if not name:
        errors["name"] = _("请填写名称")
    if errors:
        raise ValidationError(errors)
    target = reason or NonVaccinationReason()
    target.code, target.name, target.absent, target.retired_on = code, name, absent, retired_on
    stamp(target, by=by, reason=_("修改未接种原因") if reason else _("新增未接种原因"))
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError:
        raise ValidationError({"code": _("代码或名称已存在")}) from None
    return target
