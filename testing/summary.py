"""The 全员核酸 paragraph of the annual work summary, in the manner of seed 000's "（三）完成多轮全员核酸检测",
and each round's own summary (the round page shows it).

Seed 000 tells the year's first round in full (staff, compounds, sites, tables, people on the list, those
needing no sample by reason, people sampled, sampled at home), then the multi-day rounds that widened the
scope (三天两检: sites, fixed tables, mobile teams, people sampled on each day, staff by role, vehicles),
then the count of rounds. All of it is computed here from the plan, the list and the samples; the seed
hides how many people were missed (应检未检), the records say it. Rounds whose start dates lie within
GROUP_DAYS of each other form one campaign. The wording is in templates/testing/summary_section.md and
templates/testing/round_summary.md.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

import testing.routine.summary  # noqa: F401
from orgunits.models import Level, OrgUnit
from reports.sections import SUMMARY_LANGUAGE, summary_section, tidy
from testing import rules, selectors
from testing.models import Exemption, Round, RoundStaff, SamplingSite, SamplingTable, ShouldSample, TableKind

GROUP_DAYS = 3  # rounds starting within 3 days of the previous one: one campaign (seed: 三天两检)
NUMERALS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals (第一轮, 十二轮, 三天两检)."""
    if n < 10:
        return "两" if n == 2 else NUMERALS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else NUMERALS[tens]
    return head + "十" + (NUMERALS[ones] if ones else "")


def ordinal(n: int) -> str:
    return NUMERALS[n] if n == 2 else chinese_number(n)


def date_text(on: dt.date, *, year: bool = True) -> str:
    return f"{on.year}年{on.month}月{on.day}日" if year else f"{on.month}月{on.day}日"


def span_text(start: dt.date, end: dt.date) -> str:
    return date_text(start) if start == end else f"{date_text(start)}-{date_text(end, year=start.year != end.year)}"


def _in(unit: OrgUnit, prefix: str = "unit__") -> Q:
    return Q(**{f"{prefix}path__gte": unit.path, f"{prefix}path__lt": unit.path_end})


def is_full(round_: Round) -> bool:
    """A round of the whole unit (全员): its scope covers every community of the organising unit active on its
    first day. A round of some communities only (a targeted check, a locked-down community) is partial."""
    scope = list(round_.scope_units.all())
    communities = OrgUnit.objects.filter(
        _in(round_.unit, ""), level=Level.COMMUNITY, established_on__lte=round_.starts_on
    )
    communities = communities.filter(Q(retired_on__isnull=True) | Q(retired_on__gt=round_.starts_on))
    paths = list(communities.values_list("path", flat=True))
    if round_.unit.level == Level.COMMUNITY:
        paths = [round_.unit.path]
    return bool(scope) and all(any(p.startswith(s.path) for s in scope) for p in paths)


def full_rounds_before(round_: Round) -> int:
    same_year = Round.objects.filter(unit=round_.unit, starts_on__year=round_.starts_on.year).filter(
        Q(starts_on__lt=round_.starts_on) | Q(starts_on=round_.starts_on, pk__lt=round_.pk)
    )
    return sum(1 for r in same_year.prefetch_related("scope_units") if is_full(r))


def round_facts(round_: Round, within: OrgUnit | None = None) -> dict[str, Any]:
    """A round's figures for the summaries: the plan (of the sites in ``within``), the list, the samples."""
    part = within if within is not None and not round_.unit.is_within(within) else None
    sites = SamplingSite.objects.filter(round=round_, retired_at__isnull=True)
    if part is not None:
        sites = sites.filter(_in(part))
    site_list = list(sites)
    tables = Counter(
        SamplingTable.objects.filter(site__in=site_list, retired_at__isnull=True).values_list("kind", flat=True)
    )
    staff = RoundStaff.objects.filter(round=round_, retired_at__isnull=True)
    if part is not None:
        staff = staff.filter(site__in=site_list)
    tally = selectors.round_total(round_, part)
    extras = ShouldSample.objects.filter(round=round_, resident__isnull=True).exclude(exemption_note=selectors.WALK_IN)
    if part is not None:
        extras = extras.filter(_in(part))
    kinds = Counter(k for k in extras.values_list("workplace_kind", flat=True) if k)
    workers = sum(kinds.values())
    full = is_full(round_)
    number = full_rounds_before(round_) + 1 if full else 0
    return {
        "round": round_,
        "unit_name": (part or round_.unit).name,
        "dates": span_text(round_.starts_on, round_.ends_on),
        "day": date_text(round_.starts_on, year=False),
        "ordinal": ordinal(number) if full else "",
        "number": number,
        "full": full,
        "scope_names": "、".join(u.name for u in round_.scope_units.all()),
        "round_name": round_.name,
        "staff": rules.staff_totals(staff.values_list("role", "vehicle_plate")),
        "compounds": len({rules.compound_of(s.location) for s in site_list if s.location.strip()}),
        "sites": len(site_list),
        "fixed": tables.get(TableKind.FIXED, 0),
        "mobile": tables.get(TableKind.MOBILE, 0),
        "tally": tally,
        "reasons": [
            {"label": str(Exemption(r).label), "n": tally.exempt.get(r, 0)}
            for r in (*rules.EXEMPTION_ORDER, Exemption.OTHER)
            if tally.exempt.get(r, 0)
        ],
        "extras": extras.count(),
        "workers": workers,
        "kinds": "、".join(k for k, _n in kinds.most_common()),
    }


def round_paragraph(round_: Round, within: OrgUnit | None = None) -> str:
    """The round told in seed 000's words (always Chinese: it goes into the office's documents)."""
    with translation.override(SUMMARY_LANGUAGE):
        return tidy(render_to_string("testing/round_summary.md", {"f": round_facts(round_, within)}))


def campaigns(rounds: list[Round]) -> list[list[Round]]:
    """Rounds grouped into campaigns: a round starting within GROUP_DAYS of the previous one joins it."""
    out: list[list[Round]] = []
    for r in sorted(rounds, key=lambda r: (r.starts_on, r.pk)):
        if out and (r.starts_on - out[-1][-1].starts_on).days <= GROUP_DAYS:
            out[-1].append(r)
        else:
            out.append([r])
    return out


def rounds_of_year(unit: OrgUnit, year: int) -> list[Round]:
    """Rounds of the year whose scope includes the unit, part of it, or a unit above it."""
    return list(selectors.rounds_touching(unit).filter(starts_on__year=year).order_by("starts_on", "id"))


@summary_section(
    "testing",
    order=25,
    title=gettext_lazy("完成多轮全员核酸检测"),
    template="testing/summary_section.md",
)
def testing_section(unit: OrgUnit, year: int) -> dict[str, Any] | None:
    today = timezone.localdate()
    rounds = [r for r in rounds_of_year(unit, year) if r.starts_on <= today]
    if not rounds:
        return None
    full = {r.pk for r in rounds if is_full(r)}
    first = next((r for r in rounds if r.pk in full), rounds[0])
    first_facts = round_facts(first, unit)
    groups = campaigns([r for r in rounds if r.pk in full and r.pk != first.pk])
    multi = []
    for group in groups:
        if len(group) < 2:
            continue
        facts = [round_facts(r, unit) for r in group]
        lead = facts[0]
        days = (max(r.ends_on for r in group) - group[0].starts_on).days + 1
        multi.append(
            {
                "dates": span_text(group[0].starts_on, max(r.ends_on for r in group)),
                "days_list": "和".join(f["day"] for f in facts),
                "sampled_list": "和".join(str(f["tally"].sampled) for f in facts),
                "lead": lead,
                "wider": lead["workers"] > first_facts["workers"],
                "more_sites": lead["sites"] > first_facts["sites"],
                "pattern": f"{chinese_number(days)}天{chinese_number(len(group))}检",
                "missed": sum(f["tally"].missed for f in facts),
            }
        )
    in_groups = {r.pk for g in groups if len(g) >= 2 for r in g}
    others = [r for r in rounds if r.pk not in in_groups and r.pk != first.pk]
    months = sorted({(r.starts_on.month) for r in others})
    return {
        "first": first_facts,
        "multi": multi,
        "others": len(others),
        "other_months": "、".join(f"{m}月" for m in months),
        "rounds": len(rounds),
        "rounds_text": chinese_number(len(rounds)) if len(rounds) < 100 else str(len(rounds)),
    }
