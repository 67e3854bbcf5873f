"""The 疫情防控 section of the work summary: sentences with the figures of the records, zero clauses dropped."""

import datetime as dt

from outbreak import services
from outbreak.tests.test_indicators import ON, ev, seed_004  # noqa: F401 - the fixtures
from reports.sections import build_summary


def test_the_section_reads_the_records(world, seed_004):  # noqa: F811
    services.release_due(event=seed_004, unit=world.east, on=ON + dt.timedelta(days=14), by=world.user("bob"))
    summary = build_summary(world.east, 2022)
    sections = dict(summary.sections)
    text = sections["疫情防控方面"]
    assert "2022年，辖区开展“新冠肺炎疫情防控”（新型冠状病毒肺炎，2022年11月1日起）工作" in text
    assert "全年累计摸排65人（同一人多渠道重复发现1人次，已合并，不重复计数），其中密切接触者17人。" in text
    assert "集中隔离17人、居家隔离15户47人、居家健康监测1人，期满解除65人并发放解除告知书65份。" in text
    assert "设置卡口" not in text and "预警" not in text  # no checkpoint, no alert: no sentence about them
    assert "（一）重点人员摸排和管控" in text and "（二）日报告和零报告" in text
    assert "应报日报告" in text and "实报0份" in text and "按时报送" not in text
    assert [title for title, _text in summary.sections][-1] == "疫情防控方面"


def test_no_event_no_section(world):
    assert "疫情防控方面" not in dict(build_summary(world.east, 2022).sections)
