"""The sampling table's API (/api/testing/…) and pages as each world user sees them: who may register at
which table, batches answered entry by entry, the roster never showing a whole ID number."""

import json
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from accounts.rules import mask_id_number
from accounts.services import create_user, issue_token
from testing.models import Sample, ShouldSample, Tube
from testing.tests.factories import make_site, make_table, sampling_world, static_code

pytestmark = pytest.mark.django_db
BASE = "/api/testing"


def api_client(user):
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(user=user, name='test')}")


@pytest.fixture
def sw(world):
    return sampling_world(world)


def samples_url(sw, table=None):
    return f"{BASE}/rounds/{sw.round.pk}/tables/{(table or sw.table1).pk}/samples"


def entry(sw, resident, tube="T0001", **kw):
    return {"client_id": str(uuid.uuid4()), "tube_barcode": tube, "should_sample_id": sw.row(resident).pk, **kw}


def post(api, url, body):
    return api.post(url, json.dumps(body), content_type="application/json")


# Who may register at 龙兴社区 (east_c1)'s site: its subtree's staff and everyone above it; not the west.
MATRIX = {"alice": 200, "bob": 200, "carol": 200, "dave": 200, "erin": 404, "frank": 404, "gina": 404}


@pytest.mark.parametrize("username", sorted(MATRIX))
def test_who_may_register_at_the_site(world, sw, username):
    api = api_client(world.user(username))
    n = sorted(MATRIX).index(username)
    response = post(api, samples_url(sw), {"entries": [entry(sw, sw.residents[n], tube=f"U{n}")]})
    assert response.status_code == MATRIX[username], response.content
    if MATRIX[username] == 200:
        assert response.json()["outcomes"][0]["status"] == "created"
        roster = api.get(f"{BASE}/rounds/{sw.round.pk}/tables/{sw.table1.pk}/roster")
        assert roster.status_code == 200
    else:
        assert Sample.objects.count() == 0
        assert api.get(f"{BASE}/rounds/{sw.round.pk}/tables/{sw.table1.pk}/roster").status_code == 404
        assert api.get(f"{BASE}/rounds/{sw.round.pk}/lookup", {"q": "张"}).status_code == 404


def test_a_grid_worker_may_not_register_at_another_communitys_site(world, sw):
    other = make_site(sw.round, unit=world.east_c2, name="泰丰社区采样点", buildings=[world.east_b2])
    table = make_table(other, 1)
    dave, carol, bob = (api_client(world.user(u)) for u in ("dave", "carol", "bob"))
    body = {"entries": [entry(sw, sw.residents[1], tube="C2")]}
    assert post(dave, samples_url(sw, table), body).status_code == 404
    assert post(carol, samples_url(sw, table), body).status_code == 404
    assert post(bob, samples_url(sw, table), body).status_code == 200
    # The table must belong to the round in the address.
    assert post(bob, f"{BASE}/rounds/{sw.round.pk + 1}/tables/{table.pk}/samples", body).status_code == 404


def test_a_read_only_leader_may_look_but_not_register(world, sw):
    leader = create_user(
        username="lin", password="pass-1234-word", role=Role.LEADER_READONLY, org_unit=world.east, full_name="林"
    )
    api = api_client(leader)
    response = post(api, samples_url(sw), {"entries": [entry(sw, sw.residents[0])]})
    assert response.status_code == 403
    assert "只能查看" in response.json()["detail"]
    assert api.get(f"{BASE}/rounds/{sw.round.pk}/tables/{sw.table1.pk}/roster").status_code == 200


def test_a_batch_is_answered_entry_by_entry_and_a_resend_is_a_duplicate(world, sw):
    api = api_client(world.user("carol"))
    code = static_code(world, sw.residents[0])
    body = {
        "entries": [
            {"client_id": "c-1", "tube_barcode": "T0001", "token": code.token, "taken_at": "2022-04-10T08:00:00+08:00"},
            entry(sw, sw.residents[1], door_to_door=True),
            {"client_id": "c-3", "tube_barcode": "T0001", "token": "unknown-token-00"},
        ],
        "close": [],
    }
    response = post(api, samples_url(sw), body)
    assert response.status_code == 200
    answer = response.json()
    outcomes = answer["outcomes"]
    assert [o["status"] for o in outcomes] == ["created", "created", "refused"]
    assert outcomes[0]["name"] == "张伟" and outcomes[0]["position"] == 1 and outcomes[0]["repeat"] is False
    assert outcomes[2] == {
        "client_id": "c-3",
        "status": "refused",
        "field": "token",
        "message": "二维码无效或已作废，请输入证件号码查找",
    }
    assert answer["tubes"] == [{"barcode": "T0001", "filled": 2, "capacity": 10, "closed": False}]
    assert answer["created"] == 2
    again = post(api, samples_url(sw), body).json()["outcomes"]
    assert [o["status"] for o in again] == ["duplicate", "duplicate", "refused"]
    assert again[0]["sample_id"] == outcomes[0]["sample_id"]
    assert Sample.objects.count() == 2
    # The whole batch refused: a Chinese reason (422), nothing stored.
    too_many = post(api, samples_url(sw), {"entries": [entry(sw, sw.residents[2])] * 501})
    assert too_many.status_code == 422
    assert "一次最多提交500条" in too_many.json()["detail"][0]["message"]


def test_open_and_close_a_tube(world, sw):
    api = api_client(world.user("dave"))
    url = f"{BASE}/rounds/{sw.round.pk}/tables/{sw.table1.pk}/tubes"
    first = post(api, url, {"barcode": "t0009"})
    assert first.status_code == 201 and first.json()["barcode"] == "T0009"
    assert post(api, url, {"barcode": "T0009"}).status_code == 200
    other = post(api, f"{BASE}/rounds/{sw.round.pk}/tables/{sw.table2.pk}/tubes", {"barcode": "T0009"})
    assert other.status_code == 422
    assert other.json()["detail"][0] == {
        "field": "barcode",
        "message": "试管 T0009 已在 龙兴社区广场采样点 固定采样台1号 使用",
    }
    closed = api.post(f"{url}/T0009/close")
    assert closed.status_code == 200 and closed.json()["closed_at"] is not None
    assert api.post(f"{url}/T0009/close").json()["closed_at"] == closed.json()["closed_at"]
    assert Tube.objects.get(barcode="T0009").closed_at is not None


def test_the_roster_is_the_sites_part_of_the_list_and_never_shows_a_whole_id_number(world, sw):
    api = api_client(world.user("dave"))
    zhang = sw.residents[0]
    post(api, samples_url(sw), {"entries": [entry(sw, zhang)]})
    # Someone of another community on the list, assigned to no site: not on this site's roster.
    from testing.tests.factories import add_residents

    far = add_residents(world, world.east_b2, 1, surname="周")[0]
    ShouldSample.objects.create(round=sw.round, resident=far, name=far.name, id_number=far.id_number, unit=far.unit)
    response = api.get(f"{BASE}/rounds/{sw.round.pk}/tables/{sw.table1.pk}/roster")
    rows = response.json()
    assert len(rows) == len(sw.roster)
    body = response.content.decode()
    for r in sw.roster:
        assert r.id_number not in body
    assert far.name not in body
    row = next(x for x in rows if x["id"] == sw.row(zhang).pk)
    assert row == {
        "id": sw.row(zhang).pk,
        "name": "张伟",
        "id_masked": mask_id_number(zhang.id_number),
        "last6": zhang.id_number[-6:],
        "building": "1号楼",
        "sampled": True,
        "exemption": "",
        "door_to_door": False,
    }
    assert sum(1 for x in rows if x["sampled"]) == 1


def test_lookup_in_the_rounds_list(world, sw):
    api = api_client(world.user("dave"))
    zhang = sw.residents[0]
    url = f"{BASE}/rounds/{sw.round.pk}/lookup"
    code = static_code(world, zhang)
    for q in (zhang.id_number[-4:], zhang.id_number[-6:], zhang.id_number, "张伟", code.token):
        rows = api.get(url, {"q": q}).json()
        assert [r["name"] for r in rows] == ["张伟"], q
        assert zhang.id_number not in json.dumps(rows)
    assert api.get(url, {"q": zhang.id_number[-3:]}).json() == []
    assert api.get(url, {"q": ""}).json() == []
    assert len(api.get(url, {"q": "赵"}).json()) == 10  # at most ten


def test_my_tables_lists_the_tables_of_open_rounds_in_reach(world, sw):
    other = make_site(sw.round, unit=world.east_c2, name="泰丰社区采样点")
    make_table(other, 1)
    dave = api_client(world.user("dave")).get(f"{BASE}/my-tables").json()
    assert [t["label"] for t in dave] == ["龙兴社区广场采样点 固定采样台1号", "龙兴社区广场采样点 固定采样台2号"]
    assert dave[0]["capacity"] == 10
    assert len(api_client(world.user("bob")).get(f"{BASE}/my-tables").json()) == 3
    assert api_client(world.user("erin")).get(f"{BASE}/my-tables").json() == []


def test_the_browser_session_needs_the_csrf_token(world, sw):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.user("carol"))
    page = browser.get(reverse("testing:table_screen", args=[sw.round.pk, sw.table1.pk]))
    assert page.status_code == 200
    body = {"entries": [entry(sw, sw.residents[0])]}
    assert post(browser, samples_url(sw), body).status_code == 403
    token = browser.cookies["csrftoken"].value
    ok = browser.post(samples_url(sw), json.dumps(body), content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 200 and ok.json()["created"] == 1


def test_the_pages(world, sw):
    browser = Client()
    browser.force_login(world.user("dave"))
    listing = browser.get(reverse("testing:table_list"))
    assert listing.status_code == 200
    text = listing.content.decode()
    assert sw.round.name in text and reverse("testing:table_screen", args=[sw.round.pk, sw.table2.pk]) in text
    screen = browser.get(reverse("testing:table_screen", args=[sw.round.pk, sw.table1.pk]))
    assert screen.status_code == 200
    html = screen.content.decode()
    assert 'id="st-q"' in html and "sampling_table.js" in html and f"/api/testing/rounds/{sw.round.pk}" in html
    make_up = browser.get(reverse("testing:table_screen", args=[sw.round.pk, sw.table1.pk]) + "?make_up=1")
    assert 'id="st-make-up"' in make_up.content.decode() and '"make_up": true' in make_up.content.decode()
    erin = Client()
    erin.force_login(world.user("erin"))
    assert erin.get(reverse("testing:table_screen", args=[sw.round.pk, sw.table1.pk])).status_code == 404
    assert "没有进行中或计划中的采样台" in erin.get(reverse("testing:table_list")).content.decode()
