"""Writes whose results nobody reads, sent to the database together at the end of a step.

On this path every statement costs a round trip to the database, and on a small server the
wait for the answer costs more than the statement (half a millisecond each). The last writes of
a real-time upsert - its link, its own row, its event - return nothing the upsert needs, so
inside ``writes_sent_together()`` they queue (``write``) and go out together when the block
ends: as one psycopg pipeline on PostgreSQL (one round trip), one after the other elsewhere.
Still inside the caller's transaction: they commit or roll back with it, and an error in any of
them is raised as Django's database error at the end of the block, before the commit.

Only writes that no later statement of the block reads may be queued: new links, events, the
row of the record being written.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection

# The queue of the block in progress on this thread's connection, or None outside any block.
_QUEUE = "hub_write_behind"


def writes_queued() -> bool:
    """Whether a ``writes_sent_together`` block is open (writes wait for its end)."""
    return getattr(connection, _QUEUE, None) is not None


def write(sql: str, params: Sequence) -> None:
    """Run one statement whose result is not read: now, or at the end of the open block."""
    queue = getattr(connection, _QUEUE, None)
    if queue is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    else:
        queue.append((sql, params))


@contextmanager
def writes_sent_together() -> Iterator[None]:
    """Queue the ``write`` calls made inside the block and send them when it ends.

    A nested block joins the outer one. When the block raises, the queued writes are dropped:
    the transaction they belong to is being rolled back.
    """
    if getattr(connection, _QUEUE, None) is not None:
        yield
        return
    queue: list[tuple[str, Sequence]] = []
    setattr(connection, _QUEUE, queue)
    try:
        yield
    finally:
        setattr(connection, _QUEUE, None)
    _send(queue)


def _send(queue: list[tuple[str, Sequence]]) -> None:
    if not queue:
        return
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or len(queue) == 1:
            for sql, params in queue:
                cursor.execute(sql, params)
            return
        # In a pipeline each execute only sends its statement; leaving the pipeline waits for
        # all the answers at once. Errors surface there, outside Django's cursor, so they are
        # translated to Django's exceptions here as the cursor would translate them.
        with connection.wrap_database_errors, connection.connection.pipeline():
            for sql, params in queue:
                cursor.execute(sql, params)
