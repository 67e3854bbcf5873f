"""Writes of the 计生 ledgers against the database: the seed's amounts, mid-year changes, bad input, scope."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from familyplanning import services
from familyplanning.models import (
    Application,
    Beneficiary,
    Birth,
    BirthServiceRegistration,
    RegistrationStatus,
    Standard,
)
from familyplanning.selectors import assistance_year, special_families
from familyplanning.services import BirthData, Parent
from familyplanning.tests.factories import person, scheme, standard

D = dt.date
BORN = D(2022, 3, 1)
TODAY = D(2023, 1, 6)  # seed 000 was written on 6 January 2023


@pytest.fixture
def seed_000_case(world):
    """Seed 000's 2022 money case, in the east street: 17 disabled, 11 bereaved, one one-time household,
    four only-child households (3 boys, 1 girl); application at last year's standards, then raises from July."""
    bob = world.user("bob")
    disability = scheme("sa_disability", name="计生特扶（伤残）", short_name="伤残", sort_order=1)
    bereaved = scheme("sa_bereaved", name="计生特扶（失独）", short_name="失独", sort_order=2)
    one_time = scheme(
        "one_time", name="一次性扶助金", category="one_time", unit="household", period="one_time", sort_order=3
    )
    reward = scheme(
        "only_child_reward",
        name="独生子女奖励金",
        category="only_child",
        unit="household",
        period="yearly",
        attribute_label="子女性别",
        attribute_values="男、女",
        sort_order=4,
    )
    standard(disability, 520, D(2021, 1, 1))
    standard(bereaved, 655, D(2021, 1, 1))
    standard(one_time, 82_510, D(2020, 1, 1))
    standard(reward, 120, D(2020, 1, 1), attribute="男")
    standard(reward, 240, D(2020, 1, 1), attribute="女")
    buildings = [world.east_b1, world.east_b2]
    for k in range(17):
        p = person(world, f"伤残{k}", building=buildings[k % 2])
        services.enroll(scheme=disability, person=p, start_month=D(2019, 1, 1), by=bob)
    couple = []
    for k in range(11):
        p = person(world, f"失独{k}", building=world.east_b1, household=couple[0].household if k == 1 else None)
        couple.append(p)
        services.enroll(scheme=bereaved, person=p, start_month=D(2020, 6, 1), by=bob)
    services.enroll(scheme=one_time, person=couple[0], members=couple[:2], start_month=D(2022, 3, 1), by=bob)
    for k, sex in enumerate(["男", "男", "男", "女"]):
        p = person(world, f"独生{k}", building=world.east_b2)
        services.enroll(scheme=reward, person=p, attribute_value=sex, start_month=D(2015, 1, 1), by=bob)
    application = services.submit_application(unit=world.east, year=2022, by=bob, today=TODAY)
    # The raises of July 2022 were announced after the application went in.
    standard(disability, 630, D(2022, 7, 1))
    standard(bereaved, 795, D(2022, 7, 1))
    return application


def test_seed_000_application_and_back_pay_come_out_exactly(world, seed_000_case):
    application = seed_000_case
    assert application.total == Decimal(106_080 + 86_460 + 82_510 + 600)
    back_pay = services.preview_back_pay(application=application, by=world.user("bob"))
    assert {b.back_pay.detail for b in back_pay} == {"110元/月×6月", "140元/月×6月"}
    services.record_back_pay(application=application, reason="2022年7月起提高特扶标准", by=world.user("bob"))
    by_code = {s.scheme.code: s for s in assistance_year(world.east, 2022)}
    assert (by_code["sa_disability"].people, by_code["sa_disability"].applied) == (17, 106_080)
    assert by_code["sa_disability"].adjusted == 11_220
    assert (by_code["sa_bereaved"].people, by_code["sa_bereaved"].applied) == (11, 86_460)
    assert by_code["sa_bereaved"].adjusted == 9_240
    assert (by_code["one_time"].households, by_code["one_time"].people) == (1, 2)
    assert by_code["one_time"].applied == 82_510
    assert by_code["only_child_reward"].total == 600
    special = sum(by_code[c].total for c in ("sa_disability", "sa_bereaved", "one_time"))
    assert special == 295_510
    # The frozen application is unchanged; the back-pay is a separate record, and is not paid twice.
    application.refresh_from_db()
    assert application.total == Decimal(275_650)
    assert services.preview_back_pay(application=application, by=world.user("bob")) == []
    with pytest.raises(ValidationError, match="无需补发"):
        services.record_back_pay(application=application, reason="再次", by=world.user("bob"))


def test_special_assistance_families_are_counted_once_across_schemes(world, seed_000_case):
    # 17 + 11 people in 27 households (one bereaved couple shares a household): 28 people, 27 households.
    families = special_families(world.east, D(2022, 12, 31))
    assert (families.people, families.households) == (28, 27)


def test_a_second_application_for_the_year_is_refused_above_and_below(world, seed_000_case):
    for unit, who in ((world.east, "bob"), (world.east_c1, "carol"), (world.district, "alice")):
        with pytest.raises(ValidationError, match="已提交2022年度申报"):
            services.submit_application(unit=unit, year=2022, by=world.user(who), today=TODAY)
    assert Application.objects.count() == 1


def test_another_street_may_apply_for_the_same_year(world, seed_000_case):
    s = scheme("w", name="西城项目")
    standard(s, 100, D(2022, 1, 1))
    services.enroll(scheme=s, person=world.residents["wang"], start_month=D(2022, 1, 1), by=world.user("gina"))
    app = services.submit_application(unit=world.west, year=2022, by=world.user("gina"), today=TODAY)
    assert app.total == 1200


def test_mid_year_joins_and_leaves_are_paid_their_months(world):
    bob = world.user("bob")
    s = scheme("s")
    standard(s, 500, D(2021, 1, 1))
    joined = person(world, "九月入")
    left = person(world, "六月走")
    services.enroll(scheme=s, person=joined, start_month=D(2022, 9, 15), by=bob)
    b = services.enroll(scheme=s, person=left, start_month=D(2020, 1, 1), by=bob)
    services.end_enrollment(beneficiary=b, end_date=D(2022, 6, 10), reason="death", by=bob)
    preview = services.preview_application(unit=world.east, year=2022, by=bob)
    amounts = {line.beneficiary.person.name: line.amount for line in preview.lines}
    assert amounts == {"九月入": 4 * 500, "六月走": 6 * 500}
    assert Beneficiary.objects.get(pk=b.pk).start_month == D(2020, 1, 1)


def test_a_standard_changed_mid_year_without_back_pay_counts_each_month_at_its_standard(world):
    bob = world.user("bob")
    s = scheme("s")
    standard(s, 100, D(2021, 1, 1))
    standard(s, 150, D(2022, 4, 1))
    services.enroll(scheme=s, person=world.residents["zhang"], start_month=D(2021, 1, 1), by=bob)
    (line,) = services.preview_application(unit=world.east, year=2022, by=bob).lines
    assert (line.amount, line.due.detail) == (Decimal(3 * 100 + 9 * 150), "100元/月×3月+150元/月×9月")
    assert Standard.objects.get(amount=100).valid_to == D(2022, 3, 31)


def test_a_leave_recorded_after_the_application_becomes_a_deduction(world):
    bob = world.user("bob")
    s = scheme("s")
    standard(s, 100, D(2021, 1, 1))
    b = services.enroll(scheme=s, person=world.residents["zhang"], start_month=D(2021, 1, 1), by=bob)
    app = services.submit_application(unit=world.east, year=2022, by=bob, today=TODAY)
    services.end_enrollment(beneficiary=b, end_date=D(2022, 8, 20), reason="moved_out", by=bob)
    adj = services.record_back_pay(application=app, reason="8月迁出", by=bob)
    assert (adj.total, adj.lines.get().detail) == (Decimal(-400), "-100元/月×4月")


def test_overlapping_standard_is_refused_and_nothing_changes(world):
    s = scheme("s")
    standard(s, 100, D(2021, 1, 1), end=D(2021, 12, 31))
    with pytest.raises(ValidationError) as err:
        standard(s, 120, D(2021, 6, 1))
    assert "重叠" in str(err.value)
    with pytest.raises(ValidationError, match="空档"):
        standard(s, 120, D(2022, 3, 1))
    assert list(Standard.objects.values_list("amount", flat=True)) == [100]


def test_attribute_standards_need_a_known_value(world):
    s = scheme("r", period="yearly", unit="household", attribute_label="子女性别", attribute_values="男、女")
    with pytest.raises(ValidationError, match="应为以下之一"):
        standard(s, 120, D(2020, 1, 1), attribute="未知")
    standard(s, 120, D(2020, 1, 1), attribute="男")
    with pytest.raises(ValidationError, match="请选择"):
        services.enroll(scheme=s, person=world.residents["zhang"], start_month=D(2022, 1, 1), by=world.user("bob"))


def test_duplicate_enrollment_is_refused(world):
    bob = world.user("bob")
    s = scheme("s")
    services.enroll(scheme=s, person=world.residents["zhang"], start_month=D(2022, 1, 1), by=bob)
    with pytest.raises(ValidationError, match="不能重复登记"):
        services.enroll(scheme=s, person=world.residents["zhang"], start_month=D(2022, 5, 1), by=bob)
    assert Beneficiary.objects.count() == 1


def test_a_beneficiary_outside_the_users_unit_is_refused(world):
    s = scheme("s")
    with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
        services.enroll(scheme=s, person=world.residents["wang"], start_month=D(2022, 1, 1), by=world.user("bob"))
    with pytest.raises(PermissionDenied):
        services.preview_application(unit=world.west, year=2022, by=world.user("carol"))
    assert Beneficiary.objects.count() == 0


# ---- births and registrations ---------------------------------------------------------------------------------


def birth(world, *, order=1, born=BORN, mother=None, sex="M", by="bob", unit=None, **kw):
    return services.record_birth(
        data=BirthData(
            child_name="小宝",
            sex=sex,
            birth_date=born,
            birth_order=order,
            mother=Parent(resident=mother or world.residents["li"]),
            **kw,
        ),
        unit=unit or world.east_b2,
        by=world.user(by),
    )


def test_a_birth_closes_the_couples_open_registration(world):
    reg = services.record_registration(
        unit=world.east_b2,
        mother=Parent(resident=world.residents["li"]),
        birth_order=1,
        registered_on=D(2021, 10, 1),
        by=world.user("bob"),
    )
    b = birth(world)
    reg.refresh_from_db()
    assert (b.registration, reg.status) == (reg, RegistrationStatus.BORN)
    services.retire_birth(birth=b, reason="重复录入", by=world.user("bob"))
    reg.refresh_from_db()
    assert reg.status == RegistrationStatus.REGISTERED


def test_birth_order_contradicting_the_mothers_births_is_refused(world):
    birth(world, order=2, born=D(2020, 3, 1))
    with pytest.raises(ValidationError, match="二孩"):
        birth(world, order=2, born=D(2022, 3, 1))
    with pytest.raises(ValidationError, match="矛盾"):
        birth(world, order=1, born=D(2022, 3, 1))
    assert birth(world, order=3, born=D(2022, 3, 1)).birth_order == 3
    assert Birth.objects.count() == 2


def test_a_birth_in_the_future_is_refused(world):
    with pytest.raises(ValidationError) as err:
        birth(world, born=D(2099, 1, 1))
    assert err.value.message_dict["birth_date"] == ["出生日期不能晚于今天"]
    assert Birth.objects.count() == 0


def test_a_non_resident_mother_by_name_and_id(world):
    b = services.record_birth(
        data=BirthData(
            child_name="小明",
            sex="M",
            birth_date=D(2022, 5, 5),
            birth_order=1,
            mother=Parent(name="外来母亲", id_number="11010519491231002x"),
        ),
        unit=world.east_b1,
        by=world.user("carol"),
    )
    assert (b.mother, b.mother_name, b.mother_id_number) == (None, "外来母亲", "11010519491231002X")


def test_births_outside_the_users_unit_are_refused(world):
    with pytest.raises(PermissionDenied):
        birth(world, by="carol", unit=world.east_b2)  # east_b2 lies in 泰丰社区, carol sits in 龙兴社区


def test_a_second_open_registration_for_the_same_order_is_refused(world):
    kw = {
        "unit": world.east_b2,
        "mother": Parent(resident=world.residents["li"]),
        "birth_order": 2,
        "by": world.user("bob"),
    }
    services.record_registration(registered_on=D(2022, 1, 1), **kw)
    with pytest.raises(ValidationError, match="有效生育服务登记"):
        services.record_registration(registered_on=D(2022, 2, 1), **kw)
    assert BirthServiceRegistration.objects.count() == 1


def test_a_policy_replaces_the_one_in_force(world):
    old = services.create_policy(name="全面两孩", max_children=2, valid_from=D(2016, 1, 1))
    services.create_policy(name="三孩", max_children=3, valid_from=D(2021, 5, 31))
    old.refresh_from_db()
    assert old.valid_to == D(2021, 5, 30)
    with pytest.raises(ValidationError, match="重叠"):
        services.create_policy(name="错", max_children=1, valid_from=D(2018, 1, 1), valid_to=D(2019, 1, 1))


def test_merged_units_take_their_births_along(world):
    from orgunits.services import merge_units

    b = birth(world, unit=world.east_c2)
    merge_units(source=world.east_c2, target=world.east_c1, on=D(2023, 1, 1), reason="合并", by=world.user("alice"))
    b.refresh_from_db()
    assert b.unit == world.east_c1


def test_the_indicators_command_carries_the_seed_amounts(world, seed_000_case, capsys):
    import json

    from django.core.management import call_command

    services.record_back_pay(application=seed_000_case, reason="提标", by=world.user("bob"))
    call_command("indicators", "--unit", world.east.code, "--period", "2022", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["familyplanning.applied_special"] == 106_080 + 11_220 + 86_460 + 9_240
    assert (out["familyplanning.applied_one_time"], out["familyplanning.applied_only_child"]) == (82_510, 600)
    assert (out["familyplanning.back_pay"], out["familyplanning.applied_amount"]) == (20_460, 296_110)
    assert (out["familyplanning.special_assistance_people"], out["familyplanning.special_assistance_households"]) == (
        28,
        27,
    )
