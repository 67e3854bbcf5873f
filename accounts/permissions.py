"""Permission checks for views and the API: the role's policy, in one place."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.rules import RolePolicy, policy

MESSAGES = {
    "can_write": "您的角色只能查看，不能修改数据",
    "can_manage_units": "您的角色不能调整行政区划",
    "can_import": "您的角色不能导入数据",
    "can_export": "您的角色不能导出数据",
    "can_manage_users": "您的角色不能管理用户",
    "sees_full_id_number": "您的角色不能查看完整证件号码",
    "can_manage_schemes": "只有区级管理员可以设置扶助项目和标准",
    "can_apply_funds": "您的角色不能提交年度申报",
}


def user_policy(user: Any) -> RolePolicy:
    return policy(user.role)


def require(user: Any, permission: str) -> None:
    if not getattr(user_policy(user), permission):
        raise PermissionDenied(_(MESSAGES[permission]))
