"""Pure rules of the registry: ID numbers (GB 11643), ages. No database here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


class IdNumberError(ValueError):
    """A resident ID number that cannot be accepted; the message is for the user, in Chinese."""


@dataclass(frozen=True)
class IdInfo:
    number: str  # normalised 18-character form
    birth_date: dt.date
    sex: str  # "M" or "F"
    region: str  # first six digits (GB/T 2260)
    converted_from_15: bool


def check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def convert_15_to_18(number: str) -> str:
    """Legacy 15-digit numbers (before 1999) lack the century and the check character."""
    first17 = number[:6] + "19" + number[6:]
    return first17 + check_char(first17)


def parse_id_number(raw: str, *, today: dt.date | None = None) -> IdInfo:
    value = (raw or "").strip().replace(" ", "").upper()
    if not value:
        raise IdNumberError(_("身份证号为空"))
    converted = False
    if len(value) == 15:
        if not value.isdigit():
            raise IdNumberError(_("15位身份证号只能由数字组成"))
        value = convert_15_to_18(value)
        converted = True
    if len(value) != 18:
        raise IdNumberError(_("身份证号应为18位（或15位旧号码）"))
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise IdNumberError(_("身份证号前17位应为数字，最后一位为数字或X"))
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdNumberError(_("身份证号中的出生日期不存在")) from None
    today = today or dt.date.today()
    if birth > today or birth.year < 1880:
        raise IdNumberError(_("身份证号中的出生日期不合理"))
    expected = check_char(value[:17])
    if value[17] != expected:
        raise IdNumberError(_("身份证号校验位错误"))
    sex = "M" if int(value[16]) % 2 == 1 else "F"
    return IdInfo(number=value, birth_date=birth, sex=sex, region=value[:6], converted_from_15=converted)


def normalise_other_id(raw: str) -> str:
    """Passports and 港澳台 documents: no checksum, only trimmed and upper-cased."""
    value = (raw or "").strip().replace(" ", "").upper()
    if not value:
        raise IdNumberError(_("证件号码为空"))
    if len(value) > 32:
        raise IdNumberError(_("证件号码过长（最多32个字符）"))
    return value


def age_on(birth_date: dt.date, on: dt.date) -> int:
    """Completed years of age on a date (a person born on 29 Feb turns a year older on 1 Mar)."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def birth_date_bounds_for_age(min_age: int, max_age: int | None, on: dt.date) -> tuple[dt.date | None, dt.date]:
    """Birth dates (lo, hi) such that age_on(b, on) is within [min_age, max_age], both inclusive.

    lo is None when there is no upper age limit.
    """
    hi = _years_before(on, min_age)
    lo = None
    if max_age is not None:
        lo = _years_before(on, max_age + 1) + dt.timedelta(days=1)
    return lo, hi


def _years_before(on: dt.date, years: int) -> dt.date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 Feb in a non-leap target year
        return on.replace(year=on.year - years, day=28)


VALID_PHONE_LENGTHS = (7, 8, 11, 12)


def normalise_phone(raw: str) -> str:
    value = (raw or "").strip().replace(" ", "").replace("-", "")
    if not value:
        return ""
    if not value.isdigit() or len(value) not in VALID_PHONE_LENGTHS:
        raise ValueError(_("电话号码应为11位手机号或7–12位固定电话"))
    if len(value) == 11 and not value.startswith("1"):
        raise ValueError(_("11位手机号应以1开头"))
    return value
