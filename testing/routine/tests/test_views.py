"""The 应检尽检 pages as the users see them: scoped lists, forms that refuse bad input with the
service's words, the missed list of a cycle with its notify export and make-up button."""

import datetime as dt
import io
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AccessLog
from core.testing import USERS
from testing.models import KeyGroup, KeyGroupMember, RoutineTest, ScheduleSlot
from testing.routine import services
from testing.routine.tests.factories import START, TODAY, mondays, routine, visitor_id
from testing.routine.tests.test_selectors import VISIBLE
from testing.routine.tests.test_services import xlsx

OVERVIEW = reverse("testing:routine_overview")
DAY = dt.timedelta(days=1)


@pytest.fixture
def r(world):
    return routine(world)


def login(client, world, username):
    client.force_login(world.user(username))
    return client


def sheet(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return [[c.value for c in row] for row in load_workbook(BytesIO(response.content)).active.iter_rows()]


def test_no_groups_is_an_empty_state_with_a_create_link_for_the_street_only(client, world):
    page = login(client, world, "bob").get(OVERVIEW).text
    assert "还没有应检人群" in page and reverse("testing:routine_group_create") in page
    page = login(client, world, "carol").get(OVERVIEW).text
    assert "还没有应检人群" in page and reverse("testing:routine_group_create") not in page


def test_the_overview_counts_the_users_members(client, world, r):
    page = login(client, world, "carol").get(OVERVIEW).text
    assert 'data-key="members">2<' in page and "社区干部" in page and "物业人员" not in page
    assert "龙兴社区" in page and "泰丰社区" not in page
    assert 'id="chart-completion"' in page and "routine-chart-data" in page
    page = login(client, world, "alice").get(OVERVIEW).text
    assert 'data-key="members-total">4<' in page


def test_a_street_makes_a_group_and_sets_its_schedule(client, world):
    c = login(client, world, "bob")
    response = c.post(reverse("testing:routine_group_create"), {"name": "快递人员", "unit": world.east.pk})
    group = KeyGroup.objects.get(name="快递人员")
    assert response.url == reverse("testing:routine_schedule", args=[group.pk])
    form = {
        "slot-TOTAL_FORMS": "4",
        "slot-INITIAL_FORMS": "0",
        "slot-0-weekday": "0",
        "slot-0-batch": "1",
        "slot-0-site": "风情街",
        "slot-1-weekday": "1",
        "slot-1-batch": "2",
        "slot-1-site": "风情街",
        "slot-2-weekday": "",
        "slot-3-weekday": "",
        "valid_from": TODAY.isoformat(),
    }
    assert c.post(reverse("testing:routine_schedule", args=[group.pk]), form).status_code == 302
    assert ScheduleSlot.objects.filter(group=group, valid_to__isnull=True).count() == 2
    page = c.get(reverse("testing:routine_schedule", args=[group.pk])).text
    assert "周一" in page and "第1批" in page
    form["slot-2-weekday"], form["slot-2-batch"] = "0", ""  # Monday for everyone and for batch 1
    refused = c.post(reverse("testing:routine_schedule", args=[group.pk]), form)
    assert refused.status_code == 400 and "既有分批次安排又有不分批次安排" in refused.text
    carol = login(client, world, "carol")
    assert carol.post(reverse("testing:routine_schedule", args=[group.pk]), form).status_code == 403
    assert carol.get(reverse("testing:routine_group_create")).status_code == 403


def test_a_group_page_lists_only_the_users_members_filters_and_exports_masked(client, world, r):
    url = reverse("testing:routine_group", args=[r.east.pk])
    page = login(client, world, "carol").get(url).text
    assert "张伟" in page and "赵六" in page and "李娜" not in page
    assert world.residents["zhang"].id_number not in page
    assert "张伟" not in login(client, world, "carol").get(url + "?batch=2").text
    assert "赵六" in login(client, world, "carol").get(url + "?q=龙兴").text  # workplace
    rows = sheet(login(client, world, "carol").get(url + "?export=xlsx"))
    assert rows[1][:3] == ["姓名", "证件号码", "联系电话"]
    zhang = next(row for row in rows if row[0] == "张伟")
    assert zhang[1] != world.residents["zhang"].id_number and zhang[2] == "13800000001"
    assert AccessLog.objects.filter(action="export", object_type="key_group").count() == 1
    assert login(client, world, "gina").get(url).status_code == 404


def test_adding_a_member_shows_the_services_refusal(client, world, r):
    c = login(client, world, "carol")
    url = reverse("testing:routine_member_add", args=[r.east.pk])
    bad = c.post(url, {"id_number": world.residents["zhang"].id_number, "joined_on": TODAY.isoformat()})
    assert bad.status_code == 400 and "已在本人群中" in bad.text
    ok = c.post(
        url,
        {"id_number": visitor_id(40), "name": "钱七", "unit": world.east_c1.pk, "batch": 3, "joined_on": TODAY},
    )
    member = KeyGroupMember.objects.get(name="钱七")
    assert ok.url == reverse("testing:routine_member", args=[member.pk])
    assert login(client, world, "frank").get(reverse("testing:routine_member_add", args=[r.west.pk])).status_code == 403


def test_a_member_page_moves_records_and_leaves(client, world, r):
    c = login(client, world, "carol")
    zhao = r.members["zhao"]
    url = reverse("testing:routine_member", args=[zhao.pk])
    assert c.post(url, {"action": "record", "tested_on": TODAY}).status_code == 302
    assert RoutineTest.objects.filter(member=zhao, tested_on=TODAY).exists()
    bad = c.post(url, {"action": "leave", "left_on": (START - DAY).isoformat(), "left_reason": "调离"})
    assert bad.status_code == 400 and "早于纳入日期" in bad.text
    page = c.get(url).text
    assert "按时检测" in page or "漏检未补" in page
    assert c.get(reverse("testing:routine_member", args=[r.members["li"].pk])).status_code == 404


def test_a_cycle_lists_who_to_notify_exports_it_and_takes_a_make_up(client, world, r):
    bob = world.user("bob")
    monday = mondays()[4]
    services.record_test(member=r.members["li"], tested_on=monday, by=bob)
    c = login(client, world, "bob")
    url = reverse("testing:routine_cycle", args=[monday.isoformat()]) + "?batch=1"
    page = c.get(url).text
    assert 'id="missed-list"' in page and "张伟" in page and "13800000001" in page
    rows = sheet(c.get(url + "&export=xlsx"))
    assert [row[0] for row in rows[2:]] == ["张伟"] and rows[2][2] == "13800000001"
    made_up_on = min(TODAY, monday + 6 * DAY)
    response = c.post(
        reverse("testing:routine_test_quick"),
        {"member": r.members["zhang"].pk, "tested_on": made_up_on.isoformat(), "next": url},
    )
    assert response.url == url
    page = c.get(url).text
    assert 'id="none-missed"' in page and "补检" in page
    frank = login(client, world, "frank").get(url).text
    assert "张伟" not in frank  # west's reader sees no east member
    assert c.get(reverse("testing:routine_cycle", args=["2022-13-01"])).status_code == 404


def test_recording_by_id_number_on_the_phone_page(client, world, r):
    c = login(client, world, "carol")
    url = reverse("testing:routine_test_record")
    ok = c.post(url, {"id_number": world.residents["zhang"].id_number.lower(), "tested_on": TODAY, "site": "风情街"})
    assert ok.status_code == 302 and "site=" in ok.url
    assert RoutineTest.objects.filter(member=r.members["zhang"], tested_on=TODAY, site="风情街").exists()
    refused = c.post(url, {"id_number": world.residents["li"].id_number, "tested_on": TODAY})
    assert refused.status_code == 400 and "不是应检人员" in refused.text
    assert login(client, world, "frank").get(url).status_code == 403


def test_importing_tests_and_members_through_the_pages(client, world, r):
    c = login(client, world, "bob")
    content = xlsx(["证件号码", "检测日期"], [[r.members["zhang"].id_number, mondays()[1]], ["123", mondays()[1]]])
    bad = c.post(reverse("testing:routine_test_import"), {"file": SimpleUploadedFile("t.xlsx", content)})
    assert bad.status_code == 400 and 'class="import-error"' in bad.text and "123不是应检人员" in bad.text
    content = xlsx(["证件号码", "检测日期"], [[r.members["zhang"].id_number, mondays()[1]]])
    ok = c.post(reverse("testing:routine_test_import"), {"file": SimpleUploadedFile("t.xlsx", content)})
    assert ok.status_code == 302 and RoutineTest.objects.count() == 1
    roster = xlsx(["姓名", "证件号码", "社区", "批次"], [["孙八", visitor_id(50), "泰丰社区", 2]])
    url = reverse("testing:routine_member_import", args=[r.east.pk])
    assert c.post(url, {"file": SimpleUploadedFile("m.xlsx", roster)}).status_code == 302
    assert KeyGroupMember.objects.get(name="孙八").unit == world.east_c2
    template = load_workbook(io.BytesIO(c.get(reverse("testing:routine_member_template")).content)).active
    assert [cell.value for cell in template[1]][:2] == ["姓名", "证件号码"]
    assert login(client, world, "dave").get(url).status_code == 403


def test_the_cycle_list_and_the_rounds_button(client, world, r):
    c = login(client, world, "bob")
    page = c.get(reverse("testing:routine_cycles") + f"?start={START}&end={mondays()[1] + DAY}").text
    assert page.count('class="cycle-row"') == 4  # Monday batch 1 and Tuesday batch 2, two weeks
    response = c.post(reverse("testing:routine_from_rounds"), {"start": START, "end": TODAY, "next": OVERVIEW})
    assert response.url == OVERVIEW


@pytest.mark.parametrize("username", list(USERS))
def test_each_user_reaches_exactly_his_members_pages(client, world, r, username):
    c = login(client, world, username)
    for key, member in r.members.items():
        expected = 200 if member.name in VISIBLE[username] else 404
        assert c.get(reverse("testing:routine_member", args=[member.pk])).status_code == expected, key
    monday = mondays()[0]
    page = c.get(reverse("testing:routine_cycle", args=[monday.isoformat()]) + "?batch=1").text
    shown = {m.name for m in r.members.values() if f">{m.name}</a>" in page}
    assert shown == VISIBLE[username] - {"赵六"}  # 赵六 is batch 2: due on Tuesday
    assert c.get(OVERVIEW).status_code == 200
