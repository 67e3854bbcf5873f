"""疫情防控 figures for `manage.py indicators`, the API and the work summary (keys in docs/indicators.md).

Everything is counted for the unit's subtree over the events that concern it in the period: events
declared in the subtree or by a unit above it (a community works under the district's event) that
were active on at least one day of the period. Flows are counted over the period, stocks (people
under a measure now) on its end. The daily-report figures sum the upper level's daily table
(selectors.report_table's rules) over the event's days in the period.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from core.indicators import Period, indicator_provider
from orgunits.models import OrgUnit
from outbreak import rules
from outbreak.models import (
    Alert,
    AlertKind,
    CheckpointEntry,
    DailyReport,
    Event,
    Finding,
    Measure,
    PersonKind,
    Screening,
)
from outbreak.selectors import expected_reporters, quarantine_now, under_measure
from registry.models import LivingStatus


def _in(unit: OrgUnit, prefix: str = "unit__") -> Q:
    return Q(**{f"{prefix}path__gte": unit.path, f"{prefix}path__lt": unit.path_end})


def events_in(unit: OrgUnit, period: Period) -> list[Event]:
    """Events declared in the unit's subtree or above it, active on at least one day of the period."""
    ancestors = [int(seg) for seg in unit.path.strip("/").split("/") if seg]
    return list(
        Event.objects.filter(Q(unit_id__in=ancestors) | _in(unit))
        .filter(started_on__lte=period.end)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=period.start))
        .order_by("started_on", "id")
    )


def event_days(event: Event, period: Period) -> list[dt.date]:
    """The days of the period on which the event was running (its daily reports were due)."""
    first = max(period.start, event.started_on)
    last = min(period.end, event.ended_on or period.end)
    return [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]


def screened_in(unit: OrgUnit, events: list[Event], period: Period) -> QuerySet[Screening]:
    """People first found in the period (a merged duplicate is one screening, found twice)."""
    first = (
        Finding.objects.filter(screening__event__in=events)
        .filter(_in(unit, "screening__unit__"))
        .values("screening_id")
        .annotate(first=Min("found_on"))
        .filter(first__gte=period.start, first__lte=period.end)
        .values("screening_id")
    )
    return Screening.objects.filter(pk__in=first)


@dataclass
class ReportFigures:
    expected: int = 0
    received: int = 0
    on_time: int = 0
    zero: int = 0

    @property
    def completeness(self) -> Any:
        return rules.rate(self.received, self.expected)

    @property
    def timeliness(self) -> Any:
        return rules.rate(self.on_time, self.expected)


def report_figures(unit: OrgUnit, events: list[Event], period: Period) -> ReportFigures:
    """Daily reports expected, received (zero ones among them) and on time, over the events' days.

    As in the daily table: one expected report per expected unit and day; timeliness is judged on
    the first version against the event's deadline; corrections do not count twice.
    """
    out = ReportFigures()
    tz = timezone.get_current_timezone()
    for event in events:
        days = event_days(event, period)
        if not days:
            continue
        first: dict[tuple[int, dt.date], DailyReport] = {}
        for r in (
            DailyReport.objects.filter(event=event, date__gte=days[0], date__lte=days[-1])
            .filter(_in(unit))
            .order_by("version")
        ):
            first.setdefault((r.unit_id, r.date), r)
        for day in days:
            for u in expected_reporters(event, unit, day):
                out.expected += 1
                report = first.get((u.pk, day))
                if report is None:
                    continue
                out.received += 1
                out.zero += report.is_zero
                if rules.report_timeliness(report.submitted_at, day, event.report_deadline, tz) == "on_time":
                    out.on_time += 1
    return out


def _percent(value: Any) -> float | None:
    return None if value is None else float(value)


@indicator_provider("outbreak", period=True)
def outbreak(unit: OrgUnit, period: Period) -> dict[str, Any]:
    events = events_in(unit, period)
    screened = screened_in(unit, events, period)
    floating = screened.filter(Q(person__isnull=True) | Q(person__living_status=LivingStatus.FLOATING))
    home_households = home_people = 0
    now: dict[str, int] = defaultdict(int)
    for event in events:
        home = quarantine_now(event, unit, period.end, Measure.HOME_QUARANTINE)
        home_households += home.households
        home_people += home.people
        for measure in (Measure.CENTRAL_QUARANTINE, Measure.HEALTH_MONITORING):
            now[measure] += under_measure(event, unit, period.end).filter(measure=measure).count()
    in_events = Screening.objects.filter(_in(unit), event__in=events)
    alerts = Alert.objects.filter(
        screening__in=in_events, raised_at__date__gte=period.start, raised_at__date__lte=period.end
    )
    entries = CheckpointEntry.objects.filter(
        _in(unit, "checkpoint__unit__"),
        checkpoint__event__in=events,
        at__date__gte=period.start,
        at__date__lte=period.end,
    )
    reports = report_figures(unit, events, period)
    return {
        "screened": screened.count(),
        "screened_floating": floating.count(),
        "home_quarantine_households": home_households,
        "home_quarantine_people": home_people,
        "central_quarantine_people": now[Measure.CENTRAL_QUARANTINE],
        "health_monitoring_people": now[Measure.HEALTH_MONITORING],
        "released": in_events.filter(released_on__gte=period.start, released_on__lte=period.end).count(),
        "fever_alerts": alerts.filter(kind=AlertKind.FEVER).count(),
        "close_contacts": screened.filter(person_kind=PersonKind.CLOSE_CONTACT).count(),
        "checkpoint_crossings": entries.count(),
        "checkpoint_breaches": entries.exclude(breach="").count(),
        "reports_expected": reports.expected,
        "reports_received": reports.received,
        "reports_on_time": reports.on_time,
        "report_completeness_percent": _percent(reports.completeness),
        "report_timeliness_percent": _percent(reports.timeliness),
    }
