"""How `pingan serve` and `pingan demo` run: HTTP and sockets in the processes that suit each.

- **HTTP** (pages and the API) is answered by gunicorn's WSGI workers, one process per core,
  each with a few threads and persistent database connections. Measured on the report path
  (docs/benchmarks.md, docs/decisions.md): WSGI costs the least per request; under ASGI every
  request paid for a new thread and the sync-to-async hops (5.5–9 ms), and could not keep a
  database connection.
- **WebSockets** (`/ws/live/`) stay on ASGI: one uvicorn process, which also runs the live
  fan-out (pingan/live/fanout.py) and, in the embedded set-up, the task worker and the sweeper.

The embedded server listens on two ports of the same host: HTTP on `--port`, sockets on
`--socket-port` (default: the next port). Pages open their socket there by themselves
(`LIVE_SOCKET_PORT`), so a user still opens one address. Behind a reverse proxy both sit
behind one port (docs/deployment.md) and `LIVE_SOCKET_PORT=0` keeps sockets on the page's
origin.
"""

import os
import signal
import subprocess
import sys
import threading

WSGI_APP = "pingan.wsgi:application"
# Threads per HTTP worker: requests in flight per process. A few keep a slow client from
# holding the whole process; more only make the admitted requests share the interpreter.
DEFAULT_THREADS = 4


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def gunicorn_argv(app: str, host: str, port: int, workers: int, threads: int = 0) -> list[str]:
    """The arguments after `python -m gunicorn` (the benchmark's floor app uses the same)."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [
        "-c",
        "python:pingan.gunicorn_conf",
        "--worker-class",
        "gthread",
        "--workers",
        str(workers or default_workers()),
        "--threads",
        str(threads or DEFAULT_THREADS),
        "--bind",
        bind,
        app,
    ]


def http_environment(socket_port: int) -> dict[str, str]:
    """Environment of the HTTP workers: persistent connections (a WSGI thread keeps its own
    connection between requests; no pool needed) and where pages find the socket server."""
    env = dict(os.environ)
    env.setdefault("DB_CONN_MAX_AGE", "600")
    env["DB_POOL"] = "0"
    env.setdefault("LIVE_SOCKET_PORT", str(socket_port))
    return env


def warm_up() -> None:
    """Build the per-process data the first report would otherwise wait for."""
    from django.db import connections

    from pingan.orgs import services as orgs

    try:
        orgs.current_index()
    finally:
        connections.close_all()


class Server:
    """The HTTP workers as a child process, the socket server in this one."""

    def __init__(self, host: str, port: int, socket_port: int, workers: int, threads: int = 0):
        self.host, self.port, self.socket_port = host, port, socket_port
        self.workers, self.threads = workers, threads
        self.http: subprocess.Popen | None = None

    def start_http(self) -> None:
        argv = gunicorn_argv(WSGI_APP, self.host, self.port, self.workers, self.threads)
        self.http = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *argv],
            env=http_environment(self.socket_port),
            preexec_fn=_die_with_parent,
        )
        # If the HTTP workers die, the server as a whole is down: stop the socket server too.
        threading.Thread(target=self._watch_http, name="http-watch", daemon=True).start()

    def _watch_http(self) -> None:
        code = self.http.wait()
        if not getattr(self, "_stopping", False):
            print(f"pingan: HTTP workers exited ({code}); stopping", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGTERM)

    def stop_http(self) -> None:
        self._stopping = True
        if self.http is not None and self.http.poll() is None:
            self.http.send_signal(signal.SIGTERM)
            try:
                self.http.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.http.kill()

    def run_sockets(self) -> None:
        import uvicorn

        uvicorn.run(
            "pingan.asgi:application",
            host=self.host,
            port=self.socket_port,
            workers=1,
            lifespan="on",
            log_level="warning",
            proxy_headers=True,
            # Open sockets (every page keeps one) must not hold a restart for ever.
            timeout_graceful_shutdown=5,
        )


def _die_with_parent() -> None:
    """In the HTTP workers' master, before exec: if `pingan serve` is killed outright (no chance
    to stop its children), the kernel sends SIGTERM to the master too (Linux; elsewhere the
    parent's own shutdown is the only stop)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
