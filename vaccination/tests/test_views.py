"""The vaccination pages as the world's users see them: every user × every resident (pages and API),
masking per role, the card's forms, the reconciliation and door-to-door lists with their exports, and
the products and reasons pages kept by the district administrator."""

import datetime as dt
from io import BytesIO

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from accounts.rules import policy
from accounts.services import issue_token
from core.testing import USERS
from vaccination.models import Dose, ReasonRecord, VaccineProduct
from vaccination.tests.factories import doses, person, product, reason

D = dt.date
RESIDENTS = ["zhang", "li", "wang"]
CELLS = [(u, r) for u in USERS for r in RESIDENTS]


def visible(world, username, key):
    return world.residents[key].unit.path.startswith(world.user(username).org_unit.path)


def api_client(world, username):
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(user=world.user(username), name='test')}")


def sheet(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return [[c.value for c in row] for row in load_workbook(BytesIO(response.content)).active.iter_rows()]


@pytest.mark.parametrize(("username", "key"), CELLS)
def test_reads_and_writes_follow_the_subtree(client, world, username, key):
    r = world.residents[key]
    seen = visible(world, username, key)
    client.force_login(world.user(username))
    assert client.get(reverse("vaccination:card", args=[r.pk])).status_code == (200 if seen else 404)
    assert client.get(reverse("vaccination:dashboard"), {"unit": r.unit_id}).status_code == (200 if seen else 404)
    page = client.get(reverse("vaccination:reconciliation"), {"unit": r.unit_id, "group": "age_18_59"})
    assert page.status_code == (200 if seen else 404)
    can = policy(world.user(username).role).can_write
    expected = (302 if can else 403) if seen else 404
    form = {"product": product().pk, "dose_number": 1, "date": "2021-05-01", "site": "卫生服务中心"}
    assert client.post(reverse("vaccination:dose_add", args=[r.pk]), form).status_code == expected
    api = api_client(world, username)
    body = {"resident_id": r.pk, "product": "sinovac", "dose_number": 2, "date": "2021-06-01"}
    created = api.post("/api/vaccination/doses", body, content_type="application/json")
    assert created.status_code == ((201 if can else 403) if seen else 404)
    got = api.get("/api/vaccination/reconciliation", {"unit": r.unit.code, "group": "age_18_59"})
    assert got.status_code == (200 if seen else 404)
    assert Dose.objects.filter(resident=r).count() == (2 if seen and can else 0)


def test_the_ledger_lists_the_subtree_only_and_exports_masked(client, world):
    doses(world, world.residents["zhang"], [D(2021, 5, 1)])
    doses(world, world.residents["wang"], [D(2021, 5, 1)])
    client.force_login(world.user("carol"))
    page = client.get(reverse("vaccination:dose_list"))
    assert [row["obj"].resident.name for row in page.context["rows"]] == ["张伟"]
    rows = sheet(client.get(reverse("vaccination:dose_list"), {"export": "1"}))
    assert [r[0] for r in rows[2:]] == ["张伟"]
    assert "*" in rows[2][1]
    client.force_login(world.user("alice"))
    filtered = client.get(reverse("vaccination:dose_list"), {"unit": world.west.pk})
    assert [row["obj"].resident.name for row in filtered.context["rows"]] == ["王芳"]
    assert client.get(reverse("vaccination:dose_list"), {"dose_number": 2}).context["page"].paginator.count == 0


@pytest.fixture
def elderly(world):
    """Two people aged 60+ in the east street: one vaccinated, one nobody explained (with a phone)."""
    done = person(world, "east_b1", "老全", D(1950, 1, 1))
    doses(world, done, [D(2021, 5, 1), D(2021, 6, 1)])
    missing = person(world, "east_b1", "老缺", D(1940, 1, 1), phone="13900000099", tags=["残疾"])
    doses(world, missing, [D(2021, 5, 1)])
    return done, missing


def test_reconciliation_page_counts_and_names_with_phones_per_role(client, world, elderly):
    params = {"group": "age_60_plus", "level": "full_course", "date": "2022-12-31"}
    client.force_login(world.user("bob"))
    page = client.get(reverse("vaccination:reconciliation"), params)
    result = page.context["result"]
    assert (result.total, result.count("vaccinated"), result.count("unexplained")) == (2, 1, 1)
    assert [p.name for p in page.context["people"]] == ["老缺"]
    assert "13900000099" in page.text
    rows = sheet(client.get(reverse("vaccination:reconciliation"), {**params, "export": "1"}))
    assert rows[2][0] == "老缺" and rows[2][4] == "13900000099"
    # A read-only leader of the district sees the same names with masked phones (alice's subtree: frank is west).
    leader = world.users["frank"]
    leader.org_unit = world.district
    leader.save(update_fields=["org_unit"])
    client.force_login(leader)
    page = client.get(reverse("vaccination:reconciliation"), {**params, "unit": world.east.pk})
    assert [p.phone for p in page.context["people"]] == ["139****0099"] and "13900000099" not in page.text


def test_door_to_door_list_by_tag_with_export(client, world, elderly):
    client.force_login(world.user("carol"))
    url = reverse("vaccination:door_to_door")
    page = client.get(url, {"group": "age_80_plus", "date": "2022-12-31"})
    assert [r.name for r in page.context["page"].object_list] == ["老缺"]
    assert page.context["page"].object_list[0].address.startswith("1号楼")
    rows = sheet(client.get(url, {"group": "age_60_plus", "date": "2022-12-31", "export": "1"}))
    assert [r[0] for r in rows[2:]] == ["老缺"]


def test_dashboard_shows_coverage_and_links_to_the_reconciliation(client, world, elderly):
    client.force_login(world.user("bob"))
    page = client.get(reverse("vaccination:dashboard"), {"date": "2022-12-31"})
    rows = {r.group.key: r.cell for r in page.context["rows"]}
    assert (rows["age_60_plus"].people, rows["age_60_plus"].full_course) == (2, 1)
    assert "vc-chart-data" in page.text and reverse("vaccination:reconciliation") in page.text
    assert client.get(reverse("vaccination:dashboard"), {"date": "2999-01-01"}).context["error"] == "日期不能晚于今天"


def test_the_card_records_corrects_and_retires(client, world):
    zhang = world.residents["zhang"]
    client.force_login(world.user("dave"))
    card = reverse("vaccination:card", args=[zhang.pk])
    bad = client.post(
        reverse("vaccination:dose_add", args=[zhang.pk]),
        {"product": product().pk, "dose_number": 2, "date": "2021-05-01"},
    )
    assert bad.status_code == 400 and "尚未登记第1剂" in bad.text
    ok = client.post(
        reverse("vaccination:dose_add", args=[zhang.pk]),
        {"product": product().pk, "dose_number": 1, "date": "2021-05-01"},
    )
    assert ok.status_code == 302 and ok["Location"] == card
    dose = Dose.objects.get()
    fixed = client.post(
        reverse("vaccination:dose_correct", args=[dose.pk]),
        {"product": product("sinovac").pk, "dose_number": 1, "date": "2021-05-03", "reason": "录错日期"},
    )
    assert fixed.status_code == 302
    assert Dose.objects.filter(retired_at__isnull=True).get().date == D(2021, 5, 3)
    recorded = client.post(
        reverse("vaccination:reason_add", args=[zhang.pk]),
        {"reason": reason("refused").pk, "scope": "booster", "valid_from": "2022-01-01"},
    )
    assert recorded.status_code == 302 and ReasonRecord.objects.count() == 1
    page = client.get(card)
    assert page.context["card"].states[1].category == "unexplained"  # dose 2 due long ago, no reason for the course
    live = Dose.objects.get(retired_at__isnull=True)
    assert client.post(reverse("vaccination:dose_retire", args=[live.pk]), {"reason": "录错人"}).status_code == 302
    assert not Dose.objects.filter(retired_at__isnull=True).exists()


def test_products_and_reasons_are_kept_by_the_district_administrator(client, world):
    new = {
        "code": "test-inact",
        "name": "测试灭活疫苗",
        "manufacturer": "测试生物",
        "kind": "inactivated",
        "course_doses": 2,
        "min_interval_days": 21,
        "booster_needed": "on",
        "booster_interval_days": 180,
    }
    client.force_login(world.user("bob"))
    assert client.get(reverse("vaccination:products")).status_code == 200
    assert client.post(reverse("vaccination:products"), new).status_code == 403
    client.force_login(world.user("alice"))
    assert client.post(reverse("vaccination:products"), new).status_code == 302
    made = VaccineProduct.objects.get(code="test-inact")
    page = client.post(reverse("vaccination:product_edit", args=[made.pk]), {**new, "course_doses": 4})
    assert page.status_code == 400 and "全程接种剂次应为1到3" in page.text
    page = client.post(reverse("vaccination:reasons"), {"code": "interval_not_met", "name": "未满间隔"})
    assert page.status_code == 400 and "由接种记录算出" in page.text
    assert client.post(reverse("vaccination:reasons"), {"code": "sick", "name": "急性疾病"}).status_code == 302


def test_finding_a_person_for_the_card(client, world):
    client.force_login(world.user("carol"))
    page = client.get(reverse("vaccination:find"), {"q": "张"})
    assert [p["obj"].name for p in page.context["people"]] == ["张伟"]
    assert client.get(reverse("vaccination:find"), {"q": "王芳"}).context["people"] == []
