"""Pure rules of outbreak response, without the database."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from outbreak import rules
from outbreak.rules import AreaSpan, RuleRow

D = dt.date
TZ = ZoneInfo("Asia/Shanghai")
AREAS = [
    AreaSpan("湖北省武汉市", "high", D(2020, 1, 20), D(2020, 4, 8)),
    AreaSpan("湖北省", "medium", D(2020, 1, 20), None),
    AreaSpan("上海市浦东新区", "high", D(2022, 3, 28), None),
]
RULES = [
    RuleRow("arrival", "high", "home", 14),
    RuleRow("arrival", "medium", "monitoring", 7),
    RuleRow("close_contact", "", "central", 14),
]


def test_risk_level_of_an_origin_is_the_highest_containing_area_in_force_on_arrival():
    assert rules.risk_level_for("湖北省武汉市江岸区", D(2020, 2, 1), AREAS) == "high"
    assert rules.risk_level_for("湖北省 武汉市", D(2020, 5, 1), AREAS) == "medium"  # Wuhan's listing ended
    assert rules.risk_level_for("湖北省孝感市", D(2020, 2, 1), AREAS) == "medium"
    assert rules.risk_level_for("上海市浦东新区", D(2022, 3, 1), AREAS) == ""  # arrived before the listing
    assert rules.risk_level_for("北京市", D(2020, 2, 1), AREAS) == ""


def test_measure_follows_the_rule_for_the_kind_and_level():
    assert rules.measure_for("arrival", "high", RULES) == ("home", 14)
    assert rules.measure_for("arrival", "medium", RULES) == ("monitoring", 7)
    assert rules.measure_for("close_contact", "low", RULES) == ("central", 14)  # any-level rule
    assert rules.measure_for("arrival", "", RULES) == ("none", 0)


def test_fourteen_days_from_the_first_of_march_end_on_the_fifteenth():
    assert rules.measure_end(D(2022, 3, 1), 14) == D(2022, 3, 15)
    assert rules.measure_end(D(2022, 3, 1), 0) is None


def test_implausible_temperatures_are_refused():
    assert rules.temperature_problem(Decimal("25.0")) is not None
    assert rules.temperature_problem(Decimal("45.0")) is not None
    assert rules.temperature_problem(Decimal("36.5")) is None
    assert rules.temperature_problem(None) == "请填写体温"


def test_fever_from_37_3_and_any_symptom_raise_alerts():
    assert rules.alerts_for(Decimal("37.2"), []) == []
    assert [k for k, _ in rules.alerts_for(Decimal("37.3"), [])] == ["fever"]
    kinds = rules.alerts_for(Decimal("36.6"), ["咳嗽", "乏力"])
    assert kinds == [("symptom", "症状：咳嗽、乏力")]


def test_checks_are_due_twice_a_day_until_the_release_day():
    assert rules.slots_due(D(2022, 3, 14), start=D(2022, 3, 1), end=D(2022, 3, 15), tracking=True) == ["am", "pm"]
    assert rules.slots_due(D(2022, 3, 15), start=D(2022, 3, 1), end=D(2022, 3, 15), tracking=True) == []
    assert rules.slots_due(D(2022, 3, 2), start=D(2022, 3, 1), end=D(2022, 3, 15), tracking=False) == []


def test_days_not_seen():
    assert rules.days_not_seen(D(2022, 3, 5), D(2022, 3, 1), D(2022, 3, 8)) == 3
    assert rules.days_not_seen(None, D(2022, 3, 1), D(2022, 3, 3)) == 2


def at(day, hour):
    return dt.datetime(2022, 3, day, hour, tzinfo=TZ)


def test_one_exit_per_household_every_two_days():
    # Seed 004: 每户居民每两天可一人出门.
    assert rules.pass_breach([], at(10, 9), max_exits=1, days=2) is None
    assert rules.pass_breach([at(10, 9)], at(10, 15), max_exits=1, days=2) is not None  # twice the same day
    assert rules.pass_breach([at(9, 9)], at(10, 15), max_exits=1, days=2) is not None  # yesterday counts
    assert rules.pass_breach([at(8, 9)], at(10, 15), max_exits=1, days=2) is None  # the day before does not
    assert rules.pass_breach([at(10, 9)], at(10, 15), max_exits=2, days=2) is None


def test_report_timeliness_against_the_deadline():
    deadline = dt.time(17, 0)
    assert rules.report_timeliness(None, D(2022, 3, 10), deadline, TZ) == "missing"
    assert rules.report_timeliness(at(10, 17), D(2022, 3, 10), deadline, TZ) == "on_time"
    assert rules.report_timeliness(at(10, 18), D(2022, 3, 10), deadline, TZ) == "late"
    assert rules.report_timeliness(at(11, 9), D(2022, 3, 10), deadline, TZ) == "late"


def test_rates():
    assert str(rules.rate(9, 11)) == "81.82"
    assert rules.rate(1, 0) is None
