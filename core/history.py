"""Point-in-time reads over django-simple-history tables.

Creations are stamped with the date the record became true (a unit's
establishment, a resident's arrival), later changes with the moment they were
recorded, so "the latest version at or before D" is the state on date D.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.utils import timezone


def end_of_day(on: dt.date) -> dt.datetime:
    """The first instant after ``on`` in the project's time zone."""
    return timezone.make_aware(dt.datetime.combine(on + dt.timedelta(days=1), dt.time.min))


def start_of_day(on: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(on, dt.time.min))


def latest_versions_qs(history_model: type[Model], on: dt.date) -> QuerySet[Any]:
    cutoff = end_of_day(on)
    manager = history_model._default_manager
    later = manager.filter(id=OuterRef("id"), history_date__lt=cutoff).filter(
        Q(history_date__gt=OuterRef("history_date"))
        | Q(history_date=OuterRef("history_date"), history_id__gt=OuterRef("history_id"))
    )
    return manager.filter(history_date__lt=cutoff).filter(~Exists(later)).exclude(history_type="-")


def latest_versions(history_model: type[Model], on: dt.date, *, fields: list[str]) -> dict[int, dict[str, Any]]:
    rows = latest_versions_qs(history_model, on).values(*fields)
    return {row["id"]: row for row in rows}


def changed_since(history_model: type[Model], on: dt.date) -> bool:
    return history_model._default_manager.filter(history_date__gte=end_of_day(on)).exists()
