"""Resident search among 1,000,000 residents (goal: p95 under 100 ms).

    .venv/bin/python bench/bench_search.py [--backend postgres|sqlite | --database-url URL] [--size 1000000]
                                           [--queries 200] [--reuse]

Generates the demo at ``--size`` (one street per 87,213 people, 11 streets at a million) into a
fresh benchmark database named ybz_bench_search (``--reuse`` keeps the one an earlier run made),
then runs random searches through registry.selectors.search_residents as a district user, the way
the resident list does (the total count and the first page of 50): by name prefix (surname and the
first character of the given name) and by the last four digits of the ID number. The report also
keeps the plan of one count of each kind (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN), to
show which index starts it.
"""

from __future__ import annotations

import argparse
import random
import time

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_database_arguments(parser, default_name="ybz_bench_search")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="keep the database of an earlier run")
    args = parser.parse_args()
    url = database_url(args)
    if not args.reuse:
        recreate(url)
    setup_django(url)
    seed_seconds = None if args.reuse else round(migrate_and_seed(args.size), 1)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Role, User
    from orgunits.models import Level, OrgUnit
    from registry.models import Resident
    from registry.selectors import search_residents

    district = OrgUnit.objects.get(level=Level.DISTRICT)
    user, _ = User.objects.get_or_create(username="bench", defaults={"role": Role.DISTRICT_ADMIN, "org_unit": district})
    total = Resident.objects.count()
    present = Resident.objects.filter(left_on__isnull=True).count()
    rng = random.Random(1)
    max_id = Resident.objects.order_by("-id").values_list("id", flat=True).first() or 0
    sample = list(
        Resident.objects.filter(id__in=[rng.randint(1, max_id) for _ in range(args.queries * 2)]).values(
            "name", "id_number"
        )[: args.queries]
    )

    def count_plan(query: str) -> list[str]:
        connection.queries_log.clear()  # full (9,000 queries) after seeding: nothing more would be captured
        with CaptureQueriesContext(connection) as ctx:
            search_residents(user, query).count()
        explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        with connection.cursor() as cursor:
            cursor.execute(explain + ctx.captured_queries[-1]["sql"])
            return [str(row[-1]).strip() for row in cursor.fetchall()]

    def run(query: str) -> tuple[float, int]:
        t = time.perf_counter()
        qs = search_residents(user, query)
        count = qs.count()
        list(qs.select_related("unit", "household")[:50])
        return (time.perf_counter() - t) * 1000, count

    run(sample[0]["name"][:2])  # warm up the connection and caches
    by_name, by_digits, name_hits, digit_hits = [], [], [], []
    for row in sample:
        ms, n = run(row["name"][:2])
        by_name.append(ms)
        name_hits.append(n)
        ms, n = run(row["id_number"][-4:])
        by_digits.append(ms)
        digit_hits.append(n)
    backend = backend_of(url)
    report(
        f"search_{backend}",
        {
            "backend": backend,
            "residents_present": present,
            "residents_rows": total,
            "seed_seconds": seed_seconds,
            "name_prefix": percentiles(by_name),
            "id_last4": percentiles(by_digits),
            "avg_hits_name": round(sum(name_hits) / len(name_hits)),
            "avg_hits_id_last4": round(sum(digit_hits) / len(digit_hits)),
            "plan_name_count": " | ".join(count_plan(sample[0]["name"][:2])),
            "plan_id_last4_count": " | ".join(count_plan(sample[0]["id_number"][-4:])),
            "goal": "p95 < 100 ms",
        },
    )


if __name__ == "__main__":
    main()
