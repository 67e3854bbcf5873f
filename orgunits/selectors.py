"""Reads of the org tree."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from orgunits.models import PATH_END, OrgUnit


def subtree(unit: OrgUnit, *, include_retired: bool = False) -> QuerySet[OrgUnit]:
    qs = OrgUnit.objects.filter(path__gte=unit.path, path__lt=unit.path + PATH_END)
    if not include_retired:
        qs = qs.filter(retired_on__isnull=True)
    return qs


def children(unit: OrgUnit, *, include_retired: bool = False) -> QuerySet[OrgUnit]:
    qs = OrgUnit.objects.filter(parent=unit)
    if not include_retired:
        qs = qs.filter(retired_on__isnull=True)
    return qs.order_by("code")


def unit_by_code(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code.strip())


def subtree_ids_on(unit: OrgUnit, on: dt.date) -> set[int]:
    """Ids of the units that were in ``unit``'s subtree at the end of ``on``, per the tree's history.

    Moves and merges are recorded with their effective date as history date, so
    a past date sees the tree as it was then.
    """
    from core.history import latest_versions

    versions = latest_versions(OrgUnit.history.model, on, fields=["id", "path", "retired_on"])
    own = versions.get(unit.pk)
    root_path = own["path"] if own else unit.path
    return {
        pk
        for pk, row in versions.items()
        if row["path"].startswith(root_path) and (row["retired_on"] is None or row["retired_on"] > on)
    }
