"""`manage.py simulate [--rate REPORTS_PER_MIN] [--duration SECONDS]`: synthetic live activity."""

import threading

from django.core.management.base import BaseCommand, CommandError

from pingan.demo.simulate import Simulator


class Command(BaseCommand):
    help = "模拟演示县的实时警情与处警 / stream synthetic reports and unit activity"

    def add_arguments(self, parser):
        parser.add_argument(
            "--rate", type=float, default=6.0, help="new reports per minute (default %(default)s)"
        )
        parser.add_argument(
            "--duration",
            type=float,
            default=0,
            help="stop after this many seconds (default: until Ctrl-C)",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=2.0,
            help="seconds between simulation ticks (default %(default)s)",
        )
        parser.add_argument("--seed", type=int, default=None, help="fix the random stream")

    def handle(self, *args, rate, duration, interval, seed, **options):
        if rate < 0 or duration < 0 or interval <= 0:
            raise CommandError("--rate、--duration 不能为负数，--interval 必须大于 0")
        simulator = Simulator(seed=seed, rate_per_min=rate)
        stop = threading.Event()
        timer = None
        if duration:
            timer = threading.Timer(duration, stop.set)
            timer.daemon = True
            timer.start()
        self.stdout.write(f"模拟中：每分钟约 {rate:g} 起报警，按 Ctrl-C 结束")
        try:
            simulator.run(stop, interval_s=interval)
        except KeyboardInterrupt:
            stop.set()
        finally:
            if timer:
                timer.cancel()
        self.stdout.write(simulator.totals.line())
