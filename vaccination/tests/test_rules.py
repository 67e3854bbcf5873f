"""The pure vaccination rules, without a database: levels, due dates, the interval, age groups, and the
reconciliation of seed 000's 60+ group (9,537 = 9,010 + 156 + 137 + 234; boosters 9,010 − 8,482 − 48
− 286 − 114 = 80)."""

import datetime as dt

from vaccination import rules
from vaccination.rules import (
    BOOSTER,
    FIRST_DOSE,
    FULL_COURSE,
    INTERVAL_NOT_MET,
    NO_BOOSTER_NEEDED,
    NOT_FULL_COURSE,
    UNEXPLAINED,
    VACCINATED,
    DoseFact,
    Person,
    ProductRule,
    ReasonFact,
    classify,
    next_dose,
    progress,
    progress_on,
)

D = dt.date
ON = D(2022, 12, 31)
INACTIVATED = ProductRule(course_doses=2, min_interval_days=21, booster_needed=True, booster_interval_days=90)
RECOMBINANT = ProductRule(course_doses=3, min_interval_days=28, booster_needed=False, booster_interval_days=90)
ADENOVIRUS = ProductRule(course_doses=1, min_interval_days=0, booster_needed=True, booster_interval_days=90)
PRODUCTS = {1: INACTIVATED, 2: RECOMBINANT, 3: ADENOVIRUS}
OLD = D(1950, 6, 1)  # 72 on ON
BORN_1950 = D(1950, 1, 1)


def days(n):
    return dt.timedelta(days=n)


def test_levels_follow_the_first_doses_product():
    assert progress([D(2021, 4, 1)], INACTIVATED).level == FIRST_DOSE
    assert progress([D(2021, 4, 1), D(2021, 5, 1)], INACTIVATED).level == FULL_COURSE
    assert progress([D(2021, 4, 1), D(2021, 5, 1), D(2021, 11, 1)], INACTIVATED).level == BOOSTER
    three = progress([D(2021, 4, 1), D(2021, 5, 1), D(2021, 6, 1)], RECOMBINANT)
    assert (three.level, three.full_course_on, three.booster_on) == (FULL_COURSE, D(2021, 6, 1), None)
    one = progress([D(2021, 6, 1)], ADENOVIRUS)
    assert (one.level, one.full_course_on) == (FULL_COURSE, D(2021, 6, 1))
    assert progress([], None).level is None


def test_doses_after_the_date_and_gaps_do_not_count():
    doses = [DoseFact(1, D(2021, 4, 1), 1), DoseFact(2, D(2021, 5, 1), 1), DoseFact(3, D(2023, 1, 5), 1)]
    assert progress_on(doses, PRODUCTS, ON).level == FULL_COURSE
    assert progress_on(doses, PRODUCTS, D(2021, 4, 20)).level == FIRST_DOSE
    assert progress_on([DoseFact(2, D(2021, 5, 1), 1)], PRODUCTS, ON).level is None  # no dose 1 on file


def test_next_dose_and_its_due_date():
    assert next_dose(rules.NO_DOSES) == rules.NextDose(1, None)
    assert next_dose(progress([D(2022, 12, 20)], INACTIVATED)) == rules.NextDose(2, D(2023, 1, 10))
    assert next_dose(progress([D(2022, 9, 1), D(2022, 10, 1)], INACTIVATED)) == rules.NextDose(3, D(2022, 12, 30))
    assert next_dose(progress([D(2021, 1, 1), D(2021, 2, 1), D(2021, 3, 1)], RECOMBINANT)) is None
    assert next_dose(progress([D(2021, 1, 1), D(2021, 2, 1), D(2021, 6, 1)], INACTIVATED)) is None


def test_a_first_dose_too_recent_is_interval_not_met_then_unexplained_once_due():
    p = progress([ON - days(20)], INACTIVATED)  # due on ON + 1
    assert classify(p, [], FULL_COURSE, ON) == INTERVAL_NOT_MET
    assert classify(p, [], FULL_COURSE, ON + days(1)) == UNEXPLAINED
    assert classify(p, [], FIRST_DOSE, ON) == VACCINATED


def test_booster_interval_counts_from_the_full_course():
    p = progress([D(2022, 9, 1), ON - days(89)], INACTIVATED)
    assert classify(p, [], BOOSTER, ON) == INTERVAL_NOT_MET
    p = progress([D(2022, 9, 1), ON - days(90)], INACTIVATED)
    assert classify(p, [], BOOSTER, ON) == UNEXPLAINED


def test_a_recombinant_full_course_needs_no_booster():
    p = progress([D(2021, 4, 1), D(2021, 5, 1), D(2021, 6, 1)], RECOMBINANT)
    assert classify(p, [], BOOSTER, ON) == NO_BOOSTER_NEEDED
    assert classify(p, [], FULL_COURSE, ON) == VACCINATED
    two = progress([D(2021, 4, 1), D(2021, 5, 1)], RECOMBINANT)  # course not finished
    assert classify(two, [], FULL_COURSE, ON) == UNEXPLAINED
    assert classify(two, [], BOOSTER, ON) == NOT_FULL_COURSE


def test_a_reason_explains_its_level_and_later_ones_while_in_force():
    contra = ReasonFact("contraindication", "full_course", D(2022, 1, 1))
    one = progress([D(2021, 5, 1)], INACTIVATED)
    assert classify(one, [contra], FULL_COURSE, ON) == "contraindication"
    assert classify(one, [contra], FIRST_DOSE, ON) == VACCINATED
    assert classify(rules.NO_DOSES, [contra], FIRST_DOSE, ON) == UNEXPLAINED  # the full course only
    full = progress([D(2021, 5, 1), D(2021, 6, 1)], INACTIVATED)
    assert classify(full, [contra], BOOSTER, ON) == "contraindication"
    booster_only = ReasonFact("contraindication", "booster", D(2022, 1, 1))
    assert classify(one, [booster_only], FULL_COURSE, ON) == UNEXPLAINED
    ended = ReasonFact("away", "any", D(2022, 1, 1), D(2022, 6, 30), absent=True)
    assert classify(rules.NO_DOSES, [ended], FIRST_DOSE, D(2022, 6, 30)) == "away"
    assert classify(rules.NO_DOSES, [ended], FIRST_DOSE, ON) == UNEXPLAINED
    assert classify(rules.NO_DOSES, [ended], FIRST_DOSE, D(2021, 12, 31)) == UNEXPLAINED


def test_a_retired_reason_is_left_out_by_the_caller_and_the_person_is_unexplained_again():
    one = progress([D(2021, 5, 1)], INACTIVATED)
    reasons = [ReasonFact("refused", "any", D(2022, 3, 1))]
    assert classify(one, reasons, FULL_COURSE, ON) == "refused"
    assert classify(one, [], FULL_COURSE, ON) == UNEXPLAINED


def test_the_computed_interval_comes_before_a_recorded_reason_and_the_latest_reason_wins():
    recent = progress([ON - days(3)], INACTIVATED)
    assert classify(recent, [ReasonFact("refused", "any", D(2022, 1, 1))], FULL_COURSE, ON) == INTERVAL_NOT_MET
    both = [ReasonFact("refused", "any", D(2022, 1, 1)), ReasonFact("away", "any", D(2022, 8, 1), absent=True)]
    assert classify(rules.NO_DOSES, both, FIRST_DOSE, ON) == "away"


def test_age_groups_80_plus_is_within_60_plus():
    assert rules.age_groups_of(D(1940, 1, 1), ON) == ["age_60_plus", "age_80_plus"]
    assert rules.age_groups_of(D(1962, 12, 31), ON) == ["age_60_plus"]  # 60 on the day
    assert rules.age_groups_of(D(1963, 1, 1), ON) == ["age_18_59"]
    assert rules.age_groups_of(D(2004, 12, 31), ON) == ["age_18_59"]
    assert rules.age_groups_of(D(2005, 1, 1), ON) == ["age_3_17"]
    assert rules.age_groups_of(D(2020, 1, 1), ON) == []  # under 3


def test_coverage_counts_each_group_against_its_people():
    people = [
        Person(1, D(1940, 1, 1), progress([D(2021, 5, 1), D(2021, 6, 1)], INACTIVATED)),
        Person(2, D(1955, 1, 1), progress([D(2021, 5, 1)], INACTIVATED)),
        Person(3, D(1990, 1, 1), rules.NO_DOSES),
        Person(4, D(2021, 1, 1), rules.NO_DOSES),  # too young for any group
    ]
    cells = rules.coverage(people, ON)
    assert (cells["age_60_plus"].people, cells["age_60_plus"].first_dose, cells["age_60_plus"].full_course) == (2, 2, 1)
    assert (cells["age_80_plus"].people, cells["age_80_plus"].full_course) == (1, 1)
    assert str(cells["age_60_plus"].percent(FULL_COURSE)) == "50.00"
    assert cells["age_18_59"].percent(FIRST_DOSE) == 0 and cells["age_3_17"].percent(FIRST_DOSE) is None


def seed_000_people():
    """Seed 000's 60+ group on 31 December 2022, built person by person."""
    long_ago = [D(2021, 5, 1), D(2021, 6, 1)]
    out = []

    def add(n, p, reasons=()):
        for _ in range(n):
            out.append(Person(len(out) + 1, OLD, p, list(reasons)))

    contra_full = ReasonFact("contraindication", "full_course", D(2021, 6, 1))
    contra_booster = ReasonFact("contraindication", "booster", D(2022, 1, 1))
    add(8_482, progress([*long_ago, D(2022, 1, 10)], INACTIVATED))
    add(48, progress(long_ago, INACTIVATED), [contra_booster])
    add(286, progress([D(2022, 9, 1), D(2022, 10, 20)], INACTIVATED))  # booster due 2023-01-18
    add(114, progress([*long_ago, D(2021, 7, 1)], RECOMBINANT))
    add(80, progress(long_ago, INACTIVATED))
    add(156, progress([D(2021, 5, 1)], INACTIVATED), [contra_full])
    add(137, progress([D(2022, 12, 20)], INACTIVATED))  # dose 2 due 2023-01-10
    add(234, progress([D(2021, 5, 1)], INACTIVATED))
    return out


def test_seed_000_figures_as_arithmetic():
    people = seed_000_people()
    full = rules.reconcile(people, FULL_COURSE, ON)
    assert full.total == 9_537
    assert full.counts == {
        VACCINATED: 9_010,
        "contraindication": 156,
        INTERVAL_NOT_MET: 137,
        UNEXPLAINED: 234,
    }
    assert len(full.unexplained) == 234 == 9_537 - 9_010 - 156 - 137
    booster = rules.reconcile(people, BOOSTER, ON)
    assert booster.base == 9_010
    assert booster.counts == {
        VACCINATED: 8_482,
        "contraindication": 48,
        INTERVAL_NOT_MET: 286,
        NO_BOOSTER_NEEDED: 114,
        UNEXPLAINED: 80,
        NOT_FULL_COURSE: 527,
    }
    assert 9_010 - 8_482 - 48 - 286 - 114 == len(booster.unexplained) == 80
    first = rules.reconcile(people, FIRST_DOSE, ON)
    assert first.counts == {VACCINATED: 9_537}  # "首针全部接种…覆盖率达到了100%"


def test_present_population_leaves_out_absent_reasons():
    away = ReasonFact("away", "any", D(2022, 1, 1), absent=True)
    people = [
        Person(1, D(1990, 1, 1), progress([D(2021, 5, 1), D(2021, 6, 1), D(2022, 1, 1)], INACTIVATED)),
        Person(2, D(1990, 1, 1), progress([D(2021, 5, 1), D(2021, 6, 1)], INACTIVATED), [away]),
        Person(3, D(1990, 1, 1), rules.NO_DOSES, [ReasonFact("lost", "any", D(2022, 1, 1), absent=True)]),
    ]
    tally = rules.reconcile(people, BOOSTER, ON)
    assert (tally.total, tally.absent, tally.present, tally.present_vaccinated) == (3, 2, 1, 1)
    assert tally.counts == {VACCINATED: 1, "away": 1, NOT_FULL_COURSE: 1}


def check(number, date, earlier, course=INACTIVATED, birth=BORN_1950, **kw):
    return rules.dose_problems(birth=birth, number=number, date=date, today=ON, earlier=earlier, course=course, **kw)


def test_bad_doses_are_refused_by_field():
    assert check(1, ON + days(1), {})[0] == {"date": "接种日期不能晚于今天"}
    assert check(1, D(2021, 1, 1), {}, birth=D(2021, 6, 1))[0] == {"date": "接种日期早于出生日期"}
    assert "未满3周岁" in check(1, D(2022, 1, 1), {}, birth=D(2020, 6, 1))[0]["date"]
    assert check(3, D(2022, 1, 1), {})[0] == {"dose_number": "尚未登记第2剂，请先登记前一剂"}
    assert "已登记" in check(1, D(2022, 1, 1), {1: D(2021, 5, 1)})[0]["dose_number"]
    assert "早于第1剂" in check(2, D(2021, 4, 1), {1: D(2021, 5, 1)})[0]["date"]
    assert check(0, D(2022, 1, 1), {})[0] == {"dose_number": "剂次应为1或以上"}
    assert check(2, D(2021, 6, 1), {1: D(2021, 5, 1)}) == ({}, {})


def test_short_intervals_are_warnings():
    errors, warnings = check(2, D(2021, 5, 10), {1: D(2021, 5, 1)})
    assert not errors and "至少间隔21天" in warnings["date"]
    errors, warnings = check(3, D(2021, 7, 1), {1: D(2021, 5, 1), 2: D(2021, 6, 1)})
    assert not errors and "加强免疫应在完成全程接种90天后" in warnings["date"]
    errors, warnings = check(4, D(2022, 7, 1), {1: D(2021, 5, 1), 2: D(2021, 6, 1), 3: D(2021, 7, 1)}, RECOMBINANT)
    assert warnings == {"dose_number": "该受种者的全程疫苗无需接种加强针"}


def test_a_correction_may_not_move_a_dose_after_the_next_one():
    earlier = {1: D(2021, 5, 1), 3: D(2021, 12, 1)}
    assert check(2, D(2021, 6, 1), earlier)[0]["dose_number"].startswith("已登记第3剂")
    assert check(2, D(2021, 6, 1), earlier, replacing=True) == ({}, {})
    assert "晚于第3剂" in check(2, D(2022, 1, 1), earlier, replacing=True)[0]["date"]
