"""Writes to the registry. Every write goes through these functions (views, API, import, commands, tasks)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import stamp
from core.history import start_of_day
from core.scoping import require_unit
from orgunits.models import Level, OrgUnit
from registry.models import (
    Household,
    HouseholdType,
    IdType,
    LivingStatus,
    MaritalStatus,
    Relation,
    Resident,
    StaticCode,
    Tag,
)
from registry.rules import IdNumberError, normalise_other_id, normalise_phone, parse_id_number

if TYPE_CHECKING:
    from accounts.models import User

LEAVING_STATUSES = {LivingStatus.MOVED_OUT, LivingStatus.DECEASED}
# Computed once: TextChoices.values builds a new list on every access, and imports validate 100,000 rows.
ID_TYPE_VALUES = frozenset(IdType.values)
RELATION_VALUES = frozenset(Relation.values)
STATUS_VALUES = frozenset(LivingStatus.values)
MARITAL_VALUES = frozenset(MaritalStatus.values)


@dataclass
class ResidentData:
    """What a form, an API call or an import row says about a person, before validation."""

    name: str
    id_number: str
    id_type: str = IdType.RESIDENT_ID
    sex: str = ""
    birth_date: dt.date | None = None
    phone: str = ""
    relation: str = Relation.OTHER
    registered: bool = True
    living_status: str = LivingStatus.RESIDENT
    status_since: dt.date | None = None
    arrived_on: dt.date | None = None
    marital_status: str = "unknown"
    tags: list[str] = field(default_factory=list)
    note: str = ""


def clean_resident_data(data: ResidentData, *, today: dt.date | None = None) -> dict[str, Any]:
    """Validate and normalise; raises ValidationError keyed by field with Chinese messages."""
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = _("姓名不能为空")
    elif len(name) > 50:
        errors["name"] = _("姓名过长（最多50个字）")
    out["name"] = name
    out["id_type"] = data.id_type or IdType.RESIDENT_ID
    if out["id_type"] not in ID_TYPE_VALUES:
        errors["id_type"] = _("证件类型不正确")
    sex = data.sex
    birth = data.birth_date
    try:
        if out["id_type"] == IdType.RESIDENT_ID:
            info = parse_id_number(data.id_number, today=today)
            out["id_number"] = info.number
            if sex and sex != info.sex:
                errors["sex"] = _("性别与身份证号不符")
            if birth and birth != info.birth_date:
                errors["birth_date"] = _("出生日期与身份证号不符")
            sex = sex or info.sex
            birth = birth or info.birth_date
        else:
            out["id_number"] = normalise_other_id(data.id_number)
            if not sex:
                errors["sex"] = _("非身份证件须填写性别")
            if not birth:
                errors["birth_date"] = _("非身份证件须填写出生日期")
    except IdNumberError as exc:
        errors["id_number"] = str(exc)
    if birth and birth > today:
        errors.setdefault("birth_date", _("出生日期不能晚于今天"))
    out["sex"] = sex
    out["birth_date"] = birth
    try:
        out["phone"] = normalise_phone(data.phone)
    except ValueError as exc:
        errors["phone"] = str(exc)
    for name_, choices, value in (
        ("relation", RELATION_VALUES, data.relation),
        ("living_status", STATUS_VALUES, data.living_status),
        ("marital_status", MARITAL_VALUES, data.marital_status),
    ):
        if value not in choices:
            errors[name_] = _("取值不在可选范围内")
        out[name_] = value
    out["registered"] = bool(data.registered)
    arrived = data.arrived_on or birth or today
    since = data.status_since or arrived
    if arrived and arrived > today:
        errors["arrived_on"] = _("迁入日期不能晚于今天")
    if birth and arrived and arrived < birth:
        errors["arrived_on"] = _("迁入日期不能早于出生日期")
    if since and since > today:
        errors["status_since"] = _("状态日期不能晚于今天")
    out["arrived_on"] = arrived
    out["status_since"] = since
    out["left_on"] = since if data.living_status in LEAVING_STATUSES else None
    out["tags"] = sorted({t.strip() for t in data.tags if t and t.strip()})
    out["note"] = (data.note or "").strip()[:200]
    if errors:
        raise ValidationError(errors)
    return out


def _apply_tags(resident: Resident, tag_names: list[str]) -> None:
    wanted = list(Tag.objects.filter(name__in=tag_names, retired_on__isnull=True))
    unknown = set(tag_names) - {t.name for t in wanted}
    if unknown:
        raise ValidationError({"tags": _("未知的重点人群标签：%(names)s") % {"names": "、".join(sorted(unknown))}})
    resident.tags.set(wanted)


def _check_unit(unit: OrgUnit, household: Household | None) -> None:
    if not unit.is_active:
        raise ValidationError({"unit": _("所选单位已撤销")})
    if household is not None and household.unit_id != unit.pk:
        raise ValidationError({"household": _("户不在所选单位")})


@transaction.atomic
def create_resident(*, data: ResidentData, unit: OrgUnit, household: Household | None = None, by: User) -> Resident:
    require_unit(by, unit)
    _check_unit(unit, household)
    cleaned = clean_resident_data(data)
    tags = cleaned.pop("tags")
    if Resident.objects.filter(
        id_type=cleaned["id_type"], id_number=cleaned["id_number"], retired_at__isnull=True
    ).exists():
        raise ValidationError({"id_number": _("该证件号码已登记")})
    resident = Resident(unit=unit, household=household, **cleaned)
    stamp(resident, by=by, reason=_("登记"), when=_creation_date(cleaned["arrived_on"]))
    resident.save()
    if tags:
        _apply_tags(resident, tags)
    _forget_backdating(resident)
    return resident


def _forget_backdating(instance: Any) -> None:
    """simple-history keeps reading ``_history_date`` from the instance: once the backdated creation
    versions are written, later changes through the same object must be dated when they happen."""
    instance.__dict__.pop("_history_date", None)


def _stamp_change(instance: Any, *, by: User | None, reason: str) -> None:
    _forget_backdating(instance)
    stamp(instance, by=by, reason=reason)


def _creation_date(arrived_on: dt.date) -> dt.datetime | None:
    """Creation versions are dated at arrival, so past-date counts include people entered late."""
    return start_of_day(arrived_on) if arrived_on <= timezone.localdate() else None


UPDATABLE_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "phone",
    "relation",
    "registered",
    "living_status",
    "status_since",
    "arrived_on",
    "left_on",
    "marital_status",
    "note",
)


@transaction.atomic
def update_resident(
    *,
    resident: Resident,
    data: ResidentData,
    by: User,
    reason: str = "",
    unit: OrgUnit | None = None,
    household: Household | bool | None = False,
) -> list[str]:
    """Correct or update a resident; returns the names of the fields that changed (empty: nothing to do)."""
    require_unit(by, resident.unit)
    if resident.retired_at:
        raise ValidationError({"resident": _("该记录已作废，不能修改")})
    cleaned = clean_resident_data(data)
    if cleaned["id_number"] != resident.id_number or cleaned["id_type"] != resident.id_type:
        raise ValidationError({"id_number": _("证件号码不能直接修改，请作废后重新登记")})
    tags = cleaned.pop("tags")
    changed = [f for f in UPDATABLE_FIELDS if getattr(resident, f) != cleaned[f]]
    for f in changed:
        setattr(resident, f, cleaned[f])
    if unit is not None and unit.pk != resident.unit_id:
        require_unit(by, unit)
        resident.unit = unit
        changed.append("unit")
    if household is not False and (household.pk if household else None) != resident.household_id:  # type: ignore[union-attr]
        resident.household = household  # type: ignore[assignment]
        changed.append("household")
    _check_unit(resident.unit, resident.household)
    old_tags = sorted(resident.tags.values_list("name", flat=True))
    if changed or old_tags != tags:
        # Tag changes write their own version (m2m signal): it must carry who and why as well.
        _stamp_change(resident, by=by, reason=reason or _("信息更新"))
    if changed:
        resident.save(update_fields=[*changed, "updated_at"])
    if old_tags != tags:
        _apply_tags(resident, tags)
        changed.append("tags")
    return changed


@transaction.atomic
def change_living_status(*, resident: Resident, status: str, on: dt.date, by: User, reason: str = "") -> Resident:
    require_unit(by, resident.unit)
    if resident.retired_at:
        raise ValidationError({"resident": _("该记录已作废，不能修改")})
    if status not in LivingStatus.values:
        raise ValidationError({"living_status": _("取值不在可选范围内")})
    if on > timezone.localdate():
        raise ValidationError({"status_since": _("状态日期不能晚于今天")})
    if on < resident.arrived_on:
        raise ValidationError({"status_since": _("状态日期不能早于迁入日期")})
    resident.living_status = status
    resident.status_since = on
    resident.left_on = on if status in LEAVING_STATUSES else None
    _stamp_change(resident, by=by, reason=reason or _("居住状态变更"))
    resident.save(update_fields=["living_status", "status_since", "left_on", "updated_at"])
    return resident


@transaction.atomic
def retire_resident(*, resident: Resident, by: User, reason: str) -> Resident:
    """A record entered by mistake is retired, never deleted; its history stays."""
    require_unit(by, resident.unit)
    if resident.retired_at:
        raise ValidationError({"resident": _("该记录已作废")})
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("作废必须填写原因")})
    if len(reason) > 200:
        raise ValidationError({"reason": _("作废原因过长（最多200个字）")})
    resident.retired_at = timezone.now()
    resident.retired_reason = reason
    _stamp_change(resident, by=by, reason=reason)
    resident.save(update_fields=["retired_at", "retired_reason", "updated_at"])
    return resident


@transaction.atomic
def create_household(
    *,
    unit: OrgUnit,
    door: str,
    entrance: str = "",
    household_type: str = "permanent",
    head_name: str = "",
    occupied_since: dt.date | None = None,
    by: User,
) -> Household:
    require_unit(by, unit)
    if unit.level not in (Level.BUILDING, Level.GRID, Level.COMMUNITY):
        raise ValidationError({"unit": _("户只能登记在社区、网格或楼栋下")})
    if not unit.is_active:
        raise ValidationError({"unit": _("所选单位已撤销")})
    door = door.strip()
    entrance = entrance.strip().removesuffix("单元")
    head_name = head_name.strip()
    # Checked here, not left to the database: an over-long value is a clear message on SQLite and PostgreSQL alike.
    errors: dict[str, str] = {}
    if not door:
        errors["door"] = _("门牌号不能为空")
    elif len(door) > 30:
        errors["door"] = _("门牌号过长（最多30个字符）")
    if len(entrance) > 20:
        errors["entrance"] = _("单元过长（最多20个字符）")
    if len(head_name) > 50:
        errors["head_name"] = _("户主姓名过长（最多50个字）")
    if household_type not in HouseholdType.values:
        errors["household_type"] = _("取值不在可选范围内")
    if occupied_since and occupied_since > timezone.localdate():
        errors["occupied_since"] = _("入住日期不能晚于今天")
    if errors:
        raise ValidationError(errors)
    if Household.objects.filter(unit=unit, entrance=entrance, door=door, retired_on__isnull=True).exists():
        raise ValidationError({"door": _("该地址已有在册的户")})
    household = Household(
        unit=unit,
        door=door,
        entrance=entrance,
        household_type=household_type,
        head_name=head_name,
        occupied_since=occupied_since,
    )
    stamp(household, by=by, reason=_("登记"), when=_creation_date(occupied_since) if occupied_since else None)
    household.save()
    _forget_backdating(household)
    return household


@transaction.atomic
def reassign_unit_records(*, source: OrgUnit, target: OrgUnit, by: User | None, reason: str) -> int:
    """Move the households and residents of a merged unit to its successor, one version each."""
    moved = 0
    for household in Household.objects.filter(unit=source):
        household.unit = target
        _stamp_change(household, by=by, reason=reason)
        household.save(update_fields=["unit", "updated_at"])
        moved += 1
    for resident in Resident.objects.filter(unit=source):
        resident.unit = target
        _stamp_change(resident, by=by, reason=reason)
        resident.save(update_fields=["unit", "updated_at"])
        moved += 1
    return moved


STATIC_CODE_BYTES = 12  # 16 url-safe characters: unguessable, short enough for a small printed QR code


@transaction.atomic
def issue_static_code(*, resident: Resident, by: User) -> StaticCode:
    """A new static QR code for a resident; the previous one (a lost or worn card) stops working."""
    import secrets

    require_unit(by, resident.unit)
    if resident.retired_at is not None:
        raise ValidationError({"resident": _("该居民记录已作废，不能发放二维码")})
    # Lock the resident so that two simultaneous issues cannot both revoke-then-insert.
    Resident.objects.select_for_update().filter(pk=resident.pk).first()
    now = timezone.now()
    StaticCode.objects.filter(resident=resident, revoked_at__isnull=True).update(revoked_at=now)
    return StaticCode.objects.create(
        resident=resident, token=secrets.token_urlsafe(STATIC_CODE_BYTES), issued_at=now, issued_by=by
    )
