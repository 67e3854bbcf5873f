"""Reads of the 计生 ledgers: scoped querysets for pages and the API, and the statistics.

Scoping is core.scoping's; statistics take a unit (already checked to be in scope) and a
core.indicators.Period.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import ExtractMonth

from core.indicators import Period
from core.scoping import scoped
from familyplanning import rules
from familyplanning.models import (
    AdjustmentLine,
    Application,
    ApplicationLine,
    Beneficiary,
    Birth,
    BirthPolicy,
    BirthServiceRegistration,
    RegistrationStatus,
    Scheme,
    SchemeCategory,
    Visit,
)
from orgunits.models import Level, OrgUnit
from registry.selectors import population_figures

if TYPE_CHECKING:
    from accounts.models import User


def _in(unit: OrgUnit, prefix: str = "unit__") -> Q:
    return Q(**{f"{prefix}path__gte": unit.path, f"{prefix}path__lt": unit.path_end})


# ---- scoped querysets ---------------------------------------------------------------------------------------------


def births_for(user: User) -> QuerySet[Birth]:
    return scoped(Birth.objects.filter(retired_at__isnull=True), user).select_related("unit", "registration")


def registrations_for(user: User) -> QuerySet[BirthServiceRegistration]:
    return scoped(BirthServiceRegistration.objects.all(), user).select_related("unit")


def beneficiaries_for(user: User) -> QuerySet[Beneficiary]:
    return scoped(Beneficiary.objects.all(), user).select_related("scheme", "person", "unit", "household")


def applications_for(user: User) -> QuerySet[Application]:
    return scoped(Application.objects.all(), user).select_related("unit", "submitted_by")


def visits_for(user: User) -> QuerySet[Visit]:
    return scoped(Visit.objects.filter(retired_at__isnull=True), user).select_related("unit")


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def filter_births(user: User, params: dict[str, Any], *, unit: OrgUnit | None = None) -> QuerySet[Birth]:
    """The births ledger: ?q= (child or mother name, mother ID digits), from, to, sex, order, late (days)."""
    qs = births_for(user)
    if unit is not None:
        qs = qs.filter(_in(unit))
    q = (params.get("q") or "").strip()
    if q:
        qs = qs.filter(
            Q(child_name__startswith=q) | Q(mother_name__startswith=q) | Q(mother_id_number__endswith=q.upper())
        )
    if start := _date(params.get("start")):
        qs = qs.filter(birth_date__gte=start)
    if end := _date(params.get("end")):
        qs = qs.filter(birth_date__lte=end)
    if params.get("sex") in ("M", "F"):
        qs = qs.filter(sex=params["sex"])
    order = str(params.get("order") or "")
    if order.isdigit():
        qs = qs.filter(birth_order__gte=3) if order == "3" else qs.filter(birth_order=int(order))
    late = str(params.get("late") or "")
    if late.isdigit():
        # Entered more than N days after the birth: seed 000's "新生儿录入不够及时".
        births = [(pk, b, e) for pk, b, e in qs.values_list("pk", "birth_date", "entered_on")]
        qs = qs.filter(pk__in=[pk for pk, b, e in births if (e - b).days > int(late)])
    return qs.order_by("-birth_date", "-id")


def filter_registrations(
    user: User, params: dict[str, Any], *, unit: OrgUnit | None = None
) -> QuerySet[BirthServiceRegistration]:
    """The registrations ledger: ?q= (mother or father name, mother ID digits), status, order (3 = 3+), start, end."""
    qs = registrations_for(user)
    if unit is not None:
        qs = qs.filter(_in(unit))
    q = (params.get("q") or "").strip()
    if q:
        qs = qs.filter(
            Q(mother_name__startswith=q) | Q(father_name__startswith=q) | Q(mother_id_number__endswith=q.upper())
        )
    if params.get("status"):
        qs = qs.filter(status=params["status"])
    order = str(params.get("order") or "")
    if order.isdigit():
        qs = qs.filter(birth_order__gte=3) if order == "3" else qs.filter(birth_order=int(order))
    if start := _date(params.get("start")):
        qs = qs.filter(registered_on__gte=start)
    if end := _date(params.get("end")):
        qs = qs.filter(registered_on__lte=end)
    return qs.order_by("-registered_on", "-id")


def filter_beneficiaries(user: User, params: dict[str, Any], *, unit: OrgUnit | None = None) -> QuerySet[Beneficiary]:
    qs = beneficiaries_for(user)
    if unit is not None:
        qs = qs.filter(_in(unit))
    if scheme := params.get("scheme"):
        qs = qs.filter(scheme__code=scheme)
    status = params.get("status") or "active"
    if status == "active":
        qs = qs.filter(end_date__isnull=True)
    elif status == "ended":
        qs = qs.filter(end_date__isnull=False)
    q = (params.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(person__name__startswith=q) | Q(person__id_number__endswith=q.upper()))
    return qs.order_by("scheme__sort_order", "scheme__code", "unit__path", "id")


def community_names(unit_ids: set[int] | list[int]) -> dict[int, str]:
    """Name of the community (or village) each unit lies in, or the unit's own name above that level."""
    units = list(OrgUnit.objects.filter(pk__in=set(unit_ids)).only("id", "path", "name", "level"))
    ancestor_ids = {int(seg) for u in units for seg in u.path.strip("/").split("/") if seg}
    communities = {
        u.pk: u.name for u in OrgUnit.objects.filter(pk__in=ancestor_ids, level=Level.COMMUNITY).only("id", "name")
    }
    out = {}
    for u in units:
        ids = [int(seg) for seg in u.path.strip("/").split("/") if seg]
        out[u.pk] = next((communities[i] for i in ids if i in communities), u.name)
    return out


# ---- statistics --------------------------------------------------------------------------------------------------


@dataclass
class BirthStatistics:
    births: int = 0
    male: int = 0
    female: int = 0
    by_order: dict[int, int] = field(default_factory=dict)  # 1, 2, 3 (3 = third and higher)
    second_plus: int = 0
    second_plus_male: int = 0
    second_plus_female: int = 0
    within_policy: int = 0
    second_plus_within_policy: int = 0
    registrations: int = 0
    registrations_by_order: dict[int, int] = field(default_factory=dict)
    population: int = 0
    denominator: str = "end"
    women_15_49: int = 0
    married_women_15_49: int = 0

    @property
    def birth_rate(self) -> Decimal | None:
        return rules.permille(self.births, self.population)

    @property
    def sex_ratio(self) -> Decimal | None:
        return rules.sex_ratio(self.male, self.female)

    @property
    def sex_ratio_second_plus(self) -> Decimal | None:
        return rules.sex_ratio(self.second_plus_male, self.second_plus_female)

    @property
    def compliance_rate(self) -> Decimal | None:
        return rules.percent(self.within_policy, self.births)

    @property
    def compliance_rate_second_plus(self) -> Decimal | None:
        return rules.percent(self.second_plus_within_policy, self.second_plus)

    def as_indicators(self) -> dict[str, Any]:
        def num(v: Decimal | None) -> float | None:
            return float(v) if v is not None else None

        return {
            "births": self.births,
            "births_male": self.male,
            "births_female": self.female,
            "births_order_1": self.by_order.get(1, 0),
            "births_order_2": self.by_order.get(2, 0),
            "births_order_3_plus": self.by_order.get(3, 0),
            "birth_rate_permille": num(self.birth_rate),
            "birth_rate_population": self.population,
            "sex_ratio": num(self.sex_ratio),
            "sex_ratio_second_plus": num(self.sex_ratio_second_plus),
            "policy_compliance_percent": num(self.compliance_rate),
            "policy_compliance_second_plus_percent": num(self.compliance_rate_second_plus),
            "registrations": self.registrations,
            "registrations_order_1": self.registrations_by_order.get(1, 0),
            "registrations_order_2": self.registrations_by_order.get(2, 0),
            "registrations_order_3_plus": self.registrations_by_order.get(3, 0),
        }


def _policy_limits(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date | None, int]]:
    qs = BirthPolicy.objects.filter(valid_from__lte=end).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
    return [(p.valid_from, p.valid_to, p.max_children) for p in qs]


def _limit_on(limits: list[tuple[dt.date, dt.date | None, int]], on: dt.date) -> int | None:
    for start, end, max_children in limits:
        if start <= on and (end is None or on <= end):
            return max_children
    return None


def birth_statistics(unit: OrgUnit, period: Period, *, denominator: str | None = None) -> BirthStatistics:
    """Births, registrations, birth rate, sex ratio and policy compliance of a unit's subtree over a period.

    The birth rate's denominator is the population at the period's end ('end', the default and
    what seed 002 uses) or the mean of the populations at its start and end ('average');
    settings.YBZ_BIRTH_RATE_DENOMINATOR sets the default.
    """
    kind: str = denominator or str(getattr(settings, "YBZ_BIRTH_RATE_DENOMINATOR", "end"))
    stats = BirthStatistics(denominator=kind)
    births = Birth.objects.filter(
        _in(unit), retired_at__isnull=True, birth_date__gte=period.start, birth_date__lte=period.end
    )
    # Grouped in the database; grouped by date too only when the policy changes inside the period.
    limits = _policy_limits(period.start, period.end)
    one_policy_all_period = (
        len(limits) == 1 and limits[0][0] <= period.start and (limits[0][1] is None or limits[0][1] >= period.end)
    )
    by_date = bool(limits) and not one_policy_all_period
    group = ["birth_order", "sex", "out_of_policy"] + (["birth_date"] if by_date else [])
    rows: list[dict[str, Any]] = list(births.values(*group).annotate(n=Count("id")))
    by_order: Counter[int] = Counter()
    for row in rows:
        n, order, sex = row["n"], row["birth_order"], row["sex"]
        stats.births += n
        by_order[min(order, 3)] += n
        male = sex == "M"
        stats.male += n if male else 0
        stats.female += 0 if male else n
        limit = _limit_on(limits, row.get("birth_date", period.end)) if limits else None
        ok = rules.within_policy(order, limit, out_of_policy=row["out_of_policy"])
        stats.within_policy += n if ok else 0
        if order >= 2:
            stats.second_plus += n
            stats.second_plus_male += n if male else 0
            stats.second_plus_female += 0 if male else n
            stats.second_plus_within_policy += n if ok else 0
    stats.by_order = {k: by_order.get(k, 0) for k in (1, 2, 3)}
    reg_by_order: Counter[int] = Counter()
    for reg in (
        BirthServiceRegistration.objects.filter(
            _in(unit), registered_on__gte=period.start, registered_on__lte=period.end
        )
        .exclude(status=RegistrationStatus.CANCELLED)
        .values("birth_order")
        .annotate(n=Count("id"))
    ):
        reg_by_order[min(reg["birth_order"], 3)] += reg["n"]
    stats.registrations = sum(reg_by_order.values())
    stats.registrations_by_order = {k: reg_by_order.get(k, 0) for k in (1, 2, 3)}
    end_figures = population_figures(unit, on=period.end)
    start_population = (
        population_figures(unit, on=period.start - dt.timedelta(days=1)).residents if kind == "average" else 0
    )
    stats.population = rules.birth_rate_denominator(
        kind, start_population=start_population, end_population=end_figures.residents
    )
    stats.women_15_49 = end_figures.women_15_49
    stats.married_women_15_49 = end_figures.married_women_15_49
    return stats


def births_by_month(unit: OrgUnit, year: int) -> dict[str, list[int]]:
    """Births of each month of ``year`` by sex, for the dashboard chart."""
    male = [0] * 12
    female = [0] * 12
    for row in (
        Birth.objects.filter(_in(unit), retired_at__isnull=True, birth_date__year=year)
        .annotate(m=ExtractMonth("birth_date"))
        .values("m", "sex")
        .annotate(n=Count("id"))
    ):
        (male if row["sex"] == "M" else female)[row["m"] - 1] += row["n"]
    return {"male": male, "female": female}


def late_entries(unit: OrgUnit, period: Period, *, days: int) -> list[Birth]:
    births = Birth.objects.filter(
        _in(unit), retired_at__isnull=True, birth_date__gte=period.start, birth_date__lte=period.end
    ).select_related("unit")
    return sorted((b for b in births if b.days_to_entry > days), key=lambda b: -b.days_to_entry)


# ---- assistance -------------------------------------------------------------------------------------------------


@dataclass
class SchemeYear:
    """One scheme's applied amounts for a year in a unit: as applied, adjusted, and people covered."""

    scheme: Scheme
    beneficiaries: int = 0
    people: int = 0
    households: int = 0
    applied: Decimal = Decimal(0)
    adjusted: Decimal = Decimal(0)
    standards: list[Decimal] = field(default_factory=list)
    adjustment_details: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.applied + self.adjusted


def assistance_year(unit: OrgUnit, year: int) -> list[SchemeYear]:
    """Per scheme: the submitted applications of the year in the unit's subtree, with their adjustments."""
    lines = ApplicationLine.objects.filter(application__year=year).filter(_in(unit, "application__unit__"))
    out: dict[int, SchemeYear] = {}
    people: dict[int, set[int]] = defaultdict(set)
    households: dict[int, set[int]] = defaultdict(set)
    schemes = {s.pk: s for s in Scheme.objects.all()}
    for row in lines.values("scheme_id", "beneficiary_id", "amount", "breakdown", "beneficiary__household_id"):
        sy = out.setdefault(row["scheme_id"], SchemeYear(schemes[row["scheme_id"]]))
        sy.beneficiaries += 1
        sy.applied += row["amount"]
        households[row["scheme_id"]].add(row["beneficiary__household_id"] or -row["beneficiary_id"])
        for _m, a in row["breakdown"]:
            if Decimal(a) not in sy.standards:
                sy.standards.append(Decimal(a))
    members = Beneficiary.members.through.objects.filter(beneficiary_id__in=lines.values("beneficiary_id")).values_list(
        "beneficiary__scheme_id", "resident_id"
    )
    for scheme_id, resident_id in members:
        people[scheme_id].add(resident_id)
    adjustments = AdjustmentLine.objects.filter(line__in=lines).values("line__scheme_id", "amount", "detail")
    for adj in adjustments:
        sy = out.setdefault(adj["line__scheme_id"], SchemeYear(schemes[adj["line__scheme_id"]]))
        sy.adjusted += adj["amount"]
        if adj["detail"] not in sy.adjustment_details:
            sy.adjustment_details.append(adj["detail"])
    for scheme_id, sy in out.items():
        sy.people = len(people[scheme_id])
        sy.households = len(households[scheme_id])
    return sorted(out.values(), key=lambda s: (s.scheme.sort_order, s.scheme.code))


@dataclass
class SpecialFamilies:
    households: int
    people: int


def special_families(unit: OrgUnit, on: dt.date) -> SpecialFamilies:
    """Households and people under special assistance (特扶) enrolled on a date (seed 000: 16户28人)."""
    active = Beneficiary.objects.filter(
        _in(unit), scheme__category=SchemeCategory.SPECIAL_ASSISTANCE, start_month__lte=on
    ).filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
    through = Beneficiary.members.through.objects.filter(beneficiary__in=active)
    people = set(through.values_list("resident_id", flat=True))
    households = set(
        through.values_list("resident__household_id", flat=True).exclude(resident__household_id__isnull=True)
    )
    return SpecialFamilies(households=len(households), people=len(people))


@dataclass
class VisitYear:
    visits: int
    households: int
    people: int
    occasions: list[str]


def visit_year(unit: OrgUnit, year: int) -> VisitYear:
    visits = Visit.objects.filter(_in(unit), retired_at__isnull=True, date__year=year).order_by("date")
    through = Visit.people.through.objects.filter(visit__in=visits)
    people = set(through.values_list("resident_id", flat=True))
    households = set(
        through.values_list("resident__household_id", flat=True).exclude(resident__household_id__isnull=True)
    )
    occasions = list(dict.fromkeys(visits.values_list("occasion", flat=True)))
    return VisitYear(visits=visits.count(), households=len(households), people=len(people), occasions=occasions)


def application_totals(application: Application) -> dict[str, Any]:
    lines = application.lines.values("scheme_id").annotate(n=Count("id"), amount=Sum("amount"), people=Sum("people"))
    adjusted = (
        AdjustmentLine.objects.filter(line__application=application)
        .values("line__scheme_id")
        .annotate(amount=Sum("amount"))
    )
    adj = {row["line__scheme_id"]: row["amount"] for row in adjusted}
    schemes = {s.pk: s for s in Scheme.objects.all()}
    rows = [
        {
            "scheme": schemes[row["scheme_id"]],
            "lines": row["n"],
            "people": row["people"],
            "applied": row["amount"],
            "adjusted": adj.get(row["scheme_id"], Decimal(0)),
            "total": row["amount"] + adj.get(row["scheme_id"], Decimal(0)),
        }
        for row in lines
    ]
    rows.sort(key=lambda r: (r["scheme"].sort_order, r["scheme"].code))
    return {
        "rows": rows,
        "applied": sum((r["applied"] for r in rows), Decimal(0)),
        "adjusted": sum((r["adjusted"] for r in rows), Decimal(0)),
        "total": sum((r["total"] for r in rows), Decimal(0)),
    }
