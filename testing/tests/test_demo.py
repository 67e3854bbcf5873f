"""The demo street's rounds: seed 000's figures at the default size, consistent figures at any size."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from core.indicators import Period
from orgunits.models import OrgUnit
from outbreak.models import Event, Screening
from reports.sections import build_summary
from testing import selectors
from testing.demo import MARCH, OCTOBER
from testing.indicators import round_indicators
from testing.models import Round, RoundStaff, Sample, SamplingSite, SamplingTable
from testing.summary import is_full

YEAR = Period(dt.date(2022, 1, 1), dt.date(2022, 12, 31))


def seed(size):
    out = io.StringIO()
    call_command("seed_demo", size=size, seed=3, on=dt.date(2022, 12, 31), stdout=out)
    return out.getvalue()


def test_the_demo_rounds_are_consistent_at_a_small_size(db):
    log = seed(2_000)
    assert "全员核酸：12 轮（2022年）" in log
    street = OrgUnit.objects.get(code="150599001000")
    rounds = list(Round.objects.filter(starts_on__year=2022).order_by("starts_on"))
    assert len(rounds) == 12 and [r.starts_on for r in rounds if is_full(r)] == [MARCH, *OCTOBER]
    march = Round.objects.get(starts_on=MARCH)
    t = selectors.total(selectors.round_counts(march))
    assert set(t.exempt) == {"home", "central", "monitoring", "recent_test", "previous_round"}
    assert all(n > 0 for n in t.exempt.values())
    assert t.sampled == t.sampled_should and 0 < t.missed < t.should and t.door_to_door > 0
    assert march.previous_round.starts_on == dt.date(2021, 12, 18)
    # The positive pool: handed over to the autumn event, all but one re-sampled alone, released.
    positive = selectors.positive_tubes(Round.objects.get(starts_on=dt.date(2022, 12, 9)), _superuser())
    assert len(positive) == 1 and positive[0].handed_over == 10
    members = positive[0].members
    assert all(s.screening.event.name == "新冠肺炎疫情防控（2022年秋冬）" for s in members)
    assert len(selectors.resample_list(positive[0].tube.round, _superuser())) == 1
    figures = round_indicators(street, YEAR)
    assert figures["rounds"] == 12 and figures["sampled"] > figures["missed"] > 0
    text = dict(build_summary(street, 2022).sections)["完成多轮全员核酸检测"]
    assert text.startswith("2022年3月22日新城街道开展第一轮全员核酸检测") and "三天两检" in text
    assert "全年完成共十二轮全员核酸检测工作" in text
    assert Event.objects.filter(name="新冠肺炎疫情防控（2022年春）", status="closed").exists()
    assert Screening.objects.filter(event__name="新冠肺炎疫情防控（2022年春）").count() > 0


def _superuser():
    from accounts.models import User

    return User(is_superuser=True, is_active=True)


@pytest.mark.slow
def test_full_size_is_seed_000_exactly(db):
    seed(87_213)
    street = OrgUnit.objects.get(code="150599001000")
    march = Round.objects.get(starts_on=MARCH)
    t = selectors.total(selectors.round_counts(march))
    assert (t.listed, t.not_needed, t.sampled, t.door_to_door, t.missed) == (87_940, 17_585, 66_498, 677, 3_857)
    assert t.exempt == {
        "home": 1_236,
        "central": 312,
        "monitoring": 2_049,
        "recent_test": 7_788,
        "previous_round": 6_200,
    }
    plan = selectors.plan(march)
    assert (len(plan.sites), plan.compounds, plan.fixed, plan.staff["total"]) == (59, 56, 90, 1_554)
    assert plan.check.ok
    sampled = []
    for day in OCTOBER:
        r = Round.objects.get(starts_on=day)
        p = selectors.plan(r)
        assert (len(p.sites), p.fixed, p.mobile) == (74, 144, 15)
        assert {
            k: p.staff[k] for k in ("sampler", "registrar", "order", "police", "transport", "vehicles", "disinfection")
        } == {
            "sampler": 196,
            "registrar": 179,
            "order": 577,
            "police": 26,
            "transport": 18,
            "vehicles": 17,
            "disinfection": 13,
        }
        sampled.append(selectors.total(selectors.round_counts(r)).sampled)
    assert sampled == [82_535, 83_143]
    text = dict(build_summary(street, 2022).sections)["完成多轮全员核酸检测"]
    assert (
        "2022年3月22日新城街道开展第一轮全员核酸检测，现场工作人员达到了1554人，辖区内的56个小区设有59个采样点、90个采样台，"
        "对辖区87940人进行核酸检测采样，不包含无需采集17585人（居家隔离1236人、集中隔离312人、居家健康监测2049人、"
        "48小时内已检7788人、上一轮已采6200人），本轮实采人数66498人（含补采1312人），其中677人实行上门采集；应检未检3857人。"
    ) in text
    assert "扩大了检测人群范围，包括了辖区内的工地、商铺、企业、酒店等从业人员3412人的采样检测" in text
    assert "74个采样点，144个固定采样台，15个流动采样组，10月11日和10月13日的实采人数分别是82535和83143人" in text
    assert "现场采样医护人员196人，登记人员179人" in text and "转运人员18人，转运车辆17辆" in text
    assert Sample.objects.filter(round__starts_on__year=2022).count() > 250_000
    assert RoundStaff.objects.filter(round=march).count() == 1_554
    assert (
        SamplingSite.objects.filter(round=march).count() == 59
        and SamplingTable.objects.filter(site__round=march).count() == 90
    )
