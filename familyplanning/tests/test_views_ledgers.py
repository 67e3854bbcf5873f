"""计生 pages as the users see them: dashboard figures, births/registrations/visits ledgers, forms, scoping."""

import datetime as dt
import re
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import AccessLog
from familyplanning.models import Birth, BirthServiceRegistration, RegistrationStatus, Visit
from familyplanning.services import (
    BirthData,
    Parent,
    create_scheme,
    enroll,
    record_birth,
    record_registration,
)

DASHBOARD = reverse("familyplanning:dashboard")
BIRTHS = reverse("familyplanning:birth_list")
BIRTH_EXPORT = reverse("familyplanning:birth_export")
BIRTH_NEW = reverse("familyplanning:birth_create")
REGISTRATIONS = reverse("familyplanning:registration_list")
REGISTRATION_NEW = reverse("familyplanning:registration_create")
VISITS = reverse("familyplanning:visit_list")
VISIT_NEW = reverse("familyplanning:visit_create")


def _today():
    return timezone.localdate()


def _birth(world, unit, name, *, born, sex="M", order=1, by="alice", mother="赵敏", entered_on=None, **kw):
    data = BirthData(
        child_name=name,
        sex=sex,
        birth_date=born,
        birth_order=order,
        mother=kw.pop("parent", None) or Parent(name=mother),
        entered_on=entered_on,
        **kw,
    )
    return record_birth(data=data, unit=unit, by=world.user(by))


def _names(response):
    return {row["obj"].child_name for row in response.context["rows"]}


def _sheet(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(BytesIO(response.content)).active
    return [[c.value for c in row] for row in ws.iter_rows()]


def _figure(response, key):
    match = re.search(rf'data-key="{key}"[^>]*>([^<]*)<', response.content.decode())
    assert match, key
    return match.group(1).strip()


# ---- scoping ---------------------------------------------------------------------------------------------


def test_community_staff_sees_only_births_of_his_subtree_in_list_export_and_detail(client, world):
    day = _today() - dt.timedelta(days=5)
    _birth(world, world.east_c1, "龙兴宝宝", born=day)
    west = _birth(world, world.west_c1, "辽河宝宝", born=day, mother="钱红")

    client.force_login(world.user("carol"))
    assert _names(client.get(BIRTHS)) == {"龙兴宝宝"}
    exported = [row[0] for row in _sheet(client.get(BIRTH_EXPORT))[1:]]
    assert exported == ["龙兴宝宝"]
    assert client.get(reverse("familyplanning:birth_detail", args=[west.pk])).status_code == 404
    assert client.get(BIRTHS, {"unit": world.west_c1.pk}).status_code == 404
    assert client.get(DASHBOARD, {"unit": world.west_c1.pk}).status_code == 404

    client.force_login(world.user("alice"))
    assert _names(client.get(BIRTHS)) == {"龙兴宝宝", "辽河宝宝"}
    assert {row[0] for row in _sheet(client.get(BIRTH_EXPORT))[1:]} == {"龙兴宝宝", "辽河宝宝"}
    assert AccessLog.objects.filter(user=world.user("alice"), object_type="birth").count() == 1


def test_mother_id_numbers_are_masked_in_the_ledger_and_the_export(client, world):
    li = world.residents["li"]
    _birth(world, world.east_c2, "李娜之子", born=_today() - dt.timedelta(days=3), parent=Parent(resident=li))
    client.force_login(world.user("bob"))  # a role that may see full numbers elsewhere
    page = client.get(BIRTHS).content.decode()
    assert li.id_number not in page
    assert li.id_number[:6] + "********" + li.id_number[-4:] in page
    rows = _sheet(client.get(BIRTH_EXPORT))
    assert li.id_number not in str(rows)
    assert rows[1][5] == li.id_number[:6] + "********" + li.id_number[-4:]


def test_read_only_leader_cannot_open_or_post_the_forms(client, world):
    client.force_login(world.user("frank"))
    for url in (BIRTH_NEW, REGISTRATION_NEW, VISIT_NEW):
        assert client.get(url).status_code == 403
    post = {"child_name": "某某之子", "sex": "M", "birth_date": "2024-01-01", "birth_order": "1", "mother_name": "钱红"}
    assert client.post(BIRTH_NEW, post).status_code == 403
    assert not Birth.objects.exists()
    assert "登记出生" not in client.get(BIRTHS).content.decode()


# ---- the birth form ------------------------------------------------------------------------------------------


def _birth_post(**changes):
    post = {
        "child_name": "张小宝",
        "sex": "M",
        "birth_date": (_today() - dt.timedelta(days=2)).isoformat(),
        "birth_order": "1",
        "place": "市妇幼保健院",
    }
    post.update(changes)
    return post


def test_a_birth_in_the_future_is_refused_at_its_field_and_nothing_is_stored(client, world):
    client.force_login(world.user("bob"))
    tomorrow = (_today() + dt.timedelta(days=1)).isoformat()
    post = _birth_post(birth_date=tomorrow, mother_name="钱红", unit=world.east_c1.pk)
    response = client.post(BIRTH_NEW, post)
    assert response.status_code == 200
    assert response.context["form"].errors["birth_date"] == ["出生日期不能晚于今天"]
    page = response.content.decode()
    assert "出生日期不能晚于今天" in page
    assert 'value="张小宝"' in page and 'value="钱红"' in page  # what was typed is kept
    assert not Birth.objects.exists()


def test_a_resident_mother_is_found_by_id_number_and_gives_the_unit(client, world):
    li = world.residents["li"]
    client.force_login(world.user("bob"))
    assert client.get(BIRTH_NEW).status_code == 200
    response = client.post(BIRTH_NEW, _birth_post(sex="F", mother_id_number=li.id_number.lower()))
    birth = Birth.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("familyplanning:birth_detail", args=[birth.pk])
    assert (birth.mother, birth.mother_name, birth.unit) == (li, "李娜", world.east_b2)
    assert birth.entered_on == _today()
    detail = client.get(response["Location"]).content.decode()
    assert "张小宝" in detail and "出生登记" in detail  # the history's first version and its reason


def test_an_unknown_id_number_without_a_name_is_asked_for_and_a_bad_checksum_is_refused(client, world):
    client.force_login(world.user("bob"))
    form = client.post(BIRTH_NEW, _birth_post(mother_id_number="110105199001010000")).context["form"]
    assert form.errors["mother_id_number"] == ["身份证号校验位错误"]
    wang = world.residents["wang"]  # lives in the west street: not a resident bob can link
    form = client.post(BIRTH_NEW, _birth_post(mother_id_number=wang.id_number)).context["form"]
    assert "请填写姓名" in form.errors["mother_name"][0]
    form = client.post(BIRTH_NEW, _birth_post(mother_id_number=wang.id_number, mother_name="王芳")).context["form"]
    assert form.errors["unit"] == ["母亲不是在册居民，请选择所在单位"]
    assert not Birth.objects.exists()


def test_a_contradicting_order_is_shown_at_the_order_field(client, world):
    li = world.residents["li"]
    _birth(world, world.east_c2, "大宝", born=_today() - dt.timedelta(days=700), order=2, parent=Parent(resident=li))
    client.force_login(world.user("bob"))
    form = client.post(BIRTH_NEW, _birth_post(mother_id_number=li.id_number, birth_order="1")).context["form"]
    assert "孩次与母亲此前的生育记录矛盾" in form.errors["birth_order"][0]
    assert Birth.objects.count() == 1


def test_retiring_a_birth_keeps_it_readable_and_drops_it_from_the_ledger(client, world):
    birth = _birth(world, world.east_c1, "重复宝宝", born=_today() - dt.timedelta(days=4))
    client.force_login(world.user("carol"))
    url = reverse("familyplanning:birth_retire", args=[birth.pk])
    client.post(url, {"reason": ""})
    birth.refresh_from_db()
    assert birth.retired_at is None  # a reason is required
    client.post(url, {"reason": "重复录入"})
    assert _names(client.get(BIRTHS)) == set()
    detail = client.get(reverse("familyplanning:birth_detail", args=[birth.pk])).content.decode()
    assert "已作废" in detail and "重复录入" in detail


# ---- the late-entry filter -----------------------------------------------------------------------------------


def test_the_late_filter_lists_only_births_entered_more_than_n_days_after(client, world):
    today = _today()
    _birth(
        world, world.east_c1, "晚录宝宝", born=today - dt.timedelta(days=60), entered_on=today - dt.timedelta(days=20)
    )
    _birth(world, world.east_c1, "及时宝宝", born=today - dt.timedelta(days=10), mother="孙丽")
    client.force_login(world.user("carol"))
    response = client.get(BIRTHS, {"late": 30})
    assert _names(response) == {"晚录宝宝"}
    assert 'data-late="1">40<' in response.content.decode()
    assert _names(client.get(BIRTHS, {"late": 45})) == set()
    assert _names(client.get(BIRTHS)) == {"晚录宝宝", "及时宝宝"}


def test_the_ledger_filters_by_sex_order_and_dates(client, world):
    today = _today()
    _birth(world, world.east_c1, "甲", born=today - dt.timedelta(days=30), sex="M", order=1)
    _birth(world, world.east_c1, "乙", born=today - dt.timedelta(days=20), sex="F", order=2, mother="孙丽")
    _birth(world, world.east_c1, "丙", born=today - dt.timedelta(days=10), sex="F", order=4, mother="周洁")
    client.force_login(world.user("carol"))
    assert _names(client.get(BIRTHS, {"sex": "F"})) == {"乙", "丙"}
    assert _names(client.get(BIRTHS, {"order": "3"})) == {"丙"}  # 三孩及以上
    assert _names(client.get(BIRTHS, {"start": (today - dt.timedelta(days=25)).isoformat()})) == {"乙", "丙"}
    assert _names(client.get(BIRTHS, {"q": "孙"})) == {"乙"}


# ---- dashboard -----------------------------------------------------------------------------------------------


def test_dashboard_shows_the_figures_of_the_births_of_the_year(client, world):
    year = _today().year - 1
    _birth(world, world.east_c1, "男一", born=dt.date(year, 3, 5), sex="M")
    _birth(world, world.east_c2, "男二", born=dt.date(year, 3, 20), sex="M", order=2, mother="孙丽")
    _birth(world, world.east_c1, "女一", born=dt.date(year, 7, 1), sex="F", mother="周洁")
    _birth(world, world.west_c1, "西城", born=dt.date(year, 7, 1), sex="F", mother="钱红")  # another street
    client.force_login(world.user("bob"))
    response = client.get(DASHBOARD, {"year": year})
    assert response.status_code == 200
    assert [_figure(response, k) for k in ("births", "male", "female")] == ["3", "2", "1"]
    assert [_figure(response, k) for k in ("order_1", "order_2", "order_3")] == ["2", "1", "0"]
    assert _figure(response, "sex_ratio") == "200.00"
    assert _figure(response, "population") == "2"  # 张伟 and 李娜 live in the east street
    assert _figure(response, "birth_rate") == "1500.00‰"
    chart = response.context["chart"]
    assert chart["by_month"]["male"][2] == 2 and chart["by_month"]["female"][6] == 1
    assert chart["by_order"] == {"male": [1, 1, 0], "female": [1, 0, 0]}
    assert "empty-state" not in response.content.decode()
    children = dict(response.context["children"])
    assert (children[world.east_c1], children[world.east_c2]) == (2, 1)


def test_dashboard_drills_down_and_shows_an_empty_state_without_births(client, world):
    client.force_login(world.user("bob"))
    response = client.get(DASHBOARD, {"unit": world.east_c2.pk})
    page = response.content.decode()
    assert response.status_code == 200
    assert "empty-state" in page and _figure(response, "births") == "0"
    assert "fp-chart-data" not in page
    assert client.get(DASHBOARD, {"year": "abc"}).context["error"] == "年份格式不正确"


# ---- registrations -------------------------------------------------------------------------------------------


def test_registration_form_list_link_to_the_birth_and_cancel(client, world):
    li = world.residents["li"]
    client.force_login(world.user("bob"))
    assert f'value="{_today().isoformat()}"' in client.get(REGISTRATION_NEW).content.decode()
    response = client.post(
        REGISTRATION_NEW,
        {"mother_id_number": li.id_number, "birth_order": "2", "registered_on": _today().isoformat()},
    )
    reg = BirthServiceRegistration.objects.get()
    assert response.status_code == 302 and reg.mother == li and reg.unit == world.east_b2
    again = client.post(
        REGISTRATION_NEW, {"mother_id_number": li.id_number, "birth_order": "2", "registered_on": _today().isoformat()}
    )
    assert "已有二孩的有效生育服务登记" in again.context["form"].errors["birth_order"][0]

    _birth(world, world.east_b2, "二宝", born=_today(), order=2, parent=Parent(resident=li))
    rows = client.get(REGISTRATIONS, {"status": "born"}).context["rows"]
    assert [(r["obj"].pk, r["birth"].child_name) for r in rows] == [(reg.pk, "二宝")]
    exported = _sheet(client.get(reverse("familyplanning:registration_export")))
    assert exported[1][0] == "李娜" and exported[1][8] == "二宝" and li.id_number not in str(exported)

    other = record_registration(
        unit=world.east_c1, mother=Parent(name="孙丽"), birth_order=1, registered_on=_today(), by=world.user("bob")
    )
    client.post(reverse("familyplanning:registration_cancel", args=[other.pk]), {"reason": "迁往外地"})
    other.refresh_from_db()
    assert (other.status, other.status_reason) == (RegistrationStatus.CANCELLED, "迁往外地")
    detail = client.get(reverse("familyplanning:registration_detail", args=[other.pk])).content.decode()
    assert "已注销" in detail and "迁往外地" in detail and "cancel-form" not in detail
    client.force_login(world.user("gina"))  # west street
    assert client.get(reverse("familyplanning:registration_detail", args=[other.pk])).status_code == 404
    assert client.get(REGISTRATIONS).context["rows"] == []


# ---- visits --------------------------------------------------------------------------------------------------


def test_visit_form_offers_the_special_assistance_members_and_the_list_counts_them(client, world):
    admin = world.user("alice")
    special = create_scheme(
        code="sf-disability", name="特扶伤残", category="special", payment_unit="person", period="monthly", by=admin
    )
    li = world.residents["li"]
    enroll(scheme=special, person=li, start_month=dt.date(2020, 1, 1), by=admin)
    client.force_login(world.user("bob"))
    form_page = client.get(VISIT_NEW)
    assert [p["obj"] for p in form_page.context["people"]] == [li]
    assert all(p["checked"] for p in form_page.context["people"])
    assert 'value="春节"' in form_page.content.decode()  # suggestions
    assert f'value="{_today().isoformat()}"' in form_page.content.decode()  # the date defaults to today

    post = {"unit": world.east.pk, "date": _today().isoformat(), "occasion": "春节", "given": "慰问金500元"}
    refused = client.post(VISIT_NEW, post)
    assert refused.context["form"].errors["people"] == ["请选择慰问对象"]
    assert client.post(VISIT_NEW, {**post, "people": [li.pk]}).status_code == 302
    visit = Visit.objects.get()
    assert list(visit.people.all()) == [li]

    response = client.get(VISITS)
    assert [_figure(response, k) for k in ("visits", "households", "people")] == ["1", "1", "1"]
    rows = _sheet(client.get(reverse("familyplanning:visit_export")))
    assert rows[2][:3] == [dt.datetime.combine(_today(), dt.time()), "春节", "慰问金500元"]
    assert rows[2][5] == "李娜"


@pytest.mark.parametrize("who", ["carol", "gina"])
def test_visit_form_offers_nobody_outside_the_users_subtree(client, world, who):
    admin = world.user("alice")
    special = create_scheme(
        code="sf-bereaved", name="特扶失独", category="special", payment_unit="person", period="monthly", by=admin
    )
    enroll(scheme=special, person=world.residents["li"], start_month=dt.date(2020, 1, 1), by=admin)  # east_c2
    client.force_login(world.user(who))
    assert client.get(VISIT_NEW).context["people"] == []
