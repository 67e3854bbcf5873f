"""The round's plan and results through the services: validation, one site per building, one sampler per
table, expected duration, nothing deleted, results all-or-nothing with corrections, handover."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from outbreak.models import Screening
from outbreak.tests.factories import event
from testing import selectors, services
from testing.models import RoundStaff, SamplingSite, SamplingTable, TubeResult
from testing.services import RoundData, StaffData
from testing.tests.rounds_helpers import START, at, make_round, make_site, person, swab

D = START


def test_a_round_is_checked_before_it_is_made(world):
    bob = world.user("bob")
    with pytest.raises(ValidationError) as err:
        services.create_round(
            unit=world.east,
            data=RoundData(
                name=" ", sample_type="x", starts_on=D, ends_on=D - dt.timedelta(days=1), scope_units=[world.west_c1]
            ),
            by=bob,
        )
    assert set(err.value.message_dict) == {"name", "sample_type", "ends_on", "scope_units"}
    assert "检测范围应在东城街道之内：辽河社区" in err.value.message_dict["scope_units"][0]
    with pytest.raises(PermissionDenied):
        make_round(world, by="carol")  # a community does not organise the street's round
    west = services.create_round(
        unit=world.west,
        data=RoundData(name="西城", sample_type="single", starts_on=D, ends_on=D, scope_units=[world.west_c1]),
        by=world.user("gina"),
    )
    with pytest.raises(ValidationError, match="上一轮应是同一单位组织的轮次"):
        make_round(world, previous_round=west)


def test_editing_the_plan_after_sampling_started_keeps_the_list_settings(world):
    bob = world.user("bob")
    r = make_round(world)
    site = make_site(world, r, world.east_c1, "一号点", [world.east_b1])
    services.build_roster(round_=r, by=bob)
    data = RoundData(
        name="改名", sample_type="pooled", starts_on=D, ends_on=D, scope_units=[world.east_c1], recent_test_hours=24
    )
    changed = services.update_round(round_=r, data=data, by=bob)
    assert changed.roster_built_at is None  # the list was made by other settings: build it again
    services.build_roster(round_=r, by=bob)
    swab(r, site.tables.get(), world.residents["zhang"])
    with pytest.raises(ValidationError) as err:
        services.update_round(
            round_=r,
            data=RoundData(
                name="改名",
                sample_type="single",
                starts_on=D,
                ends_on=D,
                scope_units=[world.east_c1, world.east_c2],
                recent_test_hours=24,
            ),
            by=bob,
        )
    assert set(err.value.message_dict) == {"sample_type", "scope_units"}
    later = services.update_round(
        round_=r,
        data=RoundData(
            name="第一轮（延长）",
            sample_type="pooled",
            starts_on=D,
            ends_on=D + dt.timedelta(days=1),
            scope_units=[world.east_c1],
            recent_test_hours=24,
        ),
        by=bob,
    )
    assert (later.name, later.ends_on) == ("第一轮（延长）", D + dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="已有采样记录"):
        services.set_status(round_=r, status="planned", by=bob)


def test_a_round_starts_only_with_its_list(world):
    r = make_round(world)
    with pytest.raises(ValidationError, match="请先生成应检名单"):
        services.set_status(round_=r, status="running", by=world.user("bob"))


def test_one_site_per_building_and_retiring_frees_it(world):
    bob = world.user("bob")
    r = make_round(world)
    first = make_site(world, r, world.east_c1, "一号点", [world.east_b1])
    second = make_site(world, r, world.east_c1, "二号点")
    with pytest.raises(ValidationError) as err:
        services.assign_buildings(site=second, buildings=[world.east_b1, world.west_b1, world.east_g1], by=bob)
    assert err.value.message_dict["buildings"] == [
        "3号楼不在本轮检测范围内",
        "第一网格不是楼栋",
        "第一网格1号楼已分配给采样点“一号点”（一栋楼每轮只属于一个采样点）",
    ]
    assert services.assign_buildings(site=first, buildings=[world.east_b1], by=bob) == 0  # already its own
    with pytest.raises(ValidationError, match="请填写撤销原因"):
        services.retire_site(site=first, reason=" ", by=bob)
    services.retire_site(site=first, reason="场地改作隔离点", by=bob)
    assert services.assign_buildings(site=second, buildings=[world.east_b1], by=bob) == 1
    first.refresh_from_db()
    assert first.retired_reason == "场地改作隔离点" and SamplingSite.objects.filter(round=r).count() == 2  # kept
    assert not first.tables.filter(retired_at__isnull=True).exists()
    # Another round may use the same building.
    other = make_round(world, name="第二轮", starts=D + dt.timedelta(days=3))
    make_site(world, other, world.east_c1, "一号点", [world.east_b1])
    with pytest.raises(ValidationError, match="本轮已有同名采样点"):
        services.add_site(round_=other, unit=world.east_c1, name="一号点", by=bob)


def test_tables_are_numbered_per_site_and_kind(world):
    bob = world.user("bob")
    r = make_round(world)
    site = make_site(world, r, world.east_c1, "一号点", fixed=2, mobile=1)
    more = services.add_tables(site=site, kind="fixed", count=2, by=bob)
    assert [t.number for t in more] == [3, 4]
    services.retire_table(table=more[0], reason="采样人员不足", by=bob)
    assert [str(t) for t in SamplingTable.objects.filter(site=site, retired_at__isnull=True)] == [
        "一号点 固定采样台1",
        "一号点 固定采样台2",
        "一号点 固定采样台4",
        "一号点 流动采样组1",
    ]


def test_staff_by_role_one_sampler_per_table_and_expected_hours(world):
    bob = world.user("bob")
    r = make_round(world, table_rate_per_hour=100)
    s1 = make_site(world, r, world.east_c1, "一号点", [world.east_b1], fixed=2)
    s2 = make_site(world, r, world.east_c2, "二号点", [world.east_b2], fixed=1, mobile=1)
    for k in range(5):
        person(world.east_b1, f"居民{k}")
    services.build_roster(round_=r, by=bob)
    t1, t2 = s1.tables.order_by("number")
    services.add_staff(round_=r, data=StaffData(role="sampler", name="甲", table=t1), by=bob)
    services.add_staff(round_=r, data=StaffData(role="sampler", name="乙", table=t1), by=bob)
    services.add_staff(round_=r, data=StaffData(role="sampler", name="丙", site=s2), by=bob)
    services.add_staff(round_=r, data=StaffData(role="transport", name="丁", vehicle_plate="蒙G12345"), by=bob)
    services.add_staff(round_=r, data=StaffData(role="transport", name="戊", vehicle_plate="蒙G 12345"), by=bob)
    with pytest.raises(ValidationError) as err:
        services.add_staff(round_=r, data=StaffData(role="transport", name="己", table=t2), by=bob)
    assert set(err.value.message_dict) == {"vehicle_plate", "table"}
    p = selectors.plan(r)
    assert [str(t) for t in SamplingTable.objects.filter(pk__in=p.check.without).order_by("pk")] == [
        "一号点 固定采样台2",
        "二号点 固定采样台1",
        "二号点 流动采样组1",
    ]
    assert (p.check.extra, p.check.unassigned, p.check.ok) == ({t1.pk: 1}, 1, False)
    assert (p.staff["sampler"], p.staff["transport"], p.staff["vehicles"], p.staff["total"]) == (3, 2, 1, 5)
    by_site = {x.site.name: x for x in p.sites}
    assert (by_site["一号点"].people, by_site["一号点"].hours) == (6, 6 / 200)
    assert p.hours == max(6 / 200, 1 / 100)
    services.retire_staff(staff=RoundStaff.objects.get(name="乙"), reason="身体不适", by=bob)
    assert selectors.plan(r).check.extra == {}
    assert RoundStaff.objects.filter(round=r).count() == 5  # retired, not deleted


def test_copying_a_plan_for_the_second_day(world):
    bob = world.user("bob")
    first = make_round(world, name="10月11日")
    s = make_site(world, first, world.east_c1, "一号点", [world.east_b1], fixed=2, mobile=1)
    services.add_staff(round_=first, data=StaffData(role="sampler", name="甲", table=s.tables.first()), by=bob)
    second = make_round(world, name="10月13日", starts=D + dt.timedelta(days=2))
    assert services.copy_plan(source=first, target=second, by=bob) == 1
    copy = SamplingSite.objects.get(round=second)
    assert list(copy.buildings.all()) == [world.east_b1] and copy.tables.count() == 3
    assert RoundStaff.objects.get(round=second).table.site == copy
    with pytest.raises(ValidationError, match="已有采样点"):
        services.copy_plan(source=first, target=second, by=bob)


@pytest.fixture
def sampled(world):
    r = make_round(world)
    site = make_site(world, r, world.east_c1, "一号点", [world.east_b1])
    services.build_roster(round_=r, by=world.user("bob"))
    first = swab(r, site.tables.get(), world.residents["zhang"], taken_at=at(D, 8))
    swab(r, site.tables.get(), world.residents["li"], tube=first.tube)
    return r, first.tube


def csv(*lines):
    return ("试管条码,检测结果,检测时间,检测机构,更正原因\n" + "\n".join(lines)).encode()


def test_results_are_all_or_nothing_and_a_correction_needs_a_reason(world, sampled):
    r, tube = sampled
    bob = world.user("bob")
    imported = services.import_results(
        round_=r, content=csv(f"{tube.barcode},阴性,{D} 20:00,市疾控,"), filename="r.csv", by=bob
    )
    assert (imported.created, imported.errors) == (1, [])
    again = services.import_results(
        round_=r, content=csv(f"{tube.barcode},阴性,{D} 20:00,市疾控,"), filename="r.csv", by=bob
    )
    assert (again.created, again.unchanged) == (0, 1)
    refused = services.import_results(
        round_=r,
        content=csv(
            f"{tube.barcode},阳性,{D} 21:00,市疾控,",
            f"{tube.barcode},阳性,{D} 21:00,市疾控,",
            f"{tube.barcode},阳性,{D - dt.timedelta(days=1)} 21:00,,",
        ),
        filename="r.csv",
        by=bob,
    )
    assert [(e["row"], e["column"]) for e in refused.errors] == [(2, "更正原因"), (3, "试管条码"), (4, "试管条码")]
    early = services.import_results(
        round_=r, content=csv(f"{tube.barcode},阳性,{D - dt.timedelta(days=1)} 21:00,,x"), filename="r.csv", by=bob
    )
    assert [(e["column"], e["message"]) for e in early.errors] == [("检测时间", "检测时间早于该试管开管时间")]
    assert "该试管已有结果“阴性”，更正为“阳性”需填写更正原因" in refused.errors[0]["message"]
    fixed = services.import_results(
        round_=r, content=csv(f"{tube.barcode},阳性,{D} 21:00,市疾控,复核阳性"), filename="r.csv", by=bob
    )
    assert (fixed.updated, fixed.errors) == (1, [])
    results = list(TubeResult.objects.filter(tube=tube).order_by("id"))
    assert [(x.result, x.superseded_at is not None, x.correction_reason) for x in results] == [
        ("negative", True, ""),
        ("positive", False, "复核阳性"),
    ]
    with pytest.raises(PermissionDenied):
        services.import_results(round_=r, content=csv(), filename="r.csv", by=world.user("dave"))


def test_handing_over_a_positive_pool(world, sampled):
    r, tube = sampled
    bob = world.user("bob")
    ev = event(world, started=D - dt.timedelta(days=5))
    with pytest.raises(ValidationError, match="没有阳性结果"):
        services.hand_over_positive(tube=tube, event=ev, by=bob, today=D + dt.timedelta(days=1))
    services.import_results(round_=r, content=csv(f"{tube.barcode},阳性,{D} 20:00,市疾控,"), filename="r.csv", by=bob)
    with pytest.raises(PermissionDenied):  # dave's grid holds only one of the two
        services.hand_over_positive(tube=tube, event=ev, by=world.user("dave"), today=D + dt.timedelta(days=1))
    assert not Screening.objects.exists()
    out = services.hand_over_positive(tube=tube, event=ev, by=bob, measure="central", today=D + dt.timedelta(days=1))
    assert (len(out.screenings), out.merged, out.skipped) == (2, 0, 0)
    s = Screening.objects.get(name="张伟")
    assert (s.measure, s.status, s.arrival_date, s.person, s.unit) == (
        "central",
        "tracking",
        D,
        world.residents["zhang"],
        world.east_b1,
    )
    finding = s.findings.get()
    assert "试管" in finding.note and finding.get_found_by_display() == "核酸筛查"
    assert services.hand_over_positive(tube=tube, event=ev, by=bob, today=D + dt.timedelta(days=1)).skipped == 2
    ev.status = "closed"
    ev.save()
    with pytest.raises(ValidationError, match="已结束"):
        services.hand_over_positive(tube=tube, event=ev, by=bob)
