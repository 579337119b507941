"""Writes whose results nobody reads, sent to the database together at the end of a step.

On this path every statement costs a round trip to the database, and on a small server the
wait for the answer costs more than the statement (half a millisecond each). The last writes of
a real-time upsert - its link, its own row, its event - return nothing the upsert needs, so
inside ``writes_sent_together()`` they queue (``write``) and go out together when the block
ends: as one psycopg pipeline on PostgreSQL (one round trip), one after the other elsewhere.
Still inside the caller's transaction: they commit or roll back with it, and an error in any of
them is raised as Django's database error at the end of the block, before the commit.

Only writes that no later statement of the block reads may be queued (new links, events, the
row of the record being written), or writes whose readers go through ``read``: it sends the
queued writes first and its own statements behind them in the same round trip (the record's
blocking keys, then the candidate lookup and the term-frequency counts that read them). The
first ``read`` of a transaction also carries psycopg's BEGIN, which would otherwise wait for an
answer of its own.
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


def read(statements: Sequence[tuple[str, Sequence]]) -> list[list[tuple]]:
    """Run the read statements after the queued writes, in one round trip on PostgreSQL;
    returns each statement's rows.

    The queued writes leave the queue (they are sent now, still inside the transaction), so
    the statements see them.
    """
    queue = getattr(connection, _QUEUE, None) or []
    writes = list(queue)
    queue.clear()
    if (not statements or connection.vendor != "postgresql"
            or not _worth_a_pipeline(len(writes) + len(statements))):
        _send(writes)
        return [_rows(sql, params) for sql, params in statements]
    cursors = [connection.cursor() for _ in statements]
    try:
        with connection.wrap_database_errors, connection.connection.pipeline():
            _execute_all(cursors[0], writes)
            for cursor, (sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params)
        return [cursor.fetchall() for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()


def _worth_a_pipeline(statements: int) -> bool:
    # One statement gains nothing from a pipeline, unless it opens a transaction: then the
    # BEGIN psycopg sends first goes with it instead of waiting for its own answer.
    if statements > 1:
        return True
    from psycopg.pq import TransactionStatus

    connection.ensure_connection()
    raw = connection.connection
    return not raw.autocommit and raw.info.transaction_status == TransactionStatus.IDLE


def _rows(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _execute_all(cursor, statements: Sequence[tuple[str, Sequence]]) -> None:
    for sql, params in statements:
        cursor.execute(sql, params)


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
            _execute_all(cursor, queue)
            return
        # In a pipeline each execute only sends its statement; leaving the pipeline waits for
        # all the answers at once. Errors surface there, outside Django's cursor, so they are
        # translated to Django's exceptions here as the cursor would translate them.
        with connection.wrap_database_errors, connection.connection.pipeline():
            _execute_all(cursor, queue)
