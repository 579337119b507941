"""The two databases the SQL connector speaks: PostgreSQL (psycopg 3) and SQLite (stdlib).

A dialect hides what differs between them: how a DSN is opened (and opened read-only), how
identifiers are quoted and parameters marked, how a statement timeout is enforced, and how a
driver error is turned into a code that carries no row values. The connector builds its queries
from ``dialect.sql`` (literal SQL), ``dialect.identifier`` (quoted names) and ``dialect.param``
(one positional parameter), which behave alike for both: ``.format``, ``.join`` and ``+``.

A DSN starting ``sqlite:///`` names a SQLite file: ``sqlite:///relative/path.sqlite3`` or
``sqlite:////absolute/path.sqlite3``, optionally with ``?mode=ro`` to forbid writes through it.
Anything else is a PostgreSQL conninfo string or URL.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from typing import Any
from urllib.parse import parse_qs, quote

import psycopg
from psycopg import sql as pg_sql
from psycopg.rows import dict_row

from connectors.base import ConfigurationError

SQLITE_PREFIX = "sqlite:///"
KEY_PLACEHOLDER = "%(key)s"


def dialect_name(dsn: str) -> str:
    """``"sqlite"`` for a ``sqlite:///`` DSN, otherwise ``"postgresql"``."""
    return "sqlite" if dsn.startswith(SQLITE_PREFIX) else "postgresql"


class PostgresDialect:
    """PostgreSQL through psycopg: identifiers composed by ``psycopg.sql``, a read-only session."""

    name = "postgresql"
    errors: tuple[type[Exception], ...] = (psycopg.Error,)
    sql = pg_sql.SQL
    param = pg_sql.SQL("%s")

    def __init__(self, timeout_ms: int, factory: Callable[[str], Any] | None = None):
        self.timeout_ms = timeout_ms
        self.factory = factory or psycopg.connect

    @staticmethod
    def identifier(*parts: str) -> pg_sql.Identifier:
        return pg_sql.Identifier(*parts)

    def check_dsn(self, dsn: str) -> None:
        """Nothing to check before connecting: libpq parses the conninfo."""

    def connect(self, dsn: str, *, read_only: bool) -> psycopg.Connection:
        """A connection with the statement timeout set, and a read-only session if asked."""
        conn = self.factory(dsn)
        try:
            if read_only:
                # Belt and braces next to a SELECT-only role: the session itself refuses writes.
                conn.read_only = True
            self._set_timeout(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _set_timeout(self, conn: psycopg.Connection) -> None:
        conn.execute("SELECT set_config('statement_timeout', %s, false)", [str(self.timeout_ms)])

    @contextmanager
    def reading(self, dsn: str) -> Iterator[Any]:
        """A cursor returning rows as dicts, on a read-only session closed afterwards."""
        with self.connect(dsn, read_only=True) as conn, conn.cursor(row_factory=dict_row) as cur:
            yield cur

    @contextmanager
    def erasing(self, dsn: str) -> Iterator[Any]:
        """A cursor inside one transaction; an exception leaving the block rolls it back."""
        with self.connect(dsn, read_only=False) as conn:
            with conn.transaction(), conn.cursor() as cur:
                yield cur

    def erase_query(self, statement: str) -> pg_sql.Composable:
        """The configured statement, as written (psycopg takes ``%(key)s`` itself)."""
        return pg_sql.SQL(statement)

    @staticmethod
    def is_timeout(exc: Exception) -> bool:
        return isinstance(exc, psycopg.errors.QueryCanceled)

    @staticmethod
    def error_code(exc: Exception) -> str:
        # Database messages can quote row values ("Key (email)=(...)"), so only the class and
        # SQLSTATE leave the connector.
        return f"{type(exc).__name__} (SQLSTATE {getattr(exc, 'sqlstate', None) or 'unknown'})"


class _SqliteIdentifier(str):
    """A double-quoted SQLite identifier; a str, so it composes with ``str.format``."""

    def __new__(cls, *parts: str):
        return super().__new__(cls, ".".join('"' + p.replace('"', '""') + '"' for p in parts))


class _TimedCursor:
    """A sqlite3 cursor whose every statement gets its own deadline (see SqliteDialect)."""

    def __init__(self, cursor: sqlite3.Cursor, deadline: list[float], timeout_s: float):
        self._cursor, self._deadline, self._timeout_s = cursor, deadline, timeout_s

    def execute(self, query: str, params: Any = ()) -> _TimedCursor:
        self._deadline[0] = time.monotonic() + self._timeout_s
        self._cursor.execute(query, params)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class SqliteDialect:
    """A SQLite file through the stdlib ``sqlite3``; reads open the file with ``mode=ro``.

    SQLite has no statement timeout, so a progress handler interrupts a statement that runs past
    its deadline (reported like PostgreSQL's cancelled query); lock waits use the same limit.
    """

    name = "sqlite"
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)
    sql = str
    param = "?"
    identifier = _SqliteIdentifier

    def __init__(self, timeout_ms: int, factory: Callable[[str], Any] | None = None):
        self.timeout_s = timeout_ms / 1000
        self.factory = factory or self._connect_uri

    def _connect_uri(self, uri: str) -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, timeout=self.timeout_s, isolation_level=None,
                               check_same_thread=False)

    @staticmethod
    def uri(dsn: str, *, read_only: bool) -> str:
        """The ``file:`` URI for a DSN: read-only for reads, read-write (never create) otherwise.

        ``mode=rw`` rather than the default ``rwc`` so a mistyped path is an error instead of a
        new empty database that silently has no customers.
        """
        path, _, query = dsn[len(SQLITE_PREFIX):].partition("?")
        if not path:
            raise ConfigurationError([("dsn_env", "a sqlite:/// DSN needs a file path")])
        mode = parse_qs(query).get("mode", ["rw"])[-1]
        if read_only or mode == "ro":
            mode = "ro"
        elif mode != "rw":
            raise ConfigurationError([("dsn_env", "sqlite DSNs accept only mode=ro or mode=rw")])
        return f"file:{quote(path)}?mode={mode}"

    def check_dsn(self, dsn: str) -> None:
        """ConfigurationError for a DSN without a path or with an unknown mode."""
        self.uri(dsn, read_only=False)

    def connect(self, dsn: str, *, read_only: bool) -> sqlite3.Connection:
        """A connection to the file (read-only if asked), rows as dicts."""
        return self._open(dsn, read_only=read_only)[0]

    def _open(self, dsn: str, *, read_only: bool) -> tuple[sqlite3.Connection, list[float]]:
        conn = self.factory(self.uri(dsn, read_only=read_only))
        deadline = [float("inf")]
        conn.set_progress_handler(lambda: time.monotonic() > deadline[0], 1000)
        conn.row_factory = lambda cur, row: {d[0]: v for d, v in zip(cur.description, row,
                                                                     strict=True)}
        return conn, deadline

    @contextmanager
    def reading(self, dsn: str) -> Iterator[_TimedCursor]:
        """A cursor returning rows as dicts, on a read-only connection closed afterwards."""
        conn, deadline = self._open(dsn, read_only=True)
        with closing(conn):
            yield _TimedCursor(conn.cursor(), deadline, self.timeout_s)

    @contextmanager
    def erasing(self, dsn: str) -> Iterator[_TimedCursor]:
        """A cursor inside ``BEGIN IMMEDIATE``; an exception leaving the block rolls it back."""
        conn, deadline = self._open(dsn, read_only=False)
        with closing(conn):
            cursor = _TimedCursor(conn.cursor(), deadline, self.timeout_s)
            cursor.execute("BEGIN IMMEDIATE")  # take the write lock now, not half-way through
            try:
                yield cursor
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def erase_query(self, statement: str) -> str:
        """The configured statement with ``%(key)s`` as sqlite3's named ``:key``."""
        return statement.replace(KEY_PLACEHOLDER, ":key").replace("%%", "%")

    @staticmethod
    def is_timeout(exc: Exception) -> bool:
        return getattr(exc, "sqlite_errorname", "") == "SQLITE_INTERRUPT"

    @staticmethod
    def error_code(exc: Exception) -> str:
        # As for PostgreSQL: the class and the result code, never the message.
        return f"{type(exc).__name__} ({getattr(exc, 'sqlite_errorname', None) or 'unknown'})"


def make_dialect(dsn: str, *, timeout_ms: int, factory: Callable[[str], Any] | None = None):
    """The dialect for ``dsn``; ``factory`` opens a connection (conninfo or ``file:`` URI)."""
    cls = SqliteDialect if dialect_name(dsn) == "sqlite" else PostgresDialect
    return cls(timeout_ms, factory)
