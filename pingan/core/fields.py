"""Model fields for personal data at rest (pingan/core/crypto.py).

`EncryptedTextField` stores SM4-GCM ciphertext and gives callers the plaintext: the model
attribute, `values()`, forms, templates and exports all see the value as it was typed. Only the
empty string is stored as is (an absent phone is not a secret, and `exclude(phone="")` keeps
working).

`BlindIndexField` is its searchable sibling: a keyed hash (HMAC-SM3) of the normalised value,
computed on every save from its source. An exact lookup on the encrypted field goes through it:

    User.objects.filter(phone="13812345678")          # WHERE phone_hash = HMAC(+8613812345678)
    User.objects.filter(Q(volunteer_profile__phone=p)) # across relations too

Any other lookup on an encrypted field (contains, startswith, in, ordering by a prefix …) is
refused with a FieldError: ciphertext cannot be compared. A field without a blind index can only
be tested for "" and NULL.

`save(update_fields=[…])` naming an encrypted field but not its index writes the index right
after (name it too to save that query). `QuerySet.update(phone=…)` cannot see the rows: it must
set the index itself, `qs.update(**with_blind_indexes(Model, phone=value))`.

`encrypt_columns()` is the data migration that converts existing plaintext rows (and back).
"""

from contextlib import contextmanager

from django.core.exceptions import FieldError
from django.core.validators import MaxLengthValidator
from django.db import migrations, models
from django.db.models import Q
from django.db.models.expressions import Col
from django.db.models.lookups import Exact, IsNull
from django.db.models.signals import post_save
from django.utils.functional import cached_property

from . import crypto

# A hash no value has: what an exact search for a value that normalises to nothing compares with.
_NO_MATCH = "-"


class EncryptedExact(Exact):
    """`field = value` on an encrypted field: `""` compares the column itself, any other value
    compares the blind index with the value's keyed hash."""

    prepare_rhs = False

    def get_prep_lookup(self):
        rhs = self.rhs
        if rhs is None:
            return None  # the ORM turns `= None` into IS NULL
        if hasattr(rhs, "resolve_expression"):
            raise FieldError(
                f"{self.lhs.output_field}: an encrypted field can only be compared with a value"
            )
        return rhs if isinstance(rhs, str) else str(rhs)

    def as_sql(self, compiler, connection):
        if self.rhs == "":
            lhs_sql, params = self.process_lhs(compiler, connection)
            return f"{lhs_sql} = %s", [*params, ""]
        field = self.lhs.output_field
        index = field.blind_index_field if isinstance(field, EncryptedTextField) else None
        if index is None or not isinstance(self.lhs, Col):
            raise FieldError(
                f"{field} is encrypted without a blind index: it cannot be searched by value"
            )
        sql, params = compiler.compile(index.get_col(self.lhs.alias))
        return f"{sql} = %s", [*params, index.search_hash(self.rhs) or _NO_MATCH]


class EncryptedTextField(models.TextField):
    """Text kept encrypted with SM4 (crypto.encrypt); `max_length` limits the plaintext."""

    description = "Text encrypted with SM4-GCM"

    @cached_property
    def validators(self):
        extra = [MaxLengthValidator(self.max_length)] if self.max_length else []
        return [*super().validators, *extra]

    def formfield(self, **kwargs):
        # A one-line input like the CharField it replaces, not a textarea.
        return models.Field.formfield(self, **{"max_length": self.max_length, **kwargs})

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)

    @property
    def blind_index_field(self) -> "BlindIndexField | None":
        if not hasattr(self, "_blind_index"):
            self._blind_index = next(
                (
                    f
                    for f in self.model._meta.concrete_fields
                    if isinstance(f, BlindIndexField) and f.source == self.name
                ),
                None,
            )
        return self._blind_index

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return EncryptedExact
        if lookup_name == "isnull":
            return IsNull
        raise FieldError(
            f"Unsupported lookup {lookup_name!r} on the encrypted field {self}: only exact "
            "values (through its blind index) and isnull can be searched"
        )

    def get_transform(self, lookup_name):
        return None


class BlindIndexField(models.CharField):
    """The keyed hash of another field's value (or of a function of the row), for exact search.

    `source` is the encrypted field's name, or a function of the instance returning the text to
    index (then `depends` names the fields it reads); `purpose` picks the normaliser and keeps
    the indexes of different kinds of value apart ("phone", "id_number", …)."""

    description = "Keyed hash (HMAC-SM3) for exact search"

    def __init__(self, *args, source, purpose, depends=(), **kwargs):
        self.source = source
        self.purpose = purpose
        self.depends = tuple(depends) or ((source,) if isinstance(source, str) else ())
        if not self.depends:
            raise ValueError("BlindIndexField(source=<function>) needs depends=(field names)")
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        # Spelled out: this field's defaults are not Field's, so a clone must not fall back.
        kwargs.update(
            blank=self.blank,
            default=self.default,
            editable=self.editable,
            db_index=self.db_index,
            source=self.source,
            purpose=self.purpose,
        )
        if self.depends != (self.source,):
            kwargs["depends"] = self.depends
        return name, path, args, kwargs

    def source_value(self, instance) -> str:
        if isinstance(self.source, str):
            return getattr(instance, self.source)
        return self.source(instance)

    def compute(self, instance) -> str:
        return crypto.blind_index(self.purpose, self.source_value(instance))

    def search_hash(self, value) -> str:
        return crypto.blind_index(self.purpose, value)

    def pre_save(self, model_instance, add):
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        # Historical models (migrations) are rebuilt often and never saved by callers.
        if not cls._meta.abstract and cls.__module__ != "__fake__":
            post_save.connect(
                self._after_partial_save,
                sender=cls,
                weak=False,
                dispatch_uid=f"blind-index:{cls._meta.label}.{name}",
            )

    def _after_partial_save(
        self, sender, instance, raw=False, using=None, update_fields=None, **kwargs
    ):
        """`save(update_fields=[…])` naming a source but not this index: the index is written
        right after (one more UPDATE; naming it in update_fields saves that query)."""
        if raw or update_fields is None:
            return
        if self.name in update_fields or self.attname in update_fields:
            return
        if any(f in update_fields for f in self.depends):
            value = self.compute(instance)
            setattr(instance, self.attname, value)
            sender._base_manager.using(using).filter(pk=instance.pk).update(**{self.attname: value})


# --- helpers for callers ---------------------------------------------------------------------


def _encrypted_field(model, path: str) -> tuple[str, EncryptedTextField]:
    """Follow `a__b__phone` from `model` to the encrypted field; returns ("a__b__", field)."""
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    field = model._meta.get_field(name)
    if not isinstance(field, EncryptedTextField):
        raise FieldError(f"{model.__name__}.{name} is not an encrypted field")
    return "".join(f"{r}__" for r in relations), field


def blind_lookup(model, path: str, value) -> dict:
    """Filter keyword arguments finding `value` exactly in the encrypted field at `path`
    (`Party.objects.filter(**blind_lookup(Party, "phone", "138…"))`). An empty value finds
    nothing (never every row without a phone)."""
    prefix, field = _encrypted_field(model, path)
    index = field.blind_index_field
    if index is None:
        raise FieldError(f"{field} has no blind index: it cannot be searched by value")
    digest = index.search_hash(value)
    if not digest:
        return {"pk__in": []}
    return {f"{prefix}{index.name}": digest}


def blind_q(model, path: str, value) -> Q:
    return Q(**blind_lookup(model, path, value))


def with_blind_indexes(model, **values) -> dict:
    """Keyword arguments for `QuerySet.update()` that set each encrypted field's index too."""
    out = dict(values)
    for name, value in values.items():
        field = model._meta.get_field(name)
        index = field.blind_index_field if isinstance(field, EncryptedTextField) else None
        if index is not None:
            if not isinstance(index.source, str):
                raise FieldError(f"{index} is computed from several fields: save the rows")
            out[index.name] = index.search_hash(value)
    return out


def encrypted_models():
    """(model, encrypted fields, blind index fields) for every installed model that has any."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        encrypted = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        indexes = [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]
        if encrypted or indexes:
            found.append((model, encrypted, indexes))
    return found


# --- data migrations -------------------------------------------------------------------------


@contextmanager
def immediate_constraints(connection):
    """PostgreSQL: foreign keys checked per statement while converting. Django's are deferred,
    and updated rows would leave trigger events pending until commit, so a later ALTER TABLE in
    the same migration (the schema steps of a backward run) would be refused."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def keyset_batches(connection, select: str, pk: str, batch: int, *, where: str = "", params=()):
    """The rows of `select` (a SELECT … FROM without WHERE) matching `where`, in primary-key
    order, a batch at a time; each batch starts after the last key of the one before (no
    OFFSET: as cheap at the millionth row as at the first). `pk` is the quoted column, and the
    first selected column."""
    last = None
    while True:
        conditions = [c for c in (where, f"{pk} > %s" if last is not None else "") if c]
        clause = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        args = [*params, last] if last is not None else list(params)
        with connection.cursor() as cursor:
            cursor.execute(f"{select}{clause} ORDER BY {pk} LIMIT {int(batch)}", args)
            rows = cursor.fetchall()
        if not rows:
            return
        last = rows[-1][0]
        yield rows


def convert_rows(connection, table: str, pk: str, columns: dict, *, forward: bool, batch=500):
    """Encrypt (forward) or decrypt (backward) the plaintext of existing rows, in batches by
    primary key, with raw SQL (historical models would decrypt on read). `columns` maps each
    encrypted column to its (index column, purpose), or to None when it has no index. Already
    converted values are left alone, so a re-run finishes what an interrupted one began.
    Returns the number of rows changed."""
    qn = connection.ops.quote_name
    names = list(columns)
    # Rows with nothing to convert (every column empty) are not even read.
    some = " OR ".join(f"{qn(c)} <> ''" for c in names)
    select = f"SELECT {qn(pk)}, {', '.join(qn(c) for c in names)} FROM {qn(table)}"
    targets = []
    for column, index in columns.items():
        targets.append(column)
        if index and forward:
            targets.append(index[0])
    update = (
        f"UPDATE {qn(table)} SET {', '.join(f'{qn(c)} = %s' for c in targets)} WHERE {qn(pk)} = %s"
    )
    changed = 0
    for rows in keyset_batches(connection, select, qn(pk), batch, where=f"({some})"):
        updates = []
        for row in rows:
            params, dirty = [], False
            for value, index in zip(row[1:], columns.values(), strict=True):
                if not forward:
                    if crypto.is_ciphertext(value):
                        value, dirty = crypto.decrypt(value), True
                    params.append(value)
                    continue
                if crypto.is_ciphertext(value):
                    plain = crypto.decrypt(value)
                elif value:
                    plain, value, dirty = value, crypto.encrypt(value), True
                else:
                    plain = ""
                params.append(value)
                if index:
                    params.append(crypto.blind_index(index[1], plain))
                    dirty = True
            if dirty:
                updates.append([*params, row[0]])
        if updates:
            with connection.cursor() as cursor:
                cursor.executemany(update, updates)
            changed += len(updates)
    return changed


def encrypt_columns(app_label: str, model_name: str, columns: dict, *, batch=500):
    """A migration operation running `convert_rows` forward, and backward to plaintext."""

    def run(forward):
        def step(apps, schema_editor):
            model = apps.get_model(app_label, model_name)
            with immediate_constraints(schema_editor.connection):
                convert_rows(
                    schema_editor.connection,
                    model._meta.db_table,
                    model._meta.pk.column,
                    columns,
                    forward=forward,
                    batch=batch,
                )

        return step

    return migrations.RunPython(run(True), run(False), elidable=False)


__all__ = [
    "BlindIndexField",
    "EncryptedTextField",
    "blind_lookup",
    "blind_q",
    "convert_rows",
    "encrypt_columns",
    "encrypted_models",
    "with_blind_indexes",
]
