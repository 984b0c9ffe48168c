"""The `pingan` command: `pingan demo`, `pingan serve`, `pingan worker`, `pingan manage ...`."""

import argparse
import os
import threading

DEMO_LOGINS = [
    ("commander", "指挥员（县局指挥中心）", "/console/"),
    ("chief1", "派出所所长（城关所）", "/console/disputes/"),
    ("officer1", "社区民警", "/unit/"),
    ("aux1", "辅警", "/unit/"),
    ("grid1", "网格员", "/disputes/mine/"),
    ("volunteer1", "义警", "/volunteer/"),
    ("leader1", "义警队长", "/volunteer/teams/"),
    ("citizen1", "群众", "/report/"),
    ("clerk1", "爱心超市店员", "/shop/verify/"),
]
DEMO_PASSWORD = "pingan-demo"


def _setup(demo: bool) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings")
    if demo:
        os.environ["PINGAN_DEMO"] = "1"
        os.environ.setdefault("PINGAN_DATA_DIR", os.path.join(os.getcwd(), "data"))
    import django

    django.setup()


def _print_logins(host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    print("\n平安 pingan 演示县已就绪 / demo county ready\n")
    print(f"  打开 / open: {base}/")
    print(f"  密码 / password (all): {DEMO_PASSWORD}\n")
    for username, role, path in DEMO_LOGINS:
        print(f"  {username:<12} {role:<16} {base}{path}")
    print(f"  {'admin':<12} {'系统管理员':<16} {base}/admin/")
    print(f"\n  API docs: {base}/api/docs\n", flush=True)


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
    _setup(demo=True)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("demo_data", if_empty=True)
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
        threading.Thread(target=bg._sweeper, args=(stop, 5.0), daemon=True).start()
        call_command("rqworker", "default", with_scheduler=True)
    else:
        bg.start(stop)
        try:
            stop.wait()
        except KeyboardInterrupt:
            stop.set()


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
    manage = sub.add_parser("manage", help="Django management commands")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
