"""The 疫情防控 section of the annual work summary, in the manner of seed 000's "疫情防控方面".

Only sentences whose figures come from the records: the year's events, people screened (and the
duplicates merged), people under each measure at any time in the year, releases, alerts, checkpoints
and their register, the daily reports with their completeness and timeliness. A figure of zero
drops its clause. The wording is in templates/outbreak/summary_section.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.indicators import Period
from orgunits.models import OrgUnit
from outbreak.indicators import events_in, report_figures, screened_in
from outbreak.models import (
    Alert,
    AlertKind,
    Checkpoint,
    CheckpointEntry,
    Direction,
    Finding,
    Measure,
    Screening,
    TrackingStatus,
)
from reports.sections import summary_section


def _in(unit: OrgUnit, prefix: str = "unit__") -> Q:
    return Q(**{f"{prefix}path__gte": unit.path, f"{prefix}path__lt": unit.path_end})


@dataclass
class MeasureYear:
    households: int = 0
    people: int = 0


def measures_in_year(screenings: Any, period: Period) -> dict[str, MeasureYear]:
    """People under each measure on at least one day of the period (households: residents by household,
    visitors by address, as selectors.quarantine_now counts them)."""
    out: dict[str, MeasureYear] = {
        str(m): MeasureYear() for m in (Measure.CENTRAL_QUARANTINE, Measure.HOME_QUARANTINE, Measure.HEALTH_MONITORING)
    }
    homes: dict[str, set[str]] = {m: set() for m in out}
    rows = screenings.exclude(measure=Measure.NONE).values_list(
        "pk",
        "measure",
        "measure_start",
        "measure_end",
        "status",
        "released_on",
        "status_since",
        "household_id",
        "address",
    )
    for pk, measure, start, end, status, released, since, household, address in rows:
        if status == TrackingStatus.NOT_REQUIRED:
            continue  # over before it was found: never under the measure
        stop: dt.date | None = released if status == TrackingStatus.RELEASED else end
        if status in (TrackingStatus.TRANSFERRED, TrackingStatus.LOST):
            stop = since if stop is None else min(stop, since)
        if start > period.end or (stop is not None and stop <= period.start):
            continue
        out[measure].people += 1
        homes[measure].add(f"h{household}" if household else f"a{address or pk}")
    for measure, keys in homes.items():
        out[measure].households = len(keys)
    return out


def _date(on: dt.date) -> str:
    return f"{on.year}年{on.month}月{on.day}日"


@summary_section("outbreak", order=20, title=gettext_lazy("疫情防控方面"), template="outbreak/summary_section.md")
def outbreak_section(unit: OrgUnit, year: int) -> dict[str, Any] | None:
    period = Period.year(year, today=timezone.localdate())
    events = events_in(unit, period)
    if not events:
        return None
    screened = screened_in(unit, events, period)
    people = screened.count()
    findings = Finding.objects.filter(screening__in=screened).count()
    kinds = dict(screened.values_list("person_kind").annotate(n=Count("id")).order_by())
    in_events = Screening.objects.filter(_in(unit), event__in=events)
    measures = measures_in_year(in_events, period)
    released = in_events.filter(released_on__gte=period.start, released_on__lte=period.end)
    alerts = Alert.objects.filter(
        screening__in=in_events, raised_at__date__gte=period.start, raised_at__date__lte=period.end
    )
    alert_counts = dict(alerts.values_list("kind").annotate(n=Count("id")).order_by())
    checkpoints = Checkpoint.objects.filter(_in(unit), event__in=events)
    entries = CheckpointEntry.objects.filter(
        checkpoint__in=checkpoints, at__date__gte=period.start, at__date__lte=period.end
    )
    reports = report_figures(unit, events, period)
    context = {
        "events": [
            {
                "name": e.name,
                "disease": e.disease,
                "started": _date(e.started_on),
                "ended": e.ended_on and _date(e.ended_on),
            }
            for e in events
        ],
        "screened": people,
        "merged": findings - people,
        "close_contacts": kinds.get("close_contact", 0),
        "central": measures[Measure.CENTRAL_QUARANTINE],
        "home": measures[Measure.HOME_QUARANTINE],
        "monitoring": measures[Measure.HEALTH_MONITORING],
        "released": released.count(),
        "notices": released.exclude(notice_number="").count(),
        "lost": in_events.filter(status=TrackingStatus.LOST, status_since__range=(period.start, period.end)).count(),
        "transferred": in_events.filter(
            status=TrackingStatus.TRANSFERRED, status_since__range=(period.start, period.end)
        ).count(),
        "fever": alert_counts.get(AlertKind.FEVER, 0),
        "symptom": alert_counts.get(AlertKind.SYMPTOM, 0),
        "not_seen": alert_counts.get(AlertKind.NOT_SEEN, 0),
        "alerts_handled": alerts.filter(handled_at__isnull=False).count(),
        "alerts_total": alerts.count(),
        "checkpoints": checkpoints.count(),
        "crossings": entries.filter(plate="").count(),
        "vehicles": entries.exclude(plate="").filter(direction=Direction.IN).count(),
        "breaches": entries.exclude(breach="").count(),
        "reports": reports,
        "completeness": reports.completeness,
        "timeliness": reports.timeliness,
    }
    context["headings"] = _headings(context)
    return context


CHINESE_NUMBERS = "一二三四五六七八九十"


def _headings(c: dict[str, Any]) -> dict[str, str]:
    """The seed's "（一）…" sub-headings, numbered over the parts that have something to say."""
    parts = [
        ("screening", gettext_lazy("重点人员摸排和管控"), c["screened"] or any(m.people for m in _measures(c))),
        ("follow_up", gettext_lazy("随访和预警处置"), c["alerts_total"]),
        ("checkpoints", gettext_lazy("卡口值守和出入登记"), c["checkpoints"]),
        ("reports", gettext_lazy("日报告和零报告"), c["reports"].expected),
    ]
    out: dict[str, str] = {}
    for name, title, present in parts:
        if present:
            out[name] = f"（{CHINESE_NUMBERS[len(out)]}）{title}"
    return out


def _measures(c: dict[str, Any]) -> list[MeasureYear]:
    return [c["central"], c["home"], c["monitoring"]]
