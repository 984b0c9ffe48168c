"""Report quotas: anonymous reports per client address, and logged-in residents' reports.

The anonymous quota is one statement, run inside the report's transaction.

The old check took three ORM statements in a transaction of its own (get_or_create, conditional
UPDATE, COMMIT). Here one upsert counts the report and refuses it past the limit: on PostgreSQL
the conflicting row is locked and its `count` re-read before the WHERE is applied, so N
concurrent reports against a limit L admit exactly L; on SQLite writers run one at a time.
Being in the caller's transaction, a report that fails afterwards gives its place back.
"""

import hashlib
import math
from datetime import timedelta

from django.conf import settings
from django.db import connection

from pingan.core.errors import ServiceError

TABLE = "incidents_reportthrottle"


def client_hash(client_key: str) -> str:
    """The client key is stored hashed (it may be an address)."""
    return hashlib.sha256(client_key.encode()).hexdigest()[:64]


def take_anonymous_report(client_key: str, now) -> None:
    """Count one anonymous report of this client in `now`'s hour, or raise 429 when the client
    already made ANON_REPORTS_PER_HOUR of them."""
    limit = settings.ANON_REPORTS_PER_HOUR
    # The INSERT branch admits the hour's first report unconditionally: a limit of 0 must
    # refuse before it.
    if limit > 0:
        hour = now.replace(minute=0, second=0, microsecond=0)
        qn = connection.ops.quote_name
        key, count = qn("key"), qn("count")
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} ({key}, hour, {count}) VALUES (%s, %s, 1) "
                f"ON CONFLICT ({key}, hour) DO UPDATE SET {count} = {TABLE}.{count} + 1 "
                f"WHERE {TABLE}.{count} < %s RETURNING {count}",
                # Stored like the ORM stores it (naive UTC text on SQLite), so the unique
                # constraint meets rows written by either.
                [client_hash(client_key), connection.ops.adapt_datetimefield_value(hour), limit],
            )
            if cursor.fetchone() is not None:
                return
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    raise ServiceError(
        "rate_limited",
        "匿名报警过于频繁，请稍后再试；紧急情况请直接拨打 110",
        status=429,
        retry_after=max(1, math.ceil((next_hour - now).total_seconds())),
    )


def take_resident_report(user, now) -> None:
    """Refuse (429, with Retry-After) a resident's report beyond RESIDENT_REPORTS_PER_HOUR in
    the last hour or RESIDENT_REPORTS_PER_DAY in the last 24 hours (0: no limit).

    The count is the resident's own reports: one indexed read (reporter, newest first, at most
    as many rows as the larger limit) and no write, so the report path costs no extra statement
    inside its transaction. Two reports sent in the same instant may both pass the last place;
    a limit against floods does not need to be exact. Staff (patrol reports, 110 transfers) are
    not limited here: the caller asks only for residents."""
    from .models import Incident

    windows = [
        (settings.RESIDENT_REPORTS_PER_HOUR, timedelta(hours=1), "每小时"),
        (settings.RESIDENT_REPORTS_PER_DAY, timedelta(days=1), "每天"),
    ]
    windows = [(limit, span, label) for limit, span, label in windows if limit > 0]
    if not windows:
        return
    newest = list(
        Incident.objects.filter(reporter_id=user.pk, reported_at__gt=now - timedelta(days=1))
        .order_by("-reported_at")
        .values_list("reported_at", flat=True)[: max(limit for limit, _, _ in windows)]
    )
    for limit, span, label in windows:
        in_window = [at for at in newest if at > now - span]
        if len(in_window) >= limit:
            # A place frees up when the limit-th newest report leaves the window.
            retry_after = math.ceil((in_window[limit - 1] + span - now).total_seconds())
            raise ServiceError(
                "rate_limited",
                f"报警过于频繁：{label}最多 {limit} 次，请稍后再试；紧急情况请直接拨打 110",
                status=429,
                retry_after=max(1, retry_after),
            )
