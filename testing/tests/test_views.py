"""全员核酸 pages as the users see them: who may plan, who sees which round and whose phones, the live
progress, the missed list with its export and print, results, handover, static codes."""

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.services import create_user
from outbreak.models import Screening
from outbreak.tests.factories import event
from registry.models import StaticCode
from testing import services
from testing.models import Round, RoundStaff, SamplingSite, ShouldSample, TubeResult
from testing.tests.rounds_helpers import at, make_round, swab
from testing.tests.test_roster import D, plan, street, xlsx  # noqa: F401 - the fixture

DASHBOARD = reverse("testing:dashboard")


def _sheet(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return [[c.value for c in row] for row in load_workbook(BytesIO(response.content)).active.iter_rows()]


@pytest.fixture
def running(world, street):  # noqa: F811
    r, s1, _s2 = plan(world, street)
    services.build_roster(round_=r, by=world.user("bob"))
    services.set_status(round_=r, status="running", by=world.user("bob"))
    swab(r, s1.tables.first(), world.residents["zhang"], taken_at=at(D, 8))
    return r


def test_empty_dashboard_and_who_may_create_a_round(client, world):
    client.force_login(world.user("bob"))
    page = client.get(DASHBOARD).content.decode()
    assert 'id="empty-state"' in page and reverse("testing:round_create") in page
    assert reverse("testing:table_list") in page and reverse("testing:routine_overview") in page
    client.force_login(world.user("carol"))
    assert reverse("testing:round_create") not in client.get(DASHBOARD).content.decode()
    assert client.get(reverse("testing:round_create")).status_code == 403


def test_the_street_creates_a_round_and_a_bad_form_keeps_its_input(client, world):
    client.force_login(world.user("bob"))
    url = reverse("testing:round_create")
    bad = client.post(
        url,
        {
            "name": "第一轮",
            "sample_type": "pooled",
            "starts_on": "2022-03-22",
            "ends_on": "2022-03-21",
            "scope_units": [world.east_c1.pk],
            "recent_test_hours": 48,
            "table_rate_per_hour": 120,
        },
    )
    assert bad.status_code == 400 and "结束日期早于开始日期" in bad.content.decode()
    assert (
        client.post(
            url,
            {
                "name": "第一轮",
                "sample_type": "pooled",
                "starts_on": "2022-03-22",
                "ends_on": "2022-03-22",
                "scope_units": [world.west_c1.pk],
                "recent_test_hours": 48,
                "table_rate_per_hour": 120,
            },
        ).status_code
        == 400
    )  # another street's community is not offered
    ok = client.post(
        url,
        {
            "name": "第一轮",
            "sample_type": "pooled",
            "starts_on": "2022-03-22",
            "ends_on": "2022-03-22",
            "scope_units": [world.east_c1.pk, world.east_c2.pk],
            "recent_test_hours": 48,
            "table_rate_per_hour": 120,
        },
    )
    r = Round.objects.get()
    assert ok["Location"] == reverse("testing:round_detail", args=[r.pk])
    assert (r.unit, r.created_by, set(r.scope_units.all())) == (
        world.east,
        world.user("bob"),
        {world.east_c1, world.east_c2},
    )


def test_who_sees_and_who_plans_a_round(client, world, running):
    detail = reverse("testing:round_detail", args=[running.pk])
    for who, status in [
        ("alice", 200),
        ("bob", 200),
        ("carol", 200),
        ("dave", 200),
        ("gina", 404),
        ("erin", 404),
        ("frank", 404),
    ]:
        client.force_login(world.user(who))
        assert client.get(detail).status_code == status, who
        assert client.get(reverse("testing:progress", args=[running.pk])).status_code == status, who
        assert client.get(reverse("testing:missed", args=[running.pk])).status_code == status, who
    client.force_login(world.user("carol"))
    page = client.get(detail)
    assert (
        page.context["can_manage"] is False
        and reverse("testing:roster_build", args=[running.pk]) not in page.content.decode()
    )
    assert client.post(reverse("testing:roster_build", args=[running.pk])).status_code == 403
    assert (
        client.post(reverse("testing:site_add", args=[running.pk]), {"name": "x", "unit": world.east_c1.pk}).status_code
        == 403
    )
    client.force_login(world.user("bob"))
    page = client.get(detail)
    assert page.context["can_manage"] is True
    assert page.context["tally"].listed == 15 and "本轮实采人数1人" in page.context["summary"]


def test_a_building_goes_to_one_site_per_round(client, world, running):
    site = SamplingSite.objects.get(round=running, name="泰丰一号点")
    client.force_login(world.user("bob"))
    url = reverse("testing:site_detail", args=[running.pk, site.pk])
    response = client.post(url, {"action": "buildings", "buildings": [world.east_b1.pk]}, follow=True)
    assert "1号楼已分配给采样点“龙兴一号点”（一栋楼每轮只属于一个采样点）" in response.content.decode().replace(
        "龙兴社区", ""
    )
    assert list(site.buildings.all()) == [world.east_b2]


def test_the_progress_page_polls_while_the_round_runs(client, world, running):
    client.force_login(world.user("bob"))
    page = client.get(reverse("testing:progress", args=[running.pk])).content.decode()
    assert 'hx-trigger="every 15s"' in page and "testing_progress.js" in page
    live = client.get(reverse("testing:progress_live", args=[running.pk]))
    assert live.context["p"].total.sampled == 1 and "<html" not in live.content.decode()
    drill = client.get(reverse("testing:progress", args=[running.pk]), {"unit": world.east_c1.pk})
    assert [u.name for u, _t, _d in drill.context["child_links"]] == ["第一网格"]
    client.force_login(world.user("carol"))
    assert client.get(reverse("testing:progress", args=[running.pk]), {"unit": world.east_c2.pk}).status_code == 404


def test_the_missed_list_shows_phones_by_role_exports_and_prints(client, world, running):
    url = reverse("testing:missed", args=[running.pk])
    client.force_login(world.user("dave"))  # the grid worker phones his grid: full numbers
    rows = client.get(url).context["rows"]
    assert sorted(x["r"].name for x in rows) == ["后出辛", "无需卯", "解除寅"]
    assert all(len(x["phone"]) == 11 and "*" not in x["phone"] for x in rows)
    assert all("*" in x["id_number"] for x in rows)
    leader = create_user(
        username="lee", password="pass-1234-word", role="leader_readonly", org_unit=world.east, full_name="lee"
    )
    client.force_login(leader)
    rows = client.get(url).context["rows"]
    assert len(rows) == 8 and all("****" in x["phone"] for x in rows)
    sheet = _sheet(client.get(reverse("testing:missed_export", args=[running.pk])))
    assert sheet[1][:3] == ["姓名", "证件号码", "联系电话"] and len(sheet) == 2 + 8
    assert all("****" in row[2] for row in sheet[2:])
    client.force_login(world.user("bob"))
    page = client.get(url, {"unit": world.east_g1.pk, "print": "1"})
    assert page.context["printing"] and "window.print()" in page.content.decode()
    assert len(page.context["rows"]) == 3
    mobile_links = client.get(url).content.decode().count("make_up=1")
    assert mobile_links == 1  # the one mobile team of the round


def test_staff_import_all_or_nothing_through_the_page(client, world, running):
    client.force_login(world.user("bob"))
    url = reverse("testing:staff_list", args=[running.pk])
    headers = ("姓名", "岗位", "联系电话", "所属单位", "采样点", "采样台", "车牌号")
    bad = xlsx(
        [("赵一", "采样", "13900000001", "卫生院", "龙兴一号点", "固定9", ""), ("钱二", "转运", "", "", "", "", "")],
        headers,
    )
    response = client.post(url, {"action": "import", "file": _upload(bad)})
    assert response.status_code == 400
    assert [(e["row"], e["column"]) for e in response.context["errors"]] == [(2, "采样台"), (3, "车牌号")]
    assert not RoundStaff.objects.filter(round=running).exists()
    good = xlsx(
        [
            ("赵一", "采样", "13900000001", "卫生院", "龙兴一号点", "固定2", ""),
            ("钱二", "转运", "", "", "", "", "蒙G12345"),
        ],
        headers,
    )
    response = client.post(url, {"action": "import", "file": _upload(good)})
    assert response.status_code == 302 and RoundStaff.objects.filter(round=running).count() == 2
    page = client.get(url)
    assert dict((r, n) for r, _label, n in page.context["roles"])["sampler"] == 1 and page.context["vehicles"] == 1


def _upload(content, name="f.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_results_import_positive_pool_handover_and_resampling(client, world, running):
    site = SamplingSite.objects.get(round=running, name="龙兴一号点")
    table = site.tables.first()
    first = running.samples.get()
    tube = first.tube
    swab(running, table, ShouldSample.objects.get(round=running, name="后出辛").resident, tube=tube)
    ev = event(world, started=D - dt.timedelta(days=10))
    client.force_login(world.user("bob"))
    csv = f"试管条码,检测结果,检测时间,检测机构\n{tube.barcode},阳性,{D} 20:00,市疾控\nNOPE,阴性,{D} 20:00,市疾控\n"
    response = client.post(
        reverse("testing:results_import", args=[running.pk]), {"file": _upload(csv.encode(), "r.csv")}
    )
    assert response.status_code == 400 and response.context["errors"] == [
        {"row": 3, "column": "试管条码", "message": "本轮没有这个试管条码：NOPE"}
    ]
    assert not TubeResult.objects.exists()
    csv = f"试管条码,检测结果,检测时间,检测机构\n{tube.barcode},阳性,{D} 20:00,市疾控\n"
    client.post(reverse("testing:results_import", args=[running.pk]), {"file": _upload(csv.encode(), "r.csv")})
    page = client.get(reverse("testing:results", args=[running.pk]))
    assert [len(x["members"]) for x in page.context["positives"]] == [2]
    assert len(page.context["resample"]) == 2
    response = client.post(reverse("testing:handover", args=[running.pk, tube.pk]), {"event": ev.pk, "measure": "home"})
    assert response.status_code == 302
    screened = Screening.objects.filter(event=ev)
    assert sorted(s.name for s in screened) == ["后出辛", "张伟"] and {s.measure for s in screened} == {"home"}
    assert all(s.screening_id for s in tube.samples.all())
    # A second click adds nobody.
    client.post(reverse("testing:handover", args=[running.pk, tube.pk]), {"event": ev.pk, "measure": "home"})
    assert Screening.objects.filter(event=ev).count() == 2
    # A single re-sample after the positive pool takes the person off the re-sampling list.
    swab(running, table, world.residents["zhang"], taken_at=at(D, 21), capacity=1)
    assert [x["s"].name for x in client.get(reverse("testing:results", args=[running.pk])).context["resample"]] == [
        "后出辛"
    ]


def test_static_codes_issue_and_print_never_show_the_id_number(client, world):
    client.force_login(world.user("carol"))
    url = reverse("testing:codes")
    page = client.get(url)
    assert (page.context["whole"].residents, page.context["whole"].with_code) == (1, 0)
    client.post(reverse("testing:codes_issue") + f"?unit={world.east_c1.pk}")
    assert StaticCode.objects.filter(revoked_at__isnull=True).count() == 1
    client.post(reverse("testing:codes_issue") + f"?unit={world.east_c1.pk}")  # again: nobody new
    assert StaticCode.objects.count() == 1
    coverage = client.get(url, {"unit": world.east_c1.pk}).context
    assert (coverage["whole"].with_code, [c.with_code for c in coverage["rows"]]) == (1, [1])
    sheet = client.get(reverse("testing:codes_print"), {"unit": world.east_g1.pk}).content.decode()
    zhang = world.residents["zhang"]
    assert "<svg" in sheet and "张伟" in sheet and zhang.id_number not in sheet
    household = client.get(reverse("testing:codes_print"), {"household": zhang.household_id}).content.decode()
    assert "家庭静态二维码" in household and "<svg" in household
    # Another street's household, or a community-wide print, is not offered.
    assert (
        client.get(reverse("testing:codes_print"), {"household": world.residents["wang"].household_id}).status_code
        == 404
    )
    assert client.get(reverse("testing:codes_print"), {"unit": world.east_c1.pk}).status_code == 302
    client.force_login(world.user("gina"))
    assert client.get(url, {"unit": world.east_c1.pk}).status_code == 404


def test_round_summary_page(client, world, running):
    client.force_login(world.user("bob"))
    text = client.get(reverse("testing:round_summary", args=[running.pk])).context["text"]
    assert text.startswith(
        "2022年3月22日东城街道开展第二轮全员核酸检测，设有2个采样点、3个采样台、1个流动采样组，"
    )  # after the drill and 21 March
    assert (
        "对辖区15人进行核酸检测采样，不包含无需采集6人（居家隔离1人、集中隔离1人、居家健康监测1人、48小时内已检2人、上一轮已采1人）"
        in text
    )
    assert "本轮实采人数1人；应检未检8人。" in text
    make_round(world, name="另一轮", starts=D + dt.timedelta(days=30))
