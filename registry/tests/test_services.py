"""Registry writes: validation messages, no half-written rows, history with who and why, scoping."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.testing import make_id_number
from registry.models import Household, Resident
from registry.services import (
    ResidentData,
    change_living_status,
    create_household,
    create_resident,
    retire_resident,
    update_resident,
)


def _data(resident: Resident, **changes) -> ResidentData:
    values: dict[str, Any] = {
        "name": resident.name,
        "id_number": resident.id_number,
        "phone": resident.phone,
        "relation": resident.relation,
        "marital_status": resident.marital_status,
        "arrived_on": resident.arrived_on,
    }
    values.update(changes)
    return ResidentData(**values)


def test_bad_checksum_is_refused_with_the_reason_and_nothing_is_stored(world):
    before = Resident.objects.count()
    with pytest.raises(ValidationError) as exc:
        create_resident(
            data=ResidentData(name="赵六", id_number="110105194912310021"), unit=world.east_b1, by=world.user("carol")
        )
    assert exc.value.message_dict["id_number"] == ["身份证号校验位错误"]
    assert Resident.objects.count() == before


def test_duplicate_id_number_refused_until_the_first_record_is_retired(world):
    carol = world.user("carol")
    zhang = world.residents["zhang"]
    with pytest.raises(ValidationError) as exc:
        create_resident(data=ResidentData(name="张伟", id_number=zhang.id_number), unit=world.east_b1, by=carol)
    assert exc.value.message_dict["id_number"] == ["该证件号码已登记"]
    retire_resident(resident=zhang, by=carol, reason="重复录入")
    again = create_resident(data=ResidentData(name="张伟", id_number=zhang.id_number), unit=world.east_b1, by=carol)
    assert Resident.objects.filter(id_number=zhang.id_number).count() == 2 and again.retired_at is None


def test_update_writes_a_version_with_who_and_why(world):
    carol = world.user("carol")
    zhang = world.residents["zhang"]
    changed = update_resident(resident=zhang, data=_data(zhang, phone="13900000009"), by=carol, reason="电话变更")
    assert changed == ["phone"]
    latest = zhang.history.order_by("-history_date", "-history_id").first()
    assert (latest.history_user, latest.history_change_reason, latest.phone) == (carol, "电话变更", "13900000009")
    assert update_resident(resident=zhang, data=_data(zhang), by=carol) == []  # nothing to do, no empty version
    assert zhang.history.count() == 2


def test_id_number_cannot_be_changed_by_an_update(world):
    zhang = world.residents["zhang"]
    other = make_id_number(zhang.birth_date, "M")
    with pytest.raises(ValidationError) as exc:
        update_resident(resident=zhang, data=_data(zhang, id_number=other), by=world.user("carol"))
    assert "证件号码不能直接修改" in exc.value.message_dict["id_number"][0]


def test_a_user_cannot_write_outside_his_subtree(world):
    carol = world.user("carol")
    wang = world.residents["wang"]
    with pytest.raises(PermissionDenied):
        update_resident(resident=wang, data=_data(wang, phone="13900000009"), by=carol)
    with pytest.raises(PermissionDenied):
        create_household(unit=world.west_b1, door="999", by=carol)
    wang.refresh_from_db()
    assert wang.phone == "13800000003"


def test_living_status_moves_and_their_dates(world):
    carol = world.user("carol")
    zhang = world.residents["zhang"]
    today = timezone.localdate()
    with pytest.raises(ValidationError):
        change_living_status(resident=zhang, status="away", on=today + dt.timedelta(days=1), by=carol)
    with pytest.raises(ValidationError):
        change_living_status(resident=zhang, status="away", on=dt.date(2000, 1, 1), by=carol)  # before arrival
    change_living_status(resident=zhang, status="moved_out", on=today, by=carol, reason="迁往外地")
    zhang.refresh_from_db()
    assert (zhang.living_status, zhang.left_on, zhang.status_since) == ("moved_out", today, today)
    change_living_status(resident=zhang, status="resident", on=today, by=carol, reason="迁回")
    zhang.refresh_from_db()
    assert zhang.left_on is None


def test_retire_needs_a_reason_and_happens_once(world):
    carol = world.user("carol")
    zhang = world.residents["zhang"]
    with pytest.raises(ValidationError) as exc:
        retire_resident(resident=zhang, by=carol, reason="  ")
    assert exc.value.message_dict["reason"] == ["作废必须填写原因"]
    retire_resident(resident=zhang, by=carol, reason="重复录入")
    first = Resident.objects.get(pk=zhang.pk).retired_at
    with pytest.raises(ValidationError):
        retire_resident(resident=zhang, by=carol, reason="再次作废")
    with pytest.raises(ValidationError):
        change_living_status(resident=zhang, status="away", on=timezone.localdate(), by=carol)
    zhang.refresh_from_db()
    assert zhang.retired_at == first and zhang.retired_reason == "重复录入"
    assert zhang.history.filter(history_change_reason="重复录入").exists()


def test_household_input_is_checked_field_by_field(world):
    carol = world.user("carol")
    with pytest.raises(ValidationError) as exc:
        create_household(unit=world.east_b1, door="x" * 31, entrance="1" * 21, household_type="castle", by=carol)
    assert set(exc.value.message_dict) == {"door", "entrance", "household_type"}
    with pytest.raises(ValidationError) as exc:
        create_household(unit=world.east_b1, door="101", entrance="1单元", by=carol)  # zhang's address
    assert exc.value.message_dict["door"] == ["该地址已有在册的户"]
    with pytest.raises(ValidationError) as exc:
        create_household(unit=world.east, door="1", by=world.user("bob"))  # a street holds no households
    assert exc.value.message_dict["unit"] == ["户只能登记在社区、网格或楼栋下"]
    hh = create_household(unit=world.east_b1, door=" 102 ", entrance="2单元", head_name=" 陈 ", by=carol)
    assert (hh.door, hh.entrance, hh.head_name, hh.address) == ("102", "2", "陈", "1号楼 2单元 102")
    assert Household.objects.filter(unit=world.east_b1).count() == 2


def test_a_change_through_the_created_object_is_dated_now_not_at_arrival(world):
    carol = world.user("carol")
    zhang = world.residents["zhang"]  # the very object create_resident returned (its creation is dated 2016)
    change_living_status(resident=zhang, status="away", on=timezone.localdate(), by=carol, reason="外出务工")
    latest = zhang.history.order_by("-history_id").first()
    assert latest.history_date.date() >= timezone.localdate() - dt.timedelta(days=1)
    first = zhang.history.order_by("history_id").first()
    assert timezone.localtime(first.history_date).date() == dt.date(2016, 1, 1)
