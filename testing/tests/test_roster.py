"""The should-sample list: who is on it, each exemption counted once, door to door, rebuilds, imported people."""

import datetime as dt
from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import Workbook

from outbreak.models import Event, Screening
from testing import services
from testing.models import KeyGroup, KeyGroupMember, RoutineTest, ShouldSample
from testing.tests.rounds_helpers import START, at, make_round, make_site, person, swab

D = START
DAY = dt.timedelta(days=1)


def screening(world, resident, measure, *, start, end=None, status="tracking", released=None):
    event = Event.objects.first() or Event.objects.create(
        unit=world.district, name="三月疫情", disease="新冠", started_on=D - 30 * DAY, report_deadline=dt.time(17)
    )
    return Screening.objects.create(
        event=event,
        unit=resident.unit,
        person=resident,
        name=resident.name,
        id_number=resident.id_number,
        from_area="外省",
        arrival_date=start,
        person_kind="arrival",
        measure=measure,
        measure_start=start,
        measure_end=end,
        status=status,
        status_since=released or start,
        released_on=released,
    )


@pytest.fixture
def street(world):
    """People of 东城街道 around 22 March 2022, each with one fact that matters to the list."""
    b1, b2 = world.east_b1, world.east_b2
    p = {
        "home": person(b1, "居家甲"),
        "central": person(b1, "集中乙"),
        "monitoring": person(b2, "监测丙"),
        "recent_round": person(b2, "近检丁"),
        "recent_routine": person(b1, "应检戊"),
        "previous": person(b1, "上轮己"),
        "away": person(b1, "外出庚", status="away", status_since=D - 40 * DAY),
        "away_later": person(b1, "后出辛", status="away", status_since=D + 10 * DAY),
        "arrived_later": person(b1, "新来壬", arrived=D + DAY),
        "left": person(b1, "迁出癸", left=D - DAY, status="moved_out"),
        "disabled": person(b2, "残疾子", tags=["残疾"]),
        "old_alone": person(b2, "独居丑", birth=dt.date(1938, 5, 1)),
        "released": person(b1, "解除寅"),
        "no_measure": person(b1, "无需卯"),
    }
    spouse_home = p["old_alone"].household
    p["old_couple"] = person(b2, "老伴辰", birth=dt.date(1939, 1, 1))
    p["old_couple_2"] = person(b2, "老伴巳", birth=dt.date(1940, 1, 1), household=p["old_couple"].household)
    assert spouse_home != p["old_couple"].household
    screening(world, p["home"], "home", start=D - 3 * DAY, end=D + 11 * DAY)
    screening(world, p["central"], "central", start=D - DAY, end=D + 6 * DAY)
    screening(
        world, p["monitoring"], "monitoring", start=D - 5 * DAY, end=D + 2 * DAY, status="released", released=D + DAY
    )
    screening(
        world, p["released"], "home", start=D - 20 * DAY, end=D + 20 * DAY, status="released", released=D - 2 * DAY
    )
    screening(world, p["no_measure"], "none", start=D - 2 * DAY)
    # The central one was also tested yesterday: he counts once, under 集中隔离.
    other = make_round(world, name="重点区域检测", starts=D - DAY, scope=("east_c2",), sample_type="single")
    table = make_site(world, other, world.east_c2, "临时点").tables.get()
    swab(other, table, p["recent_round"], taken_at=at(D - DAY, 10))
    swab(other, table, p["central"], taken_at=at(D - DAY, 10))
    swab(other, table, world.residents["li"], taken_at=at(D - 3 * DAY, 10))  # outside the 48 hours
    group = KeyGroup.objects.create(unit=world.east, name="社区干部")
    r = p["recent_routine"]
    member = KeyGroupMember.objects.create(
        group=group, resident=r, name=r.name, id_number=r.id_number, unit=world.east_c1, joined_on=D - 60 * DAY
    )
    RoutineTest.objects.create(member=member, tested_on=D - 2 * DAY, source="routine")
    drill = make_round(world, name="演练", starts=D - 7 * DAY, sample_type="single")
    drill_table = make_site(world, drill, world.east_c1, "演练点").tables.get()
    swab(drill, drill_table, p["previous"], taken_at=at(D - 7 * DAY))
    p["drill"] = drill
    return p


def plan(world, street, **kw):
    r = make_round(world, previous_round=street["drill"], **kw)
    s1 = make_site(world, r, world.east_c1, "龙兴一号点", [world.east_b1], fixed=2)
    s2 = make_site(world, r, world.east_c2, "泰丰一号点", [world.east_b2], fixed=1, mobile=1)
    return r, s1, s2


def rows(r):
    return {x.name: x for x in ShouldSample.objects.filter(round=r)}


def test_the_list_counts_each_reason_once_and_keeps_out_who_was_not_there(world, street):
    r, s1, s2 = plan(world, street)
    built = services.build_roster(round_=r, by=world.user("bob"))
    listed = rows(r)
    assert sorted(listed) == sorted(
        [
            "张伟",
            "李娜",
            "居家甲",
            "集中乙",
            "监测丙",
            "近检丁",
            "应检戊",
            "上轮己",
            "后出辛",
            "残疾子",
            "独居丑",
            "解除寅",
            "无需卯",
            "老伴辰",
            "老伴巳",
        ]
    )  # not: 王芳 (west), 外出庚 (away before), 新来壬 (came after), 迁出癸 (left)
    assert built.mode == "rebuilt" and built.people == built.added == 15
    assert built.by_exemption == {"home": 1, "central": 1, "monitoring": 1, "recent_test": 2, "previous_round": 1}
    assert listed["集中乙"].exemption == "central"  # also tested within 48 hours: counted once, first reason
    assert listed["李娜"].exemption == ""  # tested 3 days before: outside the window
    assert {n for n, x in listed.items() if x.needs_door_to_door} == {"残疾子", "独居丑"}
    assert built.door_to_door == 2
    assert listed["居家甲"].site == s1 and listed["残疾子"].site == s2
    assert (listed["张伟"].unit, listed["张伟"].resident) == (world.east_b1, world.residents["zhang"])
    r.refresh_from_db()
    assert r.roster_built_at is not None


def test_without_exemption_settings_only_measures_exempt(world, street):
    r = make_round(world, recent_test_hours=0)
    built = services.build_roster(round_=r, by=world.user("bob"))
    assert built.by_exemption == {"home": 1, "central": 1, "monitoring": 1}


def test_rebuilding_before_sampling_replaces_the_list_and_after_only_adds(world, street):
    r, s1, _s2 = plan(world, street)
    bob = world.user("bob")
    services.build_roster(round_=r, by=bob)
    latecomer = person(world.east_b1, "补登午", arrived=D - 100 * DAY)
    again = services.build_roster(round_=r, by=bob)
    assert (again.mode, again.people, again.added) == ("rebuilt", 16, 16)
    # Sampling starts; a screening found later would change a reason, but the list under way stays.
    swab(r, s1.tables.first(), world.residents["zhang"])
    screening(world, world.residents["zhang"], "home", start=D - DAY)
    person(world.east_b1, "再登未", arrived=D - 100 * DAY)
    third = services.build_roster(round_=r, by=bob)
    assert (third.mode, third.people, third.added) == ("added", 17, 1)
    assert rows(r)["张伟"].exemption == "" and rows(r)["补登午"].pk == ShouldSample.objects.get(name="补登午").pk
    assert latecomer.pk


def test_building_the_list_is_the_streets_job(world, street):
    r, _s1, _s2 = plan(world, street)
    for who in ("carol", "dave", "gina", "frank"):
        with pytest.raises(PermissionDenied):
            services.build_roster(round_=r, by=world.user(who))
    services.set_status(round_=r, status="closed", by=world.user("bob"))
    with pytest.raises(ValidationError, match="本轮已结束"):
        services.build_roster(round_=r, by=world.user("bob"))


def xlsx(rows, headers=("姓名", "证件号码", "联系电话", "所在楼栋", "工作单位", "从业场所类型")):
    wb = Workbook()
    ws = wb.active
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def test_imported_workers_join_the_list_with_their_site_and_reasons(world, street):
    r, _s1, s2 = plan(world, street)
    bob = world.user("bob")
    services.build_roster(round_=r, by=bob)
    content = xlsx(
        [
            ("工人甲", "11010519491231002X", "13911112222", "2号楼", "某工地", "工地"),
            ("店员乙", "E1234567", "", world.east_b1.code, "便民超市", "商铺"),
        ]
    )
    result = services.import_extra_people(round_=r, content=content, filename="w.xlsx", by=bob)
    assert (result.errors, result.created) == ([], 2)
    listed = rows(r)
    assert (listed["工人甲"].site, listed["工人甲"].workplace_kind, listed["工人甲"].resident) == (s2, "工地", None)
    assert listed["店员乙"].unit == world.east_b1
    # A rebuild keeps them (and recomputes their reasons).
    again = services.build_roster(round_=r, by=bob)
    assert again.people == 17 and ShouldSample.objects.filter(round=r, resident__isnull=True).count() == 2


def test_a_bad_workers_file_names_row_column_and_reason_and_adds_nobody(world, street):
    r, _s1, _s2 = plan(world, street)
    bob = world.user("bob")
    services.build_roster(round_=r, by=bob)
    content = xlsx(
        [
            ("工人甲", "11010519491231002X", "", "2号楼", "", ""),
            ("工人乙", "11010519491231002X", "", "2号楼", "", ""),
            ("", "110105194912310022", "12", "9号楼", "", ""),
            ("张伟", world.residents["zhang"].id_number, "", "1号楼", "", ""),
            ("外街", "E7654321", "", "3号楼", "", ""),
        ]
    )
    result = services.import_extra_people(round_=r, content=content, filename="w.xlsx", by=bob)
    assert result.created == 0
    assert [(e["row"], e["column"]) for e in result.errors] == [
        (3, "证件号码"),
        (4, "姓名"),
        (4, "联系电话"),
        (4, "证件号码"),
        (5, "证件号码"),
        (6, "所在楼栋"),
    ]
    assert "与第2行是同一证件号码" in result.errors[0]["message"]
    assert "已在本轮应检名单中" in result.errors[4]["message"]
    assert "检测范围内没有“3号楼”" in result.errors[5]["message"]
    assert not ShouldSample.objects.filter(round=r, resident__isnull=True).exists()
    with pytest.raises(ValidationError, match="缺少必填列"):
        services.import_extra_people(round_=r, content=xlsx([("a",)], headers=("姓名",)), filename="w.xlsx", by=bob)
