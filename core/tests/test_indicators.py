"""The indicators command and the provider registry, on the world fixture."""

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from core import indicators as registry
from core.indicators import Period, indicator_provider, indicators

DOC = Path(__file__).resolve().parents[2] / "docs" / "indicators.md"


def run(capsys, *args):
    call_command("indicators", *args)
    return json.loads(capsys.readouterr().out)


def test_carols_community(world, capsys):
    out = run(capsys, "--unit", world.east_c1.code, "--json")
    today = timezone.localdate()
    assert (out["familyplanning.births"], out["familyplanning.birth_rate_permille"]) == (0, 0.0)
    modules = ("familyplanning.", "outbreak.", "testing.", "vaccination.")
    assert {k: v for k, v in out.items() if not k.startswith(modules)} == {
        "unit.code": world.east_c1.code,
        "unit.name": "龙兴社区",
        "unit.level": "community",
        "date": today.isoformat(),
        "period.start": today.replace(month=1, day=1).isoformat(),
        "period.end": today.isoformat(),
        "population.households_capacity": 24,
        "population.households_occupied": 1,
        "population.residents": 1,
        "population.registered": 1,
        "population.floating": 0,
        "population.away": 0,
        "population.women_15_49": 0,
        "population.married_women_15_49": 0,
        "population.age_60_plus": 0,
        "population.age_80_plus": 0,
        "population.male": 1,
        "population.female": 0,
    }


def test_subtrees_add_up(world, capsys):
    east = run(capsys, "--unit", world.east.code)
    district = run(capsys, "--unit", world.district.code)
    assert (east["population.residents"], district["population.residents"]) == (2, 3)
    assert east["population.married_women_15_49"] == 1  # 李娜, born 1990, married
    assert district["population.age_60_plus"] == 1  # 王芳, born 1955
    assert district["population.households_capacity"] == 72


def test_period_is_the_end_of_that_year_or_today(world, capsys):
    out = run(capsys, "--unit", world.district.code, "--period", "2015")
    assert (out["date"], out["period.start"]) == ("2015-12-31", "2015-01-01")
    assert out["population.residents"] == 0  # everyone arrived in 2016
    assert run(capsys, "--unit", world.district.code, "--period", "2016")["population.residents"] == 3
    this_year = timezone.localdate().year
    assert run(capsys, "--unit", world.district.code, "--period", str(this_year))["date"] == (
        timezone.localdate().isoformat()
    )


def test_errors_are_in_chinese_and_exit_with_1(world):
    with pytest.raises(CommandError, match="区划代码“999999”不存在") as exc:
        call_command("indicators", "--unit", "999999", "--json")
    assert exc.value.returncode == 1
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(CommandError, match="不能晚于今天"):
        call_command("indicators", "--unit", world.district.code, "--date", tomorrow.isoformat())
    with pytest.raises(CommandError, match="不能晚于今年"):
        call_command("indicators", "--unit", world.district.code, "--period", str(tomorrow.year + 1))
    with pytest.raises(CommandError, match="格式不对"):
        call_command("indicators", "--unit", world.district.code, "--date", "2022-13-01")


def test_a_later_module_adds_its_period_indicators(world, monkeypatch):
    monkeypatch.setattr(registry, "_PROVIDERS", dict(registry._PROVIDERS))

    @indicator_provider("familyplanning", period=True)
    def births(unit, period):
        return {"births": 0, "days": (period.end - period.start).days + 1}

    out = indicators(world.district, Period.year(2022, today=dt.date(2024, 1, 1)))
    assert out["familyplanning.births"] == 0 and out["familyplanning.days"] == 365
    assert out["population.residents"] == 3


def test_every_key_is_documented(world):
    documented = set(re.findall(r"`([a-z_0-9]+(?:\.[a-z_0-9]+)+|date)`", DOC.read_text()))  # testing.routine.x too
    keys = set(indicators(world.district, timezone.localdate()))
    assert keys <= documented, keys - documented
