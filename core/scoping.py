"""The one place where "which rows may this user see" is decided.

Every selector, view, export, API endpoint and background job narrows its
querysets through these functions. A user sees and changes only the subtree
of his own org unit; a user without a unit sees nothing (superusers see all).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from orgunits.models import PATH_END, OrgUnit

if TYPE_CHECKING:
    from accounts.models import User

NOTHING = Q(pk__in=[])


def unit_q(user: User, unit_field: str = "unit") -> Q:
    """A Q that keeps rows whose ``unit_field`` (a FK to OrgUnit, or "" for OrgUnit itself) is in scope."""
    if user.is_superuser and user.org_unit_id is None:
        return Q()
    root = user.org_unit
    if root is None or not user.is_active:
        return NOTHING
    prefix = f"{unit_field}__" if unit_field else ""
    return Q(**{f"{prefix}path__gte": root.path, f"{prefix}path__lt": root.path + PATH_END})


def scoped[M: Model](qs: QuerySet[M], user: User, unit_field: str = "unit") -> QuerySet[M]:
    return qs.filter(unit_q(user, unit_field))


def unit_in_scope(user: User, unit: OrgUnit) -> bool:
    if user.is_superuser and user.org_unit_id is None:
        return True
    root = user.org_unit
    return bool(root and user.is_active and unit.path.startswith(root.path))


def require_unit(user: User, unit: OrgUnit) -> None:
    if not unit_in_scope(user, unit):
        raise PermissionDenied(_("该单位不在您的管辖范围内"))


def visible_units(user: User) -> QuerySet[OrgUnit]:
    return scoped(OrgUnit.objects.all(), user, unit_field="")
