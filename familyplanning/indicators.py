"""计生 figures for `manage.py indicators` and the API (keys documented in docs/indicators.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core.indicators import Period, indicator_provider
from familyplanning.models import SchemeCategory
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
    # Per category, not per scheme: scheme codes are data, indicator keys must stay stable.
    for category in SchemeCategory:
        total = sum((s.total for s in schemes if s.scheme.category == category), Decimal(0))
        out[f"applied_{category.value}"] = float(total)
    out["back_pay"] = float(sum((s.adjusted for s in schemes), Decimal(0)))
    out["applied_amount"] = float(sum((s.total for s in schemes), Decimal(0)))
    visits = visit_year(unit, year)
    out["visits"] = visits.visits
    out["visited_households"] = visits.households
    out["visited_people"] = visits.people
    return out
