"""Pure rules, no database: birth orders, rates, eligible months, standards, amounts, back-pay."""

import datetime as dt
from decimal import Decimal

import pytest

from familyplanning import rules
from familyplanning.rules import StandardSpan

D = dt.date
LONG_AGO = D(2020, 1, 1)


def test_order_labels():
    assert [rules.order_label(n) for n in (1, 2, 3, 4)] == ["一孩", "二孩", "三孩", "四孩"]
    assert rules.order_label(12) == "12孩"


def test_split_values_accepts_the_separators_people_type():
    assert rules.split_values("男、女") == ["男", "女"]
    assert rules.split_values(" 男, 女，男 ") == ["男", "女"]
    assert rules.split_values("") == []


# ---- birth order against the mother's other births -------------------------------------------------------


def test_first_recorded_child_may_have_any_order_since_older_ones_predate_the_ledger():
    assert rules.birth_order_problem(2, D(2022, 5, 1), []) is None


def test_an_order_already_taken_is_a_contradiction():
    problem = rules.birth_order_problem(2, D(2022, 5, 1), [(D(2019, 3, 1), 2)])
    assert problem is not None and "二孩" in problem


def test_an_order_not_above_an_earlier_child_is_a_contradiction():
    problem = rules.birth_order_problem(1, D(2022, 5, 1), [(D(2019, 3, 1), 2)])
    assert problem is not None and "2019-03-01" in problem


def test_an_order_above_a_later_child_is_a_contradiction():
    problem = rules.birth_order_problem(3, D(2020, 5, 1), [(D(2022, 3, 1), 2)])
    assert problem is not None and "此后" in problem


def test_the_next_order_after_earlier_children_is_fine_and_twins_take_consecutive_orders():
    assert rules.birth_order_problem(3, D(2022, 5, 1), [(D(2016, 1, 1), 1), (D(2019, 1, 1), 2)]) is None
    assert rules.birth_order_problem(2, D(2022, 5, 1), [(D(2022, 5, 1), 1)]) is None


# ---- rates -------------------------------------------------------------------------------------------------


def test_seed_002_birth_rate_and_sex_ratio():
    # 镇卫健办 2022: 54,991 people, 203 births (118 boys, 85 girls): 3.69‰, 138.82.
    assert rules.permille(203, 54_991) == Decimal("3.69")
    assert rules.sex_ratio(118, 85) == Decimal("138.82")


def test_rates_of_nothing_are_none_not_zero():
    assert rules.permille(5, 0) is None
    assert rules.sex_ratio(3, 0) is None
    assert rules.percent(0, 0) is None


def test_policy_compliance():
    assert rules.within_policy(3, 3)
    assert not rules.within_policy(4, 3)
    assert not rules.within_policy(1, 3, out_of_policy=True)
    assert rules.within_policy(5, None)  # no policy recorded for the date


def test_birth_rate_denominator_choices():
    assert rules.birth_rate_denominator("end", start_population=900, end_population=1000) == 1000
    assert rules.birth_rate_denominator("average", start_population=900, end_population=1000) == 950
    with pytest.raises(ValueError):
        rules.birth_rate_denominator("median", start_population=1, end_population=1)


# ---- eligible months -----------------------------------------------------------------------------------------


def test_whole_year():
    assert rules.eligible_months(2022, D(2020, 3, 1), None) == list(range(1, 13))


def test_joined_mid_year_is_paid_from_the_start_month():
    assert rules.eligible_months(2022, D(2022, 9, 1), None) == [9, 10, 11, 12]


def test_left_mid_year_is_paid_through_the_month_of_leaving():
    assert rules.eligible_months(2022, D(2018, 1, 1), D(2022, 6, 10)) == [1, 2, 3, 4, 5, 6]
    assert rules.eligible_months(2022, D(2018, 1, 1), D(2022, 6, 1)) == [1, 2, 3, 4, 5, 6]
    assert rules.eligible_months(2022, D(2018, 1, 1), D(2022, 5, 31)) == [1, 2, 3, 4, 5]


def test_not_enrolled_that_year():
    assert rules.eligible_months(2022, D(2023, 1, 1), None) == []
    assert rules.eligible_months(2022, D(2018, 1, 1), D(2021, 12, 31)) == []


# ---- standards ---------------------------------------------------------------------------------------------------


RAISED = [
    StandardSpan(D(2021, 1, 1), D(2022, 6, 30), "", Decimal(520)),
    StandardSpan(D(2022, 7, 1), None, "", Decimal(630)),
]


def test_standard_in_force_on_a_date():
    assert rules.standard_on(RAISED, "", D(2022, 6, 1)) == 520
    assert rules.standard_on(RAISED, "", D(2022, 7, 1)) == 630
    assert rules.standard_on(RAISED, "", D(2020, 12, 31)) is None


def test_attribute_standards_with_a_plain_fallback():
    spans = [
        StandardSpan(D(2020, 1, 1), None, "男", Decimal(120)),
        StandardSpan(D(2020, 1, 1), None, "女", Decimal(240)),
        StandardSpan(D(2020, 1, 1), None, "", Decimal(100)),
    ]
    assert rules.standard_on(spans, "女", D(2022, 1, 1)) == 240
    assert rules.standard_on(spans, "男", D(2022, 1, 1)) == 120
    assert rules.standard_on(spans, "其他", D(2022, 1, 1)) == 100


def test_overlapping_or_gapped_standards_are_refused():
    closed = [StandardSpan(D(2021, 1, 1), D(2021, 12, 31), "", Decimal(520))]
    assert "重叠" in (rules.standard_range_problem(closed, D(2021, 6, 1), None, "") or "")
    assert "空档" in (rules.standard_range_problem(closed, D(2022, 2, 1), None, "") or "")
    assert rules.standard_range_problem(closed, D(2022, 1, 1), None, "") is None
    # Before an existing start: an overlap, whatever the end.
    assert "重叠" in (rules.standard_range_problem(RAISED, D(2022, 1, 1), None, "") or "")
    # Another attribute is another timeline.
    assert rules.standard_range_problem(closed, D(2021, 6, 1), None, "女") is None
    assert rules.standard_range_problem([], D(2022, 1, 10), D(2022, 1, 1), "") == "截止日期早于起始日期"


def test_an_open_standard_is_closed_by_the_next_one_not_refused():
    open_ = [StandardSpan(D(2021, 1, 1), None, "", Decimal(520))]
    assert rules.standard_range_problem(open_, D(2022, 7, 1), None, "") is None


# ---- amounts: seed 000's case and variants ------------------------------------------------------------------------


def due(period="monthly", spans=RAISED, attribute="", year=2022, start=LONG_AGO, end=None, paid_before=False):
    return rules.amount_due(
        period=period,
        spans=spans,
        attribute=attribute,
        year=year,
        start_month=start,
        end_date=end,
        paid_before=paid_before,
    )


def test_monthly_amount_follows_the_standard_of_each_month():
    d = due()
    assert d.amount == 6 * 520 + 6 * 630
    assert d.detail == "520元/月×6月+630元/月×6月"


def test_seed_000_application_at_last_years_standard_then_back_pay():
    applied_at = [StandardSpan(D(2021, 1, 1), None, "", Decimal(520))]
    applied = due(spans=applied_at)
    assert applied.amount * 17 == 106_080
    paid = rules.month_amounts("monthly", applied)
    now_due = rules.month_amounts("monthly", due())
    bp = rules.back_pay(paid=paid, due=now_due)
    assert (bp.amount, bp.months, bp.detail) == (Decimal(660), 6, "110元/月×6月")
    assert bp.amount * 17 == 11_220


def test_bereaved_seed_figures():
    applied = due(spans=[StandardSpan(D(2021, 1, 1), None, "", Decimal(655))])
    raised = due(
        spans=[
            StandardSpan(D(2021, 1, 1), D(2022, 6, 30), "", Decimal(655)),
            StandardSpan(D(2022, 7, 1), None, "", Decimal(795)),
        ]
    )
    bp = rules.back_pay(paid=rules.month_amounts("monthly", applied), due=rules.month_amounts("monthly", raised))
    assert (applied.amount * 11, bp.amount * 11, bp.detail) == (86_460, 9_240, "140元/月×6月")


def test_mid_year_join_and_leave_are_paid_their_months_only():
    assert due(start=D(2022, 10, 1)).amount == 3 * 630
    assert due(end=D(2022, 3, 15)).amount == 3 * 520
    assert due(start=D(2022, 5, 1), end=D(2022, 8, 2)).amount == 2 * 520 + 2 * 630


def test_a_month_without_a_standard_is_reported_not_paid_as_zero():
    d = due(spans=[StandardSpan(D(2022, 4, 1), None, "", Decimal(100))])
    assert d.missing_months == (1, 2, 3)
    assert d.amount == 900


def test_only_child_reward_per_household_per_year_by_the_childs_sex():
    spans = [
        StandardSpan(D(2020, 1, 1), None, "男", Decimal(120)),
        StandardSpan(D(2020, 1, 1), None, "女", Decimal(240)),
    ]
    boys = [due("yearly", spans, "男") for _ in range(3)]
    girl = due("yearly", spans, "女")
    assert sum(d.amount for d in boys) + girl.amount == 600
    assert girl.detail == "240元"
    assert due("yearly", spans, "男", start=D(2023, 1, 1)).amount == 0


def test_one_time_assistance_is_paid_once_in_the_start_year():
    spans = [StandardSpan(D(2020, 1, 1), None, "", Decimal(82_510))]
    assert due("one_time", spans, start=D(2022, 3, 1)).amount == 82_510
    assert due("one_time", spans, start=D(2021, 3, 1)).amount == 0
    assert due("one_time", spans, start=D(2022, 3, 1), paid_before=True).amount == 0


def test_a_cut_standard_gives_a_negative_adjustment():
    bp = rules.back_pay(paid=[(1, Decimal(100)), (2, Decimal(100))], due=[(1, Decimal(100)), (2, Decimal(80))])
    assert bp.amount == -20


def test_leaving_after_the_application_takes_the_months_back():
    bp = rules.back_pay(paid=[(m, Decimal(520)) for m in range(1, 13)], due=[(m, Decimal(520)) for m in range(1, 7)])
    assert (bp.amount, bp.months) == (Decimal(-3120), 6)


def test_money_writes_whole_yuan_like_the_seed():
    assert rules.money(Decimal("106080.00")) == "106080"
    assert rules.money(Decimal("12.5")) == "12.50"
