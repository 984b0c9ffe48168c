"""Retention: entries past AUDIT_RETENTION_DAYS go to a verified archive file, a checkpoint
keeps the chain verifiable, and nothing is deleted unless the file checks out."""

import gzip
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from pingan.audit import integrity
from pingan.audit.models import AuditEntry, Checkpoint
from pingan.audit.services import record
from pingan.core import clock

from .helpers import raw_sql

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def archive_dir(settings, tmp_path):
    settings.AUDIT_ARCHIVE_DIR = tmp_path / "archive"
    settings.AUDIT_RETENTION_DAYS = 180
    return settings.AUDIT_ARCHIVE_DIR


def write(monkeypatch, days_ago: int, count: int, prefix: str):
    moment = timezone.now() - timedelta(days=days_ago)
    monkeypatch.setattr(clock, "now", lambda: moment)
    entries = [record(None, "export", "stats", f"{prefix}{i}") for i in range(count)]
    monkeypatch.undo()
    return entries


@pytest.fixture
def history(monkeypatch):
    """Four entries of last spring, then three of this week."""
    old = write(monkeypatch, 200, 4, "old")
    new = write(monkeypatch, 3, 3, "new")
    return old, new


def test_archive_then_verify(history, archive_dir, capsys):
    old, new = history
    call_command("audit_archive")
    # Only the old ones are gone from the table; the run is itself an entry.
    left = list(AuditEntry.objects.order_by("seq").values_list("seq", "action"))
    assert left == [(5, "export"), (6, "export"), (7, "export"), (8, "audit_archived")]
    checkpoint = Checkpoint.objects.get()
    assert (checkpoint.first_seq, checkpoint.through_seq, checkpoint.entries) == (1, 4, 4)
    assert checkpoint.through_mac == old[-1].mac
    # The file holds them with their chain values.
    [path] = archive_dir.iterdir()
    assert path.name == checkpoint.file and path.suffixes[-2:] == [".jsonl", ".gz"]
    assert (os.stat(path).st_mode & 0o777) == 0o600
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        header, *lines = [json.loads(line) for line in handle]
    assert header["format"] == integrity.ARCHIVE_FORMAT
    assert [line["seq"] for line in lines] == [1, 2, 3, 4]
    assert [line["mac"] for line in lines] == [e.mac for e in old]
    archived = AuditEntry.objects.get(action="audit_archived")
    assert archived.detail["file"] == path.name and archived.detail["sha256"] == checkpoint.sha256
    # The verification continues from the checkpoint, the files verify too.
    call_command("audit_verify", archives=True)
    out = capsys.readouterr().out
    assert "审计链完整" in out and "归档文件完整" in out
    # A second run finds nothing more to archive.
    call_command("audit_archive")
    assert Checkpoint.objects.count() == 1


def test_archives_continue_one_another(monkeypatch, archive_dir):
    write(monkeypatch, 700, 2, "a")
    # A first run long ago (its own entry is of that day too), then more entries, then today's.
    then = timezone.now() - timedelta(days=400)
    monkeypatch.setattr(clock, "now", lambda: then)
    integrity.archive()
    monkeypatch.undo()
    write(monkeypatch, 300, 2, "b")
    integrity.archive()
    first, second = Checkpoint.objects.order_by("through_seq")
    assert (first.first_seq, first.through_seq, second.through_seq) == (1, 2, 5)
    assert second.first_seq == first.through_seq + 1 and second.prev_mac == first.through_mac
    assert integrity.verify().ok and integrity.verify_archives() == []


def test_a_broken_chain_is_not_archived(history, archive_dir):
    raw_sql(f"UPDATE {AuditEntry._meta.db_table} SET object_ref = 'x' WHERE seq = 2")
    with pytest.raises(CommandError) as failed:
        call_command("audit_archive")
    assert "第 2 条" in str(failed.value) and failed.value.returncode == 1
    assert AuditEntry.objects.count() == 7 and not Checkpoint.objects.exists()
    assert not any(archive_dir.iterdir())


def test_nothing_is_deleted_unless_the_written_file_verifies(history, archive_dir, monkeypatch):
    # The file is damaged between writing and reading back (a full disk, a bad sector).
    real_replace = os.replace

    def replace_and_damage(src, dst):
        real_replace(src, dst)
        with gzip.open(dst, "rt", encoding="utf-8") as handle:
            lines = handle.readlines()
        lines[2] = lines[2].replace('"old1"', '"changed"')
        with gzip.open(dst, "wt", encoding="utf-8") as handle:
            handle.writelines(lines)

    monkeypatch.setattr(integrity.os, "replace", replace_and_damage)
    with pytest.raises(integrity.ArchiveError, match="第 2 条"):
        integrity.archive()
    assert AuditEntry.objects.count() == 7
    assert not Checkpoint.objects.exists() and not any(archive_dir.iterdir())


def test_a_changed_archive_file_is_found(history, archive_dir):
    call_command("audit_archive")
    [path] = archive_dir.iterdir()
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        lines = handle.readlines()
    lines[3] = lines[3].replace('"old2"', '"changed"')
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.writelines(lines)
    assert integrity.verify().ok  # the database's part is intact
    with pytest.raises(CommandError, match="第 3 条"):
        call_command("audit_verify", archives=True)


def test_retention_below_180_days_is_refused(history, archive_dir):
    with pytest.raises(integrity.ArchiveError, match="180"):
        integrity.archive(retention_days=30)
    assert AuditEntry.objects.count() == 7


def test_retention_setting_below_180_days_stops_start_up(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pingan.settings",
        "PINGAN_TESTING": "1",
        "PINGAN_DATA_DIR": str(tmp_path),
        "AUDIT_RETENTION_DAYS": "90",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "AUDIT_RETENTION_DAYS must be at least 180" in done.stderr
