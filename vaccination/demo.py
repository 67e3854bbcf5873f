"""Demo 疫苗接种 ledgers: the demo street's COVID-19 vaccination from 2021 to the as-of date, reproducing
seed 000's figures exactly at the default size on 2022-12-31 (scaled, with exact quotas, otherwise):

- 60+ (摸底人口数 9,537): everyone has a first dose (首针覆盖率100%); 9,010 full course, 156 with a
  contraindication to the full course (dose 1 only), 137 whose dose 1 is too recent for dose 2
  (interval not met: computed, nothing recorded), 234 unexplained;
- boosters among the 9,010: 8,482 boosted, 48 contraindicated, 286 whose full course is too recent
  (interval not met), 114 with the 3-dose recombinant protein course (no booster needed), 80 unexplained;
- 18–59 (总人口 65,653): 4,307 外出/失联 (recorded reasons; "现有人口" 61,346), 58,444 of the present
  boosted (第三针), the other present ones in plausible categories; 3–17: two doses for most.

Dates follow the real campaign (adults from March 2021, the elderly from April 2021, children from
November 2021, boosters from autumn 2021) and are placed relative to the as-of date (shifted by its
distance from 2022-12-31), so the quotas are exact on any as-of date from 2022-12-31 on; before it the
step does nothing. Doses are written in bulk (core.bulk: COPY on PostgreSQL) with their creation
versions; the reasons are few and go through plain rows too. See docs/vaccination.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils import timezone

from core.bulk import analyze, insert_rows, reserve_ids
from core.demo import DemoContext, demo_step, split_quota
from core.history import start_of_day
from familyplanning.demo import _demo_user
from orgunits.models import Level, OrgUnit
from registry.models import LivingStatus, Resident, Tag
from registry.rules import age_on
from vaccination.models import Dose, DoseSummary, NonVaccinationReason, ReasonRecord, VaccineProduct
from vaccination.services import refresh_summaries

if TYPE_CHECKING:
    from accounts.models import User

SEED_DATE = dt.date(2022, 12, 31)  # seed 000 counts "截止2022年末"
REASON_TEXT = "演示数据"
# Seed 000, 60+: surveyed 9,537 = full course 9,010 + contraindicated 156 + interval not met 137 + 234 unexplained.
SEED_60_FULL = [9_010, 156, 137, 234]
# Among the 9,010: booster 8,482 + contraindicated 48 + interval not met 286 + recombinant 114 + 80 unexplained.
SEED_60_BOOSTER = [8_482, 48, 286, 114, 80]
# Seed 000, 18–59: total 65,653, present ("现有人口") 61,346, of whom 58,444 boosted ("已接第三针").
SEED_18_59 = {"total": 65_653, "present": 61_346, "booster": 58_444}
# The present 18–59 without a booster (2,902 at the default size): not in the seed, a plausible split.
ADULT_REST = {
    "interval": 600,  # full course within the booster interval
    "contra_booster": 250,
    "recombinant": 300,
    "contra_any": 250,  # no dose
    "refused": 300,  # no dose
    "full_unexplained": 700,
    "one_unexplained": 300,
    "none_unexplained": 202,
}
CHILD_SHARES = {"full": 92, "one": 3, "none_contra": 2, "none": 3}
AWAY_SHARE_OF_ABSENT = 0.7  # the absent who are not 外出 in the registry: 外出 or else 失联
DOOR_SHARE_80 = 0.6  # doses given in 2022 to people aged 80+ at home (上门接种)
DOOR_SHARE_FRAIL = 0.5  # … and to people aged 60+ tagged 残疾
SQLITE_CACHE_KIB = -262_144  # 256 MB, negative: in KiB (SQLite's convention)
SITES = ["新城街道社区卫生服务中心", "新城街道临时接种点（全民健身中心）", "市第二人民医院接种门诊"]


def _standard_data() -> None:
    """The products and reasons of the data migration (a wiped demo database lost them)."""
    seeded = importlib.import_module("vaccination.migrations.0002_standard_products_and_reasons")
    for code, name, maker, kind, doses, interval, booster, booster_days in seeded.PRODUCTS:
        VaccineProduct.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "manufacturer": maker,
                "kind": kind,
                "course_doses": doses,
                "min_interval_days": interval,
                "booster_needed": booster,
                "booster_interval_days": booster_days,
            },
        )
    for code, name, absent in seeded.REASONS:
        NonVaccinationReason.objects.get_or_create(code=code, defaults={"name": name, "absent": absent})


@dataclass(slots=True)
class Who:
    id: int
    birth: dt.date
    age: int
    status: str
    status_since: dt.date
    unit_id: int
    frail: bool = False


@dataclass
class Plan:
    """What the step writes: dose rows (resident, product, number, date, site, at home) and reasons."""

    doses: list[tuple[int, int, int, dt.date, str, bool]] = field(default_factory=list)
    reasons: list[tuple[int, int, str, dt.date, dt.date | None]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


class _Campaign:
    """Dates and products of one street's doses, drawn from the step's random generator."""

    def __init__(self, ctx: DemoContext, community_of: dict[int, str]) -> None:
        self.rng = ctx.rng
        self.on = ctx.on
        self.shift = ctx.on - SEED_DATE
        self.community_of = community_of
        products = {p.code: p for p in VaccineProduct.objects.all()}
        self.inactivated = [products["bibp"], products["sinovac"], products["wibp"]]
        self.inactivated_weights = [45, 40, 15]
        self.recombinant = products["zf2001"]
        self.adenovirus = products["ad5"]
        self.plan = Plan()

    def day(self, year: int, month: int, day: int) -> dt.date:
        return dt.date(year, month, day) + self.shift

    def between(self, lo: dt.date, hi: dt.date) -> dt.date:
        if hi <= lo:
            return lo
        return lo + dt.timedelta(days=self.rng.randint(0, (hi - lo).days))

    def pick_inactivated(self) -> VaccineProduct:
        return self.rng.choices(self.inactivated, self.inactivated_weights)[0]

    def give(self, who: Who, product: VaccineProduct, dates: list[dt.date]) -> None:
        for n, date in enumerate(dates, start=1):
            assert date <= self.on and age_on(who.birth, date) >= 3, (who, dates)
            at_home = (
                date.year >= (SEED_DATE + self.shift).year
                and who.age >= 60
                and (
                    (who.age >= 80 and self.rng.random() < DOOR_SHARE_80)
                    or (who.frail and self.rng.random() < DOOR_SHARE_FRAIL)
                )
            )
            if at_home:
                site = f"上门接种（{self.community_of.get(who.unit_id, '')}）"
            else:
                site = self.rng.choice(SITES)
            self.plan.doses.append((who.id, product.pk, n, date, site, at_home))

    def reason(self, who: Who, reason_id: int, scope: str, start: dt.date) -> None:
        self.plan.reasons.append((who.id, reason_id, scope, min(max(start, who.birth), self.on), None))

    # -- course shapes --------------------------------------------------------------------------------------------

    def course(self, who: Who, *, first_from: dt.date, first_to: dt.date, booster: bool) -> list[dt.date]:
        """An inactivated course (2 doses, 21–56 days apart) finished by ``on − booster interval`` and,
        when asked, a booster at least the booster interval later."""
        product = self.pick_inactivated()
        start = max(first_from, self.third_birthday(who))
        last_full = self.on - dt.timedelta(days=product.booster_interval_days)
        d1 = self.between(start, min(first_to, last_full - dt.timedelta(days=product.min_interval_days + 35)))
        d2 = min(d1 + dt.timedelta(days=self.rng.randint(product.min_interval_days, 56)), last_full)
        dates = [d1, d2]
        if booster:
            earliest = max(d2 + dt.timedelta(days=product.booster_interval_days), self.day(2021, 10, 15))
            dates.append(self.between(earliest, min(earliest + dt.timedelta(days=360), self.on)))
        self.give(who, product, dates)
        return dates

    def adenovirus_course(self, who: Who, *, booster: bool) -> None:
        product = self.adenovirus
        d1 = self.between(max(self.day(2021, 4, 1), self.third_birthday(who)), self.day(2021, 9, 30))
        dates = [d1]
        if booster:
            earliest = d1 + dt.timedelta(days=product.booster_interval_days)
            dates.append(self.between(earliest, min(earliest + dt.timedelta(days=300), self.on)))
        self.give(who, product, dates)

    def recent_course(self, who: Who) -> None:
        """A full course finished within the booster interval: the booster is not due yet."""
        product = self.pick_inactivated()
        d2 = self.on - dt.timedelta(days=self.rng.randint(0, product.booster_interval_days - 1))
        d1 = d2 - dt.timedelta(days=self.rng.randint(product.min_interval_days, product.min_interval_days + 20))
        self.give(who, product, [d1, d2])

    def recombinant_course(self, who: Who) -> None:
        product = self.recombinant
        gap = product.min_interval_days
        d1 = self.between(self.day(2021, 4, 1), self.day(2021, 10, 31))
        d2 = d1 + dt.timedelta(days=self.rng.randint(gap, gap + 25))
        d3 = d2 + dt.timedelta(days=self.rng.randint(gap, gap + 90))
        self.give(who, product, [d1, d2, d3])

    def first_only(self, who: Who, *, first_from: dt.date, first_to: dt.date) -> dt.date:
        """Dose 1 long enough ago for dose 2 to be due."""
        product = self.pick_inactivated()
        latest = self.on - dt.timedelta(days=product.min_interval_days)
        d1 = self.between(max(first_from, self.third_birthday(who)), min(first_to, latest))
        self.give(who, product, [d1])
        return d1

    def recent_first(self, who: Who) -> None:
        """Dose 1 so recent that dose 2 is not due on the as-of date (interval not met)."""
        product = self.pick_inactivated()
        self.give(who, product, [self.on - dt.timedelta(days=self.rng.randint(0, product.min_interval_days - 1))])

    def third_birthday(self, who: Who) -> dt.date:
        try:
            return who.birth.replace(year=who.birth.year + 3) + dt.timedelta(days=1)
        except ValueError:  # 29 February
            return who.birth.replace(year=who.birth.year + 3, day=28) + dt.timedelta(days=1)


@demo_step("vaccination", order=60)
def vaccination(ctx: DemoContext) -> None:
    if ctx.on < SEED_DATE:
        ctx.log("疫苗接种：基准日早于2022-12-31，未生成接种记录")
        return
    started = time.monotonic()
    _standard_data()
    user = _demo_user(ctx.data["street"])
    reasons = dict(NonVaccinationReason.objects.values_list("code", "id"))
    frail_tag = Tag.objects.filter(name="残疾").values_list("id", flat=True).first()
    totals: dict[str, int] = {}
    plan = Plan()
    for street in ctx.data["streets"]:
        campaign = _Campaign(ctx, _communities(street))
        _street(ctx, campaign, street, reasons, frail_tag)
        plan.doses += campaign.plan.doses
        plan.reasons += campaign.plan.reasons
        for key, value in campaign.plan.counts.items():
            totals[key] = totals.get(key, 0) + value
    _write(plan, user)
    refresh_summaries()  # every summary from the doses: one statement (the step is the only writer here)
    if connection.vendor == "postgresql":
        analyze(Dose, Dose.history.model, ReasonRecord, DoseSummary)  # type: ignore[attr-defined]
    ctx.data["vaccination"] = {"doses": len(plan.doses), "reasons": len(plan.reasons), **totals}
    ctx.log(
        f"疫苗接种：{len(plan.doses)} 剂次，未接种原因 {len(plan.reasons)} 条；60岁以上 {totals.get('age_60', 0)} 人"
        f"（全程 {totals.get('full_60', 0)}，加强 {totals.get('booster_60', 0)}），"
        f"18-59岁现有人口 {totals.get('present_18_59', 0)} 人（加强 {totals.get('booster_18_59', 0)}）；"
        f"用时 {time.monotonic() - started:.1f} 秒"
    )


def _communities(street: OrgUnit) -> dict[int, str]:
    """Each unit of the street -> its community's name (for the door-to-door site text)."""
    units = list(OrgUnit.objects.filter(street.subtree_q()).values_list("id", "path", "level", "name"))
    names = {path: name for _id, path, level, name in units if level == Level.COMMUNITY}
    out = {}
    for pk, path, _level, _name in units:
        out[pk] = next((name for p, name in names.items() if path.startswith(p)), "")
    return out


def _people(ctx: DemoContext, street: OrgUnit, frail_tag: int | None) -> list[Who]:
    on = ctx.on
    rows = (
        Resident.objects.filter(street.subtree_q("unit__"), retired_at__isnull=True, arrived_on__lte=on)
        .exclude(left_on__lte=on)
        .order_by("id")
        .values_list("id", "birth_date", "living_status", "status_since", "unit_id")
    )
    frail: set[int] = set()
    if frail_tag is not None:
        frail = set(
            Resident.tags.through.objects.filter(street.subtree_q("resident__unit__"), tag_id=frail_tag).values_list(
                "resident_id", flat=True
            )
        )
    return [
        Who(pk, birth, age_on(birth, on), status, since, unit, pk in frail) for pk, birth, status, since, unit in rows
    ]


def _street(ctx: DemoContext, c: _Campaign, street: OrgUnit, reasons: dict[str, int], frail_tag: int | None) -> None:
    rng = ctx.rng
    people = _people(ctx, street, frail_tag)
    elderly = [w for w in people if w.age >= 60]
    adults = [w for w in people if 18 <= w.age <= 59]
    children = [w for w in people if 3 <= w.age <= 17]
    _elderly(c, rng, elderly, reasons)
    _adults(c, rng, adults, reasons)
    _children(c, rng, children, reasons)


def _deal(rng: random.Random, people: list[Who], parts: list[int]) -> Iterator[list[Who]]:
    shuffled = people[:]
    rng.shuffle(shuffled)
    k = 0
    for n in parts:
        yield shuffled[k : k + n]
        k += n


def _elderly(c: _Campaign, rng: random.Random, people: list[Who], reasons: dict[str, int]) -> None:
    full, contra, interval, unexplained = split_quota(len(people), SEED_60_FULL)
    groups = list(_deal(rng, people, [full, contra, interval, unexplained]))
    boosted, b_contra, b_interval, recombinant, b_unexplained = split_quota(full, SEED_60_BOOSTER)
    full_groups = list(_deal(rng, groups[0], [boosted, b_contra, b_interval, recombinant, b_unexplained]))
    early, late = c.day(2021, 4, 1), c.day(2022, 6, 30)
    for who in full_groups[0]:
        c.course(who, first_from=early, first_to=late, booster=True)
    for who in full_groups[1]:
        dates = c.course(who, first_from=early, first_to=late, booster=False)
        c.reason(who, reasons["contraindication"], "booster", dates[-1] + dt.timedelta(days=rng.randint(90, 200)))
    for who in full_groups[2]:
        c.recent_course(who)
    for who in full_groups[3]:
        c.recombinant_course(who)
    for who in full_groups[4]:
        c.course(who, first_from=early, first_to=late, booster=False)
    for who in groups[1]:
        d1 = c.first_only(who, first_from=early, first_to=late)
        c.reason(who, reasons["contraindication"], "full_course", d1 + dt.timedelta(days=rng.randint(1, 40)))
    for who in groups[2]:
        c.recent_first(who)
    for who in groups[3]:
        c.first_only(who, first_from=early, first_to=c.day(2022, 11, 30))
    c.plan.counts.update(age_60=len(people), full_60=full, booster_60=boosted)


def _adults(c: _Campaign, rng: random.Random, people: list[Who], reasons: dict[str, int]) -> None:
    total = len(people)
    absent_n = split_quota(total, [SEED_18_59["total"] - SEED_18_59["present"], SEED_18_59["present"]])[0]
    # The registry's 外出 come first among the absent (their 外出 is recorded), then others (外出 or 失联).
    away = [w for w in people if w.status == LivingStatus.AWAY]
    rng.shuffle(away)
    others = [w for w in people if w.status != LivingStatus.AWAY]
    rng.shuffle(others)
    absent = away[:absent_n]
    absent += others[: absent_n - len(absent)]
    absent_ids = {w.id for w in absent}
    present = [w for w in people if w.id not in absent_ids]
    early, late = c.day(2021, 3, 1), c.day(2021, 8, 31)
    for who in absent:
        if who.status == LivingStatus.AWAY:
            code, start = "away", who.status_since
        else:
            code = "away" if rng.random() < AWAY_SHARE_OF_ABSENT else "lost"
            start = c.between(c.day(2022, 1, 1), c.on)
        c.reason(who, reasons[code], "any", start)
        r = rng.random()
        if r < 0.6:
            c.course(who, first_from=early, first_to=late, booster=False)
        elif r < 0.85:
            c.first_only(who, first_from=early, first_to=late)
    boosted_n = split_quota(len(present), [SEED_18_59["booster"], SEED_18_59["present"] - SEED_18_59["booster"]])[0]
    rest_n = len(present) - boosted_n
    parts = [boosted_n, *split_quota(rest_n, list(ADULT_REST.values()))]
    groups = dict(zip(["boosted", *ADULT_REST], _deal(rng, present, parts), strict=True))
    for who in groups["boosted"]:
        if rng.random() < 0.02:
            c.adenovirus_course(who, booster=True)
        else:
            c.course(who, first_from=early, first_to=late, booster=True)
    for who in groups["interval"]:
        c.recent_course(who)
    for who in groups["contra_booster"]:
        dates = c.course(who, first_from=early, first_to=late, booster=False)
        c.reason(who, reasons["contraindication"], "booster", dates[-1] + dt.timedelta(days=rng.randint(90, 200)))
    for who in groups["recombinant"]:
        c.recombinant_course(who)
    for who in groups["contra_any"]:
        c.reason(who, reasons["contraindication"], "any", c.between(early, late))
    for who in groups["refused"]:
        c.reason(who, reasons["refused"], "any", c.between(early, c.on))
    for who in groups["full_unexplained"]:
        c.course(who, first_from=early, first_to=late, booster=False)
    for who in groups["one_unexplained"]:
        c.first_only(who, first_from=early, first_to=late)
    c.plan.counts.update(age_18_59=total, present_18_59=len(present), booster_18_59=boosted_n, absent_18_59=len(absent))


def _children(c: _Campaign, rng: random.Random, people: list[Who], reasons: dict[str, int]) -> None:
    parts = split_quota(len(people), list(CHILD_SHARES.values()))
    groups = dict(zip(CHILD_SHARES, _deal(rng, people, parts), strict=True))
    early, late = c.day(2021, 11, 1), c.day(2022, 3, 31)
    for who in groups["full"]:
        eligible = c.third_birthday(who)
        if eligible <= c.on - dt.timedelta(days=150):
            c.course(who, first_from=early, first_to=late, booster=False)
        elif eligible <= c.on - dt.timedelta(days=30):
            c.first_only(who, first_from=early, first_to=c.on)  # turned 3 lately: a first dose so far
    for who in groups["one"]:
        if c.third_birthday(who) <= c.on - dt.timedelta(days=30):
            c.first_only(who, first_from=early, first_to=late)
    for who in groups["none_contra"]:
        c.reason(who, reasons["contraindication"], "any", c.between(early, c.on))


# ---- writing ------------------------------------------------------------------------------------------------------


class _Stored:
    """Aware datetimes in the database's form, computed once per value (SQLite keeps naive UTC text)."""

    def __init__(self) -> None:
        self._cache: dict[dt.date, Any] = {}

    def day(self, on: dt.date) -> Any:
        value = self._cache.get(on)
        if value is None:
            when = start_of_day(on) + dt.timedelta(hours=10)
            value = timezone.make_naive(when, dt.UTC).isoformat(sep=" ") if connection.vendor == "sqlite" else when
            self._cache[on] = value
        return value


def _write(plan: Plan, user: User) -> None:
    """Doses and reasons with their creation versions, in person order (the indexes grow at their end)."""
    with _large_cache():
        _write_rows(plan, user)


@contextlib.contextmanager
def _large_cache() -> Iterator[None]:
    """SQLite: a page cache large enough for the new index pages (the default 2 MB makes every
    out-of-order index insert a page read); PostgreSQL loads with COPY and needs nothing."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _write_rows(plan: Plan, user: User) -> None:
    stored = _Stored()
    uid = user.pk
    plan.doses.sort(key=lambda d: (d[0], d[2]))
    plan.reasons.sort(key=lambda r: r[0])
    ids = reserve_ids(Dose, len(plan.doses))
    columns = [
        "id",
        "resident_id",
        "product_id",
        "dose_number",
        "date",
        "site",
        "door_to_door",
        "note",
        "recorded_by_id",
        "recorded_at",
        "retired_at",
        "retired_reason",
    ]
    rows = [
        (pk, rid, pid, n, date, site, home, "", uid, stored.day(date), None, "")
        for pk, (rid, pid, n, date, site, home) in zip(ids, plan.doses, strict=True)
    ]
    insert_rows(Dose, columns, rows)
    history = Dose.history.model  # type: ignore[attr-defined]
    history_ids = reserve_ids(history, len(rows))
    insert_rows(
        history,
        ["history_id", *columns, "history_date", "history_change_reason", "history_type", "history_user_id"],
        ((hid, *row, row[9], REASON_TEXT, "+", uid) for hid, row in zip(history_ids, rows, strict=True)),
    )
    ids = reserve_ids(ReasonRecord, len(plan.reasons))
    columns = [
        "id",
        "resident_id",
        "reason_id",
        "scope",
        "valid_from",
        "valid_to",
        "note",
        "recorded_by_id",
        "recorded_at",
        "retired_at",
        "retired_reason",
    ]
    reason_rows = [
        (pk, rid, reason, scope, start, end, "", uid, stored.day(start), None, "")
        for pk, (rid, reason, scope, start, end) in zip(ids, plan.reasons, strict=True)
    ]
    insert_rows(ReasonRecord, columns, reason_rows)
    history = ReasonRecord.history.model  # type: ignore[attr-defined]
    history_ids = reserve_ids(history, len(reason_rows))
    insert_rows(
        history,
        ["history_id", *columns, "history_date", "history_change_reason", "history_type", "history_user_id"],
        ((hid, *row, row[8], REASON_TEXT, "+", uid) for hid, row in zip(history_ids, reason_rows, strict=True)),
    )
