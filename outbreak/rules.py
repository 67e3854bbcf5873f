"""Pure rules of outbreak response: risk level of an origin, the measure and its dates, alerts,
the checkpoint pass quota, report timeliness. No database here; see docs/outbreak.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

FEVER_AT = Decimal("37.3")  # ℃: 37.3 or more is a fever (the seeds' 发热 threshold)
PLAUSIBLE_LOW = Decimal("35.0")
PLAUSIBLE_HIGH = Decimal("42.0")
SYMPTOMS = ("发热", "咳嗽", "胸闷", "乏力", "其他")
LEVEL_RANK = {"high": 3, "medium": 2, "low": 1, "": 0}


@dataclass(frozen=True)
class AreaSpan:
    area: str
    level: str
    valid_from: dt.date
    valid_to: dt.date | None


def risk_level_for(from_area: str, on: dt.date, areas: Iterable[AreaSpan]) -> str:
    """The highest level among the risk areas that contain ``from_area`` on ``on`` ('' when none).

    A risk area contains an origin when the origin's name starts with it: "湖北省武汉市" contains
    "湖北省武汉市江岸区". Spaces are ignored.
    """
    origin = (from_area or "").replace(" ", "")
    best = ""
    for a in areas:
        name = a.area.replace(" ", "")
        if not name or not origin.startswith(name):
            continue
        if a.valid_from <= on and (a.valid_to is None or on <= a.valid_to):
            if LEVEL_RANK[a.level] > LEVEL_RANK[best]:
                best = a.level
    return best


@dataclass(frozen=True)
class RuleRow:
    person_kind: str
    risk_level: str  # '' = any level
    measure: str
    days: int


def measure_for(person_kind: str, risk_level: str, rules: Sequence[RuleRow]) -> tuple[str, int]:
    """(measure, days) for a kind of person from a level: the exact rule, else the kind's any-level rule,
    else no measure."""
    exact = [r for r in rules if r.person_kind == person_kind and r.risk_level == risk_level]
    if exact:
        return exact[0].measure, exact[0].days
    fallback = [r for r in rules if r.person_kind == person_kind and r.risk_level == ""]
    if fallback:
        return fallback[0].measure, fallback[0].days
    return "none", 0


def measure_end(start: dt.date, days: int) -> dt.date | None:
    """The planned release date: ``days`` full days after the start (14 days from 1 March: 15 March)."""
    if days <= 0:
        return None
    return start + dt.timedelta(days=days)


def temperature_problem(value: Decimal | None) -> str | None:
    if value is None:
        return _("请填写体温")
    if value < PLAUSIBLE_LOW or value > PLAUSIBLE_HIGH:
        return _("体温%(t)s℃不合常理（应在35.0到42.0之间），请复测") % {"t": value}
    return None


def alerts_for(temperature: Decimal, symptoms: Iterable[str]) -> list[tuple[str, str]]:
    """(kind, detail) of the alerts a check raises: a fever of 37.3 ℃ or more, and any symptom."""
    out = []
    if temperature >= FEVER_AT:
        out.append(("fever", _("体温%(t)s℃") % {"t": temperature}))
    named = [s for s in symptoms if s and s != "发热"]
    if named:
        out.append(("symptom", _("症状：%(s)s") % {"s": "、".join(named)}))
    return out


def slots_due(on: dt.date, *, start: dt.date, end: dt.date | None, tracking: bool) -> list[str]:
    """Checks due on a date: morning and evening while under the measure (the release day is not)."""
    if not tracking or on < start or (end is not None and on >= end):
        return []
    return ["am", "pm"]


def days_not_seen(last_seen: dt.date | None, start: dt.date, today: dt.date) -> int:
    """Whole days since the last check (or since the measure started, if never seen)."""
    return (today - (last_seen or start)).days if (last_seen or start) <= today else 0


def pass_breach(exits_before: Sequence[dt.datetime], at: dt.datetime, *, max_exits: int, days: int) -> str | None:
    """Why one more exit of a household at ``at`` breaks "``max_exits`` per ``days`` days", or None.

    The window is the calendar day of ``at`` and the ``days - 1`` days before it (seed 004: 每户居民
    每两天可一人出门 = at most 1 exit in today and yesterday).
    """
    first_day = at.date() - dt.timedelta(days=days - 1)
    used = [t for t in exits_before if first_day <= t.date() <= at.date() and t <= at]
    if len(used) >= max_exits:
        last = max(used)
        return _("本户%(days)s天内已出门%(n)s人次（最近一次%(when)s），超过每%(days)s天%(max)s人次的规定") % {
            "days": days,
            "n": len(used),
            "when": last.strftime("%m-%d %H:%M"),
            "max": max_exits,
        }
    return None


def report_timeliness(submitted_at: dt.datetime | None, report_date: dt.date, deadline: dt.time, tz: dt.tzinfo) -> str:
    """'on_time' (by the deadline of the report date), 'late', or 'missing'."""
    if submitted_at is None:
        return "missing"
    cutoff = dt.datetime.combine(report_date, deadline, tzinfo=tz)
    return "on_time" if submitted_at <= cutoff else "late"


def rate(part: int, whole: int) -> Decimal | None:
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))
