"""Builders for the testing tests: a round over the world's east street, its site and tables, a roster.

The roster is built here directly from the registry (every present resident of the scope, nobody
exempt), not through the round's roster builder (testing.services.build_roster): these builders
serve the sampling-table tests, which need a known list, not the exemption rules.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from django.utils import timezone

from core.testing import World, make_id_number
from orgunits.models import OrgUnit
from registry.models import PRESENT_STATUSES, Resident, StaticCode
from registry.services import ResidentData, create_resident, issue_static_code
from testing.models import (
    Round,
    RoundStatus,
    SampleType,
    SamplingSite,
    SamplingTable,
    ShouldSample,
    TableKind,
)

_people = itertools.count(1)


def make_round(
    world: World,
    *,
    sample_type: str = SampleType.POOLED,
    unit: OrgUnit | None = None,
    scope: list[OrgUnit] | None = None,
    name: str = "第一轮全员核酸",
    starts_on: dt.date | None = None,
    status: str = RoundStatus.RUNNING,
) -> Round:
    starts_on = starts_on or timezone.localdate()
    rnd = Round.objects.create(
        unit=unit or world.east,
        name=name,
        sample_type=sample_type,
        starts_on=starts_on,
        ends_on=starts_on,
        status=status,
        created_by=world.user("alice"),
    )
    rnd.scope_units.set(scope if scope is not None else [world.east_c1, world.east_c2])
    return rnd


def make_site(rnd: Round, *, unit: OrgUnit, name: str, buildings: list[OrgUnit] | None = None) -> SamplingSite:
    site = SamplingSite.objects.create(round=rnd, unit=unit, name=name, location=f"{unit.name}广场")
    if buildings:
        site.buildings.set(buildings)
    return site


def make_table(site: SamplingSite, number: int, *, kind: str = TableKind.FIXED) -> SamplingTable:
    return SamplingTable.objects.create(site=site, kind=kind, number=number)


def add_residents(world: World, building: OrgUnit, count: int, *, surname: str = "赵") -> list[Resident]:
    """``count`` more residents in a building (no household), registered by alice."""
    made = []
    for _ in range(count):
        n = next(_people)
        made.append(
            create_resident(
                data=ResidentData(
                    name=f"{surname}{n:03d}",
                    id_number=make_id_number(
                        dt.date(1970 + n % 40, 1 + n % 12, 1 + n % 28), "MF"[n % 2], serial=n + 300
                    ),
                    phone=f"139{n:08d}",
                    relation="other",
                    marital_status="unknown",
                    arrived_on=dt.date(2016, 1, 1),
                ),
                unit=building,
                by=world.user("alice"),
            )
        )
    return made


def build_roster_directly(rnd: Round, *, sites: dict[int, SamplingSite] | None = None) -> list[ShouldSample]:
    """Every present resident under the round's scope units on the list, nobody exempt; ``sites`` maps a
    building's id to the site serving it (the site's own buildings by default)."""
    if sites is None:
        sites = {b.pk: s for s in rnd.sites.all() for b in s.buildings.all()}
    q = None
    for unit in rnd.scope_units.all():
        part = Resident.objects.filter(unit__path__startswith=unit.path)
        q = part if q is None else q | part
    people = q.filter(retired_at__isnull=True, living_status__in=PRESENT_STATUSES) if q is not None else []
    rows = [
        ShouldSample(
            round=rnd,
            resident=r,
            name=r.name,
            id_number=r.id_number,
            phone=r.phone,
            unit_id=r.unit_id,
            site=sites.get(r.unit_id),
        )
        for r in people
    ]
    made = ShouldSample.objects.bulk_create(rows)
    rnd.roster_built_at = timezone.now()
    rnd.save(update_fields=["roster_built_at"])
    return made


def static_code(world: World, resident: Resident) -> StaticCode:
    return issue_static_code(resident=resident, by=world.user("alice"))


@dataclass
class SamplingWorld:
    """A running pooled round of the east street: one site in 龙兴社区 serving 1号楼 and 2号楼, two fixed
    tables, and 24 people on the list (张伟 and 李娜 of the world, 11 more in each building)."""

    round: Round
    site: SamplingSite
    table1: SamplingTable
    table2: SamplingTable
    roster: list[ShouldSample]
    residents: list[Resident] = field(default_factory=list)

    def row(self, resident: Resident) -> ShouldSample:
        return next(r for r in self.roster if r.resident_id == resident.pk)


def sampling_world(world: World, *, sample_type: str = SampleType.POOLED, extra: int = 11) -> SamplingWorld:
    rnd = make_round(world, sample_type=sample_type)
    site = make_site(rnd, unit=world.east_c1, name="龙兴社区广场采样点", buildings=[world.east_b1, world.east_b2])
    t1 = make_table(site, 1)
    t2 = make_table(site, 2)
    residents = [world.residents["zhang"], world.residents["li"]]
    residents += add_residents(world, world.east_b1, extra, surname="赵")
    residents += add_residents(world, world.east_b2, extra, surname="钱")
    roster = build_roster_directly(rnd)
    return SamplingWorld(rnd, site, t1, t2, roster, residents)
