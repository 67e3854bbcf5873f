"""Background jobs of outbreak response (django.tasks; the db_worker runs them beside the web server)."""

from __future__ import annotations

import datetime as dt

from django.tasks import task

from outbreak import services
from outbreak.models import Event, EventStatus


def flag_all(today: dt.date | None = None) -> dict[str, int]:
    """services.flag_not_seen for every active event: {event name: alerts raised}."""
    return {
        event.name: services.flag_not_seen(event=event, today=today)
        for event in Event.objects.filter(status=EventStatus.ACTIVE).order_by("id")
    }


@task()
def flag_not_seen_daily(today: str | None = None) -> dict[str, int]:
    # Arguments of a task must be JSON: the date travels as ISO text.
    return flag_all(dt.date.fromisoformat(today) if today else None)
