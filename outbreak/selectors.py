"""Reads of outbreak response: scoped querysets, today's follow-up work, the daily counts and the
upper level's daily table (completeness and timeliness)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from core.scoping import scoped
from orgunits.models import Level, OrgUnit
from outbreak import rules
from outbreak.models import (
    Alert,
    CheckpointEntry,
    DailyReport,
    Event,
    ExpectedReporter,
    Finding,
    FollowUp,
    Measure,
    PersonKind,
    Screening,
    TrackingStatus,
)

if TYPE_CHECKING:
    from accounts.models import User


def _in(unit: OrgUnit, prefix: str = "unit__") -> Q:
    return Q(**{f"{prefix}path__gte": unit.path, f"{prefix}path__lt": unit.path_end})


def events_for(user: User) -> QuerySet[Event]:
    """Events declared in the user's subtree or above it (a community works under the district's event)."""
    root = user.org_unit
    if root is None:
        return Event.objects.all() if user.is_superuser else Event.objects.none()
    ancestors = [int(seg) for seg in root.path.strip("/").split("/") if seg]
    return Event.objects.filter(Q(unit_id__in=ancestors) | _in(root)).select_related("unit")


def screenings_for(user: User) -> QuerySet[Screening]:
    return scoped(Screening.objects.all(), user).select_related("unit", "event")


def alerts_for(user: User) -> QuerySet[Alert]:
    return scoped(Alert.objects.all(), user, "screening__unit").select_related("screening", "screening__unit")


def entries_for(user: User) -> QuerySet[CheckpointEntry]:
    return scoped(CheckpointEntry.objects.all(), user, "checkpoint__unit").select_related("checkpoint")


def reports_for(user: User) -> QuerySet[DailyReport]:
    return scoped(DailyReport.objects.all(), user).select_related("unit", "submitted_by")


def under_measure(event: Event, unit: OrgUnit, on: dt.date) -> QuerySet[Screening]:
    """People under a measure on a date: tracking (or released later) with start <= date < end."""
    return (
        Screening.objects.filter(_in(unit), event=event, measure_start__lte=on)
        .filter(
            Q(status=TrackingStatus.TRACKING, measure_end__isnull=True)
            | Q(status=TrackingStatus.TRACKING, measure_end__gt=on)
            | Q(status=TrackingStatus.RELEASED, released_on__gt=on)
        )
        .exclude(measure=Measure.NONE)
    )


@dataclass
class DueCheck:
    screening: Screening
    done: dict[str, FollowUp]
    due: list[str]
    days_not_seen: int

    @property
    def missing(self) -> list[str]:
        return [slot for slot in self.due if slot not in self.done]


def follow_ups_due(user: User, event: Event, on: dt.date, *, unit: OrgUnit | None = None) -> list[DueCheck]:
    """Today's checks for the people a user follows: what is done, what is missing, who is overdue."""
    qs = screenings_for(user).filter(event=event, status=TrackingStatus.TRACKING)
    if unit is not None:
        qs = qs.filter(_in(unit))
    people = list(qs.order_by("unit__path", "name"))
    done: dict[int, dict[str, FollowUp]] = defaultdict(dict)
    for f in FollowUp.objects.filter(screening__in=[p.pk for p in people], date=on):
        done[f.screening_id][f.slot] = f
    last_dates = dict(
        FollowUp.objects.filter(screening__in=[p.pk for p in people])
        .order_by()
        .values("screening_id")
        .annotate(d=Max("date"))
        .values_list("screening_id", "d")
    )
    return [
        DueCheck(
            screening=p,
            done=done.get(p.pk, {}),
            due=rules.slots_due(on, start=p.measure_start, end=p.measure_end, tracking=True),
            days_not_seen=rules.days_not_seen(last_dates.get(p.pk), p.measure_start, on),
        )
        for p in people
    ]


def daily_counts(event: Event, unit: OrgUnit, on: dt.date) -> dict[str, int]:
    """The figures of a daily report, computed from the ledgers (keys documented in docs/outbreak.md)."""
    screened = Screening.objects.filter(_in(unit), event=event)
    first_found = Finding.objects.filter(screening__in=screened).values("screening_id").annotate(first=Min("found_on"))
    new_today = sum(1 for row in first_found if row["first"] == on)
    cumulative = sum(1 for row in first_found if row["first"] <= on)
    measures = dict(
        under_measure(event, unit, on).values("measure").annotate(n=Count("id")).values_list("measure", "n")
    )
    alerts = Alert.objects.filter(screening__in=screened, raised_at__date=on)
    return {
        "new_screened": new_today,
        "screened_total": cumulative,
        "central_quarantine": measures.get(Measure.CENTRAL_QUARANTINE, 0),
        "home_quarantine": measures.get(Measure.HOME_QUARANTINE, 0),
        "health_monitoring": measures.get(Measure.HEALTH_MONITORING, 0),
        "released": screened.filter(released_on=on).count(),
        "alerts": alerts.exclude(kind="not_seen").count(),
        "fever": alerts.filter(kind="fever").count(),
        "close_contacts": screened.filter(person_kind=PersonKind.CLOSE_CONTACT, arrival_date__lte=on).count(),
    }


def expected_reporters(event: Event, unit: OrgUnit, on: dt.date) -> list[OrgUnit]:
    """Units expected to report on a date within ``unit``: every active community of the event's
    subtree, plus the units the upper level named."""
    base = OrgUnit.objects.filter(_in(event.unit, ""), _in(unit, ""))
    communities = base.filter(level=Level.COMMUNITY).filter(Q(retired_on__isnull=True) | Q(retired_on__gt=on))
    named = base.filter(pk__in=ExpectedReporter.objects.filter(event=event, since__lte=on).values("unit_id"))
    return list((communities | named).distinct().order_by("path"))


@dataclass
class ReportRow:
    unit: OrgUnit
    status: str  # on_time / late / missing
    report: DailyReport | None


@dataclass
class ReportTable:
    date: dt.date
    rows: list[ReportRow]
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def expected(self) -> int:
        return len(self.rows)

    @property
    def received(self) -> int:
        return sum(1 for r in self.rows if r.report is not None)

    @property
    def on_time(self) -> int:
        return sum(1 for r in self.rows if r.status == "on_time")

    @property
    def completeness(self) -> Any:
        return rules.rate(self.received, self.expected)

    @property
    def timeliness(self) -> Any:
        return rules.rate(self.on_time, self.expected)


def report_table(event: Event, unit: OrgUnit, on: dt.date) -> ReportTable:
    """The upper level's view of a day: each expected unit on time, late or missing; the summed counts.

    Timeliness is judged on the first version (a correction does not make a late report on time);
    the figures are those of the latest version.
    """
    units = expected_reporters(event, unit, on)
    reports = DailyReport.objects.filter(event=event, date=on, unit_id__in=[u.pk for u in units]).order_by("version")
    first: dict[int, DailyReport] = {}
    latest: dict[int, DailyReport] = {}
    for r in reports:
        first.setdefault(r.unit_id, r)
        latest[r.unit_id] = r
    tz = timezone.get_current_timezone()
    rows = []
    totals: dict[str, int] = defaultdict(int)
    for u in units:
        f = first.get(u.pk)
        status = rules.report_timeliness(f.submitted_at if f else None, on, event.report_deadline, tz)
        report = latest.get(u.pk)
        rows.append(ReportRow(u, status, report))
        if report is not None:
            for k, v in report.counts.items():
                totals[k] += int(v)
    return ReportTable(on, rows, dict(totals))


@dataclass
class Quarantine:
    households: int
    people: int


def quarantine_now(event: Event, unit: OrgUnit, on: dt.date, measure: str) -> Quarantine:
    """People under a measure on a date and their households (residents by household, visitors by address)."""
    people = list(under_measure(event, unit, on).filter(measure=measure).values_list("household_id", "address"))
    homes = {f"h{h}" if h else f"a{a or i}" for i, (h, a) in enumerate(people)}
    return Quarantine(households=len(homes), people=len(people))


def measures_by_day(event: Event, unit: OrgUnit, start: dt.date, end: dt.date) -> dict[str, list[int]]:
    """People under each measure on each day of [start, end], for the dashboard chart."""
    rows = list(
        Screening.objects.filter(_in(unit), event=event)
        .exclude(measure=Measure.NONE)
        .values_list("measure", "measure_start", "measure_end", "status", "released_on", "status_since")
    )
    days = (end - start).days + 1
    out: dict[str, list[int]] = {
        str(m): [0] * days for m in (Measure.CENTRAL_QUARANTINE, Measure.HOME_QUARANTINE, Measure.HEALTH_MONITORING)
    }
    for measure, s, e, status, released, since in rows:
        stop = released if status == TrackingStatus.RELEASED else e
        if status in (TrackingStatus.TRANSFERRED, TrackingStatus.LOST, TrackingStatus.NOT_REQUIRED):
            stop = since if stop is None else min(stop, since)
        for k in range(days):
            d = start + dt.timedelta(days=k)
            if s <= d and (stop is None or d < stop):
                out[measure][k] += 1
    return out
