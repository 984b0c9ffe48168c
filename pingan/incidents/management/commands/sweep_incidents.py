"""`manage.py sweep_incidents`: expire overdue offers and offer incidents still waiting for a
unit again (pingan/core/periodic.py runs it every few seconds). Safe to run any time."""

from django.core.management.base import BaseCommand

from pingan.incidents import services


class Command(BaseCommand):
    help = "警情定时任务：派警超时、待派警情重新派警 / expire offers and retry waiting incidents"

    def handle(self, *args, **options):
        result = services.sweep()
        if options["verbosity"] > 0:
            self.stdout.write(f"派警超时：{result['expired']}，重新派警：{result['retried']}")
