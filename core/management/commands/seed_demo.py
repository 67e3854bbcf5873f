import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.bulk import analyze
from core.demo import MAX_SIZE, MIN_SIZE, SEED_000, SEED_000_DATE, load_steps, run_demo
from orgunits.demo import DISTRICT_CODE
from orgunits.models import OrgUnit
from registry.models import Household, Resident


class Command(BaseCommand):
    help = "载入演示数据：以种子文档000的新城街道为原型的虚构街道（默认实际规模）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--size", type=int, default=SEED_000["residents"], help="居民人数（2000–1000000）")
        parser.add_argument("--seed", type=int, default=2022, help="随机种子：相同种子和日期生成相同数据")
        parser.add_argument(
            "--on",
            type=dt.date.fromisoformat,
            default=None,
            help="统计基准日 YYYY-MM-DD（默认2022-12-31，即种子文档000的统计截止日）",
        )
        parser.add_argument("--if-empty", action="store_true", help="已有居民数据时什么也不做")

    def handle(self, *args: Any, size: int, seed: int, on: dt.date | None, if_empty: bool, **options: Any) -> None:
        if if_empty and Resident.objects.exists():
            self.stdout.write(_("已有居民数据，跳过演示数据。"))
            return
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise CommandError(_("--size 应在 %(min)s 到 %(max)s 之间") % {"min": MIN_SIZE, "max": MAX_SIZE})
        today = timezone.localdate()
        on = on or min(SEED_000_DATE, today)
        if on > today:
            raise CommandError(_("统计基准日不能晚于今天"))
        if OrgUnit.objects.filter(code=DISTRICT_CODE).exists():
            raise CommandError(
                _("演示区划 %(code)s 已存在：数据库中已有演示数据（可用 --if-empty 跳过）") % {"code": DISTRICT_CODE}
            )
        steps = load_steps()
        self.stdout.write(
            _("演示数据：%(size)s 人，种子 %(seed)s，基准日 %(on)s；步骤：%(steps)s")
            % {"size": size, "seed": seed, "on": on.isoformat(), "steps": "、".join(s.name for s in steps)}
        )
        started = time.monotonic()
        with transaction.atomic():
            run_demo(size=size, seed=seed, on=on, log=self.stdout.write)
        # Fresh planner statistics: PostgreSQL otherwise plans as if the tables were still empty.
        analyze(OrgUnit, Household, Resident, Resident.history.model, Household.history.model)
        self.stdout.write(
            self.style.SUCCESS(_("演示数据已载入，用时 %(s).1f 秒。") % {"s": time.monotonic() - started})
        )
