"""`manage.py backup` and `manage.py restore` (pingan/core/backup.py) on both engines: back up
the test database, change it, restore, and compare every table (row count and a checksum of its
rows) with how it was when backed up.

- SQLite: restored in place, into the test database itself, after the refusal without --force;
  and into a fresh file by `pingan manage restore` in a process of its own, as an operator runs
  it.
- PostgreSQL: restored by `pingan manage restore` into a database of its own, created and
  dropped by the test; then refused (not empty), then replaced with --force.
"""

import hashlib
import os
import secrets
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from pingan.accounts.models import Role, User
from pingan.incidents.models import Incident
from pingan.incidents.services import report
from tests.conftest import GA1_CENTER

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def _digest(rows) -> tuple[int, str]:
    # Sorted by text: the order rows come back in is not part of what a restore must keep.
    texts = sorted(repr(tuple(row)) for row in rows)
    return len(texts), hashlib.sha256("\n".join(texts).encode()).hexdigest()


def snapshot(cursor, table_names) -> dict[str, tuple[int, str]]:
    """Each table's row count and a checksum of its rows."""
    result = {}
    for name in sorted(table_names):
        cursor.execute(f'SELECT * FROM "{name}"')  # noqa: S608 - names from introspection
        result[name] = _digest(cursor.fetchall())
    return result


def django_snapshot():
    with connection.cursor() as cursor:
        return snapshot(cursor, connection.introspection.table_names(cursor))


def _some_activity(world):
    """Rows in most of the report path's tables, and a day sequence on PostgreSQL."""
    for i in range(3):
        report(
            category_code="020100",
            description=f"备份前的警情 {i}",
            lng=GA1_CENTER[0],
            lat=GA1_CENTER[1],
            reporter=world.citizen,
        )


def _change(world):
    User.objects.create_user(username="after-backup", password="x", role=Role.CITIZEN)
    Incident.objects.filter(description="备份前的警情 0").update(description="改过了")
    world.citizen2.delete()


def _manage(*args, database_url: str, data_dir: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PINGAN_TEST"))}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(50),
        PINGAN_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="pingan.settings",
    )
    env.pop("PINGAN_TESTING", None)
    # The keys of the personal data at rest: the restored rows are this database's.
    if getattr(settings, "DATA_KEYS", None):
        env.update(DATA_KEYS=",".join(settings.DATA_KEYS), DATA_INDEX_KEY=settings.DATA_INDEX_KEY)
    return subprocess.run(
        [sys.executable, "-m", "pingan.cli", "manage", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite backup runs when the suite runs on SQLite")


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL backup runs when the suite runs on PostgreSQL")


def test_sqlite_backup_change_restore_compare(world, sqlite_only, tmp_path):
    _some_activity(world)
    before = django_snapshot()
    target = tmp_path / "pingan.backup"
    call_command("backup", str(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # personal data: the owner's only
    assert not list(tmp_path.glob("*.part"))

    _change(world)
    changed = django_snapshot()
    assert changed != before

    with pytest.raises(CommandError, match="--force"):
        call_command("restore", str(target))
    assert django_snapshot() == changed  # refused, and nothing touched

    call_command("restore", str(target), force=True)
    assert django_snapshot() == before

    # An operator's restore into a new, empty database file, in a process of its own.
    fresh = tmp_path / "fresh.sqlite3"
    done = _manage("restore", str(target), database_url=f"sqlite:///{fresh}", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "已恢复" in done.stdout
    # Read as Django reads SQLite (its converters turn timestamps into datetimes).
    restored = sqlite3.connect(fresh, detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES)
    try:
        cursor = restored.cursor()
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        names = [n for (n,) in cursor.fetchall() if not n.startswith("sqlite_")]
        assert snapshot(cursor, names) == before
    finally:
        restored.close()


def test_restore_refuses_what_is_not_a_backup_of_this_engine(world, tmp_path):
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a backup at all")
    before = django_snapshot()
    with pytest.raises(CommandError, match="不是 pingan 的备份文件"):
        call_command("restore", str(junk), force=True)
    other = tmp_path / "other.backup"
    other.write_bytes(
        b"PGDMP" + b"\0" * 64
        if connection.vendor == "sqlite"
        else b"SQLite format 3\0" + b"\0" * 64
    )
    with pytest.raises(CommandError, match="当前数据库是"):
        call_command("restore", str(other), force=True)
    with pytest.raises(CommandError, match="备份文件不存在"):
        call_command("restore", str(tmp_path / "missing.backup"), force=True)
    assert django_snapshot() == before


def _pg_url(name: str) -> str:
    conf = connection.settings_dict
    auth = conf["USER"] + (f":{conf['PASSWORD']}" if conf.get("PASSWORD") else "")
    return f"postgres://{auth}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{name}"


def _pg_admin(sql: str) -> None:
    import psycopg

    conf = connection.settings_dict
    with psycopg.connect(
        host=conf["HOST"] or "127.0.0.1",
        port=conf["PORT"] or 5432,
        user=conf["USER"],
        password=conf.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(sql)


def _pg_snapshot(name: str, table_names):
    import psycopg

    with psycopg.connect(_pg_url(name)) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        assert [n for (n,) in cursor.fetchall()] == sorted(table_names)
        result = snapshot(cursor, table_names)
        cursor.execute("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1")
        result["(sequences)"] = _digest(cursor.fetchall())
        return result


def test_postgres_backup_restore_into_a_new_database(world, postgres_only, tmp_path):
    _some_activity(world)
    source = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        table_names = connection.introspection.table_names(cursor)
    before = _pg_snapshot(source, table_names)
    target = tmp_path / "pingan.dump"
    call_command("backup", str(target))
    assert target.read_bytes()[:5] == b"PGDMP"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    _change(world)
    assert _pg_snapshot(source, table_names) != before

    copy = f"{source}_restore_{secrets.token_hex(3)}"
    _pg_admin(f'CREATE DATABASE "{copy}"')
    try:
        url = _pg_url(copy)
        done = _manage("restore", str(target), database_url=url, data_dir=tmp_path)
        assert done.returncode == 0, done.stderr
        assert _pg_snapshot(copy, table_names) == before

        again = _manage("restore", str(target), database_url=url, data_dir=tmp_path)
        assert again.returncode != 0 and "--force" in again.stderr
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM incidents_incidentevent")
            conn.execute("CREATE TABLE left_over (id int)")
        forced = _manage("restore", "--force", str(target), database_url=url, data_dir=tmp_path)
        assert forced.returncode == 0, forced.stderr
        assert _pg_snapshot(copy, table_names) == before  # and no left_over table
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
