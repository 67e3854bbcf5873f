"""Pure rules of the org tree: which level goes under which, and how codes look."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from orgunits.models import LEVEL_ORDER, Level

# GB/T 2260 county codes have 6 digits, statistical division codes 9 (street) and 12 (community);
# below a community we generate 2 more digits for a grid and 3 for a building.
CODE_LENGTHS = {
    Level.DISTRICT: (6,),
    Level.STREET: (9, 12),
    Level.COMMUNITY: (12,),
    Level.GRID: (14,),
    Level.BUILDING: (17,),
}
CHILD_SUFFIX_WIDTH = {Level.STREET: 3, Level.COMMUNITY: 3, Level.GRID: 2, Level.BUILDING: 3}


def child_level_allowed(parent_level: str, child_level: str) -> bool:
    """A child sits exactly one level below its parent, except that a grid may hold buildings only."""
    p = LEVEL_ORDER.index(Level(parent_level))
    c = LEVEL_ORDER.index(Level(child_level))
    return c == p + 1


def validate_code(code: str, level: str) -> None:
    if not code.isdigit():
        raise ValidationError({"code": _("区划代码只能由数字组成")})
    if len(code) not in CODE_LENGTHS[Level(level)]:
        raise ValidationError({"code": _("区划代码位数与层级不符")})


def street_code_base(code: str) -> str:
    """Streets may carry the 12-digit statistical code (…000); children are numbered on its 9-digit stem."""
    return code[:9] if len(code) == 12 else code


def next_child_code(parent_code: str, child_level: str, sibling_codes: list[str]) -> str:
    level = Level(child_level)
    width = CHILD_SUFFIX_WIDTH[level]
    base = street_code_base(parent_code) if level == Level.COMMUNITY else parent_code
    used = {int(c[len(base) :]) for c in sibling_codes if c.startswith(base) and c[len(base) :].isdigit()}
    n = max(used, default=0) + 1
    if n >= 10**width:
        raise ValidationError({"code": _("下级编号已用完")})
    return base + f"{n:0{width}d}"
