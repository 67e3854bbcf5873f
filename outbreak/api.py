"""疫情防控 over HTTP (/api/outbreak/): the same selectors, services, scoping, permissions and masking
as the pages. ID numbers are always masked; phones as the role's policy says.

Checkpoint crossings are idempotent by the phone's ``client_id``: the first POST answers 201, a retry
of the same entry answers 200 with the entry already stored (so a queue may resend blindly).
"""

# No `from __future__ import annotations`: ninja's @paginate wraps the views, and the wrapper's
# module could not resolve postponed annotations such as `dt.date` in the query parameters.
import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ValidationError as PydanticValidationError

from accounts.permissions import require
from accounts.rules import mask_id_number, shown_phone
from core.db import prefix_q
from core.http import AuthedRequest
from core.pages import unit_by_code
from orgunits.models import OrgUnit
from outbreak import selectors, services
from outbreak.checkpoint_views import (
    checkpoint_for_crossings,
    checkpoints_for,
    crossing_person,
    get_checkpoint,
    lookup_rows,
)
from outbreak.models import (
    Alert,
    Checkpoint,
    CheckpointEntry,
    DailyReport,
    FollowUp,
    FoundBy,
    Measure,
    PersonKind,
    Screening,
)
from registry.selectors import residents_for

router = Router(tags=["疫情防控"])


def _event(request: AuthedRequest, pk: int) -> Any:
    return get_object_or_404(selectors.events_for(request.user), pk=pk)


def _choice(value: str, allowed: list[str], field: str, message: str) -> None:
    if value not in allowed:
        raise ValidationError({field: message})


# ---- events ---------------------------------------------------------------------------------------------------------


class EventOut(Schema):
    id: int
    unit_id: int
    unit_name: str
    name: str
    disease: str
    started_on: dt.date
    ended_on: dt.date | None
    status: str
    report_deadline: dt.time
    lost_after_days: int

    @staticmethod
    def resolve_unit_name(obj: Any) -> str:
        return str(obj.unit.name)


@router.get("/events", response=list[EventOut], summary="疫情事件（本单位及上级发起的）")
def list_events(request: AuthedRequest) -> Any:
    return selectors.events_for(request.user).order_by("-started_on", "-id")


# ---- screenings -----------------------------------------------------------------------------------------------------


class ScreeningOut(Schema):
    id: int
    event_id: int
    unit_id: int
    unit_name: str
    person_id: int | None
    household_id: int | None
    name: str
    id_number: str
    phone: str
    address: str
    from_area: str
    risk_level: str
    arrival_date: dt.date
    person_kind: str
    measure: str
    measure_start: dt.date
    measure_end: dt.date | None
    status: str
    status_since: dt.date
    household_members: int
    team_grid_worker: str
    team_doctor: str
    team_police: str
    released_on: dt.date | None

    @staticmethod
    def resolve_unit_name(obj: Screening) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_id_number(obj: Screening) -> str:
        return mask_id_number(obj.id_number)

    @staticmethod
    def resolve_phone(obj: Screening, context: Any) -> str:
        return shown_phone(context["request"].user.role, obj.phone)


class ScreeningIn(Schema):
    """A found person: ``resident_id`` of a resident in scope, or a visitor's name, ID number, phone and address."""

    event_id: int
    from_area: str
    arrival_date: dt.date
    found_by: str
    unit_id: int | None = None
    resident_id: int | None = None
    name: str = ""
    id_number: str = ""
    phone: str = ""
    address: str = ""
    person_kind: str = "arrival"
    measure: str | None = None
    household_members: int = 0
    team_grid_worker: str = ""
    team_doctor: str = ""
    team_police: str = ""
    found_on: dt.date | None = None
    note: str = ""


class ScreeningResult(Schema):
    merged: bool
    screening: ScreeningOut


@router.get("/screenings", response=list[ScreeningOut], summary="摸排对象（筛选；证件号码脱敏）")
@paginate(LimitOffsetPagination)
def list_screenings(
    request: AuthedRequest,
    event: int | None = None,
    unit: str = "",
    status: str = "",
    measure: str = "",
    q: str = "",
    arrived_from: dt.date | None = None,
    arrived_to: dt.date | None = None,
) -> Any:
    qs: QuerySet[Screening] = selectors.screenings_for(request.user)
    if event is not None:
        qs = qs.filter(event=_event(request, event))
    if unit:
        scope = unit_by_code(request, unit)
        qs = qs.filter(unit__path__gte=scope.path, unit__path__lt=scope.path_end)
    if status:
        qs = qs.filter(status=status)
    if measure:
        qs = qs.filter(measure=measure)
    q = q.strip()
    if q:
        digits = q.upper()
        qs = qs.filter(prefix_q("name", q) | Q(id_number=digits) | Q(id_number__endswith=digits))
    if arrived_from:
        qs = qs.filter(arrival_date__gte=arrived_from)
    if arrived_to:
        qs = qs.filter(arrival_date__lte=arrived_to)
    return qs.order_by("-arrival_date", "-id")


@router.post("/screenings", response={200: ScreeningResult, 201: ScreeningResult}, summary="摸排登记（同一人合并）")
def create_screening(request: AuthedRequest, payload: ScreeningIn) -> Any:
    require(request.user, "can_write")
    event = _event(request, payload.event_id)
    _choice(payload.found_by, FoundBy.values, "found_by", _("发现途径不正确"))
    _choice(payload.person_kind, PersonKind.values, "person_kind", _("人员类别不正确"))
    if payload.measure is not None:
        _choice(payload.measure, Measure.values, "measure", _("管控措施不正确"))
    person = None
    if payload.resident_id is not None:
        person = get_object_or_404(
            residents_for(request.user).select_related("unit", "household"), pk=payload.resident_id
        )
    if payload.unit_id is not None:
        # A unit that exists but lies outside the subtree is refused by the service (403).
        unit = OrgUnit.objects.filter(pk=payload.unit_id).first()
        if unit is None:
            raise Http404
    elif person is not None:
        unit = person.unit
    else:
        raise ValidationError({"unit_id": _("访客不是在册居民，请指定所在单位（unit_id）")})
    data = services.ScreeningData(
        from_area=payload.from_area,
        arrival_date=payload.arrival_date,
        found_by=payload.found_by,
        person_kind=payload.person_kind,
        person=person,
        name=payload.name,
        id_number=payload.id_number,
        phone=payload.phone,
        address=payload.address,
        household_members=payload.household_members,
        team_grid_worker=payload.team_grid_worker,
        team_doctor=payload.team_doctor,
        team_police=payload.team_police,
        measure=payload.measure,
        found_on=payload.found_on,
        note=payload.note,
    )
    screening, merged = services.screen_person(event=event, unit=unit, data=data, by=request.user)
    fresh = selectors.screenings_for(request.user).filter(pk=screening.pk).first() or screening
    return Status(200 if merged else 201, {"merged": merged, "screening": fresh})


class FollowUpIn(Schema):
    slot: str
    temperature: float | str
    date: dt.date | None = None
    symptoms: list[str] = []
    note: str = ""


class FollowUpOut(Schema):
    id: int
    screening_id: int
    date: dt.date
    slot: str
    temperature: Decimal
    symptoms: list[str]
    note: str
    alerts: list[str]

    @staticmethod
    def resolve_alerts(obj: FollowUp) -> list[str]:
        return [a.detail for a in obj.alerts.all()]


@router.post(
    "/screenings/{screening_id}/followups", response={201: FollowUpOut}, summary="随访（体温、症状；发热或症状即预警）"
)
def create_follow_up(request: AuthedRequest, screening_id: int, payload: FollowUpIn) -> Any:
    screening = get_object_or_404(selectors.screenings_for(request.user), pk=screening_id)
    require(request.user, "can_write")
    follow_up = services.record_follow_up(
        screening=screening,
        date=payload.date or timezone.localdate(),
        slot=payload.slot,
        temperature=payload.temperature,
        symptoms=payload.symptoms,
        note=payload.note,
        by=request.user,
    )
    return Status(201, follow_up)


# ---- alerts ---------------------------------------------------------------------------------------------------------


class AlertOut(Schema):
    id: int
    screening_id: int
    name: str
    unit_id: int
    unit_name: str
    kind: str
    detail: str
    raised_at: dt.datetime
    handled_at: dt.datetime | None
    handling: str

    @staticmethod
    def resolve_name(obj: Alert) -> str:
        return obj.screening.name

    @staticmethod
    def resolve_unit_id(obj: Alert) -> int:
        return obj.screening.unit_id

    @staticmethod
    def resolve_unit_name(obj: Alert) -> str:
        return obj.screening.unit.name


@router.get("/alerts", response=list[AlertOut], summary="预警（open=true 只看未处置的）")
@paginate(LimitOffsetPagination)
def list_alerts(request: AuthedRequest, event: int | None = None, open: bool = False, kind: str = "") -> Any:
    qs = selectors.alerts_for(request.user)
    if event is not None:
        qs = qs.filter(screening__event=_event(request, event))
    if open:
        qs = qs.filter(handled_at__isnull=True)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-raised_at", "-id")


# ---- checkpoints ----------------------------------------------------------------------------------------------------


class CheckpointOut(Schema):
    id: int
    event_id: int
    unit_id: int
    unit_name: str
    name: str
    location: str
    retired_on: dt.date | None

    @staticmethod
    def resolve_unit_name(obj: Any) -> str:
        return str(obj.unit.name)


@router.get("/checkpoints", response=list[CheckpointOut], summary="卡口（本单位及所在社区的）")
def list_checkpoints(request: AuthedRequest) -> Any:
    return checkpoints_for(request.user).order_by("unit__path", "name")


class CrossingIn(Schema):
    """One crossing. The person: ``resident_id``, or a scanned static-code ``token``, or (a stranger)
    name, ID number and phone; a vehicle by plate and type. ``allow_reason`` lets a quota breach through."""

    client_id: str
    direction: str
    at: dt.datetime | None = None
    resident_id: int | None = None
    token: str = ""
    name: str = ""
    id_number: str = ""
    phone: str = ""
    plate: str = ""
    vehicle_type: str = ""
    temperature: float | str | None = None
    health_code: str = ""
    purpose: str = ""
    destination: str = ""
    expected_return: dt.datetime | None = None
    allow_reason: str = ""


class EntryOut(Schema):
    id: int
    client_id: str
    checkpoint_id: int
    at: dt.datetime
    direction: str
    person_id: int | None
    household_id: int | None
    name: str
    id_number: str
    phone: str
    plate: str
    vehicle_type: str
    temperature: Decimal | None
    health_code: str
    purpose: str
    destination: str
    expected_return: dt.datetime | None
    breach: str
    allowed_reason: str

    @staticmethod
    def resolve_id_number(obj: CheckpointEntry) -> str:
        return mask_id_number(obj.id_number)

    @staticmethod
    def resolve_phone(obj: CheckpointEntry, context: Any) -> str:
        return shown_phone(context["request"].user.role, obj.phone)


def _crossing(request: AuthedRequest, checkpoint: Checkpoint, payload: CrossingIn) -> services.CrossingResult:
    """One crossing of a checkpoint already fetched and checked for this user."""
    try:
        person = crossing_person(checkpoint, resident_id=payload.resident_id, token=payload.token)
    except (Http404, ValidationError):
        # A resend whose resident has since moved or whose code was revoked: still the stored entry.
        stored = services.stored_crossing(checkpoint, payload.client_id)
        if stored is not None:
            return stored
        raise
    data = services.CrossingData(
        client_id=payload.client_id,
        direction=payload.direction,
        at=payload.at,
        person=person,
        name=payload.name,
        id_number=payload.id_number,
        phone=payload.phone,
        plate=payload.plate,
        vehicle_type=payload.vehicle_type,
        temperature=payload.temperature,
        health_code=payload.health_code,
        purpose=payload.purpose,
        destination=payload.destination,
        expected_return=payload.expected_return,
        allow_reason=payload.allow_reason,
    )
    return services.register_crossing(checkpoint=checkpoint, data=data, by=request.user)


def _writable_checkpoint(request: AuthedRequest, checkpoint_id: int) -> Checkpoint:
    checkpoint = checkpoint_for_crossings(request.user, checkpoint_id)
    require(request.user, "can_write")
    return checkpoint


@router.post(
    "/checkpoints/{checkpoint_id}/crossings",
    response={200: EntryOut, 201: EntryOut},
    summary="卡口登记（client_id 幂等：重发返回 200 和已存的登记；超出通行规则须 allow_reason）",
)
def create_crossing(request: AuthedRequest, checkpoint_id: int, payload: CrossingIn) -> Any:
    checkpoint = _writable_checkpoint(request, checkpoint_id)
    result = _crossing(request, checkpoint, payload)
    return Status(201 if result.created else 200, result.entry)


BATCH_LIMIT = 50


class BatchIn(Schema):
    """Up to 50 crossings, each as the single endpoint takes it (checked one by one, not all-or-nothing)."""

    entries: list[Any]


class BatchItemOut(Schema):
    """One entry's answer: ``status`` as the single endpoint would give it (201 new, 200 resend, 422 refused,
    404 resident not at this checkpoint), with the entry or the reasons."""

    client_id: str
    status: int
    entry: EntryOut | None = None
    detail: list[dict[str, str]] = []


class BatchOut(Schema):
    results: list[BatchItemOut]


def _details(exc: ValidationError) -> list[dict[str, str]]:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return [{"field": field, "message": message} for field, messages in errors.items() for message in messages]


@router.post(
    "/checkpoints/{checkpoint_id}/crossings/batch",
    response=BatchOut,
    summary="卡口批量登记（离线积压一次上传，最多50条；逐条处理并逐条返回 201/200/422/404，一条被拒不影响其他条）",
)
def create_crossings(request: AuthedRequest, checkpoint_id: int, payload: BatchIn) -> Any:
    checkpoint = _writable_checkpoint(request, checkpoint_id)
    services.require_checkpoint_duty(request.user, checkpoint)
    if len(payload.entries) > BATCH_LIMIT:
        raise ValidationError({"entries": _("一次最多上传%(n)s条") % {"n": BATCH_LIMIT}})
    results: list[dict[str, Any]] = []
    for raw in payload.entries:
        client_id = str(raw.get("client_id", "")) if isinstance(raw, dict) else ""
        try:
            item = CrossingIn.model_validate(raw)
        except PydanticValidationError as exc:
            detail = [{"field": ".".join(str(x) for x in e["loc"]), "message": e["msg"]} for e in exc.errors()]
            results.append({"client_id": client_id, "status": 422, "detail": detail})
            continue
        try:
            result = _crossing(request, checkpoint, item)
        except ValidationError as exc:
            results.append({"client_id": client_id, "status": 422, "detail": _details(exc)})
        except Http404:
            results.append(
                {
                    "client_id": client_id,
                    "status": 404,
                    "detail": [{"field": "resident_id", "message": _("该居民不属于本卡口所在社区")}],
                }
            )
        else:
            results.append({"client_id": client_id, "status": 201 if result.created else 200, "entry": result.entry})
    return {"results": results}


class PersonOut(Schema):
    id: int
    name: str
    id_number: str
    sex: str
    household_id: int | None
    household: str
    address: str
    last_direction: str
    last_direction_label: str
    last_at: str | None


@router.get(
    "/checkpoints/{checkpoint_id}/lookup",
    response=list[PersonOut],
    summary="卡口查人（静态二维码、证件号码后几位或姓名开头；证件号码脱敏）",
)
def lookup(request: AuthedRequest, checkpoint_id: int, q: str = "") -> Any:
    checkpoint = get_checkpoint(request.user, checkpoint_id)
    services.require_checkpoint_duty(request.user, checkpoint)
    return lookup_rows(checkpoint, q)


@router.get("/checkpoints/{checkpoint_id}/entries", response=list[EntryOut], summary="卡口登记记录（最近的在前）")
@paginate(LimitOffsetPagination)
def list_entries(request: AuthedRequest, checkpoint_id: int, date: dt.date | None = None) -> Any:
    checkpoint = get_checkpoint(request.user, checkpoint_id)
    services.require_checkpoint_duty(request.user, checkpoint)
    qs = CheckpointEntry.objects.filter(checkpoint=checkpoint)
    if date is not None:
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(date, dt.time.min, tzinfo=tz)
        qs = qs.filter(at__gte=start, at__lt=start + dt.timedelta(days=1))
    return qs.order_by("-at", "-id")


# ---- daily reports --------------------------------------------------------------------------------------------------


class ReportIn(Schema):
    event_id: int
    date: dt.date
    unit: str = ""  # the unit's code; the user's own unit when empty
    text: str = ""
    zero: bool = False
    correction_reason: str = ""


class ReportOut(Schema):
    id: int
    event_id: int
    unit_code: str
    unit_name: str
    date: dt.date
    version: int
    is_zero: bool
    counts: dict[str, int]
    text: str
    correction_reason: str
    submitted_at: dt.datetime

    @staticmethod
    def resolve_unit_code(obj: DailyReport) -> str:
        return obj.unit.code

    @staticmethod
    def resolve_unit_name(obj: DailyReport) -> str:
        return obj.unit.name


@router.post("/reports", response={201: ReportOut}, summary="提交日报告（零报告：zero=true；更正须写原因）")
def submit_report(request: AuthedRequest, payload: ReportIn) -> Any:
    event = _event(request, payload.event_id)
    unit = unit_by_code(request, payload.unit)
    require(request.user, "can_write")
    report = services.submit_daily_report(
        event=event,
        unit=unit,
        date=payload.date,
        text=payload.text,
        zero=payload.zero,
        correction_reason=payload.correction_reason,
        by=request.user,
    )
    return Status(201, report)


class TableRowOut(Schema):
    unit_id: int
    unit_code: str
    unit_name: str
    status: str
    version: int | None
    is_zero: bool | None
    submitted_at: dt.datetime | None
    counts: dict[str, int]


class ReportTableOut(Schema):
    event_id: int
    unit_code: str
    unit_name: str
    date: dt.date
    expected: int
    received: int
    on_time: int
    completeness: Decimal | None
    timeliness: Decimal | None
    totals: dict[str, int]
    rows: list[TableRowOut]


@router.get(
    "/reports/table",
    response=ReportTableOut,
    summary="日报告汇总表：各单位按时/迟报/未报，完整率、及时率，合计（unit 为单位代码）",
)
def report_table(request: AuthedRequest, event: int, unit: str = "", date: dt.date | None = None) -> Any:
    ev = _event(request, event)
    scope = unit_by_code(request, unit)
    on = date or timezone.localdate()
    table = selectors.report_table(ev, scope, on)
    rows = []
    for row in table.rows:
        r = row.report
        rows.append(
            {
                "unit_id": row.unit.pk,
                "unit_code": row.unit.code,
                "unit_name": row.unit.name,
                "status": row.status,
                "version": r.version if r else None,
                "is_zero": r.is_zero if r else None,
                "submitted_at": r.submitted_at if r else None,
                "counts": r.counts if r else {},
            }
        )
    return {
        "event_id": ev.pk,
        "unit_code": scope.code,
        "unit_name": scope.name,
        "date": on,
        "expected": table.expected,
        "received": table.received,
        "on_time": table.on_time,
        "completeness": table.completeness,
        "timeliness": table.timeliness,
        "totals": table.totals,
        "rows": rows,
    }


__all__ = ["router"]
