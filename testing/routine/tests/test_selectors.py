"""Reads of routine testing: exact figures per cycle, the missed list of a cycle, a member's history,
the members per group and community; scoped to the user's subtree; fast for the seed's 1,551 people."""

import datetime as dt
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.testing import USERS
from testing.models import KeyGroupMember, RoutineTest
from testing.routine import rules, selectors, services
from testing.routine.rules import Status
from testing.routine.tests.factories import START, mondays, routine, visitor_id

DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(weeks=1)
END = START + 5 * WEEK - DAY  # the Sunday of week 4: statuses as of that day
VISIBLE = {  # the members each world user sees (by the member's unit: communities)
    "alice": {"张伟", "李娜", "赵六", "王芳"},
    "bob": {"张伟", "李娜", "赵六"},
    "carol": {"张伟", "赵六"},
    "dave": set(),  # a grid's worker: members belong to communities
    "erin": {"王芳"},
    "frank": {"王芳"},
    "gina": {"王芳"},
}


@pytest.fixture
def r(world):
    r = routine(world)
    bob, gina = world.user("bob"), world.user("gina")
    w = mondays()
    tested = {
        "zhang": [w[0], w[1] + 2 * DAY, w[3], w[4]],  # week 1 made up on Wednesday, week 2 missed
        "li": [w[0], w[1], w[2], w[3]],  # week 4 missed, its window still open on END
        "zhao": [w[0] + DAY, w[1] + 5 * DAY, w[2] + DAY, w[3] + DAY, w[4] + DAY],  # Tuesdays; week 1 made up Sat
    }
    for key, days in tested.items():
        for day in days:
            services.record_test(member=r.members[key], tested_on=day, by=bob)
    services.record_test(member=r.members["wang"], tested_on=w[0], by=gina)
    return r


def figures(c):
    return (c.due, c.tested, c.missed, c.made_up, c.outstanding)


def test_each_cycle_counts_exactly(world, r):
    counts = selectors.cycle_table(world.user("bob"), START, END, today=END, group=r.east)
    w = mondays()
    assert [(c.cycle.day, c.cycle.batch, figures(c)) for c in counts] == [
        (w[0], 1, (2, 2, 0, 0, 0)),
        (w[0] + DAY, 2, (1, 1, 0, 0, 0)),
        (w[1], 1, (2, 1, 1, 1, 0)),
        (w[1] + DAY, 2, (1, 0, 1, 1, 0)),
        (w[2], 1, (2, 1, 1, 0, 1)),
        (w[2] + DAY, 2, (1, 1, 0, 0, 0)),
        (w[3], 1, (2, 2, 0, 0, 0)),
        (w[3] + DAY, 2, (1, 1, 0, 0, 0)),
        (w[4], 1, (2, 1, 1, 0, 1)),
        (w[4] + DAY, 2, (1, 1, 0, 0, 0)),
    ]  # nobody is in batch 3: its Thursdays are no cycle of anybody's
    assert counts[4].missed_final == 1 and counts[8].pending == 1
    assert counts[2].completion == 100 and counts[4].completion == 50
    combined = selectors.cycle_table(world.user("alice"), START, END, today=END)
    assert figures(combined[0]) == (3, 3, 0, 0, 0)  # both streets' groups, the same day and batch
    assert [figures(c) for c in combined if c.cycle.day == w[1]] == [(3, 1, 2, 1, 1)]  # 王芳 missed since


def test_a_cycles_missed_list_is_who_to_notify(world, r):
    w = mondays()
    detail = selectors.cycle_detail(world.user("bob"), w[2], today=END, batch=1)
    assert [x.member.name for x in detail.outstanding] == ["张伟"]
    assert detail.outstanding[0].due.status == Status.MISSED
    assert [x.member.name for x in detail.on_time] == ["李娜"]
    assert detail.sites == ("风情街",)
    open_one = selectors.cycle_detail(world.user("bob"), w[4], today=END, batch=1)
    assert [(x.member.name, x.due.status, x.due.window_end) for x in open_one.outstanding] == [
        ("李娜", Status.PENDING, END)
    ]
    assert [(x.member.name, x.unit_name, x.group_name) for x in open_one.on_time] == [("张伟", "龙兴社区", "社区干部")]
    everyone = selectors.cycle_detail(world.user("bob"), w[1] + DAY, today=END, any_batch=True)
    assert [(x.member.name, x.due.status, x.due.tested_on) for x in everyone.rows] == [
        ("赵六", Status.MADE_UP, w[1] + 5 * DAY)
    ]
    carol = selectors.cycle_detail(world.user("carol"), w[4], today=END, batch=1)
    assert [x.member.name for x in carol.rows] == ["张伟"]  # 李娜 lives in east_c2


def test_a_members_history_and_compliance(world, r):
    history = selectors.member_history(r.members["zhang"], today=END)
    assert [(d.cycle.day, d.status) for _m, d in history.due] == [
        (mondays()[4], Status.ON_TIME),
        (mondays()[3], Status.ON_TIME),
        (mondays()[2], Status.MISSED),
        (mondays()[1], Status.MADE_UP),
        (mondays()[0], Status.ON_TIME),
    ]
    assert history.compliance == rules.Decimal("80.00") and len(history.tests) == 4


def test_a_batch_move_keeps_the_old_cycles(world, r):
    bob = world.user("bob")
    w = mondays()
    fresh = services.move_batch(member=r.members["zhang"], batch=2, on=w[3], by=bob)
    history = selectors.member_history(fresh, today=END)
    assert [(d.cycle.day, d.cycle.batch) for _m, d in history.due][:3] == [(w[4] + DAY, 2), (w[3] + DAY, 2), (w[2], 1)]
    counts = {(c.cycle.day, c.cycle.batch): c for c in selectors.cycle_table(bob, START, END, today=END)}
    assert counts[(w[3], 1)].due == 1 and counts[(w[3] + DAY, 2)].due == 2


def test_members_per_group_and_community(world, r):
    bob = world.user("bob")
    services.leave_group(member=r.members["li"], on=END, reason="调离", by=bob)
    f = selectors.figures(selectors.members_for(bob), [r.east], END - DAY)
    assert (f.total, f.groups[0].members, f.groups[0].unbatched) == (3, 3, 0)
    assert [(u.name, counts, total) for u, counts, total in f.unit_rows()] == [
        ("龙兴社区", [2], 2),
        ("泰丰社区", [1], 1),
    ]
    assert selectors.figures(selectors.members_for(bob), [r.east], END).total == 2  # li left on END


@pytest.mark.parametrize("username", list(USERS))
def test_each_user_sees_exactly_the_members_of_his_subtree(world, r, username):
    user = world.user(username)
    found = selectors.ledger(selectors.member_scope(user), START, END, today=END)
    assert {m.name for m in found.members.values()} == VISIBLE[username]
    assert {m.name for m in selectors.members_for(user)} == VISIBLE[username]
    groups = {g.name for g in selectors.groups_for(user)}
    east, west = user.org_unit.path.startswith(world.east.path), user.org_unit.path.startswith(world.west.path)
    assert groups == ({"社区干部"} if east else {"物业人员"} if west else {"社区干部", "物业人员"})


def test_the_seeds_street_is_computed_in_a_few_queries_and_well_under_a_second(world):
    """1,551 members over 28 weeks (84 cycles) with a test for nearly every due cycle."""
    bob = world.user("bob")
    group = services.create_group(unit=world.east, name="应检人员", by=bob)
    start = dt.date(2022, 6, 20)
    end = dt.date(2022, 12, 31)
    slots = [services.SlotData(weekday=w, batch=b, site="风情街") for w, b in ((0, 1), (1, 2), (3, 3))]
    services.change_schedule(group=group, slots=slots, valid_from=start, by=bob)
    members = [
        KeyGroupMember(
            group=group,
            name=f"人员{i}",
            id_number=visitor_id(1000 + i) + str(i),  # unique, never checked here
            unit=world.east_c1 if i % 2 else world.east_c2,
            batch=i % 3 + 1,
            joined_on=start,
        )
        for i in range(1551)
    ]
    KeyGroupMember.objects.bulk_create(members)
    members = list(KeyGroupMember.objects.filter(group=group))
    cycles = rules.cycles(selectors.slot_specs([group.pk], start, end), start, end)
    tests = []
    for k, m in enumerate(members):
        for j, c in enumerate(rules.due_cycles(rules.Membership(start, None, m.batch, group.pk), cycles)):
            if (k + j) % 37:
                tests.append(RoutineTest(member=m, tested_on=c.day, source="routine"))
    RoutineTest.objects.bulk_create(tests, batch_size=2000)
    began = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        counts = selectors.cycle_table(bob, start, end, today=end, group=group)
    took = time.perf_counter() - began
    assert len(counts) == 84 and sum(c.due for c in counts) == 1551 * 28
    assert sum(c.tested for c in counts) == len(tests)
    assert len(queries) <= 6, [q["sql"][:80] for q in queries]
    assert took < 1.5, took
