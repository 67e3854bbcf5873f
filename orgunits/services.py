"""Writes to the org tree: create, rename, move, merge, retire (区划调整).

All functions are transactional and keyword-only; views, commands, the API
and tasks call these and nothing else.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import stamp
from core.history import start_of_day
from orgunits.models import LEVEL_ORDER, PATH_SEGMENT_WIDTH, Level, OrgUnit
from orgunits.rules import child_level_allowed, next_child_code, validate_code
from orgunits.selectors import subtree
from orgunits.signals import units_merged

if TYPE_CHECKING:
    from accounts.models import User


def _segment(pk: int) -> str:
    return f"{pk:0{PATH_SEGMENT_WIDTH}d}/"


@transaction.atomic
def create_unit(
    *,
    name: str,
    level: str,
    parent: OrgUnit | None,
    code: str = "",
    capacity_households: int = 0,
    established_on: dt.date | None = None,
    by: User | None = None,
) -> OrgUnit:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("名称不能为空")})
    if parent is None and level != Level.DISTRICT:
        raise ValidationError({"parent": _("只有区/县可以没有上级")})
    if parent is not None:
        if not parent.is_active:
            raise ValidationError({"parent": _("上级单位已撤销，不能再添加下级")})
        if not child_level_allowed(parent.level, level):
            raise ValidationError({"level": _("该层级不能设在所选上级之下")})
    if code:
        validate_code(code, level)
    else:
        if parent is None:
            raise ValidationError({"code": _("区/县必须填写区划代码")})
        siblings = list(OrgUnit.objects.filter(parent=parent).values_list("code", flat=True))
        code = next_child_code(parent.code, level, siblings)
    if OrgUnit.objects.filter(code=code).exists():
        raise ValidationError({"code": _("区划代码已存在")})
    unit = OrgUnit(
        name=name,
        level=level,
        parent=parent,
        code=code,
        capacity_households=capacity_households,
        established_on=established_on,
        path="",
        depth=(parent.depth + 1) if parent else 0,
    )
    # The id is part of the path, so the row is written first without history, then completed.
    unit.skip_history_when_saving = True  # type: ignore[attr-defined]
    unit.save()
    del unit.skip_history_when_saving  # type: ignore[attr-defined]
    unit.path = (parent.path if parent else "/") + _segment(unit.pk)
    when = start_of_day(established_on) if established_on and established_on <= timezone.localdate() else None
    stamp(unit, by=by, reason=_("新建"), when=when)
    unit.save(update_fields=["path"])
    return unit


@transaction.atomic
def rename_unit(*, unit: OrgUnit, name: str, by: User | None = None, reason: str = "") -> OrgUnit:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("名称不能为空")})
    unit.name = name
    stamp(unit, by=by, reason=reason or _("更名"))
    unit.save(update_fields=["name"])
    return unit


@transaction.atomic
def move_unit(*, unit: OrgUnit, new_parent: OrgUnit, by: User | None = None, reason: str = "") -> OrgUnit:
    """Move a unit with its whole subtree; records follow because they point at units, not paths."""
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    if new_parent.path.startswith(unit.path):
        raise ValidationError({"parent": _("不能移动到自身或其下级之下")})
    if not new_parent.is_active:
        raise ValidationError({"parent": _("目标上级已撤销")})
    if not child_level_allowed(new_parent.level, unit.level):
        raise ValidationError({"parent": _("该层级不能设在所选上级之下")})
    old_path = unit.path
    new_path = new_parent.path + _segment(unit.pk)
    depth_delta = new_parent.depth + 1 - unit.depth
    descendants = list(subtree(unit, include_retired=True).exclude(pk=unit.pk))
    subtree(unit, include_retired=True).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + depth_delta,
    )
    # Bulk updates skip simple-history, so write one version per moved unit by hand:
    # the tree as it was on a past date must stay answerable.
    unit.refresh_from_db()
    unit.parent = new_parent
    stamp(unit, by=by, reason=reason or _("调整上级"))
    unit.save(update_fields=["parent"])
    for child in descendants:
        child.refresh_from_db()
        stamp(child, by=by, reason=reason or _("随上级调整"))
        child.save(update_fields=["path"])
    return unit


@transaction.atomic
def retire_unit(*, unit: OrgUnit, on: dt.date, reason: str, by: User | None = None) -> OrgUnit:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("撤销必须填写原因")})
    if unit.retired_on:
        raise ValidationError({"unit": _("该单位已撤销")})
    if subtree(unit).exclude(pk=unit.pk).exists():
        raise ValidationError({"unit": _("该单位还有未撤销的下级，请先调整或撤销下级")})
    if (
        unit.households.filter(retired_on__isnull=True).exists()
        or unit.residents.filter(  # type: ignore[attr-defined]
            retired_at__isnull=True, left_on__isnull=True
        ).exists()
    ):
        raise ValidationError({"unit": _("该单位下还有在册的户或居民，请先合并到其他单位")})
    unit.retired_on = on
    unit.retired_reason = reason
    stamp(unit, by=by, reason=reason)
    unit.save(update_fields=["retired_on", "retired_reason"])
    return unit


@transaction.atomic
def merge_units(*, source: OrgUnit, target: OrgUnit, on: dt.date, reason: str, by: User | None = None) -> OrgUnit:
    """Merge ``source`` into ``target`` (same level): children, households and residents move, source is retired."""
    from registry.services import reassign_unit_records

    if source.pk == target.pk:
        raise ValidationError({"target": _("不能合并到自身")})
    if source.level != target.level:
        raise ValidationError({"target": _("只能合并同一层级的单位")})
    if target.path.startswith(source.path):
        raise ValidationError({"target": _("不能合并到自身的下级")})
    if not target.is_active or not source.is_active:
        raise ValidationError({"target": _("已撤销的单位不能参与合并")})
    reason = reason.strip() or _("区划调整合并")
    for child in list(OrgUnit.objects.filter(parent=source, retired_on__isnull=True)):
        move_unit(unit=child, new_parent=target, by=by, reason=reason)
    reassign_unit_records(source=source, target=target, by=by, reason=reason)
    units_merged.send(sender=OrgUnit, source=source, target=target, by=by, reason=reason)
    source.refresh_from_db()
    source.retired_on = on
    source.retired_reason = reason
    source.merged_into = target
    stamp(source, by=by, reason=reason)
    source.save(update_fields=["retired_on", "retired_reason", "merged_into"])
    return target


def level_below(level: str) -> str | None:
    idx = LEVEL_ORDER.index(Level(level))
    return LEVEL_ORDER[idx + 1] if idx + 1 < len(LEVEL_ORDER) else None
