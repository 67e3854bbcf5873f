"""计生 figures for `manage.py indicators` and the API (keys documented in docs/indicators.md)."""

from __future__ import annotations

from typing import Any

from core.indicators import Period, indicator_provider
from familyplanning.selectors import assistance_year, birth_statistics, special_families, visit_year
from orgunits.models import OrgUnit


@indicator_provider("familyplanning", period=True)
def familyplanning(unit: OrgUnit, period: Period) -> dict[str, Any]:
    out = birth_statistics(unit, period).as_indicators()
    families = special_families(unit, period.end)
    out["special_assistance_households"] = families.households
    out["special_assistance_people"] = families.people
    year = period.end.year
    schemes = assistance_year(unit, year)
    out["applied_amount"] = float(sum(s.total for s in schemes))
    for s in schemes:
        out[f"applied.{s.scheme.code}.people"] = s.people
        out[f"applied.{s.scheme.code}.amount"] = float(s.applied)
        out[f"applied.{s.scheme.code}.back_pay"] = float(s.adjusted)
    visits = visit_year(unit, year)
    out["visits"] = visits.visits
    out["visited_households"] = visits.households
    out["visited_people"] = visits.people
    return out
