"""The request side of live push: announce what a transaction wrote, once, after it commits.

A state change writes its timeline rows (or, for news without a timeline, a `LivePush` row) in
its own transaction, and calls `announce(source, id)` for each. The ids of one transaction are
collected and handed to the fan-out in ONE message after commit: a report's REPORTED and
OFFERED events cost one `sendto()` on a local datagram socket, about 10 µs, instead of the two
in-request pushes that used to take half of a report's CPU (../shared/reviews/perf.md §3.2).

Nothing is lost if that message is: the rows are committed, and the fan-out also reads each
source table by id (pingan/live/fanout.py), so a message dropped on the way (a process that died
between its commit and the send, a fan-out that was restarting, a full socket buffer) is
delivered by the next scan instead. `LIVE_FANOUT=inline` (the test default) delivers in the
committing thread, through the same code the fan-out runs.
"""

import contextlib
import json
import logging
import socket
import threading

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

log = logging.getLogger(__name__)

PUSHES = "pushes"  # the source name of the LivePush outbox
# A datagram above this size names no ids; it asks the fan-out to scan at once instead.
MAX_DATAGRAM = 16 * 1024
SCAN_NOW = b'{"scan": 1}'


class _Batch:
    """The ids one transaction announced; called once by Django when the transaction commits."""

    __slots__ = ("ids", "done", "level")

    def __init__(self, level: tuple):
        self.ids: dict[str, list[int]] = {}
        self.done = False
        self.level = level  # the savepoints open when it was registered

    def add(self, source: str, row_id: int) -> None:
        self.ids.setdefault(source, []).append(row_id)

    def __call__(self) -> None:
        self.done = True
        hand_over(self.ids)


def announce(source: str, row_id: int, using: str = DEFAULT_DB_ALIAS) -> None:
    """Make `row_id` of `source` reach its audience once the current transaction commits."""
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        hand_over({source: [row_id]})
        return
    batch = connection.__dict__.get("_live_batch")
    level = tuple(connection.savepoint_ids)
    if (
        batch is None
        or batch.done
        or batch.level != level
        or not any(func is batch for _, func, _ in connection.run_on_commit)
    ):
        # First announcement of this transaction (at this savepoint level): one callback for
        # all the rows it writes. A batch registered inside a savepoint that rolled back was
        # discarded with it; one registered at another level is left alone, so a nested
        # atomic block (a savepoint) never adds to a callback it cannot see.
        batch = _Batch(level)
        connection._live_batch = batch
        # Robust: the push is best effort (the fan-out rescans the timelines); a failure after
        # the commit must not turn a saved write into an error answer.
        transaction.on_commit(batch, using=using, robust=True)
    batch.add(source, row_id)


def send(groups, body: dict) -> None:
    """A push with no timeline of its own, to the given groups, after the transaction commits.
    The row is written in the caller's transaction, so a rolled-back change pushes nothing."""
    from .models import LivePush

    groups = sorted(set(groups))
    if not groups:
        return
    row = LivePush.objects.create(at=timezone.now(), groups=groups, body=body)
    announce(PUSHES, row.pk)


# --- hand-over to the fan-out ----------------------------------------------------------------

_local = threading.local()


def hand_over(ids: dict[str, list[int]]) -> None:
    mode = settings.LIVE_FANOUT
    if mode == "inline":
        from .fanout import deliver_inline

        deliver_inline(ids)
    elif mode == "wake":
        _wake(ids)
    # "off": only the fan-out's scans deliver (a deployment where it runs on another machine).


def _wake(ids: dict[str, list[int]]) -> None:
    data = json.dumps(ids, separators=(",", ":")).encode()
    if len(data) > MAX_DATAGRAM:
        data = SCAN_NOW
    sock = getattr(_local, "sock", None)
    if sock is None:
        sock = _local.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.setblocking(False)
    # No fan-out listening, or its buffer is full: its next scan finds the rows.
    with contextlib.suppress(OSError):
        sock.sendto(data, str(settings.LIVE_WAKE_SOCKET))
