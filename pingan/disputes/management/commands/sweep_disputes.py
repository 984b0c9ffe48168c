"""`manage.py sweep_disputes`: escalate overdue dispute orders and re-run the time-based risk
rules (pingan/core/periodic.py runs it every minute). Safe to run any time."""

from django.core.management.base import BaseCommand

from pingan.disputes import services


class Command(BaseCommand):
    help = "纠纷定时任务：逾期订单逐级上报、按时间重新评估风险 / escalate and reassess disputes"

    def handle(self, *args, **options):
        result = services.sweep()
        if options["verbosity"] > 0:
            self.stdout.write(f"逾期上报：{result['escalated']}，重新评估：{result['reassessed']}")
