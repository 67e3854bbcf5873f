"""The pure rules of routine testing: cycles of a schedule, who is due, what a test counts for."""

import datetime as dt
from decimal import Decimal

from testing.routine import rules
from testing.routine.rules import Cycle, Membership, SlotSpec, Status

D = dt.date
MON = D(2022, 6, 20)  # seed 000: "自6月20日起" — a Monday
WEEK = dt.timedelta(days=7)


def batch_reading(group_id=1, sites=("风情街", "市政府广场"), valid_to=None):
    """Seed 000 read as: batch 1 on Monday, 2 on Tuesday, 3 on Thursday; both sites each day."""
    return [
        SlotSpec(weekday=w, batch=b, valid_from=MON, valid_to=valid_to, site=s, group_id=group_id)
        for w, b in ((0, 1), (1, 2), (3, 3))
        for s in sites
    ]


def everyone_reading(group_id=1):
    """Seed 000 read as: everyone three times a week (batches would be time slots of the day)."""
    return [SlotSpec(weekday=w, batch=None, valid_from=MON, group_id=group_id, site="风情街") for w in (0, 1, 3)]


def test_each_slot_date_is_a_cycle_and_sites_of_the_same_day_and_batch_make_one():
    cycles = rules.cycles(batch_reading(), MON, MON + dt.timedelta(days=13))
    assert [(c.day, c.batch) for c in cycles] == [
        (D(2022, 6, 20), 1),
        (D(2022, 6, 21), 2),
        (D(2022, 6, 23), 3),
        (D(2022, 6, 27), 1),
        (D(2022, 6, 28), 2),
        (D(2022, 6, 30), 3),
    ]
    assert cycles[0].sites == ("市政府广场", "风情街")


def test_cycles_respect_the_slots_dates_and_the_groups_retirement():
    slots = [
        SlotSpec(weekday=0, batch=1, valid_from=MON, valid_to=D(2022, 7, 3), group_id=1),
        SlotSpec(weekday=2, batch=1, valid_from=D(2022, 7, 4), group_id=1),  # the schedule changed to Wednesday
    ]
    days = [c.day for c in rules.cycles(slots, D(2022, 6, 1), D(2022, 7, 20))]
    assert days == [D(2022, 6, 20), D(2022, 6, 27), D(2022, 7, 6), D(2022, 7, 13), D(2022, 7, 20)]
    retired = rules.cycles(slots, D(2022, 6, 1), D(2022, 7, 20), retired_on={1: D(2022, 7, 13)})
    assert [c.day for c in retired][-1] == D(2022, 7, 6)
    assert rules.cycles(slots, D(2022, 6, 21), D(2022, 6, 26)) == []


def test_who_is_due():
    c = Cycle(1, D(2022, 6, 27), 1)
    assert rules.is_due(Membership(MON, None, 1, 1), c)
    assert not rules.is_due(Membership(D(2022, 6, 28), None, 1, 1), c)  # joined after
    assert rules.is_due(Membership(D(2022, 6, 27), None, 1, 1), c)  # joined that day
    assert not rules.is_due(Membership(MON, D(2022, 6, 27), 1, 1), c)  # left that day: no longer a member
    assert rules.is_due(Membership(MON, D(2022, 6, 28), 1, 1), c)
    assert not rules.is_due(Membership(MON, None, 2, 1), c)  # another batch
    assert rules.is_due(Membership(MON, None, None, 1), c)  # no batch yet: due on every cycle (不漏一人)
    assert not rules.is_due(Membership(MON, None, 1, 2), c)  # another group
    assert rules.is_due(Membership(MON, None, 3, 1), Cycle(1, D(2022, 6, 27), None))  # a slot for everyone
    members = [("a", Membership(MON, None, 1, 1)), ("b", Membership(MON, None, 2, 1))]
    assert rules.due_members(members, c) == ["a"]


def test_both_readings_of_the_seed_are_data():
    start, end = MON, MON + 4 * WEEK - dt.timedelta(days=1)
    batch = rules.cycles(batch_reading(), start, end)
    everyone = rules.cycles(everyone_reading(), start, end)
    member = Membership(MON, None, 2, 1)
    assert len(rules.due_cycles(member, batch)) == 4  # once a week, on Tuesdays
    assert {c.day.weekday() for c in rules.due_cycles(member, batch)} == {1}
    assert len(rules.due_cycles(member, everyone)) == 12  # three times a week


def test_windows_run_to_the_day_before_the_next_due_cycle_and_never_past_a_week():
    weekly = rules.due_cycles(Membership(MON, None, 1, 1), rules.cycles(batch_reading(), MON, MON + 2 * WEEK))
    assert rules.windows(weekly) == [D(2022, 6, 26), D(2022, 7, 3), D(2022, 7, 10)]
    three = rules.due_cycles(Membership(MON, None, None, 1), rules.cycles(everyone_reading(), MON, MON + WEEK))
    assert rules.windows(three)[:3] == [D(2022, 6, 20), D(2022, 6, 22), D(2022, 6, 26)]  # Mon; Tue–Wed; Thu–Sun
    assert rules.windows(three)[-1] == D(2022, 6, 27) + dt.timedelta(days=6)  # the last one: its week


def status_of(tests, today, member=None):
    member = member or Membership(MON, None, 1, 1)
    cycles = rules.cycles(batch_reading(), MON, MON + 3 * WEEK)
    return [(d.cycle.day, d.status, d.tested_on) for d in rules.member_cycles(member, cycles, tests, today=today)]


def test_a_test_counts_on_the_day_or_as_a_make_up_within_the_window():
    tests = [D(2022, 6, 20), D(2022, 6, 29), D(2022, 7, 11)]
    assert status_of(tests, today=D(2022, 7, 12)) == [
        (D(2022, 6, 20), Status.ON_TIME, D(2022, 6, 20)),
        (D(2022, 6, 27), Status.MADE_UP, D(2022, 6, 29)),  # 补检 two days later
        (D(2022, 7, 4), Status.MISSED, None),  # the window (to 7-10) passed
        (D(2022, 7, 11), Status.ON_TIME, D(2022, 7, 11)),
    ]


def test_a_missed_cycle_is_pending_while_its_window_is_open():
    assert status_of([D(2022, 6, 20)], today=D(2022, 6, 30)) == [
        (D(2022, 6, 20), Status.ON_TIME, D(2022, 6, 20)),
        (D(2022, 6, 27), Status.PENDING, None),  # to be notified; cycles after today are not held yet
    ]
    assert status_of([D(2022, 6, 20)], today=D(2022, 7, 3))[-1][1] == Status.PENDING
    assert status_of([D(2022, 6, 20)], today=D(2022, 7, 4))[1][1] == Status.MISSED


def test_a_test_before_the_cycle_day_does_not_count_and_one_test_counts_once():
    # Tested on Sunday 6-26 (the window of 6-20 still): it makes up 6-20, and does nothing for Monday 6-27.
    rows = status_of([D(2022, 6, 26)], today=D(2022, 7, 5))
    assert rows[0] == (D(2022, 6, 20), Status.MADE_UP, D(2022, 6, 26))
    assert rows[1] == (D(2022, 6, 27), Status.MISSED, None)


def test_counts_per_cycle_and_compliance():
    cycles = rules.cycles(batch_reading(), MON, MON + 2 * WEEK)
    today = D(2022, 7, 5)
    a = rules.member_cycles(Membership(MON, None, 1, 1), cycles, [MON, D(2022, 6, 28)], today=today)
    b = rules.member_cycles(Membership(MON, None, 1, 1), cycles, [D(2022, 6, 27)], today=today)
    c = rules.member_cycles(Membership(MON, None, 2, 1), cycles, [D(2022, 6, 21)], today=today)
    counts = rules.count_cycles([a, b, c])
    first = counts[(1, MON, 1)]
    assert (first.due, first.tested, first.missed, first.made_up, first.outstanding) == (2, 1, 1, 0, 1)
    # b tested on 6-27: on time for 6-27 (a test on the next cycle day is that cycle's, never a make-up).
    second = counts[(1, D(2022, 6, 27), 1)]
    assert (second.due, second.tested, second.made_up, second.outstanding) == (2, 1, 1, 0)
    assert second.completion == Decimal("100.00") and second.on_time_rate == Decimal("50.00")
    assert counts[(1, D(2022, 7, 4), 1)].pending == 2  # held today, not tested yet
    totals = rules.Totals()
    for x in counts.values():
        totals.add(x)
    assert (totals.cycles, totals.due, totals.tested, totals.made_up) == (5, 8, 3, 1)
    assert totals.missed == 5 and totals.outstanding == 4
    assert rules.compliance(a, MON, today) == Decimal("66.67")
    assert rules.compliance([], MON, today) is None


def test_words_for_the_summary():
    assert rules.weekdays_text([3, 0, 1, 0]) == "一、二、四"
    assert [rules.chinese_count(n) for n in (1, 2, 3, 10, 11, 20, 35, 150)] == [
        "一",
        "两",
        "三",
        "十",
        "十一",
        "二十",
        "三十五",
        "150",
    ]
