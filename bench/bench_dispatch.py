"""Benchmark report → dispatch decision over HTTP against the real server, province-scale data.

    python -m bench.bench_dispatch --db sqlite --clients 16 --duration 30
    python -m bench.bench_dispatch --db postgres --clients 16 --duration 30 [--redis]
    python -m bench.bench_dispatch --db postgres --rate 300 --duration 30   # open loop
    python -m bench.bench_dispatch --db sqlite --py-spy /tmp/spy   # + where server CPU goes
    python -m bench.bench_dispatch --db sqlite --floor   # GET /api/auth/me: framework floor

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
   anonymous (each from its own ``X-Forwarded-For`` address: uvicorn trusts it from 127.0.0.1,
   as it would from a proxy), the rest with a citizen's bearer token. Anonymous requests carry
   a CSRF cookie and header fetched once from ``GET /login/``: without them the API answers
   403 (the session authenticator of ``OPTIONAL`` checks CSRF before the anonymous one runs).
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
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
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

from bench.scale_db import CITIZEN_PASSWORD, CITIZEN_PREFIX, random_point_in
from bench.scale_grids import generate_grids

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_DB = "pingan_bench"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
REDIS_URL = "redis://127.0.0.1:6379/15"
SECRET = "bench-only-secret-key-not-for-production-use-0123456789"
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
            "SECRET_KEY": SECRET,
            "DATABASE_URL": target.url,
            "PINGAN_DATA_DIR": str(target.data_dir),
            "DISPATCH_OFFER_TIMEOUT_SECONDS": "0",
            "ANON_REPORTS_PER_HOUR": "100000000",
            "LOG_LEVEL": "WARNING",
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


def start_server(target: Target, args, port: int, log_path: Path) -> subprocess.Popen:
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


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            # utime, stime, and cutime, cstime: children already reaped (a PostgreSQL backend
            # that served one short connection, for instance) count for their parent.
            total += sum(int(v) for v in fields[11:15])
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
    parties = ("server", "postgres", "redis", "client")
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
            head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
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
    parser.add_argument("--workers", type=int, default=0, help="uvicorn workers with --redis")
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
    args = parser.parse_args(argv)
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
