"""`manage.py scheduler`: the one process that runs the periodic jobs (pingan/core/periodic.py)
when the embedded sweeper is not running (Redis deployments). Start exactly one per database,
e.g. as a systemd service (docs/deployment.md). `--once` runs every job once and exits."""

import signal
import threading

from django.core.management.base import BaseCommand

from pingan.core import periodic


class Command(BaseCommand):
    help = "定时任务调度：派警超时、纠纷与积分定时任务、短信重发、清理 / run the periodic jobs"

    def add_arguments(self, parser):
        parser.add_argument("--tick", type=float, default=periodic.TICK_SECONDS)
        parser.add_argument("--once", action="store_true", help="run every job once, then exit")

    def handle(self, *args, tick=periodic.TICK_SECONDS, once=False, **options):
        if once:
            for name in periodic.run_round(0):
                self.stdout.write(name)
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        periodic.run_forever(stop, tick)
