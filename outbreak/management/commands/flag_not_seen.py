"""The daily job: one 多日未随访 alert per person not checked for the event's N days (run by cron or the worker)."""

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from outbreak.tasks import flag_all, flag_not_seen_daily


class Command(BaseCommand):
    help = "为所有进行中的疫情事件标记连续多日未随访的人员（每日运行一次）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="按该日期判断（默认今天）")
        parser.add_argument("--enqueue", action="store_true", help="交给后台任务执行，不在本进程运行")

    def handle(self, *args: Any, date: dt.date | None, enqueue: bool, **options: Any) -> None:
        if date is not None and date > timezone.localdate():
            raise CommandError(_("日期不能晚于今天"))
        if enqueue:
            result = flag_not_seen_daily.enqueue(date.isoformat() if date else None)
            self.stdout.write(_("已加入后台任务：%(id)s") % {"id": result.id})
            return
        for name, raised in flag_all(date).items():
            self.stdout.write(_("%(event)s：新增多日未随访预警 %(n)s 条") % {"event": name, "n": raised})
