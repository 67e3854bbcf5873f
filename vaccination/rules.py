"""Pure rules of vaccination (no database): what a person has reached, when the next dose is due,
whether the interval is not yet met, age groups, and the reconciliation (底数清) of one person for a
level. The selectors feed these from a compact fetch; the services check new doses with them.

Where each rule comes from is in docs/vaccination.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry.rules import age_on

# ---- levels ---------------------------------------------------------------------------------------------------

FIRST_DOSE = "first_dose"
FULL_COURSE = "full_course"
BOOSTER = "booster"
LEVELS = (FIRST_DOSE, FULL_COURSE, BOOSTER)
LEVEL_LABELS: dict[str, Any] = {
    FIRST_DOSE: gettext_lazy("首针"),
    FULL_COURSE: gettext_lazy("全程接种"),
    BOOSTER: gettext_lazy("加强免疫"),
}
LEVEL_RANK = {FIRST_DOSE: 0, FULL_COURSE: 1, BOOSTER: 2}
# A reason recorded for a scope explains that level and every later one.
SCOPE_RANK = {"any": 0, "full_course": 1, "booster": 2}

# People under 3 are outside every COVID-19 vaccine's approved age (接种对象为3岁及以上人群).
MIN_AGE = 3


@dataclass(frozen=True)
class ProductRule:
    """The schedule of a product (VaccineProduct's rule fields)."""

    course_doses: int
    min_interval_days: int = 0
    booster_needed: bool = True
    booster_interval_days: int = 90
    kind: str = ""


@dataclass(frozen=True)
class Progress:
    """What a person has reached on a date, from the doses given on or before it."""

    doses: int
    first_dose_on: dt.date | None
    full_course_on: dt.date | None
    booster_on: dt.date | None
    last_dose_on: dt.date | None
    product: ProductRule | None  # dose 1's product: its schedule is the course's

    def reached(self, level: str) -> bool:
        if level == FIRST_DOSE:
            return self.first_dose_on is not None
        if level == FULL_COURSE:
            return self.full_course_on is not None
        return self.booster_on is not None

    @property
    def level(self) -> str | None:
        """The highest level reached, or None without any dose."""
        for level in reversed(LEVELS):
            if self.reached(level):
                return level
        return None


NO_DOSES = Progress(0, None, None, None, None, None)


def progress(dates: Sequence[dt.date], product: ProductRule | None) -> Progress:
    """``dates`` of doses 1, 2, … (in dose-number order, only those given on or before the date);
    ``product`` is dose 1's. The full course is reached at dose ``product.course_doses``, the booster
    at the next one: the first dose decides the course (a course is finished with the same product)."""
    n = len(dates)
    if n == 0 or product is None:
        return NO_DOSES
    course = product.course_doses
    return Progress(
        doses=n,
        first_dose_on=dates[0],
        full_course_on=dates[course - 1] if n >= course else None,
        booster_on=dates[course] if n > course else None,
        last_dose_on=dates[-1],
        product=product,
    )


def progress_from_summary(
    dates: Sequence[dt.date | None],
    product: ProductRule | None,
    on: dt.date,
    *,
    doses: int = 0,
    last: dt.date | None = None,
) -> Progress:
    """Progress on ``on`` from the dates of doses 1–4 (DoseSummary), the person's dose count and last date.

    Only the doses given on or before the date count; a course has at most 3 doses, so doses 1–4 hold
    every level. A fifth or later dose only changes the count and the last date.
    """
    given: list[dt.date] = []
    for date in dates:
        if date is None or date > on:
            break
        given.append(date)
    p = progress(given, product)
    if len(given) == len(dates) and doses > len(given) and last is not None and last <= on:
        p = replace(p, doses=doses, last_dose_on=last)
    return p


@dataclass(frozen=True)
class DoseFact:
    number: int
    date: dt.date
    product_id: int


def progress_on(doses: Iterable[DoseFact], products: dict[int, ProductRule], on: dt.date) -> Progress:
    """Progress on ``on`` from a person's dose records: consecutive numbers from 1, dated on or before it."""
    by_number = {d.number: d for d in doses if d.date <= on}
    dates: list[dt.date] = []
    while len(dates) + 1 in by_number:
        dates.append(by_number[len(dates) + 1].date)
    if not dates:
        return NO_DOSES
    return progress(dates, products.get(by_number[1].product_id))


@dataclass(frozen=True)
class NextDose:
    number: int
    due_on: dt.date | None  # None: any time (a first dose)


def next_dose(p: Progress) -> NextDose | None:
    """The next dose and the earliest date it may be given; None when nothing more is due (the booster
    is done, or the course's product needs none)."""
    if p.doses == 0 or p.product is None:
        return NextDose(1, None)
    rule = p.product
    assert p.last_dose_on is not None
    if p.full_course_on is None:
        return NextDose(p.doses + 1, p.last_dose_on + dt.timedelta(days=rule.min_interval_days))
    if p.booster_on is None:
        if not rule.booster_needed:
            return None
        return NextDose(p.doses + 1, p.full_course_on + dt.timedelta(days=rule.booster_interval_days))
    return None


def interval_not_met(p: Progress, level: str, on: dt.date) -> bool:
    """未满间隔: the person is on the way to ``level`` and the next dose is not due yet on ``on``."""
    if level == FIRST_DOSE or p.reached(level) or p.doses == 0:
        return False
    if level == BOOSTER and p.full_course_on is None:
        return False
    nxt = next_dose(p)
    return nxt is not None and nxt.due_on is not None and on < nxt.due_on


# ---- reasons and the reconciliation (底数清) ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReasonFact:
    code: str
    scope: str  # "any" / "full_course" / "booster"
    valid_from: dt.date
    valid_to: dt.date | None = None
    absent: bool = False

    def active_on(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    def explains(self, level: str) -> bool:
        return SCOPE_RANK[self.scope] <= LEVEL_RANK[level]


# Categories of the reconciliation besides the recorded reasons' codes. The product rule "no booster
# needed" shares its key with the recordable reason of the same meaning, so both count on one line.
VACCINATED = "vaccinated"
NO_BOOSTER_NEEDED = "recombinant_no_booster"
INTERVAL_NOT_MET = "interval_not_met"
UNEXPLAINED = "unexplained"
NOT_FULL_COURSE = "not_full_course"  # booster level only: outside its base (see the full-course level)
RESERVED_CODES = frozenset({VACCINATED, INTERVAL_NOT_MET, UNEXPLAINED, NOT_FULL_COURSE})
CATEGORY_LABELS: dict[str, Any] = {
    VACCINATED: gettext_lazy("已接种"),
    NO_BOOSTER_NEEDED: gettext_lazy("接种重组蛋白疫苗无需加强"),
    INTERVAL_NOT_MET: gettext_lazy("不满足接种间隔暂未接种"),
    UNEXPLAINED: gettext_lazy("未说明原因"),
    NOT_FULL_COURSE: gettext_lazy("未完成全程接种（见全程接种核对）"),
}


def reason_for(reasons: Iterable[ReasonFact], level: str, on: dt.date) -> ReasonFact | None:
    """The recorded reason that explains ``level`` on ``on``: the latest stated one (by its start)."""
    best: ReasonFact | None = None
    for r in reasons:
        if r.active_on(on) and r.explains(level) and (best is None or r.valid_from >= best.valid_from):
            best = r
    return best


def classify(p: Progress, reasons: Iterable[ReasonFact], level: str, on: dt.date) -> str:
    """One person for one level on a date: vaccinated, a computed category, a reason's code, or unexplained.

    Facts computed from the doses come before recorded reasons: a person whose next dose is not due
    yet is not late, whatever else was noted; a recorded reason comes before "unexplained".
    """
    if p.reached(level):
        return VACCINATED
    if level == BOOSTER:
        if p.full_course_on is None:
            return NOT_FULL_COURSE
        assert p.product is not None
        if not p.product.booster_needed:
            return NO_BOOSTER_NEEDED
    if interval_not_met(p, level, on):
        return INTERVAL_NOT_MET
    reason = reason_for(reasons, level, on)
    if reason is not None:
        return reason.code
    return UNEXPLAINED


def is_absent(reasons: Iterable[ReasonFact], on: dt.date) -> bool:
    """外出, 失联, 死亡 …: not among the group's 现有人口 on the date."""
    return any(r.absent and r.active_on(on) for r in reasons)


# ---- age groups ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgeGroup:
    key: str
    label: Any
    min_age: int
    max_age: int | None

    def contains(self, age: int) -> bool:
        return age >= self.min_age and (self.max_age is None or age <= self.max_age)


AGE_GROUPS = (
    AgeGroup("age_3_17", gettext_lazy("3-17周岁"), 3, 17),
    AgeGroup("age_18_59", gettext_lazy("18-59周岁"), 18, 59),
    AgeGroup("age_60_plus", gettext_lazy("60周岁以上"), 60, None),
    AgeGroup("age_80_plus", gettext_lazy("其中80周岁以上"), 80, None),  # within 60+
)
GROUPS = {g.key: g for g in AGE_GROUPS}


def age_groups_of(birth: dt.date, on: dt.date) -> list[str]:
    """The groups a person belongs to on a date (80+ is also 60+; under 3 belongs to none)."""
    age = age_on(birth, on)
    return [g.key for g in AGE_GROUPS if g.contains(age)]


def percent(part: int, whole: int) -> Decimal | None:
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))


# ---- many people at once -----------------------------------------------------------------------------------------


@dataclass
class Person:
    """What the tallies need of one person: birth date, progress on the date, reasons in force on it."""

    id: int
    birth: dt.date
    progress: Progress
    reasons: list[ReasonFact] = field(default_factory=list)


@dataclass
class CoverageCell:
    people: int = 0
    first_dose: int = 0
    full_course: int = 0
    booster: int = 0

    def count(self, level: str) -> int:
        return int(getattr(self, level))

    def percent(self, level: str) -> Decimal | None:
        return percent(self.count(level), self.people)


def coverage(people: Iterable[Person], on: dt.date) -> dict[str, CoverageCell]:
    """People per age group and how many reached each level by the date (against the registry)."""
    out = {g.key: CoverageCell() for g in AGE_GROUPS}
    for person in people:
        keys = age_groups_of(person.birth, on)
        if not keys:
            continue
        p = person.progress
        first, full, booster = p.first_dose_on is not None, p.full_course_on is not None, p.booster_on is not None
        for key in keys:
            cell = out[key]
            cell.people += 1
            cell.first_dose += first
            cell.full_course += full
            cell.booster += booster
    return out


@dataclass
class Tally:
    """The reconciliation of a group for a level: every person in exactly one category."""

    level: str
    total: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    unexplained: list[int] = field(default_factory=list)  # person ids
    absent: int = 0  # people with an absent reason in force (外出, 失联 …)
    present_vaccinated: int = 0  # vaccinated at the level among the others (现有人口)

    @property
    def present(self) -> int:
        return self.total - self.absent

    @property
    def base(self) -> int:
        """The people the level is reconciled over: everyone, or for the booster those with a full course."""
        return self.total - self.counts.get(NOT_FULL_COURSE, 0)

    def count(self, key: str) -> int:
        return self.counts.get(key, 0)

    def add(self, person: Person, on: dt.date) -> str:
        category = classify(person.progress, person.reasons, self.level, on)
        self.total += 1
        self.counts[category] = self.counts.get(category, 0) + 1
        absent = is_absent(person.reasons, on)
        self.absent += absent
        if category == VACCINATED and not absent:
            self.present_vaccinated += 1
        elif category == UNEXPLAINED:
            self.unexplained.append(person.id)
        return category

    def add_vaccinated(self, count: int, *, absent: int = 0) -> None:
        """People counted as vaccinated at the level elsewhere (in the database), ``absent`` of them absent."""
        self.total += count
        self.counts[VACCINATED] = self.counts.get(VACCINATED, 0) + count
        self.absent += absent
        self.present_vaccinated += count - absent


def reconcile(people: Iterable[Person], level: str, on: dt.date, tally: Tally | None = None) -> Tally:
    """Every person in one category for the level on the date (added to ``tally`` when given)."""
    tally = tally or Tally(level=level)
    for person in people:
        tally.add(person, on)
    return tally


# ---- checking a new dose -----------------------------------------------------------------------------------------


def dose_problems(
    *,
    birth: dt.date,
    number: int,
    date: dt.date,
    today: dt.date,
    earlier: dict[int, dt.date],
    course: ProductRule,
    replacing: bool = False,
) -> tuple[dict[str, str], dict[str, str]]:
    """Errors and interval warnings of dose ``number`` given on ``date``, keyed by field.

    ``earlier`` is the person's active doses by number; ``course`` the schedule of dose 1's product
    (this dose's own product when it is dose 1). Errors always refuse the dose; interval warnings
    refuse it unless the user confirms the real dates with a note (a record copied from elsewhere).
    ``replacing``: a correction of dose ``number`` (later doses may exist; it must stay before them).
    """
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    if number < 1:
        errors["dose_number"] = _("剂次应为1或以上")
    if date > today:
        errors["date"] = _("接种日期不能晚于今天")
    elif date < birth:
        errors["date"] = _("接种日期早于出生日期")
    elif age_on(birth, date) < MIN_AGE:
        errors["date"] = _("接种时未满3周岁，不在新冠病毒疫苗接种范围内")
    if errors:
        return errors, warnings
    if number in earlier:
        errors["dose_number"] = _("第%(n)s剂已登记（%(date)s），如有错误请更正该记录") % {
            "n": number,
            "date": earlier[number].isoformat(),
        }
        return errors, warnings
    if number > 1 and number - 1 not in earlier:
        errors["dose_number"] = _("尚未登记第%(n)s剂，请先登记前一剂") % {"n": number - 1}
        return errors, warnings
    later = [n for n in earlier if n > number]
    if later and not replacing:
        errors["dose_number"] = _("已登记第%(n)s剂，不能再补登更早的剂次") % {"n": max(later)}
        return errors, warnings
    following = earlier.get(number + 1)
    if following is not None and date > following:
        errors["date"] = _("接种日期晚于第%(n)s剂（%(date)s）") % {"n": number + 1, "date": following.isoformat()}
        return errors, warnings
    if number > 1:
        previous = earlier[number - 1]
        if date < previous:
            errors["date"] = _("接种日期早于第%(n)s剂（%(date)s）") % {"n": number - 1, "date": previous.isoformat()}
            return errors, warnings
        gap = (date - previous).days
        if number <= course.course_doses:
            if gap < course.min_interval_days:
                warnings["date"] = _("与第%(n)s剂仅间隔%(gap)s天，全程接种相邻两剂应至少间隔%(min)s天") % {
                    "n": number - 1,
                    "gap": gap,
                    "min": course.min_interval_days,
                }
        else:
            if number == course.course_doses + 1 and not course.booster_needed:
                warnings["dose_number"] = _("该受种者的全程疫苗无需接种加强针")
            elif gap < course.booster_interval_days:
                warnings["date"] = _("与上一剂仅间隔%(gap)s天，加强免疫应在完成全程接种%(min)s天后") % {
                    "gap": gap,
                    "min": course.booster_interval_days,
                }
    return errors, warnings
