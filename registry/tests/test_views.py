"""Registry pages as the users see them: search, filters, export, reveal, writes, scoping."""

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import AccessLog
from core.testing import make_id_number
from registry.models import Household, Resident, Tag
from registry.services import ResidentData, update_resident

LIST = reverse("registry:resident_list")
EXPORT = reverse("registry:resident_export")


def _names(response):
    return {row["obj"].name for row in response.context["rows"]}


def _sheet(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(BytesIO(response.content)).active
    return [[c.value for c in row] for row in ws.iter_rows()]


def _new_resident_post(world, **changes):
    post = {
        "name": "赵六",
        "id_type": "resident_id",
        "id_number": "11010519491231002X",
        "unit": world.east_b1.pk,
        "relation": "other",
        "living_status": "resident",
        "marital_status": "widowed",
        "registered": "on",
    }
    post.update(changes)
    return post


# ---- list and search ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [("张", {"张伟"}), ("李娜", {"李娜"}), ("0002", {"李娜"}), ("13800000003", set()), ("1号楼 101", {"张伟"})],
)
def test_bob_searches_his_street(client, world, query, expected):
    client.force_login(world.user("bob"))
    response = client.get(LIST, {"q": query})
    assert response.status_code == 200
    assert _names(response) == expected  # 王芳 (13800000003) lives in the west street


def test_search_by_full_id_last_four_digits_and_phone_tail(client, world):
    client.force_login(world.user("alice"))
    wang = world.residents["wang"]
    assert _names(client.get(LIST, {"q": wang.id_number})) == {"王芳"}
    assert _names(client.get(LIST, {"q": wang.id_number[-4:]})) == {"王芳"}
    # Phone 13800000003. The world's ID numbers come from a shared serial, so another person's may
    # contain 0003 too, depending on which tests ran first in this process: only such people may join.
    found = _names(client.get(LIST, {"q": "0003"}))
    assert "王芳" in found
    assert all("0003" in r.id_number or r.phone.endswith("0003") for r in world.residents.values() if r.name in found)


def test_filters_by_unit_status_sex_registered_tag_age_and_marital_status(client, world):
    tag = Tag.objects.create(code="disabled", name="残疾")
    world.residents["li"].tags.add(tag)
    world.residents["li"].registered = False
    world.residents["li"].save(update_fields=["registered"])
    client.force_login(world.user("alice"))
    assert _names(client.get(LIST, {"unit": world.east_c1.pk})) == {"张伟"}
    assert _names(client.get(LIST, {"unit": world.west_b1.pk})) == {"王芳"}  # a building, by link
    assert _names(client.get(LIST, {"sex": "F"})) == {"李娜", "王芳"}
    assert _names(client.get(LIST, {"registered": "0"})) == {"李娜"}
    assert _names(client.get(LIST, {"tag": "disabled"})) == {"李娜"}
    assert _names(client.get(LIST, {"age": "60+"})) == {"王芳"}
    assert _names(client.get(LIST, {"marital_status": "unmarried"})) == set()
    assert _names(client.get(LIST, {"living_status": "away"})) == set()
    # An unknown tag in an old link drops only that filter.
    assert _names(client.get(LIST, {"tag": "gone", "sex": "M"})) == {"张伟"}


def test_unit_outside_the_subtree_is_not_found(client, world):
    client.force_login(world.user("bob"))
    assert client.get(LIST, {"unit": world.west_c1.pk}).status_code == 404
    assert client.get(EXPORT, {"unit": world.west_c1.pk}).status_code == 404


def test_empty_state_and_pagination_with_total(client, world):
    client.force_login(world.user("carol"))
    response = client.get(LIST, {"q": "不存在的人"})
    assert "没有符合条件的居民" in response.text
    Resident.objects.bulk_create(
        Resident(
            name=f"孙{i:02d}",
            id_number=make_id_number(dt.date(1985, 1, 1), "M", serial=100 + i),
            sex="M",
            birth_date=dt.date(1985, 1, 1),
            unit=world.east_b1,
            status_since=dt.date(2020, 1, 1),
            arrived_on=dt.date(2020, 1, 1),
        )
        for i in range(55)
    )
    first = client.get(LIST)
    assert len(first.context["rows"]) == 50 and "共 56 人" in first.text
    assert len(client.get(LIST, {"page": 2}).context["rows"]) == 6
    rows = _sheet(client.get(EXPORT))
    assert len(rows) == 1 + 56  # the export has every matching row, not one page


def test_live_search_answers_the_table_only_and_the_page_works_without_js(client, world):
    client.force_login(world.user("carol"))
    partial = client.get(LIST, {"q": "张"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.text and 'id="resident-table"' in partial.text and "张伟" in partial.text
    assert "HX-Request" in partial["Vary"]
    page = client.get(LIST, {"q": "张"})
    assert "<html" in page.text and 'method="get"' in page.text and "张伟" in page.text
    restore = client.get(LIST, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text


def test_lists_mask_id_numbers_for_everyone_and_phones_by_role(client, world):
    zhang = world.residents["zhang"]
    client.force_login(world.user("alice"))
    response = client.get(LIST)
    assert zhang.id_number not in response.text
    assert zhang.id_number[:6] + "********" + zhang.id_number[-4:] in response.text
    assert "13800000001" in response.text
    client.force_login(world.user("frank"))  # a read-only leader sees masked phones
    response = client.get(LIST)
    assert "138****0003" in response.text and "13800000003" not in response.text
    assert "辽河社区 3号楼 1单元 301" in response.text


# ---- export -------------------------------------------------------------------------------------------------


def test_export_carries_full_ids_only_for_roles_that_may_see_them_and_is_logged(client, world):
    zhang = world.residents["zhang"]
    client.force_login(world.user("carol"))
    rows = _sheet(client.get(EXPORT, {"q": "张"}))
    assert rows[0][0] == "姓名" and [r[0] for r in rows[1:]] == ["张伟"]
    assert rows[1][5] == zhang.id_number and rows[1][6] == "13800000001"
    log = AccessLog.objects.get(action="export", user=world.user("carol"))
    assert log.object_type == "resident" and log.detail == {"filters": {"q": "张"}, "rows": 1}
    client.force_login(world.user("dave"))
    rows = _sheet(client.get(EXPORT))
    assert rows[1][5] == "150599********" + zhang.id_number[-4:]
    assert AccessLog.objects.filter(action="export", user=world.user("dave")).count() == 1
    client.force_login(world.user("frank"))
    rows = _sheet(client.get(EXPORT))
    assert [r[0] for r in rows[1:]] == ["王芳"] and rows[1][6] == "138****0003"
    assert world.residents["wang"].id_number not in str(rows)


def test_export_neutralises_formulas(client, world):
    zhang = world.residents["zhang"]
    update_resident(
        resident=zhang,
        data=ResidentData(name="=1+1", id_number=zhang.id_number, arrived_on=zhang.arrived_on),
        by=world.user("carol"),
    )
    client.force_login(world.user("carol"))
    rows = _sheet(client.get(EXPORT))
    assert rows[1][0] == "'=1+1"


# ---- resident page ------------------------------------------------------------------------------------------


def test_detail_shows_masked_id_household_and_history_with_who_and_what(client, world):
    zhang = world.residents["zhang"]
    update_resident(
        resident=zhang,
        data=ResidentData(
            name="张伟",
            id_number=zhang.id_number,
            phone="13900000009",
            relation="head",
            marital_status="married",
            arrived_on=zhang.arrived_on,
        ),
        by=world.user("carol"),
        reason="入户核实",
    )
    client.force_login(world.user("bob"))
    page = client.get(reverse("registry:resident_detail", args=[zhang.pk])).text
    assert zhang.id_number not in page and mask(zhang.id_number) in page
    assert "显示完整证件号" in page
    assert "联系电话：13800000001 → 13900000009" in page and "入户核实" in page and "carol" in page
    client.force_login(world.user("dave"))
    page = client.get(reverse("registry:resident_detail", args=[zhang.pk])).text
    assert "显示完整证件号" not in page and zhang.id_number not in page


def mask(number):
    return number[:6] + "********" + number[-4:]


def test_reveal_is_logged_for_allowed_roles_and_refused_for_others(client, world):
    zhang = world.residents["zhang"]
    url = reverse("registry:resident_reveal", args=[zhang.pk])
    client.force_login(world.user("carol"))
    assert client.post(url).json()["id_number"] == zhang.id_number
    fragment = client.post(url, headers={"HX-Request": "true"}).text
    assert zhang.id_number in fragment and "<html" not in fragment
    assert AccessLog.objects.filter(action="view_id", object_id=str(zhang.pk), user=world.user("carol")).count() == 2
    assert client.get(url).status_code == 405  # never by a link a crawler or a prefetch could follow
    client.force_login(world.user("dave"))
    assert client.post(url).status_code == 403
    client.force_login(world.user("frank"))
    assert client.post(reverse("registry:resident_reveal", args=[world.residents["wang"].pk])).status_code == 403
    assert AccessLog.objects.filter(action="view_id").count() == 2


def test_edit_page_never_sends_the_full_id_number(client, world):
    zhang = world.residents["zhang"]
    client.force_login(world.user("dave"))
    page = client.get(reverse("registry:resident_edit", args=[zhang.pk])).text
    assert zhang.id_number not in page and mask(zhang.id_number) in page


# ---- writes ------------------------------------------------------------------------------------------------


def test_create_with_bad_checksum_shows_the_reason_and_stores_nothing(client, world):
    client.force_login(world.user("carol"))
    before = Resident.objects.count()
    response = client.post(
        reverse("registry:resident_create"), _new_resident_post(world, id_number="110105194912310021")
    )
    assert response.status_code == 200
    assert '<div class="invalid-feedback d-block field-error" data-field="id_number">身份证号校验位错误</div>' in (
        response.text
    )
    assert Resident.objects.count() == before


def test_duplicate_id_number_is_refused(client, world):
    client.force_login(world.user("carol"))
    before = Resident.objects.count()
    response = client.post(
        reverse("registry:resident_create"), _new_resident_post(world, id_number=world.residents["zhang"].id_number)
    )
    assert "该证件号码已登记" in response.text and Resident.objects.count() == before


def test_create_with_tags_edit_status_and_retire(client, world):
    tag = Tag.objects.create(code="widowed-elderly", name="孤寡")
    client.force_login(world.user("carol"))
    response = client.post(reverse("registry:resident_create"), _new_resident_post(world, tags=[tag.pk]))
    r = Resident.objects.get(name="赵六")
    assert response.status_code == 302 and r.sex == "F" and r.birth_date == dt.date(1949, 12, 31)
    assert list(r.tags.values_list("name", flat=True)) == ["孤寡"]
    response = client.post(
        reverse("registry:resident_edit", args=[r.pk]),
        {
            "name": "赵六",
            "unit": world.east_b1.pk,
            "phone": "13912345678",
            "relation": "other",
            "living_status": "resident",
            "marital_status": "widowed",
            "registered": "on",
            "reason": "补录电话",
        },
    )
    assert response.status_code == 302
    latest = r.history.order_by("-history_date", "-history_id").first()
    assert (latest.phone, latest.history_user, latest.history_change_reason) == (
        "13912345678",
        world.user("carol"),
        "补录电话",
    )
    client.post(
        reverse("registry:resident_status", args=[r.pk]),
        {"living_status": "away", "on": timezone.localdate().isoformat(), "reason": "外出务工"},
    )
    r.refresh_from_db()
    assert r.living_status == "away"
    assert r.history.order_by("-history_date", "-history_id").first().history_user == world.user("carol")
    client.post(reverse("registry:resident_retire", args=[r.pk]), {"reason": "重复录入"})
    assert "赵六" not in _names(client.get(LIST, {"living_status": "away"}))
    assert client.get(reverse("registry:resident_detail", args=[r.pk])).status_code == 404
    assert Resident.objects.get(pk=r.pk).history.filter(history_change_reason="重复录入").exists()


def test_status_change_with_a_future_date_is_refused_with_a_message(client, world):
    zhang = world.residents["zhang"]
    client.force_login(world.user("carol"))
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client.post(
        reverse("registry:resident_status", args=[zhang.pk]),
        {"living_status": "away", "on": tomorrow.isoformat(), "reason": "外出"},
        follow=True,
    )
    assert "状态日期不能晚于今天" in response.text
    zhang.refresh_from_db()
    assert zhang.living_status == "resident"


def test_a_unit_outside_the_subtree_cannot_be_chosen(client, world):
    client.force_login(world.user("carol"))
    response = client.post(reverse("registry:resident_create"), _new_resident_post(world, unit=world.west_b1.pk))
    assert "所选单位不在您的管辖范围内" in response.text and not Resident.objects.filter(name="赵六").exists()


# ---- scoping and roles --------------------------------------------------------------------------------------


def test_carol_cannot_open_or_change_wang_in_the_west(client, world):
    wang = world.residents["wang"]
    client.force_login(world.user("carol"))
    for name in ("resident_detail", "resident_edit"):
        assert client.get(reverse(f"registry:{name}", args=[wang.pk])).status_code == 404
    for name, data in (
        ("resident_reveal", {}),
        ("resident_status", {"living_status": "away", "on": "2024-01-01", "reason": "x"}),
        ("resident_retire", {"reason": "x"}),
        ("resident_edit", {"name": "X"}),
    ):
        assert client.post(reverse(f"registry:{name}", args=[wang.pk]), data).status_code == 404
    assert client.get(reverse("registry:household_detail", args=[wang.household_id])).status_code == 404
    assert client.get(reverse("registry:household_member_create", args=[wang.household_id])).status_code == 404
    wang.refresh_from_db()
    assert wang.living_status == "resident" and wang.retired_at is None
    assert not AccessLog.objects.exists()


def test_read_only_leader_cannot_post_any_write(client, world):
    client.force_login(world.user("frank"))
    wang = world.residents["wang"]
    hh = world.households["wang"]
    before = (Resident.objects.count(), Household.objects.count(), wang.history.count())
    posts = [
        (reverse("registry:resident_create"), _new_resident_post(world, unit=world.west_b1.pk)),
        (reverse("registry:household_member_create", args=[hh.pk]), _new_resident_post(world)),
        (reverse("registry:resident_edit", args=[wang.pk]), {"name": "改名", "unit": world.west_b1.pk}),
        (reverse("registry:resident_status", args=[wang.pk]), {"living_status": "away", "on": "2024-01-01"}),
        (reverse("registry:resident_retire", args=[wang.pk]), {"reason": "x"}),
        (
            reverse("registry:household_create"),
            {"unit": world.west_b1.pk, "door": "999", "household_type": "permanent"},
        ),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert client.get(reverse("registry:resident_create")).status_code == 403
    assert (Resident.objects.count(), Household.objects.count(), wang.history.count()) == before
    page = client.get(reverse("registry:resident_detail", args=[wang.pk]))
    assert page.status_code == 200
    assert reverse("registry:resident_edit", args=[wang.pk]) not in page.text
    assert 'id="status-form"' not in page.text and 'id="retire-form"' not in page.text


# ---- households ----------------------------------------------------------------------------------------------


def test_household_list_search_filter_and_scope(client, world):
    client.force_login(world.user("bob"))
    url = reverse("registry:household_list")
    heads = lambda r: {row["obj"].head_name for row in r.context["rows"]}  # noqa: E731
    assert heads(client.get(url)) == {"张伟", "李娜"}
    assert heads(client.get(url, {"q": "李"})) == {"李娜"}
    assert heads(client.get(url, {"q": "龙兴 101"})) == {"张伟"}
    assert heads(client.get(url, {"household_type": "rented"})) == set()
    assert heads(client.get(url, {"unit": world.east_c2.pk})) == {"李娜"}
    assert client.get(url, {"unit": world.west_c1.pk}).status_code == 404
    partial = client.get(url, {"q": "李"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.text and "李娜" in partial.text


def test_household_export_is_logged(client, world):
    client.force_login(world.user("bob"))
    rows = _sheet(client.get(reverse("registry:household_list"), {"q": "李", "export": "1"}))
    assert rows[0][:3] == ["社区", "网格", "楼栋"] and rows[1][:7] == [
        "泰丰社区",
        "第一网格",
        "2号楼",
        "1",
        "201",
        "常住",
        "李娜",
    ]
    assert rows[1][7] == 1
    log = AccessLog.objects.get(action="export", object_type="household")
    assert log.detail == {"filters": {"q": "李"}, "rows": 1}


def test_household_page_lists_members_with_masked_ids(client, world):
    client.force_login(world.user("bob"))
    hh = world.households["zhang"]
    zhang = world.residents["zhang"]
    response = client.get(reverse("registry:household_detail", args=[hh.pk]))
    assert "张伟" in response.text and mask(zhang.id_number) in response.text
    assert zhang.id_number not in response.text
    client.force_login(world.user("gina"))
    assert client.get(reverse("registry:household_detail", args=[hh.pk])).status_code == 404


def test_add_a_household_then_a_member(client, world):
    client.force_login(world.user("carol"))
    response = client.post(
        reverse("registry:household_create"),
        {"unit": world.east_b1.pk, "entrance": "2", "door": "502", "household_type": "rented", "head_name": "周"},
    )
    hh = Household.objects.get(door="502")
    assert response.status_code == 302 and hh.unit == world.east_b1 and hh.household_type == "rented"
    again = client.post(
        reverse("registry:household_create"),
        {"unit": world.east_b1.pk, "entrance": "2", "door": "502", "household_type": "rented"},
    )
    assert "该地址已有在册的户" in again.text and Household.objects.filter(door="502").count() == 1
    response = client.post(
        reverse("registry:household_member_create", args=[hh.pk]),
        _new_resident_post(world, name="周敏", unit="", relation="head"),
    )
    member = Resident.objects.get(name="周敏")
    assert response.status_code == 302 and member.household == hh and member.unit == world.east_b1
    assert "周敏" in client.get(reverse("registry:household_detail", args=[hh.pk])).text
