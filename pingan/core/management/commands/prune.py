"""`manage.py prune`: delete what has served its purpose (pingan/core/periodic.py runs it
hourly). Safe to run any time; each part is one bulk DELETE.

- anonymous report quota rows (`ReportThrottle`) whose hour is over;
- expired API tokens;
- SMS / messages sent or given up more than PRUNE_MESSAGES_AFTER_DAYS days ago (queued ones are
  kept whatever their age: they are still to be delivered);
- live push rows (`LivePush`) older than a day (the fan-out prunes them too while it runs);
- PostgreSQL day sequences of past days (`core.sequences.prune_sequences`);
- expired sessions (Django's `clearsessions`);
- stored answers of idempotent writes older than IDEMPOTENCY_KEEP_HOURS.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from pingan.core import clock

PARTS = ("throttle", "tokens", "messages", "pushes", "sequences", "sessions", "idempotency")


def prune(now=None, parts=PARTS) -> dict[str, int]:
    from pingan.accounts.models import ApiToken
    from pingan.core.sequences import prune_sequences
    from pingan.incidents.models import ReportThrottle
    from pingan.live.models import LivePush
    from pingan.notify.models import MessageStatus, OutboundMessage

    now = now or clock.now()
    done: dict[str, int] = {}
    if "throttle" in parts:
        # A row counts the reports of one hour; once that hour is over nobody reads it.
        over = now - timedelta(hours=1)
        done["throttle"] = ReportThrottle.objects.filter(hour__lte=over).delete()[0]
    if "tokens" in parts:
        done["tokens"] = ApiToken.objects.filter(expires_at__lte=now).delete()[0]
    if "messages" in parts:
        before = now - timedelta(days=settings.PRUNE_MESSAGES_AFTER_DAYS)
        done["messages"] = (
            OutboundMessage.objects.filter(
                status__in=[MessageStatus.SENT, MessageStatus.FAILED], created_at__lt=before
            )
            .order_by()
            .delete()[0]
        )
    if "pushes" in parts:
        done["pushes"] = LivePush.objects.filter(at__lt=now - timedelta(days=1)).delete()[0]
    if "sequences" in parts:
        done["sequences"] = prune_sequences()
    if "idempotency" in parts:
        from pingan.core.idempotency import keep_until
        from pingan.core.models import IdempotentRequest

        done["idempotency"] = IdempotentRequest.objects.filter(
            created_at__lt=keep_until(now)
        ).delete()[0]
    if "sessions" in parts:
        call_command("clearsessions")
        done["sessions"] = 0  # clearsessions does not say how many
    return done


class Command(BaseCommand):
    help = "清理过期数据：限流记录、过期令牌、已发短信、推送、会话 / prune expired rows"

    def add_arguments(self, parser):
        parser.add_argument("--only", choices=PARTS, action="append", help="one part (repeatable)")

    def handle(self, *args, only=None, **options):
        done = prune(parts=tuple(only or PARTS))
        if options["verbosity"] > 0:
            self.stdout.write("，".join(f"{key}: {value}" for key, value in done.items()))
