"""The anonymous report quota in one statement, run inside the report's transaction.

The old check took three ORM statements in a transaction of its own (get_or_create, conditional
UPDATE, COMMIT). Here one upsert counts the report and refuses it past the limit: on PostgreSQL
the conflicting row is locked and its `count` re-read before the WHERE is applied, so N
concurrent reports against a limit L admit exactly L; on SQLite writers run one at a time.
Being in the caller's transaction, a report that fails afterwards gives its place back.
"""

import hashlib

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
    raise ServiceError(
        "rate_limited", "匿名报警过于频繁，请稍后再试；紧急情况请直接拨打 110", status=429
    )
