"""The one place where "which rows may this user see" is decided.

Every selector, view, export, API endpoint and background job narrows its
querysets through these functions. A user sees and changes only the subtree
of his own org unit; a user without a unit sees nothing (superusers see all).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import CharField, F, Func, Model, Q, QuerySet
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.utils.translation import gettext as _

from orgunits.models import PATH_END, OrgUnit

if TYPE_CHECKING:
    from accounts.models import User

NOTHING = Q(pk__in=[])


def unit_q(user: User, unit_field: str = "unit", *, path_index: bool = True) -> Q:
    """A Q that keeps rows whose ``unit_field`` (a FK to OrgUnit, or "" for OrgUnit itself) is in scope.

    ``path_index=False`` keeps the same rows but tells SQLite not to start the query from the
    org-unit path index (see ``path_range_q``).
    """
    if user.is_superuser and user.org_unit_id is None:
        return Q()
    root = user.org_unit
    if root is None or not user.is_active:
        return NOTHING
    prefix = f"{unit_field}__" if unit_field else ""
    return path_range_q(f"{prefix}path", root.path, root.path + PATH_END, index=path_index)


def path_range_q(field: str, low: str, high: str, *, index: bool = True) -> Q:
    """Rows whose ``field`` (a path) lies in [low, high); ``index=False`` keeps it off the index on SQLite.

    Without statistics on ranges, SQLite guesses every range equally selective and starts a
    join from the smaller table: for a search in a large subtree that means reading every
    resident of the subtree instead of the few rows the search term's own index finds.
    Written as ``+path`` (SQLite's no-op unary plus, same value and collation) the condition
    is still checked on each row but can no longer choose the index. PostgreSQL keeps its
    statistics-based plan: the plain condition there.
    """
    if index or connection.vendor != "sqlite":
        return Q(**{f"{field}__gte": low, f"{field}__lt": high})
    column = Func(F(field), template="+%(expressions)s", output_field=CharField())
    return Q(GreaterThanOrEqual(column, low), LessThan(column, high))


def scoped[M: Model](qs: QuerySet[M], user: User, unit_field: str = "unit", *, path_index: bool = True) -> QuerySet[M]:
    return qs.filter(unit_q(user, unit_field, path_index=path_index))


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
