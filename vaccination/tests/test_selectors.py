"""Coverage and the reconciliation built from a small world in the database: exact counts and names,
each user's subtree only, phones masked per role."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from registry.models import Tag
from registry.services import change_living_status
from vaccination import rules, selectors, services
from vaccination.tests.factories import doses, give_reason, person

D = dt.date
ON = D(2022, 12, 31)
LONG_AGO = [D(2021, 5, 1), D(2021, 6, 1)]


@pytest.fixture
def town(world):
    """East street: six people aged 60+, two aged 18–59 (the world's 张伟 and 李娜), a child."""
    p = {
        "jia": person(world, "east_b1", "老甲", D(1940, 2, 1), phone="13900000001"),  # 82
        "yi": person(world, "east_b1", "老乙", D(1950, 2, 1), phone="13900000002"),
        "bing": person(world, "east_b2", "老丙", D(1952, 2, 1), phone="13900000003", tags=["残疾"]),
        "ding": person(world, "east_b2", "老丁", D(1948, 2, 1)),
        "wu": person(world, "east_b1", "老戊", D(1945, 2, 1)),
        "ji": person(world, "east_b1", "老己", D(1941, 2, 1), phone="13900000006", door="101"),  # 81
        "kid": person(world, "east_b2", "小童", D(2010, 2, 1)),
    }
    doses(world, p["jia"], [*LONG_AGO, D(2022, 1, 10)])
    doses(world, p["yi"], [D(2022, 12, 20)])  # dose 2 due 2023-01-10: interval not met
    doses(world, p["bing"], [D(2021, 5, 1)])
    doses(world, p["ding"], [D(2021, 5, 1)])
    give_reason(world, p["ding"], "contraindication", scope="full_course")
    doses(world, p["wu"], [*LONG_AGO, D(2021, 7, 1)], code="zf2001")
    p["refusal"] = give_reason(world, p["ji"], "refused")
    doses(world, p["kid"], [D(2021, 11, 1), D(2021, 12, 1)])
    doses(world, world.residents["zhang"], [*LONG_AGO, D(2021, 12, 1)])
    give_reason(world, world.residents["li"], "away")
    return p


def counts(result):
    return {row.key: row.count for row in result.rows if row.count}


def test_coverage_of_the_east_street(world, town):
    rows = {r.group.key: r.cell for r in selectors.coverage(world.east, ON)}
    cell = rows["age_60_plus"]
    assert (cell.people, cell.first_dose, cell.full_course, cell.booster) == (6, 5, 2, 1)
    cell = rows["age_80_plus"]
    assert (cell.people, cell.first_dose, cell.full_course, cell.booster) == (2, 1, 1, 1)
    cell = rows["age_18_59"]
    assert (cell.people, cell.first_dose, cell.full_course, cell.booster) == (2, 1, 1, 1)
    assert (rows["age_3_17"].people, rows["age_3_17"].full_course) == (1, 1)
    assert str(rows["age_60_plus"].percent("full_course")) == "33.33"
    # Before the doses were given: nobody vaccinated, the same people.
    early = {r.group.key: r.cell for r in selectors.coverage(world.east, D(2021, 1, 1))}
    assert (early["age_60_plus"].people, early["age_60_plus"].first_dose) == (6, 0)


def test_reconciliation_of_the_60_plus_full_course_adds_up_and_names_the_rest(world, town):
    result = selectors.reconcile(world.east, "age_60_plus", rules.FULL_COURSE, ON)
    assert counts(result) == {
        "vaccinated": 2,
        "interval_not_met": 1,
        "contraindication": 1,
        "refused": 1,
        "unexplained": 1,
    }
    assert sum(row.count for row in result.rows) == result.total == 6
    names = [r.name for r in selectors.person_rows(world.user("bob"), result.unexplained_ids, ON, result.progress)]
    assert names == ["老丙"]
    # The refusal was a mistake: retired, 老己 is unexplained again.
    services.retire_reason(record=town["refusal"], reason="登记错了", by=world.user("alice"))
    result = selectors.reconcile(world.east, "age_60_plus", rules.FULL_COURSE, ON)
    assert counts(result)["unexplained"] == 2 and "refused" not in counts(result)
    rows = selectors.person_rows(world.user("bob"), result.unexplained_ids, ON, result.progress)
    assert [(r.name, r.doses, r.community) for r in rows] == [("老己", 0, "龙兴社区"), ("老丙", 1, "泰丰社区")]
    assert rows[0].address == "1号楼 101" and rows[0].grid == "第一网格"


def test_boosters_are_reconciled_over_the_full_course(world, town):
    result = selectors.reconcile(world.east, "age_60_plus", rules.BOOSTER, ON)
    assert counts(result) == {"vaccinated": 1, "recombinant_no_booster": 1, "not_full_course": 4}
    assert result.base == 2 and result.unexplained_ids == []


def test_the_80_plus_are_within_the_60_plus(world, town):
    result = selectors.reconcile(world.east, "age_80_plus", rules.FULL_COURSE, ON)
    assert counts(result) == {"vaccinated": 1, "refused": 1}


def test_the_present_population_of_18_59_leaves_out_the_away(world, town):
    result = selectors.reconcile(world.east, "age_18_59", rules.BOOSTER, ON)
    assert (result.total, result.tally.absent, result.tally.present, result.tally.present_vaccinated) == (2, 1, 1, 1)


def test_people_who_left_before_the_date_are_not_counted(world, town):
    change_living_status(
        resident=town["bing"], status="moved_out", on=D(2022, 6, 1), reason="迁出", by=world.user("alice")
    )
    result = selectors.reconcile(world.east, "age_60_plus", rules.FULL_COURSE, ON)
    assert result.total == 5 and counts(result).get("unexplained", 0) == 0
    earlier = selectors.reconcile(world.east, "age_60_plus", rules.FULL_COURSE, D(2022, 5, 1))
    assert earlier.total == 6  # still there in May


def test_each_user_gets_his_subtree_and_masking_per_role(world, town):
    services.retire_reason(record=town["refusal"], reason="登记错了", by=world.user("alice"))
    with pytest.raises(PermissionDenied):
        selectors.reconciliation_for(world.user("carol"), world.east, "age_60_plus", rules.FULL_COURSE, ON)
    mine = selectors.reconciliation_for(world.user("carol"), world.east_c1, "age_60_plus", rules.FULL_COURSE, ON)
    assert [r.name for r in selectors.person_rows(world.user("carol"), mine.unexplained_ids, ON)] == ["老己"]
    east = selectors.reconcile(world.east, "age_60_plus", rules.FULL_COURSE, ON)
    # A grid worker sees phones in full, never full ID numbers; out-of-subtree people are dropped.
    dave = selectors.person_rows(world.user("dave"), east.unexplained_ids, ON)
    assert [(r.name, r.phone) for r in dave] == [("老己", "13900000006")]
    assert "*" in dave[0].id_number
    west = selectors.reconcile(world.west, "age_60_plus", rules.FULL_COURSE, ON)
    frank = selectors.person_rows(world.user("frank"), west.unexplained_ids, ON)
    assert [(r.name, r.phone) for r in frank] == [("王芳", "138****0003")]
    assert selectors.person_rows(world.user("frank"), east.unexplained_ids, ON) == []


def test_door_to_door_lists_the_unexplained_elderly_optionally_by_tag(world, town):
    bob = world.user("bob")
    rows = selectors.door_to_door(bob, world.east, ON, group_key="age_60_plus", level=rules.FULL_COURSE)
    assert [r.name for r in rows] == ["老丙"] and rows[0].tags == ["残疾"]
    disabled = Tag.objects.get(name="残疾")
    chronic, _ = Tag.objects.get_or_create(name="慢病", defaults={"code": "chronic"})
    assert [
        r.name
        for r in selectors.door_to_door(
            bob, world.east, ON, group_key="age_60_plus", level="full_course", tag_ids=[disabled.pk]
        )
    ] == ["老丙"]
    assert (
        selectors.door_to_door(bob, world.east, ON, group_key="age_60_plus", level="full_course", tag_ids=[chronic.pk])
        == []
    )
    assert selectors.door_to_door(bob, world.east, ON, group_key="age_80_plus", level="full_course") == []


def test_the_card_of_one_person(world, town):
    c = selectors.card(town["yi"], ON)
    assert [s.category for s in c.states] == ["vaccinated", "interval_not_met", "not_full_course"]
    assert c.next_dose == rules.NextDose(2, D(2023, 1, 10))
    c = selectors.card(town["wu"], ON)
    assert [s.category_label for s in c.states] == ["已接种", "已接种", "接种重组蛋白疫苗无需加强"]
