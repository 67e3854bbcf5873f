"""Live progress and the missed list: each person once, repeats and make-up flagged, scoped by unit."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from testing import selectors, services
from testing.tests.rounds_helpers import at, swab
from testing.tests.test_roster import D, plan, street  # noqa: F401 - the fixture


@pytest.fixture
def running(world, street):  # noqa: F811
    r, s1, s2 = plan(world, street)
    services.build_roster(round_=r, by=world.user("bob"))
    services.set_status(round_=r, status="running", by=world.user("bob"))
    fixed1 = s1.tables.filter(kind="fixed").first()
    mobile2 = s2.tables.get(kind="mobile")
    first = swab(r, fixed1, world.residents["zhang"], taken_at=at(D, 8))
    swab(r, fixed1, world.residents["zhang"], taken_at=at(D, 11), repeat_of=first)  # came twice
    swab(r, fixed1, street["home"], taken_at=at(D, 9))  # under home quarantine, came anyway
    swab(r, mobile2, street["disabled"], door_to_door=True)
    swab(r, fixed1, ("路人", "11010519491231002X"))  # not on the list
    swab(r, mobile2, world.residents["li"], taken_at=at(D + dt.timedelta(days=1)), make_up=True)
    return r


def test_the_street_sees_each_person_once(world, running):
    p = selectors.progress(running, world.user("bob"))
    t = p.total
    assert (t.listed, t.not_needed, t.should) == (15, 6, 9)
    assert (t.sampled_should, t.sampled_exempt, t.off_roster, t.sampled, t.missed) == (3, 1, 1, 5, 6)
    assert (t.door_to_door, t.make_up, p.swabs, p.repeats) == (1, 1, 6, 1)
    assert t.percent == 33.3
    by_name = {u.name: x for u, x in p.children}
    assert list(by_name) == ["龙兴社区", "泰丰社区"]
    assert (by_name["龙兴社区"].listed, by_name["龙兴社区"].should, by_name["龙兴社区"].sampled_should) == (8, 4, 1)
    assert (by_name["泰丰社区"].listed, by_name["泰丰社区"].should, by_name["泰丰社区"].sampled_should) == (7, 5, 2)
    sites = {s.name: x for s, x in p.sites if s}
    assert (sites["龙兴一号点"].sampled, sites["泰丰一号点"].sampled) == (3, 2)
    assert t.as_dict()["exempt"] == {
        "home": 1,
        "central": 1,
        "monitoring": 1,
        "recent_test": 2,
        "previous_round": 1,
        "other": 0,
    }


def test_progress_is_two_grouped_queries_whatever_the_size(world, running):
    with CaptureQueriesContext(connection) as queries:
        selectors.round_counts(running)
    assert len(queries) == 4  # list rows by unit, samples by site, the units' names and the sites' units


def test_a_community_and_a_grid_see_their_part(world, running):
    carol = selectors.progress(running, world.user("carol"))
    assert (carol.total.listed, carol.total.sampled, carol.total.off_roster) == (8, 3, 1)
    assert [u.name for u, _t in carol.children] == ["第一网格"]
    dave = selectors.progress(running, world.user("dave"))
    assert (dave.total.listed, dave.total.off_roster) == (8, 0)  # the site belongs to the community
    assert [u.name for u, _t in dave.children] == ["1号楼"]
    assert selectors.rounds_for(world.user("gina")).filter(pk=running.pk).count() == 0
    assert selectors.rounds_for(world.user("alice")).filter(pk=running.pk).count() == 1
    alice = selectors.progress(running, world.user("alice"))
    assert [u.name for u, _t in alice.children] == ["龙兴社区", "泰丰社区"]


def test_the_missed_list_per_grid(world, running):
    bob_missed = selectors.missed(running, world.user("bob"))
    assert sorted(x.name for x in bob_missed) == ["后出辛", "无需卯", "独居丑", "老伴巳", "老伴辰", "解除寅"]
    carol_missed = selectors.missed(running, world.user("carol"))
    assert sorted(x.name for x in carol_missed) == ["后出辛", "无需卯", "解除寅"]
    assert [x.name for x in selectors.missed(running, world.user("bob"), world.east_g2)] == [
        x.name for x in bob_missed if x.unit == world.east_b2
    ]
    row = carol_missed[0]
    assert selectors.address(row).startswith("1号楼 ")
