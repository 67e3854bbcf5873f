"""The 应检尽检 paragraph of the work summary: seed 000's sentence computed from the records, plus the
cycles held and the missed tests caught and made up; nothing when nothing was scheduled."""

import datetime as dt

import pytest

from reports.sections import load_sections
from testing.routine import services
from testing.routine.tests.factories import routine, section_text

D = dt.date
JUNE_20 = D(2022, 6, 20)  # seed 000: 自6月20日起 (a Monday)


def weeks():
    return [JUNE_20 + dt.timedelta(weeks=k) for k in range(28)]  # Mondays to 26 December


@pytest.fixture
def r(world):
    """2022: zhang misses 4 July (made up on the 6th), li misses 1 August (never made up), zhao never misses."""
    r = routine(world, start=JUNE_20)
    bob = world.user("bob")
    for monday in weeks():
        zhang_day = D(2022, 7, 6) if monday == D(2022, 7, 4) else monday
        services.record_test(member=r.members["zhang"], tested_on=zhang_day, by=bob)
        if monday != D(2022, 8, 1):
            services.record_test(member=r.members["li"], tested_on=monday, by=bob)
        services.record_test(member=r.members["zhao"], tested_on=monday + dt.timedelta(days=1), by=bob)
    return r


def test_the_section_is_registered_after_the_outbreaks():
    section = next(s for s in load_sections() if s.name == "testing_routine")
    assert (str(section.title), section.order) == ("完成应检尽检工作", 26)


def test_the_streets_paragraph_in_the_seeds_words(world, r):
    assert section_text(world.east, 2022) == (
        "自6月20日起，组织辖区内2个社区的社区干部等应检尽检人员定期进行核酸检测。辖区内2个社区应检人员共3人，"
        "共设有风情街一个应检尽检核酸采样点，分别于每周一、二、四分为三个批次对以上应检尽检人员进行阶梯式有序检测。\n\n"
        "2022年共组织应检尽检检测56批次，应检84人次，按时检测82人次；每个社区均有核酸检测工作人员对漏检人员加强监督，"
        "发现漏检2人次，及时通知本人进行补检，已补检1人次，1人次未能补检，检测完成率98.81%。"
    )


def test_a_community_names_itself_and_a_year_without_cycles_says_nothing(world, r):
    text = section_text(world.east_c1, 2022)
    assert "龙兴社区应检人员共2人" in text and "辖区内" not in text
    assert "发现漏检1人次，及时通知本人进行补检，已补检1人次，检测完成率100.00%" in text
    assert section_text(world.east, 2021) is None


def test_two_groups_are_named_with_their_numbers(world, r):
    text = section_text(world.district, 2022)
    assert "辖区内3个社区应检人员共4人，其中社区干部3人，物业人员1人" in text
    assert "共设有风情街和市政府广场两个应检尽检核酸采样点" in text
    assert "2022年共组织应检尽检检测56批次，应检112人次，按时检测82人次" in text  # 王芳 never tested
