"""Tampering with the audit table as someone with SQL access would, on either database: on
PostgreSQL the append-only trigger is switched off for this transaction first (a superuser
can; the chain is the second line of defence for exactly that case)."""

from django.db import connection, transaction


def raw_sql(sql: str, params=()) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        return cursor.rowcount
