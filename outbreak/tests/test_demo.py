"""The demo street's 疫情防控 ledgers: consistent, and seed 004's snapshot in 龙兴社区."""

import datetime as dt
import io
from collections import Counter

import pytest
from django.core.management import call_command

from core.indicators import Period
from orgunits.models import Level, OrgUnit
from outbreak.demo import EVENT_NAME, SNAPSHOT, STARTED
from outbreak.indicators import outbreak
from outbreak.models import CheckpointEntry, DailyReport, Event, Finding, Screening
from outbreak.selectors import daily_counts


@pytest.fixture
def demo(db):
    out = io.StringIO()
    call_command("seed_demo", size=2_000, seed=3, on=dt.date(2022, 12, 31), stdout=out)
    return out.getvalue()


def test_the_demo_event_is_consistent_and_reproduces_seed_004(demo):
    event = Event.objects.get(name=EVENT_NAME)
    assert (event.unit.level, event.started_on, event.risk_areas.count()) == (Level.DISTRICT, STARTED, 11)
    ids = list(Screening.objects.filter(event=event).values_list("id_number", flat=True))
    assert len(ids) == len(set(ids)) > 100
    assert Finding.objects.filter(screening__event=event).count() > len(ids)  # some found twice, merged
    versions = Counter(DailyReport.objects.values_list("unit_id", "date", "version"))
    assert max(versions.values()) == 1
    assert CheckpointEntry.objects.exclude(breach="").exclude(allowed_reason="").count() == 1
    community = OrgUnit.objects.filter(level=Level.COMMUNITY).order_by("path").first()
    figures = outbreak(community, Period(STARTED, SNAPSHOT))
    assert (figures["home_quarantine_households"], figures["home_quarantine_people"]) == (14, 46)
    assert figures["central_quarantine_people"] == 17
    # The reports' counts (computed in bulk by the demo) are what the selectors compute.
    for report in DailyReport.objects.filter(unit=community, date__in=[SNAPSHOT, dt.date(2022, 12, 1)]):
        assert report.counts == daily_counts(event, community, report.date)
    year = outbreak(community.parent, Period(dt.date(2022, 1, 1), dt.date(2022, 12, 31)))
    # Both communities report every day of the autumn event (92 days) and of the spring event the
    # testing demo adds for its March round's quarantines (12 March – 10 April: 30 days).
    assert year["reports_expected"] == 2 * (92 + 30) and 0 < year["reports_received"] < year["reports_expected"]
    assert "疫情防控" in demo


def test_the_demo_history_reads_like_2022(demo):
    """A released person's history: found on the day of the first finding, released on the release day."""
    event = Event.objects.get(name=EVENT_NAME)
    released = Screening.objects.filter(event=event, released_on__isnull=False).order_by("pk").first()
    first_found = min(f.found_on for f in released.findings.all())
    versions = list(released.history.order_by("history_date", "history_id"))
    assert versions[0].history_type == "+" and versions[0].history_date.date() == first_found
    assert versions[-1].released_on == released.released_on
    assert versions[-1].history_date.date() == released.released_on
    assert [v.history_date for v in versions] == sorted(v.history_date for v in versions)
    assert event.history.get(history_type="+").history_date.date() == STARTED
