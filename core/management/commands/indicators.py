import argparse
import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from core.indicators import Period, indicators
from orgunits.models import OrgUnit


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(_("日期“%(value)s”格式不对，应为 YYYY-MM-DD") % {"value": value}) from None


def _year(value: str) -> int:
    if not (value.isdigit() and len(value) == 4):
        raise argparse.ArgumentTypeError(_("年度“%(value)s”格式不对，应为四位年份 YYYY") % {"value": value})
    return int(value)


class Command(BaseCommand):
    help = "打印某单位（含全部下级）的指标，JSON格式，键名见 docs/indicators.md。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--unit", required=True, help="区划代码")
        when = parser.add_mutually_exclusive_group()
        when.add_argument("--date", type=_date, default=None, help="统计日期 YYYY-MM-DD（默认今天）")
        when.add_argument("--period", type=_year, default=None, help="年度 YYYY：截至该年12月31日（当年截至今天）")
        parser.add_argument("--json", action="store_true", help="以JSON输出（目前唯一的格式）")

    def handle(self, *args: Any, unit: str, date: dt.date | None, period: int | None, **options: Any) -> None:
        today = timezone.localdate()
        org_unit = OrgUnit.objects.filter(code=unit.strip()).first()
        if org_unit is None:
            raise CommandError(_("区划代码“%(code)s”不存在") % {"code": unit})
        if period is not None:
            if period > today.year:
                raise CommandError(_("年度不能晚于今年"))
            span = Period.year(period, today=today)
        else:
            on = date or today
            if on > today:
                raise CommandError(_("统计日期不能晚于今天"))
            span = Period.year_to_date(on)
        self.stdout.write(json.dumps(indicators(org_unit, span), ensure_ascii=False, indent=2))
