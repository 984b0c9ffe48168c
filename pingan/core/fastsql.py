"""Lean writes for the few hot paths (a report and its dispatch, unit actions, the sign-up rush).

Django's ORM spends 1–3 ms of Python per statement building SQL that never changes (perf.md
§3.2: compiling one `select_related` read took 3.6 ms); the statement itself costs 0.05–0.3 ms.
These helpers build each statement once per process from the model's own `_meta` — its table,
its columns, its field defaults, each field's own conversion to the database
(`get_db_prep_save`) — so what they write is exactly what `Model.objects.create()` would, at a
tenth of the cost. They never replace the ORM elsewhere, and they skip what the hot paths do not
use (signals, `save()` overrides, validation: the services validate before they write).
"""

from functools import cache

from django.db import connection
from django.db.models import Model


@cache
def _insert_plan(model: type[Model], vendor: str):
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    pk = connection.ops.quote_name(model._meta.pk.column)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return fields, f"INSERT INTO {table} ({columns}) VALUES ", row, f" RETURNING {pk}"


def _params(fields, values: dict) -> list:
    params = []
    for field in fields:
        name = field.attname
        if name in values:
            value = values[name]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            from django.utils import timezone

            value = timezone.now()
        else:
            # As Model.__init__ does: the field's default ("" for text, None for the rest).
            value = field.get_default()
        params.append(field.get_db_prep_save(value, connection))
    return params


def insert(model: type[Model], **values) -> int:
    """INSERT one row (fields by attname, e.g. `category_id`); returns its primary key."""
    return insert_many(model, [values])[0]


def insert_many(model: type[Model], rows: list[dict]) -> list[int]:
    """INSERT several rows in one statement; returns their primary keys in row order."""
    fields, head, row, returning = _insert_plan(model, connection.vendor)
    params = []
    for values in rows:
        params.extend(_params(fields, values))
    sql = head + ", ".join([row] * len(rows)) + returning
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [r[0] for r in cursor.fetchall()]
    # Both SQLite (3.35+) and PostgreSQL return the rows of a multi-row INSERT in VALUES order.
    return ids


def execute(sql: str, params=()) -> int:
    """Run one statement; returns the number of rows it changed."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def fetchall(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetchone(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()
