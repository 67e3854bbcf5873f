"""疫情防控 pages as the users see them: scoping, follow-ups on the phone page, alerts upstairs, reports."""

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from outbreak import services
from outbreak.models import Alert, DailyReport, FollowUp, Screening
from outbreak.services import ScreeningData
from outbreak.tests.factories import event

TODAY = timezone.localdate()
DAYS = dt.timedelta

DASHBOARD = reverse("outbreak:dashboard")
SCREENINGS = reverse("outbreak:screening_list")
SCREENING_NEW = reverse("outbreak:screening_create")
FOLLOWUPS = reverse("outbreak:followup_list")
ALERTS = reverse("outbreak:alert_list")
REPORTS = reverse("outbreak:report_submit")
REPORT_TABLE = reverse("outbreak:report_table")


@pytest.fixture
def ev(world):
    return event(world)


def screen(world, ev, *, unit, who, name="访客甲", id_number="11010519491231002X", person=None):
    data = ScreeningData(
        from_area="湖北省武汉市江岸区",
        arrival_date=TODAY - DAYS(days=2),
        found_by="grid",
        person=person,
        name="" if person else name,
        id_number="" if person else id_number,
    )
    screening, _merged = services.screen_person(event=ev, unit=unit, data=data, by=world.user(who))
    return screening


def _sheet(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return [[c.value for c in row] for row in load_workbook(BytesIO(response.content)).active.iter_rows()]


def test_no_event_shows_an_empty_state_with_a_create_link_only_for_those_who_may(client, world):
    client.force_login(world.user("bob"))
    page = client.get(DASHBOARD).content.decode()
    assert "目前没有疫情事件" in page and reverse("outbreak:event_create") in page
    client.force_login(world.user("dave"))
    page = client.get(DASHBOARD).content.decode()
    assert "目前没有疫情事件" in page and reverse("outbreak:event_create") not in page


def test_community_staff_sees_her_screenings_not_the_west_streets(client, world, ev):
    screen(world, ev, unit=world.east_b1, who="carol", name="龙兴访客")
    west = screen(world, ev, unit=world.west_b1, who="gina", name="辽河访客", id_number="110105194912310021")

    client.force_login(world.user("carol"))
    response = client.get(SCREENINGS, {"event": ev.pk})
    assert [r["obj"].name for r in response.context["rows"]] == ["龙兴访客"]
    assert client.get(reverse("outbreak:screening_detail", args=[west.pk])).status_code == 404
    assert client.get(SCREENINGS, {"event": ev.pk, "unit": world.west_c1.pk}).status_code == 404
    assert client.post(reverse("outbreak:followup_record", args=[west.pk]), {"slot": "am"}).status_code == 404
    rows = _sheet(client.get(reverse("outbreak:screening_export"), {"event": ev.pk}))
    assert [r[0] for r in rows[2:]] == ["龙兴访客"]
    # The export masks ID numbers whatever the role.
    assert rows[2][1] == "110105********002X"


def test_a_grid_worker_records_a_fever_and_the_street_sees_the_alert(client, world, ev):
    s = screen(world, ev, unit=world.east_b1, who="carol")
    client.force_login(world.user("dave"))
    page = client.get(FOLLOWUPS, {"event": ev.pk})
    assert [c["s"].name for c in page.context["cards"]] == ["访客甲"]
    assert 'inputmode="decimal"' in page.content.decode()

    response = client.post(
        reverse("outbreak:followup_record", args=[s.pk]), {"event": ev.pk, "slot": "am", "temperature": "37.8"}
    )
    assert response.status_code == 302 and response["Location"].endswith(f"#s-{s.pk}")
    assert str(FollowUp.objects.get().temperature) == "37.8"
    card = client.get(FOLLOWUPS, {"event": ev.pk}).context["cards"][0]
    assert [str(x["done"].temperature) if x["done"] else None for x in card["slots"]] == ["37.8", None]

    client.force_login(world.user("bob"))
    alerts = client.get(ALERTS, {"event": ev.pk})
    assert [a.detail for a in alerts.context["page"].object_list] == ["访客甲：体温37.8℃"]
    assert client.get(DASHBOARD).context["open_alerts"] == 1
    # ... and not west's street
    client.force_login(world.user("gina"))
    assert client.get(DASHBOARD).context["open_alerts"] == 0

    client.force_login(world.user("bob"))
    alert = Alert.objects.get()
    client.post(reverse("outbreak:alert_handle", args=[alert.pk]), {"handling": "已通知村医上门复测"})
    assert client.get(DASHBOARD).context["open_alerts"] == 0


def test_an_impossible_temperature_shows_the_message_keeps_the_input_and_stores_nothing(client, world, ev):
    s = screen(world, ev, unit=world.east_b1, who="carol")
    client.force_login(world.user("dave"))
    response = client.post(
        reverse("outbreak:followup_record", args=[s.pk]),
        {"event": ev.pk, "slot": "pm", "temperature": "45", "symptoms": ["咳嗽"]},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "体温45.0℃不合常理（应在35.0到42.0之间），请复测" in page
    assert 'value="45"' in page and 'value="咳嗽" checked' in page
    assert FollowUp.objects.count() == 0 and Alert.objects.count() == 0


def test_the_report_table_shows_on_time_late_and_missing(client, world, ev):
    day = TODAY - DAYS(days=1)
    tz = timezone.get_current_timezone()
    carol, bob = world.user("carol"), world.user("bob")
    services.submit_daily_report(
        event=ev, unit=world.east_c1, date=day, by=carol, now=dt.datetime.combine(day, dt.time(10), tzinfo=tz)
    )
    services.submit_daily_report(
        event=ev, unit=world.east_c2, date=day, by=bob, zero=True, now=dt.datetime.combine(day, dt.time(18), tzinfo=tz)
    )
    client.force_login(world.user("alice"))
    response = client.get(REPORT_TABLE, {"event": ev.pk, "date": day.isoformat()})
    statuses = {r["unit"].name: str(r["label"]) for r in response.context["rows"]}
    assert statuses == {"龙兴社区": "按时", "泰丰社区": "迟报", "辽河社区": "未报"}
    page = response.content.decode()
    assert "按时" in page and "迟报" in page and "未报" in page
    assert str(response.context["table"].completeness) == "66.67"
    assert str(response.context["table"].timeliness) == "33.33"

    rows = _sheet(client.get(reverse("outbreak:report_table_export"), {"event": ev.pk, "date": day.isoformat()}))
    assert [r[:2] for r in rows[2:5]] == [["龙兴社区", "按时"], ["泰丰社区", "迟报"], ["辽河社区", "未报"]]

    # The street sees only its own communities.
    client.force_login(bob)
    response = client.get(REPORT_TABLE, {"event": ev.pk, "date": day.isoformat()})
    assert [r["unit"].name for r in response.context["rows"]] == ["龙兴社区", "泰丰社区"]


def test_a_second_report_for_the_day_asks_for_a_correction_reason(client, world, ev):
    client.force_login(world.user("carol"))
    first = client.post(REPORTS, {"event": ev.pk, "text": "无异常", "zero": "1"})
    assert first.status_code == 302
    again = client.post(REPORTS, {"event": ev.pk, "text": "补报一人"})
    assert again.status_code == 400
    assert "如需更正，请写明更正原因" in again.content.decode()
    assert DailyReport.objects.count() == 1
    client.post(REPORTS, {"event": ev.pk, "text": "补报一人", "correction_reason": "漏报"})
    assert list(DailyReport.objects.order_by("version").values_list("version", "is_zero")) == [(1, True), (2, False)]


def test_a_read_only_leader_cannot_post(client, world, ev):
    s = screen(world, ev, unit=world.west_b1, who="gina")
    client.force_login(world.user("frank"))
    assert client.get(SCREENINGS, {"event": ev.pk}).status_code == 200
    post = client.post(reverse("outbreak:followup_record", args=[s.pk]), {"slot": "am", "temperature": "36.5"})
    assert post.status_code == 403
    assert client.post(REPORTS, {"event": ev.pk, "unit": world.west_c1.pk, "zero": "1"}).status_code == 403
    assert client.get(SCREENING_NEW, {"event": ev.pk}).status_code == 403
    assert "followup-form" not in client.get(FOLLOWUPS, {"event": ev.pk}).content.decode()
    assert FollowUp.objects.count() == 0 and DailyReport.objects.count() == 0


def test_screening_a_resident_by_id_number_then_again_merges(client, world, ev):
    zhang = world.residents["zhang"]
    client.force_login(world.user("carol"))
    form = {
        "event": ev.pk,
        "id_number": zhang.id_number,
        "from_area": "湖北省武汉市江岸区",
        "arrival_date": (TODAY - DAYS(days=1)).isoformat(),
        "found_by": "grid",
        "person_kind": "arrival",
        "household_members": "2",
    }
    response = client.post(SCREENING_NEW, form, follow=True)
    s = Screening.objects.get()
    assert (s.person, s.unit, s.measure) == (zhang, zhang.unit, "home")
    assert "已登记摸排对象：张伟，居家隔离" in response.content.decode()
    response = client.post(SCREENING_NEW, {**form, "found_by": "big_data"}, follow=True)
    assert "已合并到已有记录" in response.content.decode()
    assert Screening.objects.count() == 1 and s.findings.count() == 2


def test_a_visitor_without_a_unit_or_a_future_arrival_gets_a_message_on_the_field(client, world, ev):
    client.force_login(world.user("carol"))
    form = {
        "event": ev.pk,
        "id_number": "X1234567",
        "name": "外地人",
        "from_area": "湖北省",
        "arrival_date": (TODAY - DAYS(days=1)).isoformat(),
        "found_by": "self_report",
        "person_kind": "arrival",
        "household_members": "0",
    }
    page = client.post(SCREENING_NEW, form).content.decode()
    assert "该证件号码不是本辖区的在册居民，请选择所在单位" in page
    future = {**form, "unit": world.east_g1.pk, "arrival_date": (TODAY + DAYS(days=1)).isoformat()}
    assert "抵达日期不能晚于今天" in client.post(SCREENING_NEW, future).content.decode()
    assert Screening.objects.count() == 0


def test_release_due_prints_all_notices_with_masked_ids_for_grid_workers(client, world, ev):
    s = screen(world, ev, unit=world.east_b1, who="carol")
    Screening.objects.filter(pk=s.pk).update(measure_end=TODAY)
    client.force_login(world.user("dave"))
    due = client.get(reverse("outbreak:release_due"), {"event": ev.pk})
    assert [r["obj"].name for r in due.context["rows"]] == ["访客甲"]
    page = client.post(reverse("outbreak:release_due"), {"event": ev.pk}).content.decode()
    assert "解除居家医学观察告知书" in page and "110105********002X" in page
    assert "11010519491231002X" not in page
    s.refresh_from_db()
    assert s.status == "released" and s.notice_number
    client.force_login(world.user("carol"))  # community staff may see full numbers on the notice
    notice = client.get(reverse("outbreak:release_notice", args=[s.pk])).content.decode()
    assert "11010519491231002X" in notice and s.notice_number in notice


def test_event_admin_imports_risk_areas_and_shows_row_errors(client, world, ev):
    client.force_login(world.user("alice"))
    url = reverse("outbreak:risk_area_import", args=[ev.pk])
    bad = client.post(url, {"csv_text": "地区,风险等级,起始日期\n北京市,高,2020-01-01\n上海市,极高,2020-01-01\n"})
    assert bad.status_code == 400
    assert bad.context["import_errors"] == [{"row": 3, "column": "风险等级", "message": "风险等级应为高、中或低"}]
    assert not ev.risk_areas.filter(area="北京市").exists()
    client.post(url, {"csv_text": "北京市,高,2020-01-01\n"})
    assert ev.risk_areas.filter(area="北京市", level="high").exists()
    client.post(
        reverse("outbreak:rule_set", args=[ev.pk]),
        {"person_kind": "arrival", "risk_level": "high", "measure": "central", "days": "21"},
    )
    assert ev.measure_rules.get(person_kind="arrival", risk_level="high").days == 21
    # The street cannot change the district's rules.
    client.force_login(world.user("bob"))
    assert "rule-form" not in client.get(reverse("outbreak:event_detail", args=[ev.pk])).content.decode()
