"""Pure rules of mass-testing rounds: who needs no sample and why, who is sampled at home, the plan's
checks (one sampler per table, expected duration, staff by role), make-up samples, and the parsing of
the files a round imports (staff, extra people, lab results). No database here; see docs/testing.md.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from registry.importing import RowError
from registry.rules import IdNumberError, age_on, parse_id_number

# ---- exemptions ---------------------------------------------------------------------------------------------------

# Seed 000 names the reasons in this order: 居家隔离、集中隔离、健康监测、48小时核酸、上一轮演练已采. A person
# with two reasons counts once, under the first of them in this order (the values of testing.models.Exemption).
EXEMPTION_ORDER: tuple[str, ...] = ("home", "central", "monitoring", "recent_test", "previous_round")
# outbreak.models.Measure values -> Exemption values (the same words on both sides).
MEASURE_EXEMPTION = {"home": "home", "central": "central", "monitoring": "monitoring"}


@dataclass(frozen=True)
class PersonFacts:
    """What is known about a person on the round's start date, gathered by services.build_roster."""

    measures: frozenset[str] = frozenset()  # outbreak measures covering the start date ("home", "central" …)
    recent_test: bool = False  # sampled in another round or routinely tested within the round's window
    previous_round: bool = False  # sampled in the round's previous round


def reasons(facts: PersonFacts) -> list[str]:
    """Every exemption that applies to the person, in EXEMPTION_ORDER."""
    found = {MEASURE_EXEMPTION[m] for m in facts.measures if m in MEASURE_EXEMPTION}
    if facts.recent_test:
        found.add("recent_test")
    if facts.previous_round:
        found.add("previous_round")
    return [r for r in EXEMPTION_ORDER if r in found]


def exemption_for(facts: PersonFacts) -> str:
    """The one reason the person is counted under ('' = should be sampled)."""
    found = reasons(facts)
    return found[0] if found else ""


def under_measure_on(
    on: dt.date,
    *,
    measure: str,
    status: str,
    start: dt.date,
    end: dt.date | None,
    released_on: dt.date | None,
) -> bool:
    """Whether an outbreak screening kept the person under a measure on ``on``.

    The same reading as outbreak.selectors.under_measure: from the measure's start, until its planned
    end (exclusive) while still tracked, or until the release date when released since; a person
    transferred, lost or never needing tracking is not at home to exempt.
    """
    if measure not in MEASURE_EXEMPTION or start > on:
        return False
    if status == "tracking":
        return end is None or on < end
    if status == "released":
        return released_on is not None and on < released_on
    return False


def recent_test_window(starts_on: dt.date, hours: int, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime] | None:
    """The window [start - hours, start) before the round's first day (midnight, local time); None when 0."""
    if hours <= 0:
        return None
    start = dt.datetime.combine(starts_on, dt.time(0, 0), tzinfo=tz)
    return start - dt.timedelta(hours=hours), start


def recent_test_days(starts_on: dt.date, hours: int) -> tuple[dt.date, dt.date] | None:
    """Dates [first, last] of routine tests (which carry a date, not a time) inside the window.

    A test dated on a day that the window touches counts: 48 hours before 22 March are 20 and 21 March.
    """
    if hours <= 0:
        return None
    return starts_on - dt.timedelta(days=math.ceil(hours / 24)), starts_on - dt.timedelta(days=1)


# ---- door to door -------------------------------------------------------------------------------------------------

DOOR_TO_DOOR_TAGS = frozenset({"残疾"})  # tag names (registry.Tag.name); data, see docs/testing.md
DOOR_TO_DOOR_AGE = 80


def needs_door_to_door(*, tags: Iterable[str], birth_date: dt.date | None, on: dt.date, lives_alone: bool) -> bool:
    """Sampled at home by a mobile team: tagged 残疾, or aged 80 or more and living alone on the date."""
    if DOOR_TO_DOOR_TAGS.intersection(tags):
        return True
    return birth_date is not None and lives_alone and age_on(birth_date, on) >= DOOR_TO_DOOR_AGE


# ---- make-up samples ----------------------------------------------------------------------------------------------


def is_make_up(taken_on: dt.date, ends_on: dt.date, *, from_missed_list: bool = False) -> bool:
    """A make-up sample (补采): taken after the round's last day, or by a team working from the missed list.

    During the round, a mobile team at a door is door-to-door sampling, not make-up; the missed list
    links its people to a mobile team's table with ``make_up=1``, which the table passes on.
    """
    return taken_on > ends_on or from_missed_list


# ---- the plan -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SamplerCheck:
    """Seed 000: "按照…采样台的数量1:1配备采样人员". Tables without a sampler, tables with more, samplers
    not at any table."""

    tables: int
    samplers: int
    without: list[Any] = field(default_factory=list)  # table keys with no sampler
    extra: dict[Any, int] = field(default_factory=dict)  # table key -> samplers beyond the first
    unassigned: int = 0  # samplers of the round not placed at a table

    @property
    def ok(self) -> bool:
        return not self.without and not self.extra and not self.unassigned

    @property
    def surplus(self) -> int:
        return sum(self.extra.values()) + self.unassigned


def sampler_check(tables: Sequence[Any], sampler_tables: Sequence[Any | None]) -> SamplerCheck:
    """``tables``: the active tables' keys; ``sampler_tables``: for each active sampler, his table key or None."""
    at = Counter(t for t in sampler_tables if t is not None)
    known = set(tables)
    return SamplerCheck(
        tables=len(tables),
        samplers=len(sampler_tables),
        without=[t for t in tables if at[t] == 0],
        extra={t: n - 1 for t, n in at.items() if n > 1 and t in known},
        unassigned=sum(1 for t in sampler_tables if t is None or t not in known),
    )


def expected_hours(people: int, tables: int, rate_per_hour: int) -> float | None:
    """Hours a site needs: people to sample / (tables × people per table per hour); None without tables."""
    if tables <= 0 or rate_per_hour <= 0:
        return None
    return people / (tables * rate_per_hour)


def round_hours(sites: Iterable[tuple[int, int]], rate_per_hour: int) -> float | None:
    """The round lasts as long as its slowest site (sites work side by side): max over (people, tables)."""
    hours = [expected_hours(p, t, rate_per_hour) for p, t in sites if p]
    known = [h for h in hours if h is not None]
    if not known:
        return None
    return max(known)


ROLES: tuple[str, ...] = ("sampler", "registrar", "order", "police", "transport", "disinfection")


def staff_totals(staff: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Active staff by role (every role present, 0 if none) plus ``vehicles``: distinct plates of transport staff.

    ``staff``: (role, vehicle plate) per person. Seed 000: 转运人员18人，转运车辆17辆 (two share a vehicle).
    """
    out = dict.fromkeys(ROLES, 0)
    plates: set[str] = set()
    for role, plate in staff:
        out[role] = out.get(role, 0) + 1
        if role == "transport" and plate.strip():
            plates.add(normal_plate(plate))
    out["total"] = sum(out[r] for r in ROLES)
    out["vehicles"] = len(plates)
    return out


def normal_plate(plate: str) -> str:
    return re.sub(r"[\s·.\-]", "", plate).upper()


def compound_of(location: str) -> str:
    """The 小区 a site stands in: its location up to the first space ("璟苑B区 3号楼前" -> "璟苑B区")."""
    return location.strip().split(" ", 1)[0].split("\u3000", 1)[0] if location.strip() else ""


# ---- imports: staff, extra people, results ------------------------------------------------------------------------


def cell(value: Any) -> str:
    """A spreadsheet cell as text (numbers typed as numbers lose their ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


ROLE_WORDS = {
    "采样": "sampler",
    "采样人员": "sampler",
    "采样医护人员": "sampler",
    "登记": "registrar",
    "登记人员": "registrar",
    "秩序维护": "order",
    "秩序": "order",
    "志愿者": "order",
    "公安": "police",
    "公安维稳": "police",
    "民警": "police",
    "转运": "transport",
    "转运人员": "transport",
    "消杀": "disinfection",
    "消杀人员": "disinfection",
}
TABLE_WORDS = {"固定": "fixed", "台": "fixed", "流动": "mobile", "流动组": "mobile", "组": "mobile"}
PHONE = re.compile(r"^1\d{10}$|^0\d{2,3}-?\d{7,8}$")


def parse_table_ref(raw: str) -> tuple[str, int] | None:
    """ "3" or "固定3" or "3号台" -> ("fixed", 3); "流动2" or "流动组2" -> ("mobile", 2); None if unreadable."""
    value = raw.strip().replace(" ", "").removesuffix("号台").removesuffix("号").removesuffix("台")
    kind = "fixed"
    for word, k in sorted(TABLE_WORDS.items(), key=lambda kv: -len(kv[0])):
        if value.startswith(word):
            kind, value = k, value[len(word) :]
            break
    value = value.removesuffix("号")
    if not value.isdigit() or int(value) <= 0:
        return None
    return kind, int(value)


@dataclass(frozen=True)
class StaffRow:
    row: int
    name: str
    role: str
    phone: str
    organisation: str
    site: str
    table: tuple[str, int] | None
    vehicle_plate: str


STAFF_HEADERS = ("姓名", "岗位", "联系电话", "所属单位", "采样点", "采样台", "车牌号")


def parse_staff_row(row: int, cells: Mapping[str, Any]) -> tuple[StaffRow | None, list[RowError]]:
    """One row of a staff sheet (columns STAFF_HEADERS; 采样点/采样台/车牌号 may be empty)."""
    errors: list[RowError] = []
    name = cell(cells.get("姓名"))
    role_word = cell(cells.get("岗位"))
    role = ROLE_WORDS.get(role_word, role_word if role_word in ROLES else "")
    phone = cell(cells.get("联系电话")).replace(" ", "")
    plate = cell(cells.get("车牌号"))
    table_raw = cell(cells.get("采样台"))
    table = parse_table_ref(table_raw) if table_raw else None
    if not name:
        errors.append(RowError(row, "姓名", _("姓名为空")))
    if not role:
        errors.append(RowError(row, "岗位", _("岗位应为采样、登记、秩序维护、公安、转运或消杀")))
    if phone and not PHONE.match(phone):
        errors.append(RowError(row, "联系电话", _("电话号码格式不正确")))
    if role == "transport" and not plate:
        errors.append(RowError(row, "车牌号", _("转运人员应填写车牌号")))
    if table_raw and table is None:
        errors.append(RowError(row, "采样台", _("采样台应为台号，如“3”“固定3”或“流动1”")))
    if table is not None and role not in ("sampler", "registrar"):
        errors.append(RowError(row, "采样台", _("只有采样和登记人员安排到采样台")))
    if table is not None and not cell(cells.get("采样点")):
        errors.append(RowError(row, "采样点", _("填写了采样台，也应填写采样点")))
    if errors:
        return None, errors
    return (
        StaffRow(
            row=row,
            name=name,
            role=role,
            phone=phone,
            organisation=cell(cells.get("所属单位")),
            site=cell(cells.get("采样点")),
            table=table,
            vehicle_plate=plate,
        ),
        [],
    )


@dataclass(frozen=True)
class ExtraRow:
    row: int
    name: str
    id_number: str
    phone: str
    building: str
    workplace: str
    workplace_kind: str


EXTRA_HEADERS = ("姓名", "证件号码", "联系电话", "所在楼栋", "工作单位", "从业场所类型")


def parse_extra_row(row: int, cells: Mapping[str, Any], *, today: dt.date) -> tuple[ExtraRow | None, list[RowError]]:
    """One person added to a round (a worker of a site, shop, enterprise or hotel in scope)."""
    errors: list[RowError] = []
    name = cell(cells.get("姓名"))
    raw_id = cell(cells.get("证件号码"))
    phone = cell(cells.get("联系电话")).replace(" ", "")
    building = cell(cells.get("所在楼栋"))
    id_number = ""
    if not name:
        errors.append(RowError(row, "姓名", _("姓名为空")))
    if not raw_id:
        errors.append(RowError(row, "证件号码", _("证件号码为空")))
    else:
        compact = raw_id.replace(" ", "").upper()
        if compact[:17].isdigit() and len(compact) in (15, 18):
            try:
                id_number = parse_id_number(compact, today=today).number
            except IdNumberError as exc:
                errors.append(RowError(row, "证件号码", str(exc)))
        else:
            id_number = compact  # passports and other documents: no checksum to verify
    if phone and not PHONE.match(phone):
        errors.append(RowError(row, "联系电话", _("电话号码格式不正确")))
    if not building:
        errors.append(RowError(row, "所在楼栋", _("请填写所在楼栋（区划代码或名称）")))
    if errors:
        return None, errors
    return (
        ExtraRow(
            row=row,
            name=name,
            id_number=id_number,
            phone=phone,
            building=building,
            workplace=cell(cells.get("工作单位"))[:100],
            workplace_kind=cell(cells.get("从业场所类型"))[:20],
        ),
        [],
    )


RESULT_WORDS = {
    "阴性": "negative",
    "negative": "negative",
    "阳性": "positive",
    "positive": "positive",
    "无效": "invalid",
    "invalid": "invalid",
}
RESULT_HEADERS = ("试管条码", "检测结果", "检测时间", "检测机构", "更正原因")


@dataclass(frozen=True)
class ResultRow:
    row: int
    barcode: str
    result: str
    tested_at: dt.datetime
    lab: str
    reason: str


def parse_datetime(raw: str, tz: dt.tzinfo) -> dt.datetime | None:
    """ "2022-03-22 18:30" (or with seconds, or a "T", or "2022/03/22 18:30") as an aware datetime."""
    value = raw.strip().replace("/", "-").replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            parsed = dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=tz)
    return None


def parse_result_row(
    row: int, cells: Mapping[str, Any], *, tz: dt.tzinfo, now: dt.datetime
) -> tuple[ResultRow | None, list[RowError]]:
    errors: list[RowError] = []
    barcode = cell(cells.get("试管条码"))
    word = cell(cells.get("检测结果"))
    result = RESULT_WORDS.get(word.lower() if word.isascii() else word, "")
    raw_time = cell(cells.get("检测时间"))
    tested_at = parse_datetime(raw_time, tz) if raw_time else None
    if not barcode:
        errors.append(RowError(row, "试管条码", _("试管条码为空")))
    if not result:
        errors.append(RowError(row, "检测结果", _("检测结果应为阴性、阳性或无效")))
    if not raw_time:
        errors.append(RowError(row, "检测时间", _("检测时间为空")))
    elif tested_at is None:
        errors.append(RowError(row, "检测时间", _("检测时间应为“YYYY-MM-DD HH:MM”格式")))
    elif tested_at > now + dt.timedelta(minutes=5):
        errors.append(RowError(row, "检测时间", _("检测时间不能晚于现在")))
    if errors or tested_at is None:
        return None, errors
    return (
        ResultRow(
            row=row,
            barcode=barcode,
            result=result,
            tested_at=tested_at,
            lab=cell(cells.get("检测机构"))[:100],
            reason=cell(cells.get("更正原因"))[:200],
        ),
        [],
    )


def duplicate_keys(rows: Iterable[tuple[int, str]], column: str, message: str) -> list[RowError]:
    """Errors for a key (ID number, barcode) given twice in one file, naming the later rows."""
    first: dict[str, int] = {}
    out = []
    for row, key in rows:
        if key in first:
            out.append(RowError(row, column, message % {"row": first[key]}))
        else:
            first[key] = row
    return out
