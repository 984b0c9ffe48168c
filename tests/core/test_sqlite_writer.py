"""pingan.core.db.sqlite3: writers queue on an OS lock beside the database file.

Each test opens its own connections to a temporary database file. They run with SQLite's busy
timeout at 0 and no busy_timeout pragma: any wait SQLite itself had to do would fail at once
with "database is locked", so a test that passes shows the OS lock did all the queueing.
Waits are detected through /proc/locks (the kernel lists a blocked flock as "->"), so the tests
assert the order of events, never how long anything took.
"""

import fcntl
import multiprocessing
import os
import sqlite3
import threading
import time
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction

from pingan.core.db.sqlite3.base import DatabaseWrapper, lock_path, statement_writes

ENGINE = "pingan.core.db.sqlite3"
OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 0,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
}


def open_db(path, alias: str) -> DatabaseWrapper:
    """A connection of its own, outside Django's settings (like one more server process)."""
    settings_dict = connections.configure_settings(
        {"default": {"ENGINE": ENGINE, "NAME": str(path), "OPTIONS": dict(OPTIONS)}}
    )["default"]
    return DatabaseWrapper(settings_dict, alias)


@contextmanager
def using(path, alias: str):
    """Register a fresh connection under `alias` for this thread, so atomic(using=alias) works."""
    db = open_db(path, alias)
    connections[alias] = db
    try:
        yield db
    finally:
        db.close()
        del connections[alias]


def lock_is_free(path) -> bool:
    fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def wait_until_someone_waits(path, timeout: float = 30) -> None:
    """Return once the kernel shows a writer blocked on the database's lock file."""
    inode = os.stat(lock_path(path)).st_ino
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/locks") as locks:
            if any("->" in line and f":{inode} " in line for line in locks):
                return
        time.sleep(0.001)
    raise AssertionError("no writer is waiting on the lock")


def start(fn, errors: list) -> threading.Thread:
    def run():
        try:
            fn()
        except Exception as exc:  # re-raised by the test thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def count(path, sql: str) -> int:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchone()[0]


@pytest.fixture
def db_file(tmp_path, django_db_blocker):
    path = str(tmp_path / "writer.sqlite3")
    keeper = sqlite3.connect(path)
    keeper.execute("PRAGMA journal_mode=WAL")
    keeper.executescript(
        "CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
        "INSERT INTO counter VALUES (1, 0);"
        "CREATE TABLE log (id INTEGER PRIMARY KEY, worker TEXT NOT NULL UNIQUE);"
    )
    keeper.commit()
    # Kept open so the WAL index stays initialised while the test's connections come and go.
    keeper.execute("SELECT 1 FROM counter").fetchall()
    with django_db_blocker.unblock():
        yield path
    keeper.close()


needs_proc_locks = pytest.mark.skipif(
    not os.path.exists("/proc/locks"), reason="needs /proc/locks to see a blocked writer"
)


# --- two processes ------------------------------------------------------------------------------


def _hammer(path, data_dir, worker, rounds, barrier, results):
    """One process with its own Django connection: short write transactions, autocommit
    writes with RETURNING and autocommit reads, as fast as it can."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "pingan.settings"
    os.environ["PINGAN_DATA_DIR"] = data_dir
    os.environ["PINGAN_TESTING"] = "1"
    try:
        import django

        django.setup()
        with using(path, "hammer") as db:
            barrier.wait(timeout=120)
            for i in range(rounds):
                with transaction.atomic(using="hammer"), db.cursor() as cursor:
                    # Read-modify-write: a lost update would show in the total.
                    cursor.execute("SELECT n FROM counter WHERE id = 1")
                    (n,) = cursor.fetchone()
                    cursor.execute("UPDATE counter SET n = %s WHERE id = 1", [n + 1])
                with db.cursor() as cursor:
                    cursor.execute(
                        "INSERT INTO log (worker) VALUES (%s) RETURNING id", [f"{worker}-{i}"]
                    )
                    assert cursor.fetchone()[0] > 0
                    cursor.execute("SELECT count(*) FROM log")
                    cursor.fetchone()
        results.put((worker, None))
    except Exception as exc:
        results.put((worker, repr(exc)))


def test_two_processes_hammering_writes_never_see_a_locked_database(db_file, tmp_path):
    rounds = 300
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    processes = [
        ctx.Process(
            target=_hammer,
            args=(db_file, str(tmp_path / f"data-{w}"), w, rounds, barrier, results),
        )
        for w in ("a", "b")
    ]
    for process in processes:
        process.start()
    outcomes = dict(results.get(timeout=300) for _ in processes)
    for process in processes:
        process.join(timeout=60)
    assert outcomes == {"a": None, "b": None}
    assert count(db_file, "SELECT n FROM counter") == 2 * rounds
    assert count(db_file, "SELECT count(*) FROM log") == 2 * rounds
    assert lock_is_free(db_file)


# --- waiting, in order --------------------------------------------------------------------------


@needs_proc_locks
def test_a_writer_waits_for_the_holder_and_goes_on_after_its_commit(db_file):
    log, errors = [], []
    holding, release = threading.Event(), threading.Event()

    def holder():
        with using(db_file, "holder") as db, transaction.atomic(using="holder"):
            db.cursor().execute("UPDATE counter SET n = n + 1")
            log.append("holder wrote")
            holding.set()
            assert release.wait(30)
            log.append("holder commits")

    def waiter():
        with using(db_file, "waiter") as db:
            with transaction.atomic(using="waiter"):
                log.append("waiter began")
                db.cursor().execute("UPDATE counter SET n = n + 10")
            log.append("waiter committed")

    first = start(holder, errors)
    assert holding.wait(30)
    assert not lock_is_free(db_file)
    second = start(waiter, errors)
    wait_until_someone_waits(db_file)
    assert log == ["holder wrote"]
    release.set()
    first.join(30)
    second.join(30)
    assert not errors
    assert log == ["holder wrote", "holder commits", "waiter began", "waiter committed"]
    assert count(db_file, "SELECT n FROM counter") == 11
    assert lock_is_free(db_file)


@needs_proc_locks
def test_an_autocommit_write_waits_for_the_holder_too(db_file):
    log, errors = [], []
    holding, release = threading.Event(), threading.Event()

    def holder():
        with using(db_file, "holder") as db, transaction.atomic(using="holder"):
            db.cursor().execute("INSERT INTO log (worker) VALUES ('holder')")
            holding.set()
            assert release.wait(30)
            log.append("holder commits")

    def writer():
        with using(db_file, "writer") as db, db.cursor() as cursor:
            # Outside any atomic block: one statement, committed on its own.
            cursor.execute("INSERT INTO log (worker) VALUES (%s) RETURNING id", ["single"])
            log.append(("single inserted", cursor.fetchone()[0]))
            assert not db.writer_lock.held

    first = start(holder, errors)
    assert holding.wait(30)
    second = start(writer, errors)
    wait_until_someone_waits(db_file)
    release.set()
    first.join(30)
    second.join(30)
    assert not errors
    assert log == ["holder commits", ("single inserted", 2)]
    assert lock_is_free(db_file)


def test_reads_never_wait_for_a_writer(db_file):
    errors = []
    holding, release = threading.Event(), threading.Event()
    seen = []

    def holder():
        with using(db_file, "holder") as db, transaction.atomic(using="holder"):
            db.cursor().execute("UPDATE counter SET n = 5")
            holding.set()
            assert release.wait(30)

    def reader():
        with using(db_file, "reader") as db, db.cursor() as cursor:
            cursor.execute("SELECT n FROM counter")
            seen.append(cursor.fetchone()[0])
            cursor.execute("WITH c AS (SELECT n FROM counter) SELECT n FROM c")
            seen.append(cursor.fetchone()[0])
            cursor.execute("PRAGMA table_info(counter)")
            cursor.fetchall()

    first = start(holder, errors)
    assert holding.wait(30)
    # Runs to its end while the holder still holds the lock, and sees the last commit.
    second = start(reader, errors)
    second.join(30)
    assert not second.is_alive()
    assert seen == [0, 0]
    assert not lock_is_free(db_file)
    release.set()
    first.join(30)
    assert not errors


def test_reads_do_not_touch_the_lock(db_file, monkeypatch):
    from pingan.core.db.sqlite3 import base

    calls = []
    real_flock = base.fcntl.flock
    monkeypatch.setattr(
        base.fcntl, "flock", lambda fd, op: (calls.append(op), real_flock(fd, op))[1]
    )
    with using(db_file, "solo") as db, db.cursor() as cursor:
        cursor.execute("SELECT n FROM counter")
        cursor.execute("SELECT * FROM log WHERE worker = %s", ["x"])
        cursor.execute("EXPLAIN QUERY PLAN SELECT * FROM log")
        assert calls == []
        cursor.execute("UPDATE counter SET n = n + 1")
        assert calls == [fcntl.LOCK_EX, fcntl.LOCK_UN]
        with transaction.atomic(using="solo"):
            cursor.execute("SELECT n FROM counter")
            cursor.execute("UPDATE counter SET n = n + 1")
        # One lock for the whole transaction, taken before BEGIN.
        assert calls == [fcntl.LOCK_EX, fcntl.LOCK_UN] * 2
        cursor.executemany("INSERT INTO log (worker) VALUES (%s)", [["m1"], ["m2"]])
        assert calls == [fcntl.LOCK_EX, fcntl.LOCK_UN] * 3
        assert not db.writer_lock.held


# --- released on every way out ------------------------------------------------------------------


def test_lock_is_held_for_the_transaction_and_released_on_commit(db_file):
    with using(db_file, "solo") as db:
        with transaction.atomic(using="solo"):
            db.cursor().execute("UPDATE counter SET n = n + 1")
            assert db.writer_lock.held
            assert not lock_is_free(db_file)
            with transaction.atomic(using="solo"):  # a savepoint changes nothing
                db.cursor().execute("UPDATE counter SET n = n + 1")
            assert not lock_is_free(db_file)
        assert not db.writer_lock.held
        assert lock_is_free(db_file)
    assert count(db_file, "SELECT n FROM counter") == 2


def test_lock_is_released_when_an_exception_rolls_back(db_file):
    with using(db_file, "solo") as db:
        with pytest.raises(ValueError), transaction.atomic(using="solo"):
            db.cursor().execute("UPDATE counter SET n = 99")
            raise ValueError("boom")
        assert lock_is_free(db_file)
        assert not db.writer_lock.held
    assert count(db_file, "SELECT n FROM counter") == 0


def test_lock_is_released_on_set_rollback(db_file):
    with using(db_file, "solo") as db:
        with transaction.atomic(using="solo"):
            db.cursor().execute("UPDATE counter SET n = 99")
            transaction.set_rollback(True, using="solo")
        assert lock_is_free(db_file)
    assert count(db_file, "SELECT n FROM counter") == 0


def test_lock_is_released_after_a_failed_statement(db_file):
    with using(db_file, "solo") as db:
        db.cursor().execute("INSERT INTO log (worker) VALUES ('taken')")
        # Autocommit: the failed statement gives the lock back itself.
        with pytest.raises(IntegrityError):
            db.cursor().execute("INSERT INTO log (worker) VALUES ('taken')")
        assert lock_is_free(db_file)
        # In a transaction: given back by the rollback.
        with pytest.raises(IntegrityError), transaction.atomic(using="solo"):
            db.cursor().execute("INSERT INTO log (worker) VALUES ('taken')")
        assert lock_is_free(db_file)
        assert not db.writer_lock.held
        # And the connection still writes.
        with transaction.atomic(using="solo"):
            db.cursor().execute("UPDATE counter SET n = 1")
    assert count(db_file, "SELECT n FROM counter") == 1


def test_lock_is_released_when_the_connection_closes_mid_transaction(db_file):
    with using(db_file, "solo") as db, transaction.atomic(using="solo"):
        db.cursor().execute("UPDATE counter SET n = 99")
        db.close()
        assert lock_is_free(db_file)
    assert count(db_file, "SELECT n FROM counter") == 0


def test_manual_transactions_hold_the_lock_until_commit(db_file):
    with using(db_file, "solo") as db:
        db.set_autocommit(False)
        db.cursor().execute("UPDATE counter SET n = n + 1")
        assert not lock_is_free(db_file)
        db.commit()
        assert lock_is_free(db_file)
        db.cursor().execute("UPDATE counter SET n = n + 1")
        db.rollback()
        assert lock_is_free(db_file)
        db.set_autocommit(True)
    assert count(db_file, "SELECT n FROM counter") == 1


# --- the rest -----------------------------------------------------------------------------------


def test_in_memory_databases_take_no_file_lock(tmp_path, django_db_blocker):
    with django_db_blocker.unblock(), using(":memory:", "memory") as db:
        with transaction.atomic(using="memory"), db.cursor() as cursor:
            cursor.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            cursor.execute("INSERT INTO t DEFAULT VALUES")
        with db.cursor() as cursor:
            cursor.execute("INSERT INTO t DEFAULT VALUES RETURNING id")
            assert cursor.fetchone() == (2,)
        assert db.writer_lock is None


def test_lock_file_sits_beside_the_database():
    assert lock_path("/data/pingan.sqlite3") == "/data/pingan.sqlite3.writer.lock"
    assert lock_path("file:/data/x%20y.sqlite3?mode=rw") == "/data/x y.sqlite3.writer.lock"


@pytest.mark.parametrize(
    "sql, writes",
    [
        ("SELECT 1", False),
        ('  (SELECT "a" FROM t) UNION (SELECT "b" FROM u)', False),
        ("-- note\nSELECT 1", False),
        ("PRAGMA foreign_keys = ON", False),
        ("WITH c AS (SELECT 1) SELECT * FROM c", False),
        ("SAVEPOINT s1", False),
        ("BEGIN", False),
        ("BEGIN IMMEDIATE", True),
        ('INSERT INTO "t" ("a") VALUES (%s) RETURNING "id"', True),
        ("update t set a = 1", True),
        ("DELETE FROM t", True),
        ("REPLACE INTO t VALUES (1)", True),
        ("WITH c AS (SELECT 1) INSERT INTO t SELECT * FROM c", True),
        ("CREATE TABLE t (id integer)", True),
        ("/* x */ DROP TABLE t", True),
    ],
)
def test_statement_classification(sql, writes):
    assert statement_writes(sql) is writes


def test_settings_use_the_single_writer_backend():
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        pytest.skip("SQLite settings only")
    assert settings.DATABASES["default"]["ENGINE"] == ENGINE
    assert connection.vendor == "sqlite"
