"""疫情防控 indicators: seed 004's community figures computed from records built through the services."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.indicators import Period, indicators
from orgunits.models import Level
from orgunits.services import create_unit
from outbreak import services
from outbreak.indicators import outbreak
from outbreak.models import Checkpoint, PassRule
from outbreak.services import CrossingData, ScreeningData
from outbreak.tests.factories import event
from registry.services import ResidentData, create_household, create_resident

D = dt.date
START = D(2022, 11, 1)
ON = D(2022, 11, 25)  # the snapshot date
PERIOD = Period(START, ON)
SIZES = [4, 4, 4, 4] + [3] * 10  # 14 households, 46 people


@pytest.fixture
def ev(world):
    return event(world, started=START)


def _families(world):
    """14 households in 龙兴社区's building, 46 residents; the grid worker's building, so carol may screen them."""
    alice = world.user("alice")
    families = []
    for k, size in enumerate(SIZES):
        hh = create_household(unit=world.east_b1, door=f"{k + 2}01", entrance="2", head_name=f"户主{k}", by=alice)
        members = []
        for m in range(size):
            members.append(
                create_resident(
                    data=ResidentData(
                        name=f"居民{k}-{m}",
                        id_number=_id(k * 10 + m),
                        relation="head" if m == 0 else "child",
                        arrived_on=D(2016, 1, 1),
                        living_status="floating" if k == 0 else "resident",
                    ),
                    unit=world.east_b1,
                    household=hh,
                    by=alice,
                )
            )
        families.append(members)
    return families


def _id(n):
    from core.testing import make_id_number

    return make_id_number(D(1980, 1, 1) + dt.timedelta(days=n), "M" if n % 2 else "F", serial=n + 7)


def screen(world, ev, *, area, arrival, kind="arrival", person=None, name="", id_number="", found_on=None):
    data = ScreeningData(
        from_area=area,
        arrival_date=arrival,
        found_by="grid",
        person_kind=kind,
        person=person,
        name=name,
        id_number=id_number,
        address="隔离酒店" if not person else "",
        found_on=found_on or arrival,
    )
    return services.screen_person(event=ev, unit=world.east_b1, data=data, by=world.user("carol"), today=data.found_on)


@pytest.fixture
def seed_004(world, ev):
    """居家隔离14户46人 (high-risk arrivals: 14 days at home), 集中隔离17人 (close contacts), on ON."""
    for members in _families(world):
        for p in members:
            screen(world, ev, area="湖北省武汉市洪山区", arrival=ON - dt.timedelta(days=3), person=p)
    for k in range(17):
        screen(world, ev, area="本市", arrival=ON - dt.timedelta(days=2), kind="close_contact", name=f"密接{k}",
               id_number=f"P{k:07d}")  # fmt: skip
    # Found twice: merged, still one person; and one released before the date, one health-monitored.
    screen(world, ev, area="湖北省武汉市洪山区", arrival=ON - dt.timedelta(days=3), name="密接0", id_number="p0000000")
    early, _ = screen(world, ev, area="湖北省武汉市", arrival=START, name="早到", id_number="E1", found_on=START)
    services.release(screening=early, on=START + dt.timedelta(days=14), by=world.user("carol"))
    screen(world, ev, area="湖北省黄冈市", arrival=ON - dt.timedelta(days=1), name="监测", id_number="M1")
    return ev


def test_seed_004s_community_figures_are_computed(world, seed_004):
    out = outbreak(world.east_c1, PERIOD)
    assert (out["home_quarantine_households"], out["home_quarantine_people"]) == (14, 46)
    assert out["central_quarantine_people"] == 17
    assert out["health_monitoring_people"] == 1
    assert out["screened"] == 46 + 17 + 2  # the merged duplicate is not a person more
    assert out["screened_floating"] == 4 + 17 + 2  # one household is floating; visitors are not in the registry
    assert (out["close_contacts"], out["released"]) == (17, 1)
    # The day before the early arrival's release he was still at home; the others had not come yet.
    before = outbreak(world.east_c1, Period(START, START + dt.timedelta(days=13)))
    assert (before["home_quarantine_households"], before["home_quarantine_people"], before["released"]) == (1, 1, 0)


def test_other_units_do_not_see_the_communitys_people(world, seed_004):
    west = outbreak(world.west, PERIOD)
    assert (west["screened"], west["home_quarantine_people"], west["central_quarantine_people"]) == (0, 0, 0)
    assert outbreak(world.east, PERIOD)["home_quarantine_people"] == 46
    assert outbreak(world.district, PERIOD)["central_quarantine_people"] == 17


def test_fevers_checkpoints_and_reports(world, ev):
    s, _ = screen(world, ev, area="湖北省武汉市", arrival=ON - dt.timedelta(days=2), name="甲", id_number="A1")
    tz = timezone.get_current_timezone()
    at = dt.datetime.combine(ON, dt.time(8), tzinfo=tz)
    dave = world.user("dave")
    services.record_follow_up(screening=s, date=ON, slot="am", temperature="37.5", symptoms=[], by=dave, now=at)
    gate = Checkpoint.objects.create(unit=world.east_c1, event=ev, name="北门")
    PassRule.objects.create(event=ev, unit=world.east_c1, max_exits=1, days=2, valid_from=START)
    zhang = world.residents["zhang"]
    for n, (hour, reason) in enumerate(((9, ""), (15, "就医"))):
        services.register_crossing(
            checkpoint=gate,
            data=CrossingData(client_id=f"c{n}", direction="out", at=at.replace(hour=hour), person=zhang,
                              allow_reason=reason),
            by=dave,
        )  # fmt: skip
    # Reports: 龙兴 on time on both days, 泰丰 late on one and missing on the other.
    carol, bob = world.user("carol"), world.user("bob")
    for day in (ON - dt.timedelta(days=1), ON):
        services.submit_daily_report(event=ev, unit=world.east_c1, date=day, by=carol,
                                     now=dt.datetime.combine(day, dt.time(16), tzinfo=tz))  # fmt: skip
    services.submit_daily_report(event=ev, unit=world.east_c2, date=ON, by=bob, zero=False,
                                 now=dt.datetime.combine(ON, dt.time(19), tzinfo=tz))  # fmt: skip
    out = outbreak(world.east, Period(ON - dt.timedelta(days=1), ON))
    assert (out["fever_alerts"], out["checkpoint_crossings"], out["checkpoint_breaches"]) == (1, 2, 1)
    assert (out["reports_expected"], out["reports_received"], out["reports_on_time"]) == (4, 3, 2)
    assert (out["report_completeness_percent"], out["report_timeliness_percent"]) == (75.0, 50.0)
    assert outbreak(world.east, Period(D(2022, 1, 1), D(2022, 1, 31)))["reports_expected"] == 0  # before the event


def test_the_command_prints_the_outbreak_keys(world, seed_004):
    out = io.StringIO()
    call_command("indicators", "--unit", world.east_c1.code, "--date", ON.isoformat(), "--json", stdout=out)
    figures = json.loads(out.getvalue())
    assert (figures["outbreak.home_quarantine_households"], figures["outbreak.home_quarantine_people"]) == (14, 46)
    assert figures["outbreak.central_quarantine_people"] == 17
    assert set(indicators(world.east_c1, ON)) >= {"outbreak.screened", "outbreak.report_timeliness_percent"}


def test_a_new_community_counts_from_the_day_it_exists(world, ev):
    create_unit(name="新建社区", level=Level.COMMUNITY, parent=world.east, established_on=D(2015, 1, 1))
    out = outbreak(world.east, Period(ON, ON))
    assert (out["reports_expected"], out["report_completeness_percent"]) == (3, 0.0)
