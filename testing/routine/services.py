"""Writes of routine testing (应检尽检): key groups, their members, the weekly schedule and test records.

Named, keyword-only and transactional; each checks the role (accounts.permissions.require) and the
scope (core.scoping.require_unit). Nothing is deleted: a group is retired, a member leaves with a
reason, a schedule change closes the old slots and opens new ones, a batch move closes the member's
row and opens one with the new batch (past cycles keep the batch they had). Imports take all rows or
none; their errors name the row, the column and the reason. See docs/testing.md (应检尽检).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import require
from core.audit import stamp
from core.history import end_of_day, start_of_day
from core.indicators import Period
from core.scoping import require_unit, unit_in_scope
from orgunits.models import Level, OrgUnit
from registry.importing import CellError, parse_date, text
from registry.models import Resident
from registry.rules import IdNumberError, normalise_other_id, normalise_phone, parse_id_number
from testing.models import KeyGroup, KeyGroupMember, Round, RoutineTest, Sample, ScheduleSlot, TestSource
from testing.routine import rules

if TYPE_CHECKING:
    from accounts.models import User

MAX_BATCH = 20
MAX_IMPORT_BYTES = 10 * 1024 * 1024


def _today() -> dt.date:
    return timezone.localdate()


def _in(unit: OrgUnit, prefix: str = "unit__") -> Q:
    return Q(**{f"{prefix}path__gte": unit.path, f"{prefix}path__lt": unit.path_end})


def clean_id_number(raw: str) -> str:
    """A resident ID (15 or 18 characters, checked by GB 11643) or another document's number, normalised."""
    value = (raw or "").strip().replace(" ", "").upper()
    try:
        if len(value) in (15, 18) and value[:-1].isdigit():
            return parse_id_number(value).number
        return normalise_other_id(value)
    except IdNumberError as exc:
        raise ValidationError({"id_number": str(exc)}) from None


def clean_batch(raw: Any) -> int | None:
    if raw in (None, ""):
        return None
    try:
        value = int(str(raw).strip().removeprefix("第").removesuffix("批").removesuffix("批次"))
    except ValueError:
        raise ValidationError({"batch": _("批次应为1–%(n)s的整数") % {"n": MAX_BATCH}}) from None
    if not 1 <= value <= MAX_BATCH:
        raise ValidationError({"batch": _("批次应为1–%(n)s的整数") % {"n": MAX_BATCH}})
    return value


# ---- groups -------------------------------------------------------------------------------------------------------


def _require_manager(by: User, unit: OrgUnit) -> None:
    """Groups and their schedules are the street's (or the district's) business."""
    require(by, "can_manage_units")
    require_unit(by, unit)


@transaction.atomic
def create_group(*, unit: OrgUnit, name: str, by: User) -> KeyGroup:
    _require_manager(by, unit)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写人群名称")})
    if KeyGroup.objects.filter(unit=unit, name=name, retired_on__isnull=True).exists():
        raise ValidationError({"name": _("本单位已有名为“%(name)s”的应检人群") % {"name": name}})
    group = KeyGroup(unit=unit, name=name)
    stamp(group, by=by, reason=_("新建应检人群"))
    group.save()
    return group


@transaction.atomic
def rename_group(*, group: KeyGroup, name: str, by: User) -> KeyGroup:
    _require_manager(by, group.unit)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写人群名称")})
    if group.retired_on is not None:
        raise ValidationError({"name": _("该人群已停用")})
    if KeyGroup.objects.filter(unit=group.unit, name=name, retired_on__isnull=True).exclude(pk=group.pk).exists():
        raise ValidationError({"name": _("本单位已有名为“%(name)s”的应检人群") % {"name": name}})
    group.name = name
    stamp(group, by=by, reason=_("修改名称"))
    group.save(update_fields=["name"])
    return group


@transaction.atomic
def retire_group(*, group: KeyGroup, on: dt.date, reason: str, by: User) -> KeyGroup:
    """Stop testing a group from ``on`` (no cycles from that day); its members and records stay."""
    _require_manager(by, group.unit)
    errors: dict[str, str] = {}
    if group.retired_on is not None:
        errors["retired_on"] = _("该人群已于%(date)s停用") % {"date": group.retired_on.isoformat()}
    if not (reason or "").strip():
        errors["retired_reason"] = _("请填写停用原因")
    if errors:
        raise ValidationError(errors)
    group.retired_on = on
    group.retired_reason = reason.strip()
    stamp(group, by=by, reason=reason.strip())
    group.save(update_fields=["retired_on", "retired_reason"])
    return group


# ---- members ------------------------------------------------------------------------------------------------------


@dataclass
class MemberData:
    id_number: str
    joined_on: dt.date
    name: str = ""
    phone: str = ""
    unit: OrgUnit | None = None  # None: the registry resident's community
    workplace: str = ""
    batch: int | None = None


def _community_of(unit: OrgUnit) -> OrgUnit:
    """The community (社区/村) a unit lies in; the unit itself above that level."""
    if unit.level in (Level.GRID, Level.BUILDING):
        ids = [int(seg) for seg in unit.path.strip("/").split("/") if seg]
        found = OrgUnit.objects.filter(pk__in=ids, level=Level.COMMUNITY).first()
        if found is not None:
            return found
    return unit


def _resident(number: str) -> Resident | None:
    return (
        Resident.objects.filter(id_number=number, retired_at__isnull=True)
        .select_related("unit")
        .order_by("-pk")
        .first()
    )


def _clean_member(group: KeyGroup, data: MemberData, by: User) -> tuple[dict[str, Any], Resident | None]:
    """The member's fields, checked; errors keyed by field. The registry fills name, phone and unit."""
    errors: dict[str, str] = {}
    number = ""
    try:
        number = clean_id_number(data.id_number)
    except ValidationError as exc:
        errors["id_number"] = exc.messages[0]
    resident = _resident(number) if number else None
    name = (data.name or "").strip() or (resident.name if resident else "")
    if not name:
        errors["name"] = _("请填写姓名")
    elif resident is not None and name != resident.name:
        errors["name"] = _("证件号码登记的姓名为“%(name)s”，与填写的不一致") % {"name": resident.name}
    phone = ""
    try:
        phone = normalise_phone(data.phone) or (resident.phone if resident else "")
    except ValueError as exc:
        errors["phone"] = str(exc)
    unit = data.unit or (_community_of(resident.unit) if resident else None)
    if unit is None:
        errors["unit"] = _("请选择所属社区")
    elif not unit.path.startswith(group.unit.path):
        errors["unit"] = _("%(unit)s不在本人群的管理单位（%(group_unit)s）之内") % {
            "unit": unit.name,
            "group_unit": group.unit.name,
        }
    elif not unit_in_scope(by, unit):
        errors["unit"] = _("%(unit)s不在您的管辖范围内") % {"unit": unit.name}
    if data.batch is not None and not 1 <= data.batch <= MAX_BATCH:
        errors["batch"] = _("批次应为1–%(n)s的整数") % {"n": MAX_BATCH}
    if data.joined_on > _today():
        errors["joined_on"] = _("纳入日期不能晚于今天")
    if group.retired_on is not None:
        errors["group"] = _("该人群已停用，不能再添加人员")
    if errors:
        raise ValidationError(errors)
    fields = {
        "name": name,
        "id_number": number,
        "phone": phone,
        "unit": unit,
        "workplace": (data.workplace or "").strip(),
        "batch": data.batch,
    }
    return fields, resident


@transaction.atomic
def add_member(*, group: KeyGroup, data: MemberData, by: User) -> KeyGroupMember:
    """A person joins the group. The same person active in the group is refused (edit him instead);
    a person who left may join again from the day he left on."""
    require(by, "can_write")
    fields, resident = _clean_member(group, data, by)
    KeyGroup.objects.select_for_update().filter(pk=group.pk).first()  # one add of a person at a time
    rows = list(KeyGroupMember.objects.filter(group=group, id_number=fields["id_number"]))
    active = next((m for m in rows if m.left_on is None), None)
    if active is not None:
        raise ValidationError(
            {
                "id_number": _("%(name)s已在本人群中（%(batch)s，%(date)s纳入），如需调整请在该人员页面修改")
                % {"name": active.name, "batch": _batch_text(active.batch), "date": active.joined_on.isoformat()}
            }
        )
    last_left = max((m.left_on for m in rows if m.left_on is not None), default=None)
    if last_left is not None and data.joined_on < last_left:
        raise ValidationError(
            {"joined_on": _("该人员曾于%(date)s移出本人群，再次纳入不能早于该日") % {"date": last_left.isoformat()}}
        )
    member = KeyGroupMember(group=group, resident=resident, joined_on=data.joined_on, **fields)
    stamp(member, by=by, reason=_("纳入应检人员"))
    member.save()
    return member


def _batch_text(batch: int | None) -> str:
    return _("第%(n)s批") % {"n": batch} if batch else _("未分批")


def _require_member(by: User, member: KeyGroupMember) -> None:
    require(by, "can_write")
    require_unit(by, member.unit)


@transaction.atomic
def update_member(
    *, member: KeyGroupMember, phone: str, workplace: str, unit: OrgUnit | None = None, by: User
) -> KeyGroupMember:
    """Phone, workplace and community (corrections: the history keeps the old values)."""
    _require_member(by, member)
    errors: dict[str, str] = {}
    try:
        clean_phone = normalise_phone(phone)
    except ValueError as exc:
        errors["phone"] = str(exc)
    if unit is not None and unit.pk != member.unit_id:
        if not unit.path.startswith(member.group.unit.path):
            errors["unit"] = _("%(unit)s不在本人群的管理单位之内") % {"unit": unit.name}
        elif not unit_in_scope(by, unit):
            errors["unit"] = _("%(unit)s不在您的管辖范围内") % {"unit": unit.name}
    if errors:
        raise ValidationError(errors)
    changed = []
    for name, value in (("phone", clean_phone), ("workplace", (workplace or "").strip())):
        if getattr(member, name) != value:
            setattr(member, name, value)
            changed.append(name)
    if unit is not None and unit.pk != member.unit_id:
        member.unit = unit
        changed.append("unit")
    if changed:
        stamp(member, by=by, reason=_("修改人员信息"))
        member.save(update_fields=changed)
    return member


@transaction.atomic
def move_batch(*, member: KeyGroupMember, batch: int | None, on: dt.date, by: User, reason: str = "") -> KeyGroupMember:
    """A new batch from ``on``: the member's row closes the day before and a new row opens with the
    new batch, so past cycles keep the batch they had. Tests from ``on`` move to the new row.
    On the day he joined (nothing past to keep) the batch is simply changed."""
    _require_member(by, member)
    member = KeyGroupMember.objects.select_for_update().get(pk=member.pk)
    errors: dict[str, str] = {}
    if member.left_on is not None:
        errors["batch"] = _("该人员已移出本人群")
    elif batch == member.batch:
        errors["batch"] = _("批次没有变化")
    elif batch is not None and not 1 <= batch <= MAX_BATCH:
        errors["batch"] = _("批次应为1–%(n)s的整数") % {"n": MAX_BATCH}
    if on < member.joined_on:
        errors["on"] = _("调整日期不能早于纳入日期（%(date)s）") % {"date": member.joined_on.isoformat()}
    elif on > _today():
        errors["on"] = _("调整日期不能晚于今天")
    if errors:
        raise ValidationError(errors)
    why = (reason or "").strip() or _("调整批次：%(old)s→%(new)s") % {
        "old": _batch_text(member.batch),
        "new": _batch_text(batch),
    }
    if on == member.joined_on:
        member.batch = batch
        stamp(member, by=by, reason=why)
        member.save(update_fields=["batch"])
        return member
    member.left_on = on
    member.left_reason = why
    stamp(member, by=by, reason=why)
    member.save(update_fields=["left_on", "left_reason"])
    fresh = KeyGroupMember(
        group_id=member.group_id,
        resident_id=member.resident_id,
        name=member.name,
        id_number=member.id_number,
        phone=member.phone,
        unit_id=member.unit_id,
        workplace=member.workplace,
        batch=batch,
        joined_on=on,
    )
    stamp(fresh, by=by, reason=why)
    fresh.save()
    RoutineTest.objects.filter(member=member, tested_on__gte=on).update(member=fresh)
    return fresh


@transaction.atomic
def leave_group(*, member: KeyGroupMember, on: dt.date, reason: str, by: User) -> KeyGroupMember:
    """The member is no longer tested from ``on`` (he is not due on that day)."""
    _require_member(by, member)
    member = KeyGroupMember.objects.select_for_update().get(pk=member.pk)
    errors: dict[str, str] = {}
    if member.left_on is not None:
        errors["left_on"] = _("该人员已于%(date)s移出") % {"date": member.left_on.isoformat()}
    elif on < member.joined_on:
        errors["left_on"] = _("移出日期（%(left)s）早于纳入日期（%(joined)s）") % {
            "left": on.isoformat(),
            "joined": member.joined_on.isoformat(),
        }
    elif on > _today():
        errors["left_on"] = _("移出日期不能晚于今天")
    if not (reason or "").strip():
        errors["left_reason"] = _("请填写移出原因")
    if not errors:
        later = RoutineTest.objects.filter(member=member, tested_on__gte=on).order_by("-tested_on").first()
        if later is not None:
            errors["left_on"] = _("该人员在%(date)s还有检测记录，移出日期应晚于该日") % {
                "date": later.tested_on.isoformat()
            }
    if errors:
        raise ValidationError(errors)
    member.left_on = on
    member.left_reason = reason.strip()
    stamp(member, by=by, reason=reason.strip())
    member.save(update_fields=["left_on", "left_reason"])
    return member


# ---- files --------------------------------------------------------------------------------------------------------


class TableFileError(ValueError):
    """The file as a whole cannot be read; the message is for the user, in Chinese."""


def read_table(content: bytes, filename: str, columns: Sequence[tuple[str, str, bool]]) -> Iterator[tuple[int, dict]]:
    """(row number as Excel shows it, {key: cell}) for each non-empty data row of an xlsx or csv file whose
    first row holds the headers; ``columns`` are (header, key, required)."""
    if not content:
        raise TableFileError(_("文件是空的"))
    if len(content) > MAX_IMPORT_BYTES:
        raise TableFileError(_("文件过大，最大允许10 MB"))
    rows: list[list[Any]]
    if content.startswith(b"PK\x03\x04"):
        try:
            from python_calamine import CalamineWorkbook

            sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
            rows = [list(r) for r in sheet.iter_rows()]
        except Exception:  # calamine raises several error types for files that are not workbooks
            raise TableFileError(_("不是有效的Excel文件（.xlsx），请用模板另存后再导入")) from None
    elif content.startswith(b"\xd0\xcf\x11\xe0"):
        raise TableFileError(_("不支持旧版 .xls 文件，请在Excel中另存为 .xlsx 后再导入"))
    elif filename.lower().endswith((".csv", ".txt")):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                decoded = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise TableFileError(_("文字编码无法识别，请另存为UTF-8编码的CSV或xlsx文件后再导入"))
        rows = list(csv.reader(io.StringIO(decoded)))
    else:
        raise TableFileError(_("不是表格文件：请上传 .xlsx 或 .csv 文件"))
    if not rows:
        raise TableFileError(_("文件中没有数据行（只有表头）"))
    headers = [text(h) for h in rows[0]]
    missing = [h for h, _key, required in columns if required and h not in headers]
    if missing:
        raise TableFileError(
            _("缺少必填列：%(columns)s（第1行应为表头，请使用下载的模板）") % {"columns": "、".join(missing)}
        )
    index = {h: i for i, h in enumerate(headers)}
    cols = [(key, index[h]) for h, key, _required in columns if h in index]
    found = False
    for number, raw in enumerate(rows[1:], start=2):
        if not any(text(c) for c in raw):
            continue
        found = True
        yield number, {key: (raw[i] if i < len(raw) else "") for key, i in cols}
    if not found:
        raise TableFileError(_("文件中没有数据行（只有表头）"))


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: list[dict[str, Any]] = field(default_factory=list)  # same person and day twice: counted once
    errors: list[dict[str, Any]] = field(default_factory=list)  # {"row", "column", "message"}

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append({"row": row, "column": column, "message": message})


# (header, key, required)
MEMBER_COLUMNS: list[tuple[str, str, bool]] = [
    ("姓名", "name", True),
    ("证件号码", "id_number", True),
    ("联系电话", "phone", False),
    ("社区", "community", True),
    ("工作单位", "workplace", False),
    ("批次", "batch", False),
    ("纳入日期", "joined_on", False),
]
MEMBER_HEADER = {key: header for header, key, _required in MEMBER_COLUMNS}
FIELD_COLUMN = {"name": "姓名", "id_number": "证件号码", "phone": "联系电话", "unit": "社区", "workplace": "工作单位"}
FIELD_COLUMN.update({"batch": "批次", "joined_on": "纳入日期", "group": "社区"})


def _units_by_name(group: KeyGroup) -> dict[str, list[OrgUnit]]:
    out: dict[str, list[OrgUnit]] = defaultdict(list)
    units = OrgUnit.objects.filter(_in(group.unit, ""), level__in=[Level.STREET, Level.COMMUNITY, Level.DISTRICT])
    for u in units.filter(retired_on__isnull=True):
        out[u.name].append(u)
    return out


@transaction.atomic
def import_members(*, group: KeyGroup, content: bytes, filename: str, by: User) -> ImportResult:
    """The group's roster from a file: 姓名, 证件号码, 联系电话, 社区, 工作单位, 批次[, 纳入日期].

    A new person is added (linked to the registry by ID number); a person already active in the group
    is updated (phone, workplace, community; a new batch from the import day, as ``move_batch``), so a
    roster may be imported again after changes. All rows or none.
    """
    require(by, "can_import")
    require(by, "can_write")
    result = ImportResult()
    if group.retired_on is not None:
        result.error(0, "", _("该人群已停用，不能再导入人员"))
        return result
    try:
        rows = list(read_table(content, filename, MEMBER_COLUMNS))
    except TableFileError as exc:
        result.error(0, "", str(exc))
        return result
    units = _units_by_name(group)
    today = _today()
    seen: dict[str, int] = {}
    parsed: list[tuple[int, MemberData]] = []
    for number, cells in rows:
        result.rows += 1
        data, problems = _member_row(cells, units, today)
        for column, message in problems:
            result.error(number, column, message)
        if data is None:
            continue
        try:
            data.id_number = clean_id_number(data.id_number)
        except ValidationError as exc:
            result.error(number, "证件号码", exc.messages[0])
            continue
        if data.id_number in seen:
            result.error(number, "证件号码", _("与第%(row)s行是同一人") % {"row": seen[data.id_number]})
            continue
        seen[data.id_number] = number
        parsed.append((number, data))
    if result.errors:
        return result
    active = {m.id_number: m for m in KeyGroupMember.objects.filter(group=group, left_on__isnull=True)}
    for number, data in parsed:
        try:
            current = active.get(data.id_number)
            if current is None:
                add_member(group=group, data=data, by=by)
                result.created += 1
            elif _update_from_row(current, data, today, by):
                result.updated += 1
            else:
                result.unchanged += 1
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.message_dict if isinstance(exc, ValidationError) and hasattr(exc, "error_dict") else {}
            if messages:
                for key, msgs in messages.items():
                    for message in msgs:
                        result.error(number, FIELD_COLUMN.get(key, key), message)
            else:
                result.error(number, "", str(exc.messages[0] if isinstance(exc, ValidationError) else exc))
    if result.errors:
        result.created = result.updated = result.unchanged = 0
        transaction.set_rollback(True)
    return result


def _member_row(
    cells: dict[str, Any], units: dict[str, list[OrgUnit]], today: dt.date
) -> tuple[MemberData | None, list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    community = text(cells.get("community"))
    found = units.get(community, [])
    unit: OrgUnit | None = None
    if not community:
        problems.append(("社区", _("社区为空")))
    elif not found:
        problems.append(("社区", _("“%(name)s”不是本人群管理单位下的社区") % {"name": community}))
    elif len(found) > 1:
        problems.append(("社区", _("有多个名为“%(name)s”的单位，请联系上级区分") % {"name": community}))
    else:
        unit = found[0]
    batch = None
    try:
        batch = clean_batch(text(cells.get("batch")))
    except ValidationError as exc:
        problems.append(("批次", exc.messages[0]))
    joined_on = today
    try:
        joined_on = parse_date(cells.get("joined_on")) or today
    except CellError as exc:
        problems.append(("纳入日期", str(exc)))
    if not text(cells.get("id_number")):
        problems.append(("证件号码", _("证件号码为空")))
    if problems:
        return None, problems
    return (
        MemberData(
            id_number=text(cells.get("id_number")),
            joined_on=joined_on,
            name=text(cells.get("name")),
            phone=text(cells.get("phone")),
            unit=unit,
            workplace=text(cells.get("workplace")),
            batch=batch,
        ),
        [],
    )


def _update_from_row(current: KeyGroupMember, data: MemberData, today: dt.date, by: User) -> bool:
    """Bring an active member in line with his row; True when anything changed."""
    if data.name and data.name != current.name:
        raise ValidationError({"name": _("本人群中该证件号码的姓名为“%(name)s”") % {"name": current.name}})
    before = (current.phone, current.workplace, current.unit_id, current.batch)
    member = update_member(
        member=current, phone=data.phone or current.phone, workplace=data.workplace, unit=data.unit, by=by
    )
    if data.batch != member.batch:
        move_batch(member=member, batch=data.batch, on=max(today, member.joined_on), by=by)
    return before != (member.phone, member.workplace, member.unit_id, data.batch)


def member_template_bytes() -> bytes:
    from core.excel import workbook_bytes

    example = ["张三", "150599198001010015", "13800000000", "龙兴社区", "龙兴社区居委会", 1, ""]
    return workbook_bytes([h for h, _k, _r in MEMBER_COLUMNS], [example], sheet_title=_("应检人员"))


# ---- schedule -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotData:
    weekday: int
    batch: int | None = None
    site: str = ""


@dataclass
class ScheduleChange:
    closed: int = 0
    opened: int = 0
    kept: int = 0


@transaction.atomic
def change_schedule(*, group: KeyGroup, slots: Sequence[SlotData], valid_from: dt.date, by: User) -> ScheduleChange:
    """The group's weekly schedule from ``valid_from``: slots that stay the same stay open, the others
    close the day before and the new ones open on that day. An empty list stops the testing."""
    _require_manager(by, group.unit)
    errors: dict[str, str] = {}
    wanted: set[tuple[int, int | None, str]] = set()
    for s in slots:
        if not 0 <= s.weekday <= 6:
            errors["weekday"] = _("星期应为星期一至星期日")
        if s.batch is not None and not 1 <= s.batch <= MAX_BATCH:
            errors["batch"] = _("批次应为1–%(n)s的整数") % {"n": MAX_BATCH}
        key = (s.weekday, s.batch, (s.site or "").strip())
        if key in wanted:
            errors["slots"] = _("星期%(day)s%(batch)s在%(site)s重复安排") % {
                "day": rules.WEEKDAY_NAMES[s.weekday] if 0 <= s.weekday <= 6 else s.weekday,
                "batch": _batch_text(s.batch),
                "site": key[2] or _("同一采样点"),
            }
        wanted.add(key)
    by_day: dict[int, set[bool]] = defaultdict(set)
    for weekday, batch, _site in wanted:
        by_day[weekday].add(batch is None)
    for weekday, kinds in by_day.items():
        if len(kinds) > 1:
            errors["slots"] = _("星期%(day)s既有分批次安排又有不分批次安排，请统一") % {
                "day": rules.WEEKDAY_NAMES[weekday]
            }
    if group.retired_on is not None:
        errors["group"] = _("该人群已停用")
    if errors:
        raise ValidationError(errors)
    change = ScheduleChange()
    current = list(ScheduleSlot.objects.select_for_update().filter(group=group, valid_to__isnull=True))
    keep: set[tuple[int, int | None, str]] = set()
    for slot in current:
        key = (slot.weekday, slot.batch, slot.site)
        if key in wanted and key not in keep:
            keep.add(key)
            change.kept += 1
            continue
        if slot.valid_from >= valid_from:
            raise ValidationError(
                {
                    "valid_from": _("现行安排自%(date)s起执行，新安排的起始日期应晚于该日期")
                    % {"date": slot.valid_from.isoformat()}
                }
            )
        slot.valid_to = valid_from - rules.DAY
        stamp(slot, by=by, reason=_("检测安排调整"))
        slot.save(update_fields=["valid_to"])
        change.closed += 1
    opening = [(s.weekday, s.batch, (s.site or "").strip()) for s in slots]  # in the order given (sites' order)
    for weekday, batch, site in dict.fromkeys(k for k in opening if k not in keep):
        slot = ScheduleSlot(group=group, weekday=weekday, batch=batch, site=site, valid_from=valid_from)
        stamp(slot, by=by, reason=_("检测安排调整"))
        slot.save()
        change.opened += 1
    return change


# ---- test records -------------------------------------------------------------------------------------------------


def _check_test_day(member: KeyGroupMember, tested_on: dt.date) -> None:
    if tested_on > _today():
        raise ValidationError({"tested_on": _("检测日期不能晚于今天")})
    if not rules.is_member_on(rules.Membership(member.joined_on, member.left_on), tested_on):
        raise ValidationError(
            {
                "tested_on": _("%(name)s在%(date)s不是本人群的应检人员（%(joined)s纳入%(left)s）")
                % {
                    "name": member.name,
                    "date": tested_on.isoformat(),
                    "joined": member.joined_on.isoformat(),
                    "left": _("，%(date)s移出") % {"date": member.left_on.isoformat()} if member.left_on else "",
                }
            }
        )


@transaction.atomic
def record_test(
    *,
    member: KeyGroupMember,
    tested_on: dt.date,
    by: User,
    site: str = "",
    source: str = TestSource.ROUTINE,
    sample: Sample | None = None,
) -> tuple[RoutineTest, bool]:
    """A member tested on a day; a second record of the same day returns the first (created False)."""
    _require_member(by, member)
    if source not in TestSource.values:
        raise ValidationError({"source": _("来源不正确")})
    _check_test_day(member, tested_on)
    existing = RoutineTest.objects.filter(member=member, tested_on=tested_on).first()
    if existing is not None:
        return existing, False
    test = RoutineTest(
        member=member, tested_on=tested_on, source=source, site=(site or "").strip(), sample=sample, recorded_by=by
    )
    try:
        with transaction.atomic():
            test.save()
    except IntegrityError:  # the same record arrived twice at once
        return RoutineTest.objects.get(member=member, tested_on=tested_on), False
    return test, True


TEST_COLUMNS: list[tuple[str, str, bool]] = [
    ("证件号码", "id_number", True),
    ("检测日期", "tested_on", True),
    ("采样点", "site", False),
    ("姓名", "name", False),
]


def _members_by_number(numbers: set[str], by: User, group: KeyGroup | None) -> dict[str, list[KeyGroupMember]]:
    from core.scoping import scoped

    qs = scoped(KeyGroupMember.objects.all(), by)
    if group is not None:
        qs = qs.filter(group=group)
    out: dict[str, list[KeyGroupMember]] = defaultdict(list)
    numbers_list = sorted(numbers)
    for i in range(0, len(numbers_list), 500):
        for m in qs.filter(id_number__in=numbers_list[i : i + 500]).select_related("group"):
            out[m.id_number].append(m)
    return out


@transaction.atomic
def import_tests(*, content: bytes, filename: str, by: User, group: KeyGroup | None = None) -> ImportResult:
    """Test records from a file: 证件号码, 检测日期[, 采样点]. Each row counts for every group the person
    is a member of on that day (within ``group`` when given). A person who is not a member (in the
    user's subtree) is a row error; the same person and day twice is counted once and reported;
    a record already stored is left as it is (``unchanged``). All rows or none."""
    require(by, "can_import")
    require(by, "can_write")
    result = ImportResult()
    try:
        rows = list(read_table(content, filename, TEST_COLUMNS))
    except TableFileError as exc:
        result.error(0, "", str(exc))
        return result
    today = _today()
    parsed: list[tuple[int, str, dt.date, str]] = []
    for number, cells in rows:
        result.rows += 1
        try:
            id_number = clean_id_number(text(cells.get("id_number")))
        except ValidationError as exc:
            result.error(number, "证件号码", exc.messages[0])
            continue
        try:
            day = parse_date(cells.get("tested_on"))
        except CellError as exc:
            result.error(number, "检测日期", str(exc))
            continue
        if day is None:
            result.error(number, "检测日期", _("检测日期为空"))
            continue
        if day > today:
            result.error(number, "检测日期", _("检测日期不能晚于今天"))
            continue
        parsed.append((number, id_number, day, text(cells.get("site"))))
    members = _members_by_number({p[1] for p in parsed}, by, group)
    first_row: dict[tuple[int, dt.date], int] = {}
    new: list[RoutineTest] = []
    wanted: list[tuple[int, KeyGroupMember, dt.date, str]] = []
    for number, id_number, day, site in parsed:
        rows_of = members.get(id_number, [])
        if not rows_of:
            result.error(number, "证件号码", _("%(id)s不是应检人员（或不在您的管辖范围内）") % {"id": id_number})
            continue
        on_day = [m for m in rows_of if rules.is_member_on(rules.Membership(m.joined_on, m.left_on), day)]
        if not on_day:
            result.error(
                number,
                "检测日期",
                _("%(name)s在%(date)s不在应检人员名单中") % {"name": rows_of[0].name, "date": day.isoformat()},
            )
            continue
        for m in on_day:
            wanted.append((number, m, day, site))
    if result.errors:
        return result
    stored = set(
        RoutineTest.objects.filter(
            member_id__in={m.pk for _n, m, _d, _s in wanted}, tested_on__in={d for _n, _m, d, _s in wanted}
        ).values_list("member_id", "tested_on")
    )
    for number, m, day, site in wanted:
        key = (m.pk, day)
        if key in first_row:
            if first_row[key] != number:
                result.duplicates.append(
                    {
                        "row": number,
                        "message": _("%(name)s %(date)s 与第%(row)s行重复，只计一次")
                        % {"name": m.name, "date": day.isoformat(), "row": first_row[key]},
                    }
                )
            continue
        first_row[key] = number
        if key in stored:
            result.unchanged += 1
            continue
        new.append(RoutineTest(member=m, tested_on=day, source=TestSource.IMPORT, site=site, recorded_by=by))
    RoutineTest.objects.bulk_create(new, batch_size=1000)
    result.created = len(new)
    return result


def records_template_bytes() -> bytes:
    from core.excel import workbook_bytes

    example = ["150599198001010015", "2022-06-20", "风情街", "张三"]
    return workbook_bytes([h for h, _k, _r in TEST_COLUMNS], [example], sheet_title=_("检测记录"))


@dataclass
class FromRounds:
    samples: int = 0  # samples of members found in the rounds of the period
    created: int = 0
    existing: int = 0


def record_from_rounds(*, period: Period, by: User | None = None, unit: OrgUnit | None = None) -> FromRounds:
    """Members sampled in a mass-testing round of the period get a test of that day (source 全员核酸).

    Idempotent: a member who already has a record of that day keeps it. A repeat sample (the same
    person twice in a round) adds nothing. ``by`` limits the members to the user's subtree (a page's
    button); without it (the demo, a nightly job) every member of ``unit`` (or all) is considered.
    """
    if by is not None:
        require(by, "can_write")
        if unit is not None:
            require_unit(by, unit)
    qs = KeyGroupMember.objects.filter(joined_on__lte=period.end).filter(
        Q(left_on__isnull=True) | Q(left_on__gt=period.start)
    )
    if by is not None:
        from core.scoping import scoped

        qs = scoped(qs, by)
    if unit is not None:
        qs = qs.filter(_in(unit))
    members: dict[str, list[tuple[int, dt.date, dt.date | None]]] = defaultdict(list)
    for pk, number, joined, left in qs.values_list("pk", "id_number", "joined_on", "left_on"):
        members[number].append((pk, joined, left))
    result = FromRounds()
    if not members:
        return result
    rounds = list(
        Round.objects.filter(starts_on__lte=period.end, ends_on__gte=period.start - rules.DAY).values_list(
            "pk", flat=True
        )
    )
    if not rounds:
        return result
    low, high = start_of_day(period.start), end_of_day(period.end)
    numbers = sorted(members)
    found: dict[tuple[int, dt.date], tuple[int, str]] = {}
    for i in range(0, len(numbers), 500):
        samples = (
            Sample.objects.filter(round_id__in=rounds, id_number__in=numbers[i : i + 500], repeat_of__isnull=True)
            .filter(taken_at__gte=low, taken_at__lt=high)
            .order_by("taken_at", "pk")
            .values_list("pk", "id_number", "taken_at", "table__site__name")
        )
        for sample_id, number, taken_at, site in samples:
            day = timezone.localdate(taken_at)
            for pk, joined, left in members[number]:
                if joined <= day and (left is None or day < left):
                    result.samples += 1
                    found.setdefault((pk, day), (sample_id, site or ""))
    with transaction.atomic():
        stored: set[tuple[int, dt.date]] = set()
        member_ids = sorted({k[0] for k in found})
        for i in range(0, len(member_ids), 500):
            stored |= set(
                RoutineTest.objects.filter(
                    member_id__in=member_ids[i : i + 500], tested_on__gte=period.start, tested_on__lte=period.end
                ).values_list("member_id", "tested_on")
            )
        fresh = [k for k in found if k not in stored]
        result.existing = len(found) - len(fresh)
        # ignore_conflicts: a record of the same day written meanwhile (another import) wins, quietly.
        RoutineTest.objects.bulk_create(
            [
                RoutineTest(
                    member_id=pk,
                    tested_on=day,
                    source=TestSource.ROUND,
                    sample_id=found[(pk, day)][0],
                    site=found[(pk, day)][1][:100],
                    recorded_by=by,
                )
                for pk, day in fresh
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )
        result.created = len(fresh)
    return result
