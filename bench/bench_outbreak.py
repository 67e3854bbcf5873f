"""Outbreak response: checkpoint registrations through the API, and the upper level's daily table.

    .venv/bin/python bench/bench_outbreak.py [--backend sqlite|postgres | --database-url URL]
        [--rate 200] [--seconds 60] [--workers 4] [--units 1000] [--runs 20]

(a) Checkpoint registrations (goal: 200 per second sustained, p99 under 100 ms). A fresh benchmark
    database gets a small demo street, a checkpoint with the seed's pass rule (1 exit per household
    in 2 days) and a token for the community's staff. gunicorn serves it (``--workers`` sync workers,
    as scripts/serve.sh) on a free loopback port; a second process (this script with ``--generate``)
    POSTs crossings at ``--rate`` per second for ``--seconds`` s from a pool of threads (open loop:
    each request has its scheduled time, so a slow server shows as lateness, not as a lower target).
    A third are residents going out (allowed with a reason when over the quota, so the quota query
    runs), a third strangers coming in (the "already inside" query runs), a third delivery vehicles.
    5 % are sent a second time with the same client id: they must answer 200 with the same entry.
    Afterwards the rows in the database must equal the acknowledged entries: no loss, no doubles.
(b) The daily table of a district of ``--units`` communities: reports from 90 % of them (a tenth
    of those late); times selectors.report_table and the whole page (/outbreak/reports/table/) as a
    district user (goal: under 1 s).

PostgreSQL is the target; on SQLite (one writer at a time) part (a) measures the file's lock.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


# ---- the load generator (runs in its own process; no Django here) ---------------------------------------------------


def generate(args: argparse.Namespace) -> None:
    plan = json.loads(Path(args.generate).read_text())
    host, port, path, token = plan["host"], plan["port"], plan["path"], plan["token"]
    residents: list[int] = plan["residents"]
    rate, seconds, resend = args.rate, args.seconds, args.resend
    total = int(rate * seconds)
    rng = random.Random(7)
    resend_at = set(rng.sample(range(total), int(total * resend)))
    lock = threading.Lock()
    next_index = [0]
    results: list[dict] = []
    start = time.monotonic() + 0.5
    stop_at = start + seconds + 5

    def body(i: int) -> dict:
        kind = i % 3
        common = {"client_id": str(uuid.uuid4()), "temperature": f"36.{i % 8}", "health_code": "green"}
        if kind == 0:
            return {
                **common,
                "direction": "out",
                "resident_id": residents[i % len(residents)],
                "purpose": "购买生活物资",
                "allow_reason": "基准测试放行",
            }
        if kind == 1:
            return {
                **common,
                "direction": "in",
                "name": f"访客{i}",
                "id_number": f"BENCH{i:010d}",
                "phone": "13900000000",
            }
        return {
            **common,
            "direction": "in",
            "plate": f"蒙G{i % 100000:05d}",
            "vehicle_type": "express",
            "name": "快递员",
        }

    def send(conn: http.client.HTTPConnection, payload: bytes) -> tuple[int, dict, float]:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        t = time.perf_counter()
        for attempt in (1, 2):
            try:
                conn.request("POST", path, body=payload, headers=headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                conn.close()  # gunicorn's sync workers close after each response: reconnect once
                if attempt == 2:
                    return 0, {}, (time.perf_counter() - t) * 1000
        elapsed = (time.perf_counter() - t) * 1000
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = {}
        return response.status, parsed, elapsed

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= total or time.monotonic() > stop_at:
                break  # bounded: a server slower than the rate leaves the rest unsent, counted below
            due = start + i / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            late_ms = max(0.0, (time.monotonic() - due) * 1000)
            payload = body(i)
            raw = json.dumps(payload).encode()
            status, answer, ms = send(conn, raw)
            row = {
                "i": i,
                "client_id": payload["client_id"],
                "status": status,
                "ms": ms,
                "late_ms": late_ms,
                "id": answer.get("id"),
            }
            if i in resend_at:
                again_status, again, again_ms = send(conn, raw)
                row.update(resend_status=again_status, resend_id=again.get("id"), resend_ms=again_ms)
            with lock:
                results.append(row)
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    json.dump({"elapsed_s": elapsed, "planned": total, "results": results}, sys.stdout)


# ---- the benchmark (Django in this process; the server in gunicorn) --------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("gunicorn stopped before serving")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not answer")


def crossing_load(args: argparse.Namespace, url: str) -> dict:
    import datetime as dt

    from django.utils import timezone

    from accounts.models import Role
    from accounts.services import create_user, issue_token
    from orgunits.models import Level, OrgUnit
    from outbreak import services
    from outbreak.models import Checkpoint, CheckpointEntry, PassRule
    from registry.models import Resident

    community = OrgUnit.objects.filter(level=Level.COMMUNITY).order_by("path").first()
    assert community is not None and community.parent is not None
    street = community.parent
    today = timezone.localdate()
    admin = create_user(username="bench_admin", password="bench-pass-1234", role=Role.DISTRICT_ADMIN, org_unit=street)
    staff = create_user(
        username="bench_gate", password="bench-pass-1234", role=Role.COMMUNITY_STAFF, org_unit=community
    )
    event = services.create_event(
        unit=street,
        name="基准测试疫情",
        disease="新型冠状病毒肺炎",
        started_on=today - dt.timedelta(days=10),
        report_deadline=dt.time(17, 0),
        by=admin,
    )
    gate = Checkpoint.objects.create(unit=community, event=event, name="基准北门")
    PassRule.objects.create(event=event, unit=community, max_exits=1, days=2, valid_from=today - dt.timedelta(days=10))
    residents = list(
        Resident.objects.filter(
            unit__path__startswith=community.path,
            household__isnull=False,
            retired_at__isnull=True,
            left_on__isnull=True,
        ).values_list("pk", flat=True)[:2000]
    )
    assert residents, "the demo community has no residents"
    token = issue_token(user=staff, name="bench")
    before = CheckpointEntry.objects.count()

    from django.db import connections

    connections.close_all()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SETTINGS_MODULE": "yibenzhang.settings",
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "yibenzhang.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, server)
        plan = HERE / "out" / ".outbreak_plan.json"
        plan.parent.mkdir(parents=True, exist_ok=True)
        plan.write_text(
            json.dumps(
                {
                    "host": "127.0.0.1",
                    "port": port,
                    "path": f"/api/outbreak/checkpoints/{gate.pk}/crossings",
                    "token": token,
                    "residents": residents,
                }
            )
        )
        # Warm every worker (imports, first connection) before the clock starts.
        warm = subprocess.run(
            [sys.executable, __file__, "--generate", str(plan), "--rate", "20", "--seconds", "1", "--resend", "0"],
            capture_output=True,
            text=True,
            check=True,
        )
        warmed = {r["client_id"] for r in json.loads(warm.stdout)["results"] if r["status"] in (200, 201)}
        load = subprocess.run(
            [
                sys.executable,
                __file__,
                "--generate",
                str(plan),
                "--rate",
                str(args.rate),
                "--seconds",
                str(args.seconds),
                "--threads",
                str(args.threads),
                "--resend",
                str(args.resend),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=args.seconds + 120,
        )
        plan.unlink(missing_ok=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    outcome = json.loads(load.stdout)
    rows = outcome["results"]
    acknowledged = {r["client_id"] for r in rows if r["status"] in (200, 201)}
    errors = [r for r in rows if r["status"] not in (200, 201)]
    resent = [r for r in rows if "resend_status" in r]
    resend_ok = [r for r in resent if r["resend_status"] == 200 and r["resend_id"] == r["id"] and r["id"] is not None]
    from common import percentiles

    stored = CheckpointEntry.objects.filter(checkpoint=gate).count()
    stored_acknowledged = CheckpointEntry.objects.filter(checkpoint=gate, client_id__in=acknowledged).count()
    latencies = [r["ms"] for r in rows if r["status"] in (200, 201)] or [0.0]
    lat = percentiles(latencies)
    ordered = sorted(latencies)
    lat["p99_ms"] = round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))], 1)
    return {
        "target_rate_per_s": args.rate,
        "seconds": args.seconds,
        "gunicorn_workers": args.workers,
        "generator_threads": args.threads,
        "planned_requests": outcome["planned"],
        "requests": len(rows),
        "unsent_past_deadline": outcome["planned"] - len(rows),
        "achieved_rate_per_s": round(len(rows) / outcome["elapsed_s"], 1),
        "latency": lat,
        "late_p99_ms": round(sorted(r["late_ms"] for r in rows)[int(0.99 * (len(rows) - 1))], 1),
        "errors": len(errors),
        "error_statuses": sorted({r["status"] for r in errors}),
        "breaches_allowed": CheckpointEntry.objects.filter(checkpoint=gate).exclude(breach="").count(),
        "resent": len(resent),
        "resent_answered_200_same_entry": len(resend_ok),
        "acknowledged": len(acknowledged),
        "rows_in_database": stored,
        "rows_acknowledged_in_database": stored_acknowledged,
        "warm_up_entries": len(warmed),
        # Every acknowledged entry is stored once, and nothing else is (warm-up entries aside).
        "no_loss_no_duplicates": stored_acknowledged == len(acknowledged) and stored == len(acknowledged | warmed),
        "entries_before": before,
        "goal": "200/s sustained, p99 < 100 ms",
    }


def daily_table(args: argparse.Namespace) -> dict:
    import datetime as dt

    from django.test import Client
    from django.utils import timezone

    from accounts.models import Role, User
    from accounts.services import create_user
    from orgunits.models import Level
    from orgunits.services import create_unit
    from outbreak import selectors, services
    from outbreak.models import DailyReport

    today = timezone.localdate()
    day = today - dt.timedelta(days=1)
    established = dt.date(2015, 1, 1)
    t0 = time.perf_counter()
    district = create_unit(name="基准区", level=Level.DISTRICT, parent=None, code="159999", established_on=established)
    per_street = 100
    communities = []
    for s in range((args.units + per_street - 1) // per_street):
        street = create_unit(name=f"基准街道{s + 1}", level=Level.STREET, parent=district, established_on=established)
        for c in range(min(per_street, args.units - s * per_street)):
            communities.append(
                create_unit(
                    name=f"社区{s + 1}-{c + 1}", level=Level.COMMUNITY, parent=street, established_on=established
                )
            )
    build_units_s = time.perf_counter() - t0
    boss = create_user(
        username="bench_district", password="bench-pass-1234", role=Role.DISTRICT_ADMIN, org_unit=district
    )
    event = services.create_event(
        unit=district,
        name="基准测试日报",
        disease="新型冠状病毒肺炎",
        started_on=today - dt.timedelta(days=30),
        report_deadline=dt.time(17, 0),
        by=boss,
    )
    tz = timezone.get_current_timezone()
    rng = random.Random(3)
    reports = []
    for n, unit in enumerate(communities):
        if n % 10 == 9:
            continue  # a tenth never report
        late = n % 10 == 8
        at = dt.datetime.combine(day, dt.time(18, 30) if late else dt.time(16, rng.randrange(60)), tzinfo=tz)
        counts = {
            "new_screened": rng.randrange(5),
            "screened_total": rng.randrange(200),
            "central_quarantine": rng.randrange(3),
            "home_quarantine": rng.randrange(10),
            "health_monitoring": rng.randrange(10),
            "released": rng.randrange(3),
            "alerts": rng.randrange(2),
            "fever": 0,
            "close_contacts": rng.randrange(4),
        }
        zero = not any(counts[k] for k in ("new_screened", "alerts", "released"))
        reports.append(
            DailyReport(
                event=event, unit=unit, date=day, is_zero=zero, counts=counts, submitted_by=boss, submitted_at=at
            )
        )
    DailyReport.objects.bulk_create(reports, batch_size=500)
    table = selectors.report_table(event, district, day)
    assert (table.expected, table.received) == (len(communities), len(reports))

    def timed(fn, runs: int) -> dict:
        from common import percentiles

        fn()
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t) * 1000)
        return percentiles(samples)

    client = Client()
    client.force_login(User.objects.get(pk=boss.pk))

    def page() -> None:
        response = client.get("/outbreak/reports/table/", {"event": str(event.pk), "date": day.isoformat()})
        assert response.status_code == 200, response.status_code

    return {
        "units": len(communities),
        "reports": len(reports),
        "build_units_s": round(build_units_s, 1),
        "completeness": str(table.completeness),
        "timeliness": str(table.timeliness),
        "report_table": timed(lambda: selectors.report_table(event, district, day), args.runs),
        "whole_page": timed(page, args.runs),
        "goal": "< 1 s",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generate", help=argparse.SUPPRESS)  # internal: run as the load generator
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--resend", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--size", type=int, default=2000, help="residents of the demo street for (a)")
    parser.add_argument("--skip-load", action="store_true")
    from common import add_database_arguments

    add_database_arguments(parser)
    args = parser.parse_args()
    if args.generate:
        generate(args)
        return
    if not 0 < args.rate <= 1000 or not 0 < args.seconds <= 600:
        sys.exit("--rate must be in (0, 1000] and --seconds in (0, 600]")
    from common import backend_of, database_url, migrate_and_seed, recreate, report, setup_django

    url = database_url(args)
    recreate(url)
    setup_django(url)
    seed_seconds = migrate_and_seed(args.size)
    backend = backend_of(url)
    result: dict = {"backend": backend, "cores": os.cpu_count(), "seed_seconds": round(seed_seconds, 1)}
    if not args.skip_load:
        result["checkpoint_api"] = crossing_load(args, url)
    result["daily_table"] = daily_table(args)
    report(f"outbreak_{backend}", result)


if __name__ == "__main__":
    main()
