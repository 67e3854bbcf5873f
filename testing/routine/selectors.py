"""Reads of routine testing (应检尽检), scoped to the user's subtree through the member's unit.

Groups are visible to the users of their unit's subtree and to those below it (a community works
under the street's groups and sees its own members of them). Cycle figures are computed in Python
from a few queries (members, slots, tests) by testing.routine.rules: 1,551 members over ~80 cycles
is a fraction of a second.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from core.scoping import scoped
from orgunits.models import Level, OrgUnit
from testing.models import KeyGroup, KeyGroupMember, RoutineTest, ScheduleSlot
from testing.routine import rules

if TYPE_CHECKING:
    from accounts.models import User

LOOKAHEAD = dt.timedelta(days=rules.LAST_WINDOW_DAYS)


def _in(unit: OrgUnit, prefix: str = "unit__") -> Q:
    return Q(**{f"{prefix}path__gte": unit.path, f"{prefix}path__lt": unit.path_end})


def _ancestor_ids(unit: OrgUnit) -> list[int]:
    return [int(seg) for seg in unit.path.strip("/").split("/") if seg]


def groups_for(user: User) -> QuerySet[KeyGroup]:
    """Groups of the user's subtree, and of the units above it (their members below are his)."""
    root = user.org_unit
    if root is None:
        return KeyGroup.objects.all() if user.is_superuser else KeyGroup.objects.none()
    if not user.is_active:
        return KeyGroup.objects.none()
    return KeyGroup.objects.filter(Q(unit_id__in=_ancestor_ids(root)) | _in(root)).select_related("unit")


def members_for(user: User) -> QuerySet[KeyGroupMember]:
    return scoped(KeyGroupMember.objects.all(), user).select_related("group", "unit")


def active_on(qs: QuerySet[KeyGroupMember], on: dt.date) -> QuerySet[KeyGroupMember]:
    return qs.filter(joined_on__lte=on).filter(Q(left_on__isnull=True) | Q(left_on__gt=on))


def active_between(qs: QuerySet[KeyGroupMember], start: dt.date, end: dt.date) -> QuerySet[KeyGroupMember]:
    return qs.filter(joined_on__lte=end).filter(Q(left_on__isnull=True) | Q(left_on__gt=start))


def slot_specs(group_ids: list[int] | set[int], start: dt.date, end: dt.date) -> list[rules.SlotSpec]:
    qs = ScheduleSlot.objects.filter(group_id__in=group_ids, valid_from__lte=end).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=start)
    )
    return [
        rules.SlotSpec(weekday=w, batch=b, valid_from=f, valid_to=t, site=s, group_id=g)
        for g, w, b, s, f, t in qs.values_list("group_id", "weekday", "batch", "site", "valid_from", "valid_to")
    ]


def schedule_now(group: KeyGroup, on: dt.date) -> list[ScheduleSlot]:
    """The slots in force on a date (the schedule page shows them, the summary describes them)."""
    return list(
        group.slots.filter(valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .order_by("weekday", "batch", "site")
    )


# ---- the ledger: every member's due cycles over a period ---------------------------------------------------------


@dataclass(frozen=True)
class MemberRow:
    pk: int
    group_id: int
    name: str
    id_number: str
    phone: str
    unit_id: int
    unit_path: str
    workplace: str
    batch: int | None
    joined_on: dt.date
    left_on: dt.date | None


MEMBER_FIELDS = (
    "pk",
    "group_id",
    "name",
    "id_number",
    "phone",
    "unit_id",
    "unit__path",
    "workplace",
    "batch",
    "joined_on",
    "left_on",
)


@dataclass
class Ledger:
    start: dt.date
    end: dt.date
    today: dt.date  # statuses as of this day (cycles after it are not held yet)
    members: dict[int, MemberRow] = field(default_factory=dict)
    due: dict[int, list[rules.DueCycle]] = field(default_factory=dict)  # member pk -> due cycles in the period
    tests: dict[int, list[dt.date]] = field(default_factory=dict)

    def counts(self) -> list[rules.CycleCounts]:
        """Each group's cycles in the period with their figures (cycles nobody in scope was due on are left out)."""
        by_key = rules.count_cycles(self.due.values())
        return sorted(by_key.values(), key=lambda c: rules.cycle_sort_key(c.cycle))

    def totals(self) -> rules.Totals:
        totals = rules.Totals()
        for c in self.counts():
            totals.add(c)
        return totals


def ledger(members: QuerySet[KeyGroupMember], start: dt.date, end: dt.date, *, today: dt.date) -> Ledger:
    """Every member's due cycles from ``start`` to ``end`` (and up to ``today``), with their status.

    Three queries: the members of the period, their groups' slots, their tests. Members with the
    same group, batch and dates share one computation of their due cycles.
    """
    out = Ledger(start=start, end=end, today=today)
    rows = [MemberRow(*r) for r in active_between(members, start, end).order_by().values_list(*MEMBER_FIELDS)]
    if not rows:
        return out
    out.members = {r.pk: r for r in rows}
    group_ids = {r.group_id for r in rows}
    horizon = end + LOOKAHEAD
    retired: dict[int, dt.date] = {
        pk: day
        for pk, day in KeyGroup.objects.filter(pk__in=group_ids).values_list("pk", "retired_on")
        if day is not None
    }
    all_cycles = rules.cycles(slot_specs(group_ids, start, horizon), start, horizon, retired_on=retired)
    by_group: dict[int, list[rules.Cycle]] = defaultdict(list)
    for c in all_cycles:
        by_group[c.group_id].append(c)
    tests: dict[int, list[dt.date]] = defaultdict(list)
    last_test = min(horizon, today)
    pks = sorted(out.members)
    for i in range(0, len(pks), 900):
        for member_id, day in (
            RoutineTest.objects.filter(member_id__in=pks[i : i + 900], tested_on__gte=start, tested_on__lte=last_test)
            .order_by()
            .values_list("member_id", "tested_on")
        ):
            tests[member_id].append(day)
    for days in tests.values():
        days.sort()
    out.tests = dict(tests)
    shared: dict[tuple[int, int | None, dt.date, dt.date | None], tuple[list[rules.Cycle], list[dt.date]]] = {}
    for r in rows:
        sig = (r.group_id, r.batch, r.joined_on, r.left_on)
        if sig not in shared:
            m = rules.Membership(r.joined_on, r.left_on, r.batch, r.group_id)
            due = rules.due_cycles(m, by_group.get(r.group_id, []))
            shared[sig] = (due, rules.windows(due))
        due, ends = shared[sig]
        held = rules.statuses(due, ends, tests.get(r.pk, []), today=today)
        out.due[r.pk] = [d for d in held if d.cycle.day <= end]
    return out


def combined(counts: list[rules.CycleCounts]) -> list[rules.CycleCounts]:
    """The groups' cycles of the same day and batch as one (the street tests its groups together)."""
    out: dict[tuple[dt.date, int | None], rules.CycleCounts] = {}
    for c in counts:
        key = (c.cycle.day, c.cycle.batch)
        into = out.get(key)
        if into is None:
            into = out[key] = rules.CycleCounts(rules.Cycle(0, c.cycle.day, c.cycle.batch, c.cycle.sites))
        else:
            sites = tuple(sorted(set(into.cycle.sites) | set(c.cycle.sites)))
            into.cycle = rules.Cycle(0, c.cycle.day, c.cycle.batch, sites)
        into.due += c.due
        into.tested += c.tested
        into.made_up += c.made_up
        into.pending += c.pending
        into.missed_final += c.missed_final
        if c.window_end is not None and (into.window_end is None or c.window_end > into.window_end):
            into.window_end = c.window_end
    return sorted(out.values(), key=lambda c: rules.cycle_sort_key(c.cycle))


def member_scope(user: User, *, unit: OrgUnit | None = None, group: KeyGroup | None = None) -> QuerySet[KeyGroupMember]:
    qs = scoped(KeyGroupMember.objects.all(), user)
    if unit is not None:
        qs = qs.filter(_in(unit))
    if group is not None:
        qs = qs.filter(group=group)
    return qs


def cycle_table(
    user: User,
    start: dt.date,
    end: dt.date,
    *,
    today: dt.date,
    unit: OrgUnit | None = None,
    group: KeyGroup | None = None,
) -> list[rules.CycleCounts]:
    """The cycles of the period with due / tested / missed / made-up counts: per (day, batch) over the
    groups, or the one group's."""
    counts = ledger(member_scope(user, unit=unit, group=group), start, end, today=today).counts()
    return counts if group is not None else combined(counts)


def schedule_span(user: User, *, group: KeyGroup | None = None) -> tuple[dt.date | None, dt.date | None]:
    """First and last day any visible group's schedule covers (last None: still in force)."""
    groups = [group.pk] if group is not None else list(groups_for(user).values_list("pk", flat=True))
    slots = ScheduleSlot.objects.filter(group_id__in=groups)
    first = slots.order_by("valid_from").values_list("valid_from", flat=True).first()
    if first is None:
        return None, None
    if slots.filter(valid_to__isnull=True).exists():
        return first, None
    return first, slots.order_by("-valid_to").values_list("valid_to", flat=True).first()


# ---- one cycle ----------------------------------------------------------------------------------------------------


@dataclass
class CycleMember:
    member: MemberRow
    due: rules.DueCycle
    group_name: str
    unit_name: str


@dataclass
class CycleDetail:
    day: dt.date
    batch: int | None
    rows: list[CycleMember]
    sites: tuple[str, ...]

    def with_status(self, *statuses: rules.Status) -> list[CycleMember]:
        return [r for r in self.rows if r.due.status in statuses]

    @property
    def on_time(self) -> list[CycleMember]:
        return self.with_status(rules.Status.ON_TIME)

    @property
    def made_up(self) -> list[CycleMember]:
        return self.with_status(rules.Status.MADE_UP)

    @property
    def outstanding(self) -> list[CycleMember]:
        return self.with_status(rules.Status.PENDING, rules.Status.MISSED)


def cycle_detail(
    user: User,
    day: dt.date,
    *,
    today: dt.date,
    batch: int | None = None,
    any_batch: bool = False,
    unit: OrgUnit | None = None,
    group: KeyGroup | None = None,
) -> CycleDetail:
    """Who was due on the cycles of a day (one batch, or every batch with ``any_batch``) and how each stands."""
    found = ledger(member_scope(user, unit=unit, group=group), day, day, today=today)
    names = dict(KeyGroup.objects.filter(pk__in={m.group_id for m in found.members.values()}).values_list("pk", "name"))
    unit_ids = {m.unit_id for m in found.members.values()}
    unit_names = dict(OrgUnit.objects.filter(pk__in=unit_ids).values_list("pk", "name"))
    rows: list[CycleMember] = []
    sites: set[str] = set()
    for pk, dues in found.due.items():
        for d in dues:
            if d.cycle.day != day or (not any_batch and d.cycle.batch != batch):
                continue
            m = found.members[pk]
            sites.update(d.cycle.sites)
            rows.append(CycleMember(m, d, names.get(m.group_id, ""), unit_names.get(m.unit_id, "")))
    rows.sort(key=lambda r: (r.member.unit_path, r.group_name, r.member.name, r.member.pk))
    return CycleDetail(day=day, batch=None if any_batch else batch, rows=rows, sites=tuple(sorted(sites)))


# ---- one member -------------------------------------------------------------------------------------------------


@dataclass
class MemberHistory:
    rows: list[KeyGroupMember]  # the person's rows in the group (a batch move opens a new one)
    due: list[tuple[KeyGroupMember, rules.DueCycle]]
    tests: list[RoutineTest]
    compliance: Any


def member_history(member: KeyGroupMember, *, today: dt.date, start: dt.date | None = None) -> MemberHistory:
    """The person's cycles in the group (all his rows, newest first) and his tests."""
    rows = list(
        KeyGroupMember.objects.filter(group_id=member.group_id, id_number=member.id_number)
        .select_related("unit")
        .order_by("joined_on", "pk")
    )
    first = start or min(r.joined_on for r in rows)
    last = max(today, first)
    found = ledger(KeyGroupMember.objects.filter(pk__in=[r.pk for r in rows]), first, last, today=today)
    by_pk = {r.pk: r for r in rows}
    due = [(by_pk[pk], d) for pk, dues in found.due.items() for d in dues]
    due.sort(key=lambda x: (x[1].cycle.day, x[1].cycle.batch or 0), reverse=True)
    tests = list(
        RoutineTest.objects.filter(member__in=rows).select_related("member", "sample").order_by("-tested_on", "-pk")
    )
    return MemberHistory(rows, due, tests, rules.compliance([d for _m, d in due], first, last))


# ---- figures per group and community -------------------------------------------------------------------------------


@dataclass
class GroupFigures:
    group: KeyGroup
    members: int = 0
    unbatched: int = 0
    by_unit: dict[int, int] = field(default_factory=dict)  # community (or the unit above) -> members


@dataclass
class Figures:
    on: dt.date
    groups: list[GroupFigures]
    units: list[OrgUnit]  # the communities (or units above them) that have members, in tree order

    @property
    def total(self) -> int:
        return sum(g.members for g in self.groups)

    def unit_rows(self) -> list[tuple[OrgUnit, list[int], int]]:
        rows = []
        for u in self.units:
            counts = [g.by_unit.get(u.pk, 0) for g in self.groups]
            rows.append((u, counts, sum(counts)))
        return rows


def community_of_path(path: str, communities: dict[int, OrgUnit]) -> int:
    """The community a path lies in (its id), or the path's own last unit when it lies above communities."""
    ids = [int(seg) for seg in path.strip("/").split("/") if seg]
    for pk in ids:
        if pk in communities:
            return pk
    return ids[-1]


def figures(members: QuerySet[KeyGroupMember], groups: list[KeyGroup], on: dt.date) -> Figures:
    """Active members on a date per group and per community (the seed's 1,551 / 128 / 1,423)."""
    rows = list(
        active_on(members.filter(group__in=groups), on).order_by().values_list("group_id", "unit__path", "batch")
    )
    segment_ids = {int(seg) for _g, path, _b in rows for seg in path.strip("/").split("/") if seg}
    communities = {u.pk: u for u in OrgUnit.objects.filter(pk__in=segment_ids, level=Level.COMMUNITY)}
    per_group = {g.pk: GroupFigures(g) for g in groups}
    seen_units: set[int] = set()
    for group_id, path, batch in rows:
        gf = per_group[group_id]
        gf.members += 1
        gf.unbatched += batch is None
        unit_id = community_of_path(path, communities)
        gf.by_unit[unit_id] = gf.by_unit.get(unit_id, 0) + 1
        seen_units.add(unit_id)
    units = sorted(OrgUnit.objects.filter(pk__in=seen_units), key=lambda u: u.path)
    return Figures(on=on, groups=list(per_group.values()), units=units)


def find_member_rows(user: User, id_number: str) -> list[KeyGroupMember]:
    """A person's rows (any group) in the user's subtree, newest first."""
    return list(members_for(user).filter(id_number=id_number).order_by("-joined_on", "-pk"))
