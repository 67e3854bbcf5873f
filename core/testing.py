"""Builders for tests: a small named world (two streets, named users per role).

Used by every app's tests; kept in the code base so that management commands
and benchmarks can build the same shapes.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from accounts.models import Role, User
from accounts.services import create_user
from orgunits.models import Level, OrgUnit
from orgunits.services import create_unit
from registry.models import Household, Resident
from registry.rules import check_char
from registry.services import ResidentData, create_household, create_resident

_serial = itertools.count(1)


def make_id_number(birth: dt.date, sex: str, *, region: str = "150599", serial: int | None = None) -> str:
    """A valid 18-digit resident ID number for the given birth date and sex."""
    n = serial if serial is not None else next(_serial)
    seq = (n % 500) * 2 + (1 if sex == "M" else 0)  # odd for men, even for women
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)


@dataclass
class World:
    district: OrgUnit
    east: OrgUnit  # street 东城街道
    west: OrgUnit  # street 西城街道
    east_c1: OrgUnit  # community 龙兴社区 (east)
    east_c2: OrgUnit  # community 泰丰社区 (east)
    west_c1: OrgUnit  # community 辽河社区 (west)
    east_g1: OrgUnit  # grid in east_c1
    east_g2: OrgUnit  # grid in east_c2
    west_g1: OrgUnit  # grid in west_c1
    east_b1: OrgUnit  # building in east_g1
    east_b2: OrgUnit  # building in east_g2
    west_b1: OrgUnit  # building in west_g1
    users: dict[str, User] = field(default_factory=dict)
    residents: dict[str, Resident] = field(default_factory=dict)
    households: dict[str, Household] = field(default_factory=dict)

    def user(self, name: str) -> User:
        return self.users[name]


# Who sits where: one named user per role, spread so that each must not see the others' data.
USERS = {
    "alice": (Role.DISTRICT_ADMIN, "district"),
    "bob": (Role.STREET_STAFF, "east"),
    "carol": (Role.COMMUNITY_STAFF, "east_c1"),
    "dave": (Role.GRID_WORKER, "east_g1"),
    "erin": (Role.VILLAGE_DOCTOR, "west_c1"),
    "frank": (Role.LEADER_READONLY, "west"),
    "gina": (Role.STREET_STAFF, "west"),
}


def build_world(*, password: str = "pass-1234-word") -> World:  # noqa: S107 - test fixture
    established = dt.date(2015, 1, 1)
    district = create_unit(name="示范区", level=Level.DISTRICT, parent=None, code="150599", established_on=established)
    east = create_unit(name="东城街道", level=Level.STREET, parent=district, established_on=established)
    west = create_unit(name="西城街道", level=Level.STREET, parent=district, established_on=established)
    east_c1 = create_unit(name="龙兴社区", level=Level.COMMUNITY, parent=east, established_on=established)
    east_c2 = create_unit(name="泰丰社区", level=Level.COMMUNITY, parent=east, established_on=established)
    west_c1 = create_unit(name="辽河社区", level=Level.COMMUNITY, parent=west, established_on=established)
    east_g1 = create_unit(name="第一网格", level=Level.GRID, parent=east_c1, established_on=established)
    east_g2 = create_unit(name="第一网格", level=Level.GRID, parent=east_c2, established_on=established)
    west_g1 = create_unit(name="第一网格", level=Level.GRID, parent=west_c1, established_on=established)
    kw: dict[str, Any] = {"level": Level.BUILDING, "established_on": established, "capacity_households": 24}
    east_b1 = create_unit(name="1号楼", parent=east_g1, **kw)
    east_b2 = create_unit(name="2号楼", parent=east_g2, **kw)
    west_b1 = create_unit(name="3号楼", parent=west_g1, **kw)
    world = World(district, east, west, east_c1, east_c2, west_c1, east_g1, east_g2, west_g1, east_b1, east_b2, west_b1)
    for username, (role, where) in USERS.items():
        world.users[username] = create_user(
            username=username, password=password, role=role, org_unit=getattr(world, where), full_name=username
        )
    admin = world.users["alice"]
    people = [
        # key, building, name, birth, sex, phone, door
        ("zhang", east_b1, "张伟", dt.date(1980, 5, 17), "M", "13800000001", "101"),
        ("li", east_b2, "李娜", dt.date(1990, 3, 8), "F", "13800000002", "201"),
        ("wang", west_b1, "王芳", dt.date(1955, 11, 2), "F", "13800000003", "301"),
    ]
    for key, building, name, birth, sex, phone, door in people:
        hh = create_household(unit=building, door=door, entrance="1", head_name=name, by=admin)
        world.households[key] = hh
        world.residents[key] = create_resident(
            data=ResidentData(
                name=name,
                id_number=make_id_number(birth, sex),
                phone=phone,
                relation="head",
                marital_status="married",
                arrived_on=dt.date(2016, 1, 1),
            ),
            unit=building,
            household=hh,
            by=admin,
        )
    return world


# Apps whose records hang off residents and units; later modules add themselves here.
MODULE_APPS = ("testing", "vaccination", "outbreak", "familyplanning")


def wipe_demo() -> None:
    """Delete everything seed_demo wrote (module records first, then the registry and the tree),
    so that a test can load the demo again. Models protect each other (PROTECT foreign keys), so
    each module's models are deleted in whatever order they allow."""
    from django.apps import apps
    from django.db import transaction
    from django.db.models import ProtectedError

    pending = [m for label in MODULE_APPS for m in apps.get_app_config(label).get_models()]
    # Links between records of the modules that may be empty (a round's previous round, a repeat
    # sample's first one) are cut first: a protected link inside one table would never let go.
    for model in pending:
        links = {
            f.name: None
            for f in model._meta.get_fields()
            if f.many_to_one and f.concrete and f.null and f.related_model in pending
        }
        if links:
            model._default_manager.update(**links)
    while pending:
        left = []
        for model in pending:
            try:
                with transaction.atomic():
                    model._default_manager.all().delete()
            except ProtectedError:
                left.append(model)
        if len(left) == len(pending):
            raise RuntimeError(f"cannot wipe {left}")
        pending = left
    User.objects.update(org_unit=None)
    Resident.tags.through.objects.all().delete()
    Resident.objects.all().delete()
    Household.objects.all().delete()
    for depth in range(4, -1, -1):
        OrgUnit.objects.filter(depth=depth).delete()
