"""One demo login per role on the demo street (see docs/demo.md); running it again resets them."""

import unicodedata
from typing import Any

from axes.utils import reset as reset_lockout
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.services import create_user
from orgunits.demo import DISTRICT_CODE
from orgunits.models import Level, OrgUnit

DEMO_PASSWORD = "yibenzhang-demo"  # noqa: S105 - documented demo login, never used in production
# username, role, where the user sits, full name
DEMO_USERS = [
    ("demo_district", Role.DISTRICT_ADMIN, "district", "区级管理员（演示）"),
    ("demo_street", Role.STREET_STAFF, "street", "街道工作人员（演示）"),
    ("demo_community", Role.COMMUNITY_STAFF, "community", "社区工作人员（演示）"),
    ("demo_grid", Role.GRID_WORKER, "grid", "网格员（演示）"),
    ("demo_doctor", Role.VILLAGE_DOCTOR, "community", "村医（演示）"),
    ("demo_leader", Role.LEADER_READONLY, "street", "只读领导（演示）"),
]


def _first_child(unit: OrgUnit, level: str) -> OrgUnit | None:
    return OrgUnit.objects.filter(parent=unit, level=level, retired_on__isnull=True).order_by("code").first()


def demo_units() -> dict[str, OrgUnit]:
    """The demo district and, under it, its first street, that street's first community and grid."""
    district = OrgUnit.objects.filter(code=DISTRICT_CODE, retired_on__isnull=True).first()
    if district is None:  # no demo loaded: the first district of the tree will do
        district = OrgUnit.objects.filter(level=Level.DISTRICT, retired_on__isnull=True).order_by("code").first()
    street = _first_child(district, Level.STREET) if district else None
    community = _first_child(street, Level.COMMUNITY) if street else None
    grid = _first_child(community, Level.GRID) if community else None
    units = {"district": district, "street": street, "community": community, "grid": grid}
    missing = [k for k, v in units.items() if v is None]
    if missing:
        raise CommandError(_("找不到演示街道的各级单位，请先运行 seed_demo"))
    return {k: v for k, v in units.items() if v is not None}


def _pad(text: str, width: int) -> str:
    """Pad to a display width (Chinese characters take two columns in a terminal)."""
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - shown)


class Command(BaseCommand):
    help = "创建（或重置）每个角色一个演示用户（密码见 docs/demo.md），并打印登录信息。"

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        units = demo_units()
        rows = []
        for username, role, where, full_name in DEMO_USERS:
            unit = units[where]
            user = User.objects.filter(username=username).first()
            if user is None:
                user = create_user(
                    username=username, password=DEMO_PASSWORD, role=role, org_unit=unit, full_name=full_name
                )
            else:  # reset: the documented role, unit and password, active again
                user.role, user.org_unit, user.full_name, user.is_active = role, unit, full_name, True
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["role", "org_unit", "full_name", "is_active", "password"])
            reset_lockout(username=username)  # a demo login locked by wrong passwords works again
            rows.append((str(role.label), username, DEMO_PASSWORD, f"{unit.name}（{unit.code}）"))
        header = (_("角色"), _("用户名"), _("密码"), _("单位"))
        widths = [20, 16, 17]
        self.stdout.write(_("演示用户（登录 http://127.0.0.1:8000/）："))
        for row in [header, *rows]:
            self.stdout.write("  " + "".join(_pad(c, w) for c, w in zip(row, widths, strict=False)) + row[-1])
