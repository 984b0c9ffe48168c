"""Entries written before the chain existed are chained by migration 0003, in their order."""

import importlib

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from pingan.audit import integrity
from pingan.audit.models import AuditEntry, ChainHead
from pingan.audit.services import record

from .helpers import raw_sql

pytestmark = pytest.mark.django_db
migration = importlib.import_module("pingan.audit.migrations.0003_chain_existing")


def test_entries_from_before_the_chain_are_chained(db):
    for i in range(3):
        record(None, "view_party_data", "dispute", f"JF-{i}", ip="10.0.0.7")
    # As they were before issue 11: no numbers, no MACs, no head.
    table = AuditEntry._meta.db_table
    raw_sql(f"UPDATE {table} SET seq = -id, key_id = '', prev_mac = '', mac = ''")
    raw_sql(f"DELETE FROM {ChainHead._meta.db_table}")
    assert not integrity.verify().ok
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # the migration runs before the triggers exist
                cursor.execute("SET LOCAL session_replication_role = replica")
        # The models as the migration sees them (no append-only manager yet).
        state = MigrationExecutor(connection).loader.project_state(("audit", "0002_chain"))
        migration.chain_existing(state.apps, None)
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", "object_ref")) == [
        (1, "JF-0"),
        (2, "JF-1"),
        (3, "JF-2"),
    ]
    assert integrity.verify().ok
    assert record(None, "export", "stats", "next").seq == 4
