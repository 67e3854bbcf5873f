"""疫苗接种 figures for `manage.py indicators`, the API and the work summary (keys in docs/indicators.md).

Stocks are counted on the period's end against the registry's people present on it (coverage by age
group and level, and the reconciliation of seed 000's groups: 60+ for the full course and the booster,
18–59 for the booster with its "现有人口"); flows (doses given) over the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from core.indicators import Period, indicator_provider
from orgunits.models import OrgUnit
from vaccination import rules, selectors
from vaccination.models import Dose

CONTRAINDICATION = "contraindication"


def _percent(value: Any) -> float | None:
    return None if value is None else float(value)


def _reasons(result: selectors.Reconciliation, *, besides: tuple[str, ...]) -> int:
    """People explained by a recorded reason other than ``besides``."""
    return sum(row.count for row in result.rows if row.kind == "reason" and row.key not in besides)


@dataclass
class Figures:
    values: dict[str, Any]
    full: selectors.Reconciliation  # 60+, full course
    booster: selectors.Reconciliation  # 60+, booster


def figures(unit: OrgUnit, period: Period) -> Figures:
    """The indicators' values (keys without the namespace) and the 60+ reconciliations they come from."""
    on = period.end
    out: dict[str, Any] = {}
    for row in selectors.coverage(unit, on):
        key = row.group.key
        out[f"{key}_people"] = row.cell.people
        for level in rules.LEVELS:
            out[f"{key}_{level}"] = row.cell.count(level)
            out[f"{key}_{level}_percent"] = _percent(row.cell.percent(level))
    full = selectors.reconcile(unit, "age_60_plus", rules.FULL_COURSE, on)
    out["age_60_plus_full_course_contraindicated"] = full.count(CONTRAINDICATION)
    out["age_60_plus_full_course_interval_not_met"] = full.count(rules.INTERVAL_NOT_MET)
    out["age_60_plus_full_course_other_reasons"] = _reasons(full, besides=(CONTRAINDICATION,))
    out["age_60_plus_full_course_unexplained"] = full.count(rules.UNEXPLAINED)
    booster = selectors.reconcile(unit, "age_60_plus", rules.BOOSTER, on)
    out["age_60_plus_booster_contraindicated"] = booster.count(CONTRAINDICATION)
    out["age_60_plus_booster_interval_not_met"] = booster.count(rules.INTERVAL_NOT_MET)
    out["age_60_plus_booster_no_booster_needed"] = booster.count(rules.NO_BOOSTER_NEEDED)
    out["age_60_plus_booster_other_reasons"] = _reasons(booster, besides=(CONTRAINDICATION, rules.NO_BOOSTER_NEEDED))
    out["age_60_plus_booster_unexplained"] = booster.count(rules.UNEXPLAINED)
    adults = selectors.reconcile(unit, "age_18_59", rules.BOOSTER, on)
    out["age_18_59_present"] = adults.tally.present
    out["age_18_59_present_booster"] = adults.tally.present_vaccinated
    given = Dose.objects.filter(
        unit.subtree_q("resident__unit__"), retired_at__isnull=True, date__gte=period.start, date__lte=period.end
    ).aggregate(doses=Count("id"), door=Count("id", filter=Q(door_to_door=True)))
    out["doses"] = given["doses"]
    out["doses_door_to_door"] = given["door"]
    return Figures(out, full, booster)


@indicator_provider("vaccination", period=True)
def vaccination(unit: OrgUnit, period: Period) -> dict[str, Any]:
    return figures(unit, period).values
