"""Statistics from records built here: seed 002's town, variants, and the period and policy edges."""

import datetime as dt
import itertools

import pytest
from django.test import override_settings

from core.indicators import Period
from core.testing import make_id_number
from familyplanning import services
from familyplanning.models import Birth
from familyplanning.selectors import birth_statistics, births_by_month, filter_births, late_entries
from familyplanning.services import BirthData, Parent
from registry.models import Resident

D = dt.date
SETTLED = D(2015, 1, 1)
YEAR_2022 = Period(D(2022, 1, 1), D(2022, 12, 31))
_serial = itertools.count(1)


def add_people(unit, count, *, arrived=SETTLED, left=None):
    Resident.objects.bulk_create(
        [
            Resident(
                name="居民",
                id_number=f"X{next(_serial):09d}",
                id_type="other",
                sex="MF"[k % 2],
                birth_date=D(1980, 1, 1),
                unit=unit,
                living_status="resident" if left is None else "moved_out",
                status_since=arrived,
                arrived_on=arrived,
                left_on=left,
            )
            for k in range(count)
        ],
        batch_size=5000,
    )


def add_births(unit, rows):
    """rows: (count, sex, order, out_of_policy)"""
    births = []
    for count, sex, order, out in rows:
        for _ in range(count):
            mother_id = make_id_number(D(1990, 1, 1), "F")
            births.append(
                Birth(
                    unit=unit,
                    child_name="婴",
                    sex=sex,
                    birth_date=D(2022, 6, 1),
                    birth_order=order,
                    mother_name="母",
                    mother_id_number=mother_id,
                    out_of_policy=out,
                    out_of_policy_reason="未婚生育" if out else "",
                    entered_on=D(2022, 6, 10),
                )
            )
    Birth.objects.bulk_create(births)


@pytest.mark.slow
def test_seed_002_town(world):
    """镇卫健办 2022: 54,991 people, 203 births (118 boys, 85 girls): 3.69‰, sex ratio 138.82,
    second-and-higher births 94.44% within policy (17 of 18)."""
    services.create_policy(name="三孩政策", max_children=3, valid_from=D(2021, 5, 31))
    town = world.west  # the west street has 1 resident (王芳) already
    add_people(world.west_b1, 54_990)
    add_people(world.west_b1, 40, left=D(2022, 6, 1))  # moved out before the year's end: not counted
    add_births(
        world.west_b1,
        [
            (108, "M", 1, False),
            (77, "F", 1, False),
            (6, "M", 2, False),
            (7, "F", 2, False),
            (3, "M", 3, False),
            (1, "F", 3, False),
            (1, "M", 2, True),
        ],
    )
    stats = birth_statistics(town, YEAR_2022)
    assert (stats.population, stats.births, stats.male, stats.female) == (54_991, 203, 118, 85)
    assert str(stats.birth_rate) == "3.69"
    assert str(stats.sex_ratio) == "138.82"
    assert (stats.second_plus, str(stats.compliance_rate_second_plus)) == (18, "94.44")
    assert str(stats.sex_ratio_second_plus) == "125.00"
    assert stats.by_order == {1: 185, 2: 14, 3: 4}


def test_a_variant_with_other_numbers_and_the_average_denominator(world):
    add_people(world.east_b1, 999, arrived=D(2022, 7, 1))  # arrived mid-year: 2 people at the start, 1,001 at the end
    add_births(world.east_b1, [(5, "M", 1, False), (4, "F", 2, False), (1, "F", 4, False)])
    services.create_policy(name="三孩政策", max_children=3, valid_from=D(2021, 5, 31))
    end = birth_statistics(world.east, YEAR_2022)
    assert (end.population, str(end.birth_rate)) == (1_001, "9.99")
    average = birth_statistics(world.east, YEAR_2022, denominator="average")
    assert (average.population, str(average.birth_rate)) == (502, "19.92")
    with override_settings(YBZ_BIRTH_RATE_DENOMINATOR="average"):
        assert birth_statistics(world.east, YEAR_2022).population == 502
    assert str(end.sex_ratio) == "100.00"
    assert str(end.compliance_rate) == "90.00"  # the fourth child is outside a three-child policy
    assert end.by_order == {1: 5, 2: 4, 3: 1}


def test_the_policy_in_force_on_the_birth_date_decides(world):
    services.create_policy(name="全面两孩", max_children=2, valid_from=D(2016, 1, 1))
    services.create_policy(name="三孩", max_children=3, valid_from=D(2021, 5, 31))
    for born, order in ((D(2021, 3, 1), 3), (D(2021, 7, 1), 3)):
        Birth.objects.create(
            unit=world.east_b1,
            child_name="婴",
            sex="M",
            birth_date=born,
            birth_order=order,
            mother_name="母",
            entered_on=born,
        )
    stats = birth_statistics(world.east, Period(D(2021, 1, 1), D(2021, 12, 31)))
    assert (stats.births, stats.within_policy) == (2, 1)


def test_statistics_count_only_the_units_subtree_and_period(world):
    add_births(world.east_b1, [(2, "M", 1, False)])
    add_births(world.west_b1, [(7, "F", 1, False)])
    Birth.objects.filter(unit=world.east_b1).update(birth_date=D(2022, 12, 31), entered_on=D(2023, 1, 3))
    Birth.objects.create(
        unit=world.east_b1,
        child_name="婴",
        sex="F",
        birth_date=D(2023, 1, 1),
        birth_order=1,
        mother_name="母",
        entered_on=D(2023, 1, 2),
    )
    assert birth_statistics(world.east, YEAR_2022).births == 2
    assert birth_statistics(world.east_c2, YEAR_2022).births == 0
    assert birth_statistics(world.district, YEAR_2022).births == 9
    assert births_by_month(world.east, 2022)["male"][11] == 2


def test_registrations_by_order_leave_out_cancelled_ones(world):
    bob = world.user("bob")
    mothers = [Parent(name=f"母{k}", id_number=make_id_number(D(1992, 1, 1), "F")) for k in range(4)]
    for m, order in zip(mothers, (1, 1, 2, 3), strict=True):
        services.record_registration(
            unit=world.east_b1, mother=m, birth_order=order, registered_on=D(2022, 5, 1), by=bob
        )
    services.cancel_registration(
        registration=services.BirthServiceRegistration.objects.get(mother_name="母0"), reason="迁出", by=bob
    )
    stats = birth_statistics(world.east, YEAR_2022)
    assert (stats.registrations, stats.registrations_by_order) == (3, {1: 1, 2: 1, 3: 1})


def test_late_entries_and_the_ledger_filter(world):
    bob = world.user("bob")
    for k, (born, entered) in enumerate(((D(2022, 1, 1), D(2022, 1, 20)), (D(2022, 2, 1), D(2022, 6, 1)))):
        services.record_birth(
            data=BirthData(
                child_name=f"婴{k}",
                sex="M",
                birth_date=born,
                birth_order=1,
                entered_on=entered,
                mother=Parent(name=f"母{k}", id_number=make_id_number(D(1990, 1, 1), "F")),
            ),
            unit=world.east_b1,
            by=bob,
        )
    late = late_entries(world.east, YEAR_2022, days=30)
    assert [(b.child_name, b.days_to_entry) for b in late] == [("婴1", 120)]
    assert [b.child_name for b in filter_births(bob, {"late": "30"})] == ["婴1"]
    assert [b.child_name for b in filter_births(world.user("gina"), {})] == []
