"""Database helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q

MAX_CHAR = chr(0x10FFFF)


def prefix_q(field: str, value: str) -> Q:
    """Rows whose ``field`` starts with ``value``, served by an index on both databases.

    SQLite's LIKE is case-insensitive and cannot use a plain index, so there we ask for the
    equivalent range; PostgreSQL uses LIKE with a pattern-ops index.
    """
    if connection.vendor == "sqlite":
        return Q(**{f"{field}__gte": value, f"{field}__lt": value + MAX_CHAR})
    return Q(**{f"{field}__startswith": value})
