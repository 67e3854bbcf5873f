"""The 计生 section of the annual work summary, in the words of seed 000's "计生方面".

Every figure comes from the selectors: population (registry, at the year's end), births and
birth-service registrations, special-assistance families, holiday visits, and the year's submitted
applications with their back-pay. The wording is in templates/familyplanning/summary_section.md;
this module only gathers the figures and the pieces of text that depend on them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.indicators import Period
from familyplanning.models import (
    ApplicationLine,
    Beneficiary,
    Birth,
    BirthServiceRegistration,
    PaymentPeriod,
    PaymentUnit,
    RegistrationStatus,
    SchemeCategory,
)
from familyplanning.rules import money, order_label
from familyplanning.selectors import SchemeYear, assistance_year, birth_statistics, special_families, visit_year
from orgunits.models import OrgUnit
from registry.selectors import population_figures
from reports.sections import summary_section

# Special assistance in the seed's sense ("计生特扶16户28人共审请款额：295510元") includes the one-time assistance.
SPECIAL_GROUP = (SchemeCategory.SPECIAL_ASSISTANCE, SchemeCategory.ONE_TIME)
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
# rules.describe_pieces writes a monthly back-pay as "110元/月×6月".
MONTHLY_PIECE = re.compile(r"^(?P<amount>[\d.]+)元/月×(?P<months>\d+)月$")


@dataclass
class SchemeLine:
    """One scheme's sentence: who, how much (applied + back-pay), on what standard."""

    label: str
    per_household: bool
    count: str  # "17人" or "1户（2人）"
    amount: str  # "106080元+11220元"
    basis: str = ""  # "按原标准520元/月/人审请，110元/月/人补发6个月"
    by_child_sex: list[tuple[str, int]] = field(default_factory=list)  # [("男孩", 3), ("女孩", 1)]
    attribute: str = ""  # "子女性别：男3户、女1户" when the attribute is not the child's sex
    formula: str = ""  # "3*120元/户+1*240元/户=600元"
    mark: str = ""


def _in(unit: OrgUnit, prefix: str = "unit__") -> Q:
    return Q(**{f"{prefix}path__gte": unit.path, f"{prefix}path__lt": unit.path_end})


def _order_rows(by_order: dict[int, int], higher: bool) -> list[tuple[str, int]]:
    """[("一孩", 631), ("二孩", 242), ("三孩", 10)]: orders with none are left out."""
    rows = []
    for order in (1, 2, 3):
        n = by_order.get(order, 0)
        if n:
            label = _("三孩及以上") if order == 3 and higher else order_label(order)
            rows.append((label, n))
    return rows


def _per(unit: str, period: str) -> str:
    who = _("户") if unit == PaymentUnit.HOUSEHOLD else _("人")
    return _("元/月/%(who)s") % {"who": who} if period == PaymentPeriod.MONTHLY else _("元/%(who)s") % {"who": who}


def _back_pay_text(details: list[str], who: str) -> str:
    parts = []
    for detail in details:
        m = MONTHLY_PIECE.match(detail)
        if m:
            parts.append(
                _("%(amount)s元/月/%(who)s补发%(months)s个月")
                % {"amount": m["amount"], "who": who, "months": m["months"]}
            )
        else:
            parts.append(_("补发%(detail)s") % {"detail": detail})
    return "、".join(parts)


def _covered(unit: OrgUnit, year: int, categories: tuple[str, ...]) -> tuple[int, int]:
    """Households and people covered by the year's application lines of these categories (each once)."""
    lines = ApplicationLine.objects.filter(_in(unit, "application__unit__"), application__year=year).filter(
        scheme__category__in=categories
    )
    through = Beneficiary.members.through.objects.filter(beneficiary_id__in=lines.values("beneficiary_id"))
    people = set(through.values_list("resident_id", flat=True))
    households = set(
        through.exclude(resident__household_id__isnull=True).values_list("resident__household_id", flat=True)
    )
    return len(households), len(people)


def _attribute_groups(unit: OrgUnit, year: int, sy: SchemeYear) -> list[tuple[str, Decimal, int]]:
    """(attribute value, amount, lines) of a scheme's year: the seed's "3*120元/户+1*240元/户"."""
    rows = (
        ApplicationLine.objects.filter(_in(unit, "application__unit__"), application__year=year, scheme=sy.scheme)
        .values("attribute_value", "amount")
        .annotate(n=Count("id"))
    )
    order = {v: k for k, v in enumerate(sy.scheme.attribute_choices)}
    groups = [(r["attribute_value"], r["amount"], r["n"]) for r in rows if r["amount"]]
    return sorted(groups, key=lambda g: (order.get(g[0], len(order)), g[1]))


def _scheme_line(unit: OrgUnit, year: int, sy: SchemeYear, *, household_people: bool) -> SchemeLine:
    scheme = sy.scheme
    per_household = scheme.payment_unit == PaymentUnit.HOUSEHOLD
    who = _("户") if per_household else _("人")
    if per_household and not household_people:
        count = _("%(h)s户") % {"h": sy.households}
    elif per_household:
        count = _("%(h)s户（%(p)s人）") % {"h": sy.households, "p": sy.people}
    else:
        count = _("%(p)s人") % {"p": sy.people}
    amount = _("%(a)s元") % {"a": money(sy.applied)}
    if sy.adjusted:
        sign = "+" if sy.adjusted > 0 else "-"
        amount += sign + _("%(a)s元") % {"a": money(abs(sy.adjusted))}
    line = SchemeLine(label=scheme.label, per_household=per_household, count=count, amount=amount)
    per = _per(scheme.payment_unit, scheme.period)
    standards = "、".join(money(s) + per for s in sy.standards)
    if scheme.period == PaymentPeriod.MONTHLY and standards:
        template = _("按原标准%(s)s审请") if sy.adjusted else _("按标准%(s)s审请")
        line.basis = template % {"s": standards}
        if sy.adjustment_details:
            line.basis += "，" + _back_pay_text(sy.adjustment_details, who)
    elif scheme.period == PaymentPeriod.YEARLY and not sy.adjusted:
        groups = _attribute_groups(unit, year, sy)
        if groups:
            pieces = "+".join(f"{n}*{money(a)}{per}" for _v, a, n in groups)
            line.formula = f"{pieces}={money(sy.total)}" + _("元")
        if scheme.attribute_label:
            counts: dict[str, int] = {}
            for value, _a, n in groups:
                counts[value] = counts.get(value, 0) + n
            if "性别" in scheme.attribute_label and set(counts) <= {"男", "女"}:
                child = {"男": _("男孩"), "女": _("女孩")}
                line.by_child_sex = [(child[v], counts[v]) for v in ("男", "女") if counts.get(v)]
            else:
                line.attribute = _("%(label)s：%(parts)s") % {
                    "label": scheme.attribute_label,
                    "parts": "、".join(f"{v}{n}{who}" for v, n in counts.items()),
                }
    return line


def _amounts_subject(schemes: list[SchemeYear]) -> str:
    """What the amounts paragraph is about: seed 000's "计生特扶、独生子女奖励", for the schemes present."""
    categories = {s.scheme.category for s in schemes}
    parts = []
    if categories & set(SPECIAL_GROUP):
        parts.append(_("计生特扶"))
    if SchemeCategory.ONLY_CHILD in categories:
        parts.append(_("独生子女奖励"))
    if categories & {SchemeCategory.REWARD_ASSISTANCE, SchemeCategory.OTHER}:
        parts.append(_("奖励扶助"))
    return "、".join(parts)


def _mark(k: int) -> str:
    return CIRCLED[k] if k < len(CIRCLED) else f"({k + 1})"


def _date_text(on: dt.date) -> str:
    return _("%(y)s年%(m)s月%(d)s日") % {"y": on.year, "m": on.month, "d": on.day}


@summary_section(
    "familyplanning", order=10, title=gettext_lazy("计生方面"), template="familyplanning/summary_section.md"
)
def familyplanning_section(unit: OrgUnit, year: int) -> dict[str, Any] | None:
    today = timezone.localdate()
    period = Period.year(year, today=today)
    partial = period.end < dt.date(year, 12, 31)
    population = population_figures(unit, on=period.end)
    stats = birth_statistics(unit, period)
    in_period = {"unit__path__gte": unit.path, "unit__path__lt": unit.path_end}
    higher_births = Birth.objects.filter(
        **in_period,
        retired_at__isnull=True,
        birth_date__gte=period.start,
        birth_date__lte=period.end,
        birth_order__gt=3,
    ).exists()
    higher_regs = (
        BirthServiceRegistration.objects.filter(
            **in_period, registered_on__gte=period.start, registered_on__lte=period.end, birth_order__gt=3
        )
        .exclude(status=RegistrationStatus.CANCELLED)
        .exists()
    )
    families = special_families(unit, period.end)
    visits = visit_year(unit, year)
    schemes = [s for s in assistance_year(unit, year) if s.total or s.applied]
    special = [s for s in schemes if s.scheme.category in SPECIAL_GROUP]
    others = [s for s in schemes if s.scheme.category not in SPECIAL_GROUP]
    special_lines = [_scheme_line(unit, year, s, household_people=True) for s in special]
    for k, line in enumerate(special_lines):
        line.mark = _mark(k)
    # The seed counts the rewards in households only ("独生子女奖励金共四户").
    other_lines = [_scheme_line(unit, year, s, household_people=False) for s in others]
    number = 1
    special_total = None
    if special:
        households, people = _covered(unit, year, tuple(c.value for c in SPECIAL_GROUP))
        special_total = {
            "mark": f"{number}、",
            "households": households,
            "people": people,
            "amount": money(sum((s.total for s in special), Decimal(0))),
        }
        number += 1
    for line in other_lines:
        line.mark = f"{number}、"
        number += 1
    if not (population.residents or stats.births or stats.registrations or families.people or visits.visits or schemes):
        return None
    return {
        "partial": partial,
        "as_of": _date_text(period.end) if partial else _("%(y)s年末") % {"y": year},
        "population": population,
        "births": stats,
        "birth_sexes": [(label, n) for label, n in ((_("男孩"), stats.male), (_("女孩"), stats.female)) if n],
        "birth_orders": _order_rows(stats.by_order, higher_births),
        "registration_orders": _order_rows(stats.registrations_by_order, higher_regs),
        "families": families,
        "visits": visits,
        "occasions": "、".join(visits.occasions),
        "special_total": special_total,
        "special_lines": special_lines,
        "other_lines": other_lines,
        "has_amounts": bool(schemes),
        "amounts_subject": _amounts_subject(schemes),
    }
