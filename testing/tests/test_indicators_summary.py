"""testing.* indicators and the 全员核酸 paragraph of the work summary, computed from the rounds."""

import datetime as dt

import pytest

from core.indicators import Period, indicators
from registry.services import issue_static_code
from reports.sections import build_summary
from testing import services
from testing.indicators import round_indicators
from testing.services import StaffData
from testing.summary import campaigns, chinese_number
from testing.tests.rounds_helpers import at, make_round, make_site, person, swab
from testing.tests.test_roster import xlsx
from testing.tests.test_views import running, street  # noqa: F401 - the fixtures

YEAR = Period(dt.date(2022, 1, 1), dt.date(2022, 12, 31))


def test_indicators_of_the_street_a_community_and_another_street(world, running):  # noqa: F811
    street_figures = round_indicators(world.east, YEAR)
    assert street_figures["rounds"] == 3  # the drill, the 21 March check in 泰丰社区, and the round
    this = round_indicators(world.east, Period(dt.date(2022, 3, 22), dt.date(2022, 3, 22)))
    assert {k: this[k] for k in ("rounds", "roster", "not_needed", "should_sample", "sampled", "missed")} == {
        "rounds": 1,
        "roster": 15,
        "not_needed": 6,
        "should_sample": 9,
        "sampled": 1,
        "missed": 8,
    }
    assert (this["exempt_home"], this["exempt_recent_test"], this["exempt_previous_round"], this["exempt_other"]) == (
        1,
        2,
        1,
        0,
    )
    community = round_indicators(world.east_c1, Period(dt.date(2022, 3, 22), dt.date(2022, 3, 22)))
    assert (community["roster"], community["sampled"], community["missed"]) == (8, 1, 3)
    assert round_indicators(world.west, YEAR)["rounds"] == 0
    district = indicators(world.district, YEAR)
    assert district["testing.rounds"] == 3 and district["testing.samples"] == 5


def test_static_codes_are_counted_on_the_period_end(world):
    code = issue_static_code(resident=world.residents["zhang"], by=world.user("carol"))
    on = code.issued_at.date()
    assert round_indicators(world.east, Period(on, on))["static_codes"] == 1
    assert (
        round_indicators(world.east, Period(on - dt.timedelta(days=3), on - dt.timedelta(days=1)))["static_codes"] == 0
    )


def test_numbers_and_campaigns():
    assert [chinese_number(n) for n in (1, 2, 3, 10, 11, 12, 20, 74)] == [
        "一",
        "两",
        "三",
        "十",
        "十一",
        "十二",
        "二十",
        "七十四",
    ]


@pytest.fixture
def year(world):
    """A year of rounds on 东城街道: the first in March, 三天两检 in October with workers, two more later."""
    bob = world.user("bob")
    for k in range(8):
        person(world.east_b1 if k % 2 else world.east_b2, f"居民{k}")
    march = make_round(world, name="第一轮", starts=dt.date(2022, 3, 22))
    s1 = make_site(world, march, world.east_c1, "龙兴一号点", [world.east_b1], fixed=2, location="龙兴花园 东门")
    make_site(world, march, world.east_c2, "泰丰一号点", [world.east_b2], fixed=1, location="泰丰小区 南门")
    services.add_staff(round_=march, data=StaffData(role="sampler", name="甲", table=s1.tables.first()), by=bob)
    services.build_roster(round_=march, by=bob)
    for i, row in enumerate(march.roster.order_by("id")[:6]):
        swab(march, s1.tables.first(), row.resident, door_to_door=i == 0)
    october = []
    for day in (11, 13):
        r = make_round(world, name=f"10月{day}日", starts=dt.date(2022, 10, day), recent_test_hours=0)
        a = make_site(
            world, r, world.east_c1, "龙兴一号点", [world.east_b1], fixed=3, mobile=1, location="龙兴花园 东门"
        )
        make_site(world, r, world.east_c1, "龙兴二号点", fixed=1, location="龙兴花园 西门")
        make_site(world, r, world.east_c2, "泰丰一号点", [world.east_b2], fixed=2, location="泰丰小区 南门")
        for role, n in [("sampler", 2), ("registrar", 2), ("order", 3), ("police", 1), ("disinfection", 1)]:
            for k in range(n):
                services.add_staff(round_=r, data=StaffData(role=role, name=f"{role}{k}", site=a), by=bob)
        for k, plate in enumerate(["蒙G1", "蒙G1", "蒙G2"]):
            services.add_staff(round_=r, data=StaffData(role="transport", name=f"司机{k}", vehicle_plate=plate), by=bob)
        services.build_roster(round_=r, by=bob)
        services.import_extra_people(
            round_=r,
            content=xlsx(
                [
                    ("工人甲", "11010519491231002X", "", "1号楼", "某工地", "工地"),
                    ("店员乙", "E1", "", "2号楼", "超市", "商铺"),
                ]
            ),
            filename="w.xlsx",
            by=bob,
        )
        for row in r.roster.order_by("id")[: 9 if day == 11 else 10]:
            swab(r, a.tables.first(), (row.name, row.id_number), taken_at=at(r.starts_on))
        october.append(r)
    later = [
        make_round(world, name=n, starts=d)
        for n, d in (("11月", dt.date(2022, 11, 20)), ("12月", dt.date(2022, 12, 2)))
    ]
    return march, october, later


def test_campaigns_group_rounds_within_three_days(world, year):
    march, october, later = year
    assert [[r.name for r in g] for g in campaigns([*october, *later, march])] == [
        ["第一轮"],
        ["10月11日", "10月13日"],
        ["11月"],
        ["12月"],
    ]


def test_the_summary_paragraph_tells_the_year_in_the_seeds_words(world, year):
    text = dict(build_summary(world.east, 2022).sections)["完成多轮全员核酸检测"]
    assert (
        "2022年3月22日东城街道开展第一轮全员核酸检测，现场工作人员达到了1人，辖区内的2个小区设有2个采样点、3个采样台，"
        "对辖区10人进行核酸检测采样，本轮实采人数6人，其中1人实行上门采集；应检未检4人。"
    ) in text
    assert (
        "在2022年10月11日-10月13日的全员核酸中，扩大了检测人群范围，包括了辖区内的工地、商铺等从业人员2人的采样检测，"
        "根据实际情况调整增设成3个采样点，6个固定采样台，1个流动采样组，10月11日和10月13日的实采人数分别是9和10人，"
        "现场采样医护人员2人，登记人员2人，由社区干部、包联干部和志愿者组成的居民联络及秩序维护队伍共3人，"
        "公安维稳人员1人，保障现场秩序稳定，转运人员3人，转运车辆2辆，保障样品及时转运。消杀人员1人，保证环境安全，"
        "有序的完成了三天两检全员核酸工作（各轮应检未检合计5人次）。"
    ) in text
    assert text.endswith(
        "11月、12月根据疫情实际情况及时调整全员核酸检测方案、采样人员配备、采样点位、台数设置等，又开展全员核酸检测2轮，全年完成共五轮全员核酸检测工作。"
    )
    community = dict(build_summary(world.east_c1, 2022).sections)["完成多轮全员核酸检测"]
    assert (
        community.startswith("2022年3月22日龙兴社区开展第一轮全员核酸检测") and "设有1个采样点、2个采样台" in community
    )


def test_no_round_no_paragraph(world):
    assert "完成多轮全员核酸检测" not in dict(build_summary(world.east, 2022).sections)
