import pytest

from accounts.models import Role
from accounts.rules import mask_id_number, mask_phone, policy, shown_id_number, shown_phone


def test_id_number_mask_keeps_region_and_last_four():
    assert mask_id_number("11010519491231002X") == "110105********002X"


def test_phone_mask_keeps_prefix_and_last_four():
    assert mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize(
    ("role", "id_visible", "phone_visible"),
    [
        (Role.DISTRICT_ADMIN, True, True),
        (Role.STREET_STAFF, True, True),
        (Role.COMMUNITY_STAFF, True, True),
        (Role.GRID_WORKER, False, True),
        (Role.VILLAGE_DOCTOR, False, True),
        (Role.LEADER_READONLY, False, False),
    ],
)
def test_what_each_role_sees(role, id_visible, phone_visible):
    full_id, phone = "11010519491231002X", "13812345678"
    assert (shown_id_number(role, full_id, reveal=True) == full_id) is id_visible
    assert (shown_phone(role, phone) == phone) is phone_visible
    # Lists never show the full number, whatever the role.
    assert shown_id_number(role, full_id) == "110105********002X"


def test_only_the_leader_role_is_read_only():
    assert [r for r in Role.values if not policy(r).can_write] == [Role.LEADER_READONLY]
