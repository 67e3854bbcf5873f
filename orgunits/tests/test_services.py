"""Tree changes (区划调整): create, move, merge, retire, and the past staying the past."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from orgunits.models import Level, OrgUnit
from orgunits.rules import next_child_code
from orgunits.selectors import subtree, subtree_ids_on
from orgunits.services import create_unit, merge_units, move_unit, rename_unit, retire_unit
from registry.selectors import population_figures


def test_generated_codes_follow_the_statistical_code_of_the_parent():
    assert next_child_code("150599", Level.STREET, []) == "150599001"
    assert next_child_code("150599001000", Level.COMMUNITY, ["150599001001"]) == "150599001002"
    assert next_child_code("150599001001", Level.GRID, []) == "15059900100101"
    assert next_child_code("15059900100101", Level.BUILDING, ["15059900100101007"]) == "15059900100101008"


def test_world_codes_and_paths(world):
    assert world.east.code == "150599001"
    assert world.east_c1.code == "150599001001"
    assert world.east_b1.code.startswith(world.east_g1.code) and len(world.east_b1.code) == 17
    assert set(subtree(world.east).values_list("name", flat=True)) >= {"东城街道", "龙兴社区", "泰丰社区", "1号楼"}
    assert world.west_b1 not in subtree(world.east)


def test_a_unit_cannot_skip_a_level_or_go_under_itself(world):
    with pytest.raises(ValidationError, match="该层级不能设在所选上级之下"):
        create_unit(name="错层楼", level=Level.BUILDING, parent=world.east_c1)
    with pytest.raises(ValidationError, match="不能移动到自身或其下级之下"):
        move_unit(unit=world.east_c1, new_parent=world.east_c1)


def test_moving_a_community_takes_its_subtree_and_people(world):
    move_unit(unit=world.east_c2, new_parent=world.west, by=world.user("alice"))
    assert population_figures(world.west).residents == 2
    assert population_figures(world.east).residents == 1
    b2 = OrgUnit.objects.get(pk=world.east_b2.pk)
    assert b2.path.startswith(world.west.path) and b2.depth == 4


def test_a_past_date_still_counts_what_was_there_then(world):
    yesterday = dt.date.today() - dt.timedelta(days=1)
    before = population_figures(world.east, on=yesterday).residents
    merge_units(
        source=world.east_c2, target=world.west_c1, on=dt.date.today(), reason="区划调整", by=world.user("alice")
    )
    assert population_figures(world.east).residents == before - 1
    assert population_figures(world.east, on=yesterday).residents == before
    assert world.east_b2.pk in subtree_ids_on(world.east, yesterday)
    source = OrgUnit.objects.get(pk=world.east_c2.pk)
    assert source.retired_on == dt.date.today() and source.merged_into == world.west_c1


def test_retiring_needs_a_reason_and_an_empty_unit(world):
    with pytest.raises(ValidationError, match="撤销必须填写原因"):
        retire_unit(unit=world.east_b1, on=dt.date.today(), reason=" ")
    with pytest.raises(ValidationError, match="在册的户或居民"):
        retire_unit(unit=world.east_b1, on=dt.date.today(), reason="拆迁")
    empty = create_unit(name="9号楼", level=Level.BUILDING, parent=world.east_g1)
    retire_unit(unit=empty, on=dt.date.today(), reason="拆迁")
    assert empty not in subtree(world.east)
    assert empty in subtree(world.east, include_retired=True)


def test_rename_keeps_history_with_who_and_why(world):
    rename_unit(unit=world.east_c1, name="龙兴新社区", by=world.user("alice"), reason="更名批复")
    latest = world.east_c1.history.first()
    assert latest.name == "龙兴新社区"
    assert latest.history_user == world.user("alice")
    assert latest.history_change_reason == "更名批复"
