"""Population figures of a unit, now and on a past date."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.testing import make_id_number
from orgunits.services import move_unit
from registry.selectors import population_figures
from registry.services import ResidentData, change_living_status, create_resident, retire_resident

TODAY = timezone.localdate()


def add(world, building, *, name, birth, sex="F", arrived=dt.date(2020, 1, 1), **extra):
    return create_resident(
        data=ResidentData(name=name, id_number=make_id_number(birth, sex), arrived_on=arrived, **extra),
        unit=building,
        by=world.user("alice"),
    )


def test_figures_count_the_subtree_only(world):
    assert population_figures(world.district).residents == 3
    assert population_figures(world.east).residents == 2
    assert population_figures(world.east_c1).residents == 1
    assert population_figures(world.west).households_occupied == 1
    assert population_figures(world.east).households_capacity == 48


def test_married_women_of_childbearing_age_use_completed_years(world):
    on = TODAY
    fifteen_today = on.replace(year=on.year - 15)
    fifty_today = on.replace(year=on.year - 50)
    add(world, world.east_b1, name="十五岁", birth=fifteen_today, arrived=fifteen_today, marital_status="married")
    add(world, world.east_b1, name="五十岁", birth=fifty_today, marital_status="married")
    add(world, world.east_b1, name="未婚女", birth=dt.date(1995, 6, 1), marital_status="unmarried")
    figures = population_figures(world.east_c1)
    # 张伟 is a man; 十五岁 counts from her birthday; 五十岁 turned 50 today and drops out.
    assert figures.women_15_49 == 2
    assert figures.married_women_15_49 == 1


def test_floating_away_and_elderly(world):
    add(world, world.east_b1, name="流动人员", birth=dt.date(1990, 1, 1), living_status="floating")
    add(world, world.east_b1, name="外出人员", birth=dt.date(1940, 1, 1), living_status="away")
    figures = population_figures(world.east_c1)
    assert (figures.residents, figures.floating, figures.away) == (3, 1, 1)
    assert (figures.age_60_plus, figures.age_80_plus) == (1, 1)


def test_moved_out_and_retired_people_leave_the_count_but_not_the_past(world):
    zhang = world.residents["zhang"]
    last_month = TODAY - dt.timedelta(days=30)
    change_living_status(resident=zhang, status="moved_out", on=TODAY, by=world.user("carol"), reason="迁往外地")
    assert population_figures(world.east_c1).residents == 0
    assert population_figures(world.east_c1, on=last_month).residents == 1
    li = world.residents["li"]
    retire_resident(resident=li, by=world.user("bob"), reason="重复录入")
    # A record entered by mistake never counted.
    assert population_figures(world.east, on=last_month).residents == 1


def test_people_entered_late_count_from_their_arrival(world):
    add(world, world.west_b1, name="补录人员", birth=dt.date(1970, 1, 1), arrived=dt.date(2021, 3, 1))
    assert population_figures(world.west, on=dt.date(2021, 2, 28)).residents == 1  # only 王芳
    assert population_figures(world.west, on=dt.date(2021, 3, 1)).residents == 2


def test_a_moved_community_counts_in_its_old_street_for_past_dates(world):
    yesterday = TODAY - dt.timedelta(days=1)
    move_unit(unit=world.east_c2, new_parent=world.west, by=world.user("alice"), reason="区划调整")
    assert population_figures(world.west).residents == 2
    assert population_figures(world.west, on=yesterday).residents == 1
    assert population_figures(world.east, on=yesterday).residents == 2


def test_bad_input_is_refused_and_nothing_is_stored(world):
    with pytest.raises(ValidationError) as exc:
        create_resident(
            data=ResidentData(name="错号", id_number="110105194912310021"),
            unit=world.east_b1,
            by=world.user("carol"),
        )
    assert "身份证号校验位错误" in str(exc.value)
    with pytest.raises(ValidationError, match="该证件号码已登记"):
        create_resident(
            data=ResidentData(name="重复", id_number=world.residents["zhang"].id_number),
            unit=world.east_b1,
            by=world.user("carol"),
        )
    assert population_figures(world.east_c1).residents == 1


def test_home_figures_agree_with_the_plain_figures(world):
    from registry.selectors import child_figures, home_figures

    figures, children = home_figures(world.east)
    assert figures == population_figures(world.east)
    assert children == child_figures(world.east)
    leaf, none = home_figures(world.east_b1)
    assert leaf == population_figures(world.east_b1) and none == []
