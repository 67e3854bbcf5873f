"""The demo street's 计生 ledgers: seed 000's 2022 figures, scaled exactly, coherent with the registry."""

import datetime as dt
import hashlib
import io
import json
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import Role, User
from core.indicators import Period
from core.testing import wipe_demo
from familyplanning.demo import _birth_cells, demo_year
from familyplanning.models import (
    Adjustment,
    Application,
    Beneficiary,
    Birth,
    BirthPolicy,
    BirthServiceRegistration,
    RegistrationStatus,
)
from familyplanning.selectors import assistance_year, birth_statistics, late_entries, special_families, visit_year
from orgunits.models import Level, OrgUnit
from registry.models import Resident
from registry.rules import age_on

SIZE = 2_000
ON = dt.date(2023, 6, 30)  # after 2022: the ledgers are for 2022
YEAR = Period(dt.date(2022, 1, 1), dt.date(2022, 12, 31))
# The scaling rule: seed-000 figures times 2,000 / 87,213, split so that the parts add up.
BIRTHS = 20  # round(883 × 0.02293) = round(20.25)
BOYS, GIRLS = 10, 10  # 455 : 428 of 20
BY_ORDER = {1: 14, 2: 6, 3: 0}  # 631 : 242 : 10 of 20 (14.29, 5.48, 0.23 -> largest remainders)
REGISTRATIONS = 18  # round(769 × 0.02293) = round(17.63)
REGISTRATIONS_BY_ORDER = {1: 14, 2: 4, 3: 0}  # 588 : 176 : 5 of 18


def seed(size: int = SIZE, on: dt.date = ON, seed: int = 3) -> str:
    out = io.StringIO()
    call_command("seed_demo", size=size, on=on, seed=seed, stdout=out)
    return out.getvalue()


@pytest.fixture
def street(db):
    seed()
    return OrgUnit.objects.get(level=Level.STREET)


def test_the_year_is_the_seeds_or_the_last_complete_one():
    assert demo_year(dt.date(2026, 11, 23)) == 2022
    assert demo_year(dt.date(2022, 12, 31)) == 2022
    assert demo_year(dt.date(2022, 12, 30)) == 2021
    assert demo_year(dt.date(2020, 3, 1)) == 2019


def test_births_split_so_that_sex_and_order_totals_both_hold():
    cells = _birth_cells(883)
    assert [cells[("M", k)] for k in (1, 2, 3)] == [325, 125, 5]
    assert [cells[("F", k)] for k in (1, 2, 3)] == [306, 117, 5]
    assert sum(cells[("M", k)] for k in (1, 2, 3)) == 455
    assert [cells[("M", k)] + cells[("F", k)] for k in (1, 2, 3)] == [631, 242, 10]


def test_births_and_registrations_are_the_seeds_scaled(street):
    s = birth_statistics(street, YEAR)
    assert (s.births, s.male, s.female) == (BIRTHS, BOYS, GIRLS)
    assert s.by_order == BY_ORDER
    assert (s.registrations, s.registrations_by_order) == (REGISTRATIONS, REGISTRATIONS_BY_ORDER)
    assert s.compliance_rate == 100  # every order within the three-child policy
    assert list(BirthPolicy.objects.values_list("name", "max_children", "valid_to")) == [
        ("全面两孩政策", 2, dt.date(2021, 5, 30)),
        ("三孩政策", 3, None),
    ]
    assert not Birth.objects.exclude(birth_date__year=2022).exists()


def test_births_fit_the_registry(street):
    births = list(Birth.objects.select_related("child", "mother", "unit"))
    assert all(b.unit.level == Level.BUILDING and b.unit.path.startswith(street.path) for b in births)
    linked = [b for b in births if b.child is not None]
    assert linked, "children of the registry born in 2022 are linked"
    assert all((b.child.birth_date, b.child.sex, b.child.name) == (b.birth_date, b.sex, b.child_name) for b in linked)
    assert all(b.child_name for b in births)
    for b in births:
        assert b.mother.sex == "F" and b.mother.marital_status == "married"
        assert 20 <= age_on(b.mother.birth_date, b.birth_date) <= 45
        assert b.mother_id_number == b.mother.id_number
    assert max(Counter(b.mother_id for b in births).values()) == 1
    # Seed 000 complains of late entry: about one in ten is entered months late, the rest within a month.
    late = late_entries(street, YEAR, days=30)
    assert len(late) == round(BIRTHS * 0.1) and all(60 <= b.days_to_entry <= 200 for b in late)
    assert all(0 < b.days_to_entry <= 30 for b in births if b not in late)
    assert Birth.history.count() == BIRTHS
    assert {h.history_user.username for h in Birth.history.all()} == {"demo_street"}


def test_registrations_precede_their_births(street):
    regs = list(BirthServiceRegistration.objects.select_related("birth"))
    born = [r for r in regs if r.status == RegistrationStatus.BORN]
    assert len(born) >= len(regs) * 0.7  # most are linked to a birth
    for r in born:
        assert r.birth.mother_id == r.mother_id and r.birth.birth_order == r.birth_order
        assert r.registered_on.year == 2022 and r.registered_on <= r.birth.birth_date - dt.timedelta(days=30)
    waiting = [r for r in regs if r.status == RegistrationStatus.REGISTERED]
    assert not Birth.objects.filter(mother__in=[r.mother_id for r in waiting]).exists()


def test_the_money_case_is_consistent_and_back_paid(street):
    by_code = {s.scheme.code: s for s in assistance_year(street, 2022)}
    tagged = Resident.objects.filter(tags__name="特扶家庭")
    bereaved = by_code["sa_bereaved"]
    people = bereaved.people + (by_code["sa_disability"].people if "sa_disability" in by_code else 0)
    assert people == tagged.count() >= 2  # the registry demo tags few people at this size
    assert bereaved.applied == bereaved.people * 655 * 12  # a full year at last year's standard
    assert bereaved.adjusted == bereaved.people * 140 * 6  # 795 from July: 140 more for six months
    assert bereaved.adjustment_details == ["140元/月×6月"]
    assert (by_code["one_time"].households, by_code["one_time"].people, by_code["one_time"].total) == (1, 2, 82_510)
    reward = by_code["only_child_reward"]
    assert (reward.households, reward.total) == (4, 600)  # 3×120 + 1×240
    application = Application.objects.get(unit=street, year=2022)
    assert application.submitted_by.username == "demo_street"
    assert application.total == sum((s.applied for s in by_code.values()), Decimal(0))
    assert Adjustment.objects.get().total == sum((s.adjusted for s in by_code.values()), Decimal(0))
    families = special_families(street, YEAR.end)
    visits = visit_year(street, 2022)
    assert (visits.visits, visits.occasions) == (5, ["春节", "母亲节", "端午节", "中秋节", "元旦"])
    assert (visits.households, visits.people) == (families.households, families.people)
    user = User.objects.get(username="demo_street")
    assert (user.role, user.org_unit) == (Role.STREET_STAFF, street)


def test_indicators_of_the_demo_street(street, capsys):
    call_command("indicators", "--unit", street.code, "--period", "2022", "--json")
    out = json.loads(capsys.readouterr().out)
    assert (out["familyplanning.births"], out["familyplanning.registrations"]) == (BIRTHS, REGISTRATIONS)
    assert out["familyplanning.visits"] == 5
    assert out["familyplanning.applied_only_child"] == 600


def _wipe() -> None:
    wipe_demo()


def _digest() -> str:
    rows: list[tuple[object, ...]] = list(
        Birth.objects.order_by("mother_id_number").values_list(
            "child_name", "sex", "birth_date", "birth_order", "mother_id_number", "entered_on", "place"
        )
    )
    rows += list(
        BirthServiceRegistration.objects.order_by("mother_id_number").values_list(
            "mother_id_number", "birth_order", "registered_on", "status"
        )
    )
    rows += list(
        Beneficiary.objects.order_by("person__id_number", "scheme__code").values_list(
            "scheme__code", "person__id_number"
        )
    )
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_same_seed_same_ledgers_and_a_reload_after_a_wipe_works(db):
    seed()
    first = _digest()
    _wipe()
    out = seed()  # schemes and policies are kept and reused
    assert _digest() == first and "出生 20 人" in out


@pytest.mark.slow
def test_full_size_is_seed_000_exactly(db):
    seed(size=87_213)
    street = OrgUnit.objects.get(code="150599001000")
    s = birth_statistics(street, YEAR)
    assert (s.births, s.male, s.female, s.by_order) == (883, 455, 428, {1: 631, 2: 242, 3: 10})
    assert (s.registrations, s.registrations_by_order) == (769, {1: 588, 2: 176, 3: 5})
    by_code = {x.scheme.code: x for x in assistance_year(street, 2022)}
    figures = {code: (x.people, x.applied, x.adjusted) for code, x in by_code.items()}
    assert figures["sa_disability"] == (17, 106_080, 11_220)
    assert figures["sa_bereaved"] == (11, 86_460, 9_240)
    assert figures["one_time"] == (2, 82_510, 0)
    assert sum(by_code[c].total for c in ("sa_disability", "sa_bereaved", "one_time")) == 295_510
    assert by_code["only_child_reward"].total == 600
    families = special_families(street, YEAR.end)
    assert (families.households, families.people) == (16, 28)
    visits = visit_year(street, 2022)
    assert (visits.visits, visits.households, visits.people) == (5, 16, 28)
