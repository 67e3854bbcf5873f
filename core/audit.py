"""Stamping who/why/when on simple-history versions written by services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Model


def stamp(instance: Model, *, by: Any | None, reason: str = "", when: dt.datetime | None = None) -> None:
    obj: Any = instance
    if by is not None:
        obj._history_user = by
    if reason:
        obj._change_reason = reason
    if when is not None:
        obj._history_date = when
