"""Recording doses and reasons: bad input refused by field with nothing stored, corrections kept,
scope and role enforced, products and reasons kept by the district administrator only."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from vaccination import services
from vaccination.models import Dose, ReasonRecord, VaccineProduct
from vaccination.services import DoseData, ProductData
from vaccination.tests.factories import doses, give_reason, person, product, reason

D = dt.date
TODAY = timezone.localdate()


@pytest.fixture
def old(world):
    return person(world, "east_b1", "赵老", D(1945, 3, 1), phone="13900000009")


def record(world, resident, n, date, who="alice", **kw):
    data = DoseData(product=kw.pop("product", product()), dose_number=n, date=date, **kw)
    return services.record_dose(resident=resident, data=data, by=world.user(who))


def errors_of(exc):
    return exc.value.message_dict


def test_a_dose_is_recorded_with_its_history(world, old):
    dose = record(world, old, 1, D(2021, 5, 1), site="新城社区卫生服务中心", door_to_door=True, who="carol")
    assert (dose.dose_number, dose.site, dose.door_to_door, dose.recorded_by) == (
        1,
        "新城社区卫生服务中心",
        True,
        world.user("carol"),
    )
    version = dose.history.get()
    assert (version.history_user, version.history_change_reason) == (world.user("carol"), "登记接种")


@pytest.mark.parametrize(
    ("number", "date", "field", "message"),
    [
        (1, D(1944, 1, 1), "date", "接种日期早于出生日期"),
        (3, D(2021, 5, 1), "dose_number", "尚未登记第2剂，请先登记前一剂"),
        (1, TODAY + dt.timedelta(days=1), "date", "接种日期不能晚于今天"),
    ],
)
def test_bad_doses_are_refused_and_nothing_is_stored(world, old, number, date, field, message):
    with pytest.raises(ValidationError) as exc:
        record(world, old, number, date)
    assert errors_of(exc) == {field: [message]}
    assert not Dose.objects.exists()


def test_a_duplicate_dose_number_is_refused(world, old):
    record(world, old, 1, D(2021, 5, 1))
    with pytest.raises(ValidationError) as exc:
        record(world, old, 1, D(2021, 6, 1))
    assert errors_of(exc) == {"dose_number": ["第1剂已登记（2021-05-01），如有错误请更正该记录"]}
    assert Dose.objects.count() == 1


def test_dose_2_dated_before_dose_1_is_refused(world, old):
    record(world, old, 1, D(2021, 5, 1))
    with pytest.raises(ValidationError) as exc:
        record(world, old, 2, D(2021, 4, 1))
    assert errors_of(exc) == {"date": ["接种日期早于第1剂（2021-05-01）"]}


def test_a_short_interval_needs_a_confirmation_and_a_note(world, old):
    record(world, old, 1, D(2021, 5, 1))
    with pytest.raises(ValidationError) as exc:
        record(world, old, 2, D(2021, 5, 11))
    assert "至少间隔21天" in errors_of(exc)["date"][0]
    with pytest.raises(ValidationError) as exc:
        record(world, old, 2, D(2021, 5, 11), confirm_interval=True)
    assert list(errors_of(exc)) == ["note"]
    dose = record(world, old, 2, D(2021, 5, 11), confirm_interval=True, note="外地接种，按接种证登记")
    assert dose.note == "外地接种，按接种证登记"


def test_out_of_scope_and_read_only_users_are_refused(world, old):
    west = world.residents["wang"]
    with pytest.raises(PermissionDenied):
        record(world, west, 1, D(2021, 5, 1), who="carol")
    with pytest.raises(PermissionDenied):
        record(world, old, 1, D(2021, 5, 1), who="gina")  # west street staff, east resident
    frank_sees = person(world, "west_b1", "钱老", D(1950, 1, 1))
    with pytest.raises(PermissionDenied):
        record(world, frank_sees, 1, D(2021, 5, 1), who="frank")  # read-only leader
    assert not Dose.objects.exists()


def test_a_correction_retires_the_wrong_record_and_keeps_it(world, old):
    first, second = doses(world, old, [D(2021, 5, 1), D(2021, 6, 1)])
    data = DoseData(product=product("sinovac"), dose_number=1, date=D(2021, 5, 2))
    new = services.correct_dose(dose=first, data=data, reason="日期和疫苗录错", by=world.user("carol"))
    first.refresh_from_db()
    assert first.retired_at is not None and first.retired_reason == "更正：日期和疫苗录错"
    assert (new.dose_number, new.date, new.product.code) == (1, D(2021, 5, 2), "sinovac")
    assert list(Dose.objects.filter(retired_at__isnull=True).order_by("dose_number")) == [new, second]
    late = DoseData(product=product(), dose_number=1, date=D(2021, 7, 1))
    with pytest.raises(ValidationError) as exc:
        services.correct_dose(dose=new, data=late, reason="再改", by=world.user("carol"))
    assert errors_of(exc) == {"date": ["接种日期晚于第2剂（2021-06-01）"]}


def test_retiring_a_dose_needs_the_later_ones_retired_first(world, old):
    first, second = doses(world, old, [D(2021, 5, 1), D(2021, 6, 1)])
    with pytest.raises(ValidationError) as exc:
        services.retire_dose(dose=first, reason="录错人", by=world.user("alice"))
    assert errors_of(exc) == {"dose": ["已登记第2剂，请先作废后面的剂次"]}
    services.retire_dose(dose=second, reason="录错人", by=world.user("alice"))
    services.retire_dose(dose=first, reason="录错人", by=world.user("alice"))
    assert not Dose.objects.filter(retired_at__isnull=True).exists()
    assert Dose.objects.count() == 2


def test_reasons_are_recorded_ended_and_retired(world, old):
    record_ = give_reason(world, old, "contraindication", scope="full_course")
    assert (record_.reason.name, record_.scope) == ("禁忌症", "full_course")
    services.end_reason(record=record_, valid_to=D(2022, 6, 30), by=world.user("carol"))
    assert ReasonRecord.objects.get().valid_to == D(2022, 6, 30)
    with pytest.raises(ValidationError) as exc:
        services.end_reason(record=record_, valid_to=D(2021, 1, 1), by=world.user("carol"))
    assert errors_of(exc) == {"valid_to": ["截止日期早于起始日期"]}
    services.retire_reason(record=record_, reason="登记错了", by=world.user("carol"))
    assert ReasonRecord.objects.get().retired_at is not None
    with pytest.raises(ValidationError) as exc:
        services.record_reason(
            resident=old,
            reason=reason("away"),
            scope="sometimes",
            valid_from=TODAY + dt.timedelta(days=3),
            by=world.user("carol"),
        )
    assert set(errors_of(exc)) == {"scope", "valid_from"}


def test_only_the_district_administrator_keeps_products_and_reasons(world):
    data = ProductData(
        code="new-inact",
        name="新冠病毒灭活疫苗（试）",
        manufacturer="某生物",
        kind="inactivated",
        course_doses=2,
        min_interval_days=21,
    )
    with pytest.raises(PermissionDenied):
        services.save_product(data=data, by=world.user("bob"))
    made = services.save_product(data=data, by=world.user("alice"))
    assert VaccineProduct.objects.filter(code="new-inact").exists() and str(made) == "新冠病毒灭活疫苗（试）（某生物）"
    bad = ProductData(code="x", name="y", manufacturer="z", kind="mrna", course_doses=0)
    with pytest.raises(ValidationError) as exc:
        services.save_product(data=bad, by=world.user("alice"))
    assert set(errors_of(exc)) == {"kind", "course_doses"}
    with pytest.raises(ValidationError) as exc:
        services.save_reason_type(code="interval_not_met", name="未满间隔", absent=False, by=world.user("alice"))
    assert "由接种记录算出" in errors_of(exc)["code"][0]
    with pytest.raises(PermissionDenied):
        services.save_reason_type(code="sick", name="生病", absent=False, by=world.user("carol"))


def test_the_standard_products_and_reasons_are_seeded(db):
    assert dict(VaccineProduct.objects.values_list("code", "course_doses")) == {
        "bibp": 2,
        "wibp": 2,
        "sinovac": 2,
        "zf2001": 3,
        "ad5": 1,
    }
    assert not VaccineProduct.objects.get(code="zf2001").booster_needed
