"""Reads of vaccination: scoped querysets, and the coverage and reconciliation (底数清) of a unit's
subtree on a date, against the registry's people present on that date.

A street of 87,000 people is computed from a compact fetch (a handful of queries: the people
present, their doses, their reasons in force) by the pure rules in rules.py, never person by person.
"People present on a date" is the registry's rule (registry.selectors.population_figures_on): the
presence interval [arrived_on, left_on), the person's unit on the date from the resident history and
the subtree from the org-unit history, so the coverage denominators are the population indicators.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Case, Count, DateField, F, Func, IntegerField, Q, QuerySet, Value, When
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils.translation import gettext as _

from accounts.rules import mask_id_number, shown_phone
from core.history import changed_since, end_of_day, latest_versions_qs
from core.scoping import path_range_q, require_unit, scoped
from orgunits.models import Level, OrgUnit
from orgunits.selectors import subtree_ids_on
from registry.models import Resident, Tag
from registry.rules import age_on, birth_date_bounds_for_age
from vaccination import rules
from vaccination.models import Dose, DoseSummary, NonVaccinationReason, ReasonRecord, VaccineProduct

if TYPE_CHECKING:
    from accounts.models import User

# Subtrees at these levels hold tens of thousands of people: read in one pass, not from the path index.
LARGE_LEVELS = frozenset({Level.DISTRICT, Level.STREET})
IN_CHUNK = 900  # ids per IN (...) list: below SQLite's old 999-parameter limit


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), IN_CHUNK):
        yield ids[i : i + IN_CHUNK]


# ---- scoped querysets ---------------------------------------------------------------------------------------------


def _large(unit: OrgUnit | None) -> bool:
    return unit is None or unit.level in LARGE_LEVELS


def doses_for(user: User) -> QuerySet[Dose]:
    """A street's doses are listed newest first from the date index, the subtree checked per row."""
    return scoped(Dose.objects.all(), user, "resident__unit", path_index=not _large(user.org_unit)).select_related(
        "resident", "resident__unit", "product"
    )


def reasons_for(user: User) -> QuerySet[ReasonRecord]:
    return scoped(ReasonRecord.objects.all(), user, "resident__unit").select_related("reason", "resident")


def filter_doses(user: User, params: dict[str, Any], *, unit: OrgUnit | None = None) -> QuerySet[Dose]:
    """The dose ledger with its filters (all optional, all scoped); retired records only when asked."""
    qs = doses_for(user)
    if not params.get("retired"):
        qs = qs.filter(retired_at__isnull=True)
    if unit is not None:
        qs = qs.filter(path_range_q("resident__unit__path", unit.path, unit.path_end, index=not _large(unit)))
    if params.get("product"):
        qs = qs.filter(product=params["product"])
    if params.get("dose_number"):
        qs = qs.filter(dose_number=params["dose_number"])
    if params.get("start"):
        qs = qs.filter(date__gte=params["start"])
    if params.get("end"):
        qs = qs.filter(date__lte=params["end"])
    if params.get("door_to_door") in ("1", "0", True, False):
        qs = qs.filter(door_to_door=params["door_to_door"] in ("1", True))
    q = (params.get("q") or "").strip()
    if q:
        upper = q.upper()
        digits = upper[:-1].isdigit() if upper.endswith("X") else upper.isdigit()
        qs = qs.filter(resident__id_number__endswith=upper) if digits else qs.filter(resident__name__startswith=q)
    return qs.order_by("-date", "-id")


def product_rules() -> dict[int, rules.ProductRule]:
    return {
        p.pk: rules.ProductRule(
            course_doses=p.course_doses,
            min_interval_days=p.min_interval_days,
            booster_needed=p.booster_needed,
            booster_interval_days=p.booster_interval_days,
            kind=p.kind,
        )
        for p in VaccineProduct.objects.all()
    }


def active_products() -> QuerySet[VaccineProduct]:
    return VaccineProduct.objects.filter(retired_on__isnull=True).order_by("id")


def active_reasons() -> QuerySet[NonVaccinationReason]:
    return NonVaccinationReason.objects.filter(retired_on__isnull=True).order_by("id")


# ---- the people of a subtree on a date --------------------------------------------------------------------------

SUMMARY = "vaccination_summary__"
LARGE_GROUPS = frozenset({"age_18_59"})  # three quarters of the people: read in one pass, not by birth date
SUMMARY_FIELDS = ("doses", "product_id", "d1", "d2", "d3", "d4", "last")


def _ages_q(min_age: int, max_age: int | None, on: dt.date, prefix: str = "", *, index: bool = True) -> Q:
    """People of an age range on the date. ``index=False`` keeps SQLite off the birth-date index (as
    core.scoping.path_range_q does for paths): for a range holding most of the people (18–59) a plain
    pass over the table is faster than an index search per person."""
    lo, hi = birth_date_bounds_for_age(min_age, max_age, on)
    column: Any = F(f"{prefix}birth_date")
    if not index and connection.vendor == "sqlite":
        column = Func(column, template="+%(expressions)s", output_field=DateField())
    q = Q(LessThanOrEqual(column, hi))
    if lo is not None:
        q &= Q(GreaterThanOrEqual(column, lo))
    return q


def _present_q(on: dt.date, prefix: str = "") -> Q:
    return Q(
        Q(**{f"{prefix}left_on__isnull": True}) | Q(**{f"{prefix}left_on__gt": on}),
        **{f"{prefix}arrived_on__lte": on, f"{prefix}retired_at__isnull": True},
    )


def reached_q(level: str, on: dt.date, prefix: str = SUMMARY) -> Q:
    """People (through their DoseSummary) who reached ``level`` on or before ``on``: the SQL form of
    rules.progress (the full course is dose ``course_doses`` of dose 1's product, the booster the next)."""
    course = f"{prefix}product__course_doses"

    def given(k: int) -> Q:
        return Q(**{f"{prefix}d{k}__lte": on})

    if level == rules.FIRST_DOSE:
        return given(1)
    shift = 1 if level == rules.BOOSTER else 0
    return Q(given(1 + shift), **{course: 1}) | Q(given(2 + shift), **{course: 2}) | Q(given(3 + shift), **{course: 3})


@dataclass
class Base:
    """The people present in a subtree on a date: ``live`` (a queryset of residents, counted where they
    are today) and ``moved`` (id -> birth date: people changed since the date, counted where they were)."""

    live: QuerySet[Resident]
    moved: dict[int, dt.date]
    unit_ids: set[int] | None  # the subtree on the date when the tree changed since, else None
    changed: QuerySet[Any] | None  # ids of people with a version after the date


def _base(unit: OrgUnit, on: dt.date, ages: Q) -> Base:
    """registry.selectors.population_figures_on's rule: presence interval, the person's unit on the date
    from the resident history, the subtree on the date from the org-unit history."""
    unit_ids = subtree_ids_on(unit, on) if changed_since(OrgUnit.history.model, on) else None
    if unit_ids is not None:
        in_subtree = Q(unit_id__in=unit_ids)
    else:
        in_subtree = path_range_q("unit__path", unit.path, unit.path_end, index=unit.level not in LARGE_LEVELS)
    live = Resident.objects.filter(_present_q(on), ages, in_subtree)
    history = Resident.history.model._default_manager  # type: ignore[attr-defined]
    later = history.filter(history_date__gte=end_of_day(on))
    if not later.exists():
        return Base(live, {}, unit_ids, None)
    changed = later.values("id")
    present_ids = Resident.objects.filter(_present_q(on), id__in=changed).values("id")
    then = latest_versions_qs(Resident.history.model, on).filter(ages, id__in=present_ids)
    then = (
        then.filter(unit_id__in=unit_ids)
        if unit_ids is not None
        else then.filter(unit_id__in=OrgUnit.objects.filter(unit.subtree_q()).values("id"))
    )
    return Base(live.exclude(id__in=changed), dict(then.values_list("id", "birth_date")), unit_ids, changed)


def _progress(row: tuple[Any, ...], products: dict[int, rules.ProductRule], on: dt.date) -> rules.Progress:
    """Progress from DoseSummary's fields in SUMMARY_FIELDS order (all None without any dose)."""
    doses, product_id, d1, d2, d3, d4, last = row
    if not doses:
        return rules.NO_DOSES
    return rules.progress_from_summary([d1, d2, d3, d4], products.get(product_id), on, doses=doses, last=last)


def _reasons_of(qs: QuerySet[ReasonRecord], on: dt.date) -> dict[int, list[rules.ReasonFact]]:
    out: dict[int, list[rules.ReasonFact]] = defaultdict(list)
    rows = (
        qs.filter(retired_at__isnull=True, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .order_by()
        .values_list("resident_id", "reason__code", "scope", "valid_from", "valid_to", "reason__absent")
    )
    for rid, code, scope, start, end, absent in rows:
        out[rid].append(rules.ReasonFact(code, scope, start, end, absent))
    return out


def _live_reasons(unit: OrgUnit, on: dt.date, base: Base, ages: Q) -> dict[int, list[rules.ReasonFact]]:
    """Reasons in force on the date of the live part's people (the reasons table is small: it leads)."""
    people = Q(_present_q(on, "resident__"), ages)
    if base.unit_ids is not None:
        people &= Q(resident__unit_id__in=base.unit_ids)
    else:
        people &= path_range_q("resident__unit__path", unit.path, unit.path_end, index=False)
    qs = ReasonRecord.objects.filter(people)
    if base.changed is not None:
        qs = qs.exclude(resident_id__in=base.changed)
    return _reasons_of(qs, on)


def _moved_people(base: Base, on: dt.date, products: dict[int, rules.ProductRule]) -> list[rules.Person]:
    """The people counted by their past unit (changed since the date): few, read by id."""
    if not base.moved:
        return []
    ids = sorted(base.moved)
    summaries: dict[int, tuple[Any, ...]] = {}
    reasons: dict[int, list[rules.ReasonFact]] = {}
    for chunk in _chunks(ids):
        for row in DoseSummary.objects.filter(resident_id__in=chunk).values_list("resident_id", *SUMMARY_FIELDS):
            summaries[row[0]] = row[1:]
        reasons.update(_reasons_of(ReasonRecord.objects.filter(resident_id__in=chunk), on))
    none = (None,) * len(SUMMARY_FIELDS)
    return [
        rules.Person(rid, base.moved[rid], _progress(summaries.get(rid, none), products, on), reasons.get(rid, []))
        for rid in ids
    ]


# ---- coverage ------------------------------------------------------------------------------------------------------

# Disjoint age bands counted in the database; 60+ is 60–79 plus 80+.
BANDS = (("age_3_17", 3, 17), ("age_18_59", 18, 59), ("age_60_79", 60, 79), ("age_80_plus", 80, None))


@dataclass
class CoverageRow:
    group: rules.AgeGroup
    cell: rules.CoverageCell

    @property
    def percents(self) -> dict[str, Any]:
        return {level: self.cell.percent(level) for level in rules.LEVELS}

    @property
    def cells(self) -> list[dict[str, Any]]:
        return [
            {"level": level, "count": self.cell.count(level), "percent": self.cell.percent(level)}
            for level in rules.LEVELS
        ]


def coverage(unit: OrgUnit, on: dt.date) -> list[CoverageRow]:
    """Each age group's people on the date and how many had a first dose, a full course, a booster:
    one aggregate pass over the subtree's people and their dose summaries (plus the few moved people)."""
    base = _base(unit, on, Q())
    aggregates: dict[str, Any] = {}
    for key, lo, hi in BANDS:
        band = _ages_q(lo, hi, on)
        aggregates[f"{key}__people"] = Count("id", filter=band)
        for level in rules.LEVELS:
            aggregates[f"{key}__{level}"] = Count("id", filter=band & reached_q(level, on))
    row = base.live.aggregate(**aggregates)
    cells = {g.key: rules.CoverageCell() for g in rules.AGE_GROUPS}
    for key, _lo, _hi in BANDS:
        targets = [cells["age_60_plus"]] if key == "age_60_79" else [cells[key]]
        if key == "age_80_plus":
            targets.append(cells["age_60_plus"])
        for cell in targets:
            cell.people += row[f"{key}__people"]
            for level in rules.LEVELS:
                setattr(cell, level, cell.count(level) + row[f"{key}__{level}"])
    moved = rules.coverage(_moved_people(base, on, product_rules()), on)
    for key, cell in cells.items():
        extra = moved[key]
        cell.people += extra.people
        for level in rules.LEVELS:
            setattr(cell, level, cell.count(level) + extra.count(level))
    return [CoverageRow(g, cells[g.key]) for g in rules.AGE_GROUPS]


def coverage_for(user: User, unit: OrgUnit, on: dt.date) -> list[CoverageRow]:
    require_unit(user, unit)
    return coverage(unit, on)


@dataclass
class PersonRow:
    """One person of a list (unexplained, door-to-door), masked for the reader's role."""

    id: int
    name: str
    sex: str
    age: int
    id_number: str
    phone: str
    community: str
    grid: str
    address: str
    tags: list[str]
    doses: int
    last_dose_on: dt.date | None
    next_due: dt.date | None
    category: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "sex": self.sex,
            "age": self.age,
            "id_number": self.id_number,
            "phone": self.phone,
            "community": self.community,
            "grid": self.grid,
            "address": self.address,
            "tags": self.tags,
            "doses": self.doses,
            "last_dose_on": self.last_dose_on,
            "next_due": self.next_due,
        }


@dataclass
class CategoryRow:
    key: str
    label: str
    count: int
    kind: str  # vaccinated / computed / reason / unexplained / outside


@dataclass
class Reconciliation:
    unit: OrgUnit
    group: rules.AgeGroup
    level: str
    on: dt.date
    tally: rules.Tally
    rows: list[CategoryRow]
    progress: dict[int, rules.Progress] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.tally.total

    @property
    def base(self) -> int:
        return self.tally.base

    @property
    def unexplained_ids(self) -> list[int]:
        return self.tally.unexplained

    def count(self, key: str) -> int:
        return self.tally.count(key)

    def as_counts(self) -> dict[str, int]:
        return {row.key: row.count for row in self.rows}


def _category_rows(tally: rules.Tally) -> list[CategoryRow]:
    """Every category of the tally, in the order the seed reports them: vaccinated, the product rule,
    the interval, the recorded reasons (in the reasons table's order), unexplained; for the booster
    the people without a full course come last (outside the level's base)."""
    names = {r.code: r.name for r in NonVaccinationReason.objects.all()}

    def row(key: str, kind: str) -> CategoryRow:
        label = rules.CATEGORY_LABELS.get(key) or names.get(key, key)
        return CategoryRow(key, str(label), tally.count(key), kind)

    rows = [row(rules.VACCINATED, "vaccinated")]
    if tally.level == rules.BOOSTER or tally.count(rules.NO_BOOSTER_NEEDED):
        rows.append(row(rules.NO_BOOSTER_NEEDED, "computed"))
    if tally.level != rules.FIRST_DOSE:
        rows.append(row(rules.INTERVAL_NOT_MET, "computed"))
    special = {rules.VACCINATED, rules.NO_BOOSTER_NEEDED, rules.INTERVAL_NOT_MET, rules.UNEXPLAINED}
    special.add(rules.NOT_FULL_COURSE)
    codes = [c for c in names if c not in special and tally.count(c)]
    codes += sorted(c for c in tally.counts if c not in special and c not in names)
    rows.extend(row(code, "reason") for code in codes)
    rows.append(row(rules.UNEXPLAINED, "unexplained"))
    if tally.level == rules.BOOSTER:
        rows.append(row(rules.NOT_FULL_COURSE, "outside"))
    return rows


def reconcile(unit: OrgUnit, group_key: str, level: str, on: dt.date) -> Reconciliation:
    """Every person of the age group present on the date, in exactly one category for the level.

    The database counts the vaccinated (the bulk); only the others (a few hundred of a street's 9,537
    people aged 60+) are read and classified by rules.classify with their reasons."""
    group = rules.GROUPS[group_key]
    large = unit.level in LARGE_LEVELS and group.key in LARGE_GROUPS
    ages = _ages_q(group.min_age, group.max_age, on, index=not large)
    base = _base(unit, on, ages)
    products = product_rules()
    reached = Case(When(reached_q(level, on), then=Value(1)), default=Value(0), output_field=IntegerField())
    people = base.live.annotate(reached=reached)
    vaccinated = people.filter(reached=1).count()
    others = list(
        people.filter(reached=0).order_by().values_list("id", "birth_date", *(SUMMARY + f for f in SUMMARY_FIELDS))
    )
    reasons = _live_reasons(unit, on, base, _ages_q(group.min_age, group.max_age, on, "resident__", index=False))
    tally = rules.Tally(level=level)
    progress: dict[int, rules.Progress] = {}
    none: list[rules.ReasonFact] = []
    for row in others:
        rid = row[0]
        p = progress[rid] = _progress(row[2:], products, on)
        tally.add(rules.Person(rid, row[1], p, reasons.get(rid, none)), on)
    not_vaccinated = {row[0] for row in others}
    absent = sum(1 for rid, facts in reasons.items() if rid not in not_vaccinated and rules.is_absent(facts, on))
    tally.add_vaccinated(vaccinated, absent=absent)
    for person in _moved_people(base, on, products):
        if tally.add(person, on) != rules.VACCINATED:
            progress[person.id] = person.progress
    return Reconciliation(unit, group, level, on, tally, _category_rows(tally), progress)


def reconciliation_for(user: User, unit: OrgUnit, group_key: str, level: str, on: dt.date) -> Reconciliation:
    require_unit(user, unit)
    return reconcile(unit, group_key, level, on)


def person_rows(
    user: User, ids: list[int], on: dt.date, progress: dict[int, rules.Progress] | None = None
) -> list[PersonRow]:
    """Name, masked ID number, phone as the role may see it, community, grid, address and key-group
    tags of the given people (in scope only), in the tree's order: a few queries whatever the count."""
    progress = progress or {}
    residents: list[Resident] = []
    for chunk in _chunks(ids):
        residents.extend(scoped(Resident.objects.filter(pk__in=chunk), user).select_related("unit", "household"))
    segment_ids = {int(s) for r in residents for s in r.unit.path.strip("/").split("/") if s}
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=segment_ids).only("id", "name", "level")}
    tags: dict[int, list[str]] = defaultdict(list)
    through = Resident.tags.through
    names = dict(Tag.objects.values_list("id", "name"))
    for chunk in _chunks([r.pk for r in residents]):
        for rid, tag_id in through.objects.filter(resident_id__in=chunk).values_list("resident_id", "tag_id"):
            tags[rid].append(names.get(tag_id, ""))
    role = user.role
    out = []
    residents.sort(
        key=lambda r: (
            r.unit.path,
            r.household.entrance if r.household else "",
            r.household.door if r.household else "",
            r.name,
            r.pk,
        )
    )
    for r in residents:
        chain = [units[int(s)] for s in r.unit.path.strip("/").split("/") if s and int(s) in units]
        by_level = {u.level: u.name for u in chain}
        place = [by_level.get(Level.BUILDING, "")]
        if r.household is not None:
            if r.household.entrance:
                place.append(_("%(n)s单元") % {"n": r.household.entrance})
            place.append(r.household.door)
        p = progress.get(r.pk, rules.NO_DOSES)
        nxt = rules.next_dose(p)
        out.append(
            PersonRow(
                id=r.pk,
                name=r.name,
                sex=r.get_sex_display(),
                age=age_on(r.birth_date, on),
                id_number=mask_id_number(r.id_number),
                phone=shown_phone(role, r.phone),
                community=by_level.get(Level.COMMUNITY, ""),
                grid=by_level.get(Level.GRID, ""),
                address=" ".join(x for x in place if x) or r.unit.name,
                tags=sorted(t for t in tags.get(r.pk, []) if t),
                doses=p.doses,
                last_dose_on=p.last_dose_on,
                next_due=nxt.due_on if nxt else None,
            )
        )
    return out


# ---- door-to-door lists (上门接种) ----------------------------------------------------------------------------------

DOOR_GROUPS = ("age_60_plus", "age_80_plus")


def door_to_door(
    user: User, unit: OrgUnit, on: dt.date, *, group_key: str, level: str, tag_ids: list[int] | None = None
) -> list[PersonRow]:
    """Elderly people not vaccinated at the level and with nothing that explains it (the reconciliation's
    unexplained), with address and phone; optionally only those with one of the tags (残疾, 慢病 …)."""
    result = reconciliation_for(user, unit, group_key, level, on)
    ids = result.unexplained_ids
    if tag_ids:
        through = Resident.tags.through
        tagged: set[int] = set()
        for chunk in _chunks(ids):
            tagged.update(
                through.objects.filter(resident_id__in=chunk, tag_id__in=tag_ids).values_list("resident_id", flat=True)
            )
        ids = [i for i in ids if i in tagged]
    return person_rows(user, ids, on, result.progress)


# ---- one person's card -----------------------------------------------------------------------------------------------


@dataclass
class LevelState:
    level: str
    label: str
    category: str
    category_label: str


@dataclass
class Card:
    resident: Resident
    doses: list[Dose]
    retired_doses: list[Dose]
    reasons: list[ReasonRecord]
    progress: rules.Progress
    next_dose: rules.NextDose | None
    states: list[LevelState]
    absent: bool


def card(resident: Resident, on: dt.date) -> Card:
    all_doses = list(Dose.objects.filter(resident=resident).select_related("product", "recorded_by"))
    doses = sorted((d for d in all_doses if d.retired_at is None), key=lambda d: d.dose_number)
    retired = [d for d in all_doses if d.retired_at is not None]
    products = product_rules()
    p = rules.progress_on((rules.DoseFact(d.dose_number, d.date, d.product_id) for d in doses), products, on)
    records = list(
        ReasonRecord.objects.filter(resident=resident).select_related("reason", "recorded_by").order_by("-valid_from")
    )
    facts = [
        rules.ReasonFact(r.reason.code, r.scope, r.valid_from, r.valid_to, r.reason.absent)
        for r in records
        if r.retired_at is None
    ]
    names = {r.code: r.name for r in NonVaccinationReason.objects.all()}
    states = []
    for level in rules.LEVELS:
        category = rules.classify(p, facts, level, on)
        label = rules.CATEGORY_LABELS.get(category) or names.get(category, category)
        states.append(LevelState(level, str(rules.LEVEL_LABELS[level]), category, str(label)))
    return Card(resident, doses, retired, records, p, rules.next_dose(p), states, rules.is_absent(facts, on))
