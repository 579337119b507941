"""Bulk inserts for batch runs: COPY on PostgreSQL, ``bulk_create`` elsewhere.

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
    fields = [f for f in model._meta.concrete_fields if not f.primary_key or not
              isinstance(f, models.AutoField | models.BigAutoField)]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {table} ({columns}) FROM STDIN") as copy:
        for obj in objects:
            copy.write_row([_database_value(field, obj) for field in fields])


def _database_value(field: models.Field, obj: models.Model):
    value = field.pre_save(obj, add=True)
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        # COPY takes the JSON text; the encoder is the field's own, as bulk_create would use.
        return json.dumps(value, cls=field.encoder)
    return field.get_db_prep_save(value, connection)
