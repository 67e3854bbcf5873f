"""The 计生 API as a machine sees it: every world user gets exactly his subtree, ID numbers masked,
writes refused to the read-only leader and bad input answered in Chinese with nothing stored.

Expectations are computed from where the world's records lie, not copied from outputs.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from accounts.rules import mask_id_number, policy
from accounts.services import issue_token
from core.testing import USERS, make_id_number
from familyplanning import services
from familyplanning.models import Beneficiary, Birth, BirthServiceRegistration
from familyplanning.tests.factories import person, scheme, standard

D = dt.date
YEAR = 2025  # a past year: the statistics' population comes from the point-in-time path
BASE = "/api/familyplanning"
# Which building each birth and each beneficiary lies in (the world's named residents live in them too).
BIRTHS = {"东一宝": "east_b1", "东二宝": "east_b2", "西一宝": "west_b1"}
ENROLLED = {"zhang": "east_b1", "li": "east_b2", "wang": "west_b1"}
BANK = "6222020200112233445"


def api_client(world, username):
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(user=world.user(username), name='test')}")


def in_subtree(world, username, building):
    return getattr(world, building).path.startswith(world.user(username).org_unit.path)


@pytest.fixture
def fp(world):
    alice = world.user("alice")
    disability = scheme("sa_disability", name="计生特扶（伤残）", short_name="伤残")
    standard(disability, 520, D(2021, 1, 1))
    standard(disability, 630, D(2025, 7, 1))
    for serial, (child, building) in enumerate(BIRTHS.items(), start=1):
        mother = services.Parent(name=f"{child[:2]}妈", id_number=make_id_number(D(1995, 3, serial), "F"))
        data = services.BirthData(
            child_name=child, sex="M", birth_date=D(YEAR, 3, serial), birth_order=1, mother=mother
        )
        services.record_birth(data=data, unit=getattr(world, building), by=alice, today=D(YEAR, 4, 1))
    for key in ENROLLED:
        services.enroll(
            scheme=disability,
            person=world.residents[key],
            start_month=D(2024, 1, 1),
            bank_account=BANK,
            by=alice,
        )
    return disability


@pytest.mark.parametrize("username", list(USERS))
def test_births_and_beneficiaries_hold_exactly_the_subtree(world, fp, username):
    api = api_client(world, username)
    births = api.get(f"{BASE}/births?limit=100").json()
    expected = {name for name, b in BIRTHS.items() if in_subtree(world, username, b)}
    assert {row["child_name"] for row in births["items"]} == expected
    assert births["count"] == len(expected)
    enrolled = api.get(f"{BASE}/beneficiaries?limit=100").json()
    names = {world.residents[k].name for k, b in ENROLLED.items() if in_subtree(world, username, b)}
    assert {row["person"]["name"] for row in enrolled["items"]} == names
    assert enrolled["count"] == len(names)


UNITS = ["district", "east", "west", "east_c1", "east_c2", "west_c1", "east_g1", "west_b1"]


@pytest.mark.parametrize("username", list(USERS))
def test_statistics_of_a_unit_inside_the_subtree_and_404_outside(world, fp, username):
    api = api_client(world, username)
    for key in UNITS:
        unit = getattr(world, key)
        response = api.get(f"{BASE}/statistics", {"unit": unit.code, "year": YEAR})
        if not in_subtree(world, username, key):
            assert response.status_code == 404, key
            continue
        figures = response.json()["figures"]
        births_below = sum(getattr(world, b).path.startswith(unit.path) for b in BIRTHS.values())
        assert (figures["births"], figures["births_male"], figures["births_order_1"]) == (births_below,) * 3, key


def test_statistics_unknown_unit_is_404_and_a_future_year_422(world, fp):
    api = api_client(world, "alice")
    assert api.get(f"{BASE}/statistics", {"unit": "999999"}).status_code == 404
    response = api.get(f"{BASE}/statistics", {"unit": world.district.code, "year": dt.date.today().year + 1})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "year"
    assert "年份" in response.json()["detail"][0]["message"]


def test_statistics_carry_the_birth_rate_over_the_population(world, fp):
    figures = api_client(world, "bob").get(f"{BASE}/statistics", {"unit": world.east.code, "year": YEAR}).json()
    # Two births among the east street's two residents present at the end of the year.
    assert figures["figures"]["birth_rate_population"] == 2
    assert figures["figures"]["birth_rate_permille"] == 1000.0
    assert (figures["start"], figures["end"]) == (f"{YEAR}-01-01", f"{YEAR}-12-31")


def test_lists_mask_id_numbers_and_bank_accounts_follow_the_role(world, fp):
    birth = Birth.objects.get(child_name="东一宝")
    carol = api_client(world, "carol")
    row = carol.get(f"{BASE}/births").json()["items"][0]
    assert row["mother_id_number"] == mask_id_number(birth.mother_id_number) != birth.mother_id_number
    assert "*" in row["mother_id_number"]
    zhang = world.residents["zhang"]
    enrolled = carol.get(f"{BASE}/beneficiaries").json()["items"][0]
    assert enrolled["person"]["id_number"] == zhang.id_number[:6] + "********" + zhang.id_number[-4:]
    assert enrolled["members"][0]["id_number"] == enrolled["person"]["id_number"]
    assert policy(world.user("carol").role).sees_full_id_number
    assert enrolled["bank_account"] == BANK
    dave = api_client(world, "dave").get(f"{BASE}/beneficiaries").json()["items"][0]
    assert dave["bank_account"] == "*" * (len(BANK) - 4) + BANK[-4:]


def test_the_read_only_leader_cannot_write(world, fp):
    frank = api_client(world, "frank")
    wang = world.residents["wang"]
    payload = {
        "child_name": "西二宝",
        "sex": "F",
        "birth_date": "2026-01-05",
        "birth_order": 1,
        "mother": {"name": "某某", "id_number": make_id_number(D(1996, 1, 1), "F")},
        "unit_id": world.west_b1.pk,
    }
    response = frank.post(f"{BASE}/births", payload, content_type="application/json")
    assert response.status_code == 403
    assert "只能查看" in response.json()["detail"]
    enrol = {"scheme": "sa_disability", "person_id": wang.pk, "start_month": "2026-01-01"}
    assert frank.post(f"{BASE}/beneficiaries", enrol, content_type="application/json").status_code == 403
    ended = frank.post(
        f"{BASE}/beneficiaries/{Beneficiary.objects.get(person=wang).pk}/end",
        {"end_date": "2026-01-31", "reason": "death"},
        content_type="application/json",
    )
    assert ended.status_code == 403
    assert not Birth.objects.filter(child_name="西二宝").exists()
    assert Beneficiary.objects.get(person=wang).end_date is None


def test_a_birth_in_the_future_is_422_in_chinese_and_nothing_is_stored(world, fp):
    before = Birth.objects.count()
    payload = {
        "child_name": "未来宝",
        "sex": "M",
        "birth_date": (dt.date.today() + dt.timedelta(days=3)).isoformat(),
        "birth_order": 1,
        "mother": {"name": "钱妈", "id_number": make_id_number(D(1994, 2, 2), "F")},
        "unit_id": world.east_b1.pk,
    }
    response = api_client(world, "carol").post(f"{BASE}/births", payload, content_type="application/json")
    assert response.status_code == 422
    assert {"field": "birth_date", "message": "出生日期不能晚于今天"} in response.json()["detail"]
    assert Birth.objects.count() == before


def test_a_birth_by_the_mothers_resident_id_lands_in_her_unit(world, fp):
    mother = person(world, "赵敏", sex="F", birth=D(1994, 6, 1), building=world.east_b1)
    payload = {
        "child_name": "赵小宝",
        "sex": "F",
        "birth_date": (dt.date.today() - dt.timedelta(days=2)).isoformat(),
        "birth_order": 1,
        "mother": {"resident_id": mother.pk},
        "place": "市妇幼保健院",
    }
    carol = api_client(world, "carol")
    response = carol.post(f"{BASE}/births", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["unit_id"], body["mother_id"], body["mother_name"]) == (world.east_b1.pk, mother.pk, "赵敏")
    assert body["mother_id_number"] == mask_id_number(mother.id_number)
    assert body["days_to_entry"] == 2
    # A mother outside carol's community is not found, and nothing is recorded for her.
    payload["mother"] = {"resident_id": world.residents["wang"].pk}
    assert carol.post(f"{BASE}/births", payload, content_type="application/json").status_code == 404
    assert Birth.objects.filter(child_name="赵小宝").count() == 1


def test_a_mother_by_name_and_id_number_of_a_resident_is_linked(world, fp):
    mother = person(world, "孙丽", sex="F", birth=D(1993, 1, 9), building=world.east_b2)
    payload = {
        "mother": {"name": "孙丽", "id_number": mother.id_number.lower()},
        "birth_order": 1,
        "registered_on": (dt.date.today() - dt.timedelta(days=30)).isoformat(),
    }
    bob = api_client(world, "bob")
    response = bob.post(f"{BASE}/registrations", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    assert (response.json()["mother_id"], response.json()["unit_id"]) == (mother.pk, world.east_b2.pk)
    listed = bob.get(f"{BASE}/registrations", {"q": "孙"}).json()
    assert listed["count"] == 1 and listed["items"][0]["mother_id_number"] == mask_id_number(mother.id_number)
    assert api_client(world, "gina").get(f"{BASE}/registrations").json()["count"] == 0
    # A second one for the same order is refused in Chinese, and the first stays alone.
    again = bob.post(f"{BASE}/registrations", payload, content_type="application/json")
    assert again.status_code == 422 and again.json()["detail"][0]["field"] == "birth_order"
    assert BirthServiceRegistration.objects.count() == 1


def test_a_non_resident_mother_needs_a_unit(world, fp):
    payload = {
        "child_name": "外来宝",
        "sex": "M",
        "birth_date": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
        "birth_order": 1,
        "mother": {"name": "外地妈妈", "id_number": make_id_number(D(1992, 5, 5), "F")},
    }
    response = api_client(world, "bob").post(f"{BASE}/births", payload, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "unit_id"
    assert not Birth.objects.filter(child_name="外来宝").exists()


def test_enrol_and_end_through_the_api(world, fp):
    carol = api_client(world, "carol")
    mother = person(world, "周芳", sex="F", birth=D(1958, 4, 4), building=world.east_b1)
    enrol = {"scheme": "sa_disability", "person_id": mother.pk, "start_month": "2026-03-15", "bank_account": BANK}
    response = carol.post(f"{BASE}/beneficiaries", enrol, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["scheme_code"], body["start_month"], [m["name"] for m in body["members"]]) == (
        "sa_disability",
        "2026-03-01",
        ["周芳"],
    )
    again = carol.post(f"{BASE}/beneficiaries", enrol, content_type="application/json")
    assert again.status_code == 422 and "不能重复登记" in again.json()["detail"][0]["message"]
    unknown = carol.post(f"{BASE}/beneficiaries", {**enrol, "scheme": "nope"}, content_type="application/json")
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "scheme"
    outside = {**enrol, "person_id": world.residents["wang"].pk}
    assert carol.post(f"{BASE}/beneficiaries", outside, content_type="application/json").status_code == 404
    ended = carol.post(
        f"{BASE}/beneficiaries/{body['id']}/end",
        {"end_date": "2026-06-30", "reason": "moved_out"},
        content_type="application/json",
    )
    assert ended.status_code == 200 and ended.json()["end_reason"] == "moved_out"
    assert carol.get(f"{BASE}/beneficiaries", {"status": "ended"}).json()["count"] == 1
    other = Beneficiary.objects.get(person=world.residents["wang"])
    gone = carol.post(
        f"{BASE}/beneficiaries/{other.pk}/end",
        {"end_date": "2026-06-30", "reason": "death"},
        content_type="application/json",
    )
    assert gone.status_code == 404


def test_application_detail_has_totals_per_scheme_and_masked_lines(world, fp):
    bob = world.user("bob")
    application = services.submit_application(unit=world.east, year=YEAR, by=bob, today=D(2026, 1, 10))
    # Two people in the east street: 6 months at 520 and 6 at 630 each.
    assert application.total == Decimal(2 * (6 * 520 + 6 * 630))
    detail = api_client(world, "bob").get(f"{BASE}/applications/{application.pk}").json()
    assert [(s["scheme_code"], s["lines"], float(s["total"])) for s in detail["schemes"]] == [
        ("sa_disability", 2, 13_800.0)
    ]
    assert float(detail["grand_total"]) == 13_800.0
    zhang = world.residents["zhang"]
    line = next(line for line in detail["lines"] if line["name"] == zhang.name)
    assert line["id_number"] == mask_id_number(zhang.id_number) and line["months"] == 12
    assert api_client(world, "bob").get(f"{BASE}/applications").json()["count"] == 1
    assert api_client(world, "gina").get(f"{BASE}/applications").json()["count"] == 0
    assert api_client(world, "gina").get(f"{BASE}/applications/{application.pk}").status_code == 404


def test_schemes_list_their_standards(world, fp):
    rows = api_client(world, "dave").get(f"{BASE}/schemes").json()
    assert [(s["code"], [(x["amount"], x["valid_from"], x["valid_to"]) for x in s["standards"]]) for s in rows] == [
        ("sa_disability", [("520.00", "2021-01-01", "2025-06-30"), ("630.00", "2025-07-01", None)])
    ]


def test_openapi_lists_the_familyplanning_paths(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "births",
        "registrations",
        "schemes",
        "beneficiaries",
        "beneficiaries/{beneficiary_id}/end",
        "applications",
        "applications/{application_id}",
        "statistics",
    ):
        assert f"{BASE}/{path}" in paths
    assert "post" in paths[f"{BASE}/births"] and "post" in paths[f"{BASE}/beneficiaries"]
