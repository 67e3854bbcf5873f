"""The 疫苗接种 section of the annual work summary, in the words of seed 000's "（六）…积极推进疫苗接种工作".

Every figure comes from vaccination.indicators.figures (coverage and the reconciliation on the year's
end, doses given in the year). Unlike the seed, the people nobody has explained are said too ("另有234
人未说明原因"): the reconciliation lists them by name. A zero figure drops its clause. The wording is
in templates/vaccination/summary_section.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.indicators import Period
from orgunits.models import OrgUnit
from reports.sections import summary_section
from vaccination import rules, selectors
from vaccination.indicators import CONTRAINDICATION, figures
from vaccination.models import Dose, ReasonRecord


def _other_reasons(result: selectors.Reconciliation, besides: tuple[str, ...]) -> list[tuple[str, int]]:
    rows = result.rows
    return [(r.label, r.count) for r in rows if r.kind == "reason" and r.key not in besides and r.count]


@summary_section("vaccination", order=27, title=gettext_lazy("疫苗接种方面"), template="vaccination/summary_section.md")
def vaccination_section(unit: OrgUnit, year: int) -> dict[str, Any] | None:
    period = Period.year(year, today=timezone.localdate())
    in_unit = unit.subtree_q("resident__unit__")
    if not (
        Dose.objects.filter(in_unit, date__lte=period.end).exists()
        or ReasonRecord.objects.filter(in_unit, valid_from__lte=period.end).exists()
    ):
        return None
    found = figures(unit, period)
    f = found.values
    return {
        "f": f,
        "first_60_all": f["age_60_plus_people"] > 0 and f["age_60_plus_first_dose"] == f["age_60_plus_people"],
        "first_60_percent": rules.percent(f["age_60_plus_first_dose"], f["age_60_plus_people"]),
        "full_other": _other_reasons(found.full, (CONTRAINDICATION,)),
        "booster_other": _other_reasons(found.booster, (CONTRAINDICATION, rules.NO_BOOSTER_NEEDED)),
        "partial": period.end < dt.date(year, 12, 31),
        "as_of": f"{period.end.month}月{period.end.day}日",
    }
