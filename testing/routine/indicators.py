"""应检尽检 figures for `manage.py indicators`, the API and the work summary (keys in docs/indicators.md,
under ``### testing.routine``).

Counted for the members whose unit lies in the unit's subtree (whatever unit their group belongs
to). Members are a stock on the period end; cycles and tests are counted over the period's cycles,
as they stood on the period end (a make-up after the period end does not change a past report).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from core.indicators import Period, indicator_provider
from orgunits.models import OrgUnit
from testing.models import KeyGroup, KeyGroupMember
from testing.routine import selectors


def members_in(unit: OrgUnit) -> Any:
    return KeyGroupMember.objects.filter(Q(unit__path__gte=unit.path, unit__path__lt=unit.path_end))


def routine_figures(unit: OrgUnit, period: Period) -> dict[str, Any]:
    members = members_in(unit)
    groups = list(KeyGroup.objects.filter(pk__in=members.values("group_id")).order_by("name", "pk"))
    figures = selectors.figures(members, groups, period.end)
    by_name: dict[str, int] = {}
    for g in figures.groups:
        if g.members:
            by_name[g.group.name] = by_name.get(g.group.name, 0) + g.members
    as_of = min(period.end, timezone.localdate())
    totals = selectors.ledger(members, period.start, period.end, today=as_of).totals()
    return {
        "members": figures.total,
        "members_by_group": by_name,
        "groups": len(by_name),
        "cycles": len(totals.days),
        "due": totals.due,
        "tested": totals.tested,
        "missed": totals.missed,
        "made_up": totals.made_up,
        "outstanding": totals.outstanding,
        "completion_percent": float(totals.completion) if totals.completion is not None else None,
    }


@indicator_provider("testing.routine", period=True)
def routine(unit: OrgUnit, period: Period) -> dict[str, Any]:
    return routine_figures(unit, period)
