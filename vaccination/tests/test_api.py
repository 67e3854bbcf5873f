"""The vaccination API: coverage and the reconciliation as JSON, masked per role; doses listed and
recorded with Chinese refusals (422) and nothing stored."""

import datetime as dt

from django.test import Client

from accounts.services import issue_token
from vaccination.models import Dose
from vaccination.tests.factories import doses, person

D = dt.date
BASE = "/api/vaccination"


def api(world, username):
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(user=world.user(username), name='test')}")


def test_coverage_and_reconciliation_as_json(world):
    done = person(world, "east_b1", "老全", D(1950, 1, 1))
    doses(world, done, [D(2021, 5, 1), D(2021, 6, 1)])
    person(world, "east_b2", "老空", D(1945, 1, 1), phone="13900000077")
    bob = api(world, "bob")
    cov = bob.get(f"{BASE}/coverage", {"date": "2022-12-31"}).json()
    groups = {g["group"]: g for g in cov["groups"]}
    assert (cov["unit"], groups["age_60_plus"]["people"], groups["age_60_plus"]["full_course"]) == (
        world.east.code,
        2,
        1,
    )
    assert groups["age_60_plus"]["full_course_percent"] == 50.0
    rec = bob.get(f"{BASE}/reconciliation", {"group": "age_60_plus", "level": "full_course", "date": "2022-12-31"})
    body = rec.json()
    assert {c["key"]: c["count"] for c in body["categories"]}["unexplained"] == 1
    assert [(p["name"], p["phone"]) for p in body["unexplained"]] == [("老空", "13900000077")]
    assert "*" in body["unexplained"][0]["id_number"]
    alice = world.users["frank"]
    alice.org_unit = world.district
    alice.save(update_fields=["org_unit"])
    masked = api(world, "frank").get(f"{BASE}/reconciliation", {"unit": world.east.code, "group": "age_60_plus"})
    assert masked.json()["unexplained"][0]["phone"] == "139****0077"
    bad = bob.get(f"{BASE}/reconciliation", {"group": "age_1_2"})
    assert bad.status_code == 422 and "人群应为" in bad.json()["detail"][0]["message"]
    assert bob.get(f"{BASE}/coverage", {"unit": world.west.code}).status_code == 404


def test_doses_listed_and_recorded_with_refusals(world):
    zhang = world.residents["zhang"]
    carol = api(world, "carol")
    body = {"resident_id": zhang.pk, "product": "bibp", "dose_number": 1, "date": "2021-05-01", "door_to_door": True}
    created = carol.post(f"{BASE}/doses", body, content_type="application/json")
    assert created.status_code == 201 and created.json()["door_to_door"] is True
    twice = carol.post(f"{BASE}/doses", body, content_type="application/json")
    assert twice.status_code == 422 and twice.json()["detail"][0]["field"] == "dose_number"
    early = carol.post(
        f"{BASE}/doses", {**body, "dose_number": 2, "date": "2021-05-05"}, content_type="application/json"
    )
    assert early.status_code == 422 and "至少间隔21天" in early.json()["detail"][0]["message"]
    unknown = carol.post(f"{BASE}/doses", {**body, "product": "mrna"}, content_type="application/json")
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "product"
    assert Dose.objects.count() == 1
    listed = carol.get(f"{BASE}/doses", {"door_to_door": "true"}).json()
    assert listed["count"] == 1 and listed["items"][0]["name"] == "张伟" and "*" in listed["items"][0]["id_number"]
    assert api(world, "gina").get(f"{BASE}/doses").json()["count"] == 0
    assert [p["code"] for p in carol.get(f"{BASE}/products").json()][:1] == ["bibp"]
