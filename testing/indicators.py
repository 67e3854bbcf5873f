"""核酸检测: indicators of mass-testing rounds; routine testing (testing.routine) registers its own beside them.

Namespace ``testing`` (keys in docs/indicators.md). Rounds count when they start in the period and their
scope includes the unit, part of it or a unit above it; each round's figures are those of the unit's part
of it (the whole round for the unit that organised it or one above), summed over the rounds: people are
counted once per round (a person on three rounds' lists counts three times). Static codes are a stock, on
the period's end.
"""

from __future__ import annotations

from typing import Any

import testing.routine.indicators  # noqa: F401
from core.indicators import Period, indicator_provider
from orgunits.models import OrgUnit
from testing import rules, selectors
from testing.models import Exemption


def rounds_in(unit: OrgUnit, period: Period) -> list[Any]:
    return list(
        selectors.rounds_touching(unit)
        .filter(starts_on__gte=period.start, starts_on__lte=period.end)
        .order_by("starts_on", "id")
    )


@indicator_provider("testing", period=True)
def round_indicators(unit: OrgUnit, period: Period) -> dict[str, Any]:
    total = selectors.Tally()
    rounds = rounds_in(unit, period)
    for r in rounds:
        total.add(selectors.round_total(r, None if r.unit.is_within(unit) else unit))
    out: dict[str, Any] = {
        "rounds": len(rounds),
        "roster": total.listed,
        "not_needed": total.not_needed,
    }
    for reason in (*rules.EXEMPTION_ORDER, Exemption.OTHER):
        out[f"exempt_{reason}"] = total.exempt.get(reason, 0)
    out.update(
        {
            "should_sample": total.should,
            "sampled": total.sampled,
            "sampled_off_roster": total.off_roster,
            "door_to_door": total.door_to_door,
            "make_up": total.make_up,
            "missed": total.missed,
            "samples": total.swabs,
            "static_codes": selectors.codes_issued(unit, period.end),
        }
    )
    return out
