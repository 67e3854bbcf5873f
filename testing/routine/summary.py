"""The 应检尽检 paragraph of the annual work summary, in the manner of seed 000's "（五）完成应检尽检工作".

Seed 000 says who is tested (辖区内11个社区应检人员共1551人，其中社区干部128人，物业人员1423人), where
(风情街和市政府广场两个应检尽检核酸采样点) and when (每周一、二、四分为三个批次): all of it is computed
here from the groups, members and schedule. It could not say how often testing happened nor how many
tests were missed and made up ("发现漏检及时通知本人进行补检"): the records say that too. A clause
whose figure is zero is left out. The wording is in templates/testing/routine/summary_section.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.indicators import Period
from orgunits.models import Level, OrgUnit
from reports.sections import summary_section
from testing.models import KeyGroup, ScheduleSlot
from testing.routine import rules, selectors
from testing.routine.indicators import members_in


def _date(on: dt.date, year: int) -> str:
    return f"{on.month}月{on.day}日" if on.year == year else f"{on.year}年{on.month}月{on.day}日"


@summary_section(
    "testing_routine",
    order=26,
    title=gettext_lazy("完成应检尽检工作"),
    template="testing/routine/summary_section.md",
)
def routine_section(unit: OrgUnit, year: int) -> dict[str, Any] | None:
    period = Period.year(year, today=timezone.localdate())
    members = members_in(unit)
    found = selectors.ledger(members, period.start, period.end, today=period.end)
    counts = found.counts()
    if not counts:
        return None
    totals = found.totals()
    first_day, last_day = counts[0].cycle.day, counts[-1].cycle.day
    group_ids = {found.members[pk].group_id for pk, dues in found.due.items() if dues}
    groups = list(KeyGroup.objects.filter(pk__in=group_ids).order_by("pk"))
    figures = selectors.figures(members, groups, last_day)
    named: dict[str, int] = {}
    for g in figures.groups:
        if g.members:
            named[g.group.name] = named.get(g.group.name, 0) + g.members
    slots = list(
        ScheduleSlot.objects.filter(group_id__in=group_ids, valid_from__lte=last_day).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=last_day)
        )
    )
    sites = sorted({s.site for s in slots if s.site}, key=lambda s: min(x.pk for x in slots if x.site == s))
    batches = {s.batch for s in slots if s.batch is not None}
    communities = [u for u in figures.units if u.level == Level.COMMUNITY]
    return {
        "start": _date(first_day, year),
        "communities": len(communities),
        "total": figures.total,
        "groups": [{"name": name, "people": n} for name, n in named.items()],
        "group_names": "、".join(named),
        "sites": "和".join(sites) if len(sites) <= 2 else "、".join(sites),
        "site_count": rules.chinese_count(len(sites)),
        "has_sites": bool(sites),
        "weekdays": rules.weekdays_text(s.weekday for s in slots),
        "batches": rules.chinese_count(len(batches)) if batches else "",
        "cycles": len(totals.days),
        "due": totals.due,
        "tested": totals.tested,
        "missed": totals.missed,
        "made_up": totals.made_up,
        "outstanding": totals.outstanding,
        "completion": totals.completion,
        "is_community": unit.level in (Level.COMMUNITY, Level.GRID, Level.BUILDING),
    }
