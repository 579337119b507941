"""Inserts prepared as Django prepares them, without the ORM's per-call cost: bulk inserts for
batch runs (COPY on PostgreSQL, ``bulk_create`` elsewhere) and a one-statement insert-unless-
present for the real-time path.

A batch match writes hundreds of thousands of links and events. Django's ``bulk_create`` on
PostgreSQL sends each batch as arrays that psycopg escapes value by value in Python (most of a
200,000-record run went there); COPY streams the rows through psycopg's C writer instead. Rows
are prepared exactly as ``bulk_create`` would prepare them (field defaults, ``auto_now_add``,
the database form of each value), and written inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection, models

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
    return [_database_value(field, obj) for field in fields]


def insert_returning_id(obj: models.Model, *, conflict: tuple[str, ...]) -> int | None:
    """INSERT one unsaved object unless a row with the same ``conflict`` columns exists;
    its new id, or None when nothing was inserted (one statement either way)."""
    fields = insert_fields(type(obj))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(type(obj))} ({_columns(fields)}) VALUES "
            f"({', '.join(['%s'] * len(fields))}) ON CONFLICT ({', '.join(conflict)}) "
            "DO NOTHING RETURNING id", row_values(fields, obj))
        row = cursor.fetchone()
    return row[0] if row else None


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _columns(fields: list[models.Field]) -> str:
    return ", ".join(connection.ops.quote_name(f.column) for f in fields)


def _database_value(field: models.Field, obj: models.Model):
    value = field.pre_save(obj, add=True)
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json.dumps(value, cls=field.encoder)  # the field's own encoder, as save uses
    return field.get_db_prep_save(value, connection)
