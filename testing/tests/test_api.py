"""/api/testing/ rounds, counts, progress, missed (masked), results: same scoping as the pages."""

import pytest

from accounts.services import create_user, issue_token
from testing import services
from testing.tests.rounds_helpers import at, swab
from testing.tests.test_roster import D, plan, street  # noqa: F401 - the fixture


@pytest.fixture
def running(world, street):  # noqa: F811
    r, s1, _s2 = plan(world, street)
    services.build_roster(round_=r, by=world.user("bob"))
    swab(r, s1.tables.first(), world.residents["zhang"], taken_at=at(D, 8))
    return r


def get(client, world, who, url, **params):
    token = issue_token(user=world.user(who) if isinstance(who, str) else who, name="t")
    return client.get(url, params, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_rounds_are_listed_by_scope(client, world, running):
    names = [r["name"] for r in get(client, world, "carol", "/api/testing/rounds").json()]
    assert "第一轮全员核酸" in names
    assert get(client, world, "gina", "/api/testing/rounds").json() == []
    assert get(client, world, "gina", f"/api/testing/rounds/{running.pk}").status_code == 404
    detail = get(client, world, "bob", f"/api/testing/rounds/{running.pk}").json()
    assert (detail["plan"]["sites"], detail["plan"]["fixed_tables"], detail["plan"]["mobile_teams"]) == (2, 3, 1)
    assert (detail["figures"]["listed"], detail["figures"]["sampled"], detail["figures"]["missed"]) == (15, 1, 8)
    carol = get(client, world, "carol", f"/api/testing/rounds/{running.pk}").json()
    assert carol["figures"]["listed"] == 8


def test_roster_counts_and_progress(client, world, running):
    counts = get(client, world, "bob", f"/api/testing/rounds/{running.pk}/roster-counts").json()
    assert {r["exemption"]: r["people"] for r in counts["reasons"]} == {
        "home": 1,
        "central": 1,
        "monitoring": 1,
        "recent_test": 2,
        "previous_round": 1,
        "other": 0,
    }
    assert (counts["listed"], counts["should"], counts["needs_door_to_door"]) == (15, 9, 2)
    p = get(client, world, "bob", f"/api/testing/rounds/{running.pk}/progress").json()
    assert [c["name"] for c in p["children"]] == ["龙兴社区", "泰丰社区"] and p["figures"]["sampled"] == 1
    drill = get(client, world, "bob", f"/api/testing/rounds/{running.pk}/progress", unit=world.east_c1.code).json()
    assert [c["name"] for c in drill["children"]] == ["第一网格"]
    assert (
        get(client, world, "carol", f"/api/testing/rounds/{running.pk}/progress", unit=world.east_c2.code).status_code
        == 404
    )


def test_the_missed_list_is_masked_by_role(client, world, running):
    rows = get(client, world, "dave", f"/api/testing/rounds/{running.pk}/missed").json()["items"]
    assert len(rows) == 3 and all("*" in r["id_number"] and "*" not in r["phone"] for r in rows)
    leader = create_user(username="lee", password="pass-1234-word", role="leader_readonly", org_unit=world.east)
    rows = get(client, world, leader, f"/api/testing/rounds/{running.pk}/missed").json()["items"]
    assert len(rows) == 8 and all("****" in r["phone"] for r in rows)


def test_results_import_over_the_api_is_all_or_nothing(client, world, running):
    tube = running.samples.get().tube
    token = issue_token(user=world.user("bob"), name="t")
    url = f"/api/testing/rounds/{running.pk}/results"
    bad = client.post(
        url,
        {"csv": f"试管条码,检测结果,检测时间\n{tube.barcode},阴性,{D} 20:00\nX,阴,{D} 20:00\n"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert bad.status_code == 422 and [(e["row"], e["column"]) for e in bad.json()["errors"]] == [(3, "检测结果")]
    ok = client.post(
        url,
        {"csv": f"试管条码,检测结果,检测时间\n{tube.barcode},阴性,{D} 20:00\n"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert ok.status_code == 200 and ok.json()["created"] == 1
    status = get(client, world, "bob", url).json()
    assert (status["tubes"], status["negative"], status["pending"]) == (1, 1, 0)
    carol = issue_token(user=world.user("carol"), name="t")
    assert (
        client.post(
            url, {"csv": "x"}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {carol}"
        ).status_code
        == 403
    )
    assert get(client, world, "dave", "/api/testing/codes/coverage").json()[0]["residents"] == 10
