"""Writes of mass-testing rounds: the plan (round, sites and their buildings, tables and mobile teams,
staff), the should-sample list, lab results and the handover of positive pools to the outbreak
module, and static QR codes issued in bulk. Keyword-only, transactional; each checks the user's
permission and scope first. Sample registration at a table is in testing/registration.py.

Nothing of the plan is deleted: sites, tables and staff are retired with a reason. The should-sample
list is computed, not a ledger: rebuilt before sampling starts, only added to afterwards.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import require
from core.audit import stamp
from core.bulk import analyze, insert_rows
from core.scoping import require_unit, unit_in_scope
from orgunits.models import Level, OrgUnit
from registry.models import LivingStatus, Resident, StaticCode
from registry.services import STATIC_CODE_BYTES
from testing import rules
from testing.models import (
    Exemption,
    Round,
    RoundStaff,
    RoundStatus,
    RoutineTest,
    Sample,
    SampleType,
    SamplingSite,
    SamplingTable,
    ShouldSample,
    StaffRole,
    TableKind,
    Tube,
    TubeResult,
)

if TYPE_CHECKING:
    from accounts.models import User
    from outbreak.models import Event, Screening


@dataclass
class ImportResult:
    """What an import did, or why it did nothing: errors name the row, the column and the reason."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _manage(by: User, unit: OrgUnit) -> None:
    """Planning a round is the street's (or district's) job: the role may manage units, the unit is his."""
    require(by, "can_manage_units")
    require_unit(by, unit)


def _not_closed(round_: Round) -> None:
    if round_.status == RoundStatus.CLOSED:
        raise ValidationError({"round": _("本轮已结束，不能再修改")})


def _in(unit: OrgUnit, prefix: str = "unit__") -> Q:
    return Q(**{f"{prefix}path__gte": unit.path, f"{prefix}path__lt": unit.path_end})


def scope_q(round_: Round, prefix: str = "unit__") -> Q:
    """Rows whose unit lies in one of the round's scope units."""
    q = Q(pk__in=[])
    for unit in round_.scope_units.all():
        q |= _in(unit, prefix)
    return q


# ---- the round ----------------------------------------------------------------------------------------------------


@dataclass
class RoundData:
    name: str
    sample_type: str
    starts_on: dt.date
    ends_on: dt.date
    scope_units: Sequence[OrgUnit]
    recent_test_hours: int = 48
    previous_round: Round | None = None
    table_rate_per_hour: int = 120
    note: str = ""


def _check_round(unit: OrgUnit, data: RoundData, *, own: Round | None = None) -> None:
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = _("请填写名称")
    if data.sample_type not in SampleType.values:
        errors["sample_type"] = _("采样方式应为单采或10合1混采")
    if data.ends_on < data.starts_on:
        errors["ends_on"] = _("结束日期早于开始日期")
    elif (data.ends_on - data.starts_on).days > 30:
        errors["ends_on"] = _("一轮检测不超过30天，请分成几轮")
    if not data.scope_units:
        errors["scope_units"] = _("请选择参加本轮的社区/村")
    outside = [u.name for u in data.scope_units if not u.is_within(unit) or u.level == Level.DISTRICT]
    if outside:
        errors["scope_units"] = _("检测范围应在%(unit)s之内：%(names)s") % {
            "unit": unit.name,
            "names": "、".join(outside),
        }
    if not 0 <= data.recent_test_hours <= 168:
        errors["recent_test_hours"] = _("近期已检豁免应在0到168小时之间")
    if data.table_rate_per_hour <= 0:
        errors["table_rate_per_hour"] = _("每台每小时采样人数应大于0")
    prev = data.previous_round
    if prev is not None:
        if own is not None and prev.pk == own.pk:
            errors["previous_round"] = _("上一轮不能是本轮自己")
        elif prev.unit_id != unit.pk:
            errors["previous_round"] = _("上一轮应是同一单位组织的轮次")
        elif prev.starts_on >= data.starts_on:
            errors["previous_round"] = _("上一轮应早于本轮开始")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_round(*, unit: OrgUnit, data: RoundData, by: User) -> Round:
    _manage(by, unit)
    _check_round(unit, data)
    round_ = Round(
        unit=unit,
        name=data.name.strip(),
        sample_type=data.sample_type,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        recent_test_hours=data.recent_test_hours,
        previous_round=data.previous_round,
        table_rate_per_hour=data.table_rate_per_hour,
        note=data.note.strip(),
        created_by=by,
    )
    stamp(round_, by=by, reason=_("新建全员核酸轮次"))
    round_.save()
    round_.scope_units.set(list(data.scope_units))
    return round_


# Fields whose change alters the should-sample list: the list must be built again.
ROSTER_FIELDS = ("starts_on", "recent_test_hours", "previous_round_id")


@transaction.atomic
def update_round(*, round_: Round, data: RoundData, by: User) -> Round:
    """Edit the plan. Once sampling has started, the date, scope, sample type and exemption settings
    are fixed (the list and the tubes were made by them); the name, end date, rate and note may change."""
    _manage(by, round_.unit)
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    _not_closed(round_)
    _check_round(round_.unit, data, own=round_)
    old_scope = set(round_.scope_units.values_list("id", flat=True))
    new_scope = {u.pk for u in data.scope_units}
    started = Sample.objects.filter(round=round_).exists()
    fixed = {
        "starts_on": data.starts_on != round_.starts_on,
        "sample_type": data.sample_type != round_.sample_type,
        "scope_units": new_scope != old_scope,
        "recent_test_hours": data.recent_test_hours != round_.recent_test_hours,
        "previous_round": (data.previous_round.pk if data.previous_round else None) != round_.previous_round_id,
    }
    if started and any(fixed.values()):
        raise ValidationError({name: _("已开始采样，不能再修改此项") for name, changed in fixed.items() if changed})
    list_changed = fixed["starts_on"] or fixed["scope_units"] or fixed["recent_test_hours"] or fixed["previous_round"]
    round_.name = data.name.strip()
    round_.sample_type = data.sample_type
    round_.starts_on = data.starts_on
    round_.ends_on = data.ends_on
    round_.recent_test_hours = data.recent_test_hours
    round_.previous_round = data.previous_round
    round_.table_rate_per_hour = data.table_rate_per_hour
    round_.note = data.note.strip()
    if list_changed and round_.roster_built_at is not None:
        round_.roster_built_at = None  # the list on file was made by the old settings: build it again
    stamp(round_, by=by, reason=_("修改轮次计划"))
    round_.save()
    if fixed["scope_units"]:
        round_.scope_units.set(list(data.scope_units))
    return round_


@transaction.atomic
def set_status(*, round_: Round, status: str, by: User) -> Round:
    """计划中 -> 进行中 (the list must be built) -> 已结束; a closed round may be reopened by its unit."""
    _manage(by, round_.unit)
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    if status not in RoundStatus.values:
        raise ValidationError({"status": _("状态不正确")})
    if status == RoundStatus.RUNNING and round_.roster_built_at is None:
        raise ValidationError({"status": _("请先生成应检名单，再开始本轮采样")})
    if status == RoundStatus.PLANNED and Sample.objects.filter(round=round_).exists():
        raise ValidationError({"status": _("已有采样记录，不能退回计划中")})
    round_.status = status
    stamp(round_, by=by, reason=_("轮次状态：%(s)s") % {"s": RoundStatus(status).label})
    round_.save(update_fields=["status"])
    return round_


# ---- sites, buildings, tables -------------------------------------------------------------------------------------


@transaction.atomic
def add_site(
    *,
    round_: Round,
    unit: OrgUnit,
    name: str,
    by: User,
    location: str = "",
    leader: str = "",
    leader_phone: str = "",
) -> SamplingSite:
    _manage(by, round_.unit)
    _not_closed(round_)
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("请填写采样点名称")
    if not unit.is_within(round_.unit):
        errors["unit"] = _("采样点应在%(unit)s之内") % {"unit": round_.unit.name}
    if SamplingSite.objects.filter(round=round_, name=name.strip(), retired_at__isnull=True).exists():
        errors["name"] = _("本轮已有同名采样点")
    if errors:
        raise ValidationError(errors)
    site = SamplingSite(
        round=round_,
        unit=unit,
        name=name.strip(),
        location=location.strip(),
        leader=leader.strip(),
        leader_phone=leader_phone.strip(),
    )
    stamp(site, by=by, reason=_("新建采样点"))
    site.save()
    return site


@transaction.atomic
def update_site(
    *, site: SamplingSite, by: User, name: str, location: str = "", leader: str = "", leader_phone: str = ""
) -> SamplingSite:
    _manage(by, site.round.unit)
    _not_closed(site.round)
    if not name.strip():
        raise ValidationError({"name": _("请填写采样点名称")})
    clash = SamplingSite.objects.filter(round=site.round, name=name.strip(), retired_at__isnull=True)
    if clash.exclude(pk=site.pk).exists():
        raise ValidationError({"name": _("本轮已有同名采样点")})
    site.name, site.location = name.strip(), location.strip()
    site.leader, site.leader_phone = leader.strip(), leader_phone.strip()
    stamp(site, by=by, reason=_("修改采样点"))
    site.save()
    return site


@transaction.atomic
def retire_site(*, site: SamplingSite, reason: str, by: User, now: dt.datetime | None = None) -> SamplingSite:
    """A site that will not open: its tables and staff retire with it, its buildings become free."""
    _manage(by, site.round.unit)
    _not_closed(site.round)
    if not reason.strip():
        raise ValidationError({"reason": _("请填写撤销原因")})
    if site.retired_at is not None:
        raise ValidationError({"site": _("该采样点已撤销")})
    now = now or timezone.now()
    site.retired_at, site.retired_reason = now, reason.strip()
    stamp(site, by=by, reason=reason.strip())
    site.save(update_fields=["retired_at", "retired_reason"])
    for table in site.tables.filter(retired_at__isnull=True):
        table.retired_at, table.retired_reason = now, reason.strip()
        stamp(table, by=by, reason=reason.strip())
        table.save(update_fields=["retired_at", "retired_reason"])
    for person in site.staff.filter(retired_at__isnull=True):
        person.retired_at, person.retired_reason = now, reason.strip()
        stamp(person, by=by, reason=reason.strip())
        person.save(update_fields=["retired_at", "retired_reason"])
    ShouldSample.objects.filter(round=site.round, site=site).update(site=None)
    return site


def building_owners(round_: Round, building_ids: Iterable[int]) -> dict[int, SamplingSite]:
    """The active site of the round each of these buildings is assigned to."""
    through = SamplingSite.buildings.through
    rows = through.objects.filter(
        samplingsite__round=round_, samplingsite__retired_at__isnull=True, orgunit_id__in=list(building_ids)
    ).select_related("samplingsite")
    return {row.orgunit_id: row.samplingsite for row in rows}


@transaction.atomic
def assign_buildings(*, site: SamplingSite, buildings: Sequence[OrgUnit], by: User) -> int:
    """Buildings served by a site. A building belongs to one site per round: a second assignment is refused
    with the site that has it. Returns the number newly assigned."""
    round_ = site.round
    _manage(by, round_.unit)
    _not_closed(round_)
    Round.objects.select_for_update().filter(pk=round_.pk).first()  # one assignment at a time per round
    if site.retired_at is not None:
        raise ValidationError({"site": _("该采样点已撤销")})
    scope = list(round_.scope_units.all())
    problems = []
    for b in buildings:
        if b.level != Level.BUILDING:
            problems.append(_("%(name)s不是楼栋") % {"name": b.name})
        elif b.retired_on is not None:
            problems.append(_("%(name)s已撤销") % {"name": b.name})
        elif not any(b.is_within(s) for s in scope):
            problems.append(_("%(name)s不在本轮检测范围内") % {"name": b.name})
    owners = building_owners(round_, [b.pk for b in buildings])
    for b in buildings:
        owner = owners.get(b.pk)
        if owner is not None and owner.pk != site.pk:
            problems.append(
                _("%(building)s已分配给采样点“%(site)s”（一栋楼每轮只属于一个采样点）")
                % {"building": _building_label(b), "site": owner.name}
            )
    if problems:
        raise ValidationError({"buildings": problems})
    new = [b for b in buildings if b.pk not in owners]
    if new:
        stamp(site, by=by, reason=_("分配楼栋"))
        site.buildings.add(*new)
        ShouldSample.objects.filter(round=round_, unit_id__in=[b.pk for b in new]).update(site=site)
    return len(new)


def _building_label(b: OrgUnit) -> str:
    parent = b.parent.name if b.parent_id and b.parent else ""
    return f"{parent}{b.name}" if parent else b.name


@transaction.atomic
def unassign_building(*, site: SamplingSite, building: OrgUnit, by: User) -> None:
    _manage(by, site.round.unit)
    _not_closed(site.round)
    stamp(site, by=by, reason=_("取消分配楼栋"))
    site.buildings.remove(building)
    ShouldSample.objects.filter(round=site.round, unit=building, site=site).update(site=None)


@transaction.atomic
def add_tables(*, site: SamplingSite, kind: str, by: User, count: int = 1) -> list[SamplingTable]:
    """``count`` more fixed tables (采样台) or mobile teams (流动采样组), numbered after the site's last."""
    _manage(by, site.round.unit)
    _not_closed(site.round)
    if kind not in TableKind.values:
        raise ValidationError({"kind": _("类型应为固定采样台或流动采样组")})
    if not 1 <= count <= 50:
        raise ValidationError({"count": _("一次可添加1到50个")})
    if site.retired_at is not None:
        raise ValidationError({"site": _("该采样点已撤销")})
    last = SamplingTable.objects.filter(site=site, kind=kind).aggregate(n=Max("number"))["n"] or 0
    out = []
    for k in range(1, count + 1):
        table = SamplingTable(site=site, kind=kind, number=last + k)
        stamp(table, by=by, reason=_("新建采样台"))
        table.save()
        out.append(table)
    return out


@transaction.atomic
def retire_table(*, table: SamplingTable, reason: str, by: User, now: dt.datetime | None = None) -> SamplingTable:
    _manage(by, table.site.round.unit)
    _not_closed(table.site.round)
    if not reason.strip():
        raise ValidationError({"reason": _("请填写撤销原因")})
    if table.retired_at is not None:
        raise ValidationError({"table": _("该采样台已撤销")})
    table.retired_at, table.retired_reason = now or timezone.now(), reason.strip()
    stamp(table, by=by, reason=reason.strip())
    table.save(update_fields=["retired_at", "retired_reason"])
    return table


# ---- staff --------------------------------------------------------------------------------------------------------


@dataclass
class StaffData:
    role: str
    name: str
    phone: str = ""
    organisation: str = ""
    vehicle_plate: str = ""
    site: SamplingSite | None = None
    table: SamplingTable | None = None


def _check_staff(round_: Round, data: StaffData) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.role not in StaffRole.values:
        errors["role"] = _("岗位应为采样、登记、秩序维护、公安、转运或消杀")
    if not data.name.strip():
        errors["name"] = _("请填写姓名")
    if data.phone and not rules.PHONE.match(data.phone.strip()):
        errors["phone"] = _("电话号码格式不正确")
    if data.role == StaffRole.TRANSPORT and not data.vehicle_plate.strip():
        errors["vehicle_plate"] = _("转运人员应填写车牌号")
    if data.site is not None and (data.site.round_id != round_.pk or data.site.retired_at is not None):
        errors["site"] = _("采样点不属于本轮或已撤销")
    if data.table is not None:
        if data.role not in (StaffRole.SAMPLER, StaffRole.REGISTRAR):
            errors["table"] = _("只有采样和登记人员安排到采样台")
        elif data.table.retired_at is not None or data.table.site.round_id != round_.pk:
            errors["table"] = _("采样台不属于本轮或已撤销")
        elif data.site is not None and data.table.site_id != data.site.pk:
            errors["table"] = _("采样台不在所选采样点")
    return errors


@transaction.atomic
def add_staff(*, round_: Round, data: StaffData, by: User) -> RoundStaff:
    _manage(by, round_.unit)
    _not_closed(round_)
    errors = _check_staff(round_, data)
    if errors:
        raise ValidationError(errors)
    person = RoundStaff(
        round=round_,
        site=data.site or (data.table.site if data.table else None),
        table=data.table,
        role=data.role,
        name=data.name.strip(),
        phone=data.phone.strip(),
        organisation=data.organisation.strip(),
        vehicle_plate=data.vehicle_plate.strip(),
    )
    stamp(person, by=by, reason=_("登记工作人员"))
    person.save()
    return person


@transaction.atomic
def retire_staff(*, staff: RoundStaff, reason: str, by: User, now: dt.datetime | None = None) -> RoundStaff:
    _manage(by, staff.round.unit)
    _not_closed(staff.round)
    if not reason.strip():
        raise ValidationError({"reason": _("请填写撤销原因")})
    if staff.retired_at is not None:
        raise ValidationError({"staff": _("该人员已撤销")})
    staff.retired_at, staff.retired_reason = now or timezone.now(), reason.strip()
    stamp(staff, by=by, reason=reason.strip())
    staff.save(update_fields=["retired_at", "retired_reason"])
    return staff


def read_table(
    content: bytes, filename: str, headers: Sequence[str], required: Sequence[str]
) -> list[tuple[int, dict[str, Any]]]:
    """Rows of an uploaded xlsx or csv as (row number as the user sees it, {header: cell}); blank rows skipped.

    A file that cannot be read, or lacks a required column, is refused as a whole ({"file": reason}).
    """
    if not content:
        raise ValidationError({"file": _("文件是空的")})
    raw_rows: list[list[Any]]
    if content[:4] == b"PK\x03\x04":
        try:
            from python_calamine import CalamineWorkbook

            sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
            raw_rows = [list(r) for r in sheet.iter_rows()]
        except Exception:  # calamine raises several error types for files that are not workbooks
            raise ValidationError({"file": _("不是有效的Excel文件（.xlsx）")}) from None
    elif content[:4] == b"\xd0\xcf\x11\xe0":
        raise ValidationError({"file": _("不支持旧版 .xls 文件，请在Excel中另存为 .xlsx 后再导入")})
    else:
        text = None
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        if text is None or "\x00" in text:
            raise ValidationError({"file": _("不是表格文件：请上传 .xlsx 或 .csv 文件")})
        raw_rows = list(csv.reader(io.StringIO(text)))
    if not raw_rows:
        raise ValidationError({"file": _("文件中没有数据")})
    head = [rules.cell(h) for h in raw_rows[0]]
    missing = [h for h in required if h not in head]
    if missing:
        raise ValidationError(
            {
                "file": _("缺少必填列：%(columns)s（第1行应为表头：%(all)s）")
                % {"columns": "、".join(missing), "all": "、".join(headers)}
            }
        )
    index = {h: i for i, h in enumerate(head) if h in headers}
    out = []
    for number, raw in enumerate(raw_rows[1:], start=2):
        if not any(rules.cell(c) for c in raw):
            continue
        out.append((number, {h: (raw[i] if i < len(raw) else "") for h, i in index.items()}))
    if not out:
        raise ValidationError({"file": _("文件中没有数据行（只有表头）")})
    return out


@transaction.atomic
def import_staff(*, round_: Round, content: bytes, filename: str, by: User) -> ImportResult:
    """A staff sheet (姓名, 岗位, 联系电话, 所属单位, 采样点, 采样台, 车牌号): all rows or none."""
    _manage(by, round_.unit)
    require(by, "can_import")
    _not_closed(round_)
    result = ImportResult()
    rows = read_table(content, filename, rules.STAFF_HEADERS, ("姓名", "岗位"))
    sites = {s.name: s for s in SamplingSite.objects.filter(round=round_, retired_at__isnull=True)}
    tables = {
        (t.site_id, t.kind, t.number): t
        for t in SamplingTable.objects.filter(site__round=round_, retired_at__isnull=True)
    }
    people: list[RoundStaff] = []
    for number, cells in rows:
        parsed, errors = rules.parse_staff_row(number, cells)
        if parsed is not None:
            site = sites.get(parsed.site) if parsed.site else None
            table = None
            if parsed.site and site is None:
                errors.append(
                    rules.RowError(number, "采样点", _("本轮没有名为“%(name)s”的采样点") % {"name": parsed.site})
                )
            elif site is not None and parsed.table is not None:
                table = tables.get((site.pk, *parsed.table))
                if table is None:
                    errors.append(
                        rules.RowError(number, "采样台", _("采样点“%(site)s”没有这个采样台") % {"site": site.name})
                    )
            if not errors:
                people.append(
                    RoundStaff(
                        round=round_,
                        site=site,
                        table=table,
                        role=parsed.role,
                        name=parsed.name,
                        phone=parsed.phone,
                        organisation=parsed.organisation,
                        vehicle_plate=parsed.vehicle_plate,
                    )
                )
        result.errors.extend(e.as_dict() for e in errors)
    if result.errors:
        return result
    for person in people:
        stamp(person, by=by, reason=_("导入工作人员"))
        person.save()
    result.created = len(people)
    return result


@transaction.atomic
def copy_plan(*, source: Round, target: Round, by: User) -> int:
    """The sites (with their buildings), tables and staff of ``source`` into ``target`` (which has no sites):
    the second round of a 三天两检 keeps its plan. Returns the number of sites copied."""
    _manage(by, target.unit)
    require_unit(by, source.unit)
    _not_closed(target)
    if SamplingSite.objects.filter(round=target).exists():
        raise ValidationError({"round": _("本轮已有采样点，不能复制计划")})
    site_map: dict[int, SamplingSite] = {}
    table_map: dict[int, SamplingTable] = {}
    scope = list(target.scope_units.all())
    for site in SamplingSite.objects.filter(round=source, retired_at__isnull=True).prefetch_related("buildings"):
        new = SamplingSite(
            round=target,
            unit=site.unit,
            name=site.name,
            location=site.location,
            leader=site.leader,
            leader_phone=site.leader_phone,
        )
        stamp(new, by=by, reason=_("复制上一轮计划"))
        new.save()
        new.buildings.set([b for b in site.buildings.all() if any(b.is_within(s) for s in scope)])
        site_map[site.pk] = new
        for table in site.tables.filter(retired_at__isnull=True):
            copy = SamplingTable(site=new, kind=table.kind, number=table.number)
            stamp(copy, by=by, reason=_("复制上一轮计划"))
            copy.save()
            table_map[table.pk] = copy
    for person in RoundStaff.objects.filter(round=source, retired_at__isnull=True):
        copy_staff = RoundStaff(
            round=target,
            site=site_map.get(person.site_id) if person.site_id else None,
            table=table_map.get(person.table_id) if person.table_id else None,
            role=person.role,
            name=person.name,
            phone=person.phone,
            organisation=person.organisation,
            vehicle_plate=person.vehicle_plate,
        )
        stamp(copy_staff, by=by, reason=_("复制上一轮计划"))
        copy_staff.save()
    site_of = _site_map(target)
    for building_id, site_id in site_of.items():
        ShouldSample.objects.filter(round=target, unit_id=building_id).update(site_id=site_id)
    return len(site_map)


# ---- the should-sample list ---------------------------------------------------------------------------------------


@dataclass
class RosterBuild:
    mode: str  # "rebuilt" (the list replaced) or "added" (sampling had started: only new people added)
    people: int  # on the list after the build
    added: int  # rows written by this build
    by_exemption: dict[str, int]
    door_to_door: int
    seconds: float


def present_residents_q(on: dt.date) -> Q:
    """The registry's "present on a date" (registry.selectors.population_figures_on): active records whose
    presence interval [arrived_on, left_on) contains the date; people 外出 since on or before the date are
    away, not in the street to be sampled (docs/testing.md)."""
    return (
        Q(retired_at__isnull=True, arrived_on__lte=on)
        & (Q(left_on__isnull=True) | Q(left_on__gt=on))
        & ~Q(living_status=LivingStatus.AWAY, status_since__lte=on)
    )


def _site_map(round_: Round) -> dict[int, int]:
    """building id -> id of the active site that serves it."""
    through = SamplingSite.buildings.through
    return dict(
        through.objects.filter(samplingsite__round=round_, samplingsite__retired_at__isnull=True).values_list(
            "orgunit_id", "samplingsite_id"
        )
    )


@dataclass
class _Exemptions:
    measures: dict[str, set[str]]
    recent: set[str]
    previous: set[str]

    def facts(self, id_number: str) -> rules.PersonFacts | None:
        m = self.measures.get(id_number)
        r = id_number in self.recent
        p = id_number in self.previous
        if not (m or r or p):
            return None
        return rules.PersonFacts(measures=frozenset(m or ()), recent_test=r, previous_round=p)

    def exemption(self, id_number: str) -> str:
        facts = self.facts(id_number)
        return rules.exemption_for(facts) if facts is not None else ""


def _exemptions(round_: Round) -> _Exemptions:
    """Everything that exempts someone from this round, keyed by ID number (matched across modules)."""
    from outbreak.models import Screening

    on = round_.starts_on
    measures: dict[str, set[str]] = defaultdict(set)
    screenings = (
        Screening.objects.filter(measure_start__lte=on, measure__in=list(rules.MEASURE_EXEMPTION))
        .filter(Q(status="tracking") | Q(status="released", released_on__gt=on))
        .values_list("id_number", "measure", "status", "measure_start", "measure_end", "released_on")
    )
    for id_number, measure, status, start, end, released in screenings:
        if rules.under_measure_on(on, measure=measure, status=status, start=start, end=end, released_on=released):
            measures[id_number].add(measure)
    recent: set[str] = set()
    window = rules.recent_test_window(on, round_.recent_test_hours, timezone.get_current_timezone())
    if window is not None:
        recent.update(
            Sample.objects.filter(taken_at__gte=window[0], taken_at__lt=window[1])
            .exclude(round=round_)
            .values_list("id_number", flat=True)
            .distinct()
        )
        days = rules.recent_test_days(on, round_.recent_test_hours)
        assert days is not None
        recent.update(
            RoutineTest.objects.filter(tested_on__gte=days[0], tested_on__lte=days[1])
            .values_list("member__id_number", flat=True)
            .distinct()
        )
    previous: set[str] = set()
    if round_.previous_round_id:
        previous.update(
            Sample.objects.filter(round_id=round_.previous_round_id).values_list("id_number", flat=True).distinct()
        )
    return _Exemptions(measures=dict(measures), recent=recent, previous=previous)


ROSTER_COLUMNS = (
    "round_id",
    "resident_id",
    "name",
    "id_number",
    "phone",
    "unit_id",
    "site_id",
    "exemption",
    "exemption_note",
    "needs_door_to_door",
    "workplace",
    "workplace_kind",
)


def _door_to_door_ids(resident_ids: Iterable[int]) -> set[int]:
    through = Resident.tags.through
    wanted = set(resident_ids)
    rows = through.objects.filter(tag__name__in=rules.DOOR_TO_DOOR_TAGS).values_list("resident_id", flat=True)
    return {r for r in rows if r in wanted}


@transaction.atomic
def build_roster(*, round_: Round, by: User, now: dt.datetime | None = None, analyze_after: bool = True) -> RosterBuild:
    """The should-sample list as of the round's start date, frozen into rows.

    Residents present on the start date in the scope units, plus the people imported for the round;
    each with the site serving his building, the reason he needs no sample (counted under the first
    reason in rules.EXEMPTION_ORDER) and whether he is sampled at home. Before sampling starts the
    residents' rows are replaced (the imported people stay, their reasons recomputed); once samples
    exist, only people not yet on the list are added, so the figures under way do not shift.
    """
    started = time.monotonic()
    _manage(by, round_.unit)
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    _not_closed(round_)
    on = round_.starts_on
    sampling = Sample.objects.filter(round=round_).exists()
    people = list(
        Resident.objects.filter(present_residents_q(on), scope_q(round_))
        .order_by("unit__path", "household_id", "id")
        .values_list("id", "name", "id_number", "phone", "unit_id", "birth_date", "household_id")
    )
    at_home = Counter(h for *_rest, h in people if h is not None)
    disabled = _door_to_door_ids(p[0] for p in people)
    tag_names = {"残疾"}
    sites = _site_map(round_)
    ex = _exemptions(round_)
    if sampling:
        on_list = set(ShouldSample.objects.filter(round=round_).values_list("id_number", flat=True))
    else:
        ShouldSample.objects.filter(round=round_, resident__isnull=False).delete()
        on_list = set(ShouldSample.objects.filter(round=round_).values_list("id_number", flat=True))

    def rows() -> Iterable[tuple[Any, ...]]:
        for pk, name, id_number, phone, unit_id, birth, household in people:
            if id_number in on_list:
                continue
            on_list.add(id_number)
            door = rules.needs_door_to_door(
                tags=tag_names if pk in disabled else (),
                birth_date=birth,
                on=on,
                lives_alone=household is None or at_home[household] == 1,
            )
            yield (
                round_.pk,
                pk,
                name,
                id_number,
                phone,
                unit_id,
                sites.get(unit_id),
                ex.exemption(id_number),
                "",
                door,
                "",
                "",
            )

    added = insert_rows(ShouldSample, ROSTER_COLUMNS, rows())
    if not sampling:
        _refresh_extras(round_, ex, sites)
    round_.roster_built_at = now or timezone.now()
    round_.save(update_fields=["roster_built_at"])
    if analyze_after and connection.vendor == "postgresql":
        analyze(ShouldSample)  # the planner must know the new rows before the first progress query
    counts = Counter(ShouldSample.objects.filter(round=round_).values_list("exemption", flat=True).order_by())
    door_count = ShouldSample.objects.filter(round=round_, needs_door_to_door=True).count()
    return RosterBuild(
        mode="added" if sampling else "rebuilt",
        people=sum(counts.values()),
        added=added,
        by_exemption={k: v for k, v in counts.items() if k},
        door_to_door=door_count,
        seconds=round(time.monotonic() - started, 2),
    )


def _refresh_extras(round_: Round, ex: _Exemptions, sites: dict[int, int]) -> None:
    """The imported people's reasons and sites, by the same rules as the residents'."""
    changed = []
    for row in ShouldSample.objects.filter(round=round_, resident__isnull=True).only(
        "id", "id_number", "unit_id", "exemption", "site_id"
    ):
        exemption = ex.exemption(row.id_number)
        site = sites.get(row.unit_id)
        if (exemption, site) != (row.exemption, row.site_id):
            row.exemption, row.site_id = exemption, site
            changed.append(row)
    ShouldSample.objects.bulk_update(changed, ["exemption", "site"], batch_size=500)


class _UnitFinder:
    """A building (or other unit) of the round's scope by its code, its name, or "社区/网格/楼栋"."""

    def __init__(self, round_: Round) -> None:
        units = OrgUnit.objects.filter(scope_q(round_, prefix="")).filter(retired_on__isnull=True)
        self.rows = list(units.values_list("id", "code", "name", "path", "parent_id"))
        self.by_code = {r[1]: r for r in self.rows}
        self.by_id = {r[0]: r for r in self.rows}
        self.by_name: dict[str, list[Any]] = defaultdict(list)
        for r in self.rows:
            self.by_name[r[2]].append(r)

    def find(self, text: str) -> tuple[int | None, str]:
        value = text.strip()
        if value in self.by_code:
            return self.by_code[value][0], ""
        parts = [p for p in value.replace("／", "/").replace(" ", "/").split("/") if p]
        if not parts:
            return None, _("请填写所在楼栋（区划代码或名称）")
        matches = self.by_name.get(parts[-1], [])
        for word in reversed(parts[:-1]):
            matches = [m for m in matches if self._has_ancestor_named(m, word)]
        if len(matches) == 1:
            return matches[0][0], ""
        if not matches:
            return None, _("检测范围内没有“%(v)s”") % {"v": value}
        return None, _("“%(v)s”在检测范围内有%(n)s处，请填写区划代码或“社区/网格/楼栋”") % {
            "v": value,
            "n": len(matches),
        }

    def _has_ancestor_named(self, row: Any, word: str) -> bool:
        parent = self.by_id.get(row[4])
        while parent is not None:
            if parent[2] == word:
                return True
            parent = self.by_id.get(parent[4])
        return False


@transaction.atomic
def import_extra_people(*, round_: Round, content: bytes, filename: str, by: User) -> ImportResult:
    """People added to the round only (workers of sites, shops, enterprises and hotels in scope): all or none.

    Columns: 姓名, 证件号码, 联系电话, 所在楼栋 (code, name or 社区/网格/楼栋), 工作单位, 从业场所类型.
    A person already on the list, or a resident of the scope, is refused (he is on the list already or
    will be when it is built). Allowed after sampling started (it only adds people).
    """
    require(by, "can_import")
    _manage(by, round_.unit)
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    _not_closed(round_)
    result = ImportResult()
    rows = read_table(content, filename, rules.EXTRA_HEADERS, ("姓名", "证件号码", "所在楼栋"))
    finder = _UnitFinder(round_)
    today = timezone.localdate()
    parsed: list[tuple[rules.ExtraRow, int]] = []
    errors: list[rules.RowError] = []
    for number, cells in rows:
        row, row_errors = rules.parse_extra_row(number, cells, today=today)
        if row is not None:
            unit_id, message = finder.find(row.building)
            if unit_id is None:
                row_errors.append(rules.RowError(number, "所在楼栋", message))
            else:
                parsed.append((row, unit_id))
        errors.extend(row_errors)
    dups = rules.duplicate_keys(
        ((r.row, r.id_number) for r, _u in parsed), "证件号码", _("与第%(row)s行是同一证件号码")
    )
    errors.extend(dups)
    parsed = [(r, u) for r, u in parsed if r.row not in {e.row for e in dups}]
    numbers = [r.id_number for r, _u in parsed]
    on_list = set(ShouldSample.objects.filter(round=round_, id_number__in=numbers).values_list("id_number", flat=True))
    residents = set(
        Resident.objects.filter(
            present_residents_q(round_.starts_on), scope_q(round_), id_number__in=numbers
        ).values_list("id_number", flat=True)
    )
    for r, _u in parsed:
        if r.id_number in on_list:
            errors.append(rules.RowError(r.row, "证件号码", _("该人员已在本轮应检名单中")))
        elif r.id_number in residents:
            errors.append(
                rules.RowError(r.row, "证件号码", _("该人员是检测范围内的居民，生成名单时自动纳入，无需导入"))
            )
    if errors:
        result.errors = [e.as_dict() for e in sorted(errors, key=lambda e: (e.row, e.column))]
        return result
    ex = _exemptions(round_)
    sites = _site_map(round_)
    result.created = insert_rows(
        ShouldSample,
        ROSTER_COLUMNS,
        (
            (
                round_.pk,
                None,
                r.name,
                r.id_number,
                r.phone,
                unit_id,
                sites.get(unit_id),
                ex.exemption(r.id_number),
                "",
                False,
                r.workplace,
                r.workplace_kind,
            )
            for r, unit_id in parsed
        ),
    )
    return result


# ---- results ------------------------------------------------------------------------------------------------------


@transaction.atomic
def import_results(
    *, round_: Round, content: bytes, filename: str, by: User, now: dt.datetime | None = None
) -> ImportResult:
    """Lab results per tube (试管条码, 检测结果 阴性/阳性/无效, 检测时间, 检测机构[, 更正原因]): all rows or none.

    An unknown tube or a bad value names its row and column. The same result again changes nothing;
    a different result for a tube that has one is a correction: it needs a reason (更正原因), and the
    earlier result is superseded, never edited.
    """
    require(by, "can_import")
    require_unit(by, round_.unit)
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    result = ImportResult()
    rows = read_table(content, filename, rules.RESULT_HEADERS, ("试管条码", "检测结果", "检测时间"))
    parsed: list[rules.ResultRow] = []
    errors: list[rules.RowError] = []
    for number, cells in rows:
        row, row_errors = rules.parse_result_row(number, cells, tz=tz, now=now)
        errors.extend(row_errors)
        if row is not None:
            parsed.append(row)
    dups = rules.duplicate_keys(((r.row, r.barcode) for r in parsed), "试管条码", _("与第%(row)s行是同一试管"))
    errors.extend(dups)
    parsed = [r for r in parsed if r.row not in {e.row for e in dups}]
    tubes = {t.barcode: t for t in Tube.objects.filter(round=round_, barcode__in=[r.barcode for r in parsed])}
    current = {
        r.tube_id: r
        for r in TubeResult.objects.select_for_update().filter(
            tube__in=list(tubes.values()), superseded_at__isnull=True
        )
    }
    writes: list[tuple[rules.ResultRow, Tube, TubeResult | None]] = []
    for r in parsed:
        tube = tubes.get(r.barcode)
        if tube is None:
            errors.append(rules.RowError(r.row, "试管条码", _("本轮没有这个试管条码：%(b)s") % {"b": r.barcode}))
            continue
        if r.tested_at < tube.opened_at - dt.timedelta(minutes=5):
            errors.append(rules.RowError(r.row, "检测时间", _("检测时间早于该试管开管时间")))
            continue
        old = current.get(tube.pk)
        if old is not None and old.result == r.result:
            result.unchanged += 1
            continue
        if old is not None and not r.reason:
            errors.append(
                rules.RowError(
                    r.row,
                    "更正原因",
                    _("该试管已有结果“%(old)s”，更正为“%(new)s”需填写更正原因")
                    % {"old": old.get_result_display(), "new": rules_label(r.result)},
                )
            )
            continue
        writes.append((r, tube, old))
    if errors:
        result.errors = [e.as_dict() for e in sorted(errors, key=lambda e: (e.row, e.column))]
        result.unchanged = 0
        return result
    for r, tube, old in writes:
        _write_result(
            tube=tube, result=r.result, tested_at=r.tested_at, lab=r.lab, reason=r.reason, old=old, by=by, now=now
        )
        if old is None:
            result.created += 1
        else:
            result.updated += 1
    return result


def rules_label(result: str) -> str:
    from testing.models import Result

    return str(Result(result).label)


def _write_result(
    *,
    tube: Tube,
    result: str,
    tested_at: dt.datetime,
    lab: str,
    reason: str,
    old: TubeResult | None,
    by: User,
    now: dt.datetime,
) -> TubeResult:
    if old is not None:
        old.superseded_at = now
        old.save(update_fields=["superseded_at"])
    return TubeResult.objects.create(
        tube=tube,
        result=result,
        tested_at=tested_at,
        lab=lab,
        recorded_by=by,
        correction_reason=reason if old is not None else "",
    )


@transaction.atomic
def correct_result(
    *,
    tube: Tube,
    result: str,
    tested_at: dt.datetime,
    reason: str,
    by: User,
    lab: str = "",
    now: dt.datetime | None = None,
) -> TubeResult:
    """One tube's result entered or corrected by hand (a correction needs its reason)."""
    require(by, "can_write")
    require_unit(by, tube.round.unit)
    from testing.models import Result

    if result not in Result.values:
        raise ValidationError({"result": _("检测结果应为阴性、阳性或无效")})
    old = TubeResult.objects.select_for_update().filter(tube=tube, superseded_at__isnull=True).first()
    if old is not None and old.result == result:
        raise ValidationError({"result": _("结果与现有结果相同")})
    if old is not None and not reason.strip():
        raise ValidationError({"reason": _("更正结果需填写更正原因")})
    return _write_result(
        tube=tube,
        result=result,
        tested_at=tested_at,
        lab=lab.strip(),
        reason=reason.strip(),
        old=old,
        by=by,
        now=now or timezone.now(),
    )


@dataclass
class HandOver:
    screenings: list[Screening]
    merged: int  # members already screened in the event: a finding added, not a second person
    skipped: int  # members handed over before


@transaction.atomic
def hand_over_positive(
    *, tube: Tube, event: Event, by: User, measure: str = "home", today: dt.date | None = None
) -> HandOver:
    """移交隔离: the members of a tube with a positive result become screened persons of an outbreak event
    (outbreak.services.screen_person: merged with an earlier screening of the same person), each sample
    linked to its screening. Members handed over already are skipped, so a second click adds nothing."""
    from outbreak.models import EventStatus, FoundBy, Measure
    from outbreak.selectors import events_for
    from outbreak.services import ScreeningData, screen_person

    require(by, "can_write")
    require_unit(by, tube.round.unit)
    if not events_for(by).filter(pk=event.pk).exists():
        raise PermissionDenied(_("该疫情事件不在您的管辖范围内"))
    if event.status != EventStatus.ACTIVE:
        raise ValidationError({"event": _("该疫情事件已结束，请选择进行中的事件")})
    if measure not in (Measure.HOME_QUARANTINE, Measure.CENTRAL_QUARANTINE, Measure.HEALTH_MONITORING):
        raise ValidationError({"measure": _("管控措施应为集中隔离、居家隔离或居家健康监测")})
    current = TubeResult.objects.filter(tube=tube, superseded_at__isnull=True).first()
    if current is None or current.result != "positive":
        raise ValidationError({"tube": _("该试管没有阳性结果，无需移交")})
    samples = list(
        Sample.objects.select_for_update(of=("self",))
        .filter(tube=tube)
        .select_related("resident", "resident__unit", "table__site__unit")
        .order_by("position")
    )
    roster_units = dict(
        ShouldSample.objects.filter(round=tube.round, id_number__in=[s.id_number for s in samples]).values_list(
            "id_number", "unit_id"
        )
    )
    units = OrgUnit.objects.in_bulk(list(roster_units.values()))
    out = HandOver(screenings=[], merged=0, skipped=0)
    tz = timezone.get_current_timezone()
    for s in samples:
        if s.screening_id is not None:
            out.skipped += 1
            continue
        unit = s.resident.unit if s.resident else units.get(roster_units.get(s.id_number, -1)) or s.table.site.unit
        if not unit_in_scope(by, unit):
            raise PermissionDenied(_("试管中有不在您管辖范围内的人员，请由上级单位移交"))
        data = ScreeningData(
            from_area=_("本地（全员核酸混管阳性）"),
            arrival_date=timezone.localtime(s.taken_at, tz).date(),
            found_by=FoundBy.MASS_TESTING,
            person_kind="other",
            person=s.resident,
            name="" if s.resident else s.name,
            id_number="" if s.resident else s.id_number,
            phone=s.phone if not s.resident else "",
            measure=measure,
            found_on=today,
            note=_("%(round)s 试管%(barcode)s阳性，待单管复核") % {"round": tube.round.name, "barcode": tube.barcode},
        )
        screening, merged = screen_person(event=event, unit=unit, data=data, by=by, today=today)
        out.merged += int(merged)
        s.screening = screening
        s.save(update_fields=["screening"])
        out.screenings.append(screening)
    return out


# ---- static QR codes ----------------------------------------------------------------------------------------------


@transaction.atomic
def issue_static_codes(*, unit: OrgUnit, by: User, now: dt.datetime | None = None) -> int:
    """A static QR code for every resident of the unit's subtree who has none (registry.StaticCode:
    a random token, never the ID number). Returns how many were issued. One resident's lost card is
    replaced with registry.services.issue_static_code."""
    require(by, "can_write")
    require_unit(by, unit)
    now = now or timezone.now()
    ids = list(
        Resident.objects.filter(_in(unit), retired_at__isnull=True, left_on__isnull=True)
        .filter(~Exists(StaticCode.objects.filter(resident=OuterRef("pk"), revoked_at__isnull=True)))
        .values_list("id", flat=True)
    )
    try:
        with transaction.atomic():
            return insert_rows(
                StaticCode,
                ("resident_id", "token", "issued_at", "issued_by_id"),
                ((pk, secrets.token_urlsafe(STATIC_CODE_BYTES), now, by.pk) for pk in ids),
            )
    except IntegrityError:
        raise ValidationError({"unit": _("有人同时在发放二维码，请稍后重试")}) from None


def exemption_label(value: str) -> str:
    return str(Exemption(value).label) if value else str(_("应采"))
