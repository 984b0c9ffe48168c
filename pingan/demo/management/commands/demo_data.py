"""`manage.py demo_data [--seed N] [--years N] [--history-per-day X] [--if-empty]`"""

from django.core.management.base import BaseCommand, CommandError

from pingan.demo.generate import (
    DEFAULT_SEED,
    DemoDataExists,
    generate_demo_county,
    ready_demo_units,
)
from pingan.demo.logins import DEMO_LOGINS, DEMO_PASSWORD
from pingan.orgs.models import OrgUnit


class Command(BaseCommand):
    help = "生成演示县（平安县）：单位、网格、人员、警力和两年历史警情 / create the demo county"

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help="same seed, same county (default %(default)s)",
        )
        parser.add_argument("--years", type=int, default=2, help="years of incident history")
        parser.add_argument(
            "--history-per-day",
            type=float,
            default=None,
            help="average history incidents per day county-wide (default 14)",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when the database already has org units",
        )

    def handle(self, *args, seed, years, history_per_day, if_empty, **options):
        if if_empty and OrgUnit.objects.exists():
            if options["verbosity"] > 0:
                self.stdout.write("数据库中已有单位数据，跳过演示数据生成。")
            ready_demo_units()
            return
        if years < 0 or (history_per_day is not None and history_per_day < 0):
            raise CommandError("--years 和 --history-per-day 不能为负数")
        stdout = self.stdout if options["verbosity"] > 0 else None
        try:
            generate_demo_county(
                seed=seed, years=years, history_per_day=history_per_day, stdout=stdout
            )
        except DemoDataExists as exc:
            raise CommandError(f"{exc}（可加 --if-empty 跳过）") from exc
        if stdout:
            self.stdout.write(
                self.style.SUCCESS(
                    "演示数据已生成。演示账号 "
                    + " / ".join(username for username, _, _ in DEMO_LOGINS)
                    + f"，密码均为 {DEMO_PASSWORD}"
                )
            )
