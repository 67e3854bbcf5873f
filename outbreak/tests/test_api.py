"""The outbreak API as a machine (or the checkpoint phone) sees it: each world user gets exactly his
subtree, ID numbers masked, crossings idempotent by client id, refusals answered in Chinese (422)
with nothing stored, and writes refused to the read-only leader.
"""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from accounts.rules import mask_id_number, shown_phone
from accounts.services import issue_token
from core.testing import USERS
from outbreak import services
from outbreak.models import Alert, Checkpoint, CheckpointEntry, DailyReport, FollowUp, PassRule, Screening
from outbreak.tests.factories import event
from registry.services import issue_static_code

BASE = "/api/outbreak"
TODAY = timezone.localdate()
# Where each named resident lives (a building of the world).
HOMES = {"zhang": "east_b1", "li": "east_b2", "wang": "west_b1"}
UNITS = ["district", "east", "west", "east_c1", "east_c2", "west_c1", "east_g1", "west_b1"]


def api_client(world, username):
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(user=world.user(username), name='test')}")


def in_subtree(world, username, key):
    return getattr(world, key).path.startswith(world.user(username).org_unit.path)


@pytest.fixture
def ev(world):
    e = event(world)
    for key, building in HOMES.items():
        services.screen_person(
            event=e,
            unit=getattr(world, building),
            data=services.ScreeningData(
                from_area="湖北省武汉市",
                arrival_date=TODAY - dt.timedelta(days=2),
                found_by="grid",
                person=world.residents[key],
            ),
            by=world.user("alice"),
        )
    return e


@pytest.fixture
def gate(world, ev):
    cp = Checkpoint.objects.create(unit=world.east_c1, event=ev, name="北门")
    PassRule.objects.create(event=ev, unit=world.east_c1, max_exits=1, days=2, valid_from=TODAY - dt.timedelta(days=9))
    return cp


def crossing(api, gate, client_id, **body):
    body = {"client_id": client_id, "direction": "out", **body}
    return api.post(f"{BASE}/checkpoints/{gate.pk}/crossings", body, content_type="application/json")


@pytest.mark.parametrize("username", list(USERS))
def test_screenings_hold_exactly_the_subtree_masked(world, ev, username):
    user = world.user(username)
    rows = api_client(world, username).get(f"{BASE}/screenings?limit=100").json()
    expected = {world.residents[k].name for k, b in HOMES.items() if in_subtree(world, username, b)}
    assert {r["name"] for r in rows["items"]} == expected
    assert rows["count"] == len(expected)
    by_name = {r.name: r for r in world.residents.values()}
    for row in rows["items"]:
        real = by_name[row["name"]]
        assert row["id_number"] == mask_id_number(real.id_number) != real.id_number
        assert row["phone"] == shown_phone(user.role, real.phone)


@pytest.mark.parametrize("username", list(USERS))
def test_a_follow_up_outside_the_subtree_is_404_and_the_leader_403(world, ev, username):
    api = api_client(world, username)
    for key, building in HOMES.items():
        s = Screening.objects.get(person=world.residents[key])
        answer = api.post(
            f"{BASE}/screenings/{s.pk}/followups", {"slot": "am", "temperature": "25"}, content_type="application/json"
        )
        if not in_subtree(world, username, building):
            assert answer.status_code == 404
        elif username == "frank":
            assert answer.status_code == 403
        else:
            assert answer.status_code == 422
            assert answer.json()["detail"][0]["field"] == "temperature"
    assert FollowUp.objects.count() == 0


@pytest.mark.parametrize("username", list(USERS))
def test_the_report_table_of_a_unit_inside_and_404_outside(world, ev, username):
    api = api_client(world, username)
    for key in UNITS:
        unit = getattr(world, key)
        answer = api.get(f"{BASE}/reports/table?event={ev.pk}&unit={unit.code}&date={TODAY}")
        if not unit.path.startswith(world.user(username).org_unit.path):
            assert answer.status_code == 404, key
            continue
        table = answer.json()
        communities = [c for c in (world.east_c1, world.east_c2, world.west_c1) if c.path.startswith(unit.path)]
        assert [r["unit_name"] for r in table["rows"]] == [c.name for c in communities]
        assert table["expected"] == len(communities)
        assert {r["status"] for r in table["rows"]} <= {"missing"}


def test_a_report_counts_in_the_table_and_a_future_date_is_refused(world, ev):
    carol = api_client(world, "carol")
    bad = carol.post(
        f"{BASE}/reports",
        {"event_id": ev.pk, "date": str(TODAY + dt.timedelta(days=1)), "zero": True},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert bad.json()["detail"] == [{"field": "date", "message": "不能提交未来日期的报告"}]
    ok = carol.post(
        f"{BASE}/reports", {"event_id": ev.pk, "date": str(TODAY), "text": "正常"}, content_type="application/json"
    )
    assert ok.status_code == 201
    assert (ok.json()["unit_name"], ok.json()["counts"]["new_screened"]) == ("龙兴社区", 1)
    table = (
        api_client(world, "bob").get(f"{BASE}/reports/table?event={ev.pk}&unit={world.east.code}&date={TODAY}").json()
    )
    assert table["received"] == 1 and table["completeness"] == "50.00"
    assert table["totals"]["home_quarantine"] == 1
    assert DailyReport.objects.count() == 1


def test_a_screening_of_the_same_person_twice_is_merged(world, ev):
    carol = api_client(world, "carol")
    body = {
        "event_id": ev.pk,
        "unit_id": world.east_b1.pk,
        "name": "访客甲",
        "id_number": "11010519491231002X",
        "phone": "13900001111",
        "from_area": "湖北省武汉市",
        "arrival_date": str(TODAY),
        "found_by": "self_report",
    }
    first = carol.post(f"{BASE}/screenings", body, content_type="application/json")
    again = carol.post(f"{BASE}/screenings", {**body, "found_by": "big_data"}, content_type="application/json")
    assert (first.status_code, first.json()["merged"]) == (201, False)
    assert (again.status_code, again.json()["merged"]) == (200, True)
    assert again.json()["screening"]["id"] == first.json()["screening"]["id"]
    assert first.json()["screening"]["id_number"] == "110105********002X"
    assert Screening.objects.filter(name="访客甲").count() == 1


def test_a_fever_from_the_phone_shows_as_an_alert_upstairs_only(world, ev):
    s = Screening.objects.get(person=world.residents["zhang"])
    answer = api_client(world, "dave").post(
        f"{BASE}/screenings/{s.pk}/followups", {"slot": "am", "temperature": 37.8}, content_type="application/json"
    )
    assert answer.status_code == 201
    assert answer.json()["alerts"] == ["张伟：体温37.8℃"]
    for username, sees in (("carol", 1), ("bob", 1), ("alice", 1), ("gina", 0), ("erin", 0)):
        assert api_client(world, username).get(f"{BASE}/alerts?open=true").json()["count"] == sees, username
    assert Alert.objects.count() == 1


def test_the_same_client_id_twice_is_one_entry_answered_200_the_second_time(world, gate):
    dave = api_client(world, "dave")
    zhang = world.residents["zhang"]
    first = crossing(dave, gate, "phone-1", resident_id=zhang.pk, temperature="36.4", health_code="green")
    again = crossing(dave, gate, "phone-1", resident_id=zhang.pk, temperature="36.4", health_code="green")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["id_number"] == mask_id_number(zhang.id_number)
    assert CheckpointEntry.objects.count() == 1


def test_a_quota_breach_is_422_then_allowed_with_a_reason(world, gate):
    dave = api_client(world, "dave")
    zhang = world.residents["zhang"]
    assert (
        crossing(
            dave, gate, "a", resident_id=zhang.pk, at=(timezone.now() - dt.timedelta(hours=2)).isoformat()
        ).status_code
        == 201
    )
    refused = crossing(dave, gate, "b", resident_id=zhang.pk)
    assert refused.status_code == 422
    [problem] = refused.json()["detail"]
    assert problem["field"] == "allow_reason" and "超过每2天1人次" in problem["message"]
    assert CheckpointEntry.objects.count() == 1
    allowed = crossing(dave, gate, "b", resident_id=zhang.pk, allow_reason="就医")
    assert allowed.status_code == 201
    assert (allowed.json()["allowed_reason"], bool(allowed.json()["breach"])) == ("就医", True)
    assert CheckpointEntry.objects.count() == 2


def test_a_person_already_inside_cannot_come_in_again(world, gate):
    carol = api_client(world, "carol")
    zhang = world.residents["zhang"]
    assert crossing(carol, gate, "in-1", direction="in", resident_id=zhang.pk).status_code == 201
    again = crossing(carol, gate, "in-2", direction="in", resident_id=zhang.pk)
    assert again.status_code == 422
    assert again.json()["detail"][0]["field"] == "direction"
    assert "尚未登记出去" in again.json()["detail"][0]["message"]


def test_a_static_code_identifies_the_resident_and_a_bad_one_is_refused(world, gate):
    zhang = world.residents["zhang"]
    code = issue_static_code(resident=zhang, by=world.user("carol"))
    dave = api_client(world, "dave")
    found = dave.get(f"{BASE}/checkpoints/{gate.pk}/lookup?q={code.token}").json()
    assert [(p["id"], p["id_number"]) for p in found] == [(zhang.pk, mask_id_number(zhang.id_number))]
    by_digits = dave.get(f"{BASE}/checkpoints/{gate.pk}/lookup?q={zhang.id_number[-4:]}").json()
    assert [p["name"] for p in by_digits] == ["张伟"]
    entry = crossing(dave, gate, "t-1", token=code.token)
    assert (entry.status_code, entry.json()["person_id"], entry.json()["household_id"]) == (
        201,
        zhang.pk,
        world.households["zhang"].pk,
    )
    issue_static_code(resident=zhang, by=world.user("carol"))  # the old card is revoked
    stale = crossing(dave, gate, "t-2", direction="in", token=code.token)
    assert (stale.status_code, stale.json()["detail"][0]["field"]) == (422, "token")


def test_strangers_and_vehicles_with_unknown_types_are_refused_in_chinese(world, gate):
    dave = api_client(world, "dave")
    ok = crossing(dave, gate, "v-1", direction="in", plate="蒙g12345", vehicle_type="express", temperature=36.6)
    assert (ok.status_code, ok.json()["plate"], ok.json()["temperature"]) == (201, "蒙G12345", "36.6")
    bad = crossing(dave, gate, "v-2", direction="in", plate="蒙G1", vehicle_type="tank")
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "vehicle_type"
    hot = crossing(dave, gate, "v-3", direction="in", name="陌生人", temperature="45")
    assert hot.status_code == 422 and hot.json()["detail"][0]["field"] == "temperature"
    assert CheckpointEntry.objects.count() == 1


def test_checkpoints_outside_are_404_and_the_leader_may_not_write(world, ev, gate):
    west = Checkpoint.objects.create(unit=world.west_c1, event=ev, name="西门")
    wang = world.residents["wang"]
    assert crossing(api_client(world, "gina"), gate, "x-1", name="路人").status_code == 404
    assert api_client(world, "erin").get(f"{BASE}/checkpoints/{gate.pk}/lookup?q=张").status_code == 404
    frank = api_client(world, "frank")
    assert crossing(frank, west, "x-2", resident_id=wang.pk).status_code == 403
    report = frank.post(
        f"{BASE}/reports",
        {"event_id": ev.pk, "date": str(TODAY), "unit": world.west_c1.code},
        content_type="application/json",
    )
    assert report.status_code == 403
    assert (CheckpointEntry.objects.count(), DailyReport.objects.count()) == (0, 0)
    # A resident of another community is not someone this gate may pick by id.
    li = world.residents["li"]
    assert crossing(api_client(world, "bob"), gate, "x-3", resident_id=li.pk).status_code == 404


def test_openapi_lists_the_outbreak_paths(world):
    paths = api_client(world, "alice").get("/api/openapi.json").json()["paths"]
    for p in (
        "/api/outbreak/events",
        "/api/outbreak/screenings",
        "/api/outbreak/screenings/{screening_id}/followups",
        "/api/outbreak/alerts",
        "/api/outbreak/checkpoints/{checkpoint_id}/crossings",
        "/api/outbreak/checkpoints/{checkpoint_id}/crossings/batch",
        "/api/outbreak/checkpoints/{checkpoint_id}/lookup",
        "/api/outbreak/reports",
        "/api/outbreak/reports/table",
    ):
        assert p in paths, p


# ---- the phones' hot path: resends whatever the checks say now, the batch endpoint, CSRF, query count ----------


def batch(api, gate, entries):
    return api.post(
        f"{BASE}/checkpoints/{gate.pk}/crossings/batch", {"entries": entries}, content_type="application/json"
    )


def test_a_resend_of_an_entry_the_checks_would_now_refuse_is_still_200(world, gate):
    carol = api_client(world, "carol")
    stranger = {"direction": "in", "name": "访客乙", "id_number": "11010519491231002X"}
    first = crossing(carol, gate, "s-1", **stranger)
    again = crossing(carol, gate, "s-1", **stranger)  # "already inside" by its own entry
    assert (first.status_code, again.status_code, again.json()["id"]) == (201, 200, first.json()["id"])
    zhang = world.residents["zhang"]
    code = issue_static_code(resident=zhang, by=world.user("carol"))
    assert crossing(carol, gate, "t-1", token=code.token).status_code == 201
    issue_static_code(resident=zhang, by=world.user("carol"))  # the card is replaced while the phone resends
    stale = crossing(carol, gate, "t-1", token=code.token)
    assert (stale.status_code, stale.json()["person_id"]) == (200, zhang.pk)
    Checkpoint.objects.filter(pk=gate.pk).update(retired_on=TODAY)
    assert crossing(carol, gate, "s-1", **stranger).status_code == 200
    assert crossing(carol, gate, "s-2", direction="in", name="访客丙").status_code == 422
    assert CheckpointEntry.objects.count() == 2


def test_a_client_id_of_another_checkpoint_is_refused(world, ev, gate):
    east = Checkpoint.objects.create(unit=world.east_c1, event=ev, name="东门")
    carol = api_client(world, "carol")
    assert crossing(carol, gate, "x", direction="in", name="路人").status_code == 201
    other = crossing(carol, east, "x", direction="in", name="路人")
    assert (other.status_code, other.json()["detail"][0]["field"]) == (422, "client_id")


def test_a_batch_answers_each_entry_and_a_refused_one_blocks_none(world, gate):
    dave = api_client(world, "dave")
    zhang, li = world.residents["zhang"], world.residents["li"]
    first = crossing(dave, gate, "old", direction="in", plate="蒙G11111", vehicle_type="express")
    answer = batch(
        dave,
        gate,
        [
            {"client_id": "b-1", "direction": "out", "resident_id": zhang.pk},
            {"client_id": "old", "direction": "in", "plate": "蒙G11111", "vehicle_type": "express"},
            {"client_id": "b-2", "direction": "out", "resident_id": zhang.pk},  # quota: refused, no reason
            {"client_id": "b-3", "direction": "out", "resident_id": li.pk},  # not of this community
            {"client_id": "b-4"},  # no direction: the schema refuses it, alone
            "not an entry",
            {"client_id": "b-5", "direction": "in", "plate": "蒙g22222", "vehicle_type": "express"},
            {"client_id": "b-6", "direction": "out", "resident_id": zhang.pk, "allow_reason": "就医"},
        ],
    )
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [(r["client_id"], r["status"]) for r in results] == [
        ("b-1", 201),
        ("old", 200),
        ("b-2", 422),
        ("b-3", 404),
        ("b-4", 422),
        ("", 422),
        ("b-5", 201),
        ("b-6", 201),
    ]
    assert results[1]["entry"]["id"] == first.json()["id"]
    assert results[2]["detail"][0]["field"] == "allow_reason" and "超过每2天1人次" in results[2]["detail"][0]["message"]
    assert results[4]["entry"] is None and results[4]["detail"][0]["field"].endswith("direction")
    assert results[6]["entry"]["plate"] == "蒙G22222"
    assert results[0]["entry"]["id_number"] == mask_id_number(zhang.id_number)
    assert (results[7]["entry"]["allowed_reason"], bool(results[7]["entry"]["breach"])) == ("就医", True)
    assert set(CheckpointEntry.objects.values_list("client_id", flat=True)) == {"old", "b-1", "b-5", "b-6"}
    again = batch(dave, gate, [{"client_id": "b-1", "direction": "out", "resident_id": zhang.pk}])
    assert again.json()["results"][0]["status"] == 200 and CheckpointEntry.objects.count() == 4


def test_a_batch_over_the_limit_the_leader_and_outsiders_are_refused_whole(world, ev, gate):
    vans = [{"client_id": f"v-{n}", "direction": "in", "plate": f"蒙G{n:05d}"} for n in range(51)]
    too_many = batch(api_client(world, "dave"), gate, vans)
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["field"] == "entries"
    west = Checkpoint.objects.create(unit=world.west_c1, event=ev, name="西门")
    assert batch(api_client(world, "frank"), west, vans[:2]).status_code == 403
    assert batch(api_client(world, "gina"), gate, vans[:2]).status_code == 404
    assert CheckpointEntry.objects.count() == 0


def test_the_browser_session_needs_the_csrf_token_for_crossings(world, gate):
    phone = Client(enforce_csrf_checks=True)
    phone.force_login(world.user("dave"))
    body = {"client_id": "p-1", "direction": "in", "name": "路人"}
    url = f"{BASE}/checkpoints/{gate.pk}/crossings"
    assert phone.post(url, body, content_type="application/json").status_code in (401, 403)
    assert phone.post(url + "/batch", {"entries": [body]}, content_type="application/json").status_code in (401, 403)
    assert CheckpointEntry.objects.count() == 0
    phone.get(f"/outbreak/checkpoints/{gate.pk}/")  # the screen sets the CSRF cookie
    csrf = phone.cookies["csrftoken"].value
    ok = phone.post(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert ok.status_code == 201
    also = phone.post(
        url + "/batch",
        {"entries": [{**body, "client_id": "p-2", "direction": "out"}]},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert also.json()["results"][0]["status"] == 201


def test_a_crossing_costs_few_queries(world, gate, django_assert_max_num_queries):
    """Token (cached after the first call), checkpoint, resident, pass rule, the household's exits, the insert
    (in the test's transaction with its savepoint): a regression here is a regression of the phones' goal."""
    dave = api_client(world, "dave")
    zhang = world.residents["zhang"]
    assert crossing(dave, gate, "warm", direction="in", name="路人").status_code == 201
    with django_assert_max_num_queries(7):
        assert crossing(dave, gate, "q-1", resident_id=zhang.pk).status_code == 201
    with django_assert_max_num_queries(5):
        assert crossing(dave, gate, "q-2", direction="in", name="访客丁", id_number="Q1").status_code == 201
