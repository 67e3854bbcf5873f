"""Builders for the 计生 tests: schemes with standards, people enrolled, births."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from core.testing import World, make_id_number
from familyplanning import services
from familyplanning.models import Scheme
from registry.models import Household, Resident
from registry.services import ResidentData, create_household, create_resident

_doors = itertools.count(500)


def scheme(code: str, *, period: str = "monthly", unit: str = "person", category: str = "special", **kw: Any) -> Scheme:
    return services.create_scheme(
        code=code, name=kw.pop("name", code), category=category, payment_unit=unit, period=period, **kw
    )


def standard(s: Scheme, amount: int, start: dt.date, *, attribute: str = "", end: dt.date | None = None) -> None:
    services.add_standard(scheme=s, amount=Decimal(amount), valid_from=start, valid_to=end, attribute_value=attribute)


def person(
    world: World,
    name: str,
    *,
    building: Any = None,
    birth: dt.date = dt.date(1960, 1, 1),
    sex: str = "M",
    household: Household | None = None,
    marital: str = "married",
) -> Resident:
    building = building or world.east_b1
    if household is None:
        household = create_household(unit=building, door=str(next(_doors)), head_name=name, by=world.user("alice"))
    return create_resident(
        data=ResidentData(
            name=name,
            id_number=make_id_number(birth, sex),
            relation="head",
            marital_status=marital,
            arrived_on=dt.date(2010, 1, 1),
        ),
        unit=building,
        household=household,
        by=world.user("alice"),
    )
