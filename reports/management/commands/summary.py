"""`manage.py summary --unit CODE --year YYYY [--format md|docx] [--output FILE]`: the annual work summary."""

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from orgunits.models import OrgUnit
from reports.docx import markdown_docx
from reports.sections import build_summary


def _year(value: str) -> int:
    if not (value.isdigit() and len(value) == 4):
        raise argparse.ArgumentTypeError(_("年度“%(value)s”格式不对，应为四位年份 YYYY") % {"value": value})
    return int(value)


class Command(BaseCommand):
    help = "生成某单位（含全部下级）某年度的工作总结，Markdown 或 Word（.docx）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--unit", required=True, help="区划代码")
        parser.add_argument("--year", required=True, type=_year, help="年度 YYYY")
        parser.add_argument("--format", choices=["md", "docx"], default="md", help="md（默认）或 docx")
        parser.add_argument("--output", type=Path, default=None, help="输出文件（默认：md 打印到屏幕；docx 必须指定）")

    def handle(self, *args: Any, unit: str, year: int, format: str, output: Path | None, **options: Any) -> None:
        org_unit = OrgUnit.objects.filter(code=unit.strip()).first()
        if org_unit is None:
            raise CommandError(_("区划代码“%(code)s”不存在") % {"code": unit})
        if year > timezone.localdate().year:
            raise CommandError(_("年度不能晚于今年"))
        if format == "docx" and output is None:
            raise CommandError(_("Word 格式须用 --output 指定输出文件"))
        markdown = build_summary(org_unit, year).markdown()
        content = markdown_docx(markdown) if format == "docx" else markdown.encode()
        if output is None:
            self.stdout.write(markdown, ending="")
            return
        output.write_bytes(content)
        self.stderr.write(_("已写入 %(path)s") % {"path": output})
