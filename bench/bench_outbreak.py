"""Outbreak response: checkpoint registrations through the API, and the upper level's daily table.

    .venv/bin/python bench/bench_outbreak.py [--backend sqlite|postgres | --database-url URL]
        [--rate 200] [--seconds 60] [--workers N] [--units 1000] [--runs 20] [--reuse] [--skip-table]
    .venv/bin/python bench/bench_outbreak.py --backend postgres --reuse --cpu 1000 [--profile tottime]

(a) Checkpoint registrations (goal: 200 per second sustained, p99 under 100 ms). A fresh benchmark
    database (``ybz_bench_outbreak``) gets a small demo street, a checkpoint with the seed's pass rule
    (1 exit per household in 2 days) and a token for the community's staff. gunicorn serves it with
    scripts/gunicorn.conf.py, the settings scripts/serve.sh serves with (``--workers`` overrides the
    process count; WEB_WORKER_CLASS, WEB_THREADS as for serve.sh), on a free loopback port; a second
    process (this script with ``--generate``) POSTs crossings at ``--rate`` per second for ``--seconds``
    s from a pool of threads (open loop: each request has its scheduled time, so a slow server shows as
    lateness, not as a lower target). A third are residents going out (allowed with a reason when over
    the quota, so the quota query runs), a third strangers coming in (the "already inside" query runs),
    a third delivery vehicles. 5 % are sent a second time with the same client id: they must answer 200
    with the same entry. Afterwards the rows in the database must equal the acknowledged entries: no
    loss, no doubles. Besides the latencies it reports the CPU per request of gunicorn, of PostgreSQL
    and of the generator (from /proc), which a shared machine disturbs much less than the latencies.
(b) The daily table of a district of ``--units`` communities: reports from 90 % of them (a tenth
    of those late); times selectors.report_table and the whole page (/outbreak/reports/table/) as a
    district user (goal: under 1 s).
(c) ``--cpu N`` instead of (a) and (b): N crossings of the same mix in this process, through Django's
    WSGI handler as gunicorn calls it (no network, no generator): the Python CPU per crossing and its
    PostgreSQL backend's, then the same through the batch endpoint (50 a request); ``--profile``
    prints cProfile's top 40. The steadiest figure for comparing changes on a busy machine.

``--reuse`` keeps the benchmark database when it is already seeded (repeated runs; (b) is skipped once
a former run's district is there). The load average and the busiest processes at the start are kept
with the figures: the machine is shared.

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
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


# ---- the load generator (runs in its own process; no Django here) ---------------------------------------------------


def crossing_body(i: int, residents: list[int], tag: str = "BENCH") -> dict:
    """The i-th crossing of the mix: residents going out, strangers coming in, delivery vans.
    ``tag`` starts the strangers' ID numbers (a new one per run on a reused database: a stranger
    still "inside" from the last run would be refused)."""
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
            "id_number": f"{tag}{i:010d}",
            "phone": "13900000000",
        }
    return {
        **common,
        "direction": "in",
        "plate": f"蒙G{i % 100000:05d}",
        "vehicle_type": "express",
        "name": "快递员",
    }


def generate(args: argparse.Namespace) -> None:
    plan = json.loads(Path(args.generate).read_text())
    host, port, token = plan["host"], plan["port"], plan["token"]
    size = max(1, args.batch)  # entries a request: 1 to the single endpoint, more to the batch endpoint
    path = plan["path"] + ("/batch" if size > 1 else "")
    residents: list[int] = plan["residents"]
    rate, seconds, resend = args.rate, args.seconds, args.resend
    total = int(rate * seconds / size)  # requests
    rng = random.Random(7)
    resend_at = set(rng.sample(range(total), int(total * resend)))
    lock = threading.Lock()
    next_index = [0]
    results: list[dict] = []
    start = time.monotonic() + 0.5
    stop_at = start + seconds + 5

    def body(i: int) -> dict:
        return crossing_body(i, residents, plan.get("tag", "BENCH") + args.tag_suffix)

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
                conn.close()  # the server closed the connection (sync workers do after each response): reconnect
                if attempt == 2:
                    return 0, {}, (time.perf_counter() - t) * 1000
        elapsed = (time.perf_counter() - t) * 1000
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = {}
        return response.status, parsed, elapsed

    def answers(status: int, answer: dict, client_ids: list[str]) -> dict[str, tuple[int, object]]:
        """client id -> (its status, its stored id) from a single or a batch answer."""
        if size == 1:
            return {client_ids[0]: (status, answer.get("id"))}
        each: dict[str, tuple[int, object]] = {cid: (status if status != 200 else 0, None) for cid in client_ids}
        if status == 200:
            for r in answer.get("results", []):
                each[r.get("client_id", "")] = (r.get("status", 0), (r.get("entry") or {}).get("id"))
        return each

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= total or time.monotonic() > stop_at:
                break  # bounded: a server slower than the rate leaves the rest unsent, counted below
            due = start + i * size / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            late_ms = max(0.0, (time.monotonic() - due) * 1000)
            entries = [body(i * size + k) for k in range(size)]
            client_ids = [e["client_id"] for e in entries]
            raw = json.dumps(entries[0] if size == 1 else {"entries": entries}).encode()
            status, answer, ms = send(conn, raw)
            first = answers(status, answer, client_ids)
            rows = [
                {"i": i, "client_id": cid, "status": first[cid][0], "ms": ms, "late_ms": late_ms, "id": first[cid][1]}
                for cid in client_ids
            ]
            if i in resend_at:
                again_status, again, again_ms = send(conn, raw)
                second = answers(again_status, again, client_ids)
                for row in rows:
                    row.update(resend_status=second[row["client_id"]][0], resend_id=second[row["client_id"]][1])
                    row["resend_ms"] = again_ms
            with lock:
                results.extend(rows)
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    json.dump({"elapsed_s": elapsed, "planned": total * size, "results": results}, sys.stdout)


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


def bench_gate() -> tuple:
    """The benchmark's checkpoint (with the seed's pass rule), its community's residents and a fresh token
    for the community's staff. On a reused database the users, event and checkpoint of a former run serve."""
    import datetime as dt

    from django.utils import timezone

    from accounts.models import Role, User
    from accounts.services import create_user, issue_token
    from orgunits.models import Level, OrgUnit
    from outbreak import services
    from outbreak.models import Checkpoint, PassRule
    from registry.models import Resident

    community = OrgUnit.objects.filter(level=Level.COMMUNITY).order_by("path").first()
    assert community is not None and community.parent is not None
    street = community.parent
    today = timezone.localdate()
    gate = Checkpoint.objects.filter(name="基准北门", unit=community).select_related("event").first()
    staff = User.objects.filter(username="bench_gate").first()
    if gate is None or staff is None:
        admin = create_user(
            username="bench_admin", password="bench-pass-1234", role=Role.DISTRICT_ADMIN, org_unit=street
        )
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
        PassRule.objects.create(
            event=event, unit=community, max_exits=1, days=2, valid_from=today - dt.timedelta(days=10)
        )
    residents = list(
        Resident.objects.filter(
            unit__path__startswith=community.path,
            household__isnull=False,
            retired_at__isnull=True,
            left_on__isnull=True,
        ).values_list("pk", flat=True)[:2000]
    )
    assert residents, "the demo community has no residents"
    return gate, residents, issue_token(user=staff, name="bench")


def _proc_cpu_s(pid: str) -> tuple[int, str, float]:
    """(parent pid, command, CPU seconds) of a live process, from /proc; (0, "", 0.0) when it is gone."""
    try:
        head, rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)
    except OSError:
        return 0, "", 0.0
    fields = rest.split()
    return int(fields[1]), head.split("(", 1)[1], (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _database_backends() -> list[int]:
    """The PostgreSQL backends connected to the benchmark's database (gunicorn's), not this script's own."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def _cpu_now(server_pid: int) -> dict[str, float | dict[int, float]]:
    """CPU seconds so far of the gunicorn master and its workers, of each PostgreSQL backend serving them,
    and of the finished children of this script (the load generator)."""
    import resource

    server = 0.0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            ppid, _comm, cpu = _proc_cpu_s(pid)
            if int(pid) == server_pid or ppid == server_pid:
                server += cpu
    backends = {pid: _proc_cpu_s(str(pid))[2] for pid in _database_backends()}
    # A backend closed meanwhile (CONN_MAX_AGE) leaves its CPU to the postmaster's reaped children.
    postmaster = _proc_cpu_s(str(next(iter(backends))))[0] if backends else 0
    reaped = _reaped_cpu_s(postmaster) if postmaster else 0.0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "server": server,
        "database": backends,
        "reaped": reaped,
        "generator": children.ru_utime + children.ru_stime,
    }


def _reaped_cpu_s(pid: int) -> float:
    """CPU seconds of the finished children of ``pid`` (cutime + cstime)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def _cpu_spent_ms(before: dict, after: dict, count: int) -> dict[str, float]:
    """CPU milliseconds per crossing between two _cpu_now snapshots (a backend opened since counts from 0)."""
    database = sum(cpu - before["database"].get(pid, 0.0) for pid, cpu in after["database"].items())
    if set(before["database"]) - set(after["database"]):
        # Some backends ended (CONN_MAX_AGE): their CPU is among the postmaster's reaped children, with
        # that of any other database's backends that ended meanwhile (an overestimate on a shared server).
        database += after["reaped"] - before["reaped"]
    spent = {
        "server": after["server"] - before["server"],
        "database": database,
        "generator": after["generator"] - before["generator"],
    }
    return {k: round(v * 1000 / count, 2) for k, v in spent.items()}


def _gunicorn_settings(args: argparse.Namespace) -> str:
    """The served configuration (scripts/gunicorn.conf.py as the environment sets it) in a few words."""
    import runpy

    conf = runpy.run_path(str(ROOT / "scripts" / "gunicorn.conf.py"))
    workers = args.workers or conf["workers"]
    if conf["worker_class"] == "gthread":
        return f"{workers} gthread workers x {conf['threads']} threads, keep-alive {conf['keepalive']} s"
    return f"{workers} {conf['worker_class']} workers"


def crossing_load(args: argparse.Namespace, url: str) -> dict:
    from outbreak.models import CheckpointEntry

    gate, residents, token = bench_gate()
    tag = "B" + uuid.uuid4().hex[:8].upper()
    before_gate = CheckpointEntry.objects.filter(checkpoint=gate).count()
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
            "--config",
            str(ROOT / "scripts" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            *(["--workers", str(args.workers)] if args.workers else []),
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
                    "tag": tag,
                }
            )
        )
        # Warm every worker (imports, first connection) before the clock starts.
        warm = subprocess.run(
            [
                sys.executable,
                __file__,
                "--generate",
                str(plan),
                "--rate",
                "20",
                "--seconds",
                "1",
                "--resend",
                "0",
                # Other strangers than the run's: the same ID number coming in twice is refused (already inside).
                "--tag-suffix",
                "W",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        warmed = {r["client_id"] for r in json.loads(warm.stdout)["results"] if r["status"] in (200, 201)}
        cpu_before = _cpu_now(server.pid)
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
                "--batch",
                str(args.batch),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=args.seconds + 120,
        )
        cpu_after = _cpu_now(server.pid)
        machine_after = _load_now()  # what else ran: the run itself is in the 1-minute average
        plan.unlink(missing_ok=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    outcome = json.loads(load.stdout)
    rows = outcome["results"]
    sent = max(1, len(rows) + sum(1 for r in rows if "resend_status" in r))  # crossings, resends included
    cpu_ms = _cpu_spent_ms(cpu_before, cpu_after, sent)
    acknowledged = {r["client_id"] for r in rows if r["status"] in (200, 201)}
    errors = [r for r in rows if r["status"] not in (200, 201)]
    resent = [r for r in rows if "resend_status" in r]
    resend_ok = [r for r in resent if r["resend_status"] == 200 and r["resend_id"] == r["id"] and r["id"] is not None]
    from common import percentiles

    stored = CheckpointEntry.objects.filter(checkpoint=gate).count() - before_gate
    stored_acknowledged = CheckpointEntry.objects.filter(checkpoint=gate, client_id__in=acknowledged).count()
    latencies = [r["ms"] for r in rows if r["status"] in (200, 201)] or [0.0]
    lat = percentiles(latencies)
    ordered = sorted(latencies)
    lat["p99_ms"] = round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))], 1)
    return {
        "target_rate_per_s": args.rate,
        "entries_per_request": max(1, args.batch),
        "seconds": args.seconds,
        "gunicorn": _gunicorn_settings(args),
        "generator_threads": args.threads,
        "planned_crossings": outcome["planned"],
        "crossings_sent": len(rows),
        "unsent_past_deadline": outcome["planned"] - len(rows),
        "achieved_rate_per_s": round(len(rows) / outcome["elapsed_s"], 1),
        "latency": lat,
        # CPU per crossing sent (resends included) of the gunicorn processes, of the PostgreSQL backends
        # serving them and of the load generator: much less disturbed by a shared machine than the latencies.
        "cpu_ms_per_crossing": cpu_ms,
        "late_p99_ms": round(sorted(r["late_ms"] for r in rows)[int(0.99 * (len(rows) - 1))], 1),
        "errors": len(errors),
        "error_statuses": sorted({r["status"] for r in errors}),
        "breaches_allowed": CheckpointEntry.objects.filter(client_id__in=acknowledged).exclude(breach="").count(),
        "resent": len(resent),
        "resent_answered_200_same_entry": len(resend_ok),
        "acknowledged": len(acknowledged),
        "rows_in_database": stored,
        "rows_acknowledged_in_database": stored_acknowledged,
        "warm_up_entries": len(warmed),
        # Every acknowledged entry is stored once, and nothing else is (warm-up entries aside).
        "no_loss_no_duplicates": stored_acknowledged == len(acknowledged) and stored == len(acknowledged | warmed),
        "entries_before": before,
        "machine_at_the_end": machine_after,
        "goal": "200/s sustained, p99 < 100 ms",
    }


def _backend_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) the PostgreSQL backend ``pid`` has used, when /proc shows it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_request(args: argparse.Namespace) -> dict:
    """CPU per crossing measured in this process (no network, no other load counts): ``--cpu N`` crossings of
    the benchmark's mix go through Django's WSGI handler, as gunicorn calls it, with the Bearer token.
    The Python figure is this process's CPU time; the database's is its backend's (PostgreSQL, from /proc).
    Also times the batch endpoint (50 entries a request) and, with ``--profile``, prints cProfile's top."""
    import cProfile
    import io
    import pstats

    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    gate, residents, token = bench_gate()
    tag = "C" + uuid.uuid4().hex[:8].upper()
    handler = WSGIHandler()
    path = f"/api/outbreak/checkpoints/{gate.pk}/crossings"

    def call(url: str, payload: object) -> tuple[int, bytes]:
        raw = json.dumps(payload).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": url,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "HTTP_HOST": "127.0.0.1:8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(raw)),
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "wsgi.input": io.BytesIO(raw),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        status: list[str] = []

        def start_response(s: str, headers: list, exc_info: object = None) -> Any:
            status.append(s)
            return lambda data: None

        body = b"".join(handler(environ, start_response))
        return int(status[0].split()[0]), body

    n = args.cpu
    counter = [0]

    def one_each(count: int) -> list[int]:
        statuses = []
        for _ in range(count):
            statuses.append(call(path, crossing_body(counter[0], residents, tag))[0])
            counter[0] += 1
        return statuses

    one_each(30)  # warm: imports, caches, the connection
    backend_pid = connection.cursor().connection.info.backend_pid if connection.vendor == "postgresql" else None

    def measure(fn, count: int) -> tuple[float, float, float | None, list[int]]:
        db0 = _backend_cpu_s(backend_pid) if backend_pid else None
        c0, w0 = time.process_time(), time.perf_counter()
        statuses = fn()
        c1, w1 = time.process_time(), time.perf_counter()
        db1 = _backend_cpu_s(backend_pid) if backend_pid else None
        db_ms = (db1 - db0) * 1000 / count if db0 is not None and db1 is not None else None
        return (c1 - c0) * 1000 / count, (w1 - w0) * 1000 / count, db_ms, statuses

    py_ms, wall_ms, db_ms, statuses = measure(lambda: one_each(n), n)
    result: dict = {
        "crossings": n,
        "statuses": {str(k): statuses.count(k) for k in sorted(set(statuses))},
        "python_cpu_ms": round(py_ms, 2),
        "database_cpu_ms": round(db_ms, 2) if db_ms is not None else None,
        "wall_ms": round(wall_ms, 2),
    }
    batch_path = path + "/batch"
    size = 50
    batches = max(1, n // size)

    def batched() -> list[int]:
        statuses = []
        for _ in range(batches):
            entries = [crossing_body(counter[0] + k, residents, tag) for k in range(size)]
            counter[0] += size
            statuses.append(call(batch_path, {"entries": entries})[0])
        return statuses

    b_py, b_wall, b_db, b_statuses = measure(batched, batches * size)
    result["batch_of_50"] = {
        "statuses": {str(k): b_statuses.count(k) for k in sorted(set(b_statuses))},
        "python_cpu_ms_per_entry": round(b_py, 2),
        "database_cpu_ms_per_entry": round(b_db, 2) if b_db is not None else None,
        "wall_ms_per_entry": round(b_wall, 2),
    }
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        one_each(n)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.profile).print_stats(40)
        print(out.getvalue())
    return result


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


def _seeded(url: str) -> bool:
    """Whether the benchmark database of ``url`` exists and holds the demo street (for --reuse)."""
    from urllib.parse import urlparse

    if url.startswith("sqlite"):
        path = urlparse(url).path
        path = path[1:] if path.startswith("//") else path
        if not Path(path).exists():
            return False
        import sqlite3

        with sqlite3.connect(path) as conn:
            try:
                return bool(conn.execute("SELECT 1 FROM registry_resident LIMIT 1").fetchone())
            except sqlite3.Error:
                return False
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return bool(conn.execute("SELECT 1 FROM registry_resident LIMIT 1").fetchone())
    except psycopg.Error:
        return False


def _load_now() -> dict:
    """What else the (shared) machine was doing when the run started: load average and the busiest processes."""
    load = os.getloadavg()
    # Two snapshots half a second apart: the second one's %CPU is over that half second.
    out = subprocess.run(["top", "-bn2", "-d", "0.5", "-w", "200"], capture_output=True, text=True, check=False).stdout
    lines = out.splitlines()
    header = max((n for n, line in enumerate(lines) if line.lstrip().startswith("PID")), default=len(lines))
    busy = []
    for line in lines[header + 1 :]:
        cols = line.split()
        if len(cols) >= 12 and float(cols[8].replace(",", ".")) > 0:
            busy.append(f"{cols[8]}% {cols[11]}")
    return {"load_average_1_5_15": [round(x, 2) for x in load], "busiest_now": busy[:5]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generate", help=argparse.SUPPRESS)  # internal: run as the load generator
    parser.add_argument("--tag-suffix", default="", help=argparse.SUPPRESS)  # internal: the warm-up's strangers
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--resend", type=float, default=0.05)
    parser.add_argument(
        "--batch", type=int, default=1, help="entries a request: above 1 the load goes to the batch endpoint"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="gunicorn processes (default: as served, scripts/gunicorn.conf.py)"
    )
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--size", type=int, default=2000, help="residents of the demo street for (a)")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-table", action="store_true", help="skip (b), the daily table")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the benchmark database if it is already seeded (migrate only): for repeated runs",
    )
    parser.add_argument(
        "--cpu",
        type=int,
        default=0,
        metavar="N",
        help="instead of the load test: CPU per crossing, N crossings in-process through the WSGI handler",
    )
    parser.add_argument(
        "--profile", choices=["cumulative", "tottime"], help="with --cpu: print cProfile's top 40, sorted so"
    )
    from common import add_database_arguments

    add_database_arguments(parser, default_name="ybz_bench_outbreak")
    args = parser.parse_args()
    if args.generate:
        generate(args)
        return
    if not 0 < args.rate <= 1000 or not 0 < args.seconds <= 600:
        sys.exit("--rate must be in (0, 1000] and --seconds in (0, 600]")
    from common import backend_of, database_url, migrate_and_seed, recreate, report, setup_django

    url = database_url(args)
    if args.cpu:
        os.environ["DEBUG"] = "0"  # as gunicorn serves it (DEBUG keeps every query's SQL)
    reused = args.reuse and _seeded(url)
    if not reused:
        recreate(url)
    setup_django(url)
    if reused:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        seed_seconds = 0.0
    else:
        seed_seconds = migrate_and_seed(args.size)
    backend = backend_of(url)
    result: dict = {"backend": backend, "cores": os.cpu_count(), "seed_seconds": round(seed_seconds, 1)}
    if args.cpu:
        result["cpu_per_crossing"] = cpu_per_request(args)
        report(f"outbreak_cpu_{backend}", result)
        return
    result["load"] = _load_now()
    if not args.skip_load:
        result["checkpoint_api"] = crossing_load(args, url)
    if not args.skip_table:
        from orgunits.models import OrgUnit

        if OrgUnit.objects.filter(code="159999").exists():
            result["daily_table"] = "skipped: the reused database holds a former run's district"
        else:
            result["daily_table"] = daily_table(args)
    report(f"outbreak_{backend}", result)


if __name__ == "__main__":
    main()
