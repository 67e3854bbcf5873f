"""Writes for accounts: users, API tokens, the access log."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AccessLog, ApiToken, Role, User
from orgunits.models import OrgUnit


@transaction.atomic
def create_user(
    *, username: str, password: str, role: str, org_unit: OrgUnit | None, full_name: str = "", phone: str = ""
) -> User:
    if role not in Role.values:
        raise ValidationError({"role": _("角色不正确")})
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("用户名已存在")})
    user = User(username=username, role=role, org_unit=org_unit, full_name=full_name, phone=phone)
    user.set_password(password)
    user.save()
    return user


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def issue_token(*, user: User, name: str) -> str:
    """Create a token and return its clear text: shown once, only the hash is kept."""
    key = "ybz_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, key_hash=hash_token(key), prefix=key[4:12])
    return key


def user_for_token(key: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user", "user__org_unit")
        .filter(key_hash=hash_token(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = now
        token.save(update_fields=["last_used_at"])
    return token.user


def revoke_token(*, token: ApiToken) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])


def log_access(*, user: Any, action: str, object_type: str = "", object_id: object = "", **detail: Any) -> AccessLog:
    return AccessLog.objects.create(
        user=user, action=action, object_type=object_type, object_id=str(object_id), detail=detail
    )
