"""Reads of mass-testing rounds, scoped to the user's subtree: the rounds a user works on, the plan with its
checks, the live progress (two grouped queries per round, whatever its size), the missed list, results
and the positive pools, and static-code coverage.

Counting (docs/testing.md): a person counts once however many times he was swabbed; "sampled" (实采)
is everyone sampled in the round, on the list or not; "missed" (应检未检) is a person who should be
sampled (on the list, no exemption) and has no sample in the round.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.scoping import scoped
from orgunits.models import OrgUnit
from registry.models import Resident, StaticCode
from testing import rules
from testing.models import (
    Exemption,
    Round,
    RoundStaff,
    RoundStatus,
    Sample,
    SamplingSite,
    SamplingTable,
    ShouldSample,
    TableKind,
    Tube,
    TubeResult,
)
from testing.registration import EXTRA_ROSTER_NOTE

if TYPE_CHECKING:
    from accounts.models import User

# The table adds people it samples off the list as list rows with this note (testing.registration): they
# count as sampled off the list (名单外), not in the planned list's figures.
WALK_IN = EXTRA_ROSTER_NOTE


def _in(unit: OrgUnit, prefix: str = "unit__") -> Q:
    return Q(**{f"{prefix}path__gte": unit.path, f"{prefix}path__lt": unit.path_end})


def user_root(user: User) -> OrgUnit | None:
    """The subtree a user sees (None: everything, for a superuser without a unit)."""
    return user.org_unit


def rounds_for(user: User) -> QuerySet[Round]:
    """Rounds organised in the user's subtree or above it (a community works in its street's round)."""
    root = user.org_unit
    if root is None or not user.is_active:
        return Round.objects.all() if user.is_superuser and user.is_active else Round.objects.none()
    ancestors = [int(seg) for seg in root.path.strip("/").split("/") if seg]
    return Round.objects.filter(Q(unit_id__in=ancestors) | _in(root)).select_related("unit")


def rounds_touching(unit: OrgUnit) -> QuerySet[Round]:
    """Rounds whose scope includes the unit, part of it, or a unit above it."""
    ancestors = [int(seg) for seg in unit.path.strip("/").split("/") if seg]
    return Round.objects.filter(Q(scope_units__in=ancestors) | _in(unit, "scope_units__")).distinct()


def roster_for(user: User, round_: Round) -> QuerySet[ShouldSample]:
    return scoped(ShouldSample.objects.filter(round=round_), user)


# ---- counting -----------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """The figures of a part of a round (a building, grid, community, site or the whole)."""

    listed: int = 0  # on the should-sample list (对辖区N人)
    exempt: dict[str, int] = field(default_factory=dict)  # no sample needed, by reason
    sampled_should: int = 0  # people who should be sampled and were
    sampled_exempt: int = 0  # exempt people sampled anyway
    off_roster: int = 0  # sampled, not on the list (by site only)
    door_to_door: int = 0  # people sampled at home
    make_up: int = 0  # people with a make-up sample
    needs_door: int = 0  # should-sample people marked for home sampling
    swabs: int = 0  # samples taken, repeats included (by site only)
    repeats: int = 0  # second and later swabs of a person

    @property
    def not_needed(self) -> int:
        return sum(self.exempt.values())

    @property
    def should(self) -> int:
        return self.listed - self.not_needed

    @property
    def missed(self) -> int:
        return self.should - self.sampled_should

    @property
    def sampled(self) -> int:
        """实采人数: every person sampled in the round, once."""
        return self.sampled_should + self.sampled_exempt + self.off_roster

    @property
    def percent(self) -> float | None:
        return round(100 * self.sampled_should / self.should, 1) if self.should else None

    def add(self, other: Tally) -> None:
        self.listed += other.listed
        for k, v in other.exempt.items():
            self.exempt[k] = self.exempt.get(k, 0) + v
        self.sampled_should += other.sampled_should
        self.sampled_exempt += other.sampled_exempt
        self.off_roster += other.off_roster
        self.door_to_door += other.door_to_door
        self.make_up += other.make_up
        self.needs_door += other.needs_door
        self.swabs += other.swabs
        self.repeats += other.repeats

    def as_dict(self) -> dict[str, Any]:
        return {
            "listed": self.listed,
            "not_needed": self.not_needed,
            "exempt": {k: self.exempt.get(k, 0) for k in rules.EXEMPTION_ORDER} | self._other(),
            "should": self.should,
            "sampled": self.sampled,
            "sampled_should": self.sampled_should,
            "sampled_exempt": self.sampled_exempt,
            "off_roster": self.off_roster,
            "missed": self.missed,
            "door_to_door": self.door_to_door,
            "make_up": self.make_up,
            "percent": self.percent,
        }

    def _other(self) -> dict[str, int]:
        return {"other": self.exempt.get(Exemption.OTHER, 0)}


@dataclass(frozen=True)
class UnitRow:
    id: int
    name: str
    path: str
    level: str
    depth: int

    @property
    def path_end(self) -> str:
        return self.path + "~"


@dataclass
class Counts:
    """A round's tallies: by building (the unit of each list row) and by site, plus the sample totals."""

    units: dict[int, Tally]
    sites: dict[int | None, Tally]
    unit_rows: dict[int, UnitRow]
    swabs: int = 0  # samples taken, repeats included
    repeats: int = 0
    people_at_home: int = 0  # people sampled door to door (list or not)


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _roster_sql() -> str:
    """List rows grouped by building, site, reason, home sampling and walk-in, each joined to the person's
    first sample of the round (the one without ``repeat_of``: one per person), so no aggregation of the
    samples is needed. Door-to-door and make-up are read from that first sample."""
    r, s = _table(ShouldSample), _table(Sample)
    return f"""
        SELECT r.unit_id, r.site_id, r.exemption, r.needs_door_to_door,
               CASE WHEN r.exemption_note = %s THEN 1 ELSE 0 END, COUNT(*), COUNT(s.id),
               SUM(CASE WHEN s.door_to_door THEN 1 ELSE 0 END), SUM(CASE WHEN s.make_up THEN 1 ELSE 0 END)
        FROM {r} r
        LEFT JOIN {s} s ON s.round_id = r.round_id AND s.id_number = r.id_number AND s.repeat_of_id IS NULL
        WHERE r.round_id = %s
        GROUP BY r.unit_id, r.site_id, r.exemption, r.needs_door_to_door,
                 CASE WHEN r.exemption_note = %s THEN 1 ELSE 0 END
    """  # noqa: S608 - table names from model meta


def _sample_sql() -> str:
    """Samples by site: swabs, repeats, and people off the list (first samples with no list row)."""
    s, t, r = _table(Sample), _table(SamplingTable), _table(ShouldSample)
    return f"""
        SELECT t.site_id, COUNT(*),
               SUM(CASE WHEN s.repeat_of_id IS NULL THEN 0 ELSE 1 END),
               SUM(CASE WHEN s.repeat_of_id IS NULL AND r.id IS NULL THEN 1 ELSE 0 END),
               SUM(CASE WHEN s.repeat_of_id IS NULL AND r.id IS NULL AND s.door_to_door THEN 1 ELSE 0 END)
        FROM {s} s
        JOIN {t} t ON t.id = s.table_id
        LEFT JOIN {r} r ON r.round_id = s.round_id AND r.id_number = s.id_number
        WHERE s.round_id = %s
        GROUP BY t.site_id
    """  # noqa: S608 - table names from model meta


def round_counts(round_: Round, within: OrgUnit | None = None) -> Counts:
    """The round's tallies in two grouped queries (list rows joined to the people sampled; samples by site).

    ``within``: only list rows of that subtree, and people off the list sampled at its sites.
    """
    units: dict[int, Tally] = defaultdict(Tally)
    sites: dict[int | None, Tally] = defaultdict(Tally)
    with connection.cursor() as cursor:
        cursor.execute(_roster_sql(), [WALK_IN, round_.pk, WALK_IN])
        roster_rows = cursor.fetchall()
        cursor.execute(_sample_sql(), [round_.pk])
        sample_rows = cursor.fetchall()
    unit_ids = {row[0] for row in roster_rows}
    unit_rows = {
        pk: UnitRow(pk, name, path, level, depth)
        for pk, name, path, level, depth in OrgUnit.objects.filter(pk__in=unit_ids).values_list(
            "id", "name", "path", "level", "depth"
        )
    }
    site_units = dict(SamplingSite.objects.filter(round=round_).values_list("id", "unit__path"))

    def inside(path: str | None) -> bool:
        return within is None or (path is not None and path.startswith(within.path))

    for unit_id, site_id, exemption, needs_door, walk_in, n, sampled, d2d, mk in roster_rows:
        if not inside(unit_rows[unit_id].path if unit_id in unit_rows else None):
            continue
        tally = Tally(listed=n, door_to_door=int(d2d or 0), make_up=int(mk or 0))
        if walk_in:  # added to the list by the table: sampled off the planned list
            tally.listed, tally.off_roster = 0, sampled
        elif exemption:
            tally.exempt[exemption] = n
            tally.sampled_exempt = sampled
        else:
            tally.sampled_should = sampled
            tally.needs_door = n if needs_door else 0
        units[unit_id].add(tally)
        sites[site_id].add(tally)
    out = Counts(units=dict(units), sites={}, unit_rows=unit_rows)
    for site_id, swabs, repeats, off, off_d2d in sample_rows:
        if not inside(site_units.get(site_id)):
            continue
        out.swabs += swabs
        out.repeats += int(repeats or 0)
        sites[site_id].swabs += swabs
        sites[site_id].repeats += int(repeats or 0)
        sites[site_id].off_roster += int(off or 0)
        sites[site_id].door_to_door += int(off_d2d or 0)
    out.sites = dict(sites)
    return out


CLOSED_CACHE_SECONDS = 3600


def round_total(round_: Round, within: OrgUnit | None = None) -> Tally:
    """The round's whole tally for a part of it. A closed round takes no more samples and its list is frozen,
    so its tally is kept in the cache (the dashboard and the indicators read a dozen rounds at once); a
    round in progress is always counted afresh."""
    if round_.status != RoundStatus.CLOSED:
        return total(round_counts(round_, within))
    stamp = f"{round_.created_at.timestamp()}:{round_.roster_built_at.timestamp() if round_.roster_built_at else 0}"
    key = f"testing:tally:{round_.pk}:{stamp}:{within.path if within else ''}"
    cached = cache.get(key)
    if cached is None:
        cached = total(round_counts(round_, within))
        cache.set(key, cached, CLOSED_CACHE_SECONDS)
    return cached  # type: ignore[no-any-return]


def total(counts: Counts) -> Tally:
    t = Tally()
    for tally in counts.sites.values():
        t.add(tally)
    return t


def _ancestor_ids(path: str) -> list[int]:
    return [int(seg) for seg in path.strip("/").split("/") if seg]


def rollup(counts: Counts, parent: OrgUnit) -> list[tuple[UnitRow, Tally]]:
    """Tallies of each child of ``parent`` (communities of a street, grids of a community, buildings of a grid)."""
    by_child: dict[int, Tally] = defaultdict(Tally)
    for unit_id, tally in counts.units.items():
        row = counts.unit_rows.get(unit_id)
        if row is None or not row.path.startswith(parent.path) or row.path == parent.path:
            continue
        ids = _ancestor_ids(row.path)
        if len(ids) <= parent.depth + 1:
            continue
        by_child[ids[parent.depth + 1]].add(tally)
    children = {
        pk: UnitRow(pk, name, path, level, depth)
        for pk, name, path, level, depth in OrgUnit.objects.filter(pk__in=list(by_child)).values_list(
            "id", "name", "path", "level", "depth"
        )
    }
    return sorted(((children[pk], t) for pk, t in by_child.items() if pk in children), key=lambda x: x[0].path)


@dataclass
class Progress:
    round: Round
    total: Tally
    children: list[tuple[UnitRow, Tally]]
    sites: list[tuple[SamplingSite | None, Tally]]
    swabs: int
    repeats: int
    at: dt.datetime


def progress(round_: Round, user: User, unit: OrgUnit | None = None) -> Progress:
    """Sampled vs should-sample for the user's part of the round: the whole, each child of ``unit`` (or of the
    user's unit), each site. Served from the two grouped queries of round_counts."""
    within = unit or user_root(user)
    counts = round_counts(round_, within)
    parent = unit or user_root(user)
    if parent is None or not parent.is_within(round_.unit):
        parent = round_.unit  # a district user sees the round's street broken down by community
    site_objs = SamplingSite.objects.in_bulk([s for s in counts.sites if s is not None])
    sites = sorted(
        ((site_objs.get(pk) if pk is not None else None, t) for pk, t in counts.sites.items()),
        key=lambda x: (x[0] is None, x[0].name if x[0] else ""),
    )
    return Progress(
        round=round_,
        total=total(counts),
        children=rollup(counts, parent),
        sites=sites,
        swabs=counts.swabs,
        repeats=counts.repeats,
        at=timezone.now(),
    )


# ---- missed list --------------------------------------------------------------------------------------------------


def missed(round_: Round, user: User, unit: OrgUnit | None = None) -> QuerySet[ShouldSample]:
    """应检未检: people of the list with no exemption and no sample in the round, by address."""
    qs = roster_for(user, round_).filter(exemption="")
    if unit is not None:
        qs = qs.filter(_in(unit))
    sampled = Sample.objects.filter(round=round_, id_number=OuterRef("id_number"))
    return (
        qs.filter(~Exists(sampled))
        .select_related("unit", "unit__parent", "site", "resident__household")
        .order_by("unit__path", "resident__household__entrance", "resident__household__door", "name", "id")
    )


def address(row: ShouldSample) -> str:
    """Building, entrance and door of a list row (for imported people: building and workplace)."""
    parts = [row.unit.name]
    household = row.resident.household if row.resident_id and row.resident else None
    if household is not None:
        if household.entrance:
            parts.append(f"{household.entrance}单元")
        parts.append(household.door)
    elif row.workplace:
        parts.append(row.workplace)
    return " ".join(parts)


# ---- the plan -----------------------------------------------------------------------------------------------------


@dataclass
class SitePlan:
    site: SamplingSite
    fixed: int
    mobile: int
    buildings: int
    people: int  # should-sample people of the site's buildings
    staff: dict[str, int]
    hours: float | None


@dataclass
class Plan:
    sites: list[SitePlan]
    check: rules.SamplerCheck
    staff: dict[str, int]
    fixed: int
    mobile: int
    hours: float | None
    average_hours: float | None
    unassigned_people: int  # should-sample people whose building has no site
    compounds: int


def plan(round_: Round) -> Plan:
    sites = list(
        SamplingSite.objects.filter(round=round_, retired_at__isnull=True).select_related("unit").order_by("name")
    )
    tables = list(
        SamplingTable.objects.filter(site__round=round_, site__retired_at__isnull=True, retired_at__isnull=True)
        .order_by("site__name", "kind", "number")
        .select_related("site")
    )
    staff = list(
        RoundStaff.objects.filter(round=round_, retired_at__isnull=True).values_list(
            "role", "vehicle_plate", "site_id", "table_id"
        )
    )
    buildings: dict[int, int] = dict(
        SamplingSite.buildings.through.objects.filter(samplingsite__in=sites)
        .values("samplingsite_id")
        .annotate(n=Count("id"))
        .values_list("samplingsite_id", "n")  # type: ignore[misc]
    )
    people: dict[int | None, int] = dict(
        ShouldSample.objects.filter(round=round_, exemption="")
        .values("site_id")
        .annotate(n=Count("id"))
        .values_list("site_id", "n")
        .order_by()
    )
    fixed_at: dict[int, int] = defaultdict(int)
    mobile_at: dict[int, int] = defaultdict(int)
    for t in tables:
        (fixed_at if t.kind == TableKind.FIXED else mobile_at)[t.site_id] += 1
    staff_at: dict[int | None, list[tuple[str, str]]] = defaultdict(list)
    for role, plate, site_id, _table_id in staff:
        staff_at[site_id].append((role, plate))
    rate = round_.table_rate_per_hour
    site_plans = [
        SitePlan(
            site=s,
            fixed=fixed_at[s.pk],
            mobile=mobile_at[s.pk],
            buildings=buildings.get(s.pk, 0),
            people=people.get(s.pk, 0),
            staff=rules.staff_totals(staff_at[s.pk]),
            hours=rules.expected_hours(people.get(s.pk, 0), fixed_at[s.pk], rate),
        )
        for s in sites
    ]
    active_tables = {t.pk for t in tables}
    check = rules.sampler_check(
        [t.pk for t in tables],
        [tid if tid in active_tables else None for role, _p, _s, tid in staff if role == "sampler"],
    )
    fixed = sum(fixed_at.values())
    assigned = sum(people.get(s.pk, 0) for s in sites)
    return Plan(
        sites=site_plans,
        check=check,
        staff=rules.staff_totals((role, plate) for role, plate, _s, _t in staff),
        fixed=fixed,
        mobile=sum(mobile_at.values()),
        hours=rules.round_hours(((p.people, p.fixed) for p in site_plans), rate),
        average_hours=rules.expected_hours(assigned, fixed, rate),
        unassigned_people=people.get(None, 0),
        compounds=len({rules.compound_of(s.location) for s in sites if s.location.strip()}),
    )


def table_label(table: SamplingTable) -> str:
    return str(table)


# ---- results ------------------------------------------------------------------------------------------------------


@dataclass
class ResultStatus:
    tubes: int
    closed: int
    with_result: int
    by_result: dict[str, int]
    corrected: int

    @property
    def pending(self) -> int:
        return self.tubes - self.with_result


def result_status(round_: Round) -> ResultStatus:
    tubes = Tube.objects.filter(round=round_)
    current = TubeResult.objects.filter(tube__round=round_, superseded_at__isnull=True)
    by_result = dict(current.values("result").annotate(n=Count("id")).values_list("result", "n").order_by())
    return ResultStatus(
        tubes=tubes.count(),
        closed=tubes.filter(closed_at__isnull=False).count(),
        with_result=sum(by_result.values()),
        by_result=by_result,
        corrected=TubeResult.objects.filter(tube__round=round_, superseded_at__isnull=False).count(),
    )


@dataclass
class PositiveTube:
    tube: Tube
    result: TubeResult
    members: list[Sample]
    handed_over: int

    @property
    def pooled(self) -> bool:
        return self.tube.capacity > 1


def _member_in_scope(user: User, sample: Sample, roster_units: dict[str, str]) -> bool:
    root = user_root(user)
    if root is None:
        return user.is_superuser
    path = roster_units.get(sample.id_number) or sample.table.site.unit.path
    return path.startswith(root.path)


def positive_tubes(round_: Round, user: User) -> list[PositiveTube]:
    """Tubes whose current result is positive, with their members (those in the user's subtree)."""
    results = list(
        TubeResult.objects.filter(tube__round=round_, superseded_at__isnull=True, result="positive")
        .select_related("tube")
        .order_by("tube__barcode")
    )
    samples = list(
        Sample.objects.filter(tube__in=[r.tube_id for r in results])
        .select_related("table__site__unit", "screening", "tube")
        .order_by("tube_id", "position")
    )
    roster_units = dict(
        ShouldSample.objects.filter(round=round_, id_number__in=[s.id_number for s in samples]).values_list(
            "id_number", "unit__path"
        )
    )
    by_tube: dict[int, list[Sample]] = defaultdict(list)
    for s in samples:
        if _member_in_scope(user, s, roster_units):
            by_tube[s.tube_id].append(s)
    return [
        PositiveTube(
            tube=r.tube,
            result=r,
            members=by_tube[r.tube_id],
            handed_over=sum(1 for s in by_tube[r.tube_id] if s.screening_id),
        )
        for r in results
        if by_tube.get(r.tube_id)
    ]


def resample_list(round_: Round, user: User) -> list[Sample]:
    """Members of positive pooled tubes with no later single-tube sample in the round (to re-sample alone)."""
    out = []
    for p in positive_tubes(round_, user):
        if not p.pooled:
            continue
        for s in p.members:
            later = Sample.objects.filter(
                round=round_, id_number=s.id_number, tube__capacity=1, taken_at__gt=s.taken_at
            ).exists()
            if not later:
                out.append(s)
    return out


# ---- static QR codes ----------------------------------------------------------------------------------------------


@dataclass
class CodeCoverage:
    unit: OrgUnit
    residents: int
    with_code: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.with_code / self.residents, 1) if self.residents else None


def code_coverage(unit: OrgUnit) -> tuple[CodeCoverage, list[CodeCoverage]]:
    """静态二维码预约: residents present with an active code, for the unit and each child (seed 002: "全镇13个村
    已完成静态二维码预约32896人")."""
    kids = list(OrgUnit.objects.filter(parent=unit, retired_on__isnull=True).order_by("path"))
    people = Resident.objects.filter(_in(unit), retired_at__isnull=True, left_on__isnull=True)
    active = StaticCode.objects.filter(revoked_at__isnull=True, resident__in=people)
    width = len(kids[0].path) if kids else len(unit.path)
    from django.db.models.functions import Substr

    residents = dict(
        people.annotate(p=Substr("unit__path", 1, width)).values("p").annotate(n=Count("id")).values_list("p", "n")
    )
    coded = dict(
        active.annotate(p=Substr("resident__unit__path", 1, width))
        .values("p")
        .annotate(n=Count("id"))
        .values_list("p", "n")
    )
    rows = [CodeCoverage(kid, residents.get(kid.path, 0), coded.get(kid.path, 0)) for kid in kids]
    whole = CodeCoverage(unit, sum(residents.values()), sum(coded.values()))
    return whole, rows


def codes_issued(unit: OrgUnit, on: dt.date | None = None) -> int:
    """Residents of the subtree holding an active code at the end of ``on`` (today by default)."""
    qs = StaticCode.objects.filter(_in(unit, "resident__unit__"), resident__retired_at__isnull=True)
    if on is None:
        return qs.filter(revoked_at__isnull=True).count()
    from core.history import end_of_day

    end = end_of_day(on)
    return qs.filter(issued_at__lt=end).filter(Q(revoked_at__isnull=True) | Q(revoked_at__gte=end)).count()
