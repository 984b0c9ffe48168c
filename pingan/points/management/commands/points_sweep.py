"""`manage.py points_sweep [--only orders|tips|expiry]`: the periodic points work by hand —
expire orders nobody collected (points and stock back), credit tips handled in the last 30
days, and (with POINTS_EXPIRE_AFTER_YEARS) the yearly expiry. Safe to run any time: every
award and refund is written at most once."""

from django.core.management.base import BaseCommand

from pingan.points import services

JOBS = {
    "orders": ("orders_expired", services.expire_orders),
    "tips": ("tip_entries", services.award_tips),
    "expiry": ("points_expired", services.expire_points),
}


class Command(BaseCommand):
    help = "积分定时任务：过期订单退还、线索积分发放、积分年度到期 / run the points sweep"

    def add_arguments(self, parser):
        parser.add_argument("--only", choices=sorted(JOBS), help="run one part only")

    def handle(self, *args, only=None, **options):
        if only:
            key, job = JOBS[only]
            result = {key: job()}
        else:
            result = services.sweep()
        if options["verbosity"] > 0:
            labels = {
                "orders_expired": "逾期未核销订单",
                "tip_entries": "线索积分流水",
                "points_expired": "积分到期人数",
            }
            for key, value in result.items():
                shown = "失败（见日志）" if value is None else value
                self.stdout.write(f"{labels[key]}：{shown}")
