"""The vaccination indicators (keys documented in docs/indicators.md) and the work-summary paragraph."""

import datetime as dt

from core.indicators import Period, indicators
from reports.sections import build_summary
from vaccination.tests.factories import doses, give_reason, person

D = dt.date
YEAR = Period(D(2022, 1, 1), D(2022, 12, 31))


def small_town(world):
    a = person(world, "east_b1", "老甲", D(1950, 1, 1))
    doses(world, a, [D(2021, 5, 1), D(2021, 6, 1), D(2022, 1, 10)], door_to_door=True)
    b = person(world, "east_b1", "老乙", D(1952, 1, 1))
    doses(world, b, [D(2021, 5, 1)])
    give_reason(world, b, "contraindication", scope="full_course")
    c = person(world, "east_b2", "老丙", D(1940, 1, 1))
    doses(world, c, [D(2022, 12, 20)])
    person(world, "east_b2", "老丁", D(1945, 1, 1))
    doses(world, world.residents["zhang"], [D(2021, 5, 1), D(2021, 6, 1), D(2021, 12, 1)])
    give_reason(world, world.residents["li"], "away")


def test_the_indicators_of_the_east_street(world):
    small_town(world)
    out = indicators(world.east, YEAR)
    got = {k.removeprefix("vaccination."): v for k, v in out.items() if k.startswith("vaccination.")}
    assert (got["age_60_plus_people"], got["age_60_plus_first_dose"], got["age_60_plus_full_course"]) == (4, 3, 1)
    assert got["age_60_plus_full_course_percent"] == 25.0 and got["age_80_plus_people"] == 1
    assert (
        got["age_60_plus_full_course_contraindicated"],
        got["age_60_plus_full_course_interval_not_met"],
        got["age_60_plus_full_course_unexplained"],
    ) == (1, 1, 1)
    assert (got["age_18_59_people"], got["age_18_59_present"], got["age_18_59_present_booster"]) == (2, 1, 1)
    assert (got["doses"], got["doses_door_to_door"]) == (2, 1)  # given in 2022: 老甲's booster, 老丙's first


def test_the_summary_paragraph_says_the_unexplained_too(world):
    small_town(world)
    text = dict(build_summary(world.east, 2022).sections)["疫苗接种方面"]
    assert "全年辖区共登记新冠病毒疫苗接种2剂次，其中为行动不便的老人上门接种1剂次。" in text
    assert "60周岁以上群体首针接种3人，疫苗首针接种覆盖率75.00%。" in text
    assert "该年龄段辖区内总人口2人，现有人口1人，其中已接第三针1人" in text
    assert (
        "60周岁以上摸底人口数4人，其中完成全程接种的共1人，有1人由于禁忌症无法全程接种，"
        "1人由于不满足接种间隔时间暂未接种，另有1人未说明原因；完成加强针免疫接种的共1人。"
    ) in text


def test_no_records_no_section(world):
    assert "疫苗接种方面" not in dict(build_summary(world.east, 2022).sections)
