"""Writes of the 计生 ledgers: named, keyword-only, transactional. Views, the API, commands and the
demo all call these; each checks that the records lie in the acting user's subtree.

Nothing is deleted: births are retired with a reason, enrollments are ended, standards are
closed by the next one, submitted applications are corrected by adjustments.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import stamp
from core.bulk import insert_rows, reserve_ids
from core.scoping import require_unit
from familyplanning import rules
from familyplanning.models import (
    Adjustment,
    AdjustmentLine,
    Application,
    ApplicationLine,
    Beneficiary,
    Birth,
    BirthPolicy,
    BirthServiceRegistration,
    EndReason,
    PaymentPeriod,
    PaymentUnit,
    RegistrationStatus,
    Scheme,
    Standard,
    Visit,
)
from orgunits.models import OrgUnit
from registry.models import Household, Resident

if TYPE_CHECKING:
    from accounts.models import User


def _clean_id(raw: str) -> str:
    return (raw or "").strip().replace(" ", "").upper()


# ---- birth policy -----------------------------------------------------------------------------------------


@transaction.atomic
def create_policy(
    *, name: str, max_children: int, valid_from: dt.date, valid_to: dt.date | None = None, by: User | None = None
) -> BirthPolicy:
    if max_children < 1:
        raise ValidationError({"max_children": _("政策内最多孩次至少为1")})
    overlapping = BirthPolicy.objects.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
    if valid_to is not None:
        overlapping = overlapping.filter(valid_from__lte=valid_to)
    for other in overlapping:
        if other.valid_to is None and other.valid_from < valid_from:
            # The policy in force until now ends the day before the new one (e.g. 2021-05-31).
            other.valid_to = valid_from - dt.timedelta(days=1)
            stamp(other, by=by, reason=_("新政策施行"))
            other.save(update_fields=["valid_to"])
            continue
        raise ValidationError({"valid_from": _("与已有政策“%(name)s”的施行期间重叠") % {"name": other.name}})
    policy = BirthPolicy(name=name, max_children=max_children, valid_from=valid_from, valid_to=valid_to)
    stamp(policy, by=by, reason=_("新政策"))
    policy.save()
    return policy


# ---- births and registrations ---------------------------------------------------------------------------------


@dataclass
class Parent:
    """A parent: a resident, or the name and ID number of someone not in the registry."""

    resident: Resident | None = None
    name: str = ""
    id_number: str = ""

    def resolved(self) -> tuple[Resident | None, str, str]:
        if self.resident is not None:
            return self.resident, self.resident.name, self.resident.id_number
        return None, (self.name or "").strip(), _clean_id(self.id_number)


@dataclass
class BirthData:
    child_name: str
    sex: str
    birth_date: dt.date
    birth_order: int
    mother: Parent
    father: Parent = field(default_factory=Parent)
    place: str = ""
    child: Resident | None = None
    entered_on: dt.date | None = None
    out_of_policy: bool = False
    out_of_policy_reason: str = ""
    registration: BirthServiceRegistration | None = None


def mother_births(mother_id_number: str, *, exclude: int | None = None) -> list[tuple[dt.date, int]]:
    if not mother_id_number:
        return []
    qs = Birth.objects.filter(mother_id_number=mother_id_number, retired_at__isnull=True)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return list(qs.values_list("birth_date", "birth_order"))


@transaction.atomic
def record_birth(*, data: BirthData, unit: OrgUnit, by: User, today: dt.date | None = None) -> Birth:
    """Enter a birth; links (or, if one is open, matches) the couple's birth-service registration."""
    require_unit(by, unit)
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    mother, mother_name, mother_id = data.mother.resolved()
    father, father_name, father_id = data.father.resolved()
    if not mother_name:
        errors["mother"] = _("请填写母亲（在册居民或姓名）")
    if mother is not None and mother.sex != "F":
        errors["mother"] = _("母亲应为女性")
    child_name = (data.child_name or "").strip()
    if data.child is not None:
        child_name = child_name or data.child.name
        if data.child.birth_date != data.birth_date:
            errors["birth_date"] = _("出生日期与该居民登记的出生日期不符")
        if data.child.sex != data.sex:
            errors["sex"] = _("性别与该居民登记的性别不符")
        if Birth.objects.filter(child=data.child, retired_at__isnull=True).exists():
            errors["child"] = _("该居民已有出生登记")
    if not child_name:
        errors["child_name"] = _("婴儿姓名不能为空（未取名可填“某某之子/之女”）")
    if data.sex not in ("M", "F"):
        errors["sex"] = _("性别应为男或女")
    entered_on = data.entered_on or today
    if data.birth_date > today:
        errors["birth_date"] = _("出生日期不能晚于今天")
    elif entered_on < data.birth_date:
        errors["entered_on"] = _("录入日期不能早于出生日期")
    if mother is not None and mother.birth_date and data.birth_date <= mother.birth_date:
        errors["birth_date"] = _("出生日期不能早于母亲的出生日期")
    if not 1 <= data.birth_order <= 15:
        errors["birth_order"] = _("孩次应在1到15之间")
    else:
        problem = rules.birth_order_problem(data.birth_order, data.birth_date, mother_births(mother_id))
        if problem:
            errors["birth_order"] = problem
    if data.out_of_policy and not data.out_of_policy_reason.strip():
        errors["out_of_policy_reason"] = _("认定为政策外生育须写明原因")
    registration = data.registration
    if registration is None and mother_id:
        registration = (
            BirthServiceRegistration.objects.select_for_update()
            .filter(mother_id_number=mother_id, birth_order=data.birth_order, status=RegistrationStatus.REGISTERED)
            .first()
        )
    elif registration is not None:
        if registration.status != RegistrationStatus.REGISTERED:
            errors["registration"] = _("该生育服务登记已使用或已注销")
        elif registration.birth_order != data.birth_order:
            errors["registration"] = _("孩次与生育服务登记的孩次不符")
    if errors:
        raise ValidationError(errors)
    birth = Birth(
        unit=unit,
        child=data.child,
        child_name=child_name,
        sex=data.sex,
        birth_date=data.birth_date,
        birth_order=data.birth_order,
        place=data.place.strip(),
        mother=mother,
        mother_name=mother_name,
        mother_id_number=mother_id,
        father=father,
        father_name=father_name,
        father_id_number=father_id,
        registration=registration,
        out_of_policy=data.out_of_policy,
        out_of_policy_reason=data.out_of_policy_reason.strip() if data.out_of_policy else "",
        entered_on=entered_on,
        created_by=by,
    )
    stamp(birth, by=by, reason=_("出生登记"))
    birth.save()
    if registration is not None:
        registration.status = RegistrationStatus.BORN
        stamp(registration, by=by, reason=_("已生育"))
        registration.save(update_fields=["status", "updated_at"])
    return birth


@transaction.atomic
def retire_birth(*, birth: Birth, reason: str, by: User) -> Birth:
    require_unit(by, birth.unit)
    if not reason.strip():
        raise ValidationError({"reason": _("作废须写明原因")})
    if birth.retired_at is not None:
        raise ValidationError({"reason": _("该出生登记已作废")})
    birth.retired_at = timezone.now()
    birth.retired_reason = reason.strip()
    stamp(birth, by=by, reason=reason.strip())
    birth.save(update_fields=["retired_at", "retired_reason", "updated_at"])
    if birth.registration_id is not None:
        registration = birth.registration
        assert registration is not None
        registration.status = RegistrationStatus.REGISTERED
        stamp(registration, by=by, reason=_("出生登记作废"))
        registration.save(update_fields=["status", "updated_at"])
        birth.registration = None
        birth.save(update_fields=["registration"])
    return birth


@transaction.atomic
def record_registration(
    *,
    unit: OrgUnit,
    mother: Parent,
    father: Parent | None = None,
    birth_order: int,
    registered_on: dt.date,
    by: User,
    today: dt.date | None = None,
) -> BirthServiceRegistration:
    require_unit(by, unit)
    today = today or timezone.localdate()
    m, m_name, m_id = mother.resolved()
    f, f_name, f_id = (father or Parent()).resolved()
    errors: dict[str, str] = {}
    if not m_name:
        errors["mother"] = _("请填写女方（在册居民或姓名）")
    if registered_on > today:
        errors["registered_on"] = _("登记日期不能晚于今天")
    if not 1 <= birth_order <= 15:
        errors["birth_order"] = _("孩次应在1到15之间")
    elif (
        m_id
        and BirthServiceRegistration.objects.filter(
            mother_id_number=m_id, birth_order=birth_order, status=RegistrationStatus.REGISTERED
        ).exists()
    ):
        errors["birth_order"] = _("该女方已有%(label)s的有效生育服务登记") % {"label": rules.order_label(birth_order)}
    if errors:
        raise ValidationError(errors)
    reg = BirthServiceRegistration(
        unit=unit,
        mother=m,
        mother_name=m_name,
        mother_id_number=m_id,
        father=f,
        father_name=f_name,
        father_id_number=f_id,
        birth_order=birth_order,
        registered_on=registered_on,
        created_by=by,
    )
    stamp(reg, by=by, reason=_("生育服务登记"))
    reg.save()
    return reg


@transaction.atomic
def cancel_registration(*, registration: BirthServiceRegistration, reason: str, by: User) -> BirthServiceRegistration:
    require_unit(by, registration.unit)
    if registration.status != RegistrationStatus.REGISTERED:
        raise ValidationError({"status": _("只有“已登记”状态的登记可以注销")})
    if not reason.strip():
        raise ValidationError({"reason": _("注销须写明原因")})
    registration.status = RegistrationStatus.CANCELLED
    registration.status_reason = reason.strip()
    stamp(registration, by=by, reason=reason.strip())
    registration.save(update_fields=["status", "status_reason", "updated_at"])
    return registration


# ---- schemes and standards --------------------------------------------------------------------------------------


@transaction.atomic
def create_scheme(
    *,
    code: str,
    name: str,
    category: str,
    payment_unit: str,
    period: str,
    short_name: str = "",
    attribute_label: str = "",
    attribute_values: str = "",
    sort_order: int = 100,
    note: str = "",
    by: User | None = None,
) -> Scheme:
    errors: dict[str, str] = {}
    if Scheme.objects.filter(code=code).exists():
        errors["code"] = _("代码已被使用")
    if Scheme.objects.filter(name=name.strip()).exists():
        errors["name"] = _("已有同名扶助项目")
    if attribute_label.strip() and not rules.split_values(attribute_values):
        errors["attribute_values"] = _("设置了标准依据，须列出其取值")
    if errors:
        raise ValidationError(errors)
    scheme = Scheme(
        code=code,
        name=name.strip(),
        short_name=short_name.strip(),
        category=category,
        payment_unit=payment_unit,
        period=period,
        attribute_label=attribute_label.strip(),
        attribute_values="、".join(rules.split_values(attribute_values)),
        sort_order=sort_order,
        note=note,
    )
    scheme.full_clean()
    stamp(scheme, by=by, reason=_("新增扶助项目"))
    scheme.save()
    return scheme


def spans_of(standards: Sequence[Standard]) -> list[rules.StandardSpan]:
    return [rules.StandardSpan(s.valid_from, s.valid_to, s.attribute_value, s.amount) for s in standards]


@transaction.atomic
def add_standard(
    *,
    scheme: Scheme,
    amount: Decimal,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    attribute_value: str = "",
    reason: str = "",
    by: User | None = None,
) -> Standard:
    """A new standard; the open one before it (same attribute) is closed the day before it starts.

    A raise announced after the year's application was submitted is entered the same way, with
    its real (past) start date; the back-pay then follows from the application (record_back_pay).
    """
    Scheme.objects.select_for_update().filter(pk=scheme.pk).first()  # one standard change at a time per scheme
    errors: dict[str, str] = {}
    choices = scheme.attribute_choices
    if choices and attribute_value not in choices:
        errors["attribute_value"] = _("“%(label)s”应为以下之一：%(values)s") % {
            "label": scheme.attribute_label,
            "values": "、".join(choices),
        }
    if not choices and attribute_value:
        errors["attribute_value"] = _("该项目的标准不区分依据取值")
    if amount is None or amount < 0:
        errors["amount"] = _("标准金额不能为负数")
    existing = list(Standard.objects.filter(scheme=scheme, attribute_value=attribute_value))
    problem = rules.standard_range_problem(spans_of(existing), valid_from, valid_to, attribute_value)
    if problem:
        errors["valid_from"] = problem
    if errors:
        raise ValidationError(errors)
    for old in existing:
        if old.valid_to is None and old.valid_from < valid_from:
            old.valid_to = valid_from - dt.timedelta(days=1)
            stamp(old, by=by, reason=reason or _("新标准施行"))
            old.save(update_fields=["valid_to"])
    standard = Standard(
        scheme=scheme,
        attribute_value=attribute_value,
        amount=amount,
        valid_from=valid_from,
        valid_to=valid_to,
        reason=reason.strip(),
        created_by=by,
    )
    stamp(standard, by=by, reason=reason or _("新标准"))
    standard.save()
    return standard


# ---- beneficiaries -----------------------------------------------------------------------------------------------


@transaction.atomic
def enroll(
    *,
    scheme: Scheme,
    person: Resident,
    start_month: dt.date,
    by: User,
    household: Household | None = None,
    members: Sequence[Resident] = (),
    attribute_value: str = "",
    documents: Sequence[str] = (),
    bank_account: str = "",
    note: str = "",
) -> Beneficiary:
    """Enroll a person (or the person's household) in a scheme from the first of ``start_month``."""
    require_unit(by, person.unit)
    start_month = rules.month_start(start_month)
    errors: dict[str, str] = {}
    if scheme.retired_on is not None and scheme.retired_on <= start_month:
        errors["scheme"] = _("该扶助项目已停用")
    if person.retired_at is not None:
        errors["person"] = _("该居民记录已作废")
    elif person.left_on is not None and person.left_on < start_month:
        errors["person"] = _("该居民已于%(date)s迁出或死亡") % {"date": person.left_on.isoformat()}
    if scheme.payment_unit == PaymentUnit.HOUSEHOLD:
        household = household or person.household
        if household is None:
            errors["household"] = _("按户发放的项目须指定户")
    choices = scheme.attribute_choices
    if choices and attribute_value not in choices:
        errors["attribute_value"] = _("请选择“%(label)s”：%(values)s") % {
            "label": scheme.attribute_label,
            "values": "、".join(choices),
        }
    if not choices:
        attribute_value = ""
    if start_month > rules.month_start(timezone.localdate()) + dt.timedelta(days=366):
        errors["start_month"] = _("起始月份过远")
    clash = Beneficiary.objects.filter(scheme=scheme).filter(Q(end_date__isnull=True) | Q(end_date__gte=start_month))
    if clash.filter(person=person).exists():
        errors["person"] = _("该居民已享受“%(scheme)s”，不能重复登记") % {"scheme": scheme.name}
    elif (
        household is not None
        and scheme.payment_unit == PaymentUnit.HOUSEHOLD
        and clash.filter(household=household).exists()
    ):
        errors["household"] = _("该户已享受“%(scheme)s”，不能重复登记") % {"scheme": scheme.name}
    if errors:
        raise ValidationError(errors)
    covered = list(dict.fromkeys([person, *members]))
    for m in covered:
        require_unit(by, m.unit)
    beneficiary = Beneficiary(
        scheme=scheme,
        unit=person.unit,
        person=person,
        household=household if scheme.payment_unit == PaymentUnit.HOUSEHOLD else person.household,
        attribute_value=attribute_value,
        start_month=start_month,
        documents=[d for d in documents if d],
        bank_account=bank_account.strip(),
        note=note.strip(),
        created_by=by,
    )
    stamp(beneficiary, by=by, reason=_("登记扶助对象"))
    try:
        with transaction.atomic():
            beneficiary.save()
    except IntegrityError:
        raise ValidationError(
            {"person": _("该居民已享受“%(scheme)s”，不能重复登记") % {"scheme": scheme.name}}
        ) from None
    beneficiary.members.set(covered)
    return beneficiary


@transaction.atomic
def end_enrollment(
    *, beneficiary: Beneficiary, end_date: dt.date, reason: str, note: str = "", by: User
) -> Beneficiary:
    require_unit(by, beneficiary.unit)
    errors: dict[str, str] = {}
    if beneficiary.end_date is not None:
        errors["end_date"] = _("该对象已于%(date)s终止") % {"date": beneficiary.end_date.isoformat()}
    elif end_date < beneficiary.start_month:
        errors["end_date"] = _("终止日期不能早于起始月份")
    if end_date > timezone.localdate():
        errors["end_date"] = _("终止日期不能晚于今天")
    if reason not in EndReason.values:
        errors["end_reason"] = _("请选择终止原因：死亡、迁出或失去资格")
    if errors:
        raise ValidationError(errors)
    beneficiary.end_date = end_date
    beneficiary.end_reason = reason
    beneficiary.end_note = note.strip()
    stamp(beneficiary, by=by, reason=note.strip() or str(EndReason(reason).label))
    beneficiary.save(update_fields=["end_date", "end_reason", "end_note", "updated_at"])
    return beneficiary


# ---- annual application ------------------------------------------------------------------------------------------


@dataclass
class LinePreview:
    beneficiary: Beneficiary
    due: rules.Due
    member_ids: list[int] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        return self.due.amount


@dataclass
class SchemeTotal:
    scheme: Scheme
    people: int = 0
    households: int = 0
    beneficiaries: int = 0
    amount: Decimal = Decimal(0)


@dataclass
class ApplicationPreview:
    unit: OrgUnit
    year: int
    lines: list[LinePreview]
    problems: list[str]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))

    def by_scheme(self) -> list[SchemeTotal]:
        out: dict[int, SchemeTotal] = {}
        people: dict[int, set[int]] = defaultdict(set)
        households: dict[int, set[int]] = defaultdict(set)
        for line in self.lines:
            b = line.beneficiary
            t = out.setdefault(b.scheme_id, SchemeTotal(b.scheme))
            t.beneficiaries += 1
            t.amount += line.amount
            people[b.scheme_id].update(line.member_ids)
            households[b.scheme_id].add(b.household_id or -b.person_id)
        for scheme_id, t in out.items():
            t.people = len(people[scheme_id])
            t.households = len(households[scheme_id])
        return sorted(out.values(), key=lambda t: (t.scheme.sort_order, t.scheme.code))


def _standards_by_scheme() -> dict[int, list[rules.StandardSpan]]:
    spans: dict[int, list[rules.StandardSpan]] = defaultdict(list)
    for s in Standard.objects.all():
        spans[s.scheme_id].append(rules.StandardSpan(s.valid_from, s.valid_to, s.attribute_value, s.amount))
    return spans


def _overlapping_application(unit: OrgUnit, year: int) -> Application | None:
    """A submitted application of the same year by the unit, one above it or one below it."""
    ancestors = [int(seg) for seg in unit.path.strip("/").split("/") if seg]
    return (
        Application.objects.filter(year=year)
        .filter(Q(unit_id__in=ancestors) | Q(unit__path__gte=unit.path, unit__path__lt=unit.path_end))
        .select_related("unit")
        .first()
    )


def preview_application(*, unit: OrgUnit, year: int, by: User) -> ApplicationPreview:
    """The amounts due for ``year`` to every enrollment in the unit's subtree (nothing is written).

    A district has tens of thousands of enrollments: only the columns the lines need are loaded,
    schemes and units come from lookup tables and the members from one query on the link table
    (model instances for every member took most of the time, see bench/README.md).
    """
    require_unit(by, unit)
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    enrolled = Beneficiary.objects.filter(
        unit__path__gte=unit.path, unit__path__lt=unit.path_end, start_month__lte=last
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=first))
    beneficiaries = list(
        enrolled.select_related("person")
        .only(
            "scheme_id",
            "unit_id",
            "household_id",
            "attribute_value",
            "start_month",
            "end_date",
            "bank_account",
            "person__name",
            "person__id_number",
            "person__unit_id",
        )
        .order_by("scheme__sort_order", "scheme__code", "unit__path", "id")
    )
    schemes = {s.pk: s for s in Scheme.objects.all()}
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in={b.unit_id for b in beneficiaries})}
    members: dict[int, list[int]] = defaultdict(list)
    for beneficiary_id, resident_id in Beneficiary.members.through.objects.filter(
        beneficiary__in=enrolled.values("pk")
    ).values_list("beneficiary_id", "resident_id"):
        members[beneficiary_id].append(resident_id)
    one_time = [b.pk for b in beneficiaries if schemes[b.scheme_id].period == PaymentPeriod.ONE_TIME]
    paid_one_time = set(
        ApplicationLine.objects.filter(beneficiary__in=one_time, application__year__lt=year, amount__gt=0).values_list(
            "beneficiary_id", flat=True
        )
    )
    spans = _standards_by_scheme()
    lines: list[LinePreview] = []
    problems: list[str] = []
    for b in beneficiaries:
        b.scheme = schemes[b.scheme_id]
        b.unit = units[b.unit_id]
        due = rules.amount_due(
            period=b.scheme.period,
            spans=spans.get(b.scheme_id, []),
            attribute=b.attribute_value,
            year=year,
            start_month=b.start_month,
            end_date=b.end_date,
            paid_before=b.pk in paid_one_time,
        )
        if due.missing_months:
            problems.append(
                _("%(scheme)s：%(name)s 的 %(months)s 月没有施行中的标准")
                % {
                    "scheme": b.scheme.name,
                    "name": b.person.name,
                    "months": "、".join(str(m) for m in due.missing_months),
                }
            )
        if due.amount or due.months:
            lines.append(LinePreview(b, due, members[b.pk]))
    return ApplicationPreview(unit=unit, year=year, lines=lines, problems=problems)


LINE_COLUMNS = [
    "id",
    "application_id",
    "beneficiary_id",
    "scheme_id",
    "unit_id",
    "name",
    "id_number",
    "attribute_value",
    "people",
    "months",
    "breakdown",
    "detail",
    "amount",
    "bank_account",
]


@transaction.atomic
def submit_application(
    *, unit: OrgUnit, year: int, by: User, note: str = "", today: dt.date | None = None
) -> Application:
    """Freeze the year's application of ``unit``: one per unit and year, and none above or below it."""
    require_unit(by, unit)
    today = today or timezone.localdate()
    if year > today.year:
        raise ValidationError({"year": _("不能申报未来年度")})
    OrgUnit.objects.select_for_update().filter(pk=unit.pk).first()  # two clicks on "submit" queue here
    clash = _overlapping_application(unit, year)
    if clash is not None:
        raise ValidationError(
            {"year": _("%(unit)s 已提交%(year)s年度申报，不能重复申报") % {"unit": clash.unit.name, "year": year}}
        )
    preview = preview_application(unit=unit, year=year, by=by)
    if preview.problems:
        raise ValidationError({"__all__": preview.problems})
    if not preview.lines:
        raise ValidationError({"year": _("%(year)s年度没有可申报的扶助对象") % {"year": year}})
    application = Application.objects.create(
        unit=unit, year=year, total=preview.total, note=note.strip(), submitted_by=by, submitted_at=timezone.now()
    )

    def row(pk: int, line: LinePreview) -> list[Any]:
        b = line.beneficiary
        period = b.scheme.period
        return [
            pk,
            application.pk,
            b.pk,
            b.scheme_id,
            b.unit_id,
            b.person.name,
            b.person.id_number,
            b.attribute_value,
            len(line.member_ids) or 1,
            len(line.due.months) if period == PaymentPeriod.MONTHLY else 0,
            json.dumps([[m, str(a)] for m, a in rules.month_amounts(period, line.due)]),
            line.due.detail,
            line.due.amount,
            b.bank_account,
        ]

    ids = reserve_ids(ApplicationLine, len(preview.lines))
    insert_rows(ApplicationLine, LINE_COLUMNS, (row(pk, line) for pk, line in zip(ids, preview.lines, strict=True)))
    return application


@dataclass
class BackPayLine:
    line: ApplicationLine
    back_pay: rules.BackPay
    breakdown: list[list[Any]]  # [[month, "difference"], …]


def _paid_by_month(applied: list[list[Any]], adjusted: list[list[Any]]) -> dict[int, Decimal]:
    """What a line has been granted so far, by month: as applied, plus every adjustment since."""
    paid: dict[int, Decimal] = defaultdict(Decimal)
    for m, a in [*applied, *adjusted]:
        paid[int(m)] += Decimal(a)
    return paid


def preview_back_pay(*, application: Application, by: User) -> list[BackPayLine]:
    """Per line: what is due now under today's standards minus what was applied for and adjusted since."""
    require_unit(by, application.unit)
    spans = _standards_by_scheme()
    schemes = {s.pk: s for s in Scheme.objects.all()}
    # "application" too: the related manager sets it on each row and would fetch it one by one if deferred.
    lines = application.lines.select_related("beneficiary").only(
        "application",
        "scheme_id",
        "name",
        "id_number",
        "attribute_value",
        "breakdown",
        "amount",
        "beneficiary__start_month",
        "beneficiary__end_date",
    )
    adjusted: dict[int, list[list[Any]]] = defaultdict(list)
    for line_id, breakdown in AdjustmentLine.objects.filter(line__application=application).values_list(
        "line_id", "breakdown"
    ):
        adjusted[line_id].extend(breakdown)
    out = []
    for line in lines.order_by("id"):
        b = line.beneficiary
        line.scheme = schemes[line.scheme_id]
        if line.scheme.period == PaymentPeriod.ONE_TIME and not line.breakdown:
            continue
        due = rules.amount_due(
            period=line.scheme.period,
            spans=spans.get(line.scheme_id, []),
            attribute=line.attribute_value,
            year=application.year,
            start_month=b.start_month,
            end_date=b.end_date,
        )
        paid = _paid_by_month(line.breakdown, adjusted[line.pk])
        due_by_month = dict(rules.month_amounts(line.scheme.period, due))
        result = rules.back_pay(paid=list(paid.items()), due=list(due_by_month.items()))
        if result.amount:
            diff = [
                [m, str(due_by_month.get(m, Decimal(0)) - paid.get(m, Decimal(0)))]
                for m in sorted(set(paid) | set(due_by_month))
                if due_by_month.get(m, Decimal(0)) != paid.get(m, Decimal(0))
            ]
            out.append(BackPayLine(line, result, diff))
    return out


@transaction.atomic
def record_back_pay(*, application: Application, reason: str, by: User) -> Adjustment:
    """Record the back-pay (or deduction) that today's standards make due on a submitted application."""
    require_unit(by, application.unit)
    if not reason.strip():
        raise ValidationError({"reason": _("请写明补发原因（如标准调整文件）")})
    Application.objects.select_for_update().filter(pk=application.pk).first()
    found = preview_back_pay(application=application, by=by)
    if not found:
        raise ValidationError({"__all__": _("按现行标准计算，该申报无需补发或扣减")})
    adjustment = Adjustment.objects.create(
        application=application,
        reason=reason.strip(),
        total=sum((f.back_pay.amount for f in found), Decimal(0)),
        created_by=by,
        created_at=timezone.now(),
    )
    columns = ["id", "adjustment_id", "line_id", "detail", "months", "breakdown", "amount"]
    ids = reserve_ids(AdjustmentLine, len(found))
    insert_rows(
        AdjustmentLine,
        columns,
        (
            [
                pk,
                adjustment.pk,
                f.line.pk,
                f.back_pay.detail,
                f.back_pay.months,
                json.dumps(f.breakdown),
                f.back_pay.amount,
            ]
            for pk, f in zip(ids, found, strict=True)
        ),
    )
    return adjustment


# ---- holiday visits ----------------------------------------------------------------------------------------------


@transaction.atomic
def record_visit(
    *,
    unit: OrgUnit,
    date: dt.date,
    occasion: str,
    given: str,
    people: Sequence[Resident],
    by: User,
    note: str = "",
    today: dt.date | None = None,
) -> Visit:
    require_unit(by, unit)
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    if date > today:
        errors["date"] = _("慰问日期不能晚于今天")
    if not occasion.strip():
        errors["occasion"] = _("请填写节日或事由")
    if not given.strip():
        errors["given"] = _("请填写慰问内容")
    if not people:
        errors["people"] = _("请选择慰问对象")
    for p in people:
        if not p.unit.path.startswith(unit.path):
            errors["people"] = _("慰问对象 %(name)s 不在本单位范围内") % {"name": p.name}
            break
    if errors:
        raise ValidationError(errors)
    visit = Visit(
        unit=unit, date=date, occasion=occasion.strip(), given=given.strip(), note=note.strip(), created_by=by
    )
    stamp(visit, by=by, reason=_("慰问登记"))
    visit.save()
    visit.people.set(people)
    return visit


# ---- org-unit merges -------------------------------------------------------------------------------------------


def reassign_unit_records(*, source: OrgUnit, target: OrgUnit) -> int:
    """The 计生 records of a merged unit follow it to its successor (called on orgunits' merge)."""
    moved = 0
    for model in (Birth, BirthServiceRegistration, Beneficiary, Visit):
        moved += model.objects.filter(unit=source).update(unit=target)
    return moved
