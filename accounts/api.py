from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ninja import Router, Schema

from accounts.rules import policy
from core.http import AuthedRequest

router = Router(tags=["账号"])


class UnitRef(Schema):
    id: int
    code: str
    name: str
    level: str


class Me(Schema):
    username: str
    full_name: str
    role: str
    role_label: str
    org_unit: UnitRef | None
    permissions: dict[str, bool]


@router.get("/me", response=Me, summary="当前用户、角色与权限")
def me(request: AuthedRequest) -> dict[str, Any]:
    user: Any = request.user
    unit = user.org_unit
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "role_label": str(user.get_role_display()),
        "org_unit": {"id": unit.pk, "code": unit.code, "name": unit.name, "level": unit.level} if unit else None,
        "permissions": asdict(policy(user.role)),
    }
