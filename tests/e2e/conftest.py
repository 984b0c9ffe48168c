"""Browser tests: the real server in a subprocess, driven by Debian's Chromium through Playwright.

The server runs exactly as deployed in the embedded set-up (`pingan serve`: gunicorn HTTP workers,
and the socket server with the in-memory channel layer, the live fan-out, the task worker and
the sweeper) on a fresh SQLite file, seeded by seed.py.
These tests never touch the test database: everything goes through HTTP and the WebSocket.
"""

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = E2E_DIR.parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT_S = 30
# Variables that would make the server think it runs under pytest, or point it elsewhere.
_DROP_PREFIXES = ("PYTEST_", "PINGAN_TEST")
_DROP = {"PINGAN_TESTING", "PINGAN_TASKS_IMMEDIATE", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}

_server_log = pytest.StashKey[Path]()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    log = item.config.stash.get(_server_log, None)
    if report.when == "call" and report.failed and log is not None and log.exists():
        tail = log.read_text(errors="replace")[-8000:]
        report.sections.append(("pingan server log (tail)", tail))


def _unavailable(reason: str):
    """No Chromium or Playwright: skip on a workstation, fail loudly in CI."""
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path():
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright Python package is not installed")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _DROP and not key.startswith(_DROP_PREFIXES)
    }
    env.update(
        DJANGO_SETTINGS_MODULE="pingan.settings",
        PINGAN_DATA_DIR=str(data_dir),
        PINGAN_DEBUG="0",
        PINGAN_DEMO="1",
        # Always its own SQLite file, even when the suite itself runs on PostgreSQL.
        DATABASE_URL=f"sqlite:///{data_dir / 'e2e.sqlite3'}",
        DISPATCH_OFFER_TIMEOUT_SECONDS="600",
        SECRET_KEY=secrets.token_urlsafe(50),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
    )
    return env


def _run_step(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        pytest.fail(
            f"{what} failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}", pytrace=False
        )


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    last_error = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"pingan serve exited with {proc.returncode} before answering:\n"
                f"{log.read_text(errors='replace')}",
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(f"{url}/login/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last_error = exc
        time.sleep(0.2)
    proc.kill()
    proc.wait(timeout=10)
    pytest.fail(
        f"pingan serve did not answer {url}/login/ within {START_TIMEOUT_S} s "
        f"(last error: {last_error}):\n{log.read_text(errors='replace')}",
        pytrace=False,
    )


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    """The socket server (a port of its own, beside the HTTP workers) accepts connections."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(
        f"the socket server did not listen on {port}:\n{log.read_text(errors='replace')}",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def live_server_url(chromium_path, tmp_path_factory, pytestconfig):
    data_dir = tmp_path_factory.mktemp("e2e-server")
    env = _server_env(data_dir)
    _run_step(
        [sys.executable, "-m", "pingan.cli", "manage", "migrate", "--noinput", "-v", "0"],
        env,
        "migrate",
    )
    _run_step([sys.executable, str(E2E_DIR / "seed.py")], env, "seed")
    port = _free_port()
    socket_port = _free_port()
    while socket_port == port:
        socket_port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = data_dir / "server.log"
    pytestconfig.stash[_server_log] = log
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pingan.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--socket-port",
                str(socket_port),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(url, proc, log)
        _wait_for_port(socket_port, proc, log)
        yield url
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def shoot(request, tmp_path_factory):
    """shoot(page, name): a full-page screenshot in the pytest temp folder, and also in
    $PINGAN_SCREENSHOTS when that is set."""
    folders = [tmp_path_factory.mktemp("e2e-shots")]
    extra = os.environ.get("PINGAN_SCREENSHOTS")
    if extra:
        folders.append(Path(extra))
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def take(page, name: str) -> None:
        filename = f"{request.node.name}-{next(counter):02d}-{name}.png"
        data = page.screenshot(full_page=True)
        for folder in folders:
            (folder / filename).write_bytes(data)

    take.folders = folders
    return take
