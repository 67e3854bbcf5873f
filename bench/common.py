"""Shared set-up of the benchmarks: which database, a fresh copy of it, Django, timing and reports.

The database is chosen by ``--database-url`` or else the ``DATABASE_URL`` environment variable
(SQLite file or PostgreSQL), or else by ``--backend``: a SQLite file in the temporary directory or
the PostgreSQL database ``ybz_bench`` on 127.0.0.1. Because each benchmark drops and recreates it,
the database name (or SQLite file name) must contain ``bench``: a real database is never touched.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"


def add_database_arguments(parser: argparse.ArgumentParser, default_name: str = "ybz_bench") -> None:
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default=None)
    parser.add_argument("--database-url", default=None, help="default: $DATABASE_URL, else by --backend")
    parser.add_argument("--database-name", default=default_name, help="with --backend")


def database_url(args: argparse.Namespace) -> str:
    url = args.database_url or (None if args.backend else os.environ.get("DATABASE_URL"))
    if url:
        return url
    if args.backend == "postgres":
        return f"{PG_SERVER}/{args.database_name}"
    return f"sqlite:///{Path(tempfile.gettempdir()) / (args.database_name + '.sqlite3')}"


def backend_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgres"


def _check_bench_name(url: str) -> None:
    name = Path(urlparse(url).path).name
    if "bench" not in name:
        sys.exit(f"refusing to recreate {url!r}: benchmark databases must have 'bench' in their name")


def recreate(url: str) -> None:
    """Drop and create the benchmark database of ``url`` (empty afterwards)."""
    _check_bench_name(url)
    if backend_of(url) == "sqlite":
        path = urlparse(url).path
        path = path[1:] if path.startswith("//") else path
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(path + suffix).unlink(missing_ok=True)
        return
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibenzhang.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def migrate_and_seed(size: int, seed: int = 7) -> float:
    """Migrate the (empty) database and load the demo at ``size``; returns the load's seconds."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    call_command("seed_demo", size=size, seed=seed, verbosity=0, stdout=open(os.devnull, "w"))
    return time.monotonic() - started


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(pct(95), 1),
        "max_ms": round(ordered[-1], 1),
    }


def report(name: str, result: dict) -> None:
    """Print the figures as a small table and keep them in bench/out/<name>.json."""
    result = {"measured_at": time.strftime("%Y-%m-%d %H:%M"), **result}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    width = max(len(k) for k in result)
    print(f"== {name} ==")
    for key, value in result.items():
        if isinstance(value, dict):
            value = "  ".join(f"{k}={v}" for k, v in value.items())
        print(f"  {key:<{width}}  {value}")
