"""Backup and restore of the whole database: `manage.py backup <file>`, `manage.py restore <file>`.

- PostgreSQL: `pg_dump --format=custom` and `pg_restore`, run with the credentials of the
  configured database (DATABASE_URL → PGHOST, PGPORT, PGUSER, PGPASSWORD; the password never on
  a command line). The client tools must be of the server's major version or newer.
- SQLite: the sqlite3 online backup API, a consistent copy while the server keeps running.

A backup is written to a temporary file beside the target and renamed into place only once it
is complete, readable by its owner only (it holds personal data and password hashes). A restore
checks that the file is a backup of the configured engine before touching anything, and refuses
a database that already has tables unless `--force` (then everything in it is replaced).
Restore into a stopped service: running processes keep per-process caches of what they read.
"""

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from django.db import connections

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is bilingual, for the operator."""


def engine_of(alias: str = "default") -> str:
    vendor = connections[alias].vendor
    if vendor not in ("postgresql", "sqlite"):
        raise BackupError(f"不支持的数据库类型 / unsupported database engine: {vendor}")
    return vendor


def file_engine(path: Path) -> str:
    """The engine a backup file was made from, by its first bytes."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"无法读取备份文件 / cannot read the backup file {path}: {exc}") from exc
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(
        f"{path} 不是 pingan 的备份文件（既非 pg_dump 自定义格式，也非 SQLite 数据库）/ "
        f"not a backup: neither a pg_dump custom-format archive nor an SQLite database"
    )


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"找不到 {name}，请安装 PostgreSQL 客户端 / {name} not found: install the PostgreSQL "
            f"client tools (Debian: apt-get install postgresql-client)"
        )
    return found


def _pg_env(alias: str) -> dict[str, str]:
    """libpq's environment for the configured database: no password on a command line."""
    conf = connections[alias].settings_dict
    env = dict(os.environ)
    for var, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        value = conf.get(key)
        if value:
            env[var] = str(value)
        else:
            env.pop(var, None)
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    return env


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()[-2000:]
        raise BackupError(f"{what} 失败 / failed (exit {done.returncode}): {detail}")


# --- backup ---------------------------------------------------------------------------------


def backup(path: Path, alias: str = "default") -> str:
    """Write a backup of the database to `path`; returns the engine."""
    engine = engine_of(alias)
    path = path.resolve()
    if path.is_dir():
        raise BackupError(f"{path} 是目录，请给出文件名 / is a directory: give a file name")
    if not path.parent.is_dir():
        raise BackupError(f"目录不存在 / no such directory: {path.parent}")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, 0o600)
        if engine == "postgresql":
            _pg_backup(tmp, alias)
        else:
            _sqlite_backup(tmp, alias)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return engine


def _pg_backup(target: Path, alias: str) -> None:
    env = _pg_env(alias)
    _run(
        [_tool("pg_dump"), "--format=custom", "--file", str(target), env.get("PGDATABASE", "")],
        env,
        "pg_dump",
    )


def _sqlite_backup(target: Path, alias: str) -> None:
    connection = connections[alias]
    connection.ensure_connection()
    out = sqlite3.connect(target)
    try:
        # One step (pages=-1): a consistent copy of the database as of one moment.
        connection.connection.backup(out)
    finally:
        out.close()


# --- restore --------------------------------------------------------------------------------


def tables(alias: str = "default") -> list[str]:
    connection = connections[alias]
    with connection.cursor() as cursor:
        return connection.introspection.table_names(cursor)


def restore(path: Path, alias: str = "default", *, force: bool = False) -> str:
    """Replace the database's content with the backup at `path`; returns the engine."""
    engine = engine_of(alias)
    path = path.resolve()
    if not path.is_file():
        raise BackupError(f"备份文件不存在 / no such backup file: {path}")
    made_by = file_engine(path)
    if made_by != engine:
        raise BackupError(
            f"备份来自 {made_by}，而当前数据库是 {engine} / the backup is of a {made_by} database, "
            f"the configured one is {engine}"
        )
    if engine == "postgresql":
        _pg_check(path, alias)
    else:
        _sqlite_check(path)
    present = tables(alias)
    if present and not force:
        raise BackupError(
            f"目标数据库不为空（{len(present)} 张表），未做任何改动；确认要覆盖请加 --force / "
            f"the database is not empty ({len(present)} tables); nothing was changed. "
            f"Add --force to replace its content"
        )
    if engine == "postgresql":
        _pg_restore(path, alias, wipe=bool(present))
    else:
        _sqlite_restore(path, alias)
    return engine


def _pg_check(path: Path, alias: str) -> None:
    """pg_restore can read the whole table of contents: the archive is complete."""
    _run([_tool("pg_restore"), "--list", str(path)], _pg_env(alias), "pg_restore --list")


def _pg_restore(path: Path, alias: str, *, wipe: bool) -> None:
    connection = connections[alias]
    if wipe:
        # Everything in the schema goes (tables, sequences, functions, triggers), not only what
        # the backup has: a table added since must not survive beside the restored data.
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
    connection.close()
    env = _pg_env(alias)
    _run(
        [
            _tool("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            env.get("PGDATABASE", ""),
            str(path),
        ],
        env,
        "pg_restore",
    )


def _sqlite_check(path: Path) -> None:
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = source.execute("PRAGMA quick_check").fetchone()[0]
            migrated = source.execute(
                "SELECT count(*) FROM sqlite_master "
                "WHERE type = 'table' AND name = 'django_migrations'"
            ).fetchone()[0]
        finally:
            source.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"备份文件已损坏 / the backup file is damaged: {exc}") from exc
    if ok != "ok":
        raise BackupError(f"备份文件已损坏 / the backup file is damaged: {ok}")
    if not migrated:
        raise BackupError("备份文件不是 pingan 数据库 / the file is not a pingan database")


def _sqlite_restore(path: Path, alias: str) -> None:
    connection = connections[alias]
    connection.ensure_connection()
    if connection.in_atomic_block:
        raise BackupError("不能在事务中恢复 / cannot restore inside a transaction")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        # The backup API replaces every page of the destination: whatever it held is gone.
        source.backup(connection.connection)
    finally:
        source.close()
