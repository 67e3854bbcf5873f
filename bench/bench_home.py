"""Home-page figures for a street of 100,000 residents (goal: under 300 ms).

    .venv/bin/python bench/bench_home.py [--backend sqlite|postgres | --database-url URL] [--size 100000] [--runs 30]

Generates the demo street with seed_demo into a fresh benchmark database (see common.py), then
times, over ``--runs`` runs each: population_figures + child_figures of the street (the figures
the home page shows), home_figures (the same figures in one grouped pass, which the page uses),
and the whole page through the test client as a street user.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from common import (
    add_database_arguments,
    backend_of,
    database_url,
    migrate_and_seed,
    percentiles,
    recreate,
    report,
    setup_django,
)


def timed(fn: Callable[[], object], runs: int) -> dict[str, float]:
    fn()  # warm the caches once, as a page that has been visited before
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return percentiles(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_database_arguments(parser)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    url = database_url(args)
    recreate(url)
    setup_django(url)
    seed_seconds = migrate_and_seed(args.size)

    from django.test import Client

    from accounts.models import Role, User
    from orgunits.models import Level, OrgUnit
    from registry.selectors import child_figures, home_figures, population_figures

    street = OrgUnit.objects.filter(level=Level.STREET).order_by("path").first()
    assert street is not None
    figures = population_figures(street)
    separate = timed(lambda: (population_figures(street), child_figures(street)), args.runs)
    combined = timed(lambda: home_figures(street), args.runs)
    user = User.objects.create(username="bench", role=Role.STREET_STAFF, org_unit=street)
    client = Client()
    client.force_login(user)

    def page() -> None:
        assert client.get("/").status_code == 200

    whole = timed(page, args.runs)
    backend = backend_of(url)
    report(
        f"home_{backend}",
        {
            "backend": backend,
            "street_residents": figures.residents,
            "street_households": figures.households_occupied,
            "seed_seconds": round(seed_seconds, 1),
            "population_plus_child_figures": separate,
            "home_figures": combined,
            "whole_page": whole,
            "goal": "p95 < 300 ms",
        },
    )


if __name__ == "__main__":
    main()
