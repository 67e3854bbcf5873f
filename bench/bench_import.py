"""Import of a 100,000-row roster (goal: under 30 s, peak memory under 500 MB).

    .venv/bin/python bench/bench_import.py [--backend sqlite|postgres | --database-url URL] [--rows 100000]
                                           [--base-size 2000]

Loads the demo street at ``--base-size`` residents into a fresh benchmark database (the org tree
and people already on file), writes an xlsx roster of ``--rows`` new people living in its
buildings with 10 bad rows (registry.importing.write_sample_roster), then runs
registry.importing.run_import as a street user three times, each in its own process so that the
peak memory (ru_maxrss) is the import's own: the dry run, the import, and the re-import of the
same file (which must change nothing).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (
    add_database_arguments,
    backend_of,
    database_url,
    migrate_and_seed,
    recreate,
    report,
    setup_django,
)


def child(url: str, path: str, dry_run: bool) -> None:
    setup_django(url)
    from accounts.models import User
    from registry.importing import run_import

    user = User.objects.get(username="bench")
    assert user.org_unit is not None
    t = time.monotonic()
    summary = run_import(path=path, original_name=Path(path).name, unit=user.org_unit, by=user, dry_run=dry_run)
    seconds = time.monotonic() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    result = {k: v for k, v in summary.as_dict().items() if k != "errors"}
    print(json.dumps({"seconds": round(seconds, 1), "peak_mb": round(peak_mb), **result}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_database_arguments(parser)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--base-size", type=int, default=2_000, help="residents already on file (seed_demo --size)")
    parser.add_argument("--child", nargs=2, metavar=("PATH", "DRY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = database_url(args)
    if args.child:
        child(url, args.child[0], args.child[1] == "1")
        return
    recreate(url)
    setup_django(url)
    seed_seconds = migrate_and_seed(args.base_size)
    from accounts.models import Role, User
    from orgunits.models import Level, OrgUnit
    from registry.importing import write_sample_roster

    street = OrgUnit.objects.filter(level=Level.STREET).order_by("path").first()
    assert street is not None
    User.objects.create(username="bench", role=Role.STREET_STAFF, org_unit=street)
    roster = Path(tempfile.gettempdir()) / f"ybz_bench_roster_{args.rows}.xlsx"
    t = time.monotonic()
    write_sample_roster(roster, rows=args.rows, unit=street, bad_rows=10)
    write_seconds = time.monotonic() - t
    runs = {}
    for label, dry in (("dry_run", "1"), ("import", "0"), ("reimport", "0")):
        out = subprocess.run(
            [sys.executable, __file__, "--database-url", url, "--child", str(roster), dry],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs[label] = json.loads(out.strip().splitlines()[-1])
    backend = backend_of(url)
    report(
        f"import_{backend}",
        {
            "backend": backend,
            "rows": args.rows,
            "residents_before": args.base_size,
            "seed_seconds": round(seed_seconds, 1),
            "file_mb": round(roster.stat().st_size / 1e6, 1),
            "write_file_seconds": round(write_seconds, 1),
            **runs,
            "goal": "import < 30 s, peak < 500 MB",
        },
    )


if __name__ == "__main__":
    main()
