"""What each role may do. Pure data and functions: the single home of permission rules.

Scoping (which rows a user sees) lives in core.scoping; this module answers
"may this role do X at all" and how sensitive fields are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Role


@dataclass(frozen=True)
class RolePolicy:
    can_write: bool
    can_manage_units: bool
    can_manage_users: bool
    can_import: bool
    can_export: bool
    sees_full_id_number: bool
    sees_full_phone: bool
    # 计生: define schemes and their standards (data every office shares) / submit annual applications.
    can_manage_schemes: bool = False
    can_apply_funds: bool = False


POLICIES: dict[str, RolePolicy] = {
    Role.DISTRICT_ADMIN: RolePolicy(True, True, True, True, True, True, True, True, True),
    Role.STREET_STAFF: RolePolicy(True, True, False, True, True, True, True, False, True),
    Role.COMMUNITY_STAFF: RolePolicy(True, False, False, True, True, True, True, False, True),
    # Grid workers phone the people of their grid but do not need full ID numbers.
    Role.GRID_WORKER: RolePolicy(True, False, False, False, True, False, True),
    Role.VILLAGE_DOCTOR: RolePolicy(True, False, False, False, True, False, True),
    Role.LEADER_READONLY: RolePolicy(False, False, False, False, True, False, False),
}


def policy(role: str) -> RolePolicy:
    return POLICIES[role]


def mask_id_number(value: str) -> str:
    """110105194912310021 -> 110105********0021: region kept, birth date hidden."""
    if not value:
        return ""
    if len(value) <= 4:
        return "*" * len(value)
    if len(value) < 10:
        return value[:1] + "*" * (len(value) - 3) + value[-2:]
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """13812345678 -> 138****5678."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def shown_id_number(role: str, value: str, *, reveal: bool = False) -> str:
    return value if reveal and policy(role).sees_full_id_number else mask_id_number(value)


def shown_phone(role: str, value: str) -> str:
    return value if policy(role).sees_full_phone else mask_phone(value)
