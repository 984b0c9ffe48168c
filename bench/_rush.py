"""Shared pieces of the issue #4 rush benchmarks (``bench_signup_rush``, ``bench_redemption``).

- ``configure``: the bench database (PostgreSQL ``h_bench`` or a SQLite file) and Django in this
  process, which builds the data through the services and checks the outcome afterwards.
- ``ensure_world``: one county, one station, an officer, a commander, one team that needs no
  approval, ``--users`` residents who each saved a profile and joined the team (so they are
  active volunteers), and a shop; built once and reused while the stamp matches. Each run
  adds its own task or shop item, so runs never see each other's sign-ups or orders.
- The server, as ``pingan serve`` runs HTTP (``--server wsgi``, the default): gunicorn's WSGI
  workers with exactly pingan's arguments (``pingan.serving.gunicorn_argv``: its config file
  ``pingan.gunicorn_conf`` with ``preload_app`` and the warm-up hook, ``gthread``, ``--workers``
  processes, by default one per core, × ``--threads``, by default 4) and the HTTP workers'
  environment (``pingan.serving.http_environment``: persistent connections, ``DB_POOL=0``).
  ``python -m bench._rush serve`` builds both and execs gunicorn, as ``pingan.serving.Server``
  starts it; the only difference is the app: ``bench.rush_wsgi:application``, which is
  ``pingan.wsgi.application`` itself inside a timing wrapper (``TimedWSGI``). The socket server
  ``pingan serve`` also starts (uvicorn on the next port: WebSockets, the live fan-out, the
  embedded task worker) is NOT started: neither the sign-up nor the redemption pushes anything
  or queues a task, and no push is measured here; the ``sendto()`` announcing a commit to the
  fan-out, if any, finds nobody listening and costs the same few microseconds. There is no
  admission gate in front of WSGI: gunicorn's threads bound the requests inside Django per
  process, and the queue in front of them (accept backlog, the worker's thread pool) is all
  in "to the app" ("gate queue" is 0; ``x-bench-gate`` carries the threads per process).
- ``--server asgi``: the former serving (uvicorn, ``pingan.asgi.application``: the channels
  router, pingan's ``AdmissionGate`` (``HTTP_ADMISSION_LIMIT``) and Django, the database pool,
  ``REDIS_URL`` with several workers, the background thread with one), which this code still
  answers HTTP with; a timing wrapper (``TimedApp``) sits between the gate and Django, and a
  one-line arrival stamp in front of the router. It measures the new code under the old
  serving. The code before the move to WSGI is measured with its own copy of this harness
  (a worktree of that commit: docs/benchmarks.md gives the commands).
- Either wrapper adds response headers: when the server handed the request over, when it
  entered Django, how long Django took to start the response (the server-side time per
  request), and what the request spent in SQL (queries, SQL time, the time of statements
  taking the row lock — ``SELECT … FOR UPDATE`` or the sign-up's one ``WITH … FOR UPDATE``
  statement —, connecting (pool check-out, or a persistent connection's first open), COMMIT,
  statements that raised). It measures through ``CursorWrapper`` in the server process; the
  application's code is unchanged.
- The client: one asyncio process (uvloop) with a minimal keep-alive HTTP/1.1 client
  (``bench.bench_dispatch.Connection``), three load shapes (see ``run_profile``).
- Summaries and the printed report.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import os
import random
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from bench._keys import ENV as KEYS

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"
PREFIX = "rush-v"
WORLD_VERSION = 1
INITIAL_POINTS = 1000


# --- configuration ------------------------------------------------------------------------------


def add_common_arguments(parser: argparse.ArgumentParser, *, users: int, profiles: str) -> None:
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--pg-db", default="h_bench", help="PostgreSQL database (dropped!)")
    parser.add_argument("--users", type=int, default=users, help="concurrent users in a run")
    parser.add_argument(
        "--profiles",
        default=profiles,
        help="comma-separated load shapes: burst | window:SECONDS | conns:N (see run_profile)",
    )
    parser.add_argument(
        "--server",
        choices=["wsgi", "asgi"],
        default="wsgi",
        help="wsgi: gunicorn WSGI workers, as pingan serve runs HTTP (default); asgi: the "
        "former serving, uvicorn with the admission gate (see the module's docstring)",
    )
    parser.add_argument(
        "--workers",
        default="0",
        help="comma-separated HTTP worker process counts; 0 = pingan serve's default (wsgi: "
        "one per core; asgi: 1). asgi with >1 runs with REDIS_URL (db 14), as it required",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="wsgi: threads per worker process (default: pingan serve's, 4)",
    )
    parser.add_argument(
        "--pool-max",
        type=int,
        default=0,
        help="asgi: DB_POOL_MAX per server process (default: 20 with one worker, 40/workers "
        "otherwise, to stay under PostgreSQL's max_connections=100); -1 = no pool",
    )
    parser.add_argument("--warmup", type=int, default=100, help="warm-up requests per server")
    parser.add_argument("--reload", action="store_true", help="rebuild the database")
    parser.add_argument("--cache-dir", default="/tmp/pingan-bench-rush")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="S",
        help="wait up to S seconds for the machine to idle before each measured run",
    )
    parser.add_argument("--json", metavar="FILE", help="append each run's result as a JSON line")
    parser.add_argument(
        "--py-spy",
        metavar="PREFIX",
        help="record each run's server with py-spy --gil (PREFIX-<n>.txt) and print where its "
        "Python CPU goes per request (the binary: $PY_SPY, else next to python, else PATH)",
    )
    parser.add_argument(
        "--admission",
        type=int,
        default=None,
        metavar="N",
        help="asgi: HTTP_ADMISSION_LIMIT for the server, the real gate's places per process "
        "(pingan/core/admission.py); default: the setting's default, 0 = no gate",
    )
    # Experiments, to find where the time goes; the figures for the issue use none of them.
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=0,
        help="experiment: sys.setswitchinterval in the server (Python's default: 0.005 s)",
    )
    parser.add_argument(
        "--sync-commit-off",
        action="store_true",
        help="experiment: ALTER DATABASE … SET synchronous_commit = off for the run",
    )


def world_users(args) -> int:
    """The world holds the measured users plus the warm-up ones (never the same people)."""
    return args.users + max(args.warmup, 0)


def db_url(args) -> str:
    if args.db == "postgres":
        return f"postgres://postgres@127.0.0.1:5432/{args.pg_db}"
    return f"sqlite:///{Path(args.cache_dir) / 'rush.sqlite3'}"


def base_env(args) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "pingan.settings",
            **KEYS,
            "DATABASE_URL": db_url(args),
            "PINGAN_DATA_DIR": str(Path(args.cache_dir) / f"data-{args.db}"),
            # Plain HTTP on 127.0.0.1, and no API rate limit: the rush is the point (issue 11).
            "PINGAN_HTTPS": "0",
            "API_RATE_LIMIT_PER_ACCOUNT": "0",
            "API_RATE_LIMIT_PER_ADDRESS": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    for key in (
        "REDIS_URL",
        "PINGAN_DEMO",
        "PINGAN_DEBUG",
        "PINGAN_TESTING",
        "PINGAN_TASKS_IMMEDIATE",
        "DB_POOL",
        "DB_POOL_MAX",
        "HTTP_ADMISSION_LIMIT",
    ):
        env.pop(key, None)
    return env


def configure(args) -> None:
    """Django in this process, on the bench database (no pool: one connection is enough)."""
    Path(args.cache_dir).mkdir(parents=True, exist_ok=True)
    Path(args.cache_dir, f"data-{args.db}").mkdir(parents=True, exist_ok=True)
    env = base_env(args)
    env["DB_POOL"] = "0"
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()


def raise_file_limit() -> None:
    """Thousands of sockets: the client's, and the server's (it inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 65536) if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


# --- the database and the world -----------------------------------------------------------------


def stamp(args) -> dict:
    return {"version": WORLD_VERSION, "users": world_users(args), "url": db_url(args)}


def marker(args) -> Path:
    return Path(args.cache_dir) / f"world-{args.db}.json"


def recreate_database(args) -> None:
    if args.db == "sqlite":
        path = Path(args.cache_dir) / "rush.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {args.pg_db} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {args.pg_db}")


def world_is_there(args) -> bool:
    """Checked before Django opens the database (a fresh PostgreSQL database may not exist)."""
    mark = marker(args)
    if args.reload or not mark.exists():
        return False
    have, want = json.loads(mark.read_text()), stamp(args)
    # A bigger world serves a smaller run: the first users are the measured ones.
    if have["version"] != want["version"] or have["url"] != want["url"]:
        return False
    if have["users"] < want["users"]:
        return False
    if args.db == "sqlite":
        return (Path(args.cache_dir) / "rush.sqlite3").exists()
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            found = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (args.pg_db,)
            ).fetchone()
    except psycopg.Error:
        return False
    return bool(found)


@dataclass
class World:
    officer: object
    commander: object
    team: object
    shop: object
    users: list  # User objects, in username order: measured first, warm-up users after


def prepare(args) -> tuple[World, float | None]:
    """Database ready and the world built (or reused). Returns the world and build seconds."""
    fresh = not world_is_there(args)
    if fresh:
        print(f"building the {args.db} world: {world_users(args)} volunteers ...", flush=True)
        recreate_database(args)
        marker(args).unlink(missing_ok=True)
    configure(args)
    from django.core.management import call_command

    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    if fresh:
        build_world(world_users(args))
        marker(args).write_text(json.dumps(stamp(args)))
        built = time.perf_counter() - start
        print(f"  built in {built:.1f} s", flush=True)
    else:
        built = None
        print(f"reusing the {args.db} world ({world_users(args)} volunteers)", flush=True)
    return load_world(), built


def build_world(n: int) -> None:
    """Through the services, as an installation would get there: a team that needs no approval
    and n residents who saved a profile and joined it by its invite token."""
    import shapely
    from django.contrib.auth.hashers import make_password

    from pingan.accounts.models import Role, User
    from pingan.orgs import services as orgs
    from pingan.orgs.models import OrgKind
    from pingan.points import ledger
    from pingan.points import services as points
    from pingan.points.models import EntryKind, PointRule
    from pingan.points.rules import ensure_default_rules
    from pingan.volunteers import services as volunteers

    ensure_default_rules(PointRule)
    city = orgs.create_org(code="RU00", name="基准市公安局", kind=OrgKind.CITY_BUREAU)
    county = orgs.create_org(
        code="RU01", name="基准县公安局", kind=OrgKind.COUNTY_BUREAU, parent=city
    )
    station = orgs.create_org(code="RU0101", name="城关派出所", kind=OrgKind.STATION, parent=county)
    office = orgs.create_org(
        code="RU010101", name="东门警务室", kind=OrgKind.POLICE_OFFICE, parent=station
    )
    unusable = make_password(None)
    commander = User.objects.create(
        username="rush-commander", password=unusable, role=Role.COMMANDER, org=county
    )
    officer = User.objects.create(
        username="rush-officer", password=unusable, role=Role.OFFICER, org=station
    )
    orgs.save_grid(
        code="RUG1",
        name="东门社区",
        kind="urban_community",
        org=office,
        geometry=shapely.box(114.29, 26.29, 114.31, 26.31),
        officer=officer,
    )
    team = volunteers.create_team(
        officer,
        name="城关夜巡队",
        org=station,
        description="基准测试队伍",
        requires_approval=False,
    )
    points.create_shop(
        commander, name="城关爱心超市", kind="love_supermarket", org=station, address="城关镇"
    )
    # Password hashing would dominate the build; bearer tokens are how the phones sign in.
    User.objects.bulk_create(
        [
            User(
                username=f"{PREFIX}{i:05d}",
                password=unusable,
                role=Role.CITIZEN,
                display_name=f"志愿者{i:05d}",
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    started = time.perf_counter()
    for i, user in enumerate(User.objects.filter(username__startswith=PREFIX).order_by("username")):
        volunteers.save_profile(
            user,
            real_name=f"志愿者{i:05d}",
            phone=f"138{i:08d}",
            skills=["patrol"],
            availability=["night"],
        )
        volunteers.join_team(user, team.invite_token)
        ledger.post(
            user,
            INITIAL_POINTS,
            EntryKind.ADJUST,
            "基准测试初始积分",
            source_type="bench",
            source_ref="initial",
            dedupe_key=f"bench:initial:{user.pk}",
            actor=commander,
        )
        if (i + 1) % 500 == 0:
            print(f"  {i + 1} volunteers ({time.perf_counter() - started:.0f} s)", flush=True)


def load_world() -> World:
    from pingan.accounts.models import User
    from pingan.points.models import Shop
    from pingan.volunteers.models import Team

    users = list(User.objects.filter(username__startswith=PREFIX).order_by("username"))
    return World(
        officer=User.objects.get(username="rush-officer"),
        commander=User.objects.get(username="rush-commander"),
        team=Team.objects.get(org__code="RU0101"),
        shop=Shop.objects.get(org__code="RU0101"),
        users=users,
    )


def fresh_tokens(users) -> list[str]:
    """One bearer token per user through `issue_token`; earlier runs' tokens are dropped."""
    from django.db import transaction

    from pingan.accounts.models import ApiToken
    from pingan.accounts.services import issue_token

    with transaction.atomic():
        ApiToken.objects.filter(user__in=[u.pk for u in users]).delete()
        return [issue_token(u).token for u in users]


def close_db() -> None:
    from django.db import connections

    connections.close_all()


# --- the server -------------------------------------------------------------------------------

# The per-request measurements of the timing wrapper (server side).
_REQUEST = contextvars.ContextVar("bench_request", default=None)
_SQL_TABLE = re.compile(r'(?:FROM|UPDATE|INTO)\s+"?([a-z_]+)"?', re.IGNORECASE)


def _sql_label(sql: str) -> str:
    verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
    match = _SQL_TABLE.search(sql)
    label = f"{verb} {match.group(1)}" if match else verb
    if "FOR UPDATE" in sql.upper():
        label += " FOR UPDATE"
    return label


def _instrument_django() -> None:
    """Count and time SQL per request in this (server) process, without touching pingan."""
    from django.db.backends import utils
    from django.db.backends.base import base

    def timed(method, kind):
        def wrapper(self, *a, **kw):
            stats = _REQUEST.get()
            if stats is None:
                return method(self, *a, **kw)
            start = time.perf_counter()
            try:
                return method(self, *a, **kw)
            except Exception:
                # Counted even when the application handles it (the bearer token's best-effort
                # `last_used_at` touch swallows a DatabaseError): a hidden failure still shows.
                stats["errors"] += 1
                raise
            finally:
                ms = (time.perf_counter() - start) * 1000
                if kind == "sql":
                    label = _sql_label(a[0])
                    stats["q"] += 1
                    stats["sql"] += ms
                    if label.endswith("FOR UPDATE"):
                        stats["lock"] += ms
                    slot = stats["by"].setdefault(label, [0, 0.0])
                    slot[0] += 1
                    slot[1] += ms
                else:
                    stats[kind] += ms

        return wrapper

    utils.CursorWrapper._execute = timed(utils.CursorWrapper._execute, "sql")
    utils.CursorWrapper._executemany = timed(utils.CursorWrapper._executemany, "sql")
    base.BaseDatabaseWrapper.connect = timed(base.BaseDatabaseWrapper.connect, "connect")
    base.BaseDatabaseWrapper._commit = timed(base.BaseDatabaseWrapper._commit, "commit")


def _new_stats() -> dict:
    return {"q": 0, "sql": 0.0, "lock": 0.0, "connect": 0.0, "commit": 0.0, "errors": 0, "by": {}}


def _bench_headers(arrived: float, wall: float, app_ms: float, gate, stats: dict) -> list:
    """The x-bench-* response headers (name, value) both wrappers add; `bench._rush._parse`
    reads them back on the client side."""
    by = {k: [v[0], round(v[1], 2)] for k, v in stats["by"].items()}
    return [
        ("x-bench-arrived", f"{arrived:.6f}"),
        ("x-bench-t0", f"{wall:.6f}"),
        ("x-bench-app-ms", f"{app_ms:.3f}"),
        ("x-bench-gate", str(gate)),
        ("x-bench-queries", str(stats["q"])),
        ("x-bench-sql-errors", str(stats["errors"])),
        ("x-bench-sql-ms", f"{stats['sql']:.3f}"),
        ("x-bench-lock-ms", f"{stats['lock']:.3f}"),
        ("x-bench-connect-ms", f"{stats['connect']:.3f}"),
        ("x-bench-commit-ms", f"{stats['commit']:.3f}"),
        ("x-bench-sql", json.dumps(by, ensure_ascii=True)),
    ]


class TimedWSGI:
    """WSGI wrapper around `pingan.wsgi.application` (the HTTP workers' app): adds the x-bench-*
    headers with the server-side timings of each request. `app-ms` runs from a gunicorn thread
    calling the app to Django starting the response (`start_response`): middleware, view,
    SQL and row-lock waits, the GIL shared with the process's other threads. The wait for a
    thread (accept backlog, the worker's thread pool queue) happens before the app is called,
    so `arrived` is that same moment and the whole queue shows as "to the app"."""

    def __init__(self, inner, threads: int):
        self.inner = inner
        self.threads = threads

    def __call__(self, environ, start_response):
        wall, start = time.time(), time.perf_counter()
        stats = _new_stats()
        token = _REQUEST.set(stats)

        def timed_start_response(status, headers, exc_info=None):
            app_ms = (time.perf_counter() - start) * 1000
            extra = _bench_headers(wall, wall, app_ms, self.threads, stats)
            return start_response(status, [*headers, *extra], exc_info)

        try:
            return self.inner(environ, timed_start_response)
        finally:
            _REQUEST.reset(token)


def wsgi_application():
    """`pingan.wsgi.application` in the timing wrapper, SQL instrumented (bench/rush_wsgi.py;
    imported in gunicorn's master, `preload_app`, and inherited by the workers)."""
    from pingan.wsgi import application

    _instrument_django()
    return TimedWSGI(application, int(os.environ.get("BENCH_THREADS") or 0))


class TimedApp:
    """ASGI wrapper placed INSIDE pingan's admission gate, around Django's ASGI handler: adds
    x-bench-* headers with the server-side timings of each request. `app-ms` runs from the gate
    letting the request in to Django starting the response, so it holds everything Django does
    (thread hand-off, pool check-out, SQL, row-lock waits) and nothing of the queue in front of
    the gate; `arrived` (stamped by `ArrivalStamp` in front of the gate) gives that queue."""

    def __init__(self, inner, gate_limit: int):
        self.inner = inner
        self.gate_limit = gate_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.inner(scope, receive, send)
        wall, start = time.time(), time.perf_counter()
        arrived = scope.get("bench_arrived", wall)
        stats = _new_stats()
        token = _REQUEST.set(stats)

        async def timed_send(message):
            if message["type"] == "http.response.start":
                app_ms = (time.perf_counter() - start) * 1000
                extra = [
                    (name.encode(), value.encode())
                    for name, value in _bench_headers(arrived, wall, app_ms, self.gate_limit, stats)
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.inner(scope, receive, timed_send)
        finally:
            _REQUEST.reset(token)


class ArrivalStamp:
    """In front of everything: notes when uvicorn handed the request to the application (before
    the gate reads the body and queues it)."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            scope["bench_arrived"] = time.time()
        return await self.inner(scope, receive, send)


_APP = None


def __getattr__(name):  # uvicorn imports "bench._rush:application" in each worker process
    global _APP
    if name != "application":
        raise AttributeError(name)
    if _APP is None:
        _APP = _timed_application()
    return _APP


def _timed_application():
    """--server asgi: pingan's own `pingan.asgi.application` (its lifespan wrapper → the
    channels router → AdmissionGate → Django), with the timing wrapper slotted in between the
    gate and Django."""
    from pingan.asgi import application
    from pingan.core.admission import AdmissionGate

    _instrument_django()
    interval = os.environ.get("BENCH_SWITCH_INTERVAL")
    if interval:
        sys.setswitchinterval(float(interval))
    router = getattr(application, "app", application)  # pingan.asgi.Lifespan(router)
    gate = router.application_mapping["http"]
    if not isinstance(gate, AdmissionGate):
        raise RuntimeError(f"pingan.asgi serves HTTP through {gate!r}, not the AdmissionGate")
    gate.app = TimedApp(gate.app, gate.limit)
    return ArrivalStamp(application)


WSGI_APP = "bench.rush_wsgi:application"


def serve_main(argv: list[str]) -> None:
    """The server process. wsgi: gunicorn exactly as `pingan.serving.Server.start_http` starts
    it (`gunicorn_argv`, `http_environment`), exec'd in this process (so the server's pid is
    gunicorn's master), with the timed app. asgi: the former `pingan serve` (uvicorn with
    lifespan off and proxy headers; without REDIS_URL one process and the background thread
    beside it), serving this module's `application`."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server", choices=["wsgi", "asgi"], default="wsgi")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    if args.server == "wsgi":
        from pingan.serving import DEFAULT_THREADS, gunicorn_argv, http_environment

        threads = args.threads or DEFAULT_THREADS
        gargv = gunicorn_argv(WSGI_APP, "127.0.0.1", args.port, args.workers, args.threads)
        env = http_environment(args.port + 1)
        env["BENCH_THREADS"] = str(threads)
        print("gunicorn " + " ".join(gargv), flush=True)
        os.execve(sys.executable, [sys.executable, "-m", "gunicorn", *gargv], env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings")
    import django

    django.setup()
    import uvicorn
    from django.conf import settings

    workers = args.workers or 1
    stop = threading.Event()
    if not settings.REDIS_URL:
        from pingan.core import background as bg

        workers = 1
        bg.start(stop)
    try:
        uvicorn.run(
            "bench._rush:application",
            host="127.0.0.1",
            port=args.port,
            workers=workers,
            lifespan="off",
            log_level="warning",
            proxy_headers=True,
        )
    finally:
        stop.set()


def resolved_workers(args, workers: int) -> int:
    if workers:
        return workers
    if args.server == "wsgi":
        from pingan.serving import default_workers

        return default_workers()
    return 1


def resolved_threads(args) -> int | None:
    if args.server != "wsgi":
        return None
    from pingan.serving import DEFAULT_THREADS

    return args.threads or DEFAULT_THREADS


def pool_max(args, workers: int) -> int | None:
    if args.server == "wsgi":
        return None  # persistent connections, one per thread (http_environment: DB_POOL=0)
    if args.pool_max:
        return args.pool_max
    return 20 if workers == 1 else max(5, 40 // workers)


def server_label(args, workers: int) -> str:
    if args.server == "wsgi":
        return (
            f"gunicorn gthread {workers} x {resolved_threads(args)} threads, persistent connections"
        )
    if args.db == "postgres":
        return f"uvicorn {workers} worker(s), pool {pool_max(args, workers)}/process"
    return f"uvicorn {workers} worker(s), SQLite (no pool)"


def start_server(args, workers: int, port: int, log_path: Path) -> subprocess.Popen:
    env = base_env(args)
    cmd = [sys.executable, "-m", "bench._rush", "serve", "--port", str(port)]
    cmd += ["--server", args.server, "--workers", str(workers)]
    if args.server == "wsgi":
        cmd += ["--threads", str(args.threads)]
        if args.switch_interval or args.admission is not None or args.pool_max:
            raise SystemExit("--switch-interval, --admission, --pool-max: --server asgi only")
    else:
        if workers > 1:
            env["REDIS_URL"] = REDIS_URL
        if args.switch_interval:
            env["BENCH_SWITCH_INTERVAL"] = str(args.switch_interval)
        if args.admission is not None:
            env["HTTP_ADMISSION_LIMIT"] = str(args.admission)
        size = pool_max(args, workers)
        if size < 0:
            env["DB_POOL"] = "0"
        else:
            env["DB_POOL_MAX"] = str(size)
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


async def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    from bench.bench_dispatch import Connection, HttpError

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        conn = Connection("127.0.0.1", port)
        try:
            status, _ = await conn.request("GET", "/api/points/rules")
            if status in (200, 401):
                return
        except (OSError, HttpError):
            pass
        finally:
            conn.close()
        await asyncio.sleep(0.3)
    raise RuntimeError("server did not answer in time")


# --- PostgreSQL activity sampler --------------------------------------------------------------


class PgSampler(threading.Thread):
    """Every `every` s, what the bench database's backends are doing (wait events)."""

    def __init__(self, dbname: str, every: float = 0.05):
        super().__init__(daemon=True, name="pg-sampler")
        self.dbname, self.every = dbname, every
        self.stop = threading.Event()
        self.samples = 0
        self.active = 0
        self.waits: dict[str, int] = {}
        self.lock_queries: dict[str, int] = {}

    def run(self) -> None:
        import psycopg

        conn = psycopg.connect(PG_ADMIN, autocommit=True)
        sql = (
            "SELECT state, wait_event_type, wait_event, left(query, 200) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        try:
            while not self.stop.wait(self.every):
                rows = conn.execute(sql, (self.dbname,)).fetchall()
                self.samples += 1
                for state, wtype, wevent, query in rows:
                    if state != "active":
                        continue
                    self.active += 1
                    key = f"{wtype}:{wevent}" if wtype else "CPU/running"
                    self.waits[key] = self.waits.get(key, 0) + 1
                    if wtype == "Lock":
                        label = _sql_label(query or "")
                        self.lock_queries[label] = self.lock_queries.get(label, 0) + 1
        finally:
            conn.close()

    def summary(self) -> dict:
        n = max(self.samples, 1)
        return {
            "samples": self.samples,
            "active_mean": self.active / n,
            "waits_mean": {k: v / n for k, v in sorted(self.waits.items(), key=lambda kv: -kv[1])},
            "lock_waits_mean": {
                k: v / n for k, v in sorted(self.lock_queries.items(), key=lambda kv: -kv[1])
            },
        }


# --- load ---------------------------------------------------------------------------------------


@dataclass
class Sample:
    user: int  # index into the run's users
    sent: float = 0.0  # wall clock when the request was due (window) or written
    done: float = 0.0
    status: int = 0  # 0 = never answered, -1 = connection error
    body: dict = field(default_factory=dict)
    server: dict = field(default_factory=dict)


def _parse(sample: Sample, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
    sample.done, sample.status = time.time(), status
    try:
        sample.body = json.loads(data) if data else {}
    except ValueError:
        sample.body = {"raw": data[:200].decode("utf-8", "replace")}
    server = {}
    for name, value in headers:
        if name.startswith("x-bench-"):
            key = name[len("x-bench-") :]
            server[key] = json.loads(value) if key == "sql" else float(value)
    sample.server = server


def _headers(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def run_profile(
    port: int,
    profile: str,
    tokens: list[str],
    request_for,  # (index) -> (method, path, body bytes)
    seed: int,
) -> tuple[list[Sample], dict]:
    """One request per token, in one of three shapes:

    - ``burst``: every user has their own connection, opened beforehand; then all the requests
      are written in one go (as fast as one event loop writes them) and awaited together.
      Latency counts from each request's own write.
    - ``window:S``: the users arrive at random times spread uniformly over S seconds; each
      opens its own connection when it arrives (the TCP connect is part of its latency) and
      latency counts from the arrival time, so queueing behind a slow server shows.
    - ``conns:N``: N keep-alive connections, each sending the next user's request when the
      previous one is answered (N requests in flight at any time) until every user has sent.
    """
    from bench.bench_dispatch import Connection, HttpError

    samples = [Sample(i) for i in range(len(tokens))]
    info: dict = {"profile": profile}

    async def send(conn: Connection, sample: Sample, stamp_send: bool = True) -> None:
        method, path, body = request_for(sample.user)
        if stamp_send:
            sample.sent = time.time()
        try:
            status, headers, data = await conn.exchange(
                method, path, body, _headers(tokens[sample.user])
            )
        except HttpError as exc:
            sample.done, sample.status = time.time(), -1
            sample.body = {"error": {"code": "connection", "message": str(exc)}}
            return
        _parse(sample, status, headers, data)

    kind, _, param = profile.partition(":")
    if kind == "burst":
        conns = [Connection("127.0.0.1", port) for _ in tokens]
        opened = time.time()
        for start in range(0, len(conns), 200):  # don't overflow the accept backlog
            await asyncio.gather(*(c.open() for c in conns[start : start + 200]))
        info["connect_s"] = time.time() - opened
        await asyncio.sleep(0.5)  # let the server settle after accepting
        first = time.time()
        tasks = [asyncio.ensure_future(send(c, s)) for c, s in zip(conns, samples, strict=True)]
        await asyncio.sleep(0)  # every task writes its request before any awaits a reply
        info["fire_spread_s"] = max(s.sent for s in samples) - first
        await asyncio.gather(*tasks)
        for conn in conns:
            conn.close()
    elif kind == "window":
        seconds = float(param or 3)
        rng = random.Random(seed)
        offsets = sorted(rng.uniform(0, seconds) for _ in tokens)
        order = list(range(len(tokens)))
        rng.shuffle(order)  # who arrives when is random, not the token order
        start = time.time() + 0.2

        async def arrive(sample: Sample, due: float) -> None:
            await asyncio.sleep(max(0.0, due - time.time()))
            sample.sent = due
            conn = Connection("127.0.0.1", port)
            try:
                await send(conn, sample, stamp_send=False)
            finally:
                conn.close()

        await asyncio.gather(
            *(arrive(samples[i], start + off) for i, off in zip(order, offsets, strict=True))
        )
        info["window_s"] = seconds
    elif kind == "conns":
        n = int(param)
        queue = list(range(len(tokens)))
        random.Random(seed).shuffle(queue)

        async def worker() -> None:
            conn = Connection("127.0.0.1", port)
            await conn.open()
            while queue:
                await send(conn, samples[queue.pop()])
            conn.close()

        await asyncio.gather(*(worker() for _ in range(n)))
        info["connections"] = n
    else:
        raise ValueError(f"unknown profile {profile!r}")
    return samples, info


async def warm_up(port: int, tokens: list[str], request_for, concurrency: int = 8) -> int:
    """Some requests before measuring: first-request costs (imports, URL resolver, pool
    connections) of every worker process are paid here, not in the run."""
    if not tokens:
        return 0
    samples, _ = await run_profile(port, f"conns:{concurrency}", tokens, request_for, 1)
    return sum(1 for s in samples if 200 <= s.status < 500)


# --- summaries ----------------------------------------------------------------------------------


def pct(values, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def error_code(sample: Sample) -> str:
    err = sample.body.get("error") if isinstance(sample.body, dict) else None
    if isinstance(err, dict):
        return str(err.get("code"))
    return ""


def summarise(samples: list[Sample], info: dict) -> dict:
    answered = [s for s in samples if s.status != 0]
    lat = [(s.done - s.sent) * 1000 for s in answered]
    first = min((s.sent for s in samples if s.sent), default=0.0)
    last = max((s.done for s in answered), default=first)
    outcomes: dict[str, int] = {}
    for s in samples:
        key = str(s.status) + (f" {error_code(s)}" if error_code(s) else "")
        outcomes[key] = outcomes.get(key, 0) + 1
    timed = [s for s in answered if "app-ms" in s.server]
    queue = [(s.server["t0"] - s.sent) * 1000 for s in timed]
    to_app = [(s.server["arrived"] - s.sent) * 1000 for s in timed]
    gate = [(s.server["t0"] - s.server["arrived"]) * 1000 for s in timed]
    app = [s.server["app-ms"] for s in timed]
    after = [(s.done - s.server["t0"]) * 1000 - s.server["app-ms"] for s in timed]
    by: dict[str, list] = {}
    for s in timed:
        for label, (count, ms) in s.server.get("sql", {}).items():
            slot = by.setdefault(label, [0, 0.0])
            slot[0] += count
            slot[1] += ms
    n = max(len(timed), 1)

    def spread(values):
        return {
            "p50": pct(values, 50),
            "p95": pct(values, 95),
            "p99": pct(values, 99),
            "max": max(values) if values else float("nan"),
        }

    return {
        **info,
        "requests": len(samples),
        "answered": len(answered),
        "outcomes": outcomes,
        "makespan_s": last - first,
        "throughput": len(answered) / (last - first) if last > first else float("nan"),
        "latency": {**spread(lat), "p90": pct(lat, 90), "mean": float(np.mean(lat)) if lat else 0},
        "server": {
            "queue_ms": spread(queue),
            "to_app_ms": spread(to_app),
            "gate_ms": spread(gate),
            "gate_limit": sorted({int(s.server["gate"]) for s in timed}),
            "sql_errors": int(sum(s.server["sql-errors"] for s in timed)),
            "app_ms": spread(app),
            "after_ms": spread(after),
            "queries_mean": float(np.mean([s.server["queries"] for s in timed])) if timed else 0,
            "queries_max": max((s.server["queries"] for s in timed), default=0),
            "sql_ms": spread([s.server["sql-ms"] for s in timed]),
            "lock_ms": spread([s.server["lock-ms"] for s in timed]),
            "connect_ms": spread([s.server["connect-ms"] for s in timed]),
            "commit_ms": spread([s.server["commit-ms"] for s in timed]),
            "by_statement": {
                k: {"per_request": v[0] / n, "ms_per_request": v[1] / n}
                for k, v in sorted(by.items(), key=lambda kv: -kv[1][1])
            },
        },
    }


def print_summary(result: dict, cores: dict | None, pg: dict | None) -> None:
    lat, srv = result["latency"], result["server"]
    outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(result["outcomes"].items()))
    extra = ""
    if "fire_spread_s" in result:
        extra = (
            f" (connections opened in {result['connect_s']:.2f} s, all requests written "
            f"within {result['fire_spread_s'] * 1000:.0f} ms)"
        )
    print(f"  profile {result['profile']}{extra}")
    print(f"  outcomes         {outcomes}")
    print(
        f"  throughput       {result['throughput']:.0f} req/s; first sent → last answered "
        f"{result['makespan_s']:.2f} s"
    )
    print(
        f"  client latency   p50 {lat['p50']:.0f}  p90 {lat['p90']:.0f}  p95 {lat['p95']:.0f}  "
        f"p99 {lat['p99']:.0f}  max {lat['max']:.0f} ms"
    )

    def line(name, d):
        return (
            f"  {name:<17}p50 {d['p50']:.1f}  p95 {d['p95']:.1f}  p99 {d['p99']:.1f}  "
            f"max {d['max']:.1f} ms"
        )

    if result.get("server_kind", "asgi") == "wsgi":
        print(
            line("before Django", srv["queue_ms"])
            + f"   (sent → a gunicorn thread calls the app: accept backlog, the worker's "
            f"queue for one of {srv['gate_limit']} threads per process)"
        )
        print(
            line("in Django", srv["app_ms"])
            + "   (app called → response started: server-side time per request)"
        )
    else:
        print(
            line("before Django", srv["queue_ms"])
            + "   (sent → through the gate: to_app + gate below)"
        )
        print(line("  to the app", srv["to_app_ms"]) + "   (sent → uvicorn calls the app)")
        print(
            line("  gate queue", srv["gate_ms"])
            + f"   (body read + wait for one of {srv['gate_limit']} places per process)"
        )
        print(
            line("in Django", srv["app_ms"])
            + "   (through the gate → response started: server-side time per request)"
        )
    print(line("after Django", srv["after_ms"]) + "   (response start → client has read it)")
    print(line("  SQL total", srv["sql_ms"]))
    print(line("  FOR UPDATE", srv["lock_ms"]) + "   (mostly waiting for the row lock)")
    print(
        line("  DB connect", srv["connect_ms"])
        + "   (pool check-out or a persistent connection's first open; SQLite: open + PRAGMAs)"
    )
    print(line("  COMMIT", srv["commit_ms"]))
    print(
        f"  queries/request  mean {srv['queries_mean']:.1f}, max {srv['queries_max']}; "
        f"SQL statements that raised (even if handled): {srv['sql_errors']}"
    )
    for label, v in list(srv["by_statement"].items())[:12]:
        print(f"    {v['per_request']:5.2f} x {label:<48} {v['ms_per_request']:7.2f} ms/request")
    if cores:
        parties = ("server", "postgres", "redis", "client", "other")
        print(
            "  CPU (cores)      "
            + ", ".join(f"{k} {cores[k]:.2f}" for k in parties)
            + f"; machine {cores['machine']:.2f} of {os.cpu_count()}"
        )
        if "ms_per_request" in cores:
            per = cores["ms_per_request"]
            print(
                "  CPU per request  "
                + ", ".join(f"{k} {per[k]:.1f}" for k in ("server", "postgres", "client"))
                + " ms (user + system, all the server's processes and threads)"
            )
    if pg and pg["samples"]:
        waits = ", ".join(f"{k} {v:.1f}" for k, v in list(pg["waits_mean"].items())[:5])
        locks = ", ".join(f"{k} {v:.1f}" for k, v in list(pg["lock_waits_mean"].items())[:3])
        print(
            f"  PostgreSQL       {pg['active_mean']:.1f} active backends on average ({waits})"
            + (f"; waiting for locks in: {locks}" if locks else "")
        )


def code_version() -> str:
    from bench.bench_dispatch import code_version as version

    return version()


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as fh:
            for row in fh:
                if row.startswith("model name"):
                    model = row.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} vCPU {model}".strip()


def write_json(path: str | None, result: dict) -> None:
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps(result, default=str) + "\n")


def run_window(proc_pid: int):
    """CPU snapshot helper (bench_dispatch's) bound to the server's pid."""
    from bench.bench_dispatch import cpu_snapshot

    return cpu_snapshot(proc_pid)


def cores_between(before: dict, after: dict, seconds: float) -> dict:
    from bench.bench_dispatch import cpu_cores

    return cpu_cores(before, after, max(seconds, 1e-3))


def now_local() -> datetime:
    from pingan.core import clock

    return clock.now()


def future_window(hours_from_now: float = 24, length_h: float = 4):
    start = now_local() + timedelta(hours=hours_from_now)
    return start, start + timedelta(hours=length_h)


# --- the driver both benchmarks share -------------------------------------------------------


@dataclass
class Run:
    """One measured run: what each user requests, and how the outcome is checked afterwards."""

    label: str
    request_for: object  # (user index) -> (method, path, body bytes)
    verify: object  # (samples) -> list of (check, passed, detail)


def drive(args, world: World, new_run, title: str) -> list[dict]:
    """For each worker count: start the server, warm it up, then one run per load profile
    (each on fresh data from `new_run(users, warm)` and fresh tokens), checked and printed."""
    from bench.bench_dispatch import free_port, stop_server, wait_quiet

    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    users = world.users[: args.users]
    warm_users = world.users[args.users : args.users + max(args.warmup, 0)]
    if len(users) < args.users:
        raise SystemExit(f"the world has only {len(users)} users; run with --reload")
    version = code_version()
    results = []
    for asked in [int(w) for w in str(args.workers).split(",")]:
        workers = resolved_workers(args, asked)
        port = free_port()
        log_path = Path(args.cache_dir) / f"server-{args.server}-{args.db}-{workers}w.log"
        close_db()
        set_sync_commit(args, off=args.sync_commit_off)
        proc = start_server(args, workers, port, log_path)
        try:
            asyncio.run(wait_ready(port, proc))
            if warm_users:
                warm = new_run(warm_users, True)
                warm_tokens = fresh_tokens(warm_users)
                close_db()
                ok = asyncio.run(warm_up(port, warm_tokens, warm.request_for))
                print(
                    f"\n{server_label(args, workers)}, port {port}: "
                    f"warm-up {ok}/{len(warm_users)} answered 2xx/4xx",
                    flush=True,
                )
            for profile in [p.strip() for p in args.profiles.split(",") if p.strip()]:
                run = new_run(users, False)
                tokens = fresh_tokens(users)
                close_db()
                if args.wait_quiet:
                    wait_quiet(args.wait_quiet)
                sampler = PgSampler(args.pg_db) if args.db == "postgres" else None
                if sampler:
                    sampler.start()
                spy_file = f"{args.py_spy}-{len(results) + 1}.txt" if args.py_spy else None
                spy = start_py_spy(proc.pid, spy_file) if spy_file else None
                cpu0, t0 = run_window(proc.pid), time.time()
                samples, info = asyncio.run(
                    run_profile(port, profile, tokens, run.request_for, args.seed)
                )
                cpu1, t1 = run_window(proc.pid), time.time()
                if spy is not None:
                    spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
                    try:
                        spy.wait(30)
                    except subprocess.TimeoutExpired:
                        spy.kill()
                if sampler:
                    sampler.stop.set()
                    sampler.join(5)
                if proc.poll() is not None:
                    raise RuntimeError(f"server died (see {log_path})")
                result = summarise(samples, info)
                cores = cores_between(cpu0, cpu1, t1 - t0)
                # CPU time per answered request, by party (the whole run's window).
                cores["ms_per_request"] = {
                    k: cores[k] * (t1 - t0) * 1000 / max(result["answered"], 1)
                    for k in ("server", "postgres", "client", "other")
                }
                pg = sampler.summary() if sampler else None
                checks = run.verify(samples)
                close_db()
                result.update(
                    {
                        "bench": title,
                        "db": args.db,
                        "server_kind": args.server,
                        "workers": workers,
                        "threads": resolved_threads(args),
                        "pool_max": pool_max(args, workers),
                        "users": len(users),
                        "run": run.label,
                        "cpu_cores": cores,
                        "pg": pg,
                        "checks": [list(c) for c in checks],
                        "passed": all(c[1] for c in checks),
                        "date": datetime.now().isoformat(timespec="seconds"),
                        "commit": version,
                        "machine": machine(),
                        "experiments": experiments_label(args),
                    }
                )
                print(
                    f"\n== {title}: {args.db}, {server_label(args, workers)}, {len(users)} users, "
                    f"{profile} ({run.label})"
                    + (f" OPTIONS: {result['experiments']}" if result["experiments"] else "")
                )
                print_summary(result, cores, pg)
                for name, passed, detail in checks:
                    print(f"  [{'ok' if passed else 'FAIL'}] {name}: {detail}")
                if cores.get("other", 0) > 0.25:
                    print(
                        f"  WARNING: other processes used {cores['other']:.2f} cores meanwhile: "
                        "the machine was not quiet"
                    )
                if spy_file and Path(spy_file).exists():
                    parts = profile_parts(spy_file, result["answered"])
                    result["profile_ms"] = dict(parts)
                    print(f"  py-spy --gil: server Python CPU per request ({spy_file}):")
                    for name, value in parts:
                        print(f"    {value:6.2f} ms  {name}")
                    print(f"    {sum(v for _, v in parts):6.2f} ms  total")
                write_json(args.json, result)
                results.append(result)
        finally:
            stop_server(proc)
            set_sync_commit(args, off=False)
    print_table(results)
    return results


def py_spy_binary() -> str:
    import shutil

    candidates = [os.environ.get("PY_SPY", ""), str(Path(sys.executable).with_name("py-spy"))]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    found = shutil.which("py-spy")
    if not found:
        raise SystemExit("py-spy not found: set PY_SPY=/path/to/py-spy")
    return found


def start_py_spy(pid: int, path: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            py_spy_binary(),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--rate",
            "100",
            "--format",
            "raw",
            "--output",
            path,
            "--nonblocking",
            "--gil",  # only the thread holding the GIL: Python CPU time, not waits
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


# Where a sampled stack's time goes: the deepest frame (leaf first) matching one of these.
PROFILE_PARTS = [
    ("sign_up service (checks, lock, insert)", "sign_up (pingan/volunteers/services"),
    ("waiting_position", "waiting_position (pingan/volunteers/services"),
    ("redeem service", "redeem (pingan/points/shop"),
    ("order response (order_out)", "order_out (pingan/points/api"),
    ("bearer token (user_for_token)", "user_for_token (pingan/accounts/services"),
]
GENERIC_PARTS = [
    ("psycopg / pool", "(psycopg"),
    ("django-ninja (routing, parse, render)", "(ninja/"),
    ("pydantic", "(pydantic"),
    ("Django (handler, middleware, ORM)", "(django/"),
    ("asgiref thread hand-offs", "(asgiref/"),
    ("gunicorn", "(gunicorn/"),
    ("admission gate", "(pingan/core/admission"),
    ("uvicorn / asyncio", "(uvicorn/"),
    ("threading / concurrent.futures", "(threading.py"),
    ("threading / concurrent.futures", "(concurrent/"),
]


def profile_parts(path: str, requests: int, rate_hz: int = 100) -> list[tuple[str, float]]:
    """Milliseconds of server Python CPU (GIL held, all processes) per request, by part: the
    application's own functions first (the deepest wins), libraries only when none."""
    per_part: dict[str, int] = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            stack, _, count = line.rstrip().rpartition(" ")
            if not count.isdigit():
                continue
            frames = stack.split(";")
            part = "other (event loop, interpreter)"
            for group in (PROFILE_PARTS, GENERIC_PARTS):
                hit = next(
                    (n for frame in reversed(frames) for n, needle in group if needle in frame),
                    None,
                )
                if hit:
                    part = hit
                    break
            per_part[part] = per_part.get(part, 0) + int(count)
    ms = 1000 / rate_hz / max(requests, 1)
    return sorted(((k, v * ms) for k, v in per_part.items()), key=lambda kv: -kv[1])


def set_sync_commit(args, *, off: bool) -> None:
    if args.db != "postgres" or not (off or args.sync_commit_off):
        return
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        if off:
            conn.execute(f"ALTER DATABASE {args.pg_db} SET synchronous_commit = off")
        else:
            conn.execute(f"ALTER DATABASE {args.pg_db} RESET synchronous_commit")


def experiments_label(args) -> str:
    parts = []
    if args.switch_interval:
        parts.append(f"switchinterval={args.switch_interval:g}")
    if args.admission is not None:
        parts.append(f"HTTP_ADMISSION_LIMIT={args.admission}")
    if args.sync_commit_off:
        parts.append("synchronous_commit=off")
    return ", ".join(parts)


def print_table(results: list[dict]) -> None:
    print(
        "\n| db | server | workers | gate / threads | load | checks | non-2xx/409 | req/s | p50 "
        "| p95 | p99 | max | in Django p50 / p95 / p99 / max | before Django p99 "
        "| gate queue p99 | FOR UPDATE p99 | queries | cores server / PG / client / other "
        "| CPU ms/request server / PG |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        lat, srv, cores = r["latency"], r["server"], r["cpu_cores"]
        load = r["profile"] + (f" [{r['experiments']}]" if r.get("experiments") else "")
        bad = sum(v for k, v in r["outcomes"].items() if k.split()[0] not in ("200", "201", "409"))
        app = srv["app_ms"]
        print(
            f"| {r['db']} | {r.get('server_kind', 'asgi')} | {r['workers']} | "
            f"{'/'.join(map(str, srv['gate_limit']))} | {load} | "
            f"{'pass' if r['passed'] else 'FAIL'} | {bad} | {r['throughput']:.0f} | "
            f"{lat['p50']:.0f} | {lat['p95']:.0f} | {lat['p99']:.0f} | {lat['max']:.0f} | "
            f"{app['p50']:.0f} / {app['p95']:.0f} / {app['p99']:.0f} / {app['max']:.0f} | "
            f"{srv['queue_ms']['p99']:.0f} | {srv['gate_ms']['p99']:.0f} | "
            f"{srv['lock_ms']['p99']:.0f} | "
            f"{srv['queries_mean']:.1f} | {cores['server']:.2f} / {cores['postgres']:.2f} / "
            f"{cores['client']:.2f} / {cores['other']:.2f} | "
            f"{cores['ms_per_request']['server']:.1f} / {cores['ms_per_request']['postgres']:.1f} |"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve_main(sys.argv[2:])
    else:
        sys.exit(
            "usage: python -m bench._rush serve --port P [--server wsgi|asgi] [--workers N] "
            "[--threads T]"
        )
