"""Writes of outbreak response: named, keyword-only, transactional; each checks the user's scope.

Screening merges a second finding of the same person (same ID number, same event) into the first;
follow-ups raise alerts; checkpoint entries are idempotent by the phone's client id; daily reports
are frozen and corrected by new versions.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import require
from core.audit import stamp
from core.scoping import require_unit, unit_in_scope
from orgunits.models import OrgUnit
from outbreak import rules
from outbreak.models import (
    Alert,
    AlertKind,
    Checkpoint,
    CheckpointEntry,
    DailyReport,
    Direction,
    DutyShift,
    Event,
    EventStatus,
    Finding,
    FollowUp,
    HealthCode,
    Measure,
    MeasureRule,
    PassRule,
    RiskArea,
    RiskLevel,
    Screening,
    TrackingStatus,
    VehicleType,
)
from registry.models import Resident

if TYPE_CHECKING:
    from accounts.models import User


def _clean_id(raw: str) -> str:
    return (raw or "").strip().replace(" ", "").upper()


# ---- events, risk areas, rules --------------------------------------------------------------------------------


@transaction.atomic
def create_event(
    *,
    unit: OrgUnit,
    name: str,
    disease: str,
    started_on: dt.date,
    report_deadline: dt.time,
    by: User,
    lost_after_days: int = 2,
    today: dt.date | None = None,
) -> Event:
    require_unit(by, unit)
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("请填写名称")
    if not disease.strip():
        errors["disease"] = _("请填写病种")
    if started_on > today:
        errors["started_on"] = _("开始日期不能晚于今天")
    if errors:
        raise ValidationError(errors)
    event = Event(
        unit=unit,
        name=name.strip(),
        disease=disease.strip(),
        started_on=started_on,
        report_deadline=report_deadline,
        lost_after_days=lost_after_days,
        created_by=by,
    )
    stamp(event, by=by, reason=_("新建疫情事件"))
    event.save()
    return event


def add_risk_area(
    *, event: Event, area: str, level: str, valid_from: dt.date, valid_to: dt.date | None = None, by: User
) -> RiskArea:
    require_unit(by, event.unit)
    errors: dict[str, str] = {}
    if not area.strip():
        errors["area"] = _("请填写地区")
    if level not in RiskLevel.values:
        errors["level"] = _("风险等级应为高风险、中风险或低风险")
    if valid_to is not None and valid_to < valid_from:
        errors["valid_to"] = _("截止日期早于起始日期")
    if errors:
        raise ValidationError(errors)
    ra = RiskArea(event=event, area=area.strip(), level=level, valid_from=valid_from, valid_to=valid_to)
    stamp(ra, by=by, reason=_("风险地区"))
    try:
        with transaction.atomic():
            ra.save()
    except IntegrityError:
        raise ValidationError({"area": _("该地区在同一起始日期已登记")}) from None
    return ra


LEVEL_WORDS = {"高": "high", "高风险": "high", "中": "medium", "中风险": "medium", "低": "low", "低风险": "low"}


@dataclass
class AreaImport:
    created: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


@transaction.atomic
def import_risk_areas(*, event: Event, csv_text: str, by: User) -> AreaImport:
    """A csv of 地区,风险等级,起始日期[,截止日期] (a header row is allowed). All rows or none."""
    import csv

    require_unit(by, event.unit)
    result = AreaImport()
    rows = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
    if rows and rows[0] and rows[0][0].strip() in ("地区", "area"):
        rows = rows[1:]
    parsed = []
    for n, row in enumerate(rows, start=2 if csv_text.lstrip("\ufeff").startswith(("地区", "area")) else 1):
        cells = [c.strip() for c in row] + ["", "", "", ""]
        if not any(cells):
            continue
        area, level_word, start, end = cells[:4]
        level = LEVEL_WORDS.get(level_word, level_word if level_word in RiskLevel.values else "")
        if not area:
            result.errors.append({"row": n, "column": "地区", "message": _("地区为空")})
            continue
        if not level:
            result.errors.append({"row": n, "column": "风险等级", "message": _("风险等级应为高、中或低")})
            continue
        try:
            valid_from = dt.date.fromisoformat(start)
            valid_to = dt.date.fromisoformat(end) if end else None
        except ValueError:
            result.errors.append({"row": n, "column": "起始日期", "message": _("日期应为YYYY-MM-DD格式")})
            continue
        parsed.append((n, area, level, valid_from, valid_to))
    if result.errors:
        return result
    for n, area, level, valid_from, valid_to in parsed:
        try:
            add_risk_area(event=event, area=area, level=level, valid_from=valid_from, valid_to=valid_to, by=by)
        except ValidationError as exc:
            for message in exc.messages:
                result.errors.append({"row": n, "column": "地区", "message": message})
    if result.errors:
        transaction.set_rollback(True)
        return result
    result.created = len(parsed)
    return result


@transaction.atomic
def set_measure_rule(
    *, event: Event, person_kind: str, risk_level: str, measure: str, days: int, by: User
) -> MeasureRule:
    require_unit(by, event.unit)
    if measure != Measure.NONE and days <= 0:
        raise ValidationError({"days": _("管控天数应大于0")})
    rule, _created = MeasureRule.objects.update_or_create(
        event=event, person_kind=person_kind, risk_level=risk_level, defaults={"measure": measure, "days": days}
    )
    return rule


def rule_rows(event: Event) -> list[rules.RuleRow]:
    return [rules.RuleRow(r.person_kind, r.risk_level, r.measure, r.days) for r in event.measure_rules.all()]


def area_spans(event: Event) -> list[rules.AreaSpan]:
    return [rules.AreaSpan(a.area, a.level, a.valid_from, a.valid_to) for a in event.risk_areas.all()]


# ---- screening ----------------------------------------------------------------------------------------------------


@dataclass
class ScreeningData:
    from_area: str
    arrival_date: dt.date
    found_by: str
    person_kind: str = "arrival"
    person: Resident | None = None
    name: str = ""
    id_number: str = ""
    phone: str = ""
    address: str = ""
    household_members: int = 0
    team_grid_worker: str = ""
    team_doctor: str = ""
    team_police: str = ""
    measure: str | None = None  # None: from the event's rules
    found_on: dt.date | None = None
    note: str = ""


@transaction.atomic
def screen_person(
    *, event: Event, unit: OrgUnit, data: ScreeningData, by: User, today: dt.date | None = None
) -> tuple[Screening, bool]:
    """Record a found person; returns (screening, merged). The same ID number in the same event is
    merged into the existing screening: one more finding, never a second person."""
    require_unit(by, unit)
    today = today or timezone.localdate()
    person = data.person
    name = person.name if person else (data.name or "").strip()
    id_number = person.id_number if person else _clean_id(data.id_number)
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("请填写姓名")
    if not id_number:
        errors["id_number"] = _("请填写证件号码")
    if data.arrival_date > today:
        errors["arrival_date"] = _("抵达日期不能晚于今天")
    if data.arrival_date < event.started_on - dt.timedelta(days=30):
        errors["arrival_date"] = _("抵达日期早于事件开始一个月以上")
    if not data.from_area.strip():
        errors["from_area"] = _("请填写来自地区")
    if errors:
        raise ValidationError(errors)
    found_on = data.found_on or today
    existing = Screening.objects.select_for_update().filter(event=event, id_number=id_number).first()
    if existing is not None:
        require_unit(by, existing.unit)
        Finding.objects.create(
            screening=existing, found_by=data.found_by, found_on=found_on, note=data.note, recorded_by=by
        )
        return existing, True
    level = rules.risk_level_for(data.from_area, data.arrival_date, area_spans(event))
    if data.measure is not None:
        measure = data.measure
        days = next((r.days for r in rule_rows(event) if r.measure == measure and r.person_kind == data.person_kind), 0)
    else:
        measure, days = rules.measure_for(data.person_kind, level, rule_rows(event))
    end = rules.measure_end(data.arrival_date, days) if measure != Measure.NONE else None
    if end is not None and end <= today and measure != Measure.NONE:
        # Arrived long enough ago that the measure is already over: recorded, nothing to follow.
        status, since = TrackingStatus.NOT_REQUIRED, today
    else:
        status = TrackingStatus.NOT_REQUIRED if measure == Measure.NONE else TrackingStatus.TRACKING
        since = data.arrival_date if status == TrackingStatus.TRACKING else today
    screening = Screening(
        event=event,
        unit=unit,
        person=person,
        household=person.household if person else None,
        name=name,
        id_number=id_number,
        phone=person.phone if person and not data.phone else data.phone.strip(),
        address=data.address.strip(),
        from_area=data.from_area.strip(),
        risk_level=level,
        arrival_date=data.arrival_date,
        person_kind=data.person_kind,
        measure=measure,
        measure_start=data.arrival_date,
        measure_end=end,
        status=status,
        status_since=since,
        household_members=data.household_members,
        team_grid_worker=data.team_grid_worker.strip(),
        team_doctor=data.team_doctor.strip(),
        team_police=data.team_police.strip(),
        created_by=by,
    )
    stamp(screening, by=by, reason=_("摸排登记"))
    screening.save()
    Finding.objects.create(
        screening=screening, found_by=data.found_by, found_on=found_on, note=data.note, recorded_by=by
    )
    return screening, False


# ---- follow-up -------------------------------------------------------------------------------------------------------


def parse_temperature(raw: Any) -> Decimal:
    try:
        value = Decimal(str(raw).strip()).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise ValidationError({"temperature": _("体温应为数字，如36.5")}) from None
    problem = rules.temperature_problem(value)
    if problem:
        raise ValidationError({"temperature": problem})
    return value


@transaction.atomic
def record_follow_up(
    *,
    screening: Screening,
    date: dt.date,
    slot: str,
    temperature: Any,
    symptoms: list[str],
    by: User,
    note: str = "",
    now: dt.datetime | None = None,
) -> FollowUp:
    """A temperature check; a fever or a symptom raises an alert for the unit and the levels above."""
    require_unit(by, screening.unit)
    now = now or timezone.now()
    errors: dict[str, str] = {}
    value = parse_temperature(temperature)
    if screening.status != TrackingStatus.TRACKING:
        errors["screening"] = _("%(name)s 当前状态为“%(status)s”，不能再登记随访") % {
            "name": screening.name,
            "status": screening.get_status_display(),
        }
    if date > timezone.localdate(now):
        errors["date"] = _("随访日期不能晚于今天")
    elif date < screening.measure_start:
        errors["date"] = _("随访日期早于管控开始日期")
    if slot not in ("am", "pm"):
        errors["slot"] = _("时段应为上午或下午")
    unknown = [s for s in symptoms if s not in rules.SYMPTOMS]
    if unknown:
        errors["symptoms"] = _("未知症状：%(s)s") % {"s": "、".join(unknown)}
    if not errors and FollowUp.objects.filter(screening=screening, date=date, slot=slot).exists():
        errors["slot"] = _("%(date)s%(slot)s的随访已登记") % {
            "date": date.isoformat(),
            "slot": _("上午") if slot == "am" else _("下午"),
        }
    if errors:
        raise ValidationError(errors)
    follow_up = FollowUp.objects.create(
        screening=screening,
        date=date,
        slot=slot,
        temperature=value,
        symptoms=symptoms,
        note=note.strip(),
        recorded_by=by,
    )
    for kind, detail in rules.alerts_for(value, symptoms):
        Alert.objects.create(
            screening=screening,
            follow_up=follow_up,
            kind=kind,
            detail=_("%(name)s：%(detail)s") % {"name": screening.name, "detail": detail},
            raised_at=now,
        )
    return follow_up


@transaction.atomic
def handle_alert(*, alert: Alert, handling: str, by: User) -> Alert:
    require_unit(by, alert.screening.unit)
    if not handling.strip():
        raise ValidationError({"handling": _("请填写处置情况")})
    if alert.handled_at is not None:
        raise ValidationError({"handling": _("该预警已处置")})
    alert.handled_at = timezone.now()
    alert.handled_by = by
    alert.handling = handling.strip()
    alert.save(update_fields=["handled_at", "handled_by", "handling"])
    return alert


@transaction.atomic
def flag_not_seen(*, event: Event, today: dt.date | None = None) -> int:
    """Raise one 'not seen' alert per person under follow-up not checked for the event's N days (a daily job)."""
    today = today or timezone.localdate()
    last_seen = dict(
        FollowUp.objects.filter(screening__event=event)
        .values("screening_id")
        .annotate(last=Max("date"))
        .values_list("screening_id", "last")
    )
    open_alerts = set(
        Alert.objects.filter(screening__event=event, kind=AlertKind.NOT_SEEN, handled_at__isnull=True).values_list(
            "screening_id", flat=True
        )
    )
    raised = 0
    now = timezone.now()
    for s in Screening.objects.filter(event=event, status=TrackingStatus.TRACKING):
        days = rules.days_not_seen(last_seen.get(s.pk), s.measure_start, today)
        if days >= event.lost_after_days and s.pk not in open_alerts:
            Alert.objects.create(
                screening=s,
                kind=AlertKind.NOT_SEEN,
                detail=_("%(name)s：已%(days)s天未随访") % {"name": s.name, "days": days},
                raised_at=now,
            )
            raised += 1
    return raised


def _set_status(screening: Screening, status: str, on: dt.date, note: str, by: User) -> None:
    screening.status = status
    screening.status_since = on
    screening.status_note = note.strip()
    stamp(screening, by=by, reason=note.strip() or str(TrackingStatus(status).label))


@transaction.atomic
def release(*, screening: Screening, on: dt.date, by: User, note: str = "") -> Screening:
    """Release at (or after) the planned end; the notice number is the event's running number."""
    require_unit(by, screening.unit)
    screening = Screening.objects.select_for_update().get(pk=screening.pk)
    if screening.status != TrackingStatus.TRACKING:
        raise ValidationError(
            {
                "status": _("%(name)s 当前状态为“%(status)s”，无需解除")
                % {"name": screening.name, "status": screening.get_status_display()}
            }
        )
    if screening.measure_end is not None and on < screening.measure_end:
        raise ValidationError(
            {"released_on": _("未到解除日期（%(date)s）") % {"date": screening.measure_end.isoformat()}}
        )
    if on > timezone.localdate():
        raise ValidationError({"released_on": _("解除日期不能晚于今天")})
    count = Screening.objects.filter(event=screening.event, released_on__isnull=False).count()
    _set_status(screening, TrackingStatus.RELEASED, on, note, by)
    screening.released_on = on
    screening.notice_number = f"{screening.event_id}-{count + 1:05d}"
    screening.save(
        update_fields=["status", "status_since", "status_note", "released_on", "notice_number", "updated_at"]
    )
    return screening


def release_due(*, event: Event, unit: OrgUnit, on: dt.date, by: User) -> list[Screening]:
    """Everyone in the unit whose planned end is on or before ``on`` and still under follow-up."""
    require_unit(by, unit)
    due = Screening.objects.filter(
        event=event,
        status=TrackingStatus.TRACKING,
        measure_end__lte=on,
        unit__path__gte=unit.path,
        unit__path__lt=unit.path_end,
    ).order_by("measure_end", "id")
    return [release(screening=s, on=on, by=by) for s in due]


@transaction.atomic
def extend(*, screening: Screening, new_end: dt.date, reason: str, by: User) -> Screening:
    require_unit(by, screening.unit)
    if screening.status != TrackingStatus.TRACKING:
        raise ValidationError({"measure_end": _("只有跟踪中的人员可以延长管控")})
    if not reason.strip():
        raise ValidationError({"reason": _("延长管控须写明原因")})
    if screening.measure_end is not None and new_end <= screening.measure_end:
        raise ValidationError(
            {"measure_end": _("新的解除日期应晚于原计划（%(date)s）") % {"date": screening.measure_end.isoformat()}}
        )
    screening.measure_end = new_end
    stamp(screening, by=by, reason=reason.strip())
    screening.save(update_fields=["measure_end", "updated_at"])
    return screening


@transaction.atomic
def change_status(*, screening: Screening, status: str, on: dt.date, note: str, by: User) -> Screening:
    """转运 / 失访 / 无需跟踪 (and back to 跟踪中 when a lost person is found again)."""
    require_unit(by, screening.unit)
    allowed = {TrackingStatus.TRANSFERRED, TrackingStatus.LOST, TrackingStatus.NOT_REQUIRED, TrackingStatus.TRACKING}
    if status not in allowed or status == screening.status:
        raise ValidationError({"status": _("不能改为该状态")})
    if screening.status == TrackingStatus.RELEASED:
        raise ValidationError({"status": _("已解除的人员不能再改变状态")})
    if not note.strip():
        raise ValidationError({"note": _("请写明原因")})
    _set_status(screening, status, on, note, by)
    screening.save(update_fields=["status", "status_since", "status_note", "updated_at"])
    return screening


# ---- checkpoints ---------------------------------------------------------------------------------------------------


@dataclass
class CrossingData:
    client_id: str
    direction: str
    at: dt.datetime | None = None
    person: Resident | None = None
    name: str = ""
    id_number: str = ""
    phone: str = ""
    plate: str = ""
    vehicle_type: str = ""
    temperature: Any = None
    health_code: str = ""
    purpose: str = ""
    destination: str = ""
    expected_return: dt.datetime | None = None
    allow_reason: str = ""  # the person on duty lets a quota breach through, with a reason


@dataclass
class CrossingResult:
    entry: CheckpointEntry
    created: bool
    breach: str


# Checkpoints and their duty roster: the community's staff and the levels above set them up.


@transaction.atomic
def create_checkpoint(*, event: Event, unit: OrgUnit, name: str, location: str, by: Any) -> Checkpoint:
    require(by, "can_write")
    if not unit_in_scope(by, unit):
        raise PermissionDenied(_("该单位不在您的管辖范围内"))
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("请填写卡口名称")
    elif Checkpoint.objects.filter(unit=unit, name=name.strip(), retired_on__isnull=True).exists():
        errors["name"] = _("本单位已有同名卡口")
    if event.status != EventStatus.ACTIVE:
        errors["event"] = _("该疫情事件已结束")
    if errors:
        raise ValidationError(errors)
    return Checkpoint.objects.create(unit=unit, event=event, name=name.strip(), location=location.strip())


@transaction.atomic
def add_duty_shift(
    *, checkpoint: Checkpoint, starts_at: dt.datetime, ends_at: dt.datetime, people: str, phone: str, by: Any
) -> DutyShift:
    require(by, "can_write")
    if not unit_in_scope(by, checkpoint.unit):
        raise PermissionDenied(_("只有卡口所在单位及上级可以排班"))
    errors: dict[str, str] = {}
    if not people.strip():
        errors["people"] = _("请填写值守人员")
    if ends_at <= starts_at:
        errors["ends_at"] = _("结束时间应晚于开始时间")
    if errors:
        raise ValidationError(errors)
    return DutyShift.objects.create(
        checkpoint=checkpoint, starts_at=starts_at, ends_at=ends_at, people=people.strip(), phone=phone.strip()
    )


def require_checkpoint_duty(user: User, checkpoint: Checkpoint) -> None:
    """The community's checkpoints are staffed by its own people too: grid workers and doctors of the
    grids below it may register crossings there, as well as everyone whose subtree holds it."""
    own = user.org_unit
    if own is not None and user.is_active and own.path.startswith(checkpoint.unit.path):
        return
    if not unit_in_scope(user, checkpoint.unit):
        raise PermissionDenied(_("您不能在该卡口登记"))


def pass_rule_for(checkpoint: Checkpoint, on: dt.date) -> PassRule | None:
    """The rule of the checkpoint's unit or, failing that, of the nearest unit above it, valid on ``on``.

    The unit's path lists its ancestors from the root down, so the nearest rule is the one whose unit
    comes last in it (no join to the units needed)."""
    ancestors = [int(seg) for seg in checkpoint.unit.path.strip("/").split("/") if seg]
    rules_ = list(
        PassRule.objects.filter(event_id=checkpoint.event_id, unit_id__in=ancestors, valid_from__lte=on)
        .exclude(valid_to__lt=on)
        .only("id", "unit_id", "max_exits", "days")
    )
    return max(rules_, key=lambda r: (ancestors.index(r.unit_id), r.pk), default=None)


def stored_crossing(checkpoint: Checkpoint, client_id: str) -> CrossingResult | None:
    """The entry already stored under the phone's ``client_id`` (a resend), or None.

    The same id at another checkpoint is refused: ids are the phone's and never shared."""
    client_id = (client_id or "").strip()
    stored = CheckpointEntry.objects.filter(client_id=client_id).first() if client_id else None
    if stored is None:
        return None
    if stored.checkpoint_id != checkpoint.pk:
        raise ValidationError({"client_id": _("登记编号已被其他卡口使用")})
    return CrossingResult(stored, False, stored.breach)


def _last_direction(id_number: str, at: dt.datetime) -> tuple[str, dt.datetime] | None:
    """The person's last crossing (direction, time) at or before ``at``, at any checkpoint."""
    return (
        CheckpointEntry.objects.filter(id_number=id_number, at__lte=at)
        .order_by("-at", "-id")
        .values_list("direction", "at")
        .first()
    )


def _new_entry(*, checkpoint: Checkpoint, client_id: str, data: CrossingData, by: User) -> CheckpointEntry:
    """The checked, unsaved entry of a new crossing; ValidationError (in Chinese, by field) when refused."""
    if checkpoint.retired_on is not None and checkpoint.retired_on <= timezone.localdate():
        raise ValidationError({"checkpoint": _("该卡口已撤除，不能再登记")})
    now = timezone.now()
    at = data.at or now
    errors: dict[str, str] = {}
    if data.vehicle_type not in VehicleType.values:
        errors["vehicle_type"] = _("车辆类型应为私家车、快递、物资配送或其他车辆")
    if data.health_code not in HealthCode.values:
        errors["health_code"] = _("健康码颜色应为绿码、黄码或红码")
    if at > now + dt.timedelta(minutes=5):
        errors["at"] = _("登记时间不能晚于现在")
    if data.direction not in Direction.values:
        errors["direction"] = _("请选择进或出")
    person = data.person
    name = person.name if person else (data.name or "").strip()
    id_number = person.id_number if person else _clean_id(data.id_number)
    if not (name or id_number or data.plate.strip()):
        errors["name"] = _("请登记人员姓名或车牌号")
    temperature = None
    if data.temperature not in (None, ""):
        try:
            temperature = parse_temperature(data.temperature)
        except ValidationError as exc:
            errors["temperature"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    breach = ""
    household_id = person.household_id if person else None
    if id_number and data.direction == Direction.IN:
        last = _last_direction(id_number, at)
        if last is not None and last[0] == Direction.IN:
            raise ValidationError(
                {
                    "direction": _("%(name)s 已于%(when)s进入，尚未登记出去")
                    % {"name": name or id_number, "when": timezone.localtime(last[1]).strftime("%m-%d %H:%M")}
                }
            )
    if household_id is not None and data.direction == Direction.OUT:
        rule = pass_rule_for(checkpoint, timezone.localdate(at))
        if rule is not None:
            window_start = at - dt.timedelta(days=rule.days + 1)
            exits = [
                timezone.localtime(t)
                for t in CheckpointEntry.objects.filter(
                    household_id=household_id, direction=Direction.OUT, at__gte=window_start, at__lte=at
                ).values_list("at", flat=True)
            ]
            breach = rules.pass_breach(exits, timezone.localtime(at), max_exits=rule.max_exits, days=rule.days) or ""
            if breach and not data.allow_reason.strip():
                raise ValidationError({"allow_reason": breach})
    return CheckpointEntry(
        checkpoint=checkpoint,
        client_id=client_id,
        at=at,
        direction=data.direction,
        person=person,
        household_id=household_id,
        name=name,
        id_number=id_number,
        phone=person.phone if person else data.phone.strip(),
        plate=data.plate.strip().upper(),
        vehicle_type=data.vehicle_type,
        temperature=temperature,
        health_code=data.health_code,
        purpose=data.purpose.strip(),
        destination=data.destination.strip(),
        expected_return=data.expected_return,
        breach=breach,
        allowed_reason=data.allow_reason.strip() if breach else "",
        recorded_by=by,
    )


def register_crossing(*, checkpoint: Checkpoint, data: CrossingData, by: User) -> CrossingResult:
    """One crossing. A retry with the same client id returns the stored entry (never a second one).

    A quota breach is refused unless the person on duty allows it with a reason; either way the
    breach is logged on the entry. A person who is already inside cannot come in again.

    The hot path of the checkpoint phones (see bench/README.md), so it is written for few round trips:
    a new entry is checked and inserted without first asking whether its client id is stored; the
    unique client id decides. Only when the insert collides, or a check refuses (a resend of an "in"
    finds the person inside by its own entry), is the stored entry looked up and answered instead.
    No transaction around it: the one INSERT is the only write and atomic by itself, and under READ
    COMMITTED a transaction would not make the reads before it see anything more stable (two phones
    of one household going out at the same second can both pass the quota, as before).
    Inside a caller's transaction (tests, the batch endpoint) the insert gets its own savepoint.
    """
    require_checkpoint_duty(by, checkpoint)
    client_id = (data.client_id or "").strip()
    if not client_id:
        raise ValidationError({"client_id": _("缺少登记编号")})
    try:
        entry = _new_entry(checkpoint=checkpoint, client_id=client_id, data=data, by=by)
    except ValidationError:
        # A resend of a stored entry is answered with it, whatever the checks say now.
        stored = stored_crossing(checkpoint, client_id)
        if stored is not None:
            return stored
        raise
    try:
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():
                entry.save(force_insert=True)
        else:
            entry.save(force_insert=True)
    except IntegrityError:
        # Stored already (a resend, or the same entry arriving twice at once): answer with the stored one.
        stored = stored_crossing(checkpoint, client_id)
        if stored is None:
            raise
        return stored
    return CrossingResult(entry, True, entry.breach)


# ---- daily reports ------------------------------------------------------------------------------------------------


@transaction.atomic
def submit_daily_report(
    *,
    event: Event,
    unit: OrgUnit,
    date: dt.date,
    by: User,
    text: str = "",
    zero: bool = False,
    correction_reason: str = "",
    now: dt.datetime | None = None,
) -> DailyReport:
    """The unit's report for a date, its counts computed from the ledgers. A second report for the same
    day is a correction: a new version, with its reason; the first stays as it was."""
    from outbreak.selectors import daily_counts

    require_unit(by, unit)
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if date > timezone.localdate(now):
        errors["date"] = _("不能提交未来日期的报告")
    if date < event.started_on:
        errors["date"] = _("报告日期早于事件开始日期")
    OrgUnit.objects.select_for_update().filter(pk=unit.pk).first()
    last = DailyReport.objects.filter(event=event, unit=unit, date=date).order_by("-version").first()
    if last is not None and not correction_reason.strip():
        errors["correction_reason"] = _("%(date)s的日报告已于%(when)s提交；如需更正，请写明更正原因") % {
            "date": date.isoformat(),
            "when": timezone.localtime(last.submitted_at).strftime("%m-%d %H:%M"),
        }
    counts = daily_counts(event, unit, date)
    if zero and any(counts[k] for k in ("new_screened", "alerts", "released")):
        errors["is_zero"] = _("今日有新增情况，不能提交零报告")
    if errors:
        raise ValidationError(errors)
    return DailyReport.objects.create(
        event=event,
        unit=unit,
        date=date,
        version=(last.version + 1) if last else 1,
        is_zero=zero,
        counts=counts,
        text=text.strip(),
        correction_reason=correction_reason.strip() if last else "",
        submitted_by=by,
        submitted_at=now,
    )
