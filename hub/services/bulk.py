"""Writes prepared as Django prepares them, without the ORM's per-call cost: bulk inserts for
batch runs (COPY on PostgreSQL, ``bulk_create`` elsewhere) and, for the real-time path, single
rows inserted or updated by one plain statement each.

A batch match writes hundreds of thousands of links and events. Django's ``bulk_create`` on
PostgreSQL sends each batch as arrays that psycopg escapes value by value in Python (most of a
200,000-record run went there); COPY streams the rows through psycopg's C writer instead. Rows
are prepared exactly as ``bulk_create`` would prepare them (field defaults, ``auto_now_add``,
the database form of each value), and written inside the caller's transaction.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence

from django.db import connection, models

from hub.services.write_behind import write, writes_queued

_BATCH = 2000


def bulk_insert(model: type[models.Model], objects: Sequence[models.Model]) -> None:
    """Insert unsaved ``objects`` of ``model`` in bulk; their primary keys are not read back."""
    if not objects:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=_BATCH)
        return
    fields = insert_fields(model)
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {_table(model)} ({_columns(fields)}) FROM STDIN") as copy:
        for obj in objects:
            copy.write_row(row_values(fields, obj))


def insert_fields(model: type[models.Model]) -> list[models.Field]:
    """The columns an insert writes: every concrete field but an automatic primary key."""
    return [f for f in model._meta.concrete_fields if not f.primary_key or not
            isinstance(f, models.AutoField | models.BigAutoField)]


def row_values(fields: list[models.Field], obj: models.Model) -> list:
    """The database values of one unsaved object, prepared as ``save`` would prepare them
    (defaults, ``auto_now_add``); JSON as its text, which COPY and a parameter both take."""
    return [_reader(field)(obj) for field in fields]


# Fields whose database value is the attribute itself when it already has this type: Django's
# preparation (``pre_save``, ``get_db_prep_save``) would return it unchanged, at a few
# microseconds a value, which a batch run's million values notice.
_PLAIN_TYPES: dict[type[models.Field], type] = {
    models.CharField: str, models.TextField: str, models.BooleanField: bool,
    models.FloatField: float, models.IntegerField: int, models.BigIntegerField: int,
    models.SmallIntegerField: int, models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int, models.PositiveBigIntegerField: int,
    models.AutoField: int, models.BigAutoField: int,
}


@functools.cache
def _reader(field: models.Field):
    """How to read one field's database value off an object (see ``_PLAIN_TYPES``)."""
    column = field.target_field if isinstance(field, models.ForeignKey) else field
    plain = _PLAIN_TYPES.get(type(column))
    if plain is None or type(field).pre_save is not models.Field.pre_save:
        return lambda obj: _database_value(field, obj)
    attname = field.attname

    def read(obj: models.Model):
        value = getattr(obj, attname)
        if value is None or type(value) is plain:
            return value
        return _database_value(field, obj)  # a choices member, a lazy string ...

    return read


def insert_returning_id(obj: models.Model, *, conflict: tuple[str, ...] = ()) -> int | None:
    """INSERT one unsaved object (unless a row with the same ``conflict`` columns exists);
    its new id, or None when nothing was inserted (one statement either way). The id is also
    set on the object, which then counts as saved.

    The ORM builds and compiles its INSERT anew on every ``create`` (about half a millisecond
    for these models); on the real-time path that costs more than the statement itself.
    """
    model = type(obj)
    fields = insert_fields(model)
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(model, conflict), row_values(fields, obj))
        row = cursor.fetchone()
    if row is None:
        return None
    obj.pk = row[0]
    obj._state.adding = False
    return obj.pk


def insert_row(obj: models.Model) -> None:
    """INSERT one unsaved object (a link, an event) in one plain statement. Inside a
    ``hub.services.write_behind.writes_sent_together`` block it is queued with the block's
    other last writes and keeps no id; otherwise it runs at once and its id is set."""
    if writes_queued():
        write(_insert_sql(type(obj), (), returning=False),
              row_values(insert_fields(type(obj)), obj))
    else:
        insert_returning_id(obj)


def update_columns(obj: models.Model, names: tuple[str, ...]) -> None:
    """UPDATE the named fields of a saved object, as ``save(update_fields=names)`` would
    (``auto_now`` fields among them take the current time), in one plain statement sent
    through ``hub.services.write_behind.write``."""
    model = type(obj)
    fields = [model._meta.get_field(name) for name in names]
    values = [_database_value(field, obj, add=False) for field in fields]
    write(_update_sql(model, names), [*values, obj.pk])


@functools.cache
def _insert_sql(model: type[models.Model], conflict: tuple[str, ...],
                returning: bool = True) -> str:
    fields = insert_fields(model)
    sql = (f"INSERT INTO {_table(model)} ({_columns(fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    if conflict:
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    if not returning:
        return sql
    return f"{sql} RETURNING {connection.ops.quote_name(model._meta.pk.column)}"


@functools.cache
def _update_sql(model: type[models.Model], names: tuple[str, ...]) -> str:
    columns = ", ".join(f"{connection.ops.quote_name(model._meta.get_field(name).column)} = %s"
                        for name in names)
    return (f"UPDATE {_table(model)} SET {columns} "
            f"WHERE {connection.ops.quote_name(model._meta.pk.column)} = %s")


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _columns(fields: list[models.Field]) -> str:
    return ", ".join(connection.ops.quote_name(f.column) for f in fields)


def _database_value(field: models.Field, obj: models.Model, *, add: bool = True):
    value = field.pre_save(obj, add=add)
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json.dumps(value, cls=field.encoder)  # the field's own encoder, as save uses
    return field.get_db_prep_save(value, connection)
