"""The 计生 section of the work summary: seed 000's sentences with the figures of the records."""

import datetime as dt
import re
from decimal import Decimal

import pytest

from familyplanning import services
from familyplanning.services import BirthData, Parent
from familyplanning.tests.factories import person, scheme, standard
from registry.selectors import population_figures
from reports.sections import build_summary

D = dt.date
TODAY = D(2023, 1, 6)


def _section(unit, year=2022) -> str:
    summary = build_summary(unit, year)
    sections = dict(summary.sections)
    assert summary.title == f"{year}年{unit.name}工作总结"
    return sections.get("计生方面", "")


def _birth(world, mother, *, born, sex, order, child="小宝"):
    data = BirthData(child_name=child, sex=sex, birth_date=born, birth_order=order, mother=Parent(resident=mother))
    return services.record_birth(data=data, unit=world.east_b1, by=world.user("bob"), today=TODAY)


@pytest.fixture
def east_2022(world):
    """东城街道 in 2022: three births, two registrations, two 伤残 people and a one-time household,
    three only-child households, two visits; the application went in before the July raise."""
    bob = world.user("bob")
    mothers = [person(world, f"母亲{k}", sex="F", birth=D(1992, 1, 1 + k)) for k in range(3)]
    services.record_registration(
        unit=world.east_b1, mother=Parent(resident=mothers[0]), birth_order=1, registered_on=D(2022, 2, 1), by=bob
    )
    services.record_registration(
        unit=world.east_b1, mother=Parent(resident=mothers[2]), birth_order=2, registered_on=D(2022, 3, 1), by=bob
    )
    _birth(world, mothers[0], born=D(2022, 5, 1), sex="M", order=1)
    _birth(world, mothers[1], born=D(2022, 6, 1), sex="F", order=1)
    _birth(world, mothers[2], born=D(2022, 9, 1), sex="M", order=2)

    disability = scheme("sa_disability", name="计生特扶（伤残）", short_name="伤残", sort_order=1)
    one_time = scheme(
        "one_time", name="一次性扶助金", category="one_time", unit="household", period="one_time", sort_order=3
    )
    reward = scheme(
        "only_child_reward",
        name="独生子女奖励金",
        category="only_child",
        unit="household",
        period="yearly",
        attribute_label="子女性别",
        attribute_values="男、女",
        sort_order=4,
    )
    standard(disability, 520, D(2021, 1, 1))
    standard(one_time, 82_510, D(2020, 1, 1))
    standard(reward, 120, D(2020, 1, 1), attribute="男")
    standard(reward, 240, D(2020, 1, 1), attribute="女")
    disabled = [person(world, f"伤残{k}", birth=D(1955, 3, 1 + k)) for k in range(2)]
    for p in disabled:
        services.enroll(scheme=disability, person=p, start_month=D(2019, 1, 1), by=bob)
    head = person(world, "失独父", birth=D(1958, 1, 1))
    spouse = person(world, "失独母", sex="F", birth=D(1959, 1, 1), household=head.household)
    services.enroll(scheme=one_time, person=head, members=[head, spouse], start_month=D(2022, 4, 1), by=bob)
    for k, sex in enumerate(["男", "男", "女"]):
        p = person(world, f"独生{k}", birth=D(1985, 1, 1 + k))
        services.enroll(scheme=reward, person=p, attribute_value=sex, start_month=D(2015, 1, 1), by=bob)
    application = services.submit_application(unit=world.east, year=2022, by=bob, today=TODAY)
    standard(disability, 630, D(2022, 7, 1))
    services.record_back_pay(application=application, reason="2022年7月起提高特扶标准", by=bob)
    for on, occasion in ((D(2022, 1, 27), "春节"), (D(2022, 9, 7), "中秋节")):
        services.record_visit(
            unit=world.east, date=on, occasion=occasion, given="米、油", people=disabled, by=bob, today=TODAY
        )
    return application


def test_births_and_registrations_read_like_the_seed(world, east_2022):
    text = _section(world.east)
    assert "全年共出生3人，按性别分：男孩2人，女孩1人，按孩次分：一孩：2人，二孩：1人，" in text
    assert "办理生育服务登记2个，一孩生育服务登记1个、二孩生育服务登记1个。" in text
    assert "三孩" not in text  # no third births: no "三孩：0人"


def test_population_sentence_carries_the_registry_figures(world, east_2022):
    figures = population_figures(world.east, on=D(2022, 12, 31))
    assert figures.residents > 0 and figures.households_capacity > 0
    text = _section(world.east)
    assert (
        f"辖区可容纳户数为{figures.households_capacity}户，截至2022年末已入住总户数："
        f"{figures.households_occupied}户，人口{figures.residents}人"
    ) in text
    assert f"现居住地已婚育龄妇女：{figures.married_women_15_49}人。" in text
    assert "流动人口" not in text  # nobody floating in this street


def test_special_families_visits_and_amounts(world, east_2022):
    text = _section(world.east)
    assert "辖区现共有计生特别扶助2户2人，开展春节、中秋节慰问共2次，走访慰问计生家庭2户2人。" in text
    assert "### 计生特扶、独生子女奖励2022年录入款额" in text
    # 2 × 520 × 12 = 12,480 applied; 2 × 110 × 6 = 1,320 back-pay; + 82,510 one-time = 96,310.
    assert "1、计生特扶3户4人共审请款额：96310元。" in text
    assert "①伤残：2人，审请款额：12480元+1320元（按原标准520元/月/人审请，110元/月/人补发6个月）。" in text
    assert "②一次性扶助金1户（2人）：审请款额：82510元。" in text
    assert "2、独生子女奖励金共3户共审请款额：480元。" in text
    assert "独生子女为男孩2人，女孩1人。2*120元/户+1*240元/户=480元" in text


def test_the_section_follows_the_paragraph_order_of_the_seed(world, east_2022):
    text = _section(world.east)
    order = ["辖区可容纳户数", "全年共出生", "辖区现共有计生特别扶助", "录入款额", "①伤残", "②一次性", "2、独生子女"]
    positions = [text.index(s) for s in order]
    assert positions == sorted(positions)
    assert "\n\n\n" not in text and not re.search(r"(?<![\d.])0(人|户|个|次|元)", text)


def test_without_back_pay_the_standard_is_the_one_applied(world):
    bob = world.user("bob")
    s = scheme("sa_bereaved", name="计生特扶（失独）", short_name="失独")
    standard(s, 655, D(2021, 1, 1))
    joined = person(world, "七月入")
    services.enroll(scheme=s, person=joined, start_month=D(2022, 7, 1), by=bob)
    services.submit_application(unit=world.east, year=2022, by=bob, today=TODAY)
    text = _section(world.east)
    assert "①失独：1人，审请款额：3930元（按标准655元/月/人审请）。" in text  # six months from July
    assert "+" not in text and "补发" not in text
    assert "### 计生特扶2022年录入款额" in text
    assert "独生子女" not in text  # no reward scheme applied for: no sentence about it


def test_a_year_without_records_drops_the_sentences_it_has_no_figures_for(world, east_2022):
    text = _section(world.east, 2021)
    assert "全年无出生登记。" in text
    assert "生育服务登记" not in text and "录入款额" not in text and "慰问" not in text


def test_other_streets_records_stay_out(world, east_2022):
    text = _section(world.west)
    assert "出生" in text and "全年无出生登记" in text  # west has people but none of east's births
    assert "审请款额" not in text and "特别扶助" not in text


def test_a_community_counts_its_own_births(world, east_2022):
    other = person(world, "母亲西", sex="F", birth=D(1991, 1, 1), building=world.east_b2)
    data = BirthData(child_name="小二", sex="F", birth_date=D(2022, 3, 3), birth_order=1, mother=Parent(resident=other))
    services.record_birth(data=data, unit=world.east_b2, by=world.user("bob"), today=TODAY)
    assert "全年共出生3人" in _section(world.east_c1)
    assert "全年共出生1人，按性别分：女孩1人，按孩次分：一孩：1人。" in _section(world.east_c2)
    # The street's application is the street's: a community's section has no amounts of its own.
    assert "审请款额" not in _section(world.east_c1)
    assert Decimal(east_2022.total) == 12_480 + 82_510 + 480
