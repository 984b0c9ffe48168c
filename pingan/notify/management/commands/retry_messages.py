"""`manage.py retry_messages`: deliver queued messages whose delivery task never ran (e.g. after
a restart); pingan/core/periodic.py runs it every minute. Safe to run any time."""

from django.core.management.base import BaseCommand

from pingan.notify import services


class Command(BaseCommand):
    help = "重发未送出的短信 / retry undelivered messages"

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=200)

    def handle(self, *args, limit=200, **options):
        sent = services.retry_queued(limit=limit)
        if options["verbosity"] > 0:
            self.stdout.write(f"重发短信：{sent}")
