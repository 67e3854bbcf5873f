"""Who sees and changes what: every named user × every resident, through pages, exports and the API.

The expectation is computed from the world's definition (is the resident's unit inside the user's
unit?), not copied from outputs, so a leak anywhere fails a cell of the matrix.
"""

import datetime as dt
import json
from io import BytesIO

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from accounts.rules import policy
from accounts.services import issue_token, revoke_token
from core.testing import USERS

RESIDENTS = ["zhang", "li", "wang"]
CELLS = [(u, r) for u in USERS for r in RESIDENTS]


def visible(world, username, key):
    return world.residents[key].unit.path.startswith(world.user(username).org_unit.path)


def api_client(world, username):
    token = issue_token(user=world.user(username), name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.mark.parametrize(("username", "key"), CELLS)
def test_reads_through_pages_and_api(client, world, username, key):
    r = world.residents[key]
    expected = 200 if visible(world, username, key) else 404
    client.force_login(world.user(username))
    assert client.get(reverse("registry:resident_detail", args=[r.pk])).status_code == expected
    assert client.get(reverse("registry:household_detail", args=[r.household_id])).status_code == expected
    assert client.get(reverse("home"), {"unit": r.unit_id}).status_code == expected
    assert client.get(f"/api/residents/{r.pk}").status_code == expected
    assert client.get(f"/api/households/{r.household_id}").status_code == expected
    assert client.get(f"/api/units/{r.unit_id}/figures").status_code == expected


@pytest.mark.parametrize(("username", "key"), CELLS)
def test_writes_through_pages_and_api(world, username, key):
    r = world.residents[key]
    can = policy(world.user(username).role).can_write
    expected = (200 if can else 403) if visible(world, username, key) else 404
    api = api_client(world, username)
    response = api.patch(f"/api/residents/{r.pk}", {"note": "随访"}, content_type="application/json")
    assert response.status_code == expected
    page = Client()
    page.force_login(world.user(username))
    response = page.post(
        reverse("registry:resident_status", args=[r.pk]),
        {"living_status": "away", "on": dt.date.today().isoformat(), "reason": "外出"},
    )
    assert response.status_code == {200: 302, 403: 403, 404: 404}[expected]
    r.refresh_from_db()
    assert (r.living_status == "away") is (expected == 200)
    assert (r.note == "随访") is (expected == 200)


@pytest.mark.parametrize("username", list(USERS))
def test_lists_and_exports_hold_exactly_the_subtree(client, world, username):
    expected = {world.residents[k].name for k in RESIDENTS if visible(world, username, k)}
    client.force_login(world.user(username))
    page = client.get(reverse("registry:resident_list"))
    assert {row["obj"].name for row in page.context["rows"]} == expected
    ws = load_workbook(BytesIO(client.get(reverse("registry:resident_export")).content)).active
    assert {row[0].value for row in ws.iter_rows(min_row=2)} == expected
    api = client.get("/api/residents/?limit=100").json()
    assert {item["name"] for item in api["items"]} == expected and api["count"] == len(expected)
    households = client.get("/api/households/?limit=100").json()
    assert households["count"] == len(expected)
    units = client.get("/api/units/?limit=1000").json()
    own = world.user(username).org_unit
    assert all(u["code"].startswith(own.code[:6]) for u in units["items"])
    assert own.pk in {u["id"] for u in units["items"]}


@pytest.mark.parametrize("username", list(USERS))
def test_creating_a_resident_outside_the_subtree_is_refused(world, username):
    api = api_client(world, username)
    payload = {"name": "新人", "id_number": "11010519491231002X", "unit_id": world.west_b1.pk}
    response = api.post("/api/residents/", payload, content_type="application/json")
    allowed = policy(world.user(username).role).can_write and world.west_b1.path.startswith(
        world.user(username).org_unit.path
    )
    assert response.status_code == (201 if allowed else 403)


def test_api_lists_mask_id_numbers_and_reveal_is_logged_only_for_allowed_roles(world):
    zhang = world.residents["zhang"]
    carol = api_client(world, "carol")
    item = carol.get("/api/residents/").json()["items"][0]
    assert item["id_number"] == zhang.id_number[:6] + "********" + zhang.id_number[-4:]
    assert carol.get(f"/api/residents/{zhang.pk}?reveal=1").json()["id_number"] == zhang.id_number
    dave = api_client(world, "dave")
    assert dave.get(f"/api/residents/{zhang.pk}?reveal=1").status_code == 403
    from accounts.models import AccessLog

    assert list(AccessLog.objects.values_list("user__username", "action")) == [("carol", "view_id")]


def test_tokens_revoked_or_unknown_are_refused(world):
    from accounts.models import ApiToken

    api = api_client(world, "carol")
    assert api.get("/api/me").json()["org_unit"]["name"] == "龙兴社区"
    revoke_token(token=ApiToken.objects.get())
    assert api.get("/api/me").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Bearer nonsense").get("/api/me").status_code == 401
    assert Client().get("/api/me").status_code == 401


def test_browser_session_needs_csrf_for_writes(world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.user("carol"))
    zhang = world.residents["zhang"]
    assert browser.get(f"/api/residents/{zhang.pk}").status_code == 200
    response = browser.patch(f"/api/residents/{zhang.pk}", {"note": "x"}, content_type="application/json")
    assert response.status_code in (401, 403)


def test_openapi_schema_lists_the_endpoints(client):
    schema = json.loads(client.get("/api/openapi.json").content)
    assert {"/api/residents/", "/api/residents/{resident_id}", "/api/units/", "/api/me"} <= set(schema["paths"])
    assert "TokenAuth" in schema["components"]["securitySchemes"]


def test_api_validation_errors_are_in_chinese(world):
    api = api_client(world, "carol")
    payload = {"name": "错号", "id_number": "110105194912310021", "unit_id": world.east_b1.pk}
    response = api.post("/api/residents/", payload, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"] == [{"field": "id_number", "message": "身份证号校验位错误"}]
