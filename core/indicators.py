"""Indicators of a unit's subtree: a registry of providers that each app fills, one JSON-able dict out.

An app registers a provider in its ``<app>/indicators.py``::

    @indicator_provider("population")                 # stocks, counted on a date
    def population(unit: OrgUnit, on: dt.date) -> dict[str, Any]: ...

    @indicator_provider("familyplanning", period=True)  # flows, counted over a period (births in 2022)
    def births(unit: OrgUnit, period: Period) -> dict[str, Any]: ...

Keys come out namespaced (``population.residents``) and must stay stable: reports, the API and
exports read them. Every key is listed in docs/indicators.md. ``indicators`` imports every
installed app's ``indicators`` module, so a new module needs no change here.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps

from orgunits.models import OrgUnit


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both included; stocks are counted on ``end``."""

    start: dt.date
    end: dt.date

    @classmethod
    def year(cls, year: int, *, today: dt.date) -> Period:
        """A calendar year; the current year runs to today (its figures so far)."""
        end = dt.date(year, 12, 31)
        return cls(start=dt.date(year, 1, 1), end=min(end, today) if year == today.year else end)

    @classmethod
    def year_to_date(cls, on: dt.date) -> Period:
        return cls(start=on.replace(month=1, day=1), end=on)


@dataclass(frozen=True)
class Provider:
    namespace: str
    fn: Callable[..., dict[str, Any]]
    takes_period: bool

    def __call__(self, unit: OrgUnit, period: Period) -> dict[str, Any]:
        return self.fn(unit, period) if self.takes_period else self.fn(unit, period.end)


_PROVIDERS: dict[str, Provider] = {}


def indicator_provider(namespace: str, *, period: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn(unit, on)`` (or ``fn(unit, period)`` with period=True) under ``namespace``."""

    def register(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        _PROVIDERS[namespace] = Provider(namespace=namespace, fn=fn, takes_period=period)
        return fn

    return register


def load_providers() -> list[Provider]:
    for config in apps.get_app_configs():
        module = f"{config.name}.indicators"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return [_PROVIDERS[k] for k in sorted(_PROVIDERS)]


def indicators(unit: OrgUnit, period: Period | dt.date) -> dict[str, Any]:
    """Every registered indicator of ``unit``'s subtree, for a period or on a date (its year to date)."""
    if not isinstance(period, Period):
        period = Period.year_to_date(period)
    out: dict[str, Any] = {
        "unit.code": unit.code,
        "unit.name": unit.name,
        "unit.level": unit.level,
        "date": period.end.isoformat(),
        "period.start": period.start.isoformat(),
        "period.end": period.end.isoformat(),
    }
    for provider in load_providers():
        for key, value in provider(unit, period).items():
            out[f"{provider.namespace}.{key}"] = value
    return out
