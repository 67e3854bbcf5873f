"""计生 scheme, beneficiary and application pages as the users see them: permissions, errors, scoping, figures."""

import datetime as dt
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AccessLog, Role
from accounts.services import create_user
from core.testing import make_id_number
from familyplanning import services
from familyplanning.models import Adjustment, Application, Beneficiary, Scheme, Standard
from registry.services import ResidentData, create_resident

YEAR = 2025
ENROL = reverse("familyplanning:beneficiary_create")
BENEFICIARIES = reverse("familyplanning:beneficiary_list")
BENEFICIARY_EXPORT = reverse("familyplanning:beneficiary_export")
PREVIEW = reverse("familyplanning:application_preview")
SUBMIT = reverse("familyplanning:application_submit")
SCHEMES = reverse("familyplanning:scheme_list")


@pytest.fixture
def disability(world):
    scheme = services.create_scheme(
        code="disability",
        name="计生特别扶助（伤残）",
        short_name="伤残",
        category="special",
        payment_unit="person",
        period="monthly",
        by=world.user("alice"),
    )
    services.add_standard(
        scheme=scheme, amount=Decimal(520), valid_from=dt.date(2020, 1, 1), reason="示范文件", by=world.user("alice")
    )
    return scheme


@pytest.fixture
def only_child(world):
    scheme = services.create_scheme(
        code="only-child",
        name="独生子女奖励金",
        short_name="独生子女",
        category="only_child",
        payment_unit="household",
        period="yearly",
        attribute_label="子女性别",
        attribute_values="男、女",
        by=world.user("alice"),
    )
    for value, amount in (("男", 120), ("女", 240)):
        services.add_standard(
            scheme=scheme, attribute_value=value, amount=Decimal(amount), valid_from=dt.date(2020, 1, 1)
        )
    return scheme


def _spouse(world, name="刘梅"):
    """A second resident in 张伟's household (龙兴社区), so that a community has two people to pay."""
    zhang = world.residents["zhang"]
    return create_resident(
        data=ResidentData(
            name=name,
            id_number=make_id_number(dt.date(1982, 2, 3), "F", serial=321),
            relation="spouse",
            marital_status="married",
            arrived_on=dt.date(2016, 1, 1),
        ),
        unit=zhang.unit,
        household=zhang.household,
        by=world.user("alice"),
    )


def _enrol(world, scheme, person, *, by="carol", start=dt.date(YEAR, 1, 1), **kw):
    return services.enroll(scheme=scheme, person=person, start_month=start, by=world.user(by), **kw)


def _enrol_post(scheme, person, **changes):
    post = {
        "action": "save",
        "scheme": scheme.code,
        "id_number": person.id_number,
        "start_month": f"{YEAR}-01",
        "documents": ["身份证", "残疾证"],
        "bank_account": "6222020200112233445",
        "note": "",
    }
    post.update(changes)
    return post


def _sheet(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(BytesIO(response.content)).active
    return [[c.value for c in row] for row in ws.iter_rows()]


def _masked(number):
    return number[:6] + "********" + number[-4:]


# ---- schemes and standards ----------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["bob", "carol", "frank"])
def test_only_the_district_admin_sets_schemes_and_standards(client, world, disability, username):
    client.force_login(world.user(username))
    url = reverse("familyplanning:standard_create", args=[disability.pk])
    assert client.get(url).status_code == 403
    post = {"amount": "630", "valid_from": "2022-07-01", "reason": "提标"}
    assert client.post(url, post).status_code == 403
    assert client.post(reverse("familyplanning:scheme_create"), {"code": "x", "name": "新项目"}).status_code == 403
    assert Standard.objects.count() == 1 and Scheme.objects.count() == 1
    page = client.get(SCHEMES)
    assert "计生特别扶助（伤残）" in page.text and "示范文件" in page.text
    assert "add-standard" not in page.text and 'id="new-scheme"' not in page.text


def test_admin_raises_a_standard_and_the_timeline_shows_both(client, world, disability):
    client.force_login(world.user("alice"))
    assert 'id="new-scheme"' in client.get(SCHEMES).text
    url = reverse("familyplanning:standard_create", args=[disability.pk])
    response = client.post(url, {"amount": "630", "valid_from": "2022-07-01", "reason": "提高特扶标准"})
    assert response.status_code == 302
    old, new = Standard.objects.filter(scheme=disability).order_by("valid_from")
    assert old.valid_to == dt.date(2022, 6, 30) and new.amount == 630 and new.created_by == world.user("alice")
    page = client.get(SCHEMES).text
    assert "2020-01-01 — 2022-06-30" in page and "2022-07-01 — 至今" in page and "提高特扶标准" in page


@pytest.mark.parametrize(
    ("post", "message"),
    [
        (
            {"amount": "600", "valid_from": "2019-01-01", "valid_to": "2021-12-31"},
            "与已有标准重叠：已有标准自2020-01-01起施行",
        ),
        ({"amount": "600", "valid_from": "2023-01-01", "valid_to": "2022-01-01"}, "截止日期早于起始日期"),
    ],
)
def test_an_overlapping_standard_is_refused_at_the_field_and_nothing_is_stored(
    client, world, disability, post, message
):
    client.force_login(world.user("alice"))
    response = client.post(reverse("familyplanning:standard_create", args=[disability.pk]), post)
    assert response.status_code == 200
    assert response.context["form"].errors["valid_from"] == [message]
    assert message in response.text
    assert list(Standard.objects.values_list("amount", "valid_to")) == [(Decimal(520), None)]


def test_a_gap_between_standards_is_refused(client, world):
    scheme = services.create_scheme(
        code="lost", name="计生特别扶助（失独）", category="special", payment_unit="person", period="monthly"
    )
    services.add_standard(
        scheme=scheme, amount=Decimal(655), valid_from=dt.date(2020, 1, 1), valid_to=dt.date(2021, 12, 31)
    )
    client.force_login(world.user("alice"))
    response = client.post(
        reverse("familyplanning:standard_create", args=[scheme.pk]), {"amount": "700", "valid_from": "2022-03-01"}
    )
    assert "与上一标准之间有空档" in response.context["form"].errors["valid_from"][0]
    assert Standard.objects.filter(scheme=scheme).count() == 1


def test_admin_creates_a_scheme_with_an_attribute_and_a_duplicate_code_is_refused(client, world, disability):
    client.force_login(world.user("alice"))
    post = {
        "code": "only-child",
        "name": "独生子女奖励金",
        "category": "only_child",
        "payment_unit": "household",
        "period": "yearly",
        "attribute_label": "子女性别",
        "attribute_values": "男,女",
        "sort_order": "50",
    }
    response = client.post(reverse("familyplanning:scheme_create"), post)
    scheme = Scheme.objects.get(code="only-child")
    assert response.status_code == 302 and scheme.attribute_choices == ["男", "女"]
    form = client.get(reverse("familyplanning:standard_create", args=[scheme.pk])).text
    assert '<option value="男">男</option>' in form and "子女性别" in form
    again = client.post(reverse("familyplanning:scheme_create"), {**post, "code": "disability", "name": "另一个"})
    assert again.context["form"].errors["code"] == ["代码已被使用"]
    assert Scheme.objects.count() == 2


# ---- enrolment ----------------------------------------------------------------------------------------------


def test_enrol_through_the_page_then_a_duplicate_is_refused(client, world, disability):
    zhang = world.residents["zhang"]
    client.force_login(world.user("carol"))
    response = client.post(ENROL, _enrol_post(disability, zhang))
    b = Beneficiary.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "familyplanning:beneficiary_detail", args=[b.pk]
    )
    assert (b.person, b.start_month, b.documents) == (zhang, dt.date(YEAR, 1, 1), ["身份证", "残疾证"])
    assert list(b.members.all()) == [zhang] and b.created_by == world.user("carol")
    again = client.post(ENROL, _enrol_post(disability, zhang, start_month=f"{YEAR}-03"))
    assert again.status_code == 200
    assert again.context["form"].errors["id_number"] == ["该居民已享受“计生特别扶助（伤残）”，不能重复登记"]
    assert Beneficiary.objects.count() == 1


def test_enrol_refuses_a_number_outside_the_scope_or_unknown(client, world, disability):
    client.force_login(world.user("carol"))
    for number in (world.residents["wang"].id_number, world.residents["li"].id_number, "110105194912310021"):
        response = client.post(ENROL, _enrol_post(disability, world.residents["zhang"], id_number=number))
        assert response.context["form"].errors["id_number"] == ["未找到该证件号码的居民（或不在您的管辖范围内）"]
    assert not Beneficiary.objects.exists()


def test_lookup_shows_the_person_without_saving(client, world, disability):
    client.force_login(world.user("carol"))
    zhang = world.residents["zhang"]
    response = client.post(ENROL, _enrol_post(disability, zhang, action="lookup", id_number=f" {zhang.id_number} "))
    found = response.text.split('id="person-found"')[1].split("</div>")[0]
    assert "张伟" in found and _masked(zhang.id_number) in found
    assert not response.context["form"].errors
    assert not Beneficiary.objects.exists()


def test_per_household_enrolment_asks_for_the_members_then_stores_the_chosen_ones(client, world, only_child):
    zhang = world.residents["zhang"]
    spouse = _spouse(world)
    client.force_login(world.user("carol"))
    post = _enrol_post(only_child, zhang, attribute_value="男", documents=["独生子女证"])
    first = client.post(ENROL, post)
    assert first.status_code == 200 and not Beneficiary.objects.exists()
    assert "请确认本户涉及的人员" in first.text
    checked = first.context["form"]["members"].value()
    assert set(checked) == {str(zhang.pk), str(spouse.pk)}  # pre-checked
    response = client.post(ENROL, {**post, "members_for": str(zhang.pk), "members": [str(zhang.pk)]})
    b = Beneficiary.objects.get()
    assert response.status_code == 302
    assert (b.household, b.attribute_value, list(b.members.all())) == (zhang.household, "男", [zhang])


def test_attribute_value_is_required_when_the_scheme_has_one(client, world, only_child):
    zhang = world.residents["zhang"]
    client.force_login(world.user("carol"))
    response = client.post(ENROL, {**_enrol_post(only_child, zhang), "members_for": str(zhang.pk)})
    assert "请选择“子女性别”：男、女" in response.context["form"].errors["attribute_value"][0]
    assert not Beneficiary.objects.exists()


def test_read_only_leader_cannot_enrol(client, world, disability):
    client.force_login(world.user("frank"))
    assert client.get(ENROL).status_code == 403
    assert client.post(ENROL, _enrol_post(disability, world.residents["wang"])).status_code == 403
    assert not Beneficiary.objects.exists()


# ---- beneficiary list, detail, export, end ------------------------------------------------------------------


def _names(response):
    return {row["obj"].person.name for row in response.context["rows"]}


def test_a_community_user_does_not_see_another_streets_beneficiaries(client, world, disability):
    zhang = _enrol(world, disability, world.residents["zhang"], bank_account="6222020200112233445")
    wang = _enrol(world, disability, world.residents["wang"], by="alice")
    client.force_login(world.user("carol"))
    page = client.get(BENEFICIARIES)
    assert _names(page) == {"张伟"} and "王芳" not in page.text
    assert client.get(reverse("familyplanning:beneficiary_detail", args=[wang.pk])).status_code == 404
    assert client.post(reverse("familyplanning:beneficiary_end", args=[wang.pk]), {}).status_code == 404
    assert client.get(BENEFICIARIES, {"unit": world.west_c1.pk}).status_code == 404
    rows = _sheet(client.get(BENEFICIARY_EXPORT))
    assert [r[1] for r in rows[1:]] == ["张伟"] and world.residents["wang"].id_number not in str(rows)
    client.force_login(world.user("gina"))
    assert _names(client.get(BENEFICIARIES)) == {"王芳"}
    assert client.get(reverse("familyplanning:beneficiary_detail", args=[zhang.pk])).status_code == 404


def test_list_masks_id_numbers_and_bank_accounts_by_role_and_filters(client, world, disability, only_child):
    zhang = world.residents["zhang"]
    _enrol(world, disability, zhang, bank_account="6222020200112233445")
    _enrol(world, only_child, world.residents["li"], by="bob", attribute_value="女")
    client.force_login(world.user("bob"))
    page = client.get(BENEFICIARIES)
    assert _names(page) == {"张伟", "李娜"}
    assert _masked(zhang.id_number) in page.text and zhang.id_number not in page.text
    assert "6222020200112233445" in page.text  # street staff see full numbers
    row = next(r for r in page.context["rows"] if r["obj"].person == zhang)
    assert row["community"] == "龙兴社区" and row["obj"].n_members == 1
    assert _names(client.get(BENEFICIARIES, {"scheme": "only-child"})) == {"李娜"}
    assert _names(client.get(BENEFICIARIES, {"q": zhang.id_number[-4:]})) == {"张伟"}
    assert _names(client.get(BENEFICIARIES, {"unit": world.east_c2.pk})) == {"李娜"}
    assert _names(client.get(BENEFICIARIES, {"status": "ended"})) == set()
    client.force_login(world.user("dave"))  # a grid worker: masked account
    page = client.get(BENEFICIARIES)
    assert "***************3445" in page.text and "6222020200112233445" not in page.text


def test_export_is_masked_unless_asked_by_a_role_that_may_and_is_logged(client, world, disability):
    zhang = world.residents["zhang"]
    _enrol(world, disability, zhang, bank_account="6222020200112233445")
    client.force_login(world.user("carol"))
    rows = _sheet(client.get(BENEFICIARY_EXPORT))
    assert rows[0][:3] == ["扶助项目", "姓名", "证件号码"]
    assert rows[1][2] == _masked(zhang.id_number) and rows[1][5] == f"{YEAR}-01"
    rows = _sheet(client.get(BENEFICIARY_EXPORT, {"reveal": "1"}))
    assert rows[1][2] == zhang.id_number and rows[1][10] == "6222020200112233445"
    logs = AccessLog.objects.filter(action="export", object_type="fp_beneficiary", user=world.user("carol"))
    assert sorted(log.detail["full_id_numbers"] for log in logs) == [False, True]
    client.force_login(world.user("dave"))
    assert client.get(BENEFICIARY_EXPORT, {"reveal": "1"}).status_code == 403


def test_end_enrollment_on_the_detail_page(client, world, disability):
    b = _enrol(world, disability, world.residents["zhang"])
    url = reverse("familyplanning:beneficiary_end", args=[b.pk])
    client.force_login(world.user("carol"))
    detail = client.get(reverse("familyplanning:beneficiary_detail", args=[b.pk]))
    assert 'id="end-form"' in detail.text and "享受中" in detail.text
    bad = client.post(url, {"end_date": "2099-01-01", "end_reason": "death"})
    assert bad.context["end_form"].errors["end_date"] == ["终止日期不能晚于今天"]
    b.refresh_from_db()
    assert b.end_date is None
    response = client.post(url, {"end_date": f"{YEAR}-06-10", "end_reason": "death", "note": "病故"})
    assert response.status_code == 302
    b.refresh_from_db()
    assert (b.end_date, b.end_reason) == (dt.date(YEAR, 6, 10), "death")
    detail = client.get(reverse("familyplanning:beneficiary_detail", args=[b.pk]))
    assert "死亡" in detail.text and "病故" in detail.text and 'id="end-form"' not in detail.text
    ended, enrolled = detail.context["versions"]  # newest first, one version per change
    assert (ended.end_date, ended.history_change_reason) == (dt.date(YEAR, 6, 10), "病故")
    assert enrolled.end_date is None
    assert _names(client.get(BENEFICIARIES, {"status": "ended"})) == {"张伟"}


# ---- annual application -------------------------------------------------------------------------------------


@pytest.fixture
def two_in_longxing(world, disability):
    """张伟 and his wife under the disability scheme from January: 2 × 520 × 12 = 12480."""
    spouse = _spouse(world)
    return [_enrol(world, disability, world.residents["zhang"]), _enrol(world, disability, spouse)]


def test_preview_shows_the_total_per_scheme_and_per_person(client, world, two_in_longxing):
    client.force_login(world.user("carol"))
    response = client.get(PREVIEW, {"unit": world.east_c1.pk, "year": YEAR})
    assert response.status_code == 200
    assert response.context["preview"].total == Decimal(12480)
    [total] = response.context["schemes"]
    assert (total.beneficiaries, total.people, total.households, total.amount) == (2, 2, 1, Decimal(12480))
    assert "12480" in response.text and response.text.count("520元/月×12月") == 2
    assert 'id="submit-form"' in response.text
    assert not Application.objects.exists()  # a preview writes nothing


def test_preview_lists_problems_and_offers_no_submit(client, world, disability):
    late = services.create_scheme(code="late", name="新项目", category="other", payment_unit="person", period="monthly")
    _enrol(world, late, world.residents["zhang"])
    client.force_login(world.user("carol"))
    response = client.get(PREVIEW, {"unit": world.east_c1.pk, "year": YEAR})
    assert "新项目：张伟 的 1、2、3、4、5、6、7、8、9、10、11、12 月没有施行中的标准" in response.text
    assert 'id="submit-form"' not in response.text


def test_preview_only_for_units_in_scope_and_roles_that_apply(client, world, two_in_longxing):
    client.force_login(world.user("carol"))
    response = client.get(PREVIEW, {"unit": world.west_c1.pk, "year": YEAR})
    assert "preview" not in response.context and response.context["form"].errors["unit"]
    refused = client.post(SUBMIT, {"unit": world.west_c1.pk, "year": YEAR}, follow=True)
    assert "申报单位：" in refused.text and not Application.objects.exists()
    client.force_login(world.user("dave"))
    assert client.get(PREVIEW, {"unit": world.east_c1.pk, "year": YEAR}).status_code == 403
    assert client.post(SUBMIT, {"unit": world.east_c1.pk, "year": YEAR}).status_code == 403


def test_submitting_twice_shows_already_submitted(client, world, two_in_longxing):
    client.force_login(world.user("carol"))
    response = client.post(SUBMIT, {"unit": world.east_c1.pk, "year": YEAR, "note": "第一次"})
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("familyplanning:application_detail", args=[application.pk])
    assert application.total == Decimal(12480) and application.lines.count() == 2
    again = client.post(SUBMIT, {"unit": world.east_c1.pk, "year": YEAR}, follow=True)
    assert again.redirect_chain == [(f"{PREVIEW}?unit={world.east_c1.pk}&year={YEAR}", 302)]
    assert "龙兴社区 已提交2025年度申报，不能重复申报" in again.text
    assert 'id="already-submitted"' in again.text and 'id="submit-form"' not in again.text
    assert Application.objects.count() == 1
    # The street above cannot apply for the same year either.
    client.force_login(world.user("bob"))
    refused = client.post(SUBMIT, {"unit": world.east.pk, "year": YEAR}, follow=True)
    assert "龙兴社区 已提交2025年度申报" in refused.text and Application.objects.count() == 1


def test_application_list_and_detail_are_scoped(client, world, two_in_longxing):
    application = services.submit_application(unit=world.east_c1, year=YEAR, by=world.user("carol"))
    client.force_login(world.user("bob"))
    listing = client.get(reverse("familyplanning:application_list"))
    assert [r["obj"] for r in listing.context["rows"]] == [application] and "12480" in listing.text
    client.force_login(world.user("gina"))
    assert not client.get(reverse("familyplanning:application_list")).context["rows"]
    for name in ("application_detail", "application_roster", "application_report_docx"):
        assert client.get(reverse(f"familyplanning:{name}", args=[application.pk])).status_code == 404


def test_back_pay_after_a_raise_is_previewed_then_recorded_with_a_reason(client, world, disability, two_in_longxing):
    application = services.submit_application(unit=world.east_c1, year=YEAR, by=world.user("carol"))
    services.add_standard(scheme=disability, amount=Decimal(630), valid_from=dt.date(YEAR, 7, 1), reason="提标")
    url = reverse("familyplanning:application_detail", args=[application.pk])
    client.force_login(world.user("carol"))
    detail = client.get(url)
    assert detail.text.count("110元/月×6月") == 2 and detail.context["back_pay_total"] == Decimal(1320)
    back_pay = reverse("familyplanning:application_back_pay", args=[application.pk])
    refused = client.post(back_pay, {"reason": ""})
    assert refused.context["back_pay_form"].errors["reason"] == ["请写明补发原因（如标准调整文件）"]
    assert not Adjustment.objects.exists()
    assert client.post(back_pay, {"reason": "提高特扶标准"}).status_code == 302
    assert Adjustment.objects.get().total == Decimal(1320)
    detail = client.get(url)
    assert detail.context["totals"]["total"] == Decimal(13800) and 'id="no-back-pay"' in detail.text
    application.refresh_from_db()
    assert application.total == Decimal(12480)  # the submitted application itself never changes


def test_roster_is_masked_unless_revealed_by_a_role_that_may_and_every_export_is_logged(client, world, two_in_longxing):
    application = services.submit_application(unit=world.east_c1, year=YEAR, by=world.user("carol"))
    url = reverse("familyplanning:application_roster", args=[application.pk])
    zhang = world.residents["zhang"]
    client.force_login(world.user("carol"))
    rows = _sheet(client.get(url, {"scheme": "disability"}))
    assert rows[0] == ["龙兴社区 2025年 计生特别扶助（伤残） 花名册"] + [None] * 11
    assert _masked(zhang.id_number) in [r[2] for r in rows]
    full = _sheet(client.get(url, {"scheme": "disability", "reveal": "1"}))
    assert zhang.id_number in [r[2] for r in full]
    logs = AccessLog.objects.filter(action="export", object_type="fp_roster", object_id=str(application.pk))
    assert sorted(log.detail["full_id_numbers"] for log in logs) == [False, True]
    assert client.get(url, {"scheme": "nope"}).status_code == 404
    grid = create_user(username="hank", password="x-pass-12345", role=Role.GRID_WORKER, org_unit=world.east_c1)
    client.force_login(grid)
    assert client.get(url, {"scheme": "disability", "reveal": "1"}).status_code == 403
    assert zhang.id_number not in str(_sheet(client.get(url, {"scheme": "disability"})))


def test_disbursement_report_downloads_as_docx(client, world, two_in_longxing):
    application = services.submit_application(unit=world.east_c1, year=YEAR, by=world.user("carol"))
    client.force_login(world.user("carol"))
    response = client.get(reverse("familyplanning:application_report_docx", args=[application.pk]))
    assert response["Content-Type"].endswith("wordprocessingml.document")
    assert "attachment" in response["Content-Disposition"] and response.content[:2] == b"PK"


def test_a_future_year_cannot_be_submitted(client, world, two_in_longxing):
    client.force_login(world.user("carol"))
    response = client.post(SUBMIT, {"unit": world.east_c1.pk, "year": 2099}, follow=True)
    assert "不能申报未来年度" in response.text and not Application.objects.exists()
