"""Builders for the round tests (plan, list, progress, results): a round of 东城街道 on the world fixture.

Samples are written as rows here (the table's registration service is tested on its own, in
test_registration.py), so that these tests do not depend on it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from core.testing import World, make_id_number
from orgunits.models import OrgUnit
from registry.models import Household, Resident, Tag
from testing import services
from testing.models import Round, Sample, SamplingSite, SamplingTable, Tube
from testing.services import RoundData

START = dt.date(2022, 3, 22)
_serial = itertools.count(700)
_codes = itertools.count(1)
TZ = timezone.get_fixed_timezone(8 * 60)


def at(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def tag(name: str) -> Tag:
    code = {"残疾": "disabled", "孤寡": "alone"}.get(name, f"t{next(_codes)}")
    return Tag.objects.filter(name=name).first() or Tag.objects.create(code=code, name=name)


def person(
    building: OrgUnit,
    name: str,
    *,
    birth: dt.date = dt.date(1980, 1, 1),
    sex: str = "M",
    household: Household | None = None,
    arrived: dt.date = dt.date(2016, 1, 1),
    left: dt.date | None = None,
    status: str = "resident",
    status_since: dt.date | None = None,
    tags: Sequence[str] = (),
    phone: str = "",
) -> Resident:
    if household is None:
        household = Household.objects.create(unit=building, door=f"{next(_serial)}", head_name=name)
    r = Resident.objects.create(
        name=name,
        id_number=make_id_number(birth, sex, serial=next(_serial)),
        sex=sex,
        birth_date=birth,
        phone=phone or f"139{next(_serial):08d}",
        unit=building,
        household=household,
        living_status=status,
        status_since=status_since or arrived,
        arrived_on=arrived,
        left_on=left,
    )
    for t in tags:
        r.tags.add(tag(t))
    return r


def make_round(
    world: World,
    *,
    by: str = "bob",
    name: str = "第一轮全员核酸",
    starts: dt.date = START,
    ends: dt.date | None = None,
    scope: Sequence[str] = ("east_c1", "east_c2"),
    sample_type: str = "pooled",
    **extra: Any,
) -> Round:
    return services.create_round(
        unit=world.east,
        data=RoundData(
            name=name,
            sample_type=sample_type,
            starts_on=starts,
            ends_on=ends or starts,
            scope_units=[getattr(world, s) for s in scope],
            **extra,
        ),
        by=world.user(by),
    )


def make_site(
    world: World,
    round_: Round,
    unit: OrgUnit,
    name: str,
    buildings: Sequence[OrgUnit] = (),
    *,
    fixed: int = 1,
    mobile: int = 0,
    location: str = "",
    by: str = "bob",
) -> SamplingSite:
    user = world.user(by)
    site = services.add_site(round_=round_, unit=unit, name=name, location=location, by=user)
    if buildings:
        services.assign_buildings(site=site, buildings=list(buildings), by=user)
    if fixed:
        services.add_tables(site=site, kind="fixed", count=fixed, by=user)
    if mobile:
        services.add_tables(site=site, kind="mobile", count=mobile, by=user)
    return site


_tubes = itertools.count(1)


def swab(
    round_: Round,
    table: SamplingTable,
    who: Resident | tuple[str, str],
    *,
    tube: Tube | None = None,
    taken_at: dt.datetime | None = None,
    door_to_door: bool = False,
    make_up: bool = False,
    capacity: int | None = None,
    repeat_of: Sample | None = None,
) -> Sample:
    """One person swabbed (a new tube unless given), as the table's registration would store it."""
    taken_at = taken_at or at(round_.starts_on)
    if tube is None:
        tube = Tube.objects.create(
            round=round_,
            barcode=f"T{next(_tubes):08d}",
            table=table,
            capacity=capacity or round_.tube_capacity,
            opened_at=taken_at,
        )
    tube.filled += 1
    tube.save(update_fields=["filled"])
    resident = who if isinstance(who, Resident) else None
    name, id_number = (who.name, who.id_number) if isinstance(who, Resident) else who
    return Sample.objects.create(
        round=round_,
        tube=tube,
        position=tube.filled,
        client_id=f"c{next(_tubes)}",
        resident=resident,
        name=name,
        id_number=id_number,
        phone=resident.phone if resident else "",
        table=table,
        door_to_door=door_to_door,
        make_up=make_up,
        taken_at=taken_at,
        repeat_of=repeat_of,
    )
