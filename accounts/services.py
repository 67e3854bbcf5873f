"""Writes for accounts: users, API tokens, the access log."""

from __future__ import annotations

import copy
import hashlib
import secrets
from time import monotonic
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


# A token's user is kept in each worker process for this many seconds after it was looked up: the
# checkpoint phones post several times a second and each lookup cost a query with two joins. This is
# the window in which a revoked token (revoked_at set, in the admin or elsewhere), a deactivated user,
# or a changed role or unit may still be honoured by a worker that has it cached; revoke_token also
# drops the token from its own process's cache at once. 0 turns the cache off.
TOKEN_CACHE_SECONDS = 30.0
_token_cache: dict[str, tuple[float, User]] = {}
_TOKEN_CACHE_MAX = 1000


def user_for_token(key: str) -> User | None:
    """The active user of an unrevoked token (see TOKEN_CACHE_SECONDS for how fresh), or None.

    Each call gets its own copy of the user: a request may change attributes of request.user."""
    key_hash = hash_token(key)
    now = monotonic()
    cached = _token_cache.get(key_hash)
    if cached is not None and cached[0] > now:
        return copy.copy(cached[1])
    token = (
        ApiToken.objects.select_related("user", "user__org_unit")
        .filter(key_hash=key_hash, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        _token_cache.pop(key_hash, None)
        return None
    stamped = timezone.now()
    if token.last_used_at is None or (stamped - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=stamped)
    if TOKEN_CACHE_SECONDS > 0:
        if len(_token_cache) >= _TOKEN_CACHE_MAX:
            _token_cache.clear()
        _token_cache[key_hash] = (now + TOKEN_CACHE_SECONDS, token.user)
    return copy.copy(token.user)


def forget_cached_tokens() -> None:
    """Empty this process's token cache (tests; after revoking tokens in bulk)."""
    _token_cache.clear()


def revoke_token(*, token: ApiToken) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    _token_cache.pop(token.key_hash, None)


def log_access(*, user: Any, action: str, object_type: str = "", object_id: object = "", **detail: Any) -> AccessLog:
    return AccessLog.objects.create(
        user=user, action=action, object_type=object_type, object_id=str(object_id), detail=detail
    )
