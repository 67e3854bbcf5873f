"""The demo street: exact seed-000 quotas at any size, valid IDs, reproducible, coherent; demo users."""

import datetime as dt
import hashlib
import io
import json
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Min

from accounts.models import Role, User
from core import demo as demo_module
from core.demo import SEED_000, load_steps, split_quota
from core.history import start_of_day
from core.testing import wipe_demo
from orgunits.models import Level, OrgUnit
from registry.models import Household, LivingStatus, Relation, Resident, Tag
from registry.rules import age_on, parse_id_number
from registry.selectors import population_figures

SIZE = 2_000
ON = dt.date(2022, 12, 31)

# The scaling rule: every seed-000 figure times SIZE / 87,213, rounded to the nearest whole number.
EXPECTED = {
    "residents": 2_000,  # round(87213 * 2000 / 87213)
    "households_capacity": 1_066,  # round(46465 * 2000 / 87213) = round(1065.56)
    "households_occupied": 812,  # round(35393 * 2000 / 87213) = round(811.66)
    "floating": 304,  # round(13276 * 2000 / 87213) = round(304.45)
    "married_women_15_49": 452,  # round(19692 * 2000 / 87213) = round(451.58)
    "age_60_plus": 219,  # round(9537 * 2000 / 87213) = round(218.71)
}


def seed(**kw):
    out = io.StringIO()
    call_command("seed_demo", size=kw.pop("size", SIZE), on=kw.pop("on", ON), stdout=out, **kw)
    return out.getvalue()


@pytest.fixture
def street(db):
    seed(seed=3)
    return OrgUnit.objects.get(level=Level.STREET)


def test_expected_numbers_follow_the_scaling_rule():
    for key, value in EXPECTED.items():
        seed_key = {"households_capacity": "capacity", "households_occupied": "households"}.get(key, key)
        assert value == round(SEED_000[seed_key] * SIZE / SEED_000["residents"])


def test_the_street_has_seed_000_figures_scaled_exactly(street):
    figures = population_figures(street, on=ON).as_dict()
    assert {k: figures[k] for k in EXPECTED} == EXPECTED
    lo, hi = dt.date(1963, 1, 1), dt.date(2004, 12, 31)  # aged 18–59 on 31 Dec 2022
    present = Resident.objects.filter(left_on__isnull=True)
    assert present.filter(birth_date__gte=lo, birth_date__lte=hi).count() == round(65653 * SIZE / 87213) == 1506
    assert street.code == "150599001000" and street.parent.code == "150599"
    assert OrgUnit.objects.filter(level=Level.COMMUNITY).count() == 2  # 11 scaled down, at least 2
    assert Household.objects.filter(household_type="permanent").count() < EXPECTED["households_occupied"]


def test_the_default_size_is_seed_000_itself():
    assert SEED_000["residents"] == 87_213
    ctx = demo_module.DemoContext(size=87_213, seed=1, on=ON, rng=None, log=print)  # type: ignore[arg-type]
    assert [ctx.scaled(k) for k in ("capacity", "households", "floating", "married_women_15_49")] == [
        46_465,
        35_393,
        13_276,
        19_692,
    ]


def test_id_numbers_are_valid_unique_and_match_birth_sex_and_region(street):
    rows = list(Resident.objects.values_list("id_number", "birth_date", "sex", "id_number_rev"))
    assert len({r[0] for r in rows}) == len(rows) > SIZE  # leavers included
    for number, birth, sex, rev in rows:
        info = parse_id_number(number, today=ON)
        assert (info.birth_date, info.sex, info.region) == (birth, sex, "150599")
        assert rev == number[::-1]
    # Sequence numbers are spread, so the last four digits narrow a search like in a real registry.
    assert len({r[0][-4:] for r in rows}) > len(rows) / 3


def test_same_seed_same_street_other_seed_other_street(db):
    def digest():
        rows = Resident.objects.order_by("id_number").values_list(
            "name", "id_number", "phone", "unit__code", "household__door", "relation", "living_status", "arrived_on"
        )
        return hashlib.sha256(repr(list(rows)).encode()).hexdigest()

    wipe = wipe_demo

    seed(seed=3)
    first = digest()
    wipe()
    seed(seed=3)
    assert digest() == first
    wipe()
    seed(seed=4)
    assert digest() != first


def test_households_are_coherent(street):
    heads = Counter(Resident.objects.filter(relation=Relation.HEAD).values_list("household_id", flat=True))
    assert set(heads.values()) == {1} and len(heads) == EXPECTED["households_occupied"]
    spouses = Counter(Resident.objects.filter(relation=Relation.SPOUSE).values_list("household_id", flat=True))
    assert set(spouses.values()) <= {1}
    assert not Resident.objects.filter(relation=Relation.HEAD, birth_date__gt=dt.date(2002, 12, 31)).exists()
    for building in OrgUnit.objects.filter(level=Level.BUILDING).annotate(n=Count("households")):
        assert building.n <= building.capacity_households
    head = Resident.objects.filter(relation=Relation.HEAD).select_related("household").first()
    assert head.household.head_name == head.name
    assert Resident.objects.filter(living_status=LivingStatus.FLOATING, registered=True).count() == 0


def test_ages_tags_leavers_and_away(street):
    figures = population_figures(street, on=ON)
    assert figures.age_80_plus > 0 and figures.away > 0
    assert set(Tag.objects.values_list("name", flat=True)) >= {"60岁以上", "残疾", "慢病", "孤寡", "低保", "特扶家庭"}
    assert Resident.objects.filter(tags__name="60岁以上").count() == figures.age_60_plus
    assert Resident.objects.filter(tags__name="特扶家庭").count() >= 2
    leavers = Resident.objects.exclude(left_on__isnull=True)
    assert leavers.count() == 10  # round(2000 * 0.5 %)
    assert {s for s in leavers.values_list("living_status", flat=True)} <= {"moved_out", "deceased"}
    assert not leavers.filter(left_on__gte=ON).exists()


def test_history_is_dated_when_records_became_true(street):
    first = Resident.history.values("id").annotate(at=Min("history_date"))
    arrived = dict(Resident.objects.values_list("id", "arrived_on"))
    assert all(row["at"] == start_of_day(arrived[row["id"]]) for row in first)
    one = Resident.objects.filter(living_status=LivingStatus.AWAY).first()
    versions = list(one.history.order_by("history_date").values_list("living_status", "history_date"))
    assert [v[0] for v in versions] == ["resident", "away"] and versions[1][1] == start_of_day(one.status_since)
    # A year earlier the street had fewer people: those who arrived since are not counted then.
    assert population_figures(street, on=ON - dt.timedelta(days=365)).residents < SIZE
    tagged = Resident.objects.filter(tags__name="60岁以上").first()
    assert "60岁以上" in [t.tag.name for t in tagged.history.earliest("history_date").tags.all()]


def test_married_women_are_of_age_on_the_as_of_date(street):
    women = Resident.objects.filter(sex="F", marital_status="married", left_on__isnull=True)
    in_range = [w for w in women if 15 <= age_on(w.birth_date, ON) <= 49]
    assert len(in_range) == EXPECTED["married_women_15_49"]
    assert all(age_on(w.birth_date, ON) >= 20 for w in in_range)  # legal marriage age


def test_if_empty_skips_and_a_second_load_is_refused(street):
    assert "跳过" in seed(if_empty=True)
    assert Resident.objects.filter(left_on__isnull=True).count() == SIZE
    with pytest.raises(CommandError, match="已存在"):
        seed()
    with pytest.raises(CommandError, match="晚于今天"):
        seed(on=dt.date.today() + dt.timedelta(days=3))


def test_sizes_out_of_range_are_refused(db):
    with pytest.raises(CommandError, match="2000"):
        seed(size=1_999)


def test_later_modules_add_steps(db, monkeypatch):
    seen = []
    monkeypatch.setitem(
        demo_module._STEPS,
        "later",
        demo_module.DemoStep("later", 90, lambda ctx: seen.append(ctx.data["street"].name)),
    )
    assert [s.name for s in load_steps()][:2] == ["orgunits", "registry"]
    out = seed(seed=3)
    assert seen == ["新城街道"] and "later" in out


def test_split_quota_adds_up_exactly():
    assert split_quota(10, [1, 1, 1]) == [4, 3, 3]
    assert sum(split_quota(46_465, [0.7, 1.3, 0.9, 1.1])) == 46_465


def test_demo_users_one_per_role_and_reset(street, capsys):
    call_command("demo_users")
    out = capsys.readouterr().out
    assert "demo_street" in out and "yibenzhang-demo" in out
    assert sorted(User.objects.values_list("role", flat=True)) == sorted(Role.values)
    grid_user = User.objects.get(username="demo_grid")
    community_user = User.objects.get(username="demo_community")
    assert grid_user.org_unit.level == Level.GRID and grid_user.org_unit.parent == community_user.org_unit
    assert User.objects.get(username="demo_district").org_unit.code == "150599"
    assert User.objects.get(username="demo_leader").org_unit == street
    grid_user.set_password("changed-9876")
    grid_user.is_active = False
    grid_user.save()
    call_command("demo_users")
    grid_user.refresh_from_db()
    assert grid_user.is_active and grid_user.check_password("yibenzhang-demo")
    assert User.objects.count() == len(Role.values)


def test_demo_users_needs_the_demo(db):
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("demo_users")


def test_indicators_of_the_demo_street_give_the_generator_quota(street, capsys):
    call_command("indicators", "--unit", street.code, "--date", ON.isoformat(), "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["population.married_women_15_49"] == EXPECTED["married_women_15_49"]
    assert out["population.residents"] == SIZE and out["population.floating"] == EXPECTED["floating"]
