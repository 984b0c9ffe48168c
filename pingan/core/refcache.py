"""Per-process caches of reference data, invalidated by version counters.

Reference data (the org tree, SLA policies, grid metadata, categories, bearer tokens) is read on
every report but changes a few times a day, so each process keeps it in memory. Each data set
has a named counter in ``RefVersion``; a writer bumps it in the same transaction as its change
(save signals, or an explicit :func:`bump` after ``bulk_create``/``update()``). Readers look at
all counters together, with one plain-SQL query at most once per ``REFCACHE_CHECK_SECONDS`` per
process, and reload a data set whose counter moved. The process that made a change sees it at
once; every other process within the check interval.

Correctness rules kept below:

- A value is labelled with counters read *before* loading it, in the loading thread's own
  connection. A change racing with the load then leaves a label older than the data, which the
  next check replaces; never a label newer than the data, which would stick.
- A thread that bumped a counter inside a still-open transaction sees its own uncommitted change,
  but what it loads then must not reach other threads: the transaction may still roll back. Such
  a thread uses a private, thread-local view until its transaction ends.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

T = TypeVar("T")

# Module attribute rather than a direct call so tests can move time forward.
_monotonic = time.monotonic

_table_sql: str | None = None


def _quoted_table() -> str:
    global _table_sql
    if _table_sql is None:
        from .models import RefVersion

        _table_sql = connections[DEFAULT_DB_ALIAS].ops.quote_name(RefVersion._meta.db_table)
    return _table_sql


def _read_versions() -> dict[str, int]:
    # Plain SQL: through the ORM this poll would cost ~10x more Python than the query itself.
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(f"SELECT name, version FROM {_quoted_table()}")
        return dict(cursor.fetchall())


class _View:
    """A snapshot of all counters and the time to read them again."""

    def __init__(self) -> None:
        self.versions: dict[str, int] | None = None
        self.next_check = -math.inf
        # Bumped by invalidate(): a read that started earlier must not postpone the check that
        # invalidate() asked for.
        self.generation = 0
        self.lock = threading.Lock()

    def invalidate(self) -> None:
        self.generation += 1
        self.next_check = -math.inf

    def read(self) -> dict[str, int]:
        generation = self.generation
        now = _monotonic()
        versions = _read_versions()
        self.versions = versions
        if generation == self.generation:
            self.next_check = now + settings.REFCACHE_CHECK_SECONDS
        return versions

    def current(self, fresh: bool) -> tuple[dict[str, int], bool]:
        """(versions, read by this call). Only one thread polls at a time; the others keep
        using the previous snapshot meanwhile instead of waiting."""
        versions = self.versions
        if versions is not None and not fresh and _monotonic() < self.next_check:
            return versions, False
        if versions is None or fresh:
            with self.lock:
                return self.read(), True
        if not self.lock.acquire(blocking=False):
            return versions, False
        try:
            return self.read(), True
        finally:
            self.lock.release()


class _Invalidate:
    """The on-commit callback of a bump. While it is pending in the connection's
    ``run_on_commit``, the open transaction holds that bump uncommitted: Django runs and drops
    the callbacks on commit, and drops those of a transaction or savepoint that rolls back."""

    __slots__ = ()

    def __call__(self) -> None:
        _shared.invalidate()


class _Private:
    """The view of a thread whose open transaction bumped counters."""

    def __init__(self) -> None:
        self.view = _View()
        self.entries: dict[VersionedCache, tuple[tuple, object]] = {}
        # (position in connection.run_on_commit, callback) of each bump still pending.
        self.markers: list[tuple[int, _Invalidate]] = []

    def reset(self) -> None:
        self.view.invalidate()
        self.entries.clear()


_shared = _View()
_local = threading.local()
_caches: list[VersionedCache] = []


def _private() -> _Private | None:
    """This thread's private view while its transaction holds uncommitted bumps, else None."""
    private = getattr(_local, "private", None)
    if private is None:
        return None
    connection = connections[DEFAULT_DB_ALIAS]
    pending = connection.run_on_commit if connection.in_atomic_block else ()
    markers = private.markers
    undone = False
    # A rollback drops the callbacks registered since its savepoint began, i.e. a tail of the
    # list, and a commit empties it: checking our latest markers' places is enough.
    while markers:
        position, marker = markers[-1]
        if position < len(pending) and pending[position][1] is marker:
            break
        markers.pop()
        undone = True
    if not markers:
        # Committed (other threads now see the same data) or rolled back: back to shared values.
        _local.private = None
        return None
    if undone:
        # A savepoint with bumps rolled back: what was loaded since may show undone changes,
        # under counter values that the next bump will reuse.
        private.reset()
    return private


def bump(*names: str) -> None:
    """Move the named counters in the current transaction.

    Invalidates this process's caches at once (its next read may be in this very transaction)
    and again on commit, when other connections can see the change.
    """
    from .models import RefVersion

    connection = connections[DEFAULT_DB_ALIAS]
    private = _private()
    with connection.cursor() as cursor:
        for name in names:
            sql = f"UPDATE {_quoted_table()} SET version = version + 1 WHERE name = %s"
            cursor.execute(sql, [name])
            if cursor.rowcount:
                continue
            # A new counter starts at a random value: after a restore or a flush, a process
            # still holding data labelled with the old value must not mistake new data for it.
            _, created = RefVersion.objects.get_or_create(
                name=name, defaults={"version": secrets.randbelow(2**40) + 1}
            )
            if not created:
                # Another transaction created it meanwhile: our change still needs its own step.
                cursor.execute(sql, [name])
    _shared.invalidate()
    marker = _Invalidate()
    transaction.on_commit(marker, using=DEFAULT_DB_ALIAS)  # runs at once outside a transaction
    if connection.in_atomic_block:
        if private is None:
            private = _local.private = _Private()
        private.markers.append((len(connection.run_on_commit) - 1, marker))
        private.view.invalidate()
        bumped = set(names)
        for cache in [c for c in private.entries if bumped.intersection(c.names)]:
            del private.entries[cache]


class VersionedCache(Generic[T]):
    """``loader()``'s value, kept per process and reloaded when a named counter moves.

    ``name`` is one counter name or several (the value depends on all of them). Exceptions from
    the loader propagate and the next ``get()`` retries. While one thread reloads, the others
    keep the previous value; only the very first load makes callers wait.
    """

    def __init__(self, name: str | Iterable[str], loader: Callable[[], T]) -> None:
        self.names: tuple[str, ...] = (name,) if isinstance(name, str) else tuple(name)
        self._loader = loader
        self._entry: tuple[tuple, T] | None = None
        self._memo: tuple[dict, tuple] | None = None
        self._lock = threading.Lock()
        _caches.append(self)

    def __repr__(self) -> str:
        return f"<VersionedCache {'+'.join(self.names)}>"

    def _label(self, versions: dict[str, int]) -> tuple:
        memo = self._memo
        if memo is not None and memo[0] is versions:
            return memo[1]
        label = tuple(versions.get(name, 0) for name in self.names)
        self._memo = (versions, label)
        return label

    def get(self) -> T:
        return self._get(fresh=False)

    def refresh(self) -> T:
        """Check the counters now, waiting for the lock if needed: for a caller that knows its
        value is stale (it looked up an id that should exist)."""
        return self._get(fresh=True)

    def clear(self) -> None:
        """Forget the value (tests; a process simulating a cold start)."""
        self._entry = None
        self._memo = None
        private = getattr(_local, "private", None)
        if private is not None:
            private.entries.pop(self, None)

    def _get(self, fresh: bool) -> T:
        private = _private() if getattr(_local, "private", None) is not None else None
        if private is not None:
            return self._get_private(private, fresh)
        versions, read_here = _shared.current(fresh)
        label = self._label(versions)
        entry = self._entry
        if entry is not None and entry[0] == label:
            return entry[1]
        if entry is None or fresh:
            with self._lock:
                return self._reload(versions if read_here else None)
        if not self._lock.acquire(blocking=False):
            return entry[1]  # another thread is reloading; a slightly stale value is fine
        try:
            return self._reload(versions if read_here else None)
        finally:
            self._lock.release()

    def _reload(self, versions: dict[str, int] | None) -> T:
        # Caller holds self._lock. `versions` is None unless this thread read them itself:
        # versions polled by another thread may be newer than what this connection sees (an
        # SQLite read transaction), so read them again here before loading.
        if versions is None:
            versions = _shared.read()
        label = tuple(versions.get(name, 0) for name in self.names)
        entry = self._entry
        if entry is not None and entry[0] == label:
            return entry[1]  # another thread loaded it while we waited
        value = self._loader()
        self._entry = (label, value)
        return value

    def _get_private(self, private: _Private, fresh: bool) -> T:
        view = private.view
        if fresh or view.versions is None or _monotonic() >= view.next_check:
            view.read()
        label = tuple(view.versions.get(name, 0) for name in self.names)
        entry = self._entry
        if entry is not None and entry[0] == label:
            return entry[1]  # committed data at the same counters
        entry = private.entries.get(self)
        if entry is not None and entry[0] == label:
            return entry[1]
        value = self._loader()
        private.entries[self] = (label, value)
        return value


def invalidate() -> None:
    """Check the counters on the next ``get()`` of any cache in this process."""
    _shared.invalidate()
    private = getattr(_local, "private", None)
    if private is not None:
        private.view.invalidate()


def clear_all() -> None:
    """Forget every cached value and snapshot in this process, as a fresh process would start."""
    for cache in _caches:
        cache.clear()
    _shared.versions = None
    _shared.invalidate()
    _local.private = None
