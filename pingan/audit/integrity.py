"""Proving the audit log: walking the chain, and archiving what is past the retention.

verify()          walks the chain from the last archive checkpoint (or the first entry) to the
                  head and names the first broken link: its number, its time and what is wrong
                  (the entry changed, entries missing, out of order, a key not configured).
verify_archives() reads every archive file back and checks it against its checkpoint.
archive()         writes the entries older than AUDIT_RETENTION_DAYS to a gzip JSON-lines file
                  under AUDIT_ARCHIVE_DIR with their chain values, reads the file back and
                  verifies it, records a checkpoint (the last archived number and MAC) so the
                  verification continues from there, and only then deletes them; the run itself
                  is an `audit_archived` entry. On PostgreSQL that deletion is the only one the
                  table's trigger lets through (migration 0002).
"""

import gzip
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from pingan.core import clock

from . import chain
from .models import Action, AuditEntry, ChainHead, Checkpoint
from .services import record

ARCHIVE_FORMAT = "pingan-audit-archive/1"
BATCH = 2000
# 等保 level 3 keeps audit records at least 180 days; settings refuse a shorter
# AUDIT_RETENTION_DAYS at start-up, and PostgreSQL's trigger never deletes a younger entry.
MIN_RETENTION_DAYS = 180


@dataclass(frozen=True)
class Break:
    seq: int
    at: datetime | str | None
    kind: str
    message: str

    def __str__(self):
        when = self.at.isoformat() if isinstance(self.at, datetime) else (self.at or "—")
        return f"第 {self.seq} 条（{when}）：{self.message} [{self.kind}]"


@dataclass
class Report:
    first_seq: int | None = None
    last_seq: int | None = None
    checked: int = 0
    head_seq: int = 0
    head_mac: str = chain.GENESIS
    from_checkpoint: int | None = None
    broken: Break | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.broken is None


def _rows(after_seq: int, through_seq: int):
    """Entries after `after_seq` up to `through_seq`, in chain order, in batches."""
    names = (*chain.FIELDS, "mac", "id")
    last = after_seq
    while last < through_seq:
        batch = list(
            AuditEntry.objects.filter(seq__gt=last, seq__lte=through_seq)
            .order_by("seq")
            .values(*names)[:BATCH]
        )
        if not batch:
            return
        yield from batch
        last = batch[-1]["seq"]


class Walker:
    """Checks links one after another; remembers the first break."""

    def __init__(self, next_seq: int, prev_mac: str, keys=None):
        self.expected = next_seq
        self.prev_mac = prev_mac
        self.keys = keys if keys is not None else chain.known_keys()
        self.last_id = 0
        self.checked = 0
        self.broken: Break | None = None

    def step(self, values: dict) -> bool:
        problem = chain.check_link(values, self.expected, self.prev_mac, self.keys)
        if problem is None and values.get("id") is not None and values["id"] < self.last_id:
            # Numbers and MACs agree but the rows were written in another order.
            problem = ("reordered", "记录的写入顺序与序号不一致（顺序被改动）")
        if problem is not None:
            at = values.get("at")
            self.broken = Break(values["seq"], at, *problem)
            return False
        self.expected = values["seq"] + 1
        self.prev_mac = values["mac"]
        self.last_id = values.get("id") or self.last_id
        self.checked += 1
        return True


def verify() -> Report:
    report = Report()
    checkpoint = Checkpoint.objects.order_by("-through_seq").first()
    start_seq, prev_mac = 1, chain.GENESIS
    if checkpoint is not None:
        start_seq, prev_mac = checkpoint.through_seq + 1, checkpoint.through_mac
        report.from_checkpoint = checkpoint.through_seq
    # Numbers before the start: archived already (and deleted), or never given out.
    stray = AuditEntry.objects.filter(seq__lt=start_seq).order_by("seq").values("seq", "at").first()
    if stray is not None:
        report.broken = Break(
            stray["seq"],
            stray["at"],
            "archived_present" if checkpoint is not None else "bad_number",
            f"该条已归档（截至第 {checkpoint.through_seq} 条），却仍在库中（被插入）"
            if checkpoint is not None
            else "序号无效（被改动）",
        )
        return report
    # The head first: entries written while we walk are after it and not ours to judge.
    head = ChainHead.objects.filter(pk=1).values("seq", "mac").first()
    newest = AuditEntry.objects.order_by("-seq").values("seq", "at").first()
    if head is None:
        if newest is not None:
            report.broken = Break(newest["seq"], newest["at"], "head_missing", "链头记录被删除")
            return report
        head = {"seq": start_seq - 1, "mac": prev_mac}
    report.head_seq, report.head_mac = head["seq"], head["mac"]
    walker = Walker(start_seq, prev_mac)
    for values in _rows(start_seq - 1, head["seq"]):
        if report.first_seq is None:
            report.first_seq = values["seq"]
        if not walker.step(values):
            break
        report.last_seq = values["seq"]
    report.checked = walker.checked
    report.broken = walker.broken
    if report.broken is not None:
        return report
    reached = walker.expected - 1
    if reached < head["seq"]:
        report.broken = Break(
            reached + 1, None, "gap", f"缺少第 {reached + 1} 至 {head['seq']} 条（链尾被删除）"
        )
    elif head["mac"] != walker.prev_mac:
        report.broken = Break(head["seq"], None, "head_mismatch", "链头校验值与最后一条不符")
    elif newest is not None and newest["seq"] > head["seq"] and not _written_since(head["seq"]):
        report.broken = Break(head["seq"] + 1, None, "beyond_head", "链头之后出现记录（被插入）")
    return report


def _written_since(head_seq: int) -> bool:
    """Whether the head has moved on since it was read (new entries, not forged ones)."""
    now = ChainHead.objects.filter(pk=1).values_list("seq", flat=True).first()
    return now is not None and now > head_seq


# --- archives ---------------------------------------------------------------------------------


class ArchiveError(Exception):
    pass


@dataclass(frozen=True)
class Archived:
    checkpoint: Checkpoint
    path: Path


def archive_dir() -> Path:
    return Path(settings.AUDIT_ARCHIVE_DIR)


def _line(data: dict) -> bytes:
    return (
        json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
    ).encode()


def read_archive(path: Path):
    """(header, entries) of an archive file; entries are dicts of the chain FIELDS and mac."""
    with gzip.open(path, "rb") as handle:
        lines = iter(handle)
        header = json.loads(next(lines))
        if header.get("format") != ARCHIVE_FORMAT:
            raise ArchiveError(f"{path.name}：不是审计归档文件")
        return header, [json.loads(line) for line in lines]


def _check_file(path: Path, first_seq, through_seq, prev_mac, through_mac, count) -> str:
    """Read the written file back and verify it link by link; its SHA-256."""
    header, entries = read_archive(path)
    if (header["first_seq"], header["through_seq"], header["prev_mac"]) != (
        first_seq,
        through_seq,
        prev_mac,
    ):
        raise ArchiveError(f"{path.name}：文件头与归档范围不符")
    walker = Walker(first_seq, prev_mac)
    for values in entries:
        if not walker.step(values):
            raise ArchiveError(f"{path.name}：{walker.broken}")
    if walker.checked != count or walker.prev_mac != through_mac:
        raise ArchiveError(f"{path.name}：条数或最后校验值与数据库不符")
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archive(*, now=None, retention_days: int | None = None, limit: int = 500_000):
    """Archive the entries past the retention (at most `limit` a run); None when there are
    none. Raises ArchiveError, deleting nothing, when the chain or the written file is wrong."""
    now = now or clock.now()
    retention = retention_days if retention_days is not None else settings.AUDIT_RETENTION_DAYS
    if retention < MIN_RETENTION_DAYS:
        raise ArchiveError(f"保留期不得少于 {MIN_RETENTION_DAYS} 天")
    cutoff = now - timedelta(days=retention)
    last = Checkpoint.objects.order_by("-through_seq").first()
    first_seq, prev_mac = (last.through_seq + 1, last.through_mac) if last else (1, chain.GENESIS)
    # The prefix of the chain older than the cutoff: up to the first entry that is not.
    newer = (
        AuditEntry.objects.filter(seq__gte=first_seq, at__gte=cutoff)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    older = AuditEntry.objects.filter(seq__gte=first_seq, at__lt=cutoff)
    if newer is not None:
        older = older.filter(seq__lt=newer)
    through_seq = older.order_by("-seq").values_list("seq", flat=True).first()
    if through_seq is None:
        return None
    through_seq = min(through_seq, first_seq + limit - 1)

    directory = archive_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"audit-{first_seq:012d}-{through_seq:012d}-{now:%Y%m%dT%H%M%S}.jsonl.gz"
    path = directory / name
    handle, temp_name = tempfile.mkstemp(prefix=".audit-", suffix=".tmp", dir=directory)
    temp = Path(temp_name)
    try:
        walker = Walker(first_seq, prev_mac)
        through_at: datetime | None = None
        with os.fdopen(handle, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb") as out:
            out.write(
                _line(
                    {
                        "format": ARCHIVE_FORMAT,
                        "first_seq": first_seq,
                        "through_seq": through_seq,
                        "prev_mac": prev_mac,
                        "created_at": chain.utc_text(now),
                    }
                )
            )
            for values in _rows(first_seq - 1, through_seq):
                if not walker.step(values):
                    raise ArchiveError(f"审计链断裂，未归档：{walker.broken}")
                through_at = values["at"]
                out.write(_line(chain.as_record(_Row(values))))
        if walker.checked != through_seq - first_seq + 1 or through_at is None:
            raise ArchiveError(f"审计链断裂，未归档：第 {first_seq} 至 {through_seq} 条不全")
        os.chmod(temp, 0o600)
        with open(temp, "rb") as synced:
            os.fsync(synced.fileno())
        os.replace(temp, path)
        sha256 = _check_file(
            path, first_seq, through_seq, prev_mac, walker.prev_mac, walker.checked
        )
        with transaction.atomic():
            checkpoint = Checkpoint.objects.create(
                created_at=now,
                first_seq=first_seq,
                through_seq=through_seq,
                prev_mac=prev_mac,
                through_mac=walker.prev_mac,
                through_at=through_at,
                entries=walker.checked,
                file=name,
                sha256=sha256,
            )
            deleted = _delete_archived(first_seq, through_seq, cutoff)
            if deleted != walker.checked:
                raise ArchiveError(f"应删除 {walker.checked} 条，实际 {deleted} 条：已回滚")
            record(
                None,
                Action.AUDIT_ARCHIVED,
                "audit",
                f"{first_seq}-{through_seq}",
                detail={
                    "first_seq": first_seq,
                    "through_seq": through_seq,
                    "entries": walker.checked,
                    "file": name,
                    "sha256": sha256,
                    "retention_days": retention,
                },
            )
    except BaseException:
        temp.unlink(missing_ok=True)
        if path.exists() and not Checkpoint.objects.filter(file=name).exists():
            path.unlink()
        raise
    return Archived(checkpoint, path)


class _Row:
    """A values() dict seen as an entry, for chain.as_record."""

    def __init__(self, values: dict):
        self.__dict__.update(values)


def _delete_archived(first_seq: int, through_seq: int, cutoff) -> int:
    """The one sanctioned deletion. On PostgreSQL the trigger lets it through only inside this
    transaction (SET LOCAL) and only for entries a checkpoint covers that are older than the
    minimum retention; on SQLite nothing guards the table but the chain."""
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL pingan.audit_archive = 'on'")
        cursor.execute(
            f"DELETE FROM {table} WHERE seq >= %s AND seq <= %s AND at < %s",  # noqa: S608
            [first_seq, through_seq, cutoff],
        )
        deleted = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL pingan.audit_archive = 'off'")
    return deleted


def verify_archives() -> list[str]:
    """Problems with the archive files (missing, changed, not continuing one another); [] when
    every checkpoint's file is there and verifies."""
    problems = []
    previous = None
    for checkpoint in Checkpoint.objects.order_by("through_seq"):
        if previous is not None and (
            checkpoint.first_seq != previous.through_seq + 1
            or checkpoint.prev_mac != previous.through_mac
        ):
            problems.append(f"{checkpoint.file}：与上一份归档（{previous.file}）不衔接")
        path = archive_dir() / checkpoint.file
        if not path.exists():
            problems.append(f"{checkpoint.file}：文件不存在（{archive_dir()}）")
        else:
            try:
                sha256 = _check_file(
                    path,
                    checkpoint.first_seq,
                    checkpoint.through_seq,
                    checkpoint.prev_mac,
                    checkpoint.through_mac,
                    checkpoint.entries,
                )
            except (ArchiveError, OSError, ValueError, KeyError) as exc:
                problems.append(str(exc))
            else:
                if sha256 != checkpoint.sha256:
                    problems.append(f"{checkpoint.file}：文件摘要与归档点不符")
        previous = checkpoint
    return problems
