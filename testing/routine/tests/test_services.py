"""Writes of routine testing: groups, members (and the bad input the issue names), schedules, tests,
imports (all rows or none) and the round samples that count as tests."""

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from openpyxl import Workbook

from core.indicators import Period
from testing import models
from testing.models import KeyGroup, KeyGroupMember, RoutineTest, ScheduleSlot
from testing.routine import services
from testing.routine.tests.factories import START, TODAY, mondays, routine, visitor_id

DAY = dt.timedelta(days=1)


@pytest.fixture
def r(world):
    return routine(world)


def xlsx(headers, rows):
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---- groups ---------------------------------------------------------------------------------------------------


def test_groups_are_data_of_a_unit_renamed_and_retired_never_deleted(world, r):
    bob = world.user("bob")
    with pytest.raises(ValidationError, match="已有名为“社区干部”"):
        services.create_group(unit=world.east, name="社区干部", by=bob)
    extra = services.create_group(unit=world.east, name="快递外卖人员", by=bob)
    services.rename_group(group=extra, name="快递人员", by=bob)
    with pytest.raises(ValidationError) as exc:
        services.retire_group(group=extra, on=TODAY, reason=" ", by=bob)
    assert "retired_reason" in exc.value.message_dict
    services.retire_group(group=extra, on=TODAY, reason="疫情防控政策调整", by=bob)
    extra.refresh_from_db()
    assert (extra.name, extra.retired_on, extra.history.count()) == ("快递人员", TODAY, 3)
    services.create_group(unit=world.east, name="快递人员", by=bob)  # the name is free again
    assert KeyGroup.objects.filter(name="快递人员").count() == 2


@pytest.mark.parametrize("username", ["carol", "dave", "frank", "gina"])
def test_only_the_street_and_above_manage_a_streets_groups(world, r, username):
    with pytest.raises(PermissionDenied):
        services.create_group(unit=world.east, name="新人群", by=world.user(username))
    with pytest.raises(PermissionDenied):
        services.change_schedule(group=r.east, slots=[], valid_from=TODAY, by=world.user(username))


# ---- members --------------------------------------------------------------------------------------------------


def test_a_resident_is_linked_by_id_number_and_gets_his_community(world, r):
    zhang = r.members["zhang"]
    assert (zhang.resident, zhang.name, zhang.phone, zhang.unit) == (
        world.residents["zhang"],
        "张伟",
        "13800000001",
        world.east_c1,
    )
    assert r.members["zhao"].resident is None


def test_bad_members_are_refused_with_the_field_and_nothing_written(world, r):
    carol = world.user("carol")
    before = KeyGroupMember.objects.count()
    cases = [
        (dict(id_number="150599198001010011", name="某", unit=world.east_c1), "id_number"),  # bad check digit
        (dict(id_number=visitor_id(8), unit=world.east_c1), "name"),
        (dict(id_number=world.residents["zhang"].id_number, name="张三"), "name"),  # not the registry's name
        (dict(id_number=visitor_id(9), name="钱七"), "unit"),
        (dict(id_number=visitor_id(10), name="钱七", unit=world.east_c2), "unit"),  # carol's reach is east_c1
        (dict(id_number=visitor_id(11), name="钱七", unit=world.west_c1), "unit"),  # not under the group's unit
        (dict(id_number=visitor_id(12), name="钱七", unit=world.east_c1, batch=0), "batch"),
        (dict(id_number=visitor_id(13), name="钱七", unit=world.east_c1, phone="123"), "phone"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as exc:
            services.add_member(group=r.east, data=services.MemberData(joined_on=TODAY, **kwargs), by=carol)
        assert field in exc.value.message_dict, (kwargs, exc.value.message_dict)
    with pytest.raises(ValidationError, match="不能晚于今天"):
        data = services.MemberData(id_number=visitor_id(14), name="钱七", unit=world.east_c1, joined_on=TODAY + DAY)
        services.add_member(group=r.east, data=data, by=carol)
    assert KeyGroupMember.objects.count() == before


def test_a_person_active_in_the_group_is_refused_and_may_rejoin_after_leaving(world, r):
    bob = world.user("bob")
    zhang = r.members["zhang"]
    data = services.MemberData(id_number=zhang.id_number, joined_on=TODAY)
    with pytest.raises(ValidationError, match="已在本人群中"):
        services.add_member(group=r.east, data=data, by=bob)
    services.leave_group(member=zhang, on=TODAY - 3 * DAY, reason="调离", by=bob)
    with pytest.raises(ValidationError, match="再次纳入不能早于"):
        services.add_member(group=r.east, data=services.MemberData(id_number=zhang.id_number, joined_on=START), by=bob)
    again = services.add_member(group=r.east, data=data, by=bob)
    assert again.pk != zhang.pk and again.left_on is None


def test_leaving_needs_a_reason_and_a_date_not_before_joining(world, r):
    bob = world.user("bob")
    zhao = r.members["zhao"]
    with pytest.raises(ValidationError) as exc:
        services.leave_group(member=zhao, on=START - DAY, reason="调离", by=bob)
    assert "早于纳入日期" in exc.value.message_dict["left_on"][0]
    with pytest.raises(ValidationError) as exc:
        services.leave_group(member=zhao, on=TODAY, reason="", by=bob)
    assert "left_reason" in exc.value.message_dict
    services.record_test(member=zhao, tested_on=TODAY - DAY, by=bob)
    with pytest.raises(ValidationError, match="还有检测记录"):
        services.leave_group(member=zhao, on=TODAY - 2 * DAY, reason="调离", by=bob)
    services.leave_group(member=zhao, on=TODAY, reason="调离", by=bob)
    zhao.refresh_from_db()
    assert (zhao.left_on, zhao.left_reason) == (TODAY, "调离")
    with pytest.raises(ValidationError, match="已于"):
        services.leave_group(member=zhao, on=TODAY, reason="调离", by=bob)


def test_moving_batch_keeps_the_past_on_the_old_row(world, r):
    bob = world.user("bob")
    zhang = r.members["zhang"]
    on = mondays()[2]
    services.record_test(member=zhang, tested_on=mondays()[1], by=bob)
    services.record_test(member=zhang, tested_on=on + DAY, by=bob)
    fresh = services.move_batch(member=zhang, batch=2, on=on, by=bob)
    zhang.refresh_from_db()
    assert (zhang.batch, zhang.left_on, zhang.left_reason) == (1, on, "调整批次：第1批→第2批")
    assert (fresh.batch, fresh.joined_on, fresh.left_on) == (2, on, None)
    assert list(fresh.tests.values_list("tested_on", flat=True)) == [on + DAY]
    assert list(zhang.tests.values_list("tested_on", flat=True)) == [mondays()[1]]
    with pytest.raises(ValidationError, match="批次没有变化"):
        services.move_batch(member=fresh, batch=2, on=TODAY, by=bob)
    with pytest.raises(ValidationError, match="早于纳入日期"):
        services.move_batch(member=fresh, batch=3, on=on - DAY, by=bob)
    same_day = services.move_batch(member=fresh, batch=3, on=on, by=bob)  # nothing past to keep
    assert same_day.pk == fresh.pk and same_day.batch == 3


# ---- schedule -------------------------------------------------------------------------------------------------


def test_a_schedule_change_closes_the_old_slots_and_keeps_the_unchanged(world, r):
    bob = world.user("bob")
    on = TODAY - dt.timedelta(days=TODAY.weekday())
    slots = [
        services.SlotData(weekday=0, batch=1, site="风情街"),
        services.SlotData(weekday=1, batch=2, site="风情街"),
        services.SlotData(weekday=2, batch=3, site="市政府广场"),  # Thursday → Wednesday, another site
    ]
    change = services.change_schedule(group=r.east, slots=slots, valid_from=on, by=bob)
    assert (change.kept, change.closed, change.opened) == (2, 1, 1)
    closed = ScheduleSlot.objects.get(group=r.east, weekday=3)
    assert (closed.valid_from, closed.valid_to) == (START, on - DAY)
    assert ScheduleSlot.objects.get(group=r.east, weekday=2).valid_from == on
    with pytest.raises(ValidationError, match="应晚于该日期"):
        services.change_schedule(group=r.east, slots=slots[:2], valid_from=on, by=bob)


def test_bad_schedules_are_refused(world, r):
    bob = world.user("bob")
    for slots, field in [
        ([services.SlotData(weekday=7, batch=1)], "weekday"),
        ([services.SlotData(weekday=0, batch=1), services.SlotData(weekday=0, batch=1)], "slots"),
        ([services.SlotData(weekday=0, batch=1), services.SlotData(weekday=0, batch=None)], "slots"),
        ([services.SlotData(weekday=0, batch=99)], "batch"),
    ]:
        with pytest.raises(ValidationError) as exc:
            services.change_schedule(group=r.east, slots=slots, valid_from=TODAY, by=bob)
        assert field in exc.value.message_dict


# ---- tests ----------------------------------------------------------------------------------------------------


def test_a_test_is_recorded_once_per_day_and_only_while_a_member(world, r):
    carol = world.user("carol")
    zhang = r.members["zhang"]
    first, created = services.record_test(member=zhang, tested_on=TODAY, site="风情街", by=carol)
    again, created_again = services.record_test(member=zhang, tested_on=TODAY, by=carol)
    assert (created, created_again, again.pk) == (True, False, first.pk)
    with pytest.raises(ValidationError, match="不能晚于今天"):
        services.record_test(member=zhang, tested_on=TODAY + DAY, by=carol)
    with pytest.raises(ValidationError, match="不是本人群的应检人员"):
        services.record_test(member=zhang, tested_on=START - DAY, by=carol)
    with pytest.raises(PermissionDenied):
        services.record_test(member=r.members["li"], tested_on=TODAY, by=carol)  # east_c2
    with pytest.raises(PermissionDenied):
        services.record_test(member=zhang, tested_on=TODAY, by=world.user("frank"))  # read-only


def test_importing_tests_is_all_or_nothing_and_a_second_record_counts_once(world, r):
    bob = world.user("bob")
    zhang, li = r.members["zhang"], r.members["li"]
    monday = mondays()[1]
    good = [
        [zhang.id_number, monday.isoformat(), "风情街"],
        [li.id_number, monday, "风情街"],
        [zhang.id_number, monday.isoformat(), "市政府广场"],  # the same person and day again
    ]
    bad = [*good, [visitor_id(99), monday.isoformat(), ""], [li.id_number, "2022-13-01", ""]]
    result = services.import_tests(content=xlsx(["证件号码", "检测日期", "采样点"], bad), filename="t.xlsx", by=bob)
    assert [(e["row"], e["column"]) for e in result.errors] == [(6, "检测日期"), (5, "证件号码")]
    assert "不是应检人员" in result.errors[1]["message"]
    assert RoutineTest.objects.count() == 0
    result = services.import_tests(content=xlsx(["证件号码", "检测日期", "采样点"], good), filename="t.xlsx", by=bob)
    assert (result.errors, result.created, len(result.duplicates)) == ([], 2, 1)
    assert "与第2行重复" in result.duplicates[0]["message"]
    assert RoutineTest.objects.get(member=zhang).site == "风情街"
    csv = f"证件号码,检测日期\n{zhang.id_number},{monday.isoformat()}\n".encode()
    again = services.import_tests(content=csv, filename="t.csv", by=bob)
    assert (again.created, again.unchanged) == (0, 1)


def test_an_import_outside_the_users_reach_names_the_row(world, r):
    content = xlsx(["证件号码", "检测日期"], [[r.members["li"].id_number, mondays()[1]]])
    result = services.import_tests(content=content, filename="t.xlsx", by=world.user("carol"))
    assert result.errors[0]["row"] == 2 and "管辖范围" in result.errors[0]["message"]
    bad = services.import_tests(content=b"not a table", filename="t.pdf", by=world.user("carol"))
    assert "不是表格文件" in bad.errors[0]["message"]
    missing = services.import_tests(content="姓名\n张伟\n".encode(), filename="t.csv", by=world.user("carol"))
    assert "缺少必填列：证件号码、检测日期" in missing.errors[0]["message"]
    with pytest.raises(PermissionDenied):
        services.import_tests(content=content, filename="t.xlsx", by=world.user("dave"))  # grid workers may not import


MEMBER_HEADERS = ["姓名", "证件号码", "联系电话", "社区", "工作单位", "批次"]


def test_a_roster_import_adds_and_updates_all_rows_or_none(world, r):
    bob = world.user("bob")
    zhang = r.members["zhang"]
    rows = [
        ["孙八", visitor_id(21), "13900000021", "龙兴社区", "安居物业", 3],
        ["张伟", zhang.id_number, "13800000009", "龙兴社区", "龙兴社区居委会", 1],  # already in: updated
        ["李娜", world.residents["li"].id_number, "", "泰丰社区", "", "第1批"],  # unchanged
    ]
    bad = [*rows, ["周九", visitor_id(22), "", "不存在社区", "", 1], ["孙八", visitor_id(21), "", "龙兴社区", "", 1]]
    result = services.import_members(group=r.east, content=xlsx(MEMBER_HEADERS, bad), filename="m.xlsx", by=bob)
    assert [(e["row"], e["column"]) for e in result.errors] == [(5, "社区"), (6, "证件号码")]
    assert "与第2行是同一人" in result.errors[1]["message"]
    assert not KeyGroupMember.objects.filter(name="孙八").exists()
    result = services.import_members(group=r.east, content=xlsx(MEMBER_HEADERS, rows), filename="m.xlsx", by=bob)
    assert (result.errors, result.created, result.updated, result.unchanged) == ([], 1, 1, 1)
    zhang.refresh_from_db()
    assert (zhang.phone, zhang.workplace) == ("13800000009", "龙兴社区居委会")
    sun = KeyGroupMember.objects.get(name="孙八")
    assert (sun.unit, sun.batch, sun.joined_on, sun.resident) == (world.east_c1, 3, TODAY, None)


def test_a_roster_row_that_fails_the_services_rolls_back_the_file(world, r):
    rows = [
        ["孙八", visitor_id(31), "", "龙兴社区", "", 1],
        ["张三", world.residents["zhang"].id_number, "", "龙兴社区", "", 1],  # the registry says 张伟
    ]
    result = services.import_members(
        group=r.east, content=xlsx(MEMBER_HEADERS, rows), filename="m.xlsx", by=world.user("bob")
    )
    assert [(e["row"], e["column"]) for e in result.errors] == [(3, "姓名")]
    assert not KeyGroupMember.objects.filter(name="孙八").exists()


# ---- rounds ---------------------------------------------------------------------------------------------------


def sample_world(world, r, taken_on):
    """A round with one site and table, zhang sampled on ``taken_on`` (and twice: a repeat)."""
    alice = world.user("alice")
    rnd = models.Round.objects.create(
        unit=world.east, name="第一轮", sample_type="pooled", starts_on=taken_on, ends_on=taken_on, created_by=alice
    )
    site = models.SamplingSite.objects.create(round=rnd, unit=world.east_c1, name="龙兴广场")
    table = models.SamplingTable.objects.create(site=site, number=1)
    at = timezone.make_aware(dt.datetime.combine(taken_on, dt.time(9, 30)))
    tube = models.Tube.objects.create(round=rnd, barcode="T1", table=table, capacity=10, filled=2, opened_at=at)
    zhang = world.residents["zhang"]
    first = models.Sample.objects.create(
        round=rnd,
        tube=tube,
        position=1,
        client_id="c1",
        resident=zhang,
        name=zhang.name,
        id_number=zhang.id_number,
        table=table,
        taken_at=at,
    )
    tube2 = models.Tube.objects.create(round=rnd, barcode="T2", table=table, capacity=10, filled=1, opened_at=at)
    models.Sample.objects.create(
        round=rnd,
        tube=tube2,
        position=1,
        client_id="c2",
        name=zhang.name,
        id_number=zhang.id_number,
        table=table,
        taken_at=at,
        repeat_of=first,
    )
    return first


def test_round_samples_become_tests_once(world, r):
    day = mondays()[2] + DAY  # a Tuesday: zhang (batch 1) makes up Monday's cycle in the round
    sample = sample_world(world, r, day)
    period = Period(START, TODAY)
    result = services.record_from_rounds(period=period, by=world.user("bob"))
    assert (result.created, result.existing) == (1, 0)
    test = RoutineTest.objects.get()
    assert (test.member, test.tested_on, test.source, test.sample, test.site) == (
        r.members["zhang"],
        day,
        "round",
        sample,
        "龙兴广场",
    )
    again = services.record_from_rounds(period=period)
    assert (again.created, again.existing) == (0, 1)
    assert RoutineTest.objects.count() == 1
    west = services.record_from_rounds(period=period, by=world.user("gina"))
    assert west.created == 0 and west.samples == 0  # zhang is not hers
