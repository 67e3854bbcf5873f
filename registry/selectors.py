"""Reads of the registry, always narrowed to the user's subtree through core.scoping."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from core.db import prefix_q
from core.history import changed_since, end_of_day, latest_versions_qs
from core.scoping import path_range_q, scoped, visible_units
from orgunits.models import PATH_END, Level, OrgUnit
from orgunits.selectors import subtree, subtree_ids_on
from registry.models import (
    PRESENT_STATUSES,
    Household,
    IdType,
    LivingStatus,
    MaritalStatus,
    Relation,
    Resident,
    Sex,
    Tag,
)
from registry.rules import IdNumberError, birth_date_bounds_for_age, parse_id_number

if TYPE_CHECKING:
    from accounts.models import User


def residents_for(user: User, *, path_index: bool = True) -> QuerySet[Resident]:
    return scoped(Resident.objects.filter(retired_at__isnull=True), user, path_index=path_index)


def households_for(user: User) -> QuerySet[Household]:
    return scoped(Household.objects.filter(retired_on__isnull=True), user)


def search_residents(user: User, query: str = "", *, unit: OrgUnit | None = None) -> QuerySet[Resident]:
    """Search by name (prefix), full ID number, last digits of ID or phone, or address words.

    Name and digit searches are prefix searches on indexed columns (digits are
    matched against the reversed ID number and phone), so they stay fast at a
    million residents. Address words are first resolved against the (small)
    table of org units in scope, so they become path ranges instead of a
    LIKE over every resident's unit.

    With a search term, the path range of a large subtree (the user's scope or
    ``unit``) is kept off the path index on SQLite, so that the term's index
    drives the query (see ``_path_index_for``); the rows are the same.
    """
    raw = " ".join(query.split())
    qs = residents_for(user, path_index=_path_index_for(user.org_unit, raw))
    if unit is not None:
        qs = qs.filter(path_range_q("unit__path", unit.path, unit.path_end, index=_path_index_for(unit, raw)))
    if not raw:
        return qs.order_by("unit__path", "household_id", "id")
    q = _digits_only(raw)
    if q is not None:
        if len(q) in (15, 18):
            try:
                q = parse_id_number(q).number
            except IdNumberError:
                pass  # a malformed number can still be on file (imported before checks): exact match
            return qs.filter(id_number=q).order_by("id")
        return qs.filter(_tail_q(q)).order_by("name", "id")
    cond = Q()
    for word in raw.split():
        cond &= _word_q(user, word)
    return qs.filter(cond).order_by("name", "id")


# Subtrees at these levels hold tens of thousands of residents or more (a street of the demo: 87,000).
LARGE_SUBTREE_LEVELS = frozenset({Level.DISTRICT, Level.STREET})


def _path_index_for(unit: OrgUnit | None, term: str) -> bool:
    """Whether a search may start from the path range of ``unit``'s subtree (only SQLite heeds a no).

    SQLite has no statistics on ranges and would start every search from the subtree, reading
    all its residents: 2 to 5 s for a district of a million, where the name or reversed-ID
    prefix index finds the few hundred matches in milliseconds. Small subtrees (a community,
    a grid, a building) stay faster to read whole than a one-character name's matches
    across the whole database, so they keep the index.
    """
    return not term or unit is None or unit.level not in LARGE_SUBTREE_LEVELS


def _digits_only(value: str) -> str | None:
    """The digits of an ID number or phone typed with spaces or dashes, or None for other text."""
    compact = value.replace(" ", "").replace("-", "").upper()
    if compact and compact[:-1].isdigit() and (compact[-1].isdigit() or compact[-1] == "X"):
        return compact
    return None


def _tail_q(digits: str) -> Q:
    rev = digits[::-1]
    return prefix_q("id_number_rev", rev) | prefix_q("phone_rev", rev)


# Enough for any real address word; more would mean the word is too vague to be an address.
MAX_ADDRESS_UNITS = 200


def _word_q(user: User, word: str) -> Q:
    """One search word: a name prefix, part of a unit's name, an entrance ("2单元"), or a door or digit tail.

    A plain name stays a single indexed prefix condition (the common case must stay fast);
    a word naming units adds those units' subtrees as a condition on the resident's own
    unit_id, so PostgreSQL can still combine both indexes.
    """
    cond = prefix_q("name", word)
    paths = _outermost(
        list(
            visible_units(user)
            .filter(name__contains=word)
            .order_by("path")
            .values_list("path", flat=True)[:MAX_ADDRESS_UNITS]
        )
    )
    if paths:
        in_units = Q()
        for path in paths:
            in_units |= Q(path__gte=path, path__lt=path + PATH_END)
        cond |= Q(unit_id__in=OrgUnit.objects.filter(in_units).values("id"))
    entrance = word.removesuffix("单元")
    if entrance != word and entrance:
        cond |= Q(household__entrance=entrance)
    if any(c.isdigit() for c in word):
        cond |= Q(household__door__startswith=word)
        digits = _digits_only(word)
        if digits is not None:
            cond |= _tail_q(digits)
    return cond


def _outermost(paths: list[str]) -> list[str]:
    """Drop paths inside another path of the list (sorted input): their ranges are already covered."""
    out: list[str] = []
    for path in paths:
        if not out or not path.startswith(out[-1]):
            out.append(path)
    return out


@dataclass(frozen=True)
class PopulationFigures:
    """The home-page figures; keys are stable and documented in docs/indicators.md."""

    households_capacity: int
    households_occupied: int
    residents: int
    registered: int
    floating: int
    away: int
    women_15_49: int
    married_women_15_49: int
    age_60_plus: int
    age_80_plus: int
    male: int
    female: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _unit_filter(unit: OrgUnit, prefix: str = "unit__") -> Q:
    return Q(**{f"{prefix}path__gte": unit.path, f"{prefix}path__lt": unit.path_end})


def population_figures(unit: OrgUnit, *, on: dt.date | None = None) -> PopulationFigures:
    """Current figures of a unit's subtree (or as of a past date, see point-in-time below)."""
    today = timezone.localdate()
    on = on or today
    if on < today:
        return population_figures_on(unit, on)
    capacity = subtree(unit).filter(level=Level.BUILDING).aggregate(n=Sum("capacity_households"))["n"] or 0
    occupied = Household.objects.filter(_unit_filter(unit), retired_on__isnull=True).count()
    base = Resident.objects.filter(_unit_filter(unit), retired_at__isnull=True, left_on__isnull=True)
    return _figures_from(base, on, capacity=capacity, occupied=occupied)


def _person_counts(on: dt.date) -> dict[str, Count]:
    lo15, hi15 = birth_date_bounds_for_age(15, 49, on)
    _lo60, hi60 = birth_date_bounds_for_age(60, None, on)
    _lo80, hi80 = birth_date_bounds_for_age(80, None, on)
    women = Q(sex=Sex.FEMALE, birth_date__gte=lo15, birth_date__lte=hi15)
    return {
        "residents": Count("id"),
        "registered": Count("id", filter=Q(registered=True)),
        "floating": Count("id", filter=Q(living_status=LivingStatus.FLOATING)),
        "away": Count("id", filter=Q(living_status=LivingStatus.AWAY)),
        "women_15_49": Count("id", filter=women),
        "married_women_15_49": Count("id", filter=women & Q(marital_status=MaritalStatus.MARRIED)),
        "age_60_plus": Count("id", filter=Q(birth_date__lte=hi60)),
        "age_80_plus": Count("id", filter=Q(birth_date__lte=hi80)),
        "male": Count("id", filter=Q(sex=Sex.MALE)),
        "female": Count("id", filter=Q(sex=Sex.FEMALE)),
    }


def _figures_from(base: QuerySet[Any], on: dt.date, *, capacity: int, occupied: int) -> PopulationFigures:
    agg = base.aggregate(**_person_counts(on))
    return PopulationFigures(households_capacity=capacity, households_occupied=occupied, **agg)


def home_figures(unit: OrgUnit) -> tuple[PopulationFigures, list[tuple[OrgUnit, dict[str, int]]]]:
    """Today's figures of a unit and of each child, from one grouped pass over residents and households.

    The home page needs both; grouping by the child's path prefix and adding the groups up
    reads the residents once instead of twice (half the time on a street of 100,000).
    """
    on = timezone.localdate()
    kids = list(OrgUnit.objects.filter(parent=unit, retired_on__isnull=True).order_by("code"))
    width = len(kids[0].path) if kids else len(unit.path)
    base = Q(unit__path__gte=unit.path, unit__path__lt=unit.path_end)
    people: list[Any] = list(
        Resident.objects.filter(base, retired_at__isnull=True, left_on__isnull=True)
        .annotate(p=Substr("unit__path", 1, width))
        .values("p")
        .annotate(**_person_counts(on))
    )
    households = {
        row["p"]: row["n"]
        for row in Household.objects.filter(base, retired_on__isnull=True)
        .annotate(p=Substr("unit__path", 1, width))
        .values("p")
        .annotate(n=Count("id"))
    }
    capacity = subtree(unit).filter(level=Level.BUILDING).aggregate(n=Sum("capacity_households"))["n"] or 0
    keys = [
        k for k in PopulationFigures.__dataclass_fields__ if k not in {"households_capacity", "households_occupied"}
    ]
    totals = {k: sum(row[k] for row in people) for k in keys}
    figures = PopulationFigures(households_capacity=capacity, households_occupied=sum(households.values()), **totals)
    by_path: dict[str, dict[str, Any]] = {row["p"]: row for row in people}
    children = [
        (
            kid,
            {
                "residents": by_path.get(kid.path, {}).get("residents", 0),
                "floating": by_path.get(kid.path, {}).get("floating", 0),
                "households": households.get(kid.path, 0),
            },
        )
        for kid in kids
    ]
    return figures, children


def population_figures_on(unit: OrgUnit, on: dt.date) -> PopulationFigures:
    """Figures for a past date: the tree and each person's unit as they were on that date.

    People count when their presence interval [arrived_on, left_on) contains the
    date; their unit on the date comes from the resident history, the unit's
    subtree from the org-unit history (moves and merges after the date do not
    change the past).
    """
    present = Q(Q(left_on__isnull=True) | Q(left_on__gt=on), arrived_on__lte=on, retired_at__isnull=True)
    tree_moved = changed_since(OrgUnit.history.model, on)
    unit_ids = subtree_ids_on(unit, on) if tree_moved else None
    in_subtree = Q(unit_id__in=unit_ids) if unit_ids is not None else _unit_filter(unit)
    # People with no version after the date are today as they were then: count them from the live
    # table, and read the history only for the (few) people changed since. Reading every person's
    # latest version took 2 s for a district of a million (bench/README.md).
    history = Resident.history.model._default_manager  # type: ignore[attr-defined]
    changed_ids = history.filter(history_date__gte=end_of_day(on)).values("id")
    unchanged = Resident.objects.filter(present, in_subtree).exclude(id__in=changed_ids)
    if not history.filter(history_date__gte=end_of_day(on)).exists():
        parts: list[QuerySet[Any]] = [unchanged]
    else:
        present_ids = Resident.objects.filter(present, id__in=changed_ids).values("id")
        then = latest_versions_qs(Resident.history.model, on).filter(id__in=present_ids)
        then = (
            then.filter(unit_id__in=unit_ids)
            if unit_ids is not None
            else then.filter(unit_id__in=OrgUnit.objects.filter(_unit_filter(unit, prefix="")).values("id"))
        )
        parts = [unchanged, then]
    household_q = Q(occupied_since__isnull=True) | Q(occupied_since__lte=on)
    household_q &= Q(retired_on__isnull=True) | Q(retired_on__gt=on)
    if unit_ids is None:
        capacity = (
            subtree(unit, include_retired=True)
            .filter(Q(retired_on__isnull=True) | Q(retired_on__gt=on), level=Level.BUILDING)
            .aggregate(n=Sum("capacity_households"))["n"]
            or 0
        )
        occupied = Household.objects.filter(_unit_filter(unit)).filter(household_q).count()
    else:
        capacity = (
            OrgUnit.objects.filter(pk__in=unit_ids, level=Level.BUILDING).aggregate(n=Sum("capacity_households"))["n"]
            or 0
        )
        occupied = Household.objects.filter(unit_id__in=unit_ids).filter(household_q).count()
    counts = [part.aggregate(**_person_counts(on)) for part in parts]
    totals = {key: sum(c[key] for c in counts) for key in counts[0]}
    return PopulationFigures(households_capacity=capacity, households_occupied=occupied, **totals)


def child_figures(unit: OrgUnit) -> list[tuple[OrgUnit, dict[str, int]]]:
    """Residents, floating population and households per child unit, in two grouped queries.

    Each row is attributed to the child whose path prefixes its unit's path (a fixed-width
    segment), so one GROUP BY on that prefix serves every child at once.
    """
    kids = list(OrgUnit.objects.filter(parent=unit, retired_on__isnull=True).order_by("code"))
    if not kids:
        return []
    width = len(kids[0].path)
    prefix = Substr("unit__path", 1, width)
    base = Q(unit__path__gte=unit.path, unit__path__lt=unit.path_end)
    people = {
        row["p"]: row
        for row in Resident.objects.filter(base, retired_at__isnull=True, left_on__isnull=True)
        .annotate(p=prefix)
        .values("p")
        .annotate(residents=Count("id"), floating=Count("id", filter=Q(living_status=LivingStatus.FLOATING)))
    }
    households = {
        row["p"]: row["n"]
        for row in Household.objects.filter(base, retired_on__isnull=True)
        .annotate(p=prefix)
        .values("p")
        .annotate(n=Count("id"))
    }
    out = []
    for kid in kids:
        row: Any = people.get(kid.path, {})
        out.append(
            (
                kid,
                {
                    "residents": row.get("residents", 0),
                    "floating": row.get("floating", 0),
                    "households": households.get(kid.path, 0),
                },
            )
        )
    return out


def present_statuses() -> tuple[str, ...]:
    return tuple(str(s) for s in PRESENT_STATUSES)


def filter_residents(user: User, params: dict[str, Any], *, unit: OrgUnit | None = None) -> QuerySet[Resident]:
    """The resident list with the page's filters (all optional, all scoped)."""
    qs = search_residents(user, params.get("q") or "", unit=unit)
    if params.get("living_status"):
        qs = qs.filter(living_status=params["living_status"])
    else:
        qs = qs.filter(left_on__isnull=True)  # people who left are found by choosing their status
    if params.get("sex"):
        qs = qs.filter(sex=params["sex"])
    if params.get("registered") in ("0", "1"):
        qs = qs.filter(registered=params["registered"] == "1")
    if params.get("marital_status"):
        qs = qs.filter(marital_status=params["marital_status"])
    tag = params.get("tag")
    if tag:
        qs = qs.filter(tags__code=getattr(tag, "code", tag))
    age = params.get("age")
    if age:
        today = timezone.localdate()
        lo_age, _sep, hi_age = age.replace("+", "-").partition("-")
        lo, hi = birth_date_bounds_for_age(int(lo_age), int(hi_age) if hi_age else None, today)
        qs = qs.filter(birth_date__lte=hi)
        if lo is not None:
            qs = qs.filter(birth_date__gte=lo)
    return qs


# ---- registry pages (resident page history, household list) ------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class Version:
    """One simple-history version of a resident, as the resident page shows it."""

    at: dt.datetime
    by: str
    kind: str  # "+", "~" or "-"
    reason: str
    changes: list[FieldChange]
    living_status: str
    living_status_label: str
    status_since: dt.date | None


# Bookkeeping columns: they change on every save and mean nothing to a reader.
HISTORY_NOISE = ["updated_at", "created_at", "retired_at"]


def resident_versions(resident: Resident, *, show_phone: Any, limit: int = 50) -> list[Version]:
    """Newest first, each with its changed fields as readable old -> new values.

    ``show_phone`` masks phone numbers for roles that may not see them (history shows old numbers too).
    """
    rows = list(resident.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    labels = {f.name: str(f.verbose_name) for f in Resident._meta.get_fields() if hasattr(f, "verbose_name")}
    tag_names = {t.pk: t.name for t in Tag.objects.all()}
    unit_ids: set[int] = set()
    household_ids: set[int] = set()
    deltas = []
    for i, v in enumerate(rows[:limit]):
        older = rows[i + 1] if i + 1 < len(rows) else None
        delta = v.diff_against(older, excluded_fields=HISTORY_NOISE).changes if older is not None else []
        for c in delta:
            if c.field == "unit":
                unit_ids.update(x for x in (c.old, c.new) if x)
            elif c.field == "household":
                household_ids.update(x for x in (c.old, c.new) if x)
        deltas.append((v, delta))
    units = {u.pk: u.name for u in OrgUnit.objects.filter(pk__in=unit_ids)}
    households = {h.pk: h.address for h in Household.objects.filter(pk__in=household_ids).select_related("unit")}

    def shown(field: str, value: Any) -> str:
        if value is None or value == "":
            return "—"
        if field == "tags":
            return "、".join(sorted(tag_names.get(row.get("tag"), "?") for row in value)) or "—"
        if field == "unit":
            return units.get(value, str(value))
        if field == "household":
            return households.get(value, str(value))
        if field == "phone":
            return str(show_phone(value))
        choices = _CHOICES.get(field)
        if choices is not None:
            return str(choices.get(value, value))
        if isinstance(value, bool):
            return str(_("是") if value else _("否"))
        if isinstance(value, dt.date):
            return f"{value:%Y-%m-%d}"
        return str(value)

    out = []
    for v, delta in deltas:
        user = v.history_user
        out.append(
            Version(
                at=v.history_date,
                by=str(user) if user is not None else str(_("系统")),
                kind=v.history_type,
                reason=v.history_change_reason or "",
                changes=[
                    FieldChange(
                        label=labels.get(c.field, c.field), old=shown(c.field, c.old), new=shown(c.field, c.new)
                    )
                    for c in delta
                ],
                living_status=v.living_status,
                living_status_label=str(_CHOICES["living_status"].get(v.living_status, v.living_status)),
                status_since=v.status_since,
            )
        )
    return out


_CHOICES: dict[str, dict[str, Any]] = {
    "sex": dict(Sex.choices),
    "living_status": dict(LivingStatus.choices),
    "marital_status": dict(MaritalStatus.choices),
    "relation": dict(Relation.choices),
    "id_type": dict(IdType.choices),
}


def status_history(versions: list[Version]) -> list[Version]:
    """The versions where the living status (or its date) changed, oldest first: the person's moves."""
    out: list[Version] = []
    for v in reversed(versions):
        if not out or (v.living_status, v.status_since) != (out[-1].living_status, out[-1].status_since):
            out.append(v)
    return out


def filter_households(
    user: User, *, query: str = "", unit: OrgUnit | None = None, household_type: str = ""
) -> QuerySet[Household]:
    """The household list: address words or head-of-household name, unit subtree, type; scoped."""
    qs = households_for(user)
    if unit is not None:
        qs = qs.filter(unit__path__gte=unit.path, unit__path__lt=unit.path_end)
    for word in query.split():
        cond = Q(head_name__startswith=word) | Q(door__startswith=word)
        entrance = word.removesuffix("单元")
        if entrance:
            cond |= Q(entrance=entrance)
        paths = _outermost(
            list(
                visible_units(user)
                .filter(name__contains=word)
                .order_by("path")
                .values_list("path", flat=True)[:MAX_ADDRESS_UNITS]
            )
        )
        for path in paths:
            cond |= Q(unit__path__gte=path, unit__path__lt=path + PATH_END)
        qs = qs.filter(cond)
    if household_type:
        qs = qs.filter(household_type=household_type)
    return qs.annotate(
        member_count=Count("members", filter=Q(members__retired_at__isnull=True, members__left_on__isnull=True))
    ).order_by("unit__path", "entrance", "door", "id")


def filter_unit_choices(user: User) -> QuerySet[OrgUnit]:
    """Units offered in the list filters: down to grids (buildings are too many for a select; use ?unit=)."""
    return (
        visible_units(user)
        .filter(retired_on__isnull=True, level__in=[Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID])
        .select_related("parent")
        .order_by("path")[:2000]
    )
