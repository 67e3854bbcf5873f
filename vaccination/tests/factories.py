"""Builders for the vaccination tests: people of chosen ages in the world's buildings, doses, reasons."""

from __future__ import annotations

import datetime as dt
import importlib

from core.testing import World, make_id_number
from registry.models import Resident, Tag
from registry.services import ResidentData, create_household, create_resident
from vaccination import services
from vaccination.models import Dose, NonVaccinationReason, ReasonRecord, VaccineProduct


def standard_data() -> None:
    """The products and reasons the data migration seeds. Tests on a live server (transactional) flush
    the database afterwards, so later tests may find those tables empty: seed them again the same way."""
    from django.apps import apps

    module = importlib.import_module("vaccination.migrations.0002_standard_products_and_reasons")
    module.seed(apps, None)


def product(code: str = "bibp") -> VaccineProduct:
    if not VaccineProduct.objects.filter(code=code).exists():
        standard_data()
    return VaccineProduct.objects.get(code=code)


def reason(code: str) -> NonVaccinationReason:
    if not NonVaccinationReason.objects.filter(code=code).exists():
        standard_data()
    return NonVaccinationReason.objects.get(code=code)


def person(
    world: World,
    building: str,
    name: str,
    birth: dt.date,
    *,
    sex: str = "F",
    phone: str = "",
    door: str = "",
    tags: list[str] | None = None,
    arrived: dt.date = dt.date(2016, 1, 1),
) -> Resident:
    unit = getattr(world, building)
    admin = world.user("alice")
    household = create_household(unit=unit, door=door or f"9{Resident.objects.count():02d}", head_name=name, by=admin)
    for tag in tags or []:
        Tag.objects.get_or_create(name=tag, defaults={"code": {"残疾": "disabled", "慢病": "chronic"}.get(tag, tag)})
    return create_resident(
        data=ResidentData(
            name=name,
            id_number=make_id_number(birth, sex),
            phone=phone,
            relation="head",
            arrived_on=max(arrived, birth),
            tags=tags or [],
        ),
        unit=unit,
        household=household,
        by=admin,
    )


def doses(world: World, resident: Resident, dates: list[dt.date], *, code: str = "bibp", **kw: object) -> list[Dose]:
    out = []
    for n, date in enumerate(dates, start=1):
        data = services.DoseData(product=product(code), dose_number=n, date=date, **kw)  # type: ignore[arg-type]
        out.append(services.record_dose(resident=resident, data=data, by=world.user("alice")))
    return out


def give_reason(
    world: World, resident: Resident, code: str, *, scope: str = "any", valid_from: dt.date = dt.date(2022, 1, 1)
) -> ReasonRecord:
    return services.record_reason(
        resident=resident, reason=reason(code), scope=scope, valid_from=valid_from, by=world.user("alice")
    )
