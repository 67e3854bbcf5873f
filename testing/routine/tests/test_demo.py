"""The demo street's 应检尽检: seed 000's groups, schedule and figures (scaled), read back through the
indicators and the summary; members are residents aged 20–59 of their community."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from core.indicators import Period
from orgunits.models import OrgUnit
from registry.rules import age_on
from testing.models import KeyGroupMember, RoutineTest
from testing.routine.demo import SEED_ROUTINE, START
from testing.routine.indicators import routine_figures
from testing.routine.tests.factories import section_text

YEAR = Period(dt.date(2022, 1, 1), dt.date(2022, 12, 31))
STREET = "150599001000"


def seed(size):
    out = io.StringIO()
    call_command("seed_demo", size=size, seed=3, on=dt.date(2022, 12, 31), stdout=out)
    return out.getvalue()


@pytest.fixture
def street(db):
    seed(2_000)
    return OrgUnit.objects.get(code=STREET)


def test_the_seeds_figures_scale_like_the_other_demo_steps():
    assert SEED_ROUTINE["cadres"] + SEED_ROUTINE["property"] == SEED_ROUTINE["members"]
    assert round(128 * 2_000 / 87_213) == 3 and round(1_423 * 2_000 / 87_213) == 33


def test_the_small_demo_street(street):
    f = routine_figures(street, YEAR)
    assert (f["members"], f["members_by_group"]) == (36, {"物业人员": 33, "社区干部": 3})
    assert f["cycles"] == 84  # Mondays, Tuesdays and Thursdays from 20 June to 29 December
    assert f["due"] == f["tested"] + f["missed"] and 0 < f["missed"] < 0.1 * f["due"]
    assert f["made_up"] > 0.5 * f["missed"] and f["made_up"] + f["outstanding"] == f["missed"]
    members = KeyGroupMember.objects.select_related("resident__unit", "unit")
    linked = [m for m in members if m.resident is not None]
    assert len(linked) > 0.9 * members.count()
    for m in linked:
        assert m.resident.unit.path.startswith(m.unit.path)
        assert 20 <= age_on(m.resident.birth_date, START) <= 59
        assert (m.name, m.id_number) == (m.resident.name, m.resident.id_number)
    assert RoutineTest.objects.filter(tested_on__gt=dt.date(2022, 12, 31)).count() == 0
    text = section_text(street, 2022)
    assert "自6月20日起" in text
    assert "应检人员共36人，其中社区干部3人，物业人员33人" in text
    assert "共设有风情街和市政府广场两个应检尽检核酸采样点，分别于每周一、二、四分为三个批次" in text
    assert "2022年共组织应检尽检检测84批次" in text and "已补检" in text


@pytest.mark.slow
def test_full_size_is_seed_000_exactly(db, capsys):
    log = seed(87_213)
    line = next(x for x in log.splitlines() if x.startswith("应检尽检"))
    assert line.startswith("应检尽检：社区干部 128 人、物业人员 1423 人（共 1551 人），每周一、二、四分三批")
    call_command("indicators", "--unit", STREET, "--period", "2022", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["testing.routine.members"] == 1_551
    assert out["testing.routine.members_by_group"] == {"物业人员": 1_423, "社区干部": 128}
    text = section_text(OrgUnit.objects.get(code=STREET), 2022)
    assert "辖区内11个社区应检人员共1551人，其中社区干部128人，物业人员1423人" in text
