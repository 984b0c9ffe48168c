"""The fan-out: turns committed rows into pushes, away from the request path.

It runs as a thread of the socket server (`pingan serve` / `pingan demo`), where the in-memory
channel layer lives; with Redis it can run in any one process. For every registered source
(an append-only table: the incident timeline, the dispute timeline, the `LivePush` outbox) it

- receives the ids that committing transactions announce on a local datagram socket
  (pingan/live/outbox.py), batches them for a few milliseconds, asks the owning domain for the
  audience and the message (`Source.deliveries`, a handful of queries per batch whatever its
  size) and sends each message once to each of its groups, JSON-encoded once;
- scans each table by id every `LIVE_SCAN_SECONDS`, and delivers rows nobody announced once
  they have been seen twice (the announcement may just be on its way). That is what makes a
  lost announcement harmless: a request process killed between its commit and its `sendto()`,
  a fan-out restarting, a full socket buffer.

Ids are handed out before commit, so on PostgreSQL a row can become visible after a higher one
(two transactions committing out of order). The scan therefore keeps a *hole* — a missing id
below the highest seen — open for `HOLE_TTL_SECONDS` before moving its cursor past it; rows of
transactions that rolled back leave holes that simply expire.

A page that was disconnected (or a fan-out that restarted) catches up from the tables
themselves: the socket sends the last id it has and the consumer replays what the user may see
(pingan/live/consumers.py). Delivery is at least once; pages drop ids they already have.
"""

import asyncio
import contextlib
import json
import logging
import os
import select
import socket
import threading
import time
from collections import OrderedDict
from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from . import registry
from .outbox import PUSHES
from .registry import Delivery

log = logging.getLogger(__name__)

MESSAGE_TYPE = "live.push"  # the one channel-layer message type; the consumer forwards `text`
SCAN_LIMIT = 5000
HOLE_TTL_SECONDS = 60.0
MAX_TRACKED_HOLES = 10_000
REMEMBERED = 50_000  # delivered ids remembered per source, to drop a late duplicate
PRUNE_EVERY_SECONDS = 3600.0


# --- building and sending ---------------------------------------------------------------------


def deliveries_for(ids: dict[str, list[int]]) -> list[Delivery]:
    """The deliveries for announced ids, source by source, in id order within a source."""
    known = registry.sources()
    out: list[Delivery] = []
    for name, row_ids in ids.items():
        source = known.get(name)
        if source is None or not row_ids:
            continue
        out.extend(source.deliveries(sorted(set(row_ids))))
    return out


def encode(deliveries: list[Delivery]) -> list[tuple[tuple[str, ...], str]]:
    # Encoded once per message, not once per listening socket; the in-memory layer also
    # deep-copies every message it queues, which costs nothing for a string.
    return [
        (d.groups, json.dumps(d.body, ensure_ascii=False, separators=(",", ":")))
        for d in deliveries
        if d.groups
    ]


async def send_encoded(layer, encoded) -> None:
    for groups, text in encoded:
        for group in groups:
            await layer.group_send(group, {"type": MESSAGE_TYPE, "text": text})


def deliver_inline(ids: dict[str, list[int]]) -> None:
    """`LIVE_FANOUT=inline`: deliver in the committing thread (tests, single-process tools)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        encoded = encode(deliveries_for(ids))
        if encoded:
            async_to_sync(send_encoded)(layer, encoded)
    except Exception:  # a push failure must never fail the committed state change
        log.exception("live push of %s failed", ids)


# --- following the tables ---------------------------------------------------------------------


class Tail:
    """Which rows of one table have been delivered, and which are still owed."""

    def __init__(self, table: str, cursor: int):
        self.table = table
        self.cursor = cursor  # every id ≤ cursor is delivered or given up
        self.waiting: set[int] = set()  # seen by the last scan, not announced yet
        self.holes: dict[int, float] = {}  # missing id → when first missed
        self.recent: OrderedDict[int, None] = OrderedDict()

    def is_delivered(self, row_id: int) -> bool:
        return row_id in self.recent

    def mark_delivered(self, ids) -> None:
        for row_id in ids:
            self.recent[row_id] = None
            self.waiting.discard(row_id)
        while len(self.recent) > REMEMBERED:
            self.recent.popitem(last=False)

    def owed(self, present: list[int], now: float, *, eager: bool) -> list[int]:
        """Given the ids above the cursor that exist now (ascending), the ones to deliver now;
        moves the cursor over everything settled."""
        undelivered = [i for i in present if i not in self.recent]
        due = [i for i in undelivered if eager or i in self.waiting]
        due_set = set(due)
        self.waiting = {i for i in undelivered if i not in due_set}
        present_set = set(present)
        if present:
            top = present[-1]
            span = top - self.cursor - len(present)
            if 0 < span <= MAX_TRACKED_HOLES:
                for row_id in range(self.cursor + 1, top):
                    if row_id not in present_set:
                        self.holes.setdefault(row_id, now)
        self.holes = {
            i: t
            for i, t in self.holes.items()
            if i > self.cursor and i not in present_set and now - t < HOLE_TTL_SECONDS
        }
        blockers = list(self.holes) + list(self.waiting)
        # Everything below the lowest open item is settled.
        settled = min(blockers) - 1 if blockers else (present[-1] if present else self.cursor)
        self.cursor = max(self.cursor, settled)
        return due


def _max_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608 - registered table names
        row = cursor.fetchone()
    return row[0] or 0


def _ids_above(table: str, cursor_id: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE id > %s ORDER BY id LIMIT {SCAN_LIMIT}",  # noqa: S608
            [cursor_id],
        )
        return [row[0] for row in cursor.fetchall()]


class FanOut:
    """The running fan-out: a thread that delivers onto the socket server's event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, path=None):
        self.loop = loop
        self.path = str(path or settings.LIVE_WAKE_SOCKET)
        self.stop = threading.Event()
        self.tails: dict[str, Tail] = {}
        self.thread: threading.Thread | None = None
        self.sock: socket.socket | None = None
        self._last_prune = 0.0

    # lifecycle
    def start(self) -> "FanOut":
        self.sock = self._bind()
        self.thread = threading.Thread(target=self._run, name="live-fanout", daemon=True)
        self.thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=5)
        if self.sock is not None:
            self.sock.close()
            with contextlib.suppress(OSError):
                os.unlink(self.path)

    def _bind(self) -> socket.socket:
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # left by a server that died
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        sock.bind(self.path)
        sock.setblocking(False)
        return sock

    # the loop
    def _run(self) -> None:
        interval = settings.LIVE_SCAN_SECONDS
        next_scan = time.monotonic()
        while not self.stop.is_set():
            try:
                if not self.tails:
                    self._start_tails()
                timeout = max(0.0, next_scan - time.monotonic())
                readable, _, _ = select.select([self.sock], [], [], min(timeout, 0.5))
                scan_now = False
                if readable:
                    ids, scan_now = self._receive()
                    if ids:
                        self.deliver_announced(ids)
                if scan_now or time.monotonic() >= next_scan:
                    self.scan(eager=scan_now)
                    next_scan = time.monotonic() + interval
                self._prune()
            except Exception:
                log.exception("live fan-out round failed; retrying")
                close_old_connections()
                connection.close()
                self.stop.wait(1.0)
        connection.close()

    def _start_tails(self) -> None:
        # Start at the end: nobody is connected yet, and pages catch up from the tables.
        for name, source in registry.sources().items():
            self.tails[name] = Tail(source.table, _max_id(source.table))

    def _receive(self) -> tuple[dict[str, list[int]], bool]:
        """Every datagram waiting, and those arriving within the batch window."""
        ids: dict[str, list[int]] = {}
        scan_now = False
        deadline = time.monotonic() + settings.LIVE_BATCH_SECONDS
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([self.sock], [], [], remaining)[0]:
                    return ids, scan_now
                continue
            try:
                message = json.loads(data)
            except ValueError:
                continue
            if not isinstance(message, dict):
                continue
            if message.get("scan"):
                scan_now = True
            for name, row_ids in message.items():
                if name in self.tails and isinstance(row_ids, list):
                    ids.setdefault(name, []).extend(
                        i for i in row_ids if isinstance(i, int) and not isinstance(i, bool)
                    )

    def deliver_announced(self, ids: dict[str, list[int]]) -> None:
        fresh = {}
        for name, row_ids in ids.items():
            tail = self.tails[name]
            todo = sorted({i for i in row_ids if not tail.is_delivered(i)})
            if todo:
                fresh[name] = todo
        self._deliver(fresh)

    def scan(self, *, eager: bool = False) -> None:
        now = time.monotonic()
        owed = {}
        for name, tail in self.tails.items():
            due = tail.owed(_ids_above(tail.table, tail.cursor), now, eager=eager)
            if due:
                owed[name] = due
        if owed:
            log.info("live fan-out: delivering %s rows nobody announced", owed)
        self._deliver(owed)

    def _deliver(self, ids: dict[str, list[int]]) -> None:
        if not ids:
            return
        encoded = encode(deliveries_for(ids))
        for name, row_ids in ids.items():
            self.tails[name].mark_delivered(row_ids)
        if encoded:
            layer = get_channel_layer()
            future = asyncio.run_coroutine_threadsafe(send_encoded(layer, encoded), self.loop)
            future.result(timeout=30)

    def _prune(self) -> None:
        now = time.monotonic()
        if now - self._last_prune < PRUNE_EVERY_SECONDS:
            return
        self._last_prune = now
        from .models import LivePush

        LivePush.objects.filter(at__lt=timezone.now() - timedelta(days=1)).delete()


_running: FanOut | None = None


def start(loop: asyncio.AbstractEventLoop) -> FanOut:
    """Start this process's fan-out (called by the socket server at startup)."""
    global _running
    if _running is None:
        _running = FanOut(loop).start()
    return _running


def stop() -> None:
    global _running
    if _running is not None:
        _running.close()
        _running = None


__all__ = ["PUSHES", "FanOut", "Tail", "deliver_inline", "deliveries_for", "start", "stop"]
