"""Pure rules of the 计生 ledgers: birth orders, policy, rates, eligible months, standards, amounts.

No database here: services and selectors pass plain values in. See docs/familyplanning.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

ORDER_NAMES = "一二三四五六七八九十"


def split_values(raw: str) -> list[str]:
    """'男、女' / '男,女' -> ['男', '女'] (order kept, blanks and repeats dropped)."""
    parts = [p.strip() for p in re.split(r"[、,，;；/\s]+", raw or "")]
    return list(dict.fromkeys(p for p in parts if p))


def order_label(order: int) -> str:
    """1 -> 一孩 … 10 -> 十孩; larger orders in digits."""
    if 1 <= order <= len(ORDER_NAMES):
        return ORDER_NAMES[order - 1] + "孩"
    return _("%(n)s孩") % {"n": order}


# ---- births -------------------------------------------------------------------------------------------------


def birth_order_problem(order: int, born_on: dt.date, earlier: Iterable[tuple[dt.date, int]]) -> str | None:
    """Why ``order`` contradicts the mother's other recorded births (date, order), or None.

    Her earlier children may predate the ledger, so a higher order than the records show is
    allowed; what cannot be is an order already taken by another child, an order not above
    every child born before, or an order below a child born after. Twins born the same day
    take consecutive orders.
    """
    if order < 1:
        return _("孩次应从1开始")
    for other_date, other_order in earlier:
        if other_order == order:
            return _("该母亲已登记过%(label)s（%(date)s出生）") % {
                "label": order_label(order),
                "date": other_date.isoformat(),
            }
        if other_date < born_on and other_order > order:
            return _("孩次与母亲此前的生育记录矛盾：%(date)s已出生%(label)s") % {
                "date": other_date.isoformat(),
                "label": order_label(other_order),
            }
        if other_date > born_on and other_order < order:
            return _("孩次与母亲此后的生育记录矛盾：%(date)s出生的是%(label)s") % {
                "date": other_date.isoformat(),
                "label": order_label(other_order),
            }
    return None


def within_policy(order: int, max_children: int | None, *, out_of_policy: bool = False) -> bool:
    """A birth is within the policy when its order does not exceed what the policy allowed on its date.

    No policy recorded for the date means nothing to hold it against; ``out_of_policy`` is the
    office's finding for reasons the order does not show.
    """
    if out_of_policy:
        return False
    return max_children is None or order <= max_children


def permille(part: int, whole: int) -> Decimal | None:
    """Rate per thousand, two decimals (seed 002: 203 births / 54,991 people = 3.69‰)."""
    if whole <= 0:
        return None
    return (Decimal(part) * 1000 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def percent(part: int, whole: int) -> Decimal | None:
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def sex_ratio(boys: int, girls: int) -> Decimal | None:
    """Boys per 100 girls (seed 002: 118 boys, 85 girls = 138.82)."""
    return percent(boys, girls)


def birth_rate_denominator(kind: str, *, start_population: int, end_population: int) -> int:
    """'end': the population at the period's end (default); 'average': the mean of start and end."""
    if kind == "average":
        return round((start_population + end_population) / 2)
    if kind == "end":
        return end_population
    raise ValueError(kind)


# ---- schemes and amounts ------------------------------------------------------------------------------------


def month_start(on: dt.date) -> dt.date:
    return on.replace(day=1)


def eligible_months(year: int, start_month: dt.date, end_date: dt.date | None) -> list[int]:
    """Months of ``year`` paid: those whose first day lies within the enrollment.

    The enrollment starts on the first of its start month; the month in which it ends is paid
    if the end falls on or after its first day (a death on 10 June: June is paid, July is not).
    """
    out = []
    for m in range(1, 13):
        first = dt.date(year, m, 1)
        if first < month_start(start_month):
            continue
        if end_date is not None and first > end_date:
            break
        out.append(m)
    return out


@dataclass(frozen=True)
class StandardSpan:
    valid_from: dt.date
    valid_to: dt.date | None
    attribute: str
    amount: Decimal

    def covers(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


def standard_on(spans: Sequence[StandardSpan], attribute: str, on: dt.date) -> Decimal | None:
    """The amount in force on ``on`` for ``attribute`` (falling back to the scheme's plain standard)."""
    fallback = None
    for span in spans:
        if span.covers(on):
            if span.attribute == attribute:
                return span.amount
            if span.attribute == "":
                fallback = span.amount
    return fallback


def standard_range_problem(
    existing: Sequence[StandardSpan], new_from: dt.date, new_to: dt.date | None, attribute: str
) -> str | None:
    """Why a new range for ``attribute`` cannot join ``existing``: an overlap or a gap, or None.

    An open-ended current standard is not an overlap: services close it the day before the new
    one starts (a raise from July ends the old standard on 30 June). Ranges must then follow
    each other without a gap.
    """
    if new_to is not None and new_to < new_from:
        return _("截止日期早于起始日期")
    same = sorted((s for s in existing if s.attribute == attribute), key=lambda s: s.valid_from)
    if not same:
        return None
    for span in same:
        if span.valid_from >= new_from:
            return _("与已有标准重叠：已有标准自%(date)s起施行") % {"date": span.valid_from.isoformat()}
    last = same[-1]
    if last.valid_to is None:
        return None  # closed by the service on new_from - 1 day
    if last.valid_to >= new_from:
        return _("与已有标准重叠：已有标准施行至%(date)s") % {"date": last.valid_to.isoformat()}
    if last.valid_to + dt.timedelta(days=1) != new_from:
        return _("与上一标准之间有空档：上一标准施行至%(end)s，新标准应自%(next)s起") % {
            "end": last.valid_to.isoformat(),
            "next": (last.valid_to + dt.timedelta(days=1)).isoformat(),
        }
    return None


@dataclass(frozen=True)
class Due:
    """What one enrollment is owed for a year: months, amount and how it was worked out."""

    months: tuple[int, ...]
    amount: Decimal
    pieces: tuple[tuple[Decimal, int], ...]  # (standard, months at it), in month order
    missing_months: tuple[int, ...] = ()  # eligible months with no standard in force

    @property
    def detail(self) -> str:
        return describe_pieces(self.pieces)


def describe_pieces(pieces: Iterable[tuple[Decimal, int]], *, per: str = "月") -> str:
    """((520, 12),) -> '520元/月×12月'; a one-off piece (months 0) -> '82510元'."""
    parts = []
    for amount, months in pieces:
        if months:
            parts.append(_("%(a)s元/%(per)s×%(m)s%(per)s") % {"a": money(amount), "m": months, "per": per})
        else:
            parts.append(_("%(a)s元") % {"a": money(amount)})
    return "+".join(parts)


def _group(values: Iterable[Decimal]) -> tuple[tuple[Decimal, int], ...]:
    out: list[list[Decimal | int]] = []
    for v in values:
        if out and out[-1][0] == v:
            out[-1][1] = int(out[-1][1]) + 1
        else:
            out.append([v, 1])
    return tuple((Decimal(a), int(n)) for a, n in out)


def amount_due(
    *,
    period: str,
    spans: Sequence[StandardSpan],
    attribute: str,
    year: int,
    start_month: dt.date,
    end_date: dt.date | None,
    paid_before: bool = False,
) -> Due:
    """The amount due to one enrollment for ``year`` under the standards ``spans``.

    monthly: the sum over eligible months of the standard in force on the month's first day;
    yearly: the standard of the first eligible month, once, if any month is eligible;
    one_time: the standard of the start month, in the start year only, unless ``paid_before``.
    """
    months = eligible_months(year, start_month, end_date)
    if period == "monthly":
        values: list[Decimal] = []
        missing = []
        paid = []
        for m in months:
            v = standard_on(spans, attribute, dt.date(year, m, 1))
            if v is None:
                missing.append(m)
            else:
                values.append(v)
                paid.append(m)
        return Due(tuple(paid), sum(values, Decimal(0)), _group(values), tuple(missing))
    if period == "yearly":
        if not months:
            return Due((), Decimal(0), ())
        v = standard_on(spans, attribute, dt.date(year, months[0], 1))
        if v is None:
            return Due((), Decimal(0), (), (months[0],))
        return Due(tuple(months), v, ((v, 0),))
    if period == "one_time":
        if paid_before or start_month.year != year or not months:
            return Due((), Decimal(0), ())
        v = standard_on(spans, attribute, month_start(start_month))
        if v is None:
            return Due((), Decimal(0), (), (start_month.month,))
        return Due((start_month.month,), v, ((v, 0),))
    raise ValueError(period)


@dataclass(frozen=True)
class BackPay:
    amount: Decimal
    months: int
    detail: str


def back_pay(*, paid: Sequence[tuple[int, Decimal]], due: Sequence[tuple[int, Decimal]]) -> BackPay:
    """Difference, month by month, between what was applied for and what is due now.

    ``paid`` and ``due`` are (month, amount) pairs (month 0 for a yearly or one-time payment).
    Seed 000: 520 applied, 630 due for July–December -> 110元/月×6月 = 660 per person.
    """
    paid_by = dict(paid)
    due_by = dict(due)
    diffs = []
    for m in sorted(set(paid_by) | set(due_by)):
        d = due_by.get(m, Decimal(0)) - paid_by.get(m, Decimal(0))
        if d:
            diffs.append((m, d))
    total = sum((d for _m, d in diffs), Decimal(0))
    monthly = [d for m, d in diffs if m]
    pieces = list(_group(monthly)) + [(d, 0) for m, d in diffs if not m]
    return BackPay(total, len(monthly), describe_pieces(pieces))


def month_amounts(period: str, due: Due) -> list[tuple[int, Decimal]]:
    """A Due spread by month (month 0 holds a yearly or one-time payment), for back-pay comparison."""
    if period != "monthly":
        return [(0, due.amount)] if due.amount else []
    out = []
    months = iter(due.months)
    for amount, n in due.pieces:
        for _i in range(n):
            out.append((next(months), amount))
    return out


def money(value: Decimal | int) -> str:
    """106080.00 -> '106080'; 12.5 -> '12.50' (the seed writes whole yuan without separators)."""
    d = Decimal(value)
    if d == d.to_integral_value():
        return str(int(d))
    return f"{d:.2f}"
