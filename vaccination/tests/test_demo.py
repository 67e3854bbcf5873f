"""The demo street's vaccination: seed 000's figures exactly at the default size on 2022-12-31 (slow),
the same quotas scaled at 2,000 people, and every demo dose a dose the services would accept."""

import datetime as dt
import io
import itertools
from collections import defaultdict

import pytest
from django.core.management import call_command

from core.demo import split_quota
from core.indicators import Period, indicators
from orgunits.models import OrgUnit
from registry.rules import age_on
from reports.sections import build_summary
from vaccination import rules, selectors
from vaccination.demo import SEED_60_BOOSTER, SEED_60_FULL
from vaccination.models import Dose, DoseSummary

ON = dt.date(2022, 12, 31)
YEAR = Period(dt.date(2022, 1, 1), ON)


def seed(size):
    out = io.StringIO()
    call_command("seed_demo", size=size, seed=5, on=ON, stdout=out)
    return out.getvalue()


def figures(street):
    out = indicators(street, YEAR)
    return {k.removeprefix("vaccination."): v for k, v in out.items() if k.startswith("vaccination.")}


def test_scaled_quotas_at_2000_and_valid_doses(db):
    log = seed(2_000)
    assert "疫苗接种" in log
    street = OrgUnit.objects.get(code="150599001000")
    f = figures(street)
    n60 = f["age_60_plus_people"]
    full, contra, interval, unexplained = split_quota(n60, SEED_60_FULL)
    assert f["age_60_plus_first_dose"] == n60  # everyone 60+ has a first dose
    assert (
        f["age_60_plus_full_course"],
        f["age_60_plus_full_course_contraindicated"],
        f["age_60_plus_full_course_interval_not_met"],
        f["age_60_plus_full_course_unexplained"],
    ) == (full, contra, interval, unexplained)
    boosted, b_contra, b_interval, recombinant, b_unexplained = split_quota(full, SEED_60_BOOSTER)
    assert (
        f["age_60_plus_booster"],
        f["age_60_plus_booster_contraindicated"],
        f["age_60_plus_booster_interval_not_met"],
        f["age_60_plus_booster_no_booster_needed"],
        f["age_60_plus_booster_unexplained"],
    ) == (boosted, b_contra, b_interval, recombinant, b_unexplained)
    present = split_quota(f["age_18_59_people"], [65_653 - 61_346, 61_346])[1]
    assert f["age_18_59_present"] == present
    assert f["age_18_59_present_booster"] == split_quota(present, [58_444, 61_346 - 58_444])[0]
    # Every dose is one the services would accept: consecutive, in order, after the third birthday.
    by_person = defaultdict(list)
    for rid, n, date, birth in Dose.objects.values_list("resident_id", "dose_number", "date", "resident__birth_date"):
        by_person[rid].append((n, date, birth))
    for rows in by_person.values():
        rows.sort()
        assert [n for n, _d, _b in rows] == list(range(1, len(rows) + 1))
        assert all(a[1] <= b[1] for a, b in itertools.pairwise(rows))
        assert all(d <= ON and age_on(b, d) >= rules.MIN_AGE for _n, d, b in rows)
    assert DoseSummary.objects.count() == len(by_person)


@pytest.mark.slow
def test_full_size_is_seed_000_exactly(db):
    seed(87_213)
    street = OrgUnit.objects.get(code="150599001000")
    f = figures(street)
    assert (f["age_18_59_people"], f["age_18_59_present"], f["age_18_59_present_booster"]) == (65_653, 61_346, 58_444)
    assert (f["age_60_plus_people"], f["age_60_plus_first_dose"], f["age_60_plus_first_dose_percent"]) == (
        9_537,
        9_537,
        100.0,
    )
    assert (
        f["age_60_plus_full_course"],
        f["age_60_plus_full_course_contraindicated"],
        f["age_60_plus_full_course_interval_not_met"],
        f["age_60_plus_full_course_unexplained"],
    ) == (9_010, 156, 137, 234)
    assert (
        f["age_60_plus_booster"],
        f["age_60_plus_booster_contraindicated"],
        f["age_60_plus_booster_interval_not_met"],
        f["age_60_plus_booster_no_booster_needed"],
        f["age_60_plus_booster_unexplained"],
    ) == (8_482, 48, 286, 114, 80)
    assert f["age_80_plus_people"] == round(9_537 * 0.15)
    full = selectors.reconcile(street, "age_60_plus", rules.FULL_COURSE, ON)
    assert len(full.unexplained_ids) == 234
    text = dict(build_summary(street, 2022).sections)["疫苗接种方面"]
    assert (
        "该年龄段辖区内总人口65653人，现有人口61346人，其中已接第三针58444人，60周岁以上摸底人口数9537人，"
        "其中完成全程接种的共9010人，有156人由于禁忌症无法全程接种，137人由于不满足接种间隔时间暂未接种，"
        "另有234人未说明原因；完成加强针免疫接种的共8482人，有48人由于禁忌症无法接种加强针，"
        "286人由于不满足接种间隔时间暂未接种，114人由于接种重组蛋白疫苗无需接种加强针，另有80人未说明原因。"
    ) in text
    assert "完成了60周岁以上群体的首针全部接种工作，疫苗首针接种覆盖率达到了100%。" in text
