"""Run every benchmark on SQLite and, when a server answers on 127.0.0.1:5432, on PostgreSQL.

    .venv/bin/python bench/run_all.py [--only sqlite|postgres] [--search-size 1000000] [--fp-size 1000000]

Figures land in bench/out/<benchmark>_<backend>.json; bench/README.md explains them.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--search-size", default="1000000")
    parser.add_argument("--fp-size", default="1000000", help="residents of the 计生 benchmark's district")
    args = parser.parse_args()
    backends = [args.only] if args.only else ["sqlite", *(["postgres"] if postgres_answers() else [])]
    for backend in backends:
        for script, extra in (
            ("bench_home.py", []),
            ("bench_import.py", []),
            ("bench_search.py", ["--size", args.search_size]),
            ("bench_familyplanning.py", ["--size", args.fp_size]),
            ("bench_outbreak.py", []),
        ):
            print(f"-- {script} on {backend}", flush=True)
            subprocess.run([sys.executable, str(HERE / script), "--backend", backend, *extra], check=True, cwd=HERE)


if __name__ == "__main__":
    main()
