"""计生: the annual application of a district with 20,000 beneficiaries (goal: under 5 s) and the
计生 statistics of a district of 1,000,000 residents (goal: under 2 s).

    .venv/bin/python bench/bench_familyplanning.py [--backend sqlite|postgres | --database-url URL]
        [--size 1000000] [--beneficiaries 20000] [--births-per-year N] [--runs 5] [--reuse] [--skip-statistics]

Generates the demo district at ``--size`` (seed_demo) into a fresh benchmark database named
ybz_bench_fp (``--reuse`` keeps the residents an earlier run made; the 计生 tables are emptied and
rebuilt on every run), then adds, with plain bulk inserts (no service calls, no history rows):

- six schemes modelled on seed 000 (特扶 伤残/失独, 奖扶, 独生子女奖励金 by the child's sex,
  一次性扶助金, 独生子女保健费) whose standards change on 1 April of the application year;
- ``--beneficiaries`` enrollments spread over the district (5% join and 5% leave during the year),
  with their members (per-household schemes cover the whole household);
- ``--births-per-year`` births (default: 1% of the residents) in each of the last three years, with
  mothers drawn from the district's women aged 20–40, and 90% as many birth-service registrations.

It times, as a district administrator: services.preview_application and submit_application for
the district and the last complete year; then, after a retroactive raise of the two 特扶 standards
from 1 July of that year, services.preview_back_pay and record_back_pay. And the statistics:
selectors.birth_statistics of the district for the current year (to date) and for the last one,
split into the population part (registry.selectors.population_figures, the point-in-time path for
a past year) and the births + registrations part, plus the whole 计生 indicator provider (what
GET /api/familyplanning/statistics serves).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

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

SCHEMES: list[dict[str, Any]] = [
    # code, share of the beneficiaries, and the standards before / from 1 April of the year
    {"code": "sa_disability", "name": "计生特扶（伤残）", "short": "伤残", "category": "special", "unit": "person",
     "period": "monthly", "share": 0.10, "amounts": {"": (460, 520)}},
    {"code": "sa_bereaved", "name": "计生特扶（失独）", "short": "失独", "category": "special", "unit": "person",
     "period": "monthly", "share": 0.07, "amounts": {"": (590, 655)}},
    {"code": "reward", "name": "农村部分计划生育家庭奖励扶助", "short": "奖扶", "category": "reward", "unit": "person",
     "period": "yearly", "share": 0.55, "amounts": {"": (960, 1080)}},
    {"code": "only_child_reward", "name": "独生子女奖励金", "short": "独生子女奖励", "category": "only_child",
     "unit": "household", "period": "yearly", "share": 0.20, "label": "子女性别", "values": "男、女",
     "amounts": {"男": (100, 120), "女": (200, 240)}},
    {"code": "one_time", "name": "一次性扶助金", "short": "一次性", "category": "one_time", "unit": "household",
     "period": "one_time", "share": 0.02, "amounts": {"": (80_000, 82_510)}},
    {"code": "only_child_health", "name": "独生子女保健费", "short": "保健费", "category": "only_child",
     "unit": "household", "period": "yearly", "share": 0.06, "amounts": {"": (60, 80)}},
]  # fmt: skip
# Columns of the bulk inserts, in the order of the tuples built below.
BENEFICIARY_COLUMNS = (
    "id scheme_id unit_id person_id household_id attribute_value start_month end_date end_reason end_note "
    "documents bank_account note created_by_id created_at updated_at"
).split()
BIRTH_COLUMNS = (
    "id unit_id child_name sex birth_date birth_order place mother_id mother_name mother_id_number "
    "father_name father_id_number out_of_policy out_of_policy_reason entered_on created_by_id created_at "
    "updated_at retired_reason"
).split()
REGISTRATION_COLUMNS = (
    "id unit_id mother_id mother_name mother_id_number father_name father_id_number birth_order "
    "registered_on status status_reason created_by_id created_at updated_at"
).split()
RAISE = {"sa_disability": 110, "sa_bereaved": 140}  # the retroactive raise from 1 July (seed 000's case)


def timed(fn: Callable[[], object], runs: int) -> dict[str, float]:
    fn()  # warm the caches once
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return percentiles(samples)


def clear_familyplanning() -> None:
    """Empty the 计生 tables (children first): each run builds its own 计生 data on the same residents."""
    from django.db import connection
    from django.db.models import Model

    from familyplanning import models as fp

    tables: list[type[Model]] = [
        fp.AdjustmentLine,
        fp.Adjustment,
        fp.ApplicationLine,
        fp.Application,
        fp.Beneficiary.members.through,
        fp.Beneficiary,
        fp.Birth,
        fp.BirthServiceRegistration,
        fp.Standard,
        fp.Scheme,
        fp.BirthPolicy,
        fp.Visit.people.through,
        fp.Visit,
    ]
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
        for model in (fp.Beneficiary, fp.Standard, fp.Scheme, fp.Birth, fp.BirthServiceRegistration, fp.BirthPolicy):
            history = model.history.model  # type: ignore[attr-defined]
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(history._meta.db_table)}")


def build_schemes(year: int, by: Any) -> dict[str, Any]:
    from familyplanning import services

    out = {}
    for sort_order, spec in enumerate(SCHEMES, start=1):
        scheme = services.create_scheme(
            code=spec["code"],
            name=spec["name"],
            short_name=spec["short"],
            category=spec["category"],
            payment_unit=spec["unit"],
            period=spec["period"],
            attribute_label=spec.get("label", ""),
            attribute_values=spec.get("values", ""),
            sort_order=sort_order,
            by=by,
        )
        for attribute, (before, after) in spec["amounts"].items():
            kw = {"scheme": scheme, "attribute_value": attribute, "by": by}
            services.add_standard(amount=Decimal(before), valid_from=dt.date(2018, 1, 1), **kw)
            services.add_standard(amount=Decimal(after), valid_from=dt.date(year, 4, 1), **kw)
        out[spec["code"]] = scheme
    services.create_policy(name="全面两孩", max_children=2, valid_from=dt.date(2016, 1, 1), by=by)
    services.create_policy(name="三孩政策", max_children=3, valid_from=dt.date(2021, 5, 31), by=by)
    return out


def sample_residents(rng: random.Random, count: int, *, where: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """``count`` distinct present residents drawn at random over the whole district (by random ids)."""
    from registry.models import Resident

    present = Resident.objects.filter(left_on__isnull=True, retired_at__isnull=True, **(where or {}))
    bounds = present.order_by("id").values_list("id", flat=True)
    low, high = bounds.first() or 0, present.order_by("-id").values_list("id", flat=True).first() or 0
    found: dict[int, dict[str, Any]] = {}
    fields = ("id", "unit_id", "household_id", "name", "id_number", "sex", "birth_date")
    while len(found) < count:
        ids = rng.sample(range(low, high + 1), min(high - low + 1, (count - len(found)) * 3))
        for chunk in range(0, len(ids), 5_000):
            for row in present.filter(id__in=ids[chunk : chunk + 5_000]).values(*fields):
                found.setdefault(row["id"], row)
    rows = list(found.values())[:count]
    rng.shuffle(rows)
    return rows


def build_beneficiaries(
    rng: random.Random, schemes: dict[str, Any], count: int, year: int, by: Any
) -> tuple[int, int, int]:
    """Bulk-insert ``count`` enrollments (each person at most once) with their members; returns
    (beneficiaries, member rows, households covered)."""
    from django.utils import timezone

    from core.bulk import analyze, insert_rows, reserve_ids
    from core.demo import split_quota
    from familyplanning.models import Beneficiary
    from registry.models import Resident

    # A fifth more people than enrollments: a household is enrolled once per per-household scheme.
    people = sample_residents(rng, count + count // 5)
    quotas = split_quota(count, [s["share"] for s in SCHEMES])
    household_schemes = {s["code"] for s in SCHEMES if s["unit"] == "household"}
    needs_household = list({p["household_id"] for p in people if p["household_id"]})
    members_of: dict[int, list[int]] = {}
    for chunk in range(0, len(needs_household), 5_000):
        for rid, hid in Resident.objects.filter(
            household_id__in=needs_household[chunk : chunk + 5_000], left_on__isnull=True, retired_at__isnull=True
        ).values_list("id", "household_id"):
            members_of.setdefault(hid, []).append(rid)
    ids = reserve_ids(Beneficiary, count)
    now = timezone.now()
    rows: list[tuple[Any, ...]] = []
    member_rows: list[tuple[int, int]] = []
    households: set[int] = set()
    candidates = iter(people)
    for spec, quota in zip(SCHEMES, quotas, strict=True):
        code = spec["code"]
        used: set[int] = set()
        for _ in range(quota):
            person = next(candidates)
            if code in household_schemes:
                while person["household_id"] is None or person["household_id"] in used:
                    person = next(candidates)
                used.add(person["household_id"])
                households.add(person["household_id"])
                covered = members_of.get(person["household_id"], [person["id"]])
            else:
                covered = [person["id"]]
            pk = ids[len(rows)]
            draw = rng.random()
            if code == "one_time":
                start_month, end_date, end_reason = dt.date(year, rng.randint(1, 12), 1), None, ""
            elif draw < 0.05:  # joined during the year
                start_month, end_date, end_reason = dt.date(year, rng.randint(2, 12), 1), None, ""
            elif draw < 0.10:  # left during the year
                start_month = dt.date(year - rng.randint(1, 8), 1, 1)
                end_date = dt.date(year, rng.randint(1, 11), rng.randint(1, 28))
                end_reason = rng.choice(["death", "moved_out"])
            else:
                start_month, end_date, end_reason = dt.date(year - rng.randint(1, 8), rng.randint(1, 12), 1), None, ""
            attribute = rng.choice(["男", "女"]) if code == "only_child_reward" else ""
            rows.append(
                (
                    pk,
                    schemes[code].pk,
                    person["unit_id"],
                    person["id"],
                    person["household_id"],
                    attribute,
                    start_month,
                    end_date,
                    end_reason,
                    "",
                    "[]",
                    f"62220202{person['id']:011d}",
                    "",
                    by.pk,
                    now,
                    now,
                )
            )
            member_rows.extend((pk, rid) for rid in covered)
    insert_rows(Beneficiary, BENEFICIARY_COLUMNS, rows)
    through = Beneficiary.members.through
    member_ids = reserve_ids(through, len(member_rows))
    insert_rows(
        through,
        ["id", "beneficiary_id", "resident_id"],
        ((mid, b, r) for mid, (b, r) in zip(member_ids, member_rows, strict=True)),
    )
    analyze(Beneficiary, through)
    return len(rows), len(member_rows), len(households)


def build_births(rng: random.Random, per_year: int, years: list[int], today: dt.date, by: Any) -> tuple[int, int]:
    """Bulk-insert ``per_year`` births a year (the current year pro rata to today) and 90% as many
    registrations, mothers drawn from the district's women aged 20–40."""
    from django.utils import timezone

    from core.bulk import analyze, insert_rows, reserve_ids
    from familyplanning.models import Birth, BirthServiceRegistration

    mothers = sample_residents(
        rng,
        min(per_year * 2, 60_000),
        where={
            "sex": "F",
            "birth_date__gte": dt.date(today.year - 40, 1, 1),
            "birth_date__lte": dt.date(today.year - 20, 1, 1),
        },
    )
    now = timezone.now()
    births: list[tuple[Any, ...]] = []
    registrations: list[tuple[Any, ...]] = []
    for year in years:
        last = min(dt.date(year, 12, 31), today)
        days = (last - dt.date(year, 1, 1)).days + 1
        n = round(per_year * days / 365)
        for _ in range(n):
            mother = rng.choice(mothers)
            born = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(days))
            order = 1 if rng.random() < 0.71 else (2 if rng.random() < 0.95 else 3)
            sex = "M" if rng.random() < 0.515 else "F"
            entered = min(today, born + dt.timedelta(days=rng.choice([0, 3, 10, 20, 45, 90])))
            births.append((mother, born, order, sex, entered))
            if rng.random() < 0.9:
                registrations.append((mother, born - dt.timedelta(days=rng.randint(60, 240)), order))
    birth_ids = reserve_ids(Birth, len(births))
    insert_rows(
        Birth,
        BIRTH_COLUMNS,
        (
            (
                pk,
                m["unit_id"],
                m["name"][:1] + ("之子" if sex == "M" else "之女"),
                sex,
                born,
                order,
                "",
                m["id"],
                m["name"],
                m["id_number"],
                "",
                "",
                False,
                "",
                entered,
                by.pk,
                now,
                now,
                "",
            )
            for pk, (m, born, order, sex, entered) in zip(birth_ids, births, strict=True)
        ),
    )
    reg_ids = reserve_ids(BirthServiceRegistration, len(registrations))
    insert_rows(
        BirthServiceRegistration,
        REGISTRATION_COLUMNS,
        (
            (pk, m["unit_id"], m["id"], m["name"], m["id_number"], "", "", order, on, "born", "", by.pk, now, now)
            for pk, (m, on, order) in zip(reg_ids, registrations, strict=True)
        ),
    )
    analyze(Birth, BirthServiceRegistration)
    return len(births), len(registrations)


def once(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    value = fn()
    return round((time.perf_counter() - t) * 1000, 1), value


def rolled_back(fn: Callable[[], Any], runs: int) -> dict[str, float]:
    """Time a write ``runs`` times, each in a transaction rolled back afterwards."""
    from django.db import transaction

    samples = []
    for _ in range(runs):
        with transaction.atomic():
            t = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t) * 1000)
            transaction.set_rollback(True)
    return percentiles(samples)


def application_part(args: argparse.Namespace, rng: random.Random, year: int, today: dt.date, by: Any) -> dict:
    from django.db import transaction

    from familyplanning import services
    from familyplanning.models import ApplicationLine
    from orgunits.models import Level, OrgUnit

    district = OrgUnit.objects.get(level=Level.DISTRICT)
    with transaction.atomic():
        schemes = build_schemes(year, by)
        started = time.perf_counter()
        enrolled, members, households = build_beneficiaries(rng, schemes, args.beneficiaries, year, by)
        build_seconds = round(time.perf_counter() - started, 1)
    preview = services.preview_application(unit=district, year=year, by=by)
    lines, total = len(preview.lines), preview.total
    out: dict[str, Any] = {
        "beneficiaries": enrolled,
        "member_rows": members,
        "households_covered": households,
        "build_seconds": build_seconds,
        "preview_application": timed(lambda: services.preview_application(unit=district, year=year, by=by), args.runs),
        "preview_by_scheme": timed(
            lambda: services.preview_application(unit=district, year=year, by=by).by_scheme(), args.runs
        ),
    }
    submit = lambda: services.submit_application(unit=district, year=year, by=by, today=today)  # noqa: E731
    out["submit_application_rolled_back"] = rolled_back(submit, args.runs)
    out["submit_application_ms"], application = once(submit)
    out["application_lines"] = lines
    out["application_total"] = float(total)
    assert ApplicationLine.objects.filter(application=application).count() == lines
    # A raise announced after the application, effective from 1 July of its year.
    for code, extra in RAISE.items():
        current = schemes[code].standards.order_by("-valid_from").first()
        services.add_standard(
            scheme=schemes[code],
            amount=current.amount + extra,
            valid_from=dt.date(year, 7, 1),
            reason="追溯调标",
            by=by,
        )
    out["preview_back_pay"] = timed(lambda: services.preview_back_pay(application=application, by=by), args.runs)
    record = lambda: services.record_back_pay(application=application, reason="追溯调标", by=by)  # noqa: E731
    out["record_back_pay_rolled_back"] = rolled_back(record, args.runs)
    out["record_back_pay_ms"], adjustment = once(record)
    out["back_pay_lines"] = adjustment.lines.count()
    out["back_pay_total"] = float(adjustment.total)
    return out


def statistics_part(args: argparse.Namespace, rng: random.Random, today: dt.date, by: Any) -> dict:
    from unittest import mock

    from django.db import transaction

    from core.indicators import Period
    from familyplanning import selectors
    from familyplanning.indicators import familyplanning as provider
    from orgunits.models import Level, OrgUnit
    from registry.selectors import PopulationFigures, population_figures

    district = OrgUnit.objects.get(level=Level.DISTRICT)
    per_year = args.births_per_year or round(population_figures(district).residents / 100)
    with transaction.atomic():
        started = time.perf_counter()
        births, registrations = build_births(rng, per_year, [today.year - 2, today.year - 1, today.year], today, by)
        build_seconds = round(time.perf_counter() - started, 1)
    out: dict[str, Any] = {
        "births_per_year": per_year,
        "births_rows": births,
        "registrations_rows": registrations,
        "build_seconds": build_seconds,
    }
    empty = PopulationFigures(**{f: 0 for f in PopulationFigures.__dataclass_fields__})
    for label, year in (("current_year", today.year), ("past_year", today.year - 1)):
        period = Period.year(year, today=today)
        stats = selectors.birth_statistics(district, period)
        out[f"{label}_births"] = stats.births
        out[f"{label}_population"] = stats.population
        out[f"{label}_birth_rate_permille"] = float(stats.birth_rate or 0)
        out[f"{label}_birth_statistics"] = timed(partial(selectors.birth_statistics, district, period), args.runs)
        out[f"{label}_population_part"] = timed(partial(population_figures, district, on=period.end), args.runs)
        # The same call with the population stubbed out: what the births and registrations cost alone.
        with mock.patch.object(selectors, "population_figures", return_value=empty):
            out[f"{label}_births_part"] = timed(partial(selectors.birth_statistics, district, period), args.runs)
        out[f"{label}_whole_provider"] = timed(partial(provider, district, period), args.runs)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_database_arguments(parser, default_name="ybz_bench_fp")
    parser.add_argument("--size", type=int, default=1_000_000, help="residents of the demo district")
    parser.add_argument("--beneficiaries", type=int, default=20_000)
    parser.add_argument("--births-per-year", type=int, default=0, help="default: 1%% of the residents")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep the residents of an earlier run")
    parser.add_argument("--skip-statistics", action="store_true", help="only the annual application")
    args = parser.parse_args()
    url = database_url(args)
    if not args.reuse:
        recreate(url)
    setup_django(url)
    from django.core.management import call_command

    if args.reuse:
        call_command("migrate", verbosity=0)
        seed_seconds = None
    else:
        seed_seconds = round(migrate_and_seed(args.size), 1)

    from django.utils import timezone

    from accounts.models import Role, User
    from orgunits.models import Level, OrgUnit
    from registry.models import Resident

    clear_familyplanning()
    district = OrgUnit.objects.get(level=Level.DISTRICT)
    user, _ = User.objects.get_or_create(
        username="bench_fp", defaults={"role": Role.DISTRICT_ADMIN, "org_unit": district}
    )
    today = timezone.localdate()
    rng = random.Random(2022)
    backend = backend_of(url)
    result: dict[str, Any] = {
        "backend": backend,
        "residents_present": Resident.objects.filter(left_on__isnull=True, retired_at__isnull=True).count(),
        "seed_seconds": seed_seconds,
        "application_year": today.year - 1,
    }
    result["application"] = application_part(args, rng, today.year - 1, today, user)
    if not args.skip_statistics:
        result["statistics"] = statistics_part(args, rng, today, user)
    result["goals"] = "application (preview + submit) < 5 s; statistics < 2 s"
    flat: dict[str, Any] = {}
    for key, value in result.items():
        if isinstance(value, dict) and key in ("application", "statistics"):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    report(f"familyplanning_{backend}", flat)


if __name__ == "__main__":
    main()
