"""全员核酸: sample registrations at the sampling tables, through the API, under load.

    .venv/bin/python bench/bench_testing.py --backend postgres [--seconds 300] [--rate 1000] [--tables 144]
    .venv/bin/python bench/bench_testing.py --backend postgres --replay          # a whole round, flat out
    .venv/bin/python bench/bench_testing.py --backend postgres --restart-postgres # (a) with a restart midway
    .venv/bin/python bench/bench_testing.py --backend postgres --cpu 5000 [--profile tottime]

Data. A fresh benchmark database (``ybz_bench_testing``; ``--reuse`` keeps an earlier one's people) gets
the demo street (the orgunits and registry demo steps only, 87,213 residents), a static QR code for every
resident (bulk), and for each run its own pooled rounds (10合1) of the street: 74 sites over the street's
buildings, 144 tables (70 sites with two, 4 with one), and a should-sample list of the first 83,143
present residents, inserted in bulk (the round's own roster builder is timed elsewhere). A street
staff user with an API token works every table.

(a) Sustained load (default 300 s at 1,000 people per second; goal: p99 < 200 ms per request). gunicorn
    serves the database as scripts/serve.sh does (scripts/gunicorn.conf.py) on a free loopback port; a
    second process (this script with ``--generate``) simulates ``--tables`` tables, each scanning people
    at ``rate / tables`` per second on a fixed schedule (open loop: a slow server makes batches bigger
    and later, never fewer people) and sending what it scanned since its last batch every 1–2 s, or at
    once when 20 are waiting, at most 200 a batch: what static/js/sampling_table.js does. Three quarters
    of the people come by static-code token, the rest by roster id (part of the ID number typed and
    found in the cached roster), one in a hundred by whole ID number. Tubes of 10 fill and close.
    ``--resend`` of the answered batches (1.5 %) are sent again as if the answer had been lost: every
    entry must come back ``duplicate`` with the same sample. A batch that fails (connection refused,
    5xx, timeout) is retried with backoff, together with what was scanned meanwhile, until answered.
    Afterwards the database is counted: rows == acknowledged people, every acknowledged client id
    stored once, no person twice, no tube over capacity. The RSS of the gunicorn workers is sampled
    every 10 s. When one round's list is used up the tables go on in the next round (300 s x 1,000/s
    is 3.6 rounds of 83,143).
(b) ``--replay``: one whole round of 83,143 people uploaded as fast as the server takes it (each table
    sends batches of ``--replay-batch`` back to back, as after an outage). Goal: under 2 minutes.
(c) ``--restart-postgres``: (a) with PostgreSQL restarted half-way; the generator retries unanswered
    batches; afterwards every acknowledged registration must be in the database. By default the run
    uses a private PostgreSQL instance (initdb in a temporary directory, its own port) so that the
    restart does not break anyone else's work on the shared server; ``--restart-command`` restarts the
    server of ``--database-url`` instead (e.g. ``"pg_ctlcluster 15 main restart"``, as root).
``--cpu N``: CPU per person in this process (no network, no other load counted): N people in batches of
    ``--batch`` through Django's WSGI handler with the Bearer token; Python CPU of this process and CPU of
    its PostgreSQL backend (/proc), per person.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERVER_LOG = HERE / "out" / "testing_server.log"
ROUND_PEOPLE = 83_143  # seed 000's round
SITES = 74
TABLES = 144
TOKEN_SHARE, ROSTER_SHARE = 75, 24  # of 100; the last one in a hundred comes by whole ID number
BATCH_MAX = 200
SEND_AT_ONCE = 20


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))], 1)


def spread(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "p99": pct(values, 99),
        "max": pct(values, 100),
    }


# ---- the load generator (its own process; no Django here) ----------------------------------------------------------


class Table:
    """One simulated table: its people in order (round by round), its queue, its tubes."""

    def __init__(self, j: int, plan: dict, rng: random.Random) -> None:
        self.j = j
        self.rng = rng
        self.order: list[tuple[int, int]] = []  # (round index, person index)
        for r, rnd in enumerate(plan["rounds"]):
            self.order += [(r, p) for p in range(j, len(rnd["roster_ids"]), plan["tables"])]
        self.queue: list[dict] = []
        self.next_person = 0
        self.tube_count: dict[int, int] = {}

    def entry(self, plan: dict, k: int, scanned_at: float) -> dict:
        r, p = self.order[k]
        rnd = plan["rounds"][r]
        n = self.tube_count.get(r, 0)
        self.tube_count[r] = n + 1
        token, id_number = plan["people"][p]
        body: dict = {
            "client_id": str(uuid.uuid4()),
            "tube_barcode": f"R{rnd['round_id']}-{self.j:03d}-{n // plan['capacity']:05d}",
            "door_to_door": False,
            "taken_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time())),
        }
        kind = (k * 7 + self.j) % 100
        if kind < TOKEN_SHARE:
            body["token"] = token
        elif kind < TOKEN_SHARE + ROSTER_SHARE:
            body["should_sample_id"] = rnd["roster_ids"][p]
        else:
            body["id_number"] = id_number
        return {"round": r, "body": body, "scanned": scanned_at}


def generate(args: argparse.Namespace) -> None:
    plan = json.loads(Path(args.generate).read_text())
    host, port, token = plan["host"], plan["port"], plan["token"]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    replay = plan["mode"] == "replay"
    n_tables = plan["tables"]
    per_table = plan["rate"] / n_tables if not replay else 0
    seconds = plan["seconds"]
    rng = random.Random(11)
    tables = [Table(j, plan, random.Random(rng.random())) for j in range(n_tables)]
    start = time.monotonic() + 1.0
    end = start + seconds
    drain_until = end + plan["drain"]
    lock = threading.Lock()
    requests: list[dict] = []
    acked: list[str] = []
    delays: list[float] = []
    refused: dict[str, int] = {}
    resend_bad: list[dict] = []

    def post(conn_box: list, path: str, raw: bytes) -> tuple[int, dict | None, float]:
        t = time.perf_counter()
        for attempt in (1, 2):
            conn = conn_box[0]
            try:
                conn.request("POST", path, body=raw, headers=headers)
                response = conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                conn.close()
                conn_box[0] = http.client.HTTPConnection(host, port, timeout=30)
                if attempt == 2:
                    return 0, None, (time.perf_counter() - t) * 1000
        ms = (time.perf_counter() - t) * 1000
        try:
            return response.status, json.loads(data), ms
        except ValueError:
            return response.status, None, ms

    def run(table: Table) -> None:
        conn_box = [http.client.HTTPConnection(host, port, timeout=30)]
        phase = table.rng.random() / per_table if per_table else 0.0
        next_send = start + table.rng.uniform(0, 2.0)
        failures = 0
        total = len(table.order)

        def due(k: int) -> float:
            return start + phase + k / per_table

        while True:
            now = time.monotonic()
            if replay:
                while table.next_person < total and len(table.queue) < plan["replay_batch"]:
                    table.queue.append(table.entry(plan, table.next_person, now))
                    table.next_person += 1
            else:
                while table.next_person < total:
                    at = due(table.next_person)
                    if at > now or at >= end:
                        break
                    table.queue.append(table.entry(plan, table.next_person, at))
                    table.next_person += 1
            more = table.next_person < total and (replay or due(table.next_person) < end)
            if not table.queue:
                if not more:
                    break
                # Nothing scanned yet: wake for the next person (and send at once if the interval is over).
                time.sleep(max(0.005, due(table.next_person) - now))
                continue
            if now > drain_until:
                break
            if not replay and now < next_send and len(table.queue) < SEND_AT_ONCE:
                wake = next_send
                need = SEND_AT_ONCE - len(table.queue)
                if more and table.next_person + need - 1 < total:
                    wake = min(wake, due(table.next_person + need - 1))
                time.sleep(max(0.005, wake - now))
                continue
            r = table.queue[0]["round"]
            batch = [q for q in table.queue[:BATCH_MAX] if q["round"] == r]
            rnd = plan["rounds"][r]
            path = f"/api/testing/rounds/{rnd['round_id']}/tables/{rnd['table_ids'][table.j]}/samples"
            raw = json.dumps({"entries": [q["body"] for q in batch]}).encode()
            sent_at = time.monotonic()
            status, answer, ms = post(conn_box, path, raw)
            row = {"t": round(sent_at - start, 3), "ms": round(ms, 1), "status": status, "n": len(batch)}
            if status != 200 or not answer or "outcomes" not in answer:
                failures += 1
                row["retry_in"] = min(5.0, 0.25 * 2**failures)
                with lock:
                    requests.append(row)
                time.sleep(row["retry_in"] * table.rng.uniform(0.75, 1.25))
                continue
            failures = 0
            answered_at = time.monotonic()
            by_id = {o["client_id"]: o for o in answer["outcomes"]}
            done_ids = set()
            local_acked, local_delays, local_refused = [], [], []
            for q in batch:
                o = by_id.get(q["body"]["client_id"])
                if o is None:
                    continue
                done_ids.add(q["body"]["client_id"])
                if o["status"] in ("created", "duplicate"):
                    local_acked.append(q["body"]["client_id"])
                    local_delays.append((answered_at - q["scanned"]) * 1000)
                else:
                    local_refused.append(o.get("message", ""))
            table.queue = [q for q in table.queue if q["body"]["client_id"] not in done_ids]
            row["created"] = sum(1 for o in answer["outcomes"] if o["status"] == "created")
            if plan["resend"] and table.rng.random() < plan["resend"]:
                # The answer was "lost": the page sends the same batch again; nothing may change.
                again_status, again, again_ms = post(conn_box, path, raw)
                row["resend_ms"] = round(again_ms, 1)
                expected = {o["client_id"]: o.get("sample_id") for o in answer["outcomes"] if o["status"] != "refused"}
                got = {o["client_id"]: (o["status"], o.get("sample_id")) for o in (again or {}).get("outcomes", [])}
                ok = again_status == 200 and all(got.get(c) == ("duplicate", s) for c, s in expected.items())
                row["resend_ok"] = ok
                if not ok:
                    with lock:
                        resend_bad.append({"status": again_status, "first": expected, "again": got})
            with lock:
                requests.append(row)
                acked.extend(local_acked)
                delays.extend(local_delays)
                for m in local_refused:
                    refused[m] = refused.get(m, 0) + 1
            next_send = sent_at + (0 if replay else table.rng.uniform(1.0, 2.0))
        conn_box[0].close()

    threads = [threading.Thread(target=run, args=(t,), daemon=True) for t in tables]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    finished = time.monotonic()
    unsent = sum(len(t.queue) for t in tables)
    scheduled = sum(t.next_person for t in tables)
    Path(plan["results"]).write_text(
        json.dumps(
            {
                "elapsed_s": finished - start,
                "scheduled_people": scheduled,
                "unanswered_people": unsent,
                "requests": requests,
                "acked": acked,
                "delays_ms": delays,
                "refused": refused,
                "resend_bad": resend_bad[:20],
            }
        )
    )


# ---- the data (Django in this process) ------------------------------------------------------------------------------


def seed_people(size: int) -> float:
    """The demo street's tree and residents only (other modules' demo steps would add their own rounds)."""
    import random as _random

    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from core.bulk import analyze
    from core.demo import SEED_000_DATE, DemoContext, load_steps
    from orgunits.models import OrgUnit
    from registry.models import Household, Resident

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    ctx = DemoContext(
        size=size, seed=2022, on=min(SEED_000_DATE, timezone.localdate()), rng=_random.Random(2022), log=lambda s: None
    )
    with transaction.atomic():
        for step in load_steps():
            if step.name in ("orgunits", "registry"):
                step.run(ctx)
    analyze(OrgUnit, Household, Resident)
    return time.monotonic() - started


def issue_codes() -> tuple[int, float]:
    """A static QR code for every resident without one (bulk; registry.services.issue_static_code one by one)."""
    import secrets

    from django.db import transaction
    from django.utils import timezone

    from core.bulk import analyze, insert_rows
    from registry.models import Resident, StaticCode
    from registry.services import STATIC_CODE_BYTES

    started = time.monotonic()
    now = timezone.now()
    with transaction.atomic():
        have = set(StaticCode.objects.filter(revoked_at__isnull=True).values_list("resident_id", flat=True))
        ids = [pk for pk in Resident.objects.values_list("pk", flat=True) if pk not in have]
        n = insert_rows(
            StaticCode,
            ["resident_id", "token", "issued_at"],
            ((pk, secrets.token_urlsafe(STATIC_CODE_BYTES), now) for pk in ids),
        )
    analyze(StaticCode)
    return n, time.monotonic() - started


def bench_user() -> tuple:
    from accounts.models import Role, User
    from accounts.services import create_user, issue_token
    from orgunits.models import Level, OrgUnit

    street = OrgUnit.objects.filter(level=Level.STREET).order_by("path").first()
    assert street is not None, "no demo street"
    user = User.objects.filter(username="bench_sampling").first()
    if user is None:
        user = create_user(
            username="bench_sampling",
            password="bench-pass-1234",
            role=Role.STREET_STAFF,
            org_unit=street,
            full_name="采样台基准",
        )
    return street, user, issue_token(user=user, name="bench")


def round_people(limit: int) -> list[tuple]:
    from registry.models import PRESENT_STATUSES, Resident

    return list(
        Resident.objects.filter(retired_at__isnull=True, left_on__isnull=True, living_status__in=PRESENT_STATUSES)
        .order_by("id")
        .values_list("id", "name", "id_number", "phone", "unit_id")[:limit]
    )


def make_round(street, user, name: str, people: list[tuple], *, sites: int = SITES, tables: int = TABLES) -> dict:
    """A running pooled round of the street with its sites, tables and should-sample list (bulk)."""
    from django.db import transaction
    from django.utils import timezone

    from core.bulk import analyze, insert_rows
    from orgunits.models import Level, OrgUnit
    from testing.models import Round, RoundStatus, SampleType, SamplingSite, SamplingTable, ShouldSample

    today = timezone.localdate()
    with transaction.atomic():
        rnd = Round.objects.create(
            unit=street,
            name=name,
            sample_type=SampleType.POOLED,
            starts_on=today,
            ends_on=today,
            status=RoundStatus.RUNNING,
            created_by=user,
        )
        communities = list(OrgUnit.objects.filter(parent=street, level=Level.COMMUNITY).order_by("path"))
        rnd.scope_units.set(communities)
        buildings = list(
            OrgUnit.objects.filter(path__startswith=street.path, level=Level.BUILDING)
            .order_by("path")
            .values_list("id", "path")
        )
        by_id = {c.pk: c for c in communities}
        site_of: dict[int, int] = {}
        made_sites = []
        for s in range(sites):
            part = buildings[s * len(buildings) // sites : (s + 1) * len(buildings) // sites]
            if not part:
                break
            community = by_id[int(part[0][1].strip("/").split("/")[2])]
            site = SamplingSite.objects.create(round=rnd, unit=community, name=f"第{s + 1}采样点")
            SamplingSite.buildings.through.objects.bulk_create(
                [SamplingSite.buildings.through(samplingsite_id=site.pk, orgunit_id=b) for b, _p in part]
            )
            for b, _p in part:
                site_of[b] = site.pk
            made_sites.append(site)
        table_ids = []
        for n, site in enumerate(made_sites):
            for number in range(1, 3 if n < tables - len(made_sites) else 2):
                table_ids.append(SamplingTable.objects.create(site=site, number=number).pk)
        table_ids = table_ids[:tables]
        insert_rows(
            ShouldSample,
            [
                "round_id",
                "resident_id",
                "name",
                "id_number",
                "phone",
                "unit_id",
                "site_id",
                "exemption",
                "exemption_note",
                "needs_door_to_door",
                "workplace",
                "workplace_kind",
            ],
            (
                (rnd.pk, pk, nm, idn, ph, unit, site_of.get(unit), "", "", False, "", "")
                for pk, nm, idn, ph, unit in people
            ),
        )
        rnd.roster_built_at = timezone.now()
        rnd.save(update_fields=["roster_built_at"])
    analyze(ShouldSample)
    roster = dict(ShouldSample.objects.filter(round=rnd).values_list("resident_id", "id"))
    return {"round_id": rnd.pk, "table_ids": table_ids, "roster_ids": [roster[p[0]] for p in people]}


def tokens_of(people: list[tuple]) -> list[list[str]]:
    from registry.models import StaticCode

    token = dict(StaticCode.objects.filter(revoked_at__isnull=True).values_list("resident_id", "token"))
    return [[token[p[0]], p[2]] for p in people]


# ---- the server and its measurements --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            sys.exit("the server stopped before serving")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"nothing answers on port {port}")


def start_server(url: str, workers: int) -> tuple[subprocess.Popen, int, str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SETTINGS_MODULE": "yibenzhang.settings",
        "WEB_ACCESS_LOG": "",
    }
    conf = ROOT / "scripts" / "gunicorn.conf.py"
    cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "yibenzhang.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    if conf.exists():  # as scripts/serve.sh serves it
        cmd += ["--config", str(conf)]
        settings = "scripts/gunicorn.conf.py"
    else:
        cmd += ["--workers", "3", "--timeout", "120"]
        settings = "3 sync workers"
    if workers:
        cmd += ["--workers", str(workers)]
        settings += f", --workers {workers}"
    if conf.exists():
        import runpy

        c = runpy.run_path(str(conf))
        settings += f" ({workers or c['workers']} {c['worker_class']} workers"
        settings += f" x {c['threads']} threads)" if c["worker_class"] == "gthread" else ")"
    # The server's errors go to a file: a pipe nobody reads fills up and then blocks every worker that logs.
    SERVER_LOG.parent.mkdir(parents=True, exist_ok=True)
    with SERVER_LOG.open("w") as log:
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    wait_for_port(port, server)
    return server, port, settings


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def worker_pids(master: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        return []


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_s() -> float:
    """CPU seconds of PostgreSQL on this machine: its live processes, and the backends that have exited
    (reaped by the postmaster: its children's times). The shared server's other users are included."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() not in ("postgres", "postmaster"):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks = int(fields[11]) + int(fields[12])
        if fields[1] == "1" or (Path(f"/proc/{fields[1]}/comm").exists() and _comm(fields[1]) != "postgres"):
            ticks += int(fields[13]) + int(fields[14])  # the postmaster: its exited children too
        total += ticks / os.sysconf("SC_CLK_TCK")
    return total


def _comm(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def machine_cpu_s() -> float:
    """CPU seconds the whole machine has been busy (all cores; /proc/stat less idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def load_now() -> dict:
    """What else the (shared) machine was doing: load average and the busiest processes over half a second."""
    load = os.getloadavg()
    out = subprocess.run(["top", "-bn2", "-d", "0.5", "-w", "200"], capture_output=True, text=True, check=False).stdout
    lines = out.splitlines()
    header = max((n for n, line in enumerate(lines) if line.lstrip().startswith("PID")), default=len(lines))
    busy = []
    for line in lines[header + 1 :]:
        cols = line.split()
        if len(cols) >= 12 and float(cols[8].replace(",", ".")) > 0:
            busy.append(f"{cols[8]}% {' '.join(cols[11:])[:60]}")
    return {"load_average_1_5_15": [round(x, 2) for x in load], "busiest": busy[:6]}


# ---- a private PostgreSQL for the restart test ----------------------------------------------------------------------


class PrivatePostgres:
    """initdb in a temporary directory, served on a free port as the postgres user; removed afterwards."""

    def __init__(self) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not bins:
            sys.exit("no PostgreSQL binaries under /usr/lib/postgresql")
        self.bin = bins[-1]
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ybz_bench_pg_"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"

    def _as_postgres(self, *cmd: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *cmd], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> str:
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self._pg_ctl("start")
        return f"postgres://postgres@127.0.0.1:{self.port}/ybz_bench_testing"

    def _pg_ctl(self, action: str) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-o", opts, "-w", action
        )

    def restart_command(self) -> list[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        return [
            *prefix,
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "log"),
            "-o",
            opts,
            "-m",
            "fast",
            "-w",
            "restart",
        ]

    def stop(self) -> None:
        try:
            self._pg_ctl("stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


# ---- the runs -------------------------------------------------------------------------------------------------------


def load_run(args: argparse.Namespace, url: str, *, replay: bool, restart: list[str] | None = None) -> dict:
    from django.db import connections
    from django.db.models import Count, F, Max, Sum

    from testing.models import Sample, Tube

    street, user, token = bench_user()
    people = round_people(ROUND_PEOPLE)
    tag = time.strftime("%H%M%S")
    if replay:
        n_rounds = 1
    else:
        n_rounds = max(1, math.ceil(args.rate * args.seconds / len(people) + 0.05))
    t0 = time.monotonic()
    rounds = [
        make_round(street, user, f"基准{'回放' if replay else '负载'}{tag}-{r + 1}", people, tables=args.tables)
        for r in range(n_rounds)
    ]
    setup_s = time.monotonic() - t0
    plan_path = HERE / "out" / ".testing_plan.json"
    results_path = HERE / "out" / ".testing_results.json"
    plan_path.parent.mkdir(parents=True, exist_ok=True)
    round_ids = [r["round_id"] for r in rounds]
    connections.close_all()
    server, port, gunicorn = start_server(url, args.workers)
    before = load_now()
    try:
        plan = {
            "host": "127.0.0.1",
            "port": port,
            "token": token,
            "mode": "replay" if replay else "load",
            "rate": args.rate,
            "seconds": args.seconds if not replay else 0,
            "tables": len(rounds[0]["table_ids"]),
            "capacity": 10,
            "resend": 0.0 if replay else args.resend,
            "replay_batch": args.replay_batch,
            "drain": 600 if replay else 120,
            "rounds": rounds,
            "people": tokens_of(people),
            "results": str(results_path),
        }
        plan_path.write_text(json.dumps(plan))
        # Warm each worker (imports, first connection) on a small round of its own, before the clock starts.
        warm_round = make_round(street, user, f"基准预热{tag}", people[:2000], tables=args.tables)
        connections.close_all()
        warm_plan = {**plan, "mode": "replay", "rounds": [warm_round], "resend": 0.0, "replay_batch": 10, "drain": 60}
        warm_plan["people"] = plan["people"][:2000]
        warm_path = HERE / "out" / ".testing_warm.json"
        warm_plan["results"] = str(warm_path) + ".out"
        warm_path.write_text(json.dumps(warm_plan))
        subprocess.run([sys.executable, __file__, "--generate", str(warm_path)], check=True, timeout=300)
        pids = [server.pid, *worker_pids(server.pid)]
        cpu0 = {p: cpu_s(p) for p in pids}
        pg0 = postgres_cpu_s()
        machine0 = machine_cpu_s()
        gen0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall0 = time.monotonic()
        gen = subprocess.Popen([sys.executable, __file__, "--generate", str(plan_path)])
        rss: list[dict] = []
        loads: list[float] = []
        busy: list[float | None] = []  # share of the machine's CPU in use, each 10 s
        busy_last: list[float] = []
        restarted: dict = {}
        next_sample = time.monotonic()
        restart_at = time.monotonic() + 1.0 + args.seconds / 2 if restart else None
        while gen.poll() is None:
            now = time.monotonic()
            if now >= next_sample:
                rss.append({"t": round(now - wall0), **{str(p): rss_mb(p) for p in worker_pids(server.pid)}})
                loads.append(round(os.getloadavg()[0], 2))
                busy_now = machine_cpu_s()
                busy.append(round((busy_now - busy_last[0]) / (10 * (os.cpu_count() or 1)), 2) if busy_last else None)
                busy_last[:] = [busy_now]
                next_sample += 10
            if restart and restart_at is not None and now >= restart_at:
                restart_at = None
                r0 = time.monotonic()
                done = subprocess.run(restart, capture_output=True, text=True, check=False)
                restarted = {
                    "at_s": round(r0 - wall0, 1),
                    "took_s": round(time.monotonic() - r0, 1),
                    "command": " ".join(restart),
                    "returncode": done.returncode,
                }
            time.sleep(0.2)
        wall = time.monotonic() - wall0
        pids = [server.pid, *worker_pids(server.pid)]
        server_cpu = sum(cpu_s(p) - cpu0.get(p, 0.0) for p in pids)
        pg_cpu = postgres_cpu_s() - pg0
        machine_cpu = machine_cpu_s() - machine0
        gen1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        gen_cpu = gen1.ru_utime + gen1.ru_stime - gen0.ru_utime - gen0.ru_stime
    finally:
        stop(server)
    connections.close_all()  # this process's connection may have died with a restart
    out = json.loads(results_path.read_text())
    for p in (plan_path, results_path, warm_path, Path(str(warm_path) + ".out")):
        p.unlink(missing_ok=True)
    reqs = out["requests"]
    ok = [r for r in reqs if r["status"] == 200]
    failed = [r for r in reqs if r["status"] != 200]
    acked = set(out["acked"])
    stored = set(Sample.objects.filter(round_id__in=round_ids).values_list("client_id", flat=True))
    rows = Sample.objects.filter(round_id__in=round_ids).count()
    repeats = Sample.objects.filter(round_id__in=round_ids, repeat_of__isnull=False).count()
    twice = (
        Sample.objects.filter(round_id__in=round_ids)
        .values("round_id", "id_number")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    tubes = Tube.objects.filter(round_id__in=round_ids)
    over = tubes.filter(filled__gt=F("capacity")).count()
    fill_check = tubes.aggregate(total=Sum("filled"), top=Max("filled"))
    people_acked = len(acked)
    elapsed = out["elapsed_s"]
    cores = os.cpu_count() or 1
    result = {
        "mode": "replay" if replay else "sustained",
        "machine_before": before,
        "load_average_1min_during": {"min": min(loads, default=0), "max": max(loads, default=0)},
        "gunicorn": gunicorn,
        "tables": plan["tables"],
        "rounds": n_rounds,
        "setup_rounds_s": round(setup_s, 1),
        "target_people_per_s": None if replay else args.rate,
        "seconds": round(elapsed, 1),
        "people_scheduled": out["scheduled_people"],
        "people_acknowledged": people_acked,
        "people_unanswered_at_the_end": out["unanswered_people"],
        "achieved_people_per_s": round(people_acked / (elapsed if replay else args.seconds), 1),
        "requests": len(reqs),
        "requests_ok": len(ok),
        "requests_failed": len(failed),
        "failed_statuses": sorted({r["status"] for r in failed}),
        "people_per_request": round(sum(r["n"] for r in ok) / max(1, len(ok)), 1),
        "latency_ms": spread([r["ms"] for r in ok]),
        "latency_p99_ms_each_10s": [
            pct([r["ms"] for r in ok if w <= r["t"] < w + 10], 99) for w in range(0, int(elapsed) + 1, 10)
        ],
        "scan_to_acknowledgement_ms": spread(out["delays_ms"]),
        "refused": out["refused"],
        "resent": sum(1 for r in ok if "resend_ok" in r),
        "resent_all_duplicate_same_sample": sum(1 for r in ok if r.get("resend_ok")),
        "resend_mismatches": out["resend_bad"],
        "rows_in_database": rows,
        "acknowledged_missing_from_database": len(acked - stored),
        "stored_not_acknowledged": len(stored - acked),
        "people_stored_twice_in_a_round": twice,
        "repeat_flags": repeats,
        "tubes": tubes.count(),
        "tubes_over_capacity": over,
        "tube_fill_sum_equals_rows": fill_check["total"] == rows,
        "no_loss_no_duplicates": rows == len(stored) == people_acked and not (acked - stored) and twice == 0,
        "gunicorn_cpu_ms_per_person": round(server_cpu * 1000 / max(1, people_acked), 2),
        "postgres_cpu_ms_per_person": round(pg_cpu * 1000 / max(1, people_acked), 2),
        "generator_cpu_ms_per_person": round(gen_cpu * 1000 / max(1, people_acked), 2),
        # Shares of the machine's cores over the run: all of it, and what neither the server, PostgreSQL nor
        # the generator used (other people's work on the shared machine).
        "machine_cpu_busy_share": round(machine_cpu / (wall * cores), 2),
        "others_cpu_share": round(max(0.0, machine_cpu - server_cpu - pg_cpu - gen_cpu) / (wall * cores), 2),
        "machine_busy_share_each_10s": busy[1:],
        "load_average_each_10s": loads,
        "worker_rss_mb_every_10s": rss,
        "goal": "< 120 s for 83,143 people" if replay else "≥ 1,000 people/s, p99 < 200 ms, no loss, no duplicates",
    }
    if restart:
        result["postgres_restart"] = restarted
    log = SERVER_LOG.read_text(errors="replace") if SERVER_LOG.exists() else ""
    result["server_log_errors"] = {
        "lines": log.count("\n"),
        "tracebacks": log.count("Traceback"),
        "last_error": next((line for line in reversed(log.splitlines()) if "Error" in line), "")[:200],
    }
    if rss:
        first = [v for k, v in rss[0].items() if k != "t" and v]
        last = [v for k, v in rss[-1].items() if k != "t" and v]
        result["worker_rss_mb_first_last"] = [round(sum(first), 1), round(sum(last), 1)]
    return result


def cpu_per_person(args: argparse.Namespace) -> dict:
    """CPU per person in-process: batches through Django's WSGI handler with the Bearer token, as gunicorn calls it."""
    import cProfile
    import io
    import pstats

    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    street, user, token = bench_user()
    people = round_people(ROUND_PEOPLE)
    n = min(args.cpu, len(people) - 200)
    rnd = make_round(street, user, f"基准CPU{time.strftime('%H%M%S')}", people, tables=args.tables)
    codes = tokens_of(people)
    handler = WSGIHandler()

    def call(path: str, payload: object) -> tuple[int, bytes]:
        raw = json.dumps(payload).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
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

        def start_response(s: str, h: Any, exc_info: Any = None) -> Any:
            status.append(s)

        body = b"".join(handler(environ, start_response))
        return int(status[0].split()[0]), body

    tables = rnd["table_ids"]
    counter = [0]

    def batch(size: int) -> int:
        k0 = counter[0]
        j = (k0 // size) % len(tables)
        entries = []
        for k in range(k0, k0 + size):
            body: dict = {"client_id": str(uuid.uuid4()), "tube_barcode": f"C{j:03d}-{k // 10:06d}"}
            kind = (k * 7) % 100
            if kind < TOKEN_SHARE:
                body["token"] = codes[k][0]
            elif kind < TOKEN_SHARE + ROSTER_SHARE:
                body["should_sample_id"] = rnd["roster_ids"][k]
            else:
                body["id_number"] = codes[k][1]
            entries.append(body)
        counter[0] = k0 + size
        status, answer = call(f"/api/testing/rounds/{rnd['round_id']}/tables/{tables[j]}/samples", {"entries": entries})
        assert status == 200, answer[:300]
        created = json.loads(answer)["created"]
        assert created == size, answer[:300]
        return created

    size = args.batch
    for _ in range(5):
        batch(size)  # warm: imports, caches, the connection
    backend = None
    if connection.vendor == "postgresql":
        connection.close()  # a fresh connection: CONN_MAX_AGE counts from its opening
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
    batches = max(1, (n - counter[0]) // size)
    db0 = cpu_s(backend) if backend else 0.0
    c0, w0 = time.process_time(), time.perf_counter()
    people_done = sum(batch(size) for _ in range(batches))
    c1, w1 = time.process_time(), time.perf_counter()
    db1 = cpu_s(backend) if backend else 0.0
    if backend:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            if cursor.fetchone()[0] != backend:
                backend = None  # the connection was replaced meanwhile: its CPU is unknown
    result = {
        "people": people_done,
        "batch": size,
        "python_cpu_ms_per_person": round((c1 - c0) * 1000 / people_done, 3),
        "python_cpu_ms_per_request": round((c1 - c0) * 1000 / batches, 2),
        "postgres_backend_cpu_ms_per_person": round((db1 - db0) * 1000 / people_done, 3) if backend else None,
        "wall_ms_per_request": round((w1 - w0) * 1000 / batches, 2),
    }
    if args.profile:
        profiler = cProfile.Profile(time.process_time)  # CPU, not time spent waiting for PostgreSQL
        profiler.enable()
        for _ in range(min(200, (len(people) - counter[0]) // size - 1)):
            batch(size)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(args.profile).print_stats(45)
        print(text.getvalue())
    return result


def seeded(url: str) -> bool:
    if url.startswith("sqlite"):
        from urllib.parse import urlparse

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generate", help=argparse.SUPPRESS)  # internal: run as the load generator
    parser.add_argument("--rate", type=float, default=1000, help="people per second, all tables together")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--tables", type=int, default=TABLES)
    parser.add_argument("--resend", type=float, default=0.015, help="share of answered batches sent again")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn processes (default: as served)")
    parser.add_argument("--size", type=int, default=87_213, help="residents of the demo street")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded benchmark database")
    parser.add_argument("--replay", action="store_true", help="(b): a whole round as fast as possible")
    parser.add_argument("--replay-batch", type=int, default=100)
    parser.add_argument("--restart-postgres", action="store_true", help="(c): (a) with PostgreSQL restarted midway")
    parser.add_argument(
        "--restart-command",
        help="restart the server of --database-url with this command instead of using a private instance",
    )
    parser.add_argument("--cpu", type=int, default=0, metavar="N", help="CPU per person in-process, N people")
    parser.add_argument("--batch", type=int, default=10, help="with --cpu: people per request")
    parser.add_argument("--profile", choices=["cumulative", "tottime"], help="with --cpu: cProfile's top 45")
    sys.path.insert(0, str(HERE))
    from common import add_database_arguments, backend_of, database_url, recreate, report, setup_django

    add_database_arguments(parser, default_name="ybz_bench_testing")
    args = parser.parse_args()
    if args.generate:
        generate(args)
        return
    private = None
    restart: list[str] | None = None
    if args.restart_postgres:
        if args.restart_command:
            restart = args.restart_command.split()
            url = database_url(args)
        else:
            private = PrivatePostgres()
            url = private.start()
            restart = private.restart_command()
    else:
        url = database_url(args)
    try:
        figures: dict = {"database": backend_of(url) + (" (private instance)" if private else "")}
        if args.reuse and seeded(url):
            setup_django(url)
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
        else:
            recreate(url)
            setup_django(url)
            figures["seed_people_s"] = round(seed_people(args.size), 1)
        n, took = issue_codes()
        figures["static_codes_issued"] = n
        figures["static_codes_s"] = round(took, 1)
        from registry.models import Resident

        figures["residents"] = Resident.objects.count()
        name = "testing"
        if args.cpu:
            figures["cpu"] = cpu_per_person(args)
            name = "testing_cpu"
        else:
            figures["run"] = load_run(args, url, replay=args.replay, restart=restart)
            name = "testing_replay" if args.replay else "testing_restart" if restart else "testing_load"
        report(f"{name}_{backend_of(url)}", figures)
    finally:
        if private is not None:
            from django.db import connections

            connections.close_all()
            private.stop()


if __name__ == "__main__":
    main()
