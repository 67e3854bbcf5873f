"""Builders for the routine-testing tests: the world's streets each get a key group, a weekly schedule
(batch 1 Monday, 2 Tuesday, 3 Thursday) and members in their communities."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils import timezone, translation

from core.testing import World, make_id_number
from reports.sections import SUMMARY_LANGUAGE, tidy
from testing.models import KeyGroup, KeyGroupMember
from testing.routine import services
from testing.routine.summary import routine_section

TODAY = timezone.localdate()
# The Monday five weeks ago: five full weeks of cycles before this week.
START = TODAY - dt.timedelta(days=TODAY.weekday()) - dt.timedelta(weeks=5)
SCHEDULE = ((0, 1), (1, 2), (3, 3))


def visitor_id(serial: int) -> str:
    return make_id_number(dt.date(1985, 3, 4), "M", serial=serial)


@dataclass
class Routine:
    east: KeyGroup
    west: KeyGroup
    members: dict[str, KeyGroupMember] = field(default_factory=dict)


def weekly(group: KeyGroup, by, *, site: str = "风情街", start: dt.date = START) -> None:
    slots = [services.SlotData(weekday=w, batch=b, site=site) for w, b in SCHEDULE]
    services.change_schedule(group=group, slots=slots, valid_from=start, by=by)


def routine(world: World, *, start: dt.date = START) -> Routine:
    """东城 社区干部 (zhang of east_c1 batch 1, li of east_c2 batch 1, 赵六 of east_c1 batch 2, not in the
    registry) and 西城 物业人员 (wang of west_c1, batch 1)."""
    bob, gina = world.user("bob"), world.user("gina")
    east = services.create_group(unit=world.east, name="社区干部", by=bob)
    west = services.create_group(unit=world.west, name="物业人员", by=gina)
    weekly(east, bob, start=start)
    weekly(west, gina, site="市政府广场", start=start)
    r = Routine(east, west)
    add = services.add_member
    r.members["zhang"] = add(
        group=east,
        data=services.MemberData(id_number=world.residents["zhang"].id_number, joined_on=start, batch=1),
        by=bob,
    )
    r.members["li"] = add(
        group=east,
        data=services.MemberData(id_number=world.residents["li"].id_number, joined_on=start, batch=1),
        by=bob,
    )
    r.members["zhao"] = add(
        group=east,
        data=services.MemberData(
            id_number=visitor_id(7),
            name="赵六",
            phone="13900000006",
            unit=world.east_c1,
            workplace="龙兴社区居委会",
            joined_on=start,
            batch=2,
        ),
        by=bob,
    )
    r.members["wang"] = add(
        group=west,
        data=services.MemberData(
            id_number=world.residents["wang"].id_number, joined_on=start, batch=1, workplace="安居物业"
        ),
        by=gina,
    )
    return r


def mondays(n: int = 5) -> list[dt.date]:
    return [START + dt.timedelta(weeks=k) for k in range(n)]


def section_text(unit, year):  # type: ignore[no-untyped-def]
    """The section as build_summary renders it (alone: the other sections have their own tests)."""
    context = routine_section(unit, year)
    if context is None:
        return None
    with translation.override(SUMMARY_LANGUAGE):
        return tidy(render_to_string("testing/routine/summary_section.md", {"unit": unit, "year": year, **context}))
