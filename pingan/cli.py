"""The `pingan` command: `pingan demo`, `pingan serve`, `pingan worker`, `pingan manage ...`."""

import argparse
import os
import sys
import threading
import time
import unicodedata

from pingan.demo.logins import DEMO_LOGINS, DEMO_PASSWORD


def _setup(demo: bool) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings")
    if demo:
        os.environ["PINGAN_DEMO"] = "1"
        os.environ.setdefault("PINGAN_DATA_DIR", os.path.join(os.getcwd(), "data"))
    import django

    django.setup()


def _pad(text: str, width: int) -> str:
    """Left-justify by terminal columns: a Chinese character takes two."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - used, 0)


def _print_logins(host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    print("\n平安 pingan 演示县已就绪 / demo county ready\n")
    print(f"  打开 / open: {base}/")
    print(f"  密码 / password (all): {DEMO_PASSWORD}")
    print(
        "  指挥员、所长和管理员登录还需动态口令：演示模式下第二步页面会显示当前口令\n"
        "  commanders, chiefs and administrators also give a TOTP code: in demo mode the\n"
        "  second sign-in step shows the current one\n"
    )
    for username, role, path in DEMO_LOGINS:
        print(f"  {_pad(username, 12)} {_pad(role, 24)} {base}{path}")
    print(f"\n  API docs: {base}/api/docs\n", flush=True)


class _Progress:
    """Numbered steps with elapsed time, and, while a long step runs, a ticking line with its
    usual duration, so a first start never sits silent for minutes.

    scripts/demo.sh numbers its own steps first and passes how many in PINGAN_DEMO_STEPS_DONE.
    """

    def __init__(self, steps: int):
        self.done = int(os.environ.get("PINGAN_DEMO_STEPS_DONE", "0") or 0)
        self.total = self.done + steps
        self.tty = sys.stdout.isatty()
        self._ticker = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def step(self, title: str, expected: str = "") -> None:
        self.finish()
        self.done += 1
        self.title, self.started = title, time.monotonic()
        hint = f"（{expected}）" if expected else ""
        self.write(f"[{self.done}/{self.total}] {title}{hint}\n")
        if expected:
            self._stop = threading.Event()
            self._ticker = threading.Thread(target=self._tick, args=(expected,), daemon=True)
            self._ticker.start()

    def _tick(self, expected: str) -> None:
        every = 1.0 if self.tty else 30.0
        while not self._stop.wait(every):
            elapsed = _clock(time.monotonic() - self.started)
            line = f"  … {self.title}：已用 {elapsed}，{expected}"
            self.write(line if self.tty else line + "\n", status=self.tty)

    def write(self, text: str, status: bool = False) -> None:
        """Write a line; on a terminal the ticking status line is redrawn in place."""
        with self._lock:
            if self.tty:
                sys.stdout.write("\r\033[K")
            sys.stdout.write(text)
            sys.stdout.flush()

    def finish(self) -> None:
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join()
            self._ticker = None
            self.write(f"  完成，用时 {_clock(time.monotonic() - self.started)}\n")


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


class _ProgressOut:
    """A stdout for management commands that keeps the progress line intact."""

    def __init__(self, progress: _Progress):
        self.progress = progress

    def write(self, text: str) -> None:
        self.progress.write(text)

    def flush(self) -> None:
        sys.stdout.flush()

    def isatty(self) -> bool:
        return False


def _run_server(args, background: bool, simulate: float = 0.0) -> None:
    """HTTP workers (gunicorn, WSGI) in a child process; the socket server, the live fan-out
    and, embedded, the task worker and sweeper in this one (pingan/serving.py)."""
    from pingan.serving import Server

    socket_port = args.socket_port or args.port + 1
    server = Server(args.host, args.port, socket_port, args.workers, args.threads)
    stop = threading.Event()
    if background:
        from pingan.core import background as bg

        bg.start(stop, simulate_rate=simulate)
    server.start_http()
    try:
        server.run_sockets()
    finally:
        stop.set()
        server.stop_http()


def cmd_demo(args) -> None:
    progress = _Progress(steps=4)
    progress.step("准备数据库 / database")
    _setup(demo=True)
    from django.core.management import call_command

    from pingan.orgs.models import OrgUnit

    call_command("migrate", verbosity=0)
    first = not OrgUnit.objects.exists()
    progress.step(
        "生成演示县 / demo county",
        "首次通常需要 5–10 分钟，只做一次" if first else "",
    )
    call_command("demo_data", if_empty=True, stdout=_ProgressOut(progress))
    progress.step("压缩静态文件 / static files")
    call_command("collectstatic", interactive=False, verbosity=0)
    progress.step("启动服务 / starting the server")
    progress.finish()
    _print_logins(args.host, args.port)
    _run_server(args, True, 0 if args.no_simulate else args.rate)


def cmd_serve(args) -> None:
    _setup(demo=False)
    from django.conf import settings
    from django.core.management import call_command

    if args.migrate:
        call_command("migrate", verbosity=0)
    # With Redis the task worker is its own process (`pingan worker`); embedded, it runs here,
    # beside the socket server.
    _run_server(args, background=not settings.REDIS_URL)


def cmd_worker(args) -> None:
    _setup(demo=False)
    from django.conf import settings
    from django.core.management import call_command

    from pingan.core import background as bg

    stop = threading.Event()
    if settings.TASKS["default"]["BACKEND"].startswith("django_tasks_rq"):
        # Only tasks here: the periodic jobs run in one `pingan scheduler`, however many
        # workers there are (docs/deployment.md).
        call_command("rqworker", "default", with_scheduler=True)
    else:
        bg.start(stop)
        try:
            stop.wait()
        except KeyboardInterrupt:
            stop.set()


def cmd_scheduler(args) -> None:
    _setup(demo=False)
    from django.core.management import call_command

    call_command("scheduler")


def cmd_manage(args) -> None:
    _setup(demo=bool(os.environ.get("PINGAN_DEMO")))
    from django.core.management import execute_from_command_line

    execute_from_command_line(["pingan manage", *args.rest])


def _server_options(parser) -> None:
    parser.add_argument(
        "--socket-port", type=int, default=0, help="WebSocket port (default: --port + 1)"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="HTTP worker processes (default: one per core)"
    )
    parser.add_argument("--threads", type=int, default=0, help="threads per HTTP worker")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="pingan", description="平安 pingan policing platform")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="create the demo county and serve it on 127.0.0.1:8000")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--rate", type=float, default=4.0, help="simulated reports per minute")
    demo.add_argument("--no-simulate", action="store_true", help="no synthetic activity")
    _server_options(demo)
    demo.set_defaults(func=cmd_demo)
    serve = sub.add_parser("serve", help="production server on the configured database")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--migrate", action="store_true", help="apply migrations first")
    _server_options(serve)
    serve.set_defaults(func=cmd_serve)
    worker = sub.add_parser("worker", help="background task worker (with Redis deployments)")
    worker.set_defaults(func=cmd_worker)
    scheduler = sub.add_parser(
        "scheduler", help="the periodic jobs (sweeps, pruning) with Redis deployments: run one"
    )
    scheduler.set_defaults(func=cmd_scheduler)
    manage = sub.add_parser("manage", help="Django management commands")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
