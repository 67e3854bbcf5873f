"""Pure rules of rounds: exemptions and their order, door to door, the plan's checks, the file rows."""

import datetime as dt

import pytest

from testing import rules
from testing.rules import PersonFacts

TZ = dt.timezone(dt.timedelta(hours=8))
D = dt.date(2022, 3, 22)


def test_a_person_with_two_reasons_counts_once_under_the_first_in_the_seed_order():
    assert rules.exemption_for(PersonFacts()) == ""
    assert rules.exemption_for(PersonFacts(recent_test=True, previous_round=True)) == "recent_test"
    assert rules.exemption_for(PersonFacts(measures=frozenset({"monitoring", "home"}), recent_test=True)) == "home"
    assert rules.exemption_for(PersonFacts(measures=frozenset({"central"}), previous_round=True)) == "central"
    assert rules.exemption_for(PersonFacts(measures=frozenset({"none"}))) == ""
    assert rules.reasons(PersonFacts(measures=frozenset({"monitoring"}), previous_round=True)) == [
        "monitoring",
        "previous_round",
    ]
    assert rules.EXEMPTION_ORDER == ("home", "central", "monitoring", "recent_test", "previous_round")


@pytest.mark.parametrize(
    ("status", "start", "end", "released", "expected"),
    [
        ("tracking", D, D + dt.timedelta(days=14), None, True),  # starts that day
        ("tracking", D - dt.timedelta(days=14), D, None, False),  # its end day is free
        ("tracking", D + dt.timedelta(days=1), None, None, False),  # not yet
        ("tracking", D - dt.timedelta(days=3), None, None, True),  # open-ended
        ("released", D - dt.timedelta(days=5), D + dt.timedelta(days=9), D + dt.timedelta(days=2), True),
        ("released", D - dt.timedelta(days=5), D + dt.timedelta(days=9), D, False),
        ("transferred", D - dt.timedelta(days=1), None, None, False),
        ("lost", D - dt.timedelta(days=1), None, None, False),
    ],
)
def test_under_a_measure_on_the_start_date(status, start, end, released, expected):
    assert rules.under_measure_on(D, measure="home", status=status, start=start, end=end, released_on=released) is (
        expected
    )


def test_no_exemption_for_no_measure():
    assert not rules.under_measure_on(D, measure="none", status="tracking", start=D, end=None, released_on=None)


def test_the_recent_test_window_ends_at_the_first_midnight_of_the_round():
    start, end = rules.recent_test_window(D, 48, TZ)
    assert (start, end) == (dt.datetime(2022, 3, 20, tzinfo=TZ), dt.datetime(2022, 3, 22, tzinfo=TZ))
    assert rules.recent_test_days(D, 48) == (dt.date(2022, 3, 20), dt.date(2022, 3, 21))
    assert rules.recent_test_days(D, 36) == (dt.date(2022, 3, 20), dt.date(2022, 3, 21))
    assert rules.recent_test_days(D, 24) == (dt.date(2022, 3, 21), dt.date(2022, 3, 21))
    assert rules.recent_test_window(D, 0, TZ) is None and rules.recent_test_days(D, 0) is None


def test_door_to_door_for_the_disabled_and_the_very_old_living_alone():
    old = dt.date(1940, 3, 23)  # 81 on D
    assert rules.needs_door_to_door(tags=["残疾"], birth_date=dt.date(1990, 1, 1), on=D, lives_alone=False)
    assert rules.needs_door_to_door(tags=[], birth_date=old, on=D, lives_alone=True)
    assert not rules.needs_door_to_door(tags=[], birth_date=old, on=D, lives_alone=False)
    assert not rules.needs_door_to_door(tags=["孤寡"], birth_date=dt.date(1942, 3, 23), on=D, lives_alone=True)  # 79
    assert rules.needs_door_to_door(tags=[], birth_date=dt.date(1942, 3, 22), on=D, lives_alone=True)  # 80 today


def test_make_up_after_the_round_or_from_the_missed_list():
    assert not rules.is_make_up(D, D)
    assert rules.is_make_up(D + dt.timedelta(days=1), D)
    assert rules.is_make_up(D, D, from_missed_list=True)


def test_one_sampler_per_table():
    check = rules.sampler_check(["t1", "t2", "t3"], ["t1", "t1", "t2", None, "gone"])
    assert (check.without, check.extra, check.unassigned, check.surplus, check.ok) == (["t3"], {"t1": 1}, 2, 3, False)
    assert rules.sampler_check(["t1", "t2"], ["t2", "t1"]).ok


def test_expected_duration_per_site_and_for_the_round():
    assert rules.expected_hours(1200, 5, 120) == 2.0
    assert rules.expected_hours(100, 0, 120) is None
    # Sites work side by side: the round takes as long as its slowest site.
    assert rules.round_hours([(1200, 5), (2400, 5), (0, 0)], 120) == 4.0
    assert rules.round_hours([(10, 0)], 120) is None


def test_staff_totals_by_role_and_vehicles_shared():
    staff = [("sampler", ""), ("sampler", ""), ("transport", "蒙G·12345"), ("transport", "蒙G12345"), ("police", "")]
    totals = rules.staff_totals(staff)
    assert totals == {
        "sampler": 2,
        "registrar": 0,
        "order": 0,
        "police": 1,
        "transport": 2,
        "disinfection": 0,
        "total": 5,
        "vehicles": 1,
    }


def test_compound_of_a_site_is_the_first_word_of_its_location():
    assert rules.compound_of("璟苑B区 3号楼前广场") == "璟苑B区"
    assert rules.compound_of("金都新城") == "金都新城"
    assert rules.compound_of("") == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3", ("fixed", 3)),
        ("固定3", ("fixed", 3)),
        ("3号台", ("fixed", 3)),
        ("流动2", ("mobile", 2)),
        ("流动组1", ("mobile", 1)),
        ("x", None),
        ("0", None),
    ],
)
def test_table_references(raw, expected):
    assert rules.parse_table_ref(raw) == expected


def test_staff_rows_name_their_problems():
    row, errors = rules.parse_staff_row(5, {"姓名": "", "岗位": "厨师", "联系电话": "123", "采样台": "3"})
    assert row is None
    assert [(e.row, e.column) for e in errors] == [
        (5, "姓名"),
        (5, "岗位"),
        (5, "联系电话"),
        (5, "采样台"),
        (5, "采样点"),
    ]
    row, errors = rules.parse_staff_row(6, {"姓名": "赵六", "岗位": "转运", "车牌号": ""})
    assert [e.message for e in errors] == ["转运人员应填写车牌号"]
    row, errors = rules.parse_staff_row(
        7, {"姓名": "钱七", "岗位": "采样人员", "联系电话": 13900001111.0, "采样点": "一号点", "采样台": "固定2"}
    )
    assert errors == [] and (row.role, row.phone, row.table) == ("sampler", "13900001111", ("fixed", 2))


def test_extra_people_rows_check_the_id_number():
    row, errors = rules.parse_extra_row(
        2, {"姓名": "孙八", "证件号码": "11010519491231002X", "所在楼栋": "1号楼"}, today=D
    )
    assert errors == [] and row.id_number == "11010519491231002X"
    _row, errors = rules.parse_extra_row(3, {"姓名": "孙八", "证件号码": "110105194912310022", "所在楼栋": ""}, today=D)
    assert [(e.column, e.message) for e in errors] == [
        ("证件号码", "身份证号校验位错误"),
        ("所在楼栋", "请填写所在楼栋（区划代码或名称）"),
    ]
    row, errors = rules.parse_extra_row(4, {"姓名": "John", "证件号码": "e1234567", "所在楼栋": "1号楼"}, today=D)
    assert errors == [] and row.id_number == "E1234567"  # a passport: no checksum


def test_result_rows():
    now = dt.datetime(2022, 3, 23, 12, tzinfo=TZ)
    row, errors = rules.parse_result_row(
        2, {"试管条码": "T1", "检测结果": "阳性", "检测时间": "2022-03-22 20:15", "检测机构": "市疾控"}, tz=TZ, now=now
    )
    assert errors == [] and (row.result, row.tested_at.hour, row.lab) == ("positive", 20, "市疾控")
    _row, errors = rules.parse_result_row(3, {"试管条码": "", "检测结果": "弱阳", "检测时间": "昨天"}, tz=TZ, now=now)
    assert [(e.row, e.column) for e in errors] == [(3, "试管条码"), (3, "检测结果"), (3, "检测时间")]
    _row, errors = rules.parse_result_row(
        4, {"试管条码": "T", "检测结果": "无效", "检测时间": "2022-03-25"}, tz=TZ, now=now
    )
    assert [e.message for e in errors] == ["检测时间不能晚于现在"]
    assert [e.row for e in rules.duplicate_keys([(2, "a"), (3, "b"), (4, "a")], "试管条码", "与第%(row)s行重复")] == [4]
