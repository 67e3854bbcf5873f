"""Residents and households over HTTP; the same services, selectors and masking as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from accounts.models import AccessAction
from accounts.permissions import require
from accounts.rules import mask_id_number, shown_phone
from accounts.services import log_access
from core.http import AuthedRequest
from core.scoping import require_unit, visible_units
from orgunits.models import OrgUnit
from registry.models import Household, Resident
from registry.selectors import filter_residents, households_for, residents_for
from registry.services import (
    ResidentData,
    change_living_status,
    create_household,
    create_resident,
    retire_resident,
    update_resident,
)

router = Router(tags=["居民"])
households = Router(tags=["户"])


class ResidentBase(Schema):
    id: int
    name: str
    id_type: str
    id_number: str
    sex: str
    birth_date: dt.date
    phone: str
    unit_id: int
    household_id: int | None
    relation: str
    registered: bool
    living_status: str
    status_since: dt.date
    arrived_on: dt.date
    left_on: dt.date | None
    marital_status: str
    tags: list[str]
    note: str


class ResidentOut(ResidentBase):
    """List rows: the ID number always masked, the phone as the role may see it."""

    @staticmethod
    def resolve_id_number(obj: Resident) -> str:
        return mask_id_number(obj.id_number)

    @staticmethod
    def resolve_phone(obj: Resident, context: Any) -> str:
        return shown_phone(context["request"].user.role, obj.phone)

    @staticmethod
    def resolve_tags(obj: Resident) -> list[str]:
        return [t.name for t in obj.tags.all()]


class VersionOut(Schema):
    date: dt.datetime
    user: str | None
    type: str
    reason: str | None


class ResidentDetail(ResidentBase):
    history: list[VersionOut]


class ResidentIn(Schema):
    name: str
    id_number: str
    id_type: str = "resident_id"
    sex: str = ""
    birth_date: dt.date | None = None
    phone: str = ""
    unit_id: int
    household_id: int | None = None
    relation: str = "other"
    registered: bool = True
    living_status: str = "resident"
    arrived_on: dt.date | None = None
    marital_status: str = "unknown"
    tags: list[str] = []
    note: str = ""


class ResidentPatch(Schema):
    name: str | None = None
    phone: str | None = None
    relation: str | None = None
    registered: bool | None = None
    marital_status: str | None = None
    tags: list[str] | None = None
    note: str | None = None
    unit_id: int | None = None
    reason: str = ""


class StatusIn(Schema):
    living_status: str
    on: dt.date
    reason: str


class RetireIn(Schema):
    reason: str


def _out(request: AuthedRequest, r: Resident, *, reveal: bool = False) -> dict[str, Any]:
    role = request.user.role  # type: ignore[union-attr]
    return {
        **{f: getattr(r, f) for f in ResidentBase.model_fields if f not in {"id_number", "phone", "tags"}},
        "id_number": r.id_number if reveal else mask_id_number(r.id_number),
        "phone": shown_phone(role, r.phone),
        "tags": [t.name for t in r.tags.all()],
    }


def _resident(request: AuthedRequest, pk: int) -> Resident:
    return get_object_or_404(residents_for(request.user), pk=pk)  # type: ignore[arg-type]


def _unit(request: AuthedRequest, pk: int) -> OrgUnit:
    unit = OrgUnit.objects.filter(pk=pk).first()
    if unit is None:
        from django.http import Http404

        raise Http404
    require_unit(request.user, unit)  # type: ignore[arg-type]
    return unit


@router.get("", response=list[ResidentOut], summary="居民列表/搜索（证件号码脱敏）")
@paginate(LimitOffsetPagination)
def list_residents(
    request: AuthedRequest, q: str = "", unit: int | None = None, living_status: str = "", sex: str = "", tag: str = ""
) -> Any:
    scope = get_object_or_404(visible_units(request.user), pk=unit) if unit else None  # type: ignore[arg-type]
    qs = filter_residents(
        request.user,  # type: ignore[arg-type]
        {"q": q, "living_status": living_status, "sex": sex, "tag": tag},
        unit=scope,
    ).prefetch_related("tags")
    return qs


@router.get("/{resident_id}", response=ResidentDetail, summary="居民详情（reveal=1 显示完整证件号，会记录日志）")
def get_resident(request: AuthedRequest, resident_id: int, reveal: bool = False) -> Any:
    r = _resident(request, resident_id)
    if reveal:
        require(request.user, "sees_full_id_number")
        log_access(user=request.user, action=AccessAction.VIEW_ID_NUMBER, object_type="resident", object_id=r.pk)
    versions = [
        {
            "date": v.history_date,
            "user": str(v.history_user) if v.history_user else None,
            "type": v.history_type,
            "reason": v.history_change_reason,
        }
        for v in r.history.select_related("history_user")[:50]
    ]
    return {**_out(request, r, reveal=reveal), "history": versions}


@router.post("", response={201: ResidentBase}, summary="登记居民")
def create(request: AuthedRequest, payload: ResidentIn) -> Any:
    require(request.user, "can_write")
    unit = _unit(request, payload.unit_id)
    household = (
        get_object_or_404(households_for(request.user), pk=payload.household_id) if payload.household_id else None
    )  # type: ignore[arg-type]
    data = ResidentData(**payload.dict(exclude={"unit_id", "household_id"}))
    r = create_resident(data=data, unit=unit, household=household, by=request.user)  # type: ignore[arg-type]
    return Status(201, _out(request, r))


@router.patch("/{resident_id}", response=ResidentBase, summary="修改居民信息（只改给出的字段）")
def patch(request: AuthedRequest, resident_id: int, payload: ResidentPatch) -> Any:
    r = _resident(request, resident_id)
    require(request.user, "can_write")
    given = payload.dict(exclude_unset=True)
    data = ResidentData(
        name=given.get("name", r.name),
        id_number=r.id_number,
        id_type=r.id_type,
        sex=r.sex,
        birth_date=r.birth_date,
        phone=given.get("phone", r.phone),
        relation=given.get("relation", r.relation),
        registered=given.get("registered", r.registered),
        living_status=r.living_status,
        status_since=r.status_since,
        arrived_on=r.arrived_on,
        marital_status=given.get("marital_status", r.marital_status),
        tags=given["tags"] if "tags" in given else [t.name for t in r.tags.all()],
        note=given.get("note", r.note),
    )
    unit = _unit(request, given["unit_id"]) if given.get("unit_id") else None
    update_resident(resident=r, data=data, by=request.user, reason=payload.reason, unit=unit)  # type: ignore[arg-type]
    r.refresh_from_db()
    return _out(request, r)


@router.post("/{resident_id}/status", response=ResidentBase, summary="变更居住状态（外出/迁出/死亡…）")
def status(request: AuthedRequest, resident_id: int, payload: StatusIn) -> Any:
    r = _resident(request, resident_id)
    require(request.user, "can_write")
    change_living_status(
        resident=r, status=payload.living_status, on=payload.on, by=request.user, reason=payload.reason
    )  # type: ignore[arg-type]
    return _out(request, r)


@router.post("/{resident_id}/retire", response={204: None}, summary="作废误录记录（保留历史）")
def retire(request: AuthedRequest, resident_id: int, payload: RetireIn) -> Any:
    r = _resident(request, resident_id)
    require(request.user, "can_write")
    retire_resident(resident=r, by=request.user, reason=payload.reason)  # type: ignore[arg-type]
    return Status(204, None)


class HouseholdOut(Schema):
    id: int
    unit_id: int
    entrance: str
    door: str
    household_type: str
    head_name: str
    occupied_since: dt.date | None


class HouseholdDetail(HouseholdOut):
    members: list[ResidentBase]


class HouseholdIn(Schema):
    unit_id: int
    door: str
    entrance: str = ""
    household_type: str = "permanent"
    head_name: str = ""
    occupied_since: dt.date | None = None


@households.get("", response=list[HouseholdOut], summary="户列表")
@paginate(LimitOffsetPagination)
def list_households(request: AuthedRequest, unit: int | None = None, q: str = "") -> Any:
    qs = households_for(request.user)  # type: ignore[arg-type]
    if unit:
        scope = get_object_or_404(visible_units(request.user), pk=unit)  # type: ignore[arg-type]
        qs = qs.filter(unit__path__gte=scope.path, unit__path__lt=scope.path_end)
    if q:
        qs = qs.filter(head_name__startswith=q) | qs.filter(door__startswith=q)
    return qs.order_by("unit__path", "entrance", "door")


@households.get("/{household_id}", response=HouseholdDetail, summary="户详情（含成员）")
def get_household(request: AuthedRequest, household_id: int) -> Any:
    hh = get_object_or_404(households_for(request.user), pk=household_id)  # type: ignore[arg-type]
    members = residents_for(request.user).filter(household=hh).prefetch_related("tags")  # type: ignore[arg-type]
    return {**HouseholdOut.from_orm(hh).dict(), "members": [_out(request, m) for m in members]}


@households.post("", response={201: HouseholdOut}, summary="登记新户")
def create_hh(request: AuthedRequest, payload: HouseholdIn) -> Any:
    require(request.user, "can_write")
    unit = _unit(request, payload.unit_id)
    hh = create_household(by=request.user, unit=unit, **payload.dict(exclude={"unit_id"}))  # type: ignore[arg-type]
    return Status(201, hh)


__all__ = ["Household", "households", "router"]
