from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from core.http import AuthedRequest
from core.scoping import visible_units
from orgunits.models import OrgUnit
from registry.selectors import population_figures

router = Router(tags=["行政区划"])


class UnitOut(Schema):
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    capacity_households: int
    retired_on: dt.date | None


class UnitDetail(UnitOut):
    ancestors: list[UnitOut]


@router.get("", response=list[UnitOut], summary="单位列表（本单位及下级）")
@paginate(LimitOffsetPagination)
def list_units(request: AuthedRequest, parent: int | None = None, level: str = "", q: str = "") -> Any:
    qs = visible_units(request.user).filter(retired_on__isnull=True)  # type: ignore[arg-type]
    if parent is not None:
        qs = qs.filter(parent_id=parent)
    if level:
        qs = qs.filter(level=level)
    if q:
        qs = qs.filter(name__contains=q) | qs.filter(code__startswith=q)
    return qs.order_by("path")


def _unit(request: AuthedRequest, pk: int) -> OrgUnit:
    return get_object_or_404(visible_units(request.user), pk=pk)  # type: ignore[arg-type]


@router.get("/{unit_id}", response=UnitDetail, summary="单位详情")
def get_unit(request: AuthedRequest, unit_id: int) -> Any:
    unit = _unit(request, unit_id)
    unit.ancestors_list = list(unit.ancestors().exclude(pk=unit.pk))  # type: ignore[attr-defined]
    return {**UnitOut.from_orm(unit).dict(), "ancestors": unit.ancestors_list}  # type: ignore[attr-defined]


@router.get("/{unit_id}/figures", response=dict[str, int], summary="人口指标（可指定截至日期）")
def unit_figures(request: AuthedRequest, unit_id: int, on: dt.date | None = None) -> Any:
    unit = _unit(request, unit_id)
    if on and on > timezone.localdate():
        raise HttpError(422, "截至日期不能晚于今天")
    return population_figures(unit, on=on).as_dict()
