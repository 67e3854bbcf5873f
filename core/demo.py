"""The demo generator: an ordered list of steps that each app contributes (``<app>/demo.py``).

``seed_demo`` imports every installed app's ``demo`` module, then runs the registered steps in
order with one shared context, so later modules (family planning, outbreak …) add their records
to the same street by registering a step.
"""

from __future__ import annotations

import datetime as dt
import importlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps

# Seed 000 (新城街道, 2022): the figures the default demo street reproduces.
SEED_000 = {
    "communities": 11,
    "capacity": 46_465,
    "households": 35_393,
    "residents": 87_213,
    "floating": 13_276,
    "married_women_15_49": 19_692,
    # Vaccination section: 18–59 "总人口65653人", 60+ "摸底人口数9537人".
    "age_18_59": 65_653,
    "age_60_plus": 9_537,
}
# Seed 000 counts "截止2022年末": the demo street is exact on that date, and every module's demo
# records (births, applications, outbreak, testing rounds) are set in 2022 with it.
SEED_000_DATE = dt.date(2022, 12, 31)
MIN_SIZE = 2_000
MAX_SIZE = 1_000_000


@dataclass
class DemoContext:
    size: int
    seed: int
    on: dt.date
    rng: random.Random
    log: Callable[[str], None]
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def factor(self) -> float:
        return self.size / SEED_000["residents"]

    def scaled(self, key: str) -> int:
        """A seed-000 figure scaled to this demo's size (exact at the default size)."""
        return round(SEED_000[key] * self.factor)


def split_quota(total: int, weights: list[int] | list[float]) -> list[int]:
    """``total`` split in proportion to ``weights``, in whole numbers that add up exactly (largest remainder)."""
    if not weights:
        return []
    whole = sum(weights)
    if whole <= 0:
        weights, whole = [1] * len(weights), len(weights)
    exact = [total * w / whole for w in weights]
    parts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (parts[i] - exact[i], i))
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


@dataclass(frozen=True)
class DemoStep:
    name: str
    order: int
    run: Callable[[DemoContext], None]


_STEPS: dict[str, DemoStep] = {}


def demo_step(name: str, *, order: int) -> Callable[[Callable[[DemoContext], None]], Callable[[DemoContext], None]]:
    def register(fn: Callable[[DemoContext], None]) -> Callable[[DemoContext], None]:
        _STEPS[name] = DemoStep(name=name, order=order, run=fn)
        return fn

    return register


def load_steps() -> list[DemoStep]:
    for config in apps.get_app_configs():
        try:
            importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise
    return sorted(_STEPS.values(), key=lambda s: s.order)


def run_demo(*, size: int, seed: int, on: dt.date, log: Callable[[str], None] = print) -> DemoContext:
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE}")
    ctx = DemoContext(size=size, seed=seed, on=on, rng=random.Random(seed), log=log)
    for step in load_steps():
        step.run(ctx)
    return ctx
