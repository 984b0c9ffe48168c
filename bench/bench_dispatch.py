"""Benchmark report → dispatch decision over HTTP against the real server, province-scale data.

    python -m bench.bench_dispatch --db sqlite --clients 16 --duration 30
    python -m bench.bench_dispatch --db postgres --clients 16 --duration 30 [--redis]
    python -m bench.bench_dispatch --db postgres --rate 300 --duration 30   # open loop
    python -m bench.bench_dispatch --db sqlite --py-spy /tmp/spy   # + where server CPU goes
    python -m bench.bench_dispatch --db sqlite --floor   # GET /api/auth/me: framework floor
    python -m bench.bench_dispatch --db sqlite --side-by-side --reps 2 --out results.jsonl
    python -m bench.bench_dispatch --db postgres --side-by-side --rate 100 --out results.jsonl
    python -m bench.bench_dispatch --db sqlite --floor-variants sync:2:1,gthread:2:4,gthread:2:8

What it does:

1. Prepares a database: a SQLite file under ``--cache-dir`` or the PostgreSQL database
   ``pingan_bench`` (dropped and created), loaded by ``bench.scale_db`` (50,000 grids, 20,000
   units by default). A loaded database with the same sizes is reused unless ``--reload``;
   incidents, assignments, throttles and tokens of earlier runs are deleted first and every unit
   is put back on duty, free, with a fresh position.
2. Starts the real server, ``python -m pingan.cli serve --migrate``, as a subprocess with
   ``DISPATCH_OFFER_TIMEOUT_SECONDS=0`` (offers never expire, so no expiry tasks) and a very high
   ``ANON_REPORTS_PER_HOUR``. With ``--redis`` it sets ``REDIS_URL`` (db 15), so the server runs
   several uvicorn worker processes.
3. Logs ``--citizens`` citizens in through ``POST /api/auth/login`` and reads the category codes
   from ``GET /api/categories``.
4. Drives ``POST /api/incidents`` from one asyncio process over keep-alive loopback connections
   (a small HTTP/1.1 client on uvloop, to leave the cores to the server): random points inside
   random grids across the province, random category codes, ``--anon-share`` of the reports
   anonymous (each from its own ``X-Forwarded-For`` address, trusted from 127.0.0.1 through
   ``TRUSTED_PROXIES`` as from a proxy), the rest with a citizen's bearer token. Anonymous
   requests carry a CSRF cookie and header fetched once from ``GET /login/``: without them the
   API answers 403 (the session authenticator of ``OPTIONAL`` checks CSRF before the anonymous
   one runs).
   Closed loop by default: ``--clients`` connections each send the next report when the
   previous one is answered (maximum throughput). ``--rate R``: open loop, Poisson arrivals at R
   reports/s over at most ``--clients`` connections; latency counts from the scheduled send
   time, so queueing behind a slow server is included.
5. Units finishing jobs: every report takes a unit, so a background thread in this process
   runs, every ``--free-every`` s, one SQL ``UPDATE incidents_unit SET current_assignment_id =
   NULL`` for units whose current offer is older than ``--free-after`` s. This simulates units
   finishing jobs without the cost of resolving incidents through the API; the assignments
   keep status ``offered`` (nobody accepts them). The UPDATE competes with the server for the
   database like any other writer.
6. Measures over the steady window (after ``--warmup`` s), over the requests answered in it:
   2xx/s, client-side latency p50/p90/p99/max (from when each request was due: in an
   overloaded open loop that includes the backlog), errors by status (``unfinished``: due in
   the window, never answered before the run ended), how many reports got a unit, and a
   server-side split from the response's ``reported_at`` (the server's clock when
   ``services.report`` starts; same machine, same clock): ``reported_at - sent`` (queue, HTTP
   parsing, auth) and ``received - reported_at`` (report, dispatch, commit, live push,
   response). CPU seconds of the server processes, PostgreSQL, Redis, this load generator and
   the whole machine are read from /proc; ``other`` is what anybody else ran meanwhile
   (``--wait-quiet S`` waits for an idle machine first). ``--py-spy FILE`` samples the server
   (``py-spy record --gil``) over the measured window and prints its Python CPU per report by
   part of the code path.

The load generator shares the 2 cores with the server (and PostgreSQL / Redis): its CPU share is
printed so the numbers can be read with that in mind.

``--side-by-side``: pingan against a floor in one run. The floor (bench/floor) is a bare Django
5.2 + django-ninja app that validates the same report body (pingan's ``ReportIn``) and does one
ORM INSERT (SQLite with pingan's PRAGMAs, or the PostgreSQL database ``pingan_floor``, recreated
each run; persistent connections), served by gunicorn with exactly pingan's arguments
(``pingan.serving.gunicorn_argv``; the arguments of both gunicorn masters are read back from
/proc and compared). Both servers stay up, each on its own port, and are measured alternately,
floor then pingan, ``--reps`` times, with the same load (closed loop, or ``--rate`` open loop);
the idle one's CPU is counted apart (``idle servers``). Per measurement: 2xx/s, latency, server
CPU ms per report, PostgreSQL CPU ms per report (the backends of that server's database only;
PostgreSQL's shared processes apart), and ``other`` cores: the noise. Before each pingan rep
every unit is freed and stale positions refreshed; the unit-freeing thread runs throughout; a
pingan measurement where a report got no unit is flagged invalid.

While pingan is measured, a board (the city commander of bench.scale_db, scope: the whole
province) is connected on pingan's WebSocket (``--ws-port``; default the HTTP port + 1 when
pingan's process tree listens there, else the HTTP port), logged in through the HTML login form.
For every report answered in the window: the time from when its request was written to when the
board received its ``push.event`` of kind ``reported`` (matched by incident code; the push may
come before the response); reports without one within ``--push-limit`` s are counted.

``--floor-variants CLASS:WORKERS:THREADS,...``: the floor alone under several gunicorn set-ups,
measured the same way (to choose the worker class). ``--out FILE`` appends one JSON line per
measurement and one with the summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench._keys import ENV as KEYS
from bench.scale_db import (
    CITIZEN_PASSWORD,
    CITIZEN_PREFIX,
    COMMANDER_USERNAME,
    random_point_in,
)
from bench.scale_grids import generate_grids

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_DB = "pingan_bench"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
REDIS_URL = "redis://127.0.0.1:6379/15"
DESCRIPTIONS = [
    "小区门口有人争吵，情绪激动",
    "电动车被盗，停在楼下",
    "路口两车剐蹭，双方争执",
    "有老人走失，穿灰色外套",
    "商铺门口有人打架",
    "接到可疑电话，自称公检法要求转账",
]


# --- database preparation -------------------------------------------------------------------


@dataclass
class Target:
    kind: str  # sqlite | postgres
    url: str
    data_dir: Path
    sqlite_path: Path | None = None


def target_for(args) -> Target:
    cache = Path(args.cache_dir)
    tag = f"{args.grids}g-{args.units}u-s{args.seed}"
    data_dir = cache / f"data-{args.db}"
    if args.db == "sqlite":
        path = cache / f"bench-{tag}.sqlite3"
        return Target("sqlite", f"sqlite:///{path}", data_dir, path)
    return Target("postgres", PG_URL, data_dir)


def sql_connect(target: Target):
    if target.kind == "sqlite":
        conn = sqlite3.connect(target.sqlite_path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=30000")
        return conn
    import psycopg

    return psycopg.connect(
        f"host=127.0.0.1 port=5432 user=postgres dbname={PG_DB}", autocommit=True
    )


def loaded_sizes(target: Target) -> tuple[int, int, int] | None:
    if target.kind == "sqlite" and not target.sqlite_path.exists():
        return None
    try:
        conn = sql_connect(target)
    except Exception:
        return None
    try:
        one = lambda q: conn.execute(q).fetchone()[0]  # noqa: E731
        return (
            one("SELECT count(*) FROM orgs_grid"),
            one("SELECT count(*) FROM incidents_unit"),
            one(f"SELECT count(*) FROM accounts_user WHERE username LIKE '{CITIZEN_PREFIX}%'"),
        )
    except Exception:
        return None
    finally:
        conn.close()


def recreate(target: Target) -> None:
    if target.kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target.sqlite_path}{suffix}").unlink(missing_ok=True)
        target.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DB}")


def base_env(target: Target, args) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "pingan.settings",
            **KEYS,
            "DATABASE_URL": target.url,
            "PINGAN_DATA_DIR": str(target.data_dir),
            "DISPATCH_OFFER_TIMEOUT_SECONDS": "0",
            "ANON_REPORTS_PER_HOUR": "100000000",
            # Plain HTTP on 127.0.0.1, and no flood limits: the load is the point (issue 11).
            "PINGAN_HTTPS": "0",
            "RESIDENT_REPORTS_PER_HOUR": "0",
            "RESIDENT_REPORTS_PER_DAY": "0",
            "API_RATE_LIMIT_PER_ACCOUNT": "0",
            "API_RATE_LIMIT_PER_ADDRESS": "0",
            "LOG_LEVEL": "WARNING",
            # The load generator plays a proxy: each anonymous report carries its own
            # X-Forwarded-For, which pingan believes only from a configured proxy.
            "TRUSTED_PROXIES": "127.0.0.1",
        }
    )
    for key in ("REDIS_URL", "PINGAN_DEMO", "PINGAN_DEBUG", "PINGAN_TESTING"):
        env.pop(key, None)
    if args.conn_max_age is not None:
        env["DB_CONN_MAX_AGE"] = str(args.conn_max_age)
    if args.redis:
        env["REDIS_URL"] = REDIS_URL
    return env


def ensure_loaded(target: Target, args) -> float | None:
    """Load the data set unless an identical one is already there; returns load seconds."""
    want = (args.grids, args.units, args.load_citizens)
    marker = Path(args.cache_dir) / f"{target.kind}-loaded.json"
    stamp = {
        "grids": args.grids,
        "units": args.units,
        "citizens": args.load_citizens,
        "seed": args.seed,
        "url": target.url,
    }
    have = None
    if not args.reload and marker.exists() and json.loads(marker.read_text()) == stamp:
        have = loaded_sizes(target)
    if have == want:
        print(f"reusing loaded {target.kind} database ({have[0]} grids, {have[1]} units)")
        return None
    print(f"loading {target.kind} database: {args.grids} grids, {args.units} units ...", flush=True)
    recreate(target)
    target.data_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    env = base_env(target, args)
    env.pop("REDIS_URL", None)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.scale_db",
            "--grids",
            str(args.grids),
            "--units",
            str(args.units),
            "--citizens",
            str(args.load_citizens),
            "--seed",
            str(args.seed),
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    marker.write_text(json.dumps(stamp))
    return time.perf_counter() - start


def db_now(target: Target):
    now = datetime.now(UTC)
    # Django stores SQLite datetimes as naive UTC text.
    return now.replace(tzinfo=None).isoformat(sep=" ") if target.kind == "sqlite" else now


def reset_state(target: Target) -> None:
    """Forget earlier runs: no incidents, every unit on duty, free, freshly positioned."""
    conn = sql_connect(target)
    p = "?" if target.kind == "sqlite" else "%s"
    try:
        conn.execute("BEGIN")
        conn.execute(
            f"UPDATE incidents_unit SET current_assignment_id = NULL, on_duty = {p}, "
            f"position_at = {p}",
            (True, db_now(target)),
        )
        for table in (
            "incidents_incidentevent",
            "incidents_incidentphoto",
            "incidents_assignment",
            "incidents_incident",
            "incidents_reportthrottle",
            "incidents_dailysequence",
            "accounts_apitoken",
            "django_session",
        ):
            conn.execute(f"DELETE FROM {table}")
        conn.execute("COMMIT")
        try:
            conn.execute("DELETE FROM django_tasks_db_dbtaskresult")
        except Exception:
            if target.kind == "postgres":
                conn.rollback()
        if target.kind == "sqlite":
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:  # the UPDATE above left a dead copy of every unit row
            conn.execute("VACUUM ANALYZE")
    finally:
        conn.close()


class UnitFreer(threading.Thread):
    """Every `every` s, free units whose current offer is older than `after` s."""

    def __init__(self, target: Target, every: float, after: float):
        super().__init__(daemon=True, name="unit-freer")
        self.target, self.every, self.after = target, every, after
        self.stop = threading.Event()
        self.freed = 0
        self.seconds = 0.0

    def run(self) -> None:
        conn = sql_connect(self.target)
        p = "?" if self.target.kind == "sqlite" else "%s"
        sql = (
            "UPDATE incidents_unit SET current_assignment_id = NULL WHERE "
            "current_assignment_id IN (SELECT id FROM incidents_assignment WHERE "
            f"offered_at < {p})"
        )
        try:
            while not self.stop.wait(self.every):
                cutoff = datetime.now(UTC) - timedelta(seconds=self.after)
                cutoff = (
                    cutoff.replace(tzinfo=None).isoformat(sep=" ")
                    if self.target.kind == "sqlite"
                    else cutoff
                )
                start = time.perf_counter()
                cur = conn.execute(sql, (cutoff,))
                self.seconds += time.perf_counter() - start
                self.freed += max(cur.rowcount, 0)
        finally:
            conn.close()


# --- server process ---------------------------------------------------------------------------


def code_version() -> str:
    """The commit measured, with '+changes' when the app's files differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            text=True,
            capture_output=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "pingan"],
            cwd=ROOT,
            text=True,
            capture_output=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    target: Target, args, port: int, log_path: Path, extra: list[str] | None = None
) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "pingan.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--migrate",
    ]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    cmd += extra or []
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=base_env(target, args),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the server's own session: it and its workers
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def process_tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def cpu_seconds(pids: list[int], children: bool = True) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            # utime, stime, and cutime, cstime: children already reaped (a PostgreSQL backend
            # that served one short connection, for instance) count for their parent.
            total += sum(int(v) for v in fields[11 : 15 if children else 13])
        except (OSError, IndexError, ValueError):
            pass
    return total / ticks


def pids_named(*names: str) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as fh:
                    if fh.read().strip() in names:
                        out.append(int(entry))
            except OSError:
                pass
    return out


def cpu_snapshot(server_pid: int) -> dict:
    """CPU seconds so far: the server's processes, PostgreSQL, Redis, this process, machine."""
    busy, total = machine_busy()
    return {
        "server": cpu_seconds(process_tree(server_pid)),
        "postgres": cpu_seconds(pids_named("postgres")),
        "redis": cpu_seconds(pids_named("redis-server")),
        "client": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
        "machine": busy,
        "machine_total": total,
    }


def cpu_cores(before: dict, after: dict, seconds: float) -> dict:
    """Average cores used by each party over the window; `other` is everything else running
    on the machine (other users' jobs: the result is skewed when it is not ~0)."""
    cores = {k: (after[k] - before[k]) / seconds for k in before if k != "machine_total"}
    ncpu = os.cpu_count() or 1
    cores["machine"] = (
        (after["machine"] - before["machine"])
        / (after["machine_total"] - before["machine_total"])
        * ncpu
    )
    parties = [k for k in before if k not in ("machine", "machine_total")]
    cores["other"] = max(0.0, cores["machine"] - sum(cores[k] for k in parties))
    return cores


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + values[4]
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / ticks, sum(values) / ticks


def wait_quiet(max_wait: float, threshold: float = 0.15) -> None:
    """Wait (up to max_wait s) until the machine idles: other jobs would skew the result."""
    deadline = time.time() + max_wait
    while True:
        busy0, total0 = machine_busy()
        time.sleep(3)
        busy1, total1 = machine_busy()
        used = (busy1 - busy0) / (total1 - total0) * (os.cpu_count() or 1)
        if used < threshold or time.time() > deadline:
            print(f"machine busy {used:.2f} cores before the run", flush=True)
            return


# --- HTTP client ------------------------------------------------------------------------------


class HttpError(Exception):
    pass


class Connection:
    """A minimal keep-alive HTTP/1.1 client connection (Content-Length or chunked bodies)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict | None = None
    ) -> tuple[int, bytes]:
        status, _, data = await self.exchange(method, path, body, headers)
        return status, data

    async def exchange(
        self, method: str, path: str, body: bytes = b"", headers: dict | None = None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if self.writer is None:
            await self.open()
        head = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Accept: application/json",
        ]
        if body:
            if not any(key.lower() == "content-type" for key in headers or {}):
                head.append("Content-Type: application/json")
            head.append(f"Content-Length: {len(body)}")
        for key, value in (headers or {}).items():
            head.append(f"{key}: {value}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        try:
            status_line = await self.reader.readline()
            if not status_line:
                raise HttpError("connection closed")
            status = int(status_line.split()[1])
            length, chunked, close = None, False, False
            received = []
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, raw = line.decode("latin-1").partition(":")
                received.append((name.strip().lower(), raw.strip()))
                name, value = name.strip().lower(), raw.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "transfer-encoding" and "chunked" in value:
                    chunked = True
                elif name == "connection" and value == "close":
                    close = True
            if chunked:
                parts = []
                while True:
                    size = int((await self.reader.readline()).split(b";")[0], 16)
                    if size == 0:
                        await self.reader.readline()
                        break
                    parts.append(await self.reader.readexactly(size))
                    await self.reader.readline()
                data = b"".join(parts)
            elif length is not None:
                data = await self.reader.readexactly(length)
            else:
                data = await self.reader.read()
                close = True
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            self.close()
            raise HttpError(str(exc)) from exc
        if close:
            self.close()
        return status, received, data


# --- load -------------------------------------------------------------------------------------


@dataclass
class Sample:
    sent: float  # wall clock (time.time) when the request was due
    done: float
    status: int
    server_start: float | None = None  # the incident's reported_at
    dispatched: bool = False
    duplicate: bool = False
    wire: float = 0.0  # wall clock when the request was written (open loop: may be after `sent`)
    code: str | None = None  # the incident's code, to find its live push


@dataclass
class Workload:
    points: list[tuple[float, float]]
    categories: list[str]
    tokens: list[str]
    anon_share: float
    csrf: str
    floor: bool = False
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    i: int = 0

    def next_request(self) -> tuple[str, str, bytes, dict]:
        self.i += 1
        if self.floor:  # framework + token auth + one query: the floor any endpoint pays
            token = self.tokens[self.i % len(self.tokens)]
            return "GET", "/api/auth/me", b"", {"Authorization": f"Bearer {token}"}
        lng, lat = self.points[self.i % len(self.points)]
        body = {
            "category": self.rng.choice(self.categories),
            "description": self.rng.choice(DESCRIPTIONS),
            "location": {"lat": round(lat, 6), "lng": round(lng, 6), "crs": "wgs84"},
            "address": "",
        }
        if self.tokens and self.rng.random() >= self.anon_share:
            headers = {"Authorization": f"Bearer {self.rng.choice(self.tokens)}"}
        else:
            body["anonymous"] = True
            ip = self.rng.randrange(1, 1 << 20)
            headers = {
                "X-Forwarded-For": f"10.{ip >> 12 & 255}.{ip >> 4 & 255}.{(ip & 15) + 1}",
                "Cookie": f"csrftoken={self.csrf}",
                "X-CSRFToken": self.csrf,
            }
        return "POST", "/api/incidents", json.dumps(body, ensure_ascii=False).encode(), headers


def record(sample: Sample, status: int, data: bytes) -> None:
    sample.done, sample.status = time.time(), status
    if 200 <= status < 300:
        try:
            body = json.loads(data)
            sample.server_start = datetime.fromisoformat(body["reported_at"]).timestamp()
            sample.dispatched = body.get("assignment") is not None
            sample.duplicate = body.get("duplicate_of") is not None
            sample.code = body.get("code")
        except (ValueError, KeyError, TypeError):
            pass


async def closed_loop(
    port: int, workload: Workload, clients: int, seconds: float, samples: list[Sample]
) -> None:
    end = time.time() + seconds

    async def client() -> None:
        conn = Connection("127.0.0.1", port)
        while time.time() < end:
            method, path, body, headers = workload.next_request()
            sample = Sample(time.time(), 0.0, 0)
            sample.wire = sample.sent
            try:
                status, data = await conn.request(method, path, body, headers)
            except HttpError:
                status, data = -1, b""
            record(sample, status, data)
            samples.append(sample)
        conn.close()

    await asyncio.gather(*(client() for _ in range(clients)))


async def open_loop(
    port: int, workload: Workload, clients: int, rate: float, seconds: float, samples: list[Sample]
) -> None:
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(clients):
        pool.put_nowait(Connection("127.0.0.1", port))
    rng = random.Random(11)
    tasks = set()

    async def one(due: float) -> None:
        sample = Sample(due, 0.0, 0)  # status 0 until answered: "unfinished" if never
        samples.append(sample)
        conn = await pool.get()
        method, path, body, headers = workload.next_request()
        sample.wire = time.time()
        try:
            status, data = await conn.request(method, path, body, headers)
        except HttpError:
            status, data = -1, b""
        finally:
            pool.put_nowait(conn)
        record(sample, status, data)

    start = time.time()
    due = start
    while due < start + seconds:
        due += rng.expovariate(rate)
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.ensure_future(one(due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:  # a little grace for requests in flight; the backlog of an overload is dropped
        await asyncio.wait(tasks, timeout=5)
        for task in list(tasks):
            task.cancel()
    while not pool.empty():
        pool.get_nowait().close()


async def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        conn = Connection("127.0.0.1", port)
        try:
            status, _ = await conn.request("GET", "/api/categories")
            if status == 200:
                return
        except (OSError, HttpError):
            pass
        finally:
            conn.close()
        await asyncio.sleep(0.3)
    raise RuntimeError("server did not answer in time")


async def setup_clients(port: int, citizens: int) -> tuple[list[str], list[str], str]:
    conn = Connection("127.0.0.1", port)
    status, data = await conn.request("GET", "/api/categories")
    if status != 200:
        raise RuntimeError(f"GET /api/categories: {status}")
    categories = [c["code"] for c in json.loads(data)]
    # Anonymous API reports go through the session authenticator, which enforces CSRF even
    # without a session: fetch a CSRF cookie from the login page, as the report page would.
    status, headers, _ = await conn.exchange("GET", "/login/")
    csrf = ""
    for name, value in headers:
        if name == "set-cookie" and value.startswith("csrftoken="):
            csrf = value.split(";", 1)[0].split("=", 1)[1]
    if not csrf:
        raise RuntimeError(f"GET /login/ ({status}) set no csrftoken cookie")
    tokens = []
    for i in range(citizens):
        body = json.dumps(
            {"username": f"{CITIZEN_PREFIX}{i + 1:04d}", "password": CITIZEN_PASSWORD}
        ).encode()
        status, data = await conn.request("POST", "/api/auth/login", body)
        if status != 200:
            raise RuntimeError(f"login {i + 1}: {status} {data[:200]!r}")
        tokens.append(json.loads(data)["token"])
    conn.close()
    return categories, tokens, csrf


def sample_points(args, count: int) -> list[tuple[float, float]]:
    polygons = generate_grids(args.grids, seed=args.seed)
    rng = np.random.default_rng(args.seed + 100)
    picks = rng.integers(len(polygons), size=count)
    return [random_point_in(polygons[int(k)][1], rng) for k in picks]


# --- report -----------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def summarise(samples: list[Sample], t0: float, t1: float) -> dict:
    """Requests answered within [t0, t1) (latency counted from when each was due, so an open
    loop's backlog shows), plus those due in the window and never answered ("unfinished")."""
    window = [s for s in samples if s.status != 0 and t0 <= s.done < t1]
    ok = [s for s in window if 200 <= s.status < 300]
    done_ok = len(ok)
    lat = [(s.done - s.sent) * 1000 for s in window]
    errors: dict[str, int] = {}
    for s in window:
        if not 200 <= s.status < 300:
            key = "conn" if s.status < 0 else str(s.status)
            errors[key] = errors.get(key, 0) + 1
    unfinished = sum(1 for s in samples if s.status == 0 and t0 <= s.sent < t1)
    if unfinished:
        errors["unfinished"] = unfinished
    pre = [(s.server_start - s.sent) * 1000 for s in ok if s.server_start]
    post = [(s.done - s.server_start) * 1000 for s in ok if s.server_start]
    return {
        "window_s": t1 - t0,
        "requests": len(window),
        "ok": len(ok),
        "throughput": done_ok / (t1 - t0),
        "p50": pct(lat, 50),
        "p90": pct(lat, 90),
        "p99": pct(lat, 99),
        "max": max(lat) if lat else float("nan"),
        "mean": statistics.fmean(lat) if lat else float("nan"),
        "errors": errors,
        "dispatched": sum(s.dispatched for s in ok),
        "duplicates": sum(s.duplicate for s in ok),
        "pre_p50": pct(pre, 50),
        "pre_p99": pct(pre, 99),
        "post_p50": pct(post, 50),
        "post_p99": pct(post, 99),
    }


# Where a sampled stack's time goes: the first of these met walking from the leaf to the root.
PROFILE_PARTS = [
    ("live push after commit (live.publish.publish_event)", "publish_event (pingan/live/publish"),
    ("dispatch.candidates (unit query + ranking)", "candidates (pingan/incidents/dispatch"),
    ("_offer (assignment insert + unit update)", "_offer (pingan/incidents/services"),
    ("_search_scope / county_of", "_search_scope (pingan/incidents/services"),
    ("_offered_unit_ids", "_offered_unit_ids (pingan/incidents/services"),
    ("_event (timeline insert)", "_event (pingan/incidents/services"),
    ("next_code (daily sequence)", "next_code (pingan/incidents/services"),
    ("find_duplicate", "find_duplicate (pingan/incidents/services"),
    ("targets_for (SLA policy)", "targets_for (pingan/orgs/services"),
    ("check_anonymous_quota", "check_anonymous_quota (pingan/incidents/services"),
    ("locate_grid (index + grid row)", "locate_grid (pingan/orgs/services"),
    (
        "rest of services.report (category, incident insert, BEGIN/COMMIT)",
        "report (pingan/incidents/services",
    ),
    ("incident_snapshot (response body)", "incident_snapshot (pingan/incidents/snapshot"),
    ("bearer token lookup (user_for_token)", "user_for_token (pingan/accounts/services"),
    ("DB connect / close per request", "get_new_connection ("),
    ("DB connect / close per request", "close_old_connections ("),
    ("django-ninja (parse, validate, render)", "(ninja/"),
    ("Django middleware / handler", "(django/"),
    ("asgiref thread hand-offs", "(asgiref/"),
    ("uvicorn / asyncio / channels", "(uvicorn/"),
]


GENERIC_PARTS = next(i for i, (_, needle) in enumerate(PROFILE_PARTS) if needle == "(ninja/")


def summarise_profile(path: str, requests: int, rate_hz: int = 100) -> list[tuple[str, float]]:
    """Milliseconds of server Python CPU (GIL held, all processes) per report, by part."""
    per_part: dict[str, int] = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = fh.readlines()
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        part = "other (event loop, background threads, interpreter)"
        # The app's own functions first (the deepest one wins), libraries only when none.
        for group in (PROFILE_PARTS[:GENERIC_PARTS], PROFILE_PARTS[GENERIC_PARTS:]):
            hit = next(
                (name for frame in reversed(frames) for name, needle in group if needle in frame),
                None,
            )
            if hit:
                part = hit
                break
        per_part[part] = per_part.get(part, 0) + int(count)
    ms = 1000 / rate_hz / max(requests, 1)
    return sorted(((k, v * ms) for k, v in per_part.items()), key=lambda kv: -kv[1])


# --- side by side: pingan against the floor app, in one run ----------------------------------

FLOOR_APP = "bench.floor.wsgi:application"
FLOOR_CONF = "python:bench.floor.gunicorn_conf"
PINGAN_CONF = "python:pingan.gunicorn_conf"
FLOOR_PG_DB = "pingan_floor"
PUSH_KIND = "reported"


def gunicorn_base_argv(app: str, port: int, workers: int) -> tuple[list[str], str]:
    """pingan's own gunicorn arguments (`pingan.serving.gunicorn_argv`), or, before that module
    exists, the agreed stand-in; returns (argv after `python -m gunicorn`, where it came from)."""
    try:
        from pingan.serving import gunicorn_argv
    except ImportError:
        workers = workers or os.cpu_count() or 1
        argv = ["-k", "gthread", "--threads", "4", "-w", str(workers)]
        return [*argv, "-b", f"127.0.0.1:{port}", app], "fallback (no pingan.serving)"
    return list(gunicorn_argv(app, "127.0.0.1", port, workers)), "pingan.serving.gunicorn_argv"


def floor_argv(port: int, workers: int, threads: int, worker_class: str = "") -> list[str]:
    """The floor's gunicorn arguments: pingan's, with the floor's copy of pingan's config file
    (pingan's warm-up hook needs pingan's settings); later options override earlier ones."""
    argv, _ = gunicorn_base_argv(FLOOR_APP, port, workers)
    argv = [FLOOR_CONF if a == PINGAN_CONF else a for a in argv]
    extra = []
    if worker_class:
        extra += ["--worker-class", worker_class]
    if threads:
        extra += ["--threads", str(threads)]
    elif worker_class == "sync":
        extra += ["--threads", "1"]  # gunicorn turns sync with threads > 1 into gthread
    return argv[:-1] + extra + argv[-1:]


def gunicorn_master_argv(pid: int) -> list[str]:
    """The arguments of the gunicorn master in a process tree, as the kernel has them."""
    tree = process_tree(pid)
    for p in sorted(tree):
        try:
            with open(f"/proc/{p}/cmdline", "rb") as fh:
                words = [w.decode(errors="replace") for w in fh.read().split(b"\0") if w]
        except OSError:
            continue
        if "gunicorn" in words[:4]:
            return words[words.index("gunicorn") + 1 :]
    return []


def normalised_gunicorn(argv: list[str]) -> list[str]:
    """Arguments minus what must differ between two apps: bind, app, config module."""
    out, skip = [], False
    for i, word in enumerate(argv):
        if skip:
            skip = False
            continue
        if word in ("-b", "--bind", "-c", "--config"):
            out.append(f"{word} *")
            skip = True
        elif i == len(argv) - 1 and ":" in word and not word.startswith("-"):
            out.append("APP")
        else:
            out.append(word)
    return out


def listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as fh:
                next(fh)
                for line in fh:
                    parts = line.split()
                    if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(parts[9])
        except (OSError, IndexError, ValueError, StopIteration):
            pass
    return inodes


def port_owner(pid: int, port: int) -> str:
    """'ours' when only the process tree of `pid` listens on `port`, 'foreign' when anybody
    else listens there too (a port race with another session), 'none' when nobody listens."""
    inodes = listening_inodes(port)
    if not inodes:
        return "none"
    held = set()
    for p in process_tree(pid):
        try:
            fds = os.listdir(f"/proc/{p}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{p}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                held.add(link[8:-1])
    if inodes <= held:
        return "ours"
    return "foreign"


def free_port_pair() -> int:
    """A port P with P+1 free as well (pingan's socket server defaults to P+1)."""
    for _ in range(200):
        port = free_port()
        if port >= 65535:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no pair of free ports")


def postgres_cpu(db: str | None) -> tuple[float, float]:
    """CPU seconds of (the backends of database `db`, PostgreSQL's shared processes). Backends
    of other databases are someone else's work (`other`); the postmaster counts without its
    reaped children (mostly other sessions' short connections)."""
    own = shared = 0.0
    for pid in pids_named("postgres"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                words = fh.read().replace(b"\0", b" ").decode(errors="replace").split()
        except OSError:
            continue
        if not words or words[0] != "postgres:":  # the postmaster
            shared += cpu_seconds([pid], children=False)
            continue
        words = words[1:]
        if words and words[0].endswith(":"):  # cluster_name, e.g. "15/main:"
            words = words[1:]
        # a backend: "user db 127.0.0.1(port) state"; "autovacuum worker db"; else shared
        backend = len(words) >= 3 and ("(" in words[2] or words[2] == "[local]")
        autovacuum = words[:2] == ["autovacuum", "worker"]
        if backend or autovacuum:
            name = words[2] if autovacuum and len(words) > 2 else words[1]
            if db is not None and name == db:
                own += cpu_seconds([pid])
        else:
            shared += cpu_seconds([pid])
    return own, shared


def kernel_irq_seconds() -> float:
    """irq + softirq time of the whole machine (/proc/stat): mostly loopback TCP here, which
    no process is charged for."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    return (values[5] + values[6]) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot_sbs(measured_pid: int, idle_pids: list[int], db: str | None) -> dict:
    busy, total = machine_busy()
    pg_own, pg_shared = postgres_cpu(db)
    return {
        "irq": kernel_irq_seconds(),
        "server": cpu_seconds(process_tree(measured_pid)),
        "idle_servers": sum(cpu_seconds(process_tree(p)) for p in idle_pids),
        "postgres": pg_own,
        "pg_shared": pg_shared,
        "redis": cpu_seconds(pids_named("redis-server")),
        "client": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
        "machine": busy,
        "machine_total": total,
    }


def refresh_units(target: Target) -> None:
    """Before a pingan rep: every unit free, and positions that will not go stale in the rep
    (dispatch ignores positions older than POSITION_STALE_MINUTES)."""
    conn = sql_connect(target)
    p = "?" if target.kind == "sqlite" else "%s"
    cutoff = datetime.now(UTC) - timedelta(minutes=5)
    cutoff = cutoff.replace(tzinfo=None).isoformat(sep=" ") if target.kind == "sqlite" else cutoff
    try:
        conn.execute(
            f"UPDATE incidents_unit SET position_at = {p}, on_duty = {p} WHERE position_at < {p}",
            (db_now(target), True, cutoff),
        )
        conn.execute(
            "UPDATE incidents_unit SET current_assignment_id = NULL "
            "WHERE current_assignment_id IS NOT NULL"
        )
        if target.kind == "postgres":
            conn.execute("VACUUM incidents_unit")
    finally:
        conn.close()


def ensure_commander(target: Target, args) -> None:
    """The board's account (bench.scale_db's commander), added to databases loaded before it."""
    conn = sql_connect(target)
    try:
        p = "?" if target.kind == "sqlite" else "%s"
        have = conn.execute(
            f"SELECT count(*) FROM accounts_user WHERE username = {p}", (COMMANDER_USERNAME,)
        ).fetchone()[0]
    finally:
        conn.close()
    if not have:
        env = base_env(target, args)
        env.pop("REDIS_URL", None)
        subprocess.run(
            [sys.executable, "-m", "bench.scale_db", "--commander-only"],
            cwd=ROOT,
            env=env,
            check=True,
        )


def floor_database(args) -> tuple[str, str | None]:
    """A fresh floor database: (DATABASE_URL, PostgreSQL database name or None)."""
    if args.db == "sqlite":
        path = Path(args.cache_dir) / "floor.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}", None
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {FLOOR_PG_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {FLOOR_PG_DB}")
    return f"postgres://postgres@127.0.0.1:5432/{FLOOR_PG_DB}", FLOOR_PG_DB


def floor_env(args, url: str) -> dict:
    env = dict(os.environ)
    for key in ("REDIS_URL", "PINGAN_DEMO", "PINGAN_DEBUG", "PINGAN_TESTING"):
        env.pop(key, None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.floor.settings",
            "DATABASE_URL": url,
            **KEYS,
            "FLOOR_MIDDLEWARE": args.floor_middleware,
            # pingan's HTTP workers keep their connections 600 s (pingan/serving.py)
            "FLOOR_CONN_MAX_AGE": str(600 if args.conn_max_age is None else args.conn_max_age),
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


@dataclass
class Served:
    """One server of a side-by-side run."""

    name: str
    kind: str  # floor | pingan
    port: int
    proc: subprocess.Popen
    workload: Workload
    db: str | None  # PostgreSQL database whose backends count as its PG CPU
    gunicorn: list[str] = field(default_factory=list)
    ws_port: int | None = None


class Board:
    """The commander's board: one WebSocket; notes when each incident's `reported` push came."""

    def __init__(self) -> None:
        self.pushes: dict[str, float] = {}
        self.messages = 0
        self.error: str | None = None
        self.ws = None
        self.task: asyncio.Task | None = None

    async def connect(self, url: str, session: str, origin: str) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(
            url,
            additional_headers={"Cookie": f"sessionid={session}", "Origin": origin},
            max_size=1 << 24,
            open_timeout=20,
        )
        self.task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                now = time.time()
                self.messages += 1
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue
                if message.get("type") == "push.event" and message.get("kind") == PUSH_KIND:
                    code = (message.get("incident") or {}).get("code")
                    if code and code not in self.pushes:
                        self.pushes[code] = now
        except Exception as exc:  # noqa: BLE001 - reported with the results
            self.error = repr(exc)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.task is not None:
            await asyncio.wait([self.task], timeout=5)


async def board_login(port: int, username: str, password: str) -> str:
    """Log in through the HTML form (CSRF cookie + field); returns the session cookie."""
    from urllib.parse import urlencode

    conn = Connection("127.0.0.1", port)
    try:
        status, headers, page = await conn.exchange("GET", "/login/")
        cookies = dict(
            v.split(";", 1)[0].split("=", 1) for k, v in headers if k == "set-cookie" and "=" in v
        )
        field_match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or "csrftoken" not in cookies or not field_match:
            raise RuntimeError(f"GET /login/: {status}, no CSRF cookie or field")
        form = urlencode(
            {
                "csrfmiddlewaretoken": field_match.group(1).decode(),
                "username": username,
                "password": password,
            }
        ).encode()
        status, headers, page = await conn.exchange(
            "POST",
            "/login/",
            form,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={cookies['csrftoken']}",
            },
        )
    finally:
        conn.close()
    for key, value in headers:
        if key == "set-cookie" and value.startswith("sessionid="):
            return value.split(";", 1)[0].split("=", 1)[1]
    raise RuntimeError(f"POST /login/ as {username}: {status}, no session cookie")


async def detect_ws_port(server: Served, args) -> int:
    """--ws-port, else P+1 when pingan's process tree listens there (the socket server has
    its own port), else P (one ASGI server for both)."""
    if args.ws_port:
        return args.ws_port
    deadline = time.time() + args.ws_wait
    while time.time() < deadline:
        owner = port_owner(server.proc.pid, server.port + 1)
        if owner == "ours":
            return server.port + 1
        if owner == "foreign":
            raise RuntimeError(f"port {server.port + 1} is served by another process")
        await asyncio.sleep(0.3)
    return server.port


async def wait_http(server: Served, timeout: float = 180) -> None:
    """Until the server answers (pingan: GET /api/categories; floor: a valid report)."""
    deadline = time.time() + timeout
    probe = json.dumps(
        {
            "category": "010101",
            "description": "probe",
            "location": {"lat": 23.1, "lng": 113.3, "crs": "wgs84"},
        }
    ).encode()
    while time.time() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}")
        conn = Connection("127.0.0.1", server.port)
        try:
            if server.kind == "pingan":
                status, data = await conn.request("GET", "/api/categories")
                ok = status == 200
            else:
                status, data = await conn.request("POST", "/api/incidents", probe)
                ok = status == 201
                if status not in (201, -1) and status >= 400:
                    raise RuntimeError(f"{server.name} probe: {status} {data[:300]!r}")
            if ok:
                owner = port_owner(server.proc.pid, server.port)
                if owner != "ours":
                    raise RuntimeError(
                        f"{server.name}: port {server.port} is not (only) served by the "
                        f"process tree started here ({owner})"
                    )
                return
        except (OSError, HttpError):
            pass
        finally:
            conn.close()
        await asyncio.sleep(0.3)
    raise RuntimeError(f"{server.name} did not answer in time")


def push_stats(board: Board, samples: list[Sample], t0: float, t1: float, limit: float) -> dict:
    """Board latency of the `reported` push of every 2xx report answered in the window, from
    when its request was written (the push may come before the response)."""
    ok = [s for s in samples if 200 <= s.status < 300 and t0 <= s.done < t1 and s.code]
    lat = []
    missing = 0
    for s in ok:
        at = board.pushes.get(s.code)
        if at is None or at - s.wire > limit:
            missing += 1
        if at is not None:
            lat.append((at - s.wire) * 1000)
    return {
        "reports": len(ok),
        "pushed": len(lat),
        "missing": missing,
        "p50": pct(lat, 50),
        "p99": pct(lat, 99),
        "max": max(lat) if lat else float("nan"),
        "board_error": board.error,
    }


async def await_pushes(board: Board, samples: list[Sample], limit: float) -> None:
    """After the load: until every answered report's push is in, or `limit` s passed."""
    last = max((s.wire for s in samples), default=time.time())
    while time.time() < last + limit:
        if all(s.code in board.pushes for s in samples if 200 <= s.status < 300 and s.code):
            return
        await asyncio.sleep(0.1)


def parse_variants(spec: str) -> list[tuple[str, int, int]]:
    """'sync:2:1,gthread:2:4' → [(worker class, workers, threads), ...]."""
    out = []
    for item in spec.split(","):
        parts = item.strip().split(":")
        if len(parts) != 3:
            raise SystemExit(f"--floor-variants: {item!r} is not CLASS:WORKERS:THREADS")
        out.append((parts[0], int(parts[1]), int(parts[2])))
    return out


def jsonable(value):
    """NaN (no data) as null, so the lines are strict JSON."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def fmt(value: float, digits: int = 0) -> str:
    return "–" if value != value else f"{value:.{digits}f}"  # NaN → dash


def rep_row(r: dict) -> str:
    cores = r["cpu_cores"]
    push = r.get("push")
    push_txt = (
        f"{fmt(push['p50'])} / {fmt(push['p99'])} / {fmt(push['max'])} | {push['missing']}"
        if push
        else "– | –"
    )
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(r["errors"].items())) or "none"
    dispatched = f"{r['dispatched']}/{r['ok']}" if r["kind"] == "pingan" else "n/a"
    return (
        f"| {r['rep']} | {r['server']} | {fmt(r['throughput'], 1)} | {fmt(r['p50'], 1)} | "
        f"{fmt(r['p99'], 1)} | {fmt(r['max'])} | {errors} | {dispatched} | "
        f"{fmt(r['server_cpu_ms'], 2)} | {fmt(r['pg_cpu_ms'], 2)} | "
        f"{cores['server']:.2f} / {cores['postgres']:.2f} / {cores['pg_shared']:.2f} / "
        f"{cores['client']:.2f} / {cores['irq']:.2f} / "
        f"{cores['idle_servers']:.2f} / {cores['other']:.2f} | {push_txt} | "
        f"{'yes' if r['valid'] else 'NO: ' + '; '.join(r['flags'])} |"
    )


REP_HEADER = (
    "| rep | server | 2xx/s | p50 ms | p99 ms | max ms | errors | dispatched | server CPU ms/req "
    "| PG CPU ms/req | cores server / PG / PG shared / client / kernel irq / idle servers / other "
    "| board push p50 / p99 "
    "/ max ms | no push ≤ limit | valid |\n|" + "---|" * 14
)


async def measure_rep(server: Served, others: list[Served], args, board: Board | None) -> dict:
    samples: list[Sample] = []
    marks: dict = {}
    idle = [o.proc.pid for o in others]

    async def mark() -> None:
        await asyncio.sleep(args.warmup)
        marks["t0"] = time.time()
        marks["cpu0"] = cpu_snapshot_sbs(server.proc.pid, idle, server.db)
        await asyncio.sleep(args.duration)
        marks["t1"] = time.time()
        marks["cpu1"] = cpu_snapshot_sbs(server.proc.pid, idle, server.db)

    async def drive() -> None:
        seconds = args.warmup + args.duration
        if args.rate:
            await open_loop(server.port, server.workload, args.clients, args.rate, seconds, samples)
        else:
            await closed_loop(server.port, server.workload, args.clients, seconds, samples)

    await asyncio.gather(mark(), drive())
    t0, t1 = marks["t0"], marks["t1"]
    result = summarise(samples, t0, t1)
    window = t1 - t0
    cores = cpu_cores(marks["cpu0"], marks["cpu1"], window)
    ok = max(result["ok"], 1)
    result.update(
        {
            "server": server.name,
            "kind": server.kind,
            "port": server.port,
            "cpu_cores": cores,
            "server_cpu_ms": cores["server"] * window * 1000 / ok,
            "pg_cpu_ms": (
                cores["postgres"] * window * 1000 / ok if server.db is not None else float("nan")
            ),
            "gunicorn": server.gunicorn,
        }
    )
    flags = []
    if result["ok"] == 0:
        flags.append("no 2xx")
    if result["errors"]:
        flags.append("non-2xx answers")
    if server.kind == "pingan":
        if board is not None:
            await await_pushes(board, samples, args.push_limit)
            result["push"] = push_stats(board, samples, t0, t1, args.push_limit)
            if result["push"]["board_error"]:
                flags.append("board socket failed")
        undispatched = result["ok"] - result["dispatched"] - result["duplicates"]
        if undispatched > 0:
            flags.append(f"{undispatched} reports got no unit")
        if result["duplicates"] > 0.01 * result["ok"]:
            flags.append(f"{result['duplicates']} duplicates")
    result["flags"] = flags
    result["valid"] = not flags
    result["noisy"] = cores["other"] > 0.15
    return result


def summary_lines(results: list[dict], args) -> list[str]:
    names = list(dict.fromkeys(r["server"] for r in results))
    base = names[0]
    by = {n: [r for r in results if r["server"] == n] for n in names}
    mean = lambda rs, k: statistics.fmean([r[k] for r in rs]) if rs else float("nan")  # noqa: E731
    base_tp = mean(by[base], "throughput")
    lines = [
        f"| server | 2xx/s per rep | mean 2xx/s | % of {base} | p50 ms | p99 ms | server CPU "
        "ms/req | PG CPU ms/req | other cores | board push p50 / p99 ms, no push | valid |",
        "|" + "---|" * 11,
    ]
    for name in names:
        rs = by[name]
        tp = mean(rs, "throughput")
        pushes = [r["push"] for r in rs if r.get("push")]
        push_txt = (
            " ; ".join(f"{fmt(p['p50'])} / {fmt(p['p99'])}, {p['missing']}" for p in pushes)
            if pushes
            else "–"
        )
        lines.append(
            f"| {name} | {', '.join(fmt(r['throughput'], 1) for r in rs)} | {fmt(tp, 1)} | "
            f"{fmt(100 * tp / base_tp, 1) if base_tp else '–'} % | "
            f"{', '.join(fmt(r['p50'], 1) for r in rs)} | "
            f"{', '.join(fmt(r['p99'], 1) for r in rs)} | "
            f"{', '.join(fmt(r['server_cpu_ms'], 2) for r in rs)} | "
            f"{', '.join(fmt(r['pg_cpu_ms'], 2) for r in rs)} | "
            f"{', '.join(format(r['cpu_cores']['other'], '.2f') for r in rs)} | {push_txt} | "
            f"{'all' if all(r['valid'] for r in rs) else 'NO'} |"
        )
    pingan = by.get("pingan")
    if pingan and base != "pingan":
        floor_rs = by[base]
        pairs = [
            100 * p["throughput"] / f["throughput"]
            for f, p in zip(floor_rs, pingan, strict=False)
            if f["throughput"]
        ]
        ratio = 100 * mean(pingan, "throughput") / base_tp if base_tp else float("nan")
        lines.append("")
        if args.rate:
            cpu = [
                100 * f["server_cpu_ms"] / p["server_cpu_ms"]
                for f, p in zip(floor_rs, pingan, strict=False)
                if p["server_cpu_ms"]
            ]
            lines.append(
                f"open loop: both servers answer the offered {args.rate:g}/s (pingan "
                f"{fmt(ratio, 1)} % of the floor's 2xx/s), so throughput against the floor is "
                "judged in closed loop; the floor's server CPU per report is "
                f"{', '.join(fmt(x, 1) + ' %' for x in cpu)} of pingan's"
            )
        else:
            lines.append(
                f"pingan throughput = {fmt(ratio, 1)} % of the floor's (per rep pair: "
                f"{', '.join(fmt(x, 1) + ' %' for x in pairs)}); target ≥ 40 %: "
                f"{'met' if ratio >= 40 else 'NOT met'}"
            )
        worst_p99 = max(r["p99"] for r in pingan)
        if args.rate:
            verdict = "met" if worst_p99 <= 50 else "NOT met"
            scope = (
                "" if args.rate == 100 else f" (measured at {args.rate:g}/s, target is at 100/s)"
            )
            lines.append(
                f"pingan p99 (worst rep) {fmt(worst_p99, 1)} ms; ≤ 50 ms: {verdict}{scope}"
            )
        else:
            lines.append(
                f"pingan p99 (worst rep) {fmt(worst_p99, 1)} ms in closed loop; the ≤ 50 ms "
                "target is for open loop at --rate 100"
            )
        pushes = [r["push"] for r in pingan if r.get("push")]
        if pushes:
            worst = max(p["p99"] for p in pushes)
            missing = sum(p["missing"] for p in pushes)
            lines.append(
                f"board push p99 (worst rep) {fmt(worst)} ms, {missing} reports without a push "
                f"within {args.push_limit:g} s; target p99 ≤ 1 s: "
                f"{'met' if worst <= 1000 and not missing else 'NOT met'}"
            )
    noisy = [r for r in results if r["noisy"]]
    if noisy:
        lines.append(
            f"WARNING: {len(noisy)} of {len(results)} measurements ran with other processes using "
            f"> 0.15 cores (max {max(r['cpu_cores']['other'] for r in noisy):.2f}): compare "
            "within rep pairs, and read absolute figures as pessimistic"
        )
    invalid = [r for r in results if not r["valid"]]
    if invalid:
        lines.append(
            "INVALID measurements: "
            + "; ".join(f"rep {r['rep']} {r['server']}: {', '.join(r['flags'])}" for r in invalid)
        )
    return lines


def main_side_by_side(args) -> int:
    """`--side-by-side` (the floor app, then pingan, alternately) or `--floor-variants`."""
    variants = parse_variants(args.floor_variants) if args.floor_variants else None
    with_pingan = variants is None
    Path(args.cache_dir).mkdir(parents=True, exist_ok=True)
    target = target_for(args)
    if with_pingan:
        load_s = ensure_loaded(target, args)
        if load_s is not None:
            print(f"load time: {load_s:.1f} s")
        reset_state(target)
        ensure_commander(target, args)
    floor_url, floor_db = floor_database(args)
    subprocess.run(
        [sys.executable, "-m", "bench.floor.manage", "migrate", "--run-syncdb", "-v", "0"],
        cwd=ROOT,
        env=floor_env(args, floor_url),
        check=True,
    )
    points = sample_points(args, 50_000)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    version = code_version()
    run_id = datetime.now().strftime("%Y%m%dT%H%M%S")
    _, argv_source = gunicorn_base_argv(FLOOR_APP, 0, 0)
    print(f"code: {version}; gunicorn arguments from {argv_source}")
    servers: list[Served] = []
    freer = UnitFreer(target, args.free_every, args.free_after) if with_pingan else None
    board = Board() if with_pingan and not args.no_board else None
    results: list[dict] = []
    logs = Path(args.cache_dir)
    started: list[subprocess.Popen] = []  # stopped at the end, whatever happens
    reserved: set[int] = set()  # pingan's ports, its socket server may bind after its HTTP

    def start_floor(name: str, argv: list[str], workload: Workload) -> Served:
        port = free_port()
        while port in reserved:
            port = free_port()
        argv = [*argv]
        for i, word in enumerate(argv):  # the port is only known now
            if word in ("-b", "--bind"):
                argv[i + 1] = f"127.0.0.1:{port}"
        log = open(logs / f"floor-{name.replace(' ', '_').replace(':', '-')}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *argv],
            cwd=ROOT,
            env=floor_env(args, floor_url),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(proc)
        return Served(name, "floor", port, proc, workload, floor_db)

    async def run() -> None:
        if with_pingan:
            port = free_port_pair()
            reserved.update({port, port + 1, args.ws_port})
            extra = []
            if args.threads:
                extra += ["--threads", str(args.threads)]
            if args.ws_port and "--socket-port" in (ROOT / "pingan" / "cli.py").read_text():
                extra += ["--socket-port", str(args.ws_port)]
            proc = start_server(target, args, port, logs / f"server-{args.db}-sbs.log", extra)
            started.append(proc)
            pingan = Served(
                "pingan", "pingan", port, proc, None, PG_DB if args.db == "postgres" else None
            )
            servers.append(pingan)
            await wait_http(pingan)
            categories, tokens, csrf = await setup_clients(port, args.citizens)
            pingan.workload = Workload(points, categories, tokens, args.anon_share, csrf)
            pingan.gunicorn = gunicorn_master_argv(proc.pid)
        else:  # no pingan: made-up codes and tokens, the same mix of bodies and headers
            rng = random.Random(3)
            categories = [f"{10 + i // 8:02d}{i % 8 + 1:02d}01" for i in range(80)]
            tokens = [f"{rng.getrandbits(160):040x}" for _ in range(args.citizens)]
            csrf = f"{rng.getrandbits(128):032x}"
        floors = []
        specs = variants or [("", args.workers, args.threads)]
        for worker_class, workers, threads in specs:
            name = f"floor {worker_class}:{workers}:{threads}" if variants else "floor"
            workload = Workload(points, categories, tokens, args.anon_share, csrf)
            argv = floor_argv(0, workers, threads, worker_class)
            floors.append(start_floor(name, argv, workload))
        for floor in floors:
            await wait_http(floor)
            floor.gunicorn = gunicorn_master_argv(floor.proc.pid)
        servers[:0] = floors  # floor first in every rep
        for s in servers:
            print(f"{s.name} on :{s.port}: gunicorn {' '.join(s.gunicorn) or '(not found)'}")
        if with_pingan:
            same = normalised_gunicorn(floors[0].gunicorn) == normalised_gunicorn(
                servers[-1].gunicorn
            )
            if not same:
                print(
                    "WARNING: the floor's gunicorn options differ from pingan's "
                    "(bind, app and config module aside)"
                )
            args.same_gunicorn = same
            pingan = servers[-1]
            pingan.ws_port = await detect_ws_port(pingan, args)
            if board is not None:
                session = await board_login(pingan.port, COMMANDER_USERNAME, CITIZEN_PASSWORD)
                url = f"ws://127.0.0.1:{pingan.ws_port}/ws/live/"
                await board.connect(url, session, f"http://127.0.0.1:{pingan.port}")
                print(f"board: {COMMANDER_USERNAME} on {url}")
            freer.start()
        mode = f"open loop {args.rate:g}/s" if args.rate else "closed loop"
        print(
            f"{args.db}; {mode}, {args.clients} connections, warm-up {args.warmup:g} s, measure "
            f"{args.duration:g} s, {args.reps} reps: {' / '.join(s.name for s in servers)}\n",
            flush=True,
        )
        for rep in range(1, args.reps + 1):
            print(f"rep {rep}\n{REP_HEADER}", flush=True)
            for server in servers:
                if args.wait_quiet:
                    wait_quiet(args.wait_quiet)
                if server.kind == "pingan":
                    refresh_units(target)
                others = [s for s in servers if s is not server]
                result = await measure_rep(server, others, args, board)
                result.update(
                    {
                        "run": run_id,
                        "rep": rep,
                        "db": args.db,
                        "mode": mode,
                        "rate": args.rate,
                        "clients": args.clients,
                        "grids": args.grids,
                        "units": args.units,
                        "floor_middleware": args.floor_middleware,
                        "ws_port": server.ws_port,
                        "same_gunicorn_options": getattr(args, "same_gunicorn", None),
                        "date": datetime.now().isoformat(timespec="seconds"),
                        "commit": version,
                    }
                )
                results.append(result)
                print(rep_row(result), flush=True)
                if args.out:
                    with open(args.out, "a") as fh:
                        fh.write(json.dumps(jsonable(result)) + "\n")
            print(flush=True)
        if board is not None:
            await board.close()

    try:
        asyncio.run(run())
    finally:
        if freer is not None:
            freer.stop.set()
        for proc in started:
            stop_server(proc)
        if freer is not None and freer.is_alive():
            freer.join(5)
    if freer is not None:
        print(f"\nunits freed by the bench: {freer.freed}")
    config = "PostgreSQL" if args.db == "postgres" else "SQLite"
    mode = f"open loop {args.rate:g}/s" if args.rate else "closed loop"
    print(
        f"\nsummary: {config}, {mode}, "
        f"{args.clients} connections, {args.duration:g} s per measurement, {args.reps} reps; "
        "cores from /proc (other = the rest of the machine: noise)"
    )
    lines = summary_lines(results, args)
    print("\n".join(lines))
    if args.out:
        with open(args.out, "a") as fh:
            fh.write(json.dumps({"run": run_id, "summary": lines}, ensure_ascii=False) + "\n")
    return 0 if all(r["valid"] for r in results) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections")
    parser.add_argument("--duration", type=float, default=30, help="measured seconds")
    parser.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds of load before measuring (default 5, 10 with --redis)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0,
        help="open loop at this many reports/s (default: closed loop)",
    )
    parser.add_argument("--redis", action="store_true", help="REDIS_URL set: several workers")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="server worker processes (`pingan serve --workers`; with --side-by-side the floor "
        "gets the same; default: the server's own default)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="threads per HTTP worker, for pingan and the floor (default: pingan's)",
    )
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=None,
        help="DB_CONN_MAX_AGE for the server (default: the app's default, 0)",
    )
    parser.add_argument("--reload", action="store_true", help="reload the data set")
    parser.add_argument("--grids", type=int, default=50_000)
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--load-citizens", type=int, default=200, help="citizen accounts the loader creates"
    )
    parser.add_argument(
        "--citizens", type=int, default=8, help="citizens logged in to report with a token"
    )
    parser.add_argument(
        "--anon-share", type=float, default=0.5, help="share of reports sent anonymously"
    )
    parser.add_argument("--free-every", type=float, default=2.0)
    parser.add_argument("--free-after", type=float, default=10.0)
    parser.add_argument("--cache-dir", default="/tmp/pingan-bench")
    parser.add_argument(
        "--py-spy",
        metavar="FILE",
        help="record the server with py-spy over the measured window (collapsed stacks: FILE.txt)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="S",
        help="wait up to S seconds for the machine to idle before starting",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="drive GET /api/auth/me (token auth, one query) instead of reports: the "
        "framework's floor on this machine",
    )
    parser.add_argument("--json", metavar="FILE", help="append the result as a JSON line")
    side = parser.add_argument_group(
        "side by side",
        "pingan against the floor app (bench/floor: validate pingan's report body, one INSERT), "
        "served by gunicorn with pingan's options, measured alternately in one run",
    )
    side.add_argument(
        "--side-by-side",
        action="store_true",
        help="floor, pingan, floor, pingan ... (--reps each); same load, same --db",
    )
    side.add_argument(
        "--floor-variants",
        metavar="CLASS:WORKERS:THREADS,...",
        help="the floor alone under several gunicorn set-ups, interleaved, e.g. "
        "sync:2:1,gthread:2:4,gthread:2:8 (the first is the 100 %% reference)",
    )
    side.add_argument("--reps", type=int, default=2, help="interleaved repetitions")
    side.add_argument("--out", metavar="FILE", help="append every measurement as a JSON line")
    side.add_argument(
        "--floor-middleware",
        default="common",
        help="the floor's middleware: common (CommonMiddleware only), pingan (pingan's 9), none, "
        "or dotted paths separated by commas",
    )
    side.add_argument(
        "--ws-port",
        type=int,
        default=0,
        help="pingan's WebSocket port (default: HTTP port + 1 when pingan listens there, else "
        "the HTTP port)",
    )
    side.add_argument(
        "--ws-wait",
        type=float,
        default=15,
        help="seconds to wait for a socket server on HTTP port + 1 before falling back",
    )
    side.add_argument("--no-board", action="store_true", help="no WebSocket board, no push latency")
    side.add_argument(
        "--push-limit",
        type=float,
        default=5.0,
        help="a report whose push did not reach the board within this many s counts as lost",
    )
    args = parser.parse_args(argv)
    if args.side_by_side or args.floor_variants:
        if args.floor or args.redis or args.py_spy:
            parser.error(
                "--side-by-side/--floor-variants take neither --floor, --redis nor --py-spy"
            )
        if args.warmup is None:
            args.warmup = 5.0
        args.citizens = min(args.citizens, args.load_citizens)
        return main_side_by_side(args)
    if args.warmup is None:
        args.warmup = 10.0 if args.redis else 5.0
    args.citizens = min(args.citizens, args.load_citizens)

    target = target_for(args)
    Path(args.cache_dir).mkdir(parents=True, exist_ok=True)
    load_s = ensure_loaded(target, args)
    if load_s is not None:
        print(f"load time: {load_s:.1f} s")
    reset_state(target)
    if args.wait_quiet:
        wait_quiet(args.wait_quiet)
    points = sample_points(args, 50_000)

    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    version = code_version()
    print(f"code: {version}")
    port = free_port()
    log_path = Path(args.cache_dir) / f"server-{args.db}{'-redis' if args.redis else ''}.log"
    proc = start_server(target, args, port, log_path)
    freer = UnitFreer(target, args.free_every, args.free_after)
    spy = None
    try:
        asyncio.run(wait_ready(port, proc))
        if port_owner(proc.pid, port) != "ours":
            raise RuntimeError(f"port {port} is not (only) served by the server started here")
        categories, tokens, csrf = asyncio.run(setup_clients(port, args.citizens))
        workload = Workload(points, categories, tokens, args.anon_share, csrf, args.floor)
        freer.start()
        samples: list[Sample] = []

        async def drive(seconds: float) -> None:
            if args.rate:
                await open_loop(port, workload, args.clients, args.rate, seconds, samples)
            else:
                await closed_loop(port, workload, args.clients, seconds, samples)

        mode = f"open loop {args.rate:g}/s" if args.rate else "closed loop"
        if args.floor:
            mode = "GET /api/auth/me, " + mode
        print(
            f"server up on :{port}; {mode}, {args.clients} clients, warm-up {args.warmup:g} s, "
            f"measure {args.duration:g} s",
            flush=True,
        )

        async def run() -> tuple[float, float, dict]:
            marks = {}

            async def mark() -> None:
                await asyncio.sleep(args.warmup)
                nonlocal spy
                marks["t0"] = time.time()
                marks["cpu0"] = cpu_snapshot(proc.pid)
                if args.py_spy:
                    py_spy = str(Path(sys.executable).with_name("py-spy"))
                    spy = subprocess.Popen(
                        [
                            py_spy,
                            "record",
                            "--pid",
                            str(proc.pid),
                            "--subprocesses",
                            "--duration",
                            str(int(args.duration)),
                            "--rate",
                            "100",
                            "--format",
                            "raw",
                            "--output",
                            f"{args.py_spy}.txt",
                            "--nonblocking",
                            # only the thread holding the GIL: Python CPU time, not waits
                            "--gil",
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.STDOUT,
                    )
                await asyncio.sleep(args.duration)
                marks["t1"] = time.time()
                marks["cpu1"] = cpu_snapshot(proc.pid)

            await asyncio.gather(mark(), drive(args.warmup + args.duration))
            return marks["t0"], marks["t1"], marks

        t0, t1, marks = asyncio.run(run())
    finally:
        freer.stop.set()
        if spy is not None:
            try:
                spy.wait(30)
            except subprocess.TimeoutExpired:
                spy.kill()
        stop_server(proc)
    freer.join(5)

    result = summarise(samples, t0, t1)
    window = t1 - t0
    result.update(
        {
            "db": args.db,
            "redis": args.redis,
            "mode": mode,
            "clients": args.clients,
            "grids": args.grids,
            "units": args.units,
            "conn_max_age": args.conn_max_age,
            "cpu_cores": cpu_cores(marks["cpu0"], marks["cpu1"], window),
            "units_freed": freer.freed,
            "date": datetime.now().isoformat(timespec="seconds"),
            "commit": version,
        }
    )
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(result["errors"].items())) or "none"
    print(
        f"\nsteady window {window:.1f} s: {result['requests']} answered, {result['ok']} 2xx, "
        f"errors {errors}"
    )
    print(f"  throughput       {result['throughput']:.0f} reports/s (2xx completed)")
    print(
        f"  latency ms       p50 {result['p50']:.1f}  p90 {result['p90']:.1f}  "
        f"p99 {result['p99']:.1f}  max {result['max']:.1f}  mean {result['mean']:.1f}"
    )
    print(
        f"  server split ms  sent→reported_at p50 {result['pre_p50']:.1f} p99 "
        f"{result['pre_p99']:.1f};  reported_at→received p50 {result['post_p50']:.1f} "
        f"p99 {result['post_p99']:.1f}"
    )
    print(
        f"  dispatched       {result['dispatched']} of {result['ok']} "
        f"({result['duplicates']} suspected duplicates); units freed by the bench: "
        f"{freer.freed}"
    )
    cores = result["cpu_cores"]
    parties = ("server", "postgres", "redis", "client", "other")
    print(
        "  CPU (cores)      "
        + ", ".join(f"{k} {cores[k]:.2f}" for k in parties)
        + f"; whole machine {cores['machine']:.2f} of {os.cpu_count()}"
    )
    if cores["other"] > 0.15:
        print(
            f"  WARNING: other processes used {cores['other']:.2f} cores during the window: "
            "the machine was not quiet, these numbers are pessimistic"
        )
    config = f"{'PostgreSQL' if args.db == 'postgres' else 'SQLite'}"
    config += " + Redis" if args.redis else ""
    if args.workers:
        config += f" ({args.workers} workers)"
    if args.conn_max_age:
        config += f", DB_CONN_MAX_AGE={args.conn_max_age}"
    share = 100 * result["dispatched"] / max(result["ok"], 1)
    dispatched = "n/a" if args.floor else f"{share:.0f} %"
    db_cores = cores["postgres"] if args.db == "postgres" else 0.0
    print(
        "\n| config | load | 2xx/s | p50 ms | p90 ms | p99 ms | max ms | errors | dispatched "
        "| cores: server / PG / other |"
    )
    print(
        f"| {config} | {mode}, {args.clients} conn | {result['throughput']:.0f} | "
        f"{result['p50']:.0f} | {result['p90']:.0f} | {result['p99']:.0f} | "
        f"{result['max']:.0f} | {errors} | {dispatched} | "
        f"{cores['server']:.2f} / {db_cores:.2f} / {cores['other']:.2f} |"
    )
    if args.py_spy and Path(f"{args.py_spy}.txt").exists():
        parts = summarise_profile(f"{args.py_spy}.txt", result["ok"])
        result["profile_ms"] = dict(parts)
        print(
            f"\npy-spy --gil: server Python CPU per report ({args.py_spy}.txt; py-spy itself "
            "takes CPU, so the throughput above is lower than without it):"
        )
        for name, value in parts:
            print(f"  {value:7.2f} ms  {name}")
        print(f"  {sum(v for _, v in parts):7.2f} ms  total")
    if args.json:
        with open(args.json, "a") as fh:
            fh.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
