"""Import a resident roster from the command line: the same checks and writes as the import page."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from core.scoping import unit_in_scope
from orgunits.models import OrgUnit
from registry.importing import RosterFileError, run_import


class Command(BaseCommand):
    help = "导入居民花名册（xlsx/csv），输出JSON汇总：{rows, created, updated, unchanged, rejected, errors}"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--unit", required=True, help="导入到的单位区划代码")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")
        parser.add_argument("--user", default=None, help="以该用户身份导入（记录在变更历史中）；不填为系统导入")
        parser.add_argument("--json", action="store_true", help="JSON输出（默认即为JSON）")

    def fail(self, message: str) -> NoReturn:
        self.stdout.write(json.dumps({"error": message}, ensure_ascii=False))
        sys.exit(1)

    def handle(self, *args: Any, file: str, unit: str, dry_run: bool, user: str | None, **options: Any) -> None:
        org_unit = OrgUnit.objects.filter(code=unit).first()
        if org_unit is None:
            self.fail(_("区划代码“%(code)s”不存在") % {"code": unit})
        by = None
        if user:
            by = get_user_model().objects.filter(username=user, is_active=True).select_related("org_unit").first()
            if by is None:
                self.fail(_("用户“%(name)s”不存在或已停用") % {"name": user})
            if not unit_in_scope(by, org_unit):  # type: ignore[arg-type]
                self.fail(_("该单位不在此用户的管辖范围内"))
        try:
            summary = run_import(
                path=file,
                original_name=file,
                unit=org_unit,
                by=by,  # type: ignore[arg-type]
                dry_run=dry_run,
                reason=_("命令行导入"),
            )
        except RosterFileError as exc:
            self.fail(str(exc))
        except FileNotFoundError:
            self.fail(_("文件不存在：%(path)s") % {"path": file})
        self.stdout.write(json.dumps(summary.as_dict(), ensure_ascii=False))
