"""SQLite with a single writer: writers queue on an OS lock instead of polling SQLite's.

SQLite allows one write transaction at a time. With the stock backend a writer that finds the
database locked sleeps in SQLite's busy handler (1, 2, 5, 10 ... 100 ms) and tries again, so
between two processes the loser of a race waits for the next poll, not for the winner's commit;
that polling made the p99 tail of the report path (perf review, sections 5.2 and 6). Here
every write transaction first takes an exclusive `fcntl.flock` on a file beside the database
(`<db>.writer.lock`) and gives it back right after COMMIT or ROLLBACK. The kernel wakes the
next waiter the moment the lock is released, so a writer waits exactly as long as the
transaction before it, and SQLite's own lock is always free when BEGIN IMMEDIATE runs.

- Each connection opens the lock file itself (once, at its first write). flock locks belong to
  an open file description, so two connections of one process (two request threads) exclude
  each other just as two processes do.
- Atomic blocks: taken before `BEGIN IMMEDIATE` (Django's `_start_transaction_under_autocommit`),
  released after `_commit` / `_rollback` / `_close` once SQLite has left the transaction.
- Statements that write outside any transaction (autocommit INSERT/UPDATE/DELETE/DDL): taken
  around the statement by the cursor. Rows it returns (INSERT ... RETURNING) are read before the
  lock is given back, because SQLite holds its write lock until the statement has run to its end.
- Reads (SELECT, PRAGMA, EXPLAIN) outside a transaction never take it; in WAL mode they do not
  need the writer lock at all.
- `busy_timeout` stays in the settings as the last resort against writers that do not know the
  lock (the sqlite3 shell, another program).
- In-memory databases get no lock at all: nothing outside this process can write them, and the
  test framework wraps every test in an atomic block that would hold a process-wide lock for the
  whole test, hanging any helper thread that writes instead of letting it fail. Threads sharing a
  `cache=shared` in-memory database get SQLite's table locks, which answer at once and never poll.

The wait has no timeout: a writer waits as long as the transaction ahead of it runs. A process
that dies releases its lock with its file descriptors.

Django internals overridden (checked against Django 5.2): `get_new_connection`, `create_cursor`,
`_start_transaction_under_autocommit`, `_commit`, `_rollback`, `_set_autocommit`, `_close`.
"""

import fcntl
import functools
import os
import re
import weakref
from itertools import islice
from urllib.parse import unquote, urlsplit

from django.db.backends.sqlite3 import base as sqlite3_base

# Statements that never write the database file. Anything else (INSERT, UPDATE, DELETE, REPLACE,
# CREATE, DROP, ALTER, VACUUM, ...) is treated as a write, so an unknown statement errs on the
# side of waiting its turn.
_NO_WRITE = frozenset(
    {"SELECT", "VALUES", "EXPLAIN", "PRAGMA", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"}
)
_LEADING = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*", re.S)
_FIRST_WORD = re.compile(r"[A-Za-z]+")
_DML_WORD = re.compile(r"\b(?:INSERT|UPDATE|DELETE|REPLACE)\b", re.I)
_BEGIN_WRITE = re.compile(r"BEGIN\s+(?:IMMEDIATE|EXCLUSIVE)\b", re.I)


@functools.lru_cache(maxsize=1024)
def statement_writes(sql: str) -> bool:
    """Whether a statement may write the database (and so must hold the writer lock)."""
    rest = sql[_LEADING.match(sql).end() :]
    word = _FIRST_WORD.match(rest)
    if word is None:
        return bool(rest.strip())
    keyword = word.group().upper()
    if keyword == "WITH":
        # A common table expression in front of a SELECT reads, in front of DML writes.
        return _DML_WORD.search(rest) is not None
    if keyword == "BEGIN":
        # BEGIN IMMEDIATE/EXCLUSIVE takes SQLite's write lock at once; a plain BEGIN does not.
        return _BEGIN_WRITE.match(rest) is not None
    return keyword not in _NO_WRITE


def lock_path(name) -> str:
    """`<database file>.writer.lock`; NAME may be a path or a `file:` URI."""
    name = str(name)
    if name.startswith("file:"):
        name = unquote(urlsplit(name).path)
    return f"{name}.writer.lock"


class WriterLock:
    """The exclusive flock of one connection on the database's lock file."""

    __slots__ = ("path", "fd", "held", "__weakref__")

    def __init__(self, path: str):
        self.path = path
        self.fd = None
        self.held = False
        _open_locks.add(self)

    def acquire(self) -> None:
        if self.fd is None:
            # Opened on first use, then kept for the connection's life.
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        # Blocks in the kernel (the GIL is released) until the holder unlocks or exits.
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.held = False
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)  # also releases the lock if still held

    def forget(self) -> None:
        """In a forked child: the inherited descriptor shares its lock with the parent (an
        unlock here would unlock the parent), so drop it and open a fresh one when needed."""
        self.held = False
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)  # closing one duplicate does not release the parent's lock


_open_locks: "weakref.WeakSet[WriterLock]" = weakref.WeakSet()


def _forget_locks_after_fork() -> None:
    for lock in list(_open_locks):
        lock.forget()


os.register_at_fork(after_in_child=_forget_locks_after_fork)


class WriterLockCursor(sqlite3_base.SQLiteCursorWrapper):
    """Takes the connection's writer lock around writes issued outside a transaction."""

    writer: WriterLock  # set by DatabaseWrapper.create_cursor
    # Rows of an autocommit write that were read before the lock was released.
    _rows = None

    def execute(self, query, params=None):
        self._rows = None
        writer = self.writer
        if not writer.held:
            if not statement_writes(query):
                return super().execute(query, params)
            writer.acquire()
        try:
            super().execute(query, params)
            if not self.connection.in_transaction and self.description is not None:
                # An autocommit INSERT ... RETURNING keeps SQLite's write lock until it has
                # been stepped to its end: read its rows now, while the lock is ours.
                self._rows = iter(super().fetchall())
        finally:
            if not self.connection.in_transaction:
                writer.release()
        return self

    def executemany(self, query, param_list):
        self._rows = None
        writer = self.writer
        if not writer.held:
            if not statement_writes(query):
                return super().executemany(query, param_list)
            writer.acquire()
        try:
            return super().executemany(query, param_list)
        finally:
            if not self.connection.in_transaction:
                writer.release()

    def executescript(self, sql_script):
        self._rows = None
        writer = self.writer
        if not writer.held:
            writer.acquire()
        try:
            return super().executescript(sql_script)
        finally:
            if not self.connection.in_transaction:
                writer.release()

    def fetchone(self):
        if self._rows is None:
            return super().fetchone()
        return next(self._rows, None)

    def fetchmany(self, size=None):
        if self._rows is None:
            return super().fetchmany(self.arraysize if size is None else size)
        return list(islice(self._rows, self.arraysize if size is None else size))

    def fetchall(self):
        if self._rows is None:
            return super().fetchall()
        return list(self._rows)

    def __next__(self):
        if self._rows is None:
            return super().__next__()
        return next(self._rows)


class DatabaseWrapper(sqlite3_base.DatabaseWrapper):
    # None for in-memory databases (and before the first connection).
    writer_lock: WriterLock | None = None

    def get_new_connection(self, conn_params):
        conn = super().get_new_connection(conn_params)
        if self.writer_lock is not None:
            self.writer_lock.close()
        self.writer_lock = (
            None if self.is_in_memory_db() else WriterLock(lock_path(self.settings_dict["NAME"]))
        )
        return conn

    def create_cursor(self, name=None):
        if self.writer_lock is None:
            return super().create_cursor(name)
        cursor = self.connection.cursor(factory=WriterLockCursor)
        cursor.writer = self.writer_lock
        return cursor

    def _start_transaction_under_autocommit(self):
        # atomic() on an outermost block. An IMMEDIATE/EXCLUSIVE transaction takes SQLite's
        # write lock at BEGIN, so ours is taken just before; a DEFERRED one takes it at its
        # first write, and so does the cursor.
        writer = self.writer_lock
        if writer is None or writer.held or self.transaction_mode not in ("IMMEDIATE", "EXCLUSIVE"):
            return super()._start_transaction_under_autocommit()
        writer.acquire()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            writer.release()
            raise

    def _release_writer_if_idle(self):
        writer = self.writer_lock
        # A failed COMMIT leaves the transaction open: the lock is kept for the ROLLBACK.
        if (
            writer is not None
            and writer.held
            and (self.connection is None or not self.connection.in_transaction)
        ):
            writer.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer_if_idle()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer_if_idle()

    def _set_autocommit(self, autocommit):
        # Switching sqlite3 back to autocommit commits a transaction left open by
        # set_autocommit(False).
        try:
            return super()._set_autocommit(autocommit)
        finally:
            self._release_writer_if_idle()

    def _close(self):
        try:
            return super()._close()
        finally:
            if self.writer_lock is not None:
                self.writer_lock.close()
