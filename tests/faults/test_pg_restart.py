"""PostgreSQL restarted in the middle of a bounded load of reports (issue 11 point 7; security
review F6, runs B and D).

The test runs its own throwaway PostgreSQL 15 cluster (Debian's initdb and pg_ctl, as the
postgres user when we are root, on a free port in 55400-55499) and `pingan serve` against it
exactly as deployed (gunicorn HTTP workers, the socket server with the embedded task worker and
sweeper; not demo mode). Residents send REPORTS reports from THREADS threads; a third of the way
in, PostgreSQL is stopped (`pg_ctl stop -m fast`) and started again OUTAGE_S seconds later.
Then:

- every report answered 201 is in the database (and nothing answered otherwise is);
- every other answer was a JSON 503 `db_unavailable` with Retry-After: never a 500, never HTML,
  never a dropped connection;
- reports succeed again within RECOVERY_S seconds of PostgreSQL accepting connections, without
  restarting pingan;
- the embedded task worker came through: the offer-expiry tasks due after the restart run.

It never touches the test database. Skipped where the PostgreSQL server binaries are missing.
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.faults

REPO_ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PORTS = range(55400, 55500)
GRID_CENTER = (114.30, 26.30)

REPORTS = 200
THREADS = 4
PAUSE_S = 0.3  # between one thread's reports: about 4 × 3 reports a second, within capacity
STOP_AFTER = REPORTS // 3  # answers received before PostgreSQL is stopped
OUTAGE_S = 3.0
RECOVERY_S = 10.0
TASKS_DONE_S = 30.0  # the restarted worker's back-off is at most a few seconds here
START_TIMEOUT_S = 60


@dataclass
class Answer:
    index: int
    at: float
    status: int  # 0: no HTTP answer (the connection failed)
    content_type: str
    body: dict | None
    retry_after: str | None
    error: str = ""


def _free_port(candidates) -> int:
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip(f"no free port in {candidates}")


class Cluster:
    """A PostgreSQL cluster of its own in a temporary directory."""

    def __init__(self, root: Path, port: int):
        self.root, self.port = root, port
        self.data = root / "pgdata"
        self.log = root / "postgres.log"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def run(self, *argv: str, check: bool = True, timeout: float = 60):
        done = subprocess.run(
            [*self.as_postgres, *argv], capture_output=True, text=True, timeout=timeout
        )
        if check and done.returncode != 0:
            pytest.fail(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}", pytrace=False)
        return done

    def init(self) -> None:
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self.run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-instructions",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=60"
        )
        self.run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def sql(self, statement: str, database: str = "postgres") -> list:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database, autocommit=True
        ) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []


def _server_env(data_dir: Path, database_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "PINGAN_TEST"))
        and k not in {"PINGAN_TESTING", "PINGAN_DEMO", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="pingan.settings",
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(50),
        PINGAN_DATA_DIR=str(data_dir),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
        # Plain HTTP on 127.0.0.1 (the explicit opt-out of the HTTPS redirect).
        PINGAN_HTTPS="0",
        # Offers expire quickly, so the worker has due tasks to run after the restart.
        DISPATCH_OFFER_TIMEOUT_SECONDS="3",
        # The load is many reports from few residents and one address: no flood limits here.
        RESIDENT_REPORTS_PER_HOUR="0",
        RESIDENT_REPORTS_PER_DAY="0",
        ANON_REPORTS_PER_HOUR="100000",
        API_RATE_LIMIT_PER_ACCOUNT="0",
        API_RATE_LIMIT_PER_ADDRESS="0",
    )
    with contextlib.suppress(ImportError):
        from pingan.core.crypto import new_data_key, new_index_key

        env.update(DATA_KEYS=new_data_key("fault1"), DATA_INDEX_KEY=new_index_key())
    return env


def _step(argv, env, what: str) -> str:
    done = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        pytest.fail(f"{what} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}", pytrace=False)
    return done.stdout


@pytest.fixture
def cluster():
    for tool in ("initdb", "pg_ctl"):
        if not (PG_BIN / tool).exists():
            pytest.skip(f"{PG_BIN / tool} is missing (Debian: apt-get install postgresql-15)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: initdb refuses root")
    root = Path(tempfile.mkdtemp(prefix="pingan-fault-"))
    pg = Cluster(root, _free_port(PORTS))
    try:
        pg.init()
        pg.start()
        pg.sql("CREATE DATABASE pingan_fault")
        yield pg
    finally:
        pg.run(str(PG_BIN / "pg_ctl"), "-D", str(pg.data), "-m", "immediate", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def server(cluster):
    """`pingan serve` on the cluster, migrated and seeded: (base URL, tokens, log file)."""
    data_dir = cluster.root / "pingan"
    data_dir.mkdir()
    url = f"postgres://postgres@127.0.0.1:{cluster.port}/pingan_fault"
    env = _server_env(data_dir, url)
    python = sys.executable
    _step([python, "-m", "pingan.cli", "manage", "migrate", "--noinput", "-v", "0"], env, "migrate")
    seeded = _step([python, str(REPO_ROOT / "tests/faults/seed.py"), str(THREADS * 2)], env, "seed")
    tokens = json.loads(seeded.strip().splitlines()[-1])["tokens"]
    port = _free_port(range(18400, 18500))
    socket_port = _free_port(range(port + 1, 18600))
    log = cluster.root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [python, "-m", "pingan.cli", "serve", "--port", str(port),
             "--socket-port", str(socket_port), "--workers", "2", "--threads", "4"],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, proc, log)
        yield base, tokens, log
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _wait_until_up(base: str, proc, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"pingan serve exited:\n{log.read_text(errors='replace')}", pytrace=False)
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/api/categories", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    pytest.fail(f"pingan serve did not start:\n{log.read_text(errors='replace')}", pytrace=False)


def _report_body(index: int) -> dict:
    # Spread over the grid: a real rush is not one point (the duplicate check links those).
    dx, dy = ((index * 37) % 17 - 8) * 0.001, ((index * 53) % 17 - 8) * 0.001
    return {
        "category": "020100",
        "description": f"fault-{index} 村口有人打架",
        "location": {"lng": GRID_CENTER[0] + dx, "lat": GRID_CENTER[1] + dy},
    }


def _send_reports(base, tokens, indexes, answers, lock, started) -> None:
    import httpx

    with httpx.Client(base_url=base, timeout=30) as client:
        for index in indexes:
            token = tokens[index % len(tokens)]
            try:
                response = client.post(
                    "/api/incidents",
                    json=_report_body(index),
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.HTTPError as exc:
                answer = Answer(index, time.monotonic() - started, 0, "", None, None, repr(exc))
            else:
                try:
                    body = response.json()
                except ValueError:
                    body = None
                answer = Answer(
                    index,
                    time.monotonic() - started,
                    response.status_code,
                    response.headers.get("content-type", ""),
                    body,
                    response.headers.get("retry-after"),
                    "" if body is not None else response.text[:200],
                )
            with lock:
                answers.append(answer)
            time.sleep(PAUSE_S)


def _tasks(cluster, where: str) -> int:
    rows = cluster.sql(
        f"SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE {where}",  # noqa: S608
        "pingan_fault",
    )
    return rows[0][0]


def test_reports_survive_a_postgres_restart_and_the_service_recovers(cluster, server):
    base, tokens, log = server
    answers: list[Answer] = []
    lock = threading.Lock()
    started = time.monotonic()
    threads = [
        threading.Thread(
            target=_send_reports,
            args=(base, tokens, range(t, REPORTS, THREADS), answers, lock, started),
        )
        for t in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    while len(answers) < STOP_AFTER and any(t.is_alive() for t in threads):
        time.sleep(0.05)
    stopped_at = time.monotonic() - started
    cluster.stop("fast")
    time.sleep(OUTAGE_S)
    cluster.start()  # returns once PostgreSQL accepts connections
    back_at = time.monotonic() - started
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads), "the load did not finish"
    assert len(answers) == REPORTS

    def summary():
        counts: dict = {}
        for a in answers:
            counts[a.status] = counts.get(a.status, 0) + 1
        return f"answers by status {counts}; stop at {stopped_at:.1f} s, back at {back_at:.1f} s"

    print(summary())  # shown with -s, and with a failure
    # Only two kinds of answer: a saved report, or a clean 503 while the database was away.
    refused = [a for a in answers if a.status != 201]
    bad = [
        a
        for a in refused
        if a.status != 503
        or not a.content_type.startswith("application/json")
        or (a.body or {}).get("error", {}).get("code") != "db_unavailable"
        or not a.retry_after
    ]
    assert not bad, (
        f"{summary()}; not a JSON 503: {bad[:5]}\n" + log.read_text(errors="replace")[-4000:]
    )
    assert refused, f"{summary()}: the outage was never seen by a request"

    # Every 201 is in the database, as the report it answered.
    created = {a.body["code"]: a.index for a in answers if a.status == 201}
    rows = dict(
        cluster.sql(
            "SELECT code, description FROM incidents_incident WHERE description LIKE 'fault-%'",
            "pingan_fault",
        )
    )
    missing = set(created) - set(rows)
    assert not missing, f"{summary()}: answered 201 but not in the database: {missing}"
    for code, index in created.items():
        assert rows[code].startswith(f"fault-{index} "), (code, rows[code])

    # Recovered by itself: reports succeed again soon after PostgreSQL is back.
    first_after = min((a.at for a in answers if a.status == 201 and a.at > back_at), default=None)
    assert first_after is not None, f"{summary()}: no report succeeded after the restart"
    assert first_after - back_at <= RECOVERY_S, summary()

    # The embedded task worker survived: the offer expiries due now all run.
    deadline = time.monotonic() + TASKS_DONE_S
    overdue = "status IN ('READY', 'RUNNING') AND run_after < now() - interval '5 seconds'"
    while _tasks(cluster, overdue) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _tasks(cluster, overdue) == 0, "tasks overdue: the task worker did not come back"
    assert _tasks(cluster, "status = 'SUCCESSFUL'") > 0
