"""Readable per-day numbers (JQ20261123-000123) without a hot row held to COMMIT.

`next_number` runs inside the caller's transaction, in plain SQL (no ORM on the report path):

- PostgreSQL: one SEQUENCE per (prefix, day), `pingan_seq_jq_20261123`. `nextval()` takes no
  row lock, so concurrent reports never queue on the day's counter, however long their
  transactions run. The sequence is created on the day's first use, starting after the day's
  `incidents_dailysequence.last` (numbers handed out before sequences, or counters bulk-loaded by
  the demo generator), so a number is never given twice. Numbers taken by transactions that roll
  back are lost, as they were with the old counter in its own transaction: gaps are harmless.
- SQLite (and any other database): one upsert of the `incidents_dailysequence` row. The row is
  locked until COMMIT, but SQLite has one writer at a time anyway (pingan.core.db.sqlite3), so
  holding it costs nothing more; and a rollback gives the number back.

`prune_sequences` drops day sequences older than a few days (the daily sweep calls it), first
writing each one's last value back into `incidents_dailysequence`, so a late number for that day
(a back-dated import) starts after it instead of repeating one.
"""

import re
from datetime import date, timedelta

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from pingan.core import clock

TABLE = "incidents_dailysequence"
SEQUENCE_PREFIX = "pingan_seq_"
_PREFIX = re.compile(r"[A-Z0-9]{1,8}")
_SEQUENCE_NAME = re.compile(r"pingan_seq_([a-z0-9]{1,8})_(\d{8})")
# PostgreSQL errors of two transactions creating the same sequence at once: the loser waits on
# the winner's catalog row, then fails on pg_class's unique index (or finds the relation).
_DUPLICATE_SQLSTATES = {"23505", "42P07"}
# Days this close to today (local) count with a sequence; others with the day's row. Must stay
# below prune_sequences' keep_days, so a pruned day is never counted by a sequence again.
RECENT_DAYS = 1


def _check_prefix(prefix: str) -> str:
    # The prefix becomes part of an identifier (lower-cased, and upper-cased back by
    # prune_sequences): capital letters and digits only, at most the model's 8 characters.
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"bad sequence prefix {prefix!r}")
    return prefix


def sequence_name(prefix: str, day: date) -> str:
    return f"{SEQUENCE_PREFIX}{_check_prefix(prefix).lower()}_{day:%Y%m%d}"


def next_number(prefix: str, day: date) -> int:
    """The next number of `prefix` on `day`: 1, 2, 3 ... Call it inside the caller's transaction
    (it also works in autocommit)."""
    _check_prefix(prefix)
    if connection.vendor == "postgresql":
        if abs((day - timezone.localtime(clock.now()).date()).days) <= RECENT_DAYS:
            return _next_from_sequence(prefix, day)
        # A back-dated number (an import, the demo's two years of history) is rare: it takes
        # the day's row rather than making a sequence per historic day, unless that day's
        # sequence still exists (not pruned yet), which must then go on counting.
        number = _next_from_existing_sequence(prefix, day)
        if number is not None:
            return number
    return _next_from_row(prefix, day)


def next_code(prefix: str, now) -> str:
    """JQ20261123-000123: prefix, local day (settings.TIME_ZONE, Asia/Shanghai), number."""
    day = timezone.localtime(now).date()
    return f"{prefix}{day:%Y%m%d}-{next_number(prefix, day):06d}"


def _next_from_row(prefix: str, day: date) -> int:
    qn = connection.ops.quote_name
    last = qn("last")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (prefix, day, {last}) VALUES (%s, %s, 1) "
            f"ON CONFLICT (prefix, day) DO UPDATE SET {last} = {TABLE}.{last} + 1 "
            f"RETURNING {last}",
            [prefix, connection.ops.adapt_datefield_value(day)],
        )
        return cursor.fetchone()[0]


def _next_from_existing_sequence(prefix: str, day: date) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(to_regclass(%s))", [sequence_name(prefix, day)])
        return cursor.fetchone()[0]


def _next_from_sequence(prefix: str, day: date) -> int:
    name = sequence_name(prefix, day)
    with connection.cursor() as cursor:
        # to_regclass() gives NULL for a missing sequence and nextval(NULL) is NULL: one
        # statement whether the sequence exists or not, and no error to abort the caller's
        # transaction. (Cheaper and safer than a per-process cache of which sequences exist,
        # which goes stale when a creating transaction rolls back or a sequence is pruned.)
        cursor.execute("SELECT nextval(to_regclass(%s))", [name])
        number = cursor.fetchone()[0]
        if number is not None:
            return number
        ensure_sequence(prefix, day)
        cursor.execute("SELECT nextval(%s::regclass)", [name])
        return cursor.fetchone()[0]


def last_number(prefix: str, day: date) -> int:
    """The highest number handed out for `prefix` on `day` so far (0 when none): the day's row,
    or its sequence while it has one (PostgreSQL, recent days)."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {qn('last')} FROM {TABLE} WHERE prefix = %s AND day = %s",
            [prefix, connection.ops.adapt_datefield_value(day)],
        )
        row = cursor.fetchone()
        last = row[0] if row else 0
        if connection.vendor == "postgresql":
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [sequence_name(prefix, day)])
            if cursor.fetchone()[0]:
                cursor.execute(
                    f"SELECT last_value, is_called FROM {qn(sequence_name(prefix, day))}"
                )
                value, called = cursor.fetchone()
                last = max(last, value if called else value - 1)
    return last


def ensure_sequence(prefix: str, day: date) -> None:
    """Create the day's sequence if missing (PostgreSQL; no-op elsewhere). The daily sweep may
    call it for tomorrow so the first report after midnight does not create it.

    In the caller's transaction the creation is visible to others only at its COMMIT, and a
    second transaction creating the same sequence waits for that commit: once a day per prefix.
    """
    if connection.vendor != "postgresql":
        return
    name = sequence_name(prefix, day)
    qn = connection.ops.quote_name
    try:
        # A savepoint inside the caller's transaction (its own transaction in autocommit): the
        # duplicate error of a concurrent creation is rolled back to it, not the caller's work.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {qn('last')} FROM {TABLE} WHERE prefix = %s AND day = %s",
                [prefix, day],
            )
            row = cursor.fetchone()
            start = (row[0] if row else 0) + 1
            cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {qn(name)} START WITH {int(start)}")
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) not in _DUPLICATE_SQLSTATES:
            raise
        # Another transaction created it first and has committed: use theirs.


def prune_sequences(keep_days: int = 3, today: date | None = None) -> int:
    """Drop the day sequences older than `keep_days` days before `today` (local date); returns
    how many. Each one's last number is first folded into incidents_dailysequence (max of the
    two), in the same transaction, so a sequence made again for that day continues after it.
    SQLite keeps its counters in that table already: nothing to do."""
    if connection.vendor != "postgresql":
        return 0
    today = today or timezone.localtime(clock.now()).date()
    oldest_kept = today - timedelta(days=keep_days)
    qn = connection.ops.quote_name
    last = qn("last")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relkind = 'S' "
            "AND c.relnamespace = current_schema()::regnamespace AND c.relname LIKE %s",
            [SEQUENCE_PREFIX.replace("_", r"\_") + "%"],
        )
        names = [name for (name,) in cursor.fetchall()]
    dropped = 0
    for name in sorted(names):
        match = _SEQUENCE_NAME.fullmatch(name)
        if match is None:
            continue
        try:
            day = date(int(name[-8:-4]), int(name[-4:-2]), int(name[-2:]))
        except ValueError:
            continue
        if day >= oldest_kept:
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            # A no-op ALTER takes a lock that waits for, then blocks, nextval() on it, so the
            # value read below is final.
            cursor.execute(f"ALTER SEQUENCE {qn(name)} OWNED BY NONE")
            cursor.execute(f"SELECT last_value, is_called FROM {qn(name)}")
            last_value, is_called = cursor.fetchone()
            used = last_value if is_called else last_value - 1
            prefix = match.group(1).upper()  # prefixes are capitals and digits
            cursor.execute(
                f"INSERT INTO {TABLE} (prefix, day, {last}) VALUES (%s, %s, %s) "
                f"ON CONFLICT (prefix, day) DO UPDATE "
                f"SET {last} = GREATEST({TABLE}.{last}, EXCLUDED.{last})",
                [prefix, day, used],
            )
            cursor.execute(f"DROP SEQUENCE {qn(name)}")
        dropped += 1
    return dropped
