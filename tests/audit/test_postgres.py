"""PostgreSQL itself refuses to rewrite the audit (the triggers of migration 0004), and
concurrent writers still make one unbroken chain."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from pingan.accounts.models import Role
from pingan.audit import integrity
from pingan.audit.models import AuditEntry, ChainHead
from pingan.audit.services import record
from pingan.core import clock
from tests.conftest import make_user
from tests.threads import race

TABLE = AuditEntry._meta.db_table


@pytest.fixture
def pg(db):
    if connection.vendor != "postgresql":
        pytest.skip(
            "the append-only triggers exist on PostgreSQL only (SQLite relies on the chain)"
        )


def refused(sql: str, params=(), *, setup=()) -> None:
    with (
        pytest.raises(DatabaseError) as caught,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        for statement in setup:
            cursor.execute(statement)
        cursor.execute(sql, params)
    assert "append-only" in str(caught.value)


def test_update_is_refused(pg):
    entry = record(None, "export", "stats", "x")
    refused(f"UPDATE {TABLE} SET actor_label = %s WHERE id = %s", ["(tampered)", entry.pk])
    entry.refresh_from_db()
    assert entry.actor_label == ""


def test_delete_is_refused(pg):
    entry = record(None, "export", "stats", "x")
    refused(f"DELETE FROM {TABLE} WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_truncate_is_refused(pg):
    record(None, "export", "stats", "x")
    # Django's test runner may empty its own test_ database between tests; any other answers
    # as this does (pingan.audit_strict shows it here).
    refused(
        f"TRUNCATE {TABLE} CASCADE",
        setup=[
            "SET CONSTRAINTS ALL IMMEDIATE",  # the test's own transaction has checks pending
            "SET LOCAL pingan.audit_strict = 'on'",
        ],
    )
    assert AuditEntry.objects.count() == 1


def test_the_archive_setting_alone_opens_nothing(pg):
    # The archive's way through deletes only entries older than the retention that a
    # checkpoint covers: a fresh entry stays, setting or not.
    entry = record(None, "export", "stats", "x")
    refused(
        f"DELETE FROM {TABLE} WHERE id = %s",
        [entry.pk],
        setup=["SET LOCAL pingan.audit_archive = 'on'"],
    )
    refused(
        f"UPDATE {TABLE} SET ip = '8.8.8.8' WHERE id = %s",
        [entry.pk],
        setup=["SET LOCAL pingan.audit_archive = 'on'"],
    )


def test_an_old_entry_no_checkpoint_covers_is_not_deleted_either(pg, monkeypatch):
    moment = timezone.now() - timedelta(days=400)
    monkeypatch.setattr(clock, "now", lambda: moment)
    entry = record(None, "export", "stats", "x")
    refused(
        f"DELETE FROM {TABLE} WHERE id = %s",
        [entry.pk],
        setup=["SET LOCAL pingan.audit_archive = 'on'"],
    )


def test_the_head_only_moves_forward(pg):
    record(None, "export", "stats", "1")
    record(None, "export", "stats", "2")
    head_table = ChainHead._meta.db_table
    refused(f"UPDATE {head_table} SET seq = 1")
    refused(f"DELETE FROM {head_table}")
    assert ChainHead.objects.get().seq == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_make_one_chain(postgres_only):
    people = [make_user(f"writer{i}", Role.OFFICER) for i in range(6)]

    def writes(user):
        def run():
            for n in range(15):
                record(user, "view_personal_data", "dispute", f"{user.username}-{n}")
            return True

        return run

    results, errors = race(*(writes(user) for user in people))
    assert errors == [None] * len(people)
    assert results == [True] * len(people)
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 6 * 15 + 1))
    report = integrity.verify()
    assert report.ok, report.broken
    assert report.checked == 90 and ChainHead.objects.get().seq == 90
