"""ID number and age rules: pure functions, no database."""

import datetime as dt

import pytest

from registry.rules import (
    IdNumberError,
    age_on,
    birth_date_bounds_for_age,
    check_char,
    convert_15_to_18,
    normalise_phone,
    parse_id_number,
)


def test_official_example_is_valid_and_derives_birth_date_and_sex():
    info = parse_id_number("11010519491231002X")
    assert info.number == "11010519491231002X"
    assert info.birth_date == dt.date(1949, 12, 31)
    assert info.sex == "F"  # 17th digit 2 is even
    assert info.region == "110105"


def test_lower_case_x_and_spaces_are_normalised():
    assert parse_id_number(" 110105 19491231002x ").number == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("110105194912310021", "校验位错误"),
        ("11010519491331002X", "出生日期不存在"),
        ("11010519490230002X", "出生日期不存在"),
        ("1101051949123100", "应为18位"),
        ("11010519491231A02X", "前17位应为数字"),
        ("", "为空"),
    ],
)
def test_bad_id_numbers_are_refused_with_a_chinese_reason(raw, message):
    with pytest.raises(IdNumberError, match=message):
        parse_id_number(raw)


def test_future_birth_date_is_refused():
    first17 = "11010520990101001"
    with pytest.raises(IdNumberError, match="不合理"):
        parse_id_number(first17 + check_char(first17), today=dt.date(2026, 1, 1))


def test_legacy_15_digit_number_is_converted_with_century_and_check_char():
    assert convert_15_to_18("110105491231002") == "11010519491231002X"
    info = parse_id_number("110105491231002")
    assert info.number == "11010519491231002X"
    assert info.converted_from_15


def test_age_counts_completed_years_including_leap_day_births():
    assert age_on(dt.date(2000, 2, 29), dt.date(2060, 2, 28)) == 59
    assert age_on(dt.date(2000, 2, 29), dt.date(2060, 3, 1)) == 60
    assert age_on(dt.date(1962, 12, 31), dt.date(2022, 12, 31)) == 60


def test_birth_date_bounds_match_age_on_at_the_edges():
    on = dt.date(2022, 12, 31)
    lo, hi = birth_date_bounds_for_age(15, 49, on)
    assert lo is not None
    assert age_on(hi, on) == 15 and age_on(hi + dt.timedelta(days=1), on) == 14
    assert age_on(lo, on) == 49 and age_on(lo - dt.timedelta(days=1), on) == 50


def test_phone_numbers_are_normalised_or_refused():
    assert normalise_phone("138-0000-0001") == "13800000001"
    assert normalise_phone("") == ""
    with pytest.raises(ValueError, match="11位手机号应以1开头"):
        normalise_phone("23800000001")
    with pytest.raises(ValueError, match="电话号码"):
        normalise_phone("12ab")
