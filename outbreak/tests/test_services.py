"""Writes of outbreak response against the database: screening, follow-up, release, checkpoints, reports."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from outbreak import services
from outbreak.models import Alert, CheckpointEntry, DailyReport, Finding, FollowUp, PassRule, Screening
from outbreak.selectors import daily_counts, quarantine_now, report_table
from outbreak.services import CrossingData, ScreeningData
from outbreak.tests.factories import event

TODAY = timezone.localdate()
DAYS = dt.timedelta


@pytest.fixture
def ev(world):
    return event(world)


def screen(
    world, ev, *, who="carol", unit=None, person=None, arrival=None, area="湖北省武汉市江岸区", today=None, **kw
):
    data = ScreeningData(
        from_area=area,
        arrival_date=arrival or TODAY - DAYS(days=2),
        found_by=kw.pop("found_by", "grid"),
        person=person,
        name=kw.pop("name", "" if person else "访客甲"),
        id_number=kw.pop("id_number", "" if person else "11010519491231002X"),
        **kw,
    )
    return services.screen_person(event=ev, unit=unit or world.east_b1, data=data, by=world.user(who), today=today)


def test_a_person_from_a_high_risk_area_gets_fourteen_days_at_home(world, ev):
    s, merged = screen(world, ev, person=world.residents["zhang"])
    assert (merged, s.risk_level, s.measure, s.status) == (False, "high", "home", "tracking")
    assert s.measure_end == TODAY - DAYS(days=2) + DAYS(days=14)
    assert s.household == world.households["zhang"]


def test_the_same_person_found_twice_is_merged_not_counted_twice(world, ev):
    first, _ = screen(world, ev)
    again, merged = screen(world, ev, found_by="big_data", who="bob", id_number="11010519491231002x")
    assert (merged, again.pk) == (True, first.pk)
    assert Screening.objects.count() == 1
    assert list(Finding.objects.values_list("found_by", flat=True)) == ["grid", "big_data"]
    assert daily_counts(ev, world.east, TODAY)["screened_total"] == 1


def test_an_arrival_after_today_is_refused(world, ev):
    with pytest.raises(ValidationError) as err:
        screen(world, ev, arrival=TODAY + DAYS(days=1))
    assert err.value.message_dict["arrival_date"] == ["抵达日期不能晚于今天"]
    assert Screening.objects.count() == 0


def test_screening_outside_the_users_unit_is_refused(world, ev):
    with pytest.raises(PermissionDenied):
        screen(world, ev, unit=world.west_b1, who="carol")


def test_a_fever_raises_an_alert_and_bad_temperatures_are_refused(world, ev):
    s, _ = screen(world, ev)
    dave = world.user("dave")
    for bad in ("25", "45", "abc"):
        with pytest.raises(ValidationError, match="体温"):
            services.record_follow_up(screening=s, date=TODAY, slot="am", temperature=bad, symptoms=[], by=dave)
    services.record_follow_up(screening=s, date=TODAY, slot="am", temperature="37.6", symptoms=["咳嗽"], by=dave)
    assert sorted(Alert.objects.values_list("kind", flat=True)) == ["fever", "symptom"]
    with pytest.raises(ValidationError, match="已登记"):
        services.record_follow_up(screening=s, date=TODAY, slot="am", temperature="36.5", symptoms=[], by=dave)
    assert FollowUp.objects.count() == 1


def test_no_follow_up_after_release_and_no_release_before_the_end(world, ev):
    s, _ = screen(world, ev, arrival=TODAY - DAYS(days=14), today=TODAY - DAYS(days=13))
    carol = world.user("carol")
    services.release(screening=s, on=TODAY, by=carol)
    s.refresh_from_db()
    assert (s.status, s.released_on, s.notice_number) == ("released", TODAY, f"{ev.pk}-00001")
    with pytest.raises(ValidationError, match="已解除"):
        services.record_follow_up(screening=s, date=TODAY, slot="pm", temperature="36.5", symptoms=[], by=carol)
    early, _ = screen(world, ev, name="访客乙", id_number="P0000042")
    with pytest.raises(ValidationError, match="未到解除日期"):
        services.release(screening=early, on=TODAY, by=carol)


def test_bulk_release_of_everyone_due_today(world, ev):
    due = [
        screen(
            world, ev, name=f"到期{k}", id_number=f"P{k:07d}", arrival=TODAY - DAYS(days=14), today=TODAY - DAYS(days=9)
        )[0]
        for k in range(3)
    ]
    screen(world, ev, name="未到期", id_number="P9999999", arrival=TODAY - DAYS(days=3))
    released = services.release_due(event=ev, unit=world.east, on=TODAY, by=world.user("bob"))
    assert sorted(s.pk for s in released) == sorted(s.pk for s in due)
    assert daily_counts(ev, world.east, TODAY)["released"] == 3


def test_people_not_seen_for_days_are_flagged_once(world, ev):
    s, _ = screen(world, ev, arrival=TODAY - DAYS(days=5))
    services.record_follow_up(
        screening=s, date=TODAY - DAYS(days=4), slot="am", temperature="36.5", symptoms=[], by=world.user("dave")
    )
    assert services.flag_not_seen(event=ev, today=TODAY) == 1
    assert services.flag_not_seen(event=ev, today=TODAY) == 0


def test_home_quarantine_counts_households_and_people(world, ev):
    screen(world, ev, person=world.residents["zhang"])
    screen(world, ev, name="同户", id_number="P1", address="1号楼101")
    screen(world, ev, name="同户2", id_number="P2", address="1号楼101")
    q = quarantine_now(ev, world.east, TODAY, "home")
    assert (q.households, q.people) == (2, 3)


# ---- checkpoints -------------------------------------------------------------------------------------------------


@pytest.fixture
def gate(world, ev):
    from outbreak.models import Checkpoint

    cp = Checkpoint.objects.create(unit=world.east_c1, event=ev, name="北门")
    PassRule.objects.create(event=ev, unit=world.east_c1, max_exits=1, days=2, valid_from=TODAY - DAYS(days=30))
    return cp


def cross(world, gate, client_id, direction="out", **kw):
    kw.setdefault("person", world.residents["zhang"])
    return services.register_crossing(
        checkpoint=gate, data=CrossingData(client_id=client_id, direction=direction, **kw), by=world.user("dave")
    )


def test_a_retry_with_the_same_client_id_is_not_a_second_entry(world, gate):
    first = cross(world, gate, "c-1")
    again = cross(world, gate, "c-1")
    assert (first.created, again.created, again.entry.pk) == (True, False, first.entry.pk)
    assert CheckpointEntry.objects.count() == 1


def test_a_second_exit_in_two_days_is_a_breach_refused_unless_allowed(world, gate):
    now = timezone.now()
    cross(world, gate, "c-1", at=now - DAYS(hours=3))
    with pytest.raises(ValidationError) as err:
        cross(world, gate, "c-2", at=now)
    assert "超过每2天1人次" in err.value.message_dict["allow_reason"][0]
    allowed = cross(world, gate, "c-3", at=now, allow_reason="就医")
    assert (allowed.entry.breach != "", allowed.entry.allowed_reason) == (True, "就医")
    assert CheckpointEntry.objects.count() == 2


def test_a_person_already_inside_cannot_enter_again(world, gate):
    now = timezone.now()
    cross(world, gate, "c-1", direction="in", at=now - DAYS(minutes=30))
    with pytest.raises(ValidationError, match="尚未登记出去"):
        cross(world, gate, "c-2", direction="in", at=now)


def test_strangers_and_vehicles_are_registered_in_full(world, gate):
    r = cross(
        world, gate, "v-1", direction="in", person=None, plate="蒙g12345", vehicle_type="express", temperature="36.4"
    )
    assert (r.entry.plate, r.entry.vehicle_type, str(r.entry.temperature)) == ("蒙G12345", "express", "36.4")
    with pytest.raises(ValidationError, match="姓名或车牌号"):
        cross(world, gate, "v-2", direction="in", person=None)


# ---- daily reports ------------------------------------------------------------------------------------------------


def test_daily_report_counts_from_the_ledgers_and_corrections_are_versions(world, ev):
    screen(world, ev, arrival=TODAY - DAYS(days=1), found_on=TODAY)
    carol = world.user("carol")
    report = services.submit_daily_report(event=ev, unit=world.east_c1, date=TODAY, by=carol, text="正常")
    assert (report.counts["new_screened"], report.counts["home_quarantine"], report.version) == (1, 1, 1)
    with pytest.raises(ValidationError, match="已于"):
        services.submit_daily_report(event=ev, unit=world.east_c1, date=TODAY, by=carol)
    fixed = services.submit_daily_report(event=ev, unit=world.east_c1, date=TODAY, by=carol, correction_reason="补报")
    assert (fixed.version, DailyReport.objects.count()) == (2, 2)
    report.refresh_from_db()
    assert report.text == "正常"


def test_a_zero_report_on_a_day_with_news_is_refused_and_a_future_date_too(world, ev):
    carol = world.user("carol")
    with pytest.raises(ValidationError, match="未来日期"):
        services.submit_daily_report(event=ev, unit=world.east_c1, date=TODAY + DAYS(days=1), by=carol, zero=True)
    zero = services.submit_daily_report(event=ev, unit=world.east_c2, date=TODAY, by=world.user("bob"), zero=True)
    assert zero.is_zero
    screen(world, ev, found_on=TODAY)
    with pytest.raises(ValidationError, match="零报告"):
        services.submit_daily_report(event=ev, unit=world.east_c1, date=TODAY, by=carol, zero=True)


def test_the_upper_level_sees_on_time_late_and_missing(world, ev):
    day = TODAY - DAYS(days=1)
    tz = timezone.get_current_timezone()
    on_time = dt.datetime.combine(day, dt.time(16, 30), tzinfo=tz)
    late = dt.datetime.combine(day, dt.time(18, 5), tzinfo=tz)
    services.submit_daily_report(event=ev, unit=world.east_c1, date=day, by=world.user("carol"), zero=True, now=on_time)
    services.submit_daily_report(event=ev, unit=world.east_c2, date=day, by=world.user("bob"), zero=True, now=late)
    table = report_table(ev, world.district, day)
    status = {row.unit.name: row.status for row in table.rows}
    assert status == {"龙兴社区": "on_time", "泰丰社区": "late", "辽河社区": "missing"}
    assert (str(table.completeness), str(table.timeliness)) == ("66.67", "33.33")
    assert [r.unit.name for r in report_table(ev, world.west, day).rows] == ["辽河社区"]


def test_risk_areas_import_all_or_nothing_with_row_errors(world, ev):
    result = services.import_risk_areas(
        event=ev,
        csv_text="地区,风险等级,起始日期\n上海市,高,2022-03-28\n北京市,极高,2022-03-28\n",
        by=world.user("alice"),
    )
    assert result.created == 0
    assert result.errors == [{"row": 3, "column": "风险等级", "message": "风险等级应为高、中或低"}]
    ok = services.import_risk_areas(
        event=ev, csv_text="上海市,高,2022-03-28\n北京市,中,2022-04-01,2022-05-01\n", by=world.user("alice")
    )
    assert ok.created == 2 and ev.risk_areas.count() == 4
