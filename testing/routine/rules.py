"""Pure rules of routine testing (应检尽检): cycles of a weekly schedule, who is due, what a test counts for.

No database here: the selectors feed these functions plain rows (see docs/testing.md, 应检尽检).

- A **cycle** is one scheduled testing day of a group for one batch: (group, date, batch). Slots of the
  same group with the same weekday and batch (one per sampling site) make one cycle whose ``sites``
  are theirs; a slot without a batch makes a cycle for everyone (``batch`` None).
- A member is **due** on a cycle when he had joined on or before its day, had not left by then
  (``left_on`` is the first day he is no longer a member) and his batch matches: the cycle has no
  batch, or his batch is the cycle's, or he has no batch (an unassigned member is due on every
  cycle: 不漏一人 — it is the page's job to show who still needs a batch).
- A test **counts** for a due cycle when taken on its day (按时); taken later, up to the day before
  the member's next due cycle, it is a make-up (补检). The window is never longer than the cycle's
  week (``LAST_WINDOW_DAYS`` days from the cycle day, the day itself included): that is where it ends
  when no next due cycle follows (the schedule ended, the member left, the schedule has a gap).
  The windows of one member's cycles never overlap, so a test counts for at most one cycle. A test
  taken before the cycle day does not count for it.
- A due cycle without a counting test is **missed** (漏检). While its window is open it can still be
  made up (``PENDING``: the member is to be notified); once the window has passed it stays missed.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

DAY = dt.timedelta(days=1)
LAST_WINDOW_DAYS = 7  # a weekly schedule: a cycle with no next due cycle may be made up within its week
WEEKDAY_NAMES = "一二三四五六日"  # 0 = 星期一 (Python's weekday())


@dataclass(frozen=True)
class SlotSpec:
    """A weekly slot as the rules need it (testing.models.ScheduleSlot without the database)."""

    weekday: int
    batch: int | None
    valid_from: dt.date
    valid_to: dt.date | None = None  # last day it applies (inclusive); None: still in force
    site: str = ""
    group_id: int = 0


@dataclass(frozen=True)
class Cycle:
    group_id: int
    day: dt.date
    batch: int | None
    sites: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[int, dt.date, int | None]:
        return (self.group_id, self.day, self.batch)


def cycle_sort_key(c: Cycle) -> tuple[dt.date, int, int]:
    return (c.day, c.batch or 0, c.group_id)


def cycles(
    slots: Iterable[SlotSpec], start: dt.date, end: dt.date, *, retired_on: dict[int, dt.date] | None = None
) -> list[Cycle]:
    """Every cycle from ``start`` to ``end`` (both included), by day, then batch, then group.

    ``retired_on`` maps a group to the day it was retired: no cycles from that day on.
    """
    sites: dict[tuple[int, dt.date, int | None], set[str]] = defaultdict(set)
    for slot in slots:
        first = max(start, slot.valid_from)
        last = end if slot.valid_to is None else min(end, slot.valid_to)
        stop = (retired_on or {}).get(slot.group_id)
        if stop is not None:
            last = min(last, stop - DAY)
        if first > last:
            continue
        day = first + dt.timedelta(days=(slot.weekday - first.weekday()) % 7)
        while day <= last:
            bucket = sites[(slot.group_id, day, slot.batch)]
            if slot.site:
                bucket.add(slot.site)
            day += dt.timedelta(days=7)
    out = [Cycle(g, d, b, tuple(sorted(s))) for (g, d, b), s in sites.items()]
    return sorted(out, key=cycle_sort_key)


@dataclass(frozen=True)
class Membership:
    """A member as the rules need him: when he was in the group and his batch."""

    joined_on: dt.date
    left_on: dt.date | None = None
    batch: int | None = None
    group_id: int = 0


def is_member_on(m: Membership, day: dt.date) -> bool:
    return m.joined_on <= day and (m.left_on is None or day < m.left_on)


def is_due(m: Membership, cycle: Cycle) -> bool:
    if cycle.group_id != m.group_id or not is_member_on(m, cycle.day):
        return False
    return cycle.batch is None or m.batch is None or m.batch == cycle.batch


def due_members[T](members: Sequence[tuple[T, Membership]], cycle: Cycle) -> list[T]:
    """The members (any handle, with their Membership) due on a cycle."""
    return [handle for handle, m in members if is_due(m, cycle)]


class Status(StrEnum):
    ON_TIME = "on_time"  # tested on the cycle day
    MADE_UP = "made_up"  # 补检: tested later, within the window
    PENDING = "pending"  # not tested yet, the window is still open: to be notified
    MISSED = "missed"  # the window passed without a test


STATUS_LABELS = {
    Status.ON_TIME: _("按时检测"),
    Status.MADE_UP: _("已补检"),
    Status.PENDING: _("未检（待补检）"),
    Status.MISSED: _("漏检未补"),
}


@dataclass(frozen=True)
class DueCycle:
    cycle: Cycle
    window_end: dt.date  # last day a test still counts for this cycle
    status: Status
    tested_on: dt.date | None  # the test that counts (None when there is none)

    @property
    def missed(self) -> bool:
        """漏检: not tested on the cycle day (whether made up later or not)."""
        return self.status != Status.ON_TIME

    @property
    def outstanding(self) -> bool:
        """Missed and not made up (yet)."""
        return self.status in (Status.PENDING, Status.MISSED)


def due_cycles(m: Membership, all_cycles: Sequence[Cycle]) -> list[Cycle]:
    """The cycles (sorted) on which the member is due."""
    return [c for c in all_cycles if is_due(m, c)]


def windows(due: Sequence[Cycle]) -> list[dt.date]:
    """The last day a test counts for each due cycle: the day before the next due cycle, at most a week."""
    out = []
    for i, c in enumerate(due):
        longest = c.day + dt.timedelta(days=LAST_WINDOW_DAYS - 1)
        nxt = next((d.day for d in due[i + 1 :] if d.day > c.day), None)
        out.append(longest if nxt is None else min(longest, nxt - DAY))
    return out


def statuses(
    due: Sequence[Cycle], ends: Sequence[dt.date], tests: Sequence[dt.date], *, today: dt.date
) -> list[DueCycle]:
    """Each due cycle up to ``today`` with its status, from the member's test dates (sorted)."""
    out: list[DueCycle] = []
    for c, end in zip(due, ends, strict=True):
        if c.day > today:
            break
        out.append(_status(c, end, tests, today))
    return out


def member_cycles(
    m: Membership, all_cycles: Sequence[Cycle], tests: Sequence[dt.date], *, today: dt.date
) -> list[DueCycle]:
    """The member's due cycles among ``all_cycles`` (sorted; cycles after ``today`` are left out) with
    their windows and status. ``tests`` are his test dates, sorted.

    Pass the cycles of a week after the period that interests you too, so that the windows of the
    period's last cycles end where the member's next due cycle begins.
    """
    due = due_cycles(m, all_cycles)
    return statuses(due, windows(due), tests, today=today)


def _status(c: Cycle, window_end: dt.date, tests: Sequence[dt.date], today: dt.date) -> DueCycle:
    k = bisect.bisect_left(tests, c.day)
    first = tests[k] if k < len(tests) else None
    if first == c.day:
        return DueCycle(c, window_end, Status.ON_TIME, first)
    if first is not None and first <= window_end and first <= today:
        return DueCycle(c, window_end, Status.MADE_UP, first)
    return DueCycle(c, window_end, Status.PENDING if today <= window_end else Status.MISSED, None)


@dataclass
class CycleCounts:
    """A cycle's figures: ``missed`` = due − tested on the day (漏检), of which ``made_up`` (补检)
    and ``outstanding`` (not yet, or never, made up)."""

    cycle: Cycle
    due: int = 0
    tested: int = 0
    made_up: int = 0
    pending: int = 0
    missed_final: int = 0
    window_end: dt.date | None = None

    @property
    def missed(self) -> int:
        return self.due - self.tested

    @property
    def outstanding(self) -> int:
        return self.pending + self.missed_final

    @property
    def completion(self) -> Decimal | None:
        """(tested on the day + made up) / due, in %."""
        return rate(self.tested + self.made_up, self.due)

    @property
    def on_time_rate(self) -> Decimal | None:
        return rate(self.tested, self.due)

    def add(self, d: DueCycle) -> None:
        self.due += 1
        if d.status == Status.ON_TIME:
            self.tested += 1
        elif d.status == Status.MADE_UP:
            self.made_up += 1
        elif d.status == Status.PENDING:
            self.pending += 1
        else:
            self.missed_final += 1
        if self.window_end is None or d.window_end > self.window_end:
            self.window_end = d.window_end


@dataclass
class Totals:
    cycles: int = 0
    due: int = 0
    tested: int = 0
    made_up: int = 0
    pending: int = 0
    missed_final: int = 0
    days: set[tuple[dt.date, int | None]] = field(default_factory=set)

    @property
    def missed(self) -> int:
        return self.due - self.tested

    @property
    def outstanding(self) -> int:
        return self.pending + self.missed_final

    @property
    def completion(self) -> Decimal | None:
        return rate(self.tested + self.made_up, self.due)

    def add(self, c: CycleCounts) -> None:
        if c.due:
            self.cycles += 1
            self.days.add((c.cycle.day, c.cycle.batch))
        self.due += c.due
        self.tested += c.tested
        self.made_up += c.made_up
        self.pending += c.pending
        self.missed_final += c.missed_final


def count_cycles(per_member: Iterable[Iterable[DueCycle]]) -> dict[tuple[int, dt.date, int | None], CycleCounts]:
    """Each cycle's figures from every member's due cycles."""
    out: dict[tuple[int, dt.date, int | None], CycleCounts] = {}
    for rows in per_member:
        for d in rows:
            counts = out.get(d.cycle.key)
            if counts is None:
                counts = out[d.cycle.key] = CycleCounts(d.cycle)
            counts.add(d)
    return out


def compliance(rows: Iterable[DueCycle], start: dt.date, end: dt.date) -> Decimal | None:
    """A member's share of due cycles in [start, end] covered by a test (on the day or made up), in %."""
    chosen = [d for d in rows if start <= d.cycle.day <= end]
    return rate(sum(1 for d in chosen if not d.outstanding), len(chosen))


def rate(part: int, whole: int) -> Decimal | None:
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))


def weekdays_text(weekdays: Iterable[int]) -> str:
    """[0, 1, 3] -> "一、二、四" (as in 每周一、二、四)."""
    return "、".join(WEEKDAY_NAMES[w] for w in sorted(set(weekdays)))


CHINESE_DIGITS = "零一二三四五六七八九"


def chinese_count(n: int) -> str:
    """A small count as the seed writes it before a measure word: 2 -> 两, 3 -> 三, 11 -> 十一; 100+ as digits."""
    if n == 2:
        return "两"
    if 0 <= n < 10:
        return CHINESE_DIGITS[n]
    if 10 <= n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else CHINESE_DIGITS[tens]) + "十" + (CHINESE_DIGITS[ones] if ones else "")
    return str(n)
