"""The routine-testing API as a machine sees it: each world user gets exactly his subtree, ID numbers
masked, phones by role, a test recorded once per day (201, then 200), refusals in Chinese (422)."""

import datetime as dt

import pytest
from django.test import Client

from accounts.rules import mask_id_number, shown_phone
from accounts.services import issue_token
from core.testing import USERS
from testing.models import RoutineTest
from testing.routine import services
from testing.routine.tests.factories import START, TODAY, mondays, routine
from testing.routine.tests.test_selectors import VISIBLE

BASE = "/api/testing/routine"


def api(world, username):
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(user=world.user(username), name='test')}")


@pytest.fixture
def r(world):
    r = routine(world)
    services.record_test(member=r.members["zhang"], tested_on=mondays()[0], by=world.user("bob"))
    return r


@pytest.mark.parametrize("username", list(USERS))
def test_groups_and_members_hold_exactly_the_subtree_masked(world, r, username):
    client = api(world, username)
    groups = client.get(f"{BASE}/groups").json()
    members = {}
    for g in groups:
        rows = client.get(f"{BASE}/groups/{g['id']}/members?limit=100").json()
        assert g["members"] == rows["count"]
        members.update({row["name"]: row for row in rows["items"]})
    assert set(members) == VISIBLE[username]
    role = world.user(username).role
    for m in r.members.values():
        if m.name in members:
            assert members[m.name]["id_number"] == mask_id_number(m.id_number) != m.id_number
            assert members[m.name]["phone"] == shown_phone(role, m.phone)


def test_a_group_outside_is_404(world, r):
    assert api(world, "carol").get(f"{BASE}/groups/{r.west.pk}/members").status_code == 404
    assert api(world, "carol").get(f"{BASE}/cycles?group={r.west.pk}").status_code == 404


def test_cycles_and_a_cycles_missed_list(world, r):
    client = api(world, "bob")
    w = mondays()
    rows = client.get(f"{BASE}/cycles?start={START}&end={w[0] + dt.timedelta(days=1)}&group={r.east.pk}").json()
    assert [(x["day"], x["batch"], x["due"], x["tested"], x["missed"]) for x in rows] == [
        (w[0].isoformat(), 1, 2, 1, 1),
        ((w[0] + dt.timedelta(days=1)).isoformat(), 2, 1, 0, 1),
    ]
    missed = client.get(f"{BASE}/cycles/{w[0].isoformat()}/missed?batch=1").json()
    assert [(x["name"], x["status"], x["phone"]) for x in missed] == [("李娜", "missed", "13800000002")]
    assert client.get(f"{BASE}/cycles?start=2022-02-01&end=2022-01-01").status_code == 422


def test_recording_a_test_is_idempotent_and_scoped(world, r):
    client = api(world, "carol")
    body = {"id_number": r.members["zhang"].id_number, "tested_on": TODAY.isoformat(), "site": "风情街"}
    first = client.post(f"{BASE}/tests", body, content_type="application/json")
    again = client.post(f"{BASE}/tests", body, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()[0]["id"] == again.json()[0]["id"] and again.json()[0]["created"] is False
    assert RoutineTest.objects.filter(member=r.members["zhang"], tested_on=TODAY).count() == 1
    li = {"member_id": r.members["li"].pk, "tested_on": TODAY.isoformat()}
    assert client.post(f"{BASE}/tests", li, content_type="application/json").status_code == 404
    future = {**body, "tested_on": (TODAY + dt.timedelta(days=1)).isoformat()}
    refused = client.post(f"{BASE}/tests", future, content_type="application/json")
    assert refused.status_code == 422 and "不能晚于今天" in refused.json()["detail"][0]["message"]
    stranger = {"id_number": "11010519491231002X", "tested_on": TODAY.isoformat()}
    assert client.post(f"{BASE}/tests", stranger, content_type="application/json").status_code == 422
    readonly = api(world, "frank").post(f"{BASE}/tests", body, content_type="application/json")
    assert readonly.status_code == 403
