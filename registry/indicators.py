"""Population indicators (namespace ``population``); keys documented in docs/indicators.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.indicators import indicator_provider
from orgunits.models import OrgUnit
from registry.selectors import population_figures


@indicator_provider("population")
def population(unit: OrgUnit, on: dt.date) -> dict[str, Any]:
    return population_figures(unit, on=on).as_dict()
