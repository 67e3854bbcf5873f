"""应检尽检 over HTTP (/api/testing/routine/): the same selectors, services, scoping and masking as the
pages. ID numbers are always masked; phones as the role's policy says. Recording a test is idempotent:
the first POST of a member and day answers 201, a repeat answers 200 with the stored record.
"""

# No `from __future__ import annotations`: ninja's @paginate wraps the views, and the wrapper's
# module could not resolve postponed annotations such as `dt.date` in the query parameters.
import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from accounts.permissions import require
from accounts.rules import mask_id_number, shown_phone
from core.http import AuthedRequest
from core.pages import unit_by_code
from orgunits.models import OrgUnit
from testing.models import KeyGroup, KeyGroupMember
from testing.routine import rules, selectors, services

router = Router(tags=["应检尽检"])
DEFAULT_DAYS = 28


def _unit(request: AuthedRequest, code: str) -> OrgUnit | None:
    """Without a code, the whole of the user's scope (not his own unit alone)."""
    return unit_by_code(request, code) if code else None


def _group(request: AuthedRequest, pk: int | None) -> KeyGroup | None:
    if pk is None:
        return None
    return get_object_or_404(selectors.groups_for(request.user), pk=pk)


class GroupOut(Schema):
    id: int
    name: str
    unit_id: int
    unit_name: str
    retired_on: dt.date | None
    members: int
    unbatched: int
    by_unit: dict[str, int]


@router.get("/groups", response=list[GroupOut], summary="应检人群及在册人数（按社区；本辖区）")
def list_groups(request: AuthedRequest, on: dt.date | None = None, unit: str = "") -> Any:
    day = on or timezone.localdate()
    groups = list(selectors.groups_for(request.user).order_by("unit__path", "pk"))
    figures = selectors.figures(selectors.member_scope(request.user, unit=_unit(request, unit)), groups, day)
    names = {u.pk: u.name for u in figures.units}
    return [
        {
            "id": g.group.pk,
            "name": g.group.name,
            "unit_id": g.group.unit_id,
            "unit_name": g.group.unit.name,
            "retired_on": g.group.retired_on,
            "members": g.members,
            "unbatched": g.unbatched,
            "by_unit": {names[k]: v for k, v in g.by_unit.items()},
        }
        for g in figures.groups
    ]


class MemberOut(Schema):
    id: int
    group_id: int
    name: str
    id_number: str
    phone: str
    unit_id: int
    unit_name: str
    workplace: str
    batch: int | None
    joined_on: dt.date
    left_on: dt.date | None
    left_reason: str
    resident_id: int | None

    @staticmethod
    def resolve_unit_name(obj: KeyGroupMember) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_id_number(obj: KeyGroupMember) -> str:
        return mask_id_number(obj.id_number)

    @staticmethod
    def resolve_phone(obj: KeyGroupMember, context: Any) -> str:
        return shown_phone(context["request"].user.role, obj.phone)


@router.get("/groups/{group_id}/members", response=list[MemberOut], summary="应检人员（证件号码脱敏）")
@paginate(LimitOffsetPagination)
def list_members(
    request: AuthedRequest, group_id: int, unit: str = "", batch: int | None = None, active: bool = True
) -> Any:
    group = _group(request, group_id)
    qs = selectors.member_scope(request.user, unit=_unit(request, unit), group=group).select_related("unit")
    if active:
        qs = qs.filter(left_on__isnull=True)
    if batch is not None:
        qs = qs.filter(batch=batch)
    return qs.order_by("unit__path", "batch", "name", "pk")


class CycleOut(Schema):
    day: dt.date
    batch: int | None
    sites: list[str]
    due: int
    tested: int
    missed: int
    made_up: int
    outstanding: int
    completion_percent: Decimal | None


def _cycle(c: rules.CycleCounts) -> dict[str, Any]:
    return {
        "day": c.cycle.day,
        "batch": c.cycle.batch,
        "sites": list(c.cycle.sites),
        "due": c.due,
        "tested": c.tested,
        "missed": c.missed,
        "made_up": c.made_up,
        "outstanding": c.outstanding,
        "completion_percent": c.completion,
    }


@router.get("/cycles", response=list[CycleOut], summary="检测批次：应检、按时检测、漏检、补检人数")
def list_cycles(
    request: AuthedRequest,
    start: dt.date | None = None,
    end: dt.date | None = None,
    group: int | None = None,
    unit: str = "",
) -> Any:
    today = timezone.localdate()
    last = min(end or today, today)
    first = start or last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationError({"start": _("起始日期晚于截止日期")})
    if (last - first).days > 400:
        raise ValidationError({"start": _("一次最多查询400天")})
    counts = selectors.cycle_table(
        request.user, first, last, today=today, unit=_unit(request, unit), group=_group(request, group)
    )
    return [_cycle(c) for c in counts]


class MissedOut(Schema):
    member_id: int
    group_id: int
    group_name: str
    name: str
    id_number: str
    phone: str
    unit_name: str
    workplace: str
    batch: int | None
    status: str
    window_end: dt.date


@router.get("/cycles/{day}/missed", response=list[MissedOut], summary="某检测日应检未检人员（通知补检）")
def cycle_missed(
    request: AuthedRequest, day: dt.date, batch: int | None = None, group: int | None = None, unit: str = ""
) -> Any:
    today = timezone.localdate()
    if day > today:
        raise ValidationError({"day": _("检测日期不能晚于今天")})
    detail = selectors.cycle_detail(
        request.user,
        day,
        today=today,
        batch=batch,
        any_batch=batch is None,
        unit=_unit(request, unit),
        group=_group(request, group),
    )
    role = request.user.role
    return [
        {
            "member_id": r.member.pk,
            "group_id": r.member.group_id,
            "group_name": r.group_name,
            "name": r.member.name,
            "id_number": mask_id_number(r.member.id_number),
            "phone": shown_phone(role, r.member.phone),
            "unit_name": r.unit_name,
            "workplace": r.member.workplace,
            "batch": r.member.batch,
            "status": r.due.status.value,
            "window_end": r.due.window_end,
        }
        for r in detail.outstanding
    ]


class RecordIn(Schema):
    """A member's test: ``member_id``, or an ``id_number`` (every group the person is a member of that day)."""

    tested_on: dt.date
    member_id: int | None = None
    id_number: str = ""
    site: str = ""


class RecordOut(Schema):
    id: int
    member_id: int
    tested_on: dt.date
    source: str
    site: str
    created: bool


@router.post("/tests", response={200: list[RecordOut], 201: list[RecordOut]}, summary="登记检测（同日只记一次）")
def create_test(request: AuthedRequest, payload: RecordIn) -> Any:
    require(request.user, "can_write")
    if payload.member_id is not None:
        members = [get_object_or_404(selectors.members_for(request.user), pk=payload.member_id)]
    elif payload.id_number.strip():
        number = services.clean_id_number(payload.id_number)
        members = [
            m
            for m in selectors.find_member_rows(request.user, number)
            if rules.is_member_on(rules.Membership(m.joined_on, m.left_on), payload.tested_on)
        ]
        if not members:
            raise ValidationError({"id_number": _("该证件号码在该日期不是应检人员（或不在您的管辖范围内）")})
    else:
        raise ValidationError({"member_id": _("请指定应检人员（member_id）或证件号码（id_number）")})
    out = []
    for m in members:
        test, created = services.record_test(member=m, tested_on=payload.tested_on, site=payload.site, by=request.user)
        out.append(
            {
                "id": test.pk,
                "member_id": m.pk,
                "tested_on": test.tested_on,
                "source": test.source,
                "site": test.site,
                "created": created,
            }
        )
    return Status(201 if any(o["created"] for o in out) else 200, out)
