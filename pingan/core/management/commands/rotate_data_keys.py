"""`manage.py rotate_data_keys`: re-encrypt the personal data at rest under the current key.

Every column of an `EncryptedTextField` (pingan/core/fields.py) in every installed app is read
in batches by primary key; each value not yet under the first key of DATA_KEYS is decrypted
(with whichever listed key it names) and encrypted again under the first one. Each batch is its
own transaction and each row is written only if it still holds the value that was read, so the
command can run while pingan serves, be interrupted, and be run again: it picks up only what is
left. `--check` only counts what is left. With `--reindex` it then recomputes every blind index
(after a change of DATA_INDEX_KEY: exact search by phone or ID number misses the rows not yet
recomputed until it has finished).

Rotating a key (docs/deployment.md): put a new key first in DATA_KEYS, keep the old ones after
it, restart, run this command, and remove an old key only once `--check` reports nothing left.
"""

from types import SimpleNamespace

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from pingan.core import crypto
from pingan.core.fields import EncryptedTextField, encrypted_models, keyset_batches


def _columns(model, field):
    qn = connection.ops.quote_name
    return qn(model._meta.db_table), qn(model._meta.pk.column), qn(field.column)


def _not_current(column: str) -> tuple[str, list]:
    # SUBSTR, not LIKE: key ids may hold "_" (a LIKE wildcard), and SQLite's LIKE ignores case.
    prefix = f"{crypto.VERSION}:{crypto.current_kid()}:"
    return f"{column} <> '' AND SUBSTR({column}, 1, %s) <> %s", [len(prefix), prefix]


def pending() -> dict[str, int]:
    """Values per "table.column" not yet under the current key."""
    counts = {}
    for model, fields, _ in encrypted_models():
        for field in fields:
            table, _, column = _columns(model, field)
            where, params = _not_current(column)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params)
                counts[f"{model._meta.db_table}.{field.column}"] = cursor.fetchone()[0]
    return counts


def rotate(batch: int = 500) -> tuple[dict[str, int], dict[str, list]]:
    """Re-encrypt under the current key: ({"table.column": rows rewritten}, {…: failed pks})."""
    done: dict[str, int] = {}
    failed: dict[str, list] = {}
    for model, fields, _ in encrypted_models():
        for field in fields:
            name = f"{model._meta.db_table}.{field.column}"
            done[name], failed[name] = _rotate_column(model, field, batch)
    return done, failed


def _rotate_column(model, field, batch: int) -> tuple[int, list]:
    table, pk, column = _columns(model, field)
    where, params = _not_current(column)
    select = f"SELECT {pk}, {column} FROM {table}"
    update = f"UPDATE {table} SET {column} = %s WHERE {pk} = %s AND {column} = %s"
    rewritten = 0
    failed: list = []
    for rows in keyset_batches(connection, select, pk, batch, where=where, params=params):
        updates = []
        for row_pk, value in rows:
            try:
                updates.append([crypto.encrypt(crypto.decrypt(value)), row_pk, value])
            except crypto.DecryptionError:
                failed.append(row_pk)
        with transaction.atomic(), connection.cursor() as cursor:
            for values in updates:
                cursor.execute(update, values)
                rewritten += cursor.rowcount
    return rewritten, failed


def rebuild_indexes(batch: int = 500) -> tuple[dict[str, int], dict[str, list]]:
    """Recompute every blind index from the decrypted values: ({"table.column": rows whose
    index changed}, {"table": pks that could not be decrypted})."""
    changed: dict[str, int] = {}
    failed: dict[str, list] = {}
    for model, _, indexes in encrypted_models():
        if indexes:
            counts, failed[model._meta.db_table] = _reindex_model(model, indexes, batch)
            changed.update(counts)
    return changed, failed


def _reindex_model(model, indexes, batch: int) -> tuple[dict[str, int], list]:
    qn = connection.ops.quote_name
    meta = model._meta
    sources = {name: meta.get_field(name) for index in indexes for name in index.depends}
    read = [meta.pk, *sources.values(), *indexes]
    table, pk = qn(meta.db_table), qn(meta.pk.column)
    select = f"SELECT {', '.join(qn(f.column) for f in read)} FROM {table}"
    counts = {f"{meta.db_table}.{index.column}": 0 for index in indexes}
    failed: list = []
    for rows in keyset_batches(connection, select, pk, batch):
        updates = []
        for row in rows:
            values = dict(zip([f.attname for f in read], row, strict=True))
            try:
                for name, field in sources.items():
                    if isinstance(field, EncryptedTextField):
                        values[field.attname] = field.from_db_value(values[name], None, connection)
            except crypto.DecryptionError:
                failed.append(row[0])
                continue
            instance = SimpleNamespace(**values)
            for index in indexes:
                digest = index.compute(instance)
                if digest != values[index.attname]:
                    updates.append((index, digest, row[0]))
        with transaction.atomic(), connection.cursor() as cursor:
            for index, digest, row_pk in updates:
                cursor.execute(
                    f"UPDATE {table} SET {qn(index.column)} = %s WHERE {pk} = %s", [digest, row_pk]
                )
                counts[f"{meta.db_table}.{index.column}"] += 1
    return counts, failed


class Command(BaseCommand):
    help = (
        "用 DATA_KEYS 的第一把密钥重新加密全部个人信息（可中断、可重跑）；--reindex 重建检索索引 / "
        "re-encrypt personal data under the current key; --reindex rebuilds the blind indexes"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="only count values not under the current key"
        )
        parser.add_argument(
            "--reindex",
            action="store_true",
            help="also recompute every blind index (after changing DATA_INDEX_KEY)",
        )
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--generate-key",
            metavar="KID",
            nargs="?",
            const="",
            help="print a new kid:key for DATA_KEYS (and a new DATA_INDEX_KEY) and stop",
        )

    def handle(self, *args, check=False, reindex=False, batch_size=500, **options):
        if options.get("generate_key") is not None:
            try:
                self.stdout.write(f"DATA_KEYS={crypto.new_data_key(options['generate_key'])}")
            except crypto.EnvError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"DATA_INDEX_KEY={crypto.new_index_key()}")
            return
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        kid = crypto.current_kid()
        if check:
            left = pending()
            for name, count in left.items():
                self.stdout.write(f"{name}: {count} not under key {kid}")
            self.stdout.write(f"total: {sum(left.values())} not under key {kid}")
            return
        done, failed = rotate(batch_size)
        for name, count in done.items():
            self.stdout.write(f"{name}: {count} re-encrypted under key {kid}")
        self.stdout.write(f"total: {sum(done.values())} re-encrypted under key {kid}")
        bad = {name: pks for name, pks in failed.items() if pks}
        if reindex:
            changed, unreadable = rebuild_indexes(batch_size)
            for name, count in changed.items():
                self.stdout.write(f"{name}: {count} blind index values rebuilt")
            self.stdout.write(f"total: {sum(changed.values())} blind index values rebuilt")
            bad.update({name: pks for name, pks in unreadable.items() if pks})
        if bad:
            lines = "; ".join(f"{name}: {len(pks)} (ids {pks[:10]})" for name, pks in bad.items())
            raise CommandError(f"values that could not be decrypted, left as they are: {lines}")
