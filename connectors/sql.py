"""The SQL connector: PostgreSQL through psycopg 3, or a SQLite file through the stdlib.

Every value travels as a query parameter and every configured name (table, columns) is quoted as
an identifier, so no setting can inject SQL. Reads and erasures use separate connections from
separate DSNs: the read role should hold only SELECT, and the read connection is also opened
read-only (a read-only session on PostgreSQL, ``mode=ro`` on SQLite), so a sync can never write.
An erase through a connection that may not write comes back as an error result, never as a
success. What differs between the two databases lives in ``connectors.sql_dialects``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from connectors.base import (
    Change,
    ChangePage,
    ConfigurationError,
    Connector,
    ConnectorError,
    EraseResult,
    FetchResult,
    HealthResult,
    Setting,
)
from connectors.registry import register
from connectors.sql_dialects import KEY_PLACEHOLDER, dialect_name, make_dialect

ConnectionFactory = Callable[[str], Any]
_PLACEHOLDER = KEY_PLACEHOLDER


def _plain(value: Any) -> Any:
    """A JSON-ready value, so callers get plain data whatever the column type."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, memoryview | bytes):
        return bytes(value).hex()
    return value


@register("sql")
class SqlConnector(Connector):
    """A PostgreSQL or SQLite system of record, read through one DSN and erased through another.

    The dialect follows the read DSN: ``sqlite:///path`` is a SQLite file, anything else a
    PostgreSQL conninfo or URL. ``erase_statement`` is written with ``%(key)s`` for both.
    """

    capabilities = frozenset({"fetch", "list_changes", "export", "erase", "health"})
    settings_schema = (
        Setting("dsn_env", required=True, secret=True,
                help="environment variable holding the read DSN: a PostgreSQL conninfo or URL, "
                     "or sqlite:///path (opened read-only)"),
        Setting("erase_dsn_env", secret=True,
                help="environment variable holding the DSN of the role allowed to erase"),
        Setting("table", required=True, help="table or view, optionally schema-qualified"),
        Setting("key_column", required=True),
        Setting("updated_at_column", help="required to list changes"),
        Setting("version_column", help="integer row version"),
        Setting("deleted_column", help="boolean soft-delete flag"),
        Setting("erase_statement",
                help="parameterised DELETE (delete) or UPDATE (anonymise) using %(key)s; "
                     "for delete, the default removes the row by key"),
        Setting("page_size", type=int, default=500),
        Setting("statement_timeout_ms", type=int, default=10000),
    )

    def __init__(self, settings: Mapping[str, Any], *, environ: Mapping[str, str] | None = None,
                 connection_factory: ConnectionFactory | None = None):
        super().__init__(settings, environ=environ)
        self.read_dsn = self.secret("dsn_env")
        self.erase_dsn = self.secret("erase_dsn_env")
        if self.erase_dsn and dialect_name(self.erase_dsn) != dialect_name(self.read_dsn):
            raise ConfigurationError(
                [("erase_dsn_env", "names a different kind of database than dsn_env")])
        s = self.settings
        # ``connection_factory`` takes a PostgreSQL conninfo, or a SQLite ``file:`` URI.
        self.dialect = make_dialect(self.read_dsn, timeout_ms=s["statement_timeout_ms"],
                                    factory=connection_factory)
        for dsn in (self.read_dsn, self.erase_dsn):
            if dsn:
                self.dialect.check_dsn(dsn)  # a malformed DSN is a set-up error, not a sync one
        self.table = self.dialect.identifier(*s["table"].split("."))
        self.key = self.dialect.identifier(s["key_column"])

    @classmethod
    def _check_combination(cls, settings):
        problems = []
        if settings["page_size"] < 1:
            problems.append(("page_size", "must be at least 1"))
        if settings["table"].count(".") > 1 or "" in settings["table"].split("."):
            problems.append(("table", "expected 'table' or 'schema.table'"))
        policy, statement = settings["erase_policy"], settings["erase_statement"]
        if policy != "retain" and not settings["erase_dsn_env"]:
            problems.append(("erase_dsn_env", f"required when erase_policy is {policy}"))
        if policy == "anonymise" and not statement:
            problems.append(("erase_statement", "an UPDATE is required to anonymise"))
        if statement:
            verb = {"delete": "DELETE", "anonymise": "UPDATE"}.get(policy)
            if verb and not statement.lstrip().upper().startswith(verb):
                problems.append(("erase_statement", f"must be a {verb} for erase_policy {policy}"))
            if _PLACEHOLDER not in statement:
                problems.append(("erase_statement", f"must use the parameter {_PLACEHOLDER}"))
            if ";" in statement.rstrip().rstrip(";"):
                problems.append(("erase_statement", "must be a single statement"))
            if re.search(r"%\((?!key\))", statement):
                problems.append(("erase_statement", f"{_PLACEHOLDER} is the only parameter"))
        return problems

    # -- connections ----------------------------------------------------------------------------

    def _read_connection(self) -> Any:
        """A read-only connection (for checks; the operations use ``dialect.reading``)."""
        return self.dialect.connect(self.read_dsn, read_only=True)

    def _select(self, columns: Any) -> Any:
        return self.dialect.sql("SELECT {} FROM {}").format(columns, self.table)

    # -- reads ----------------------------------------------------------------------------------

    def _fetch_rows(self, keys: Sequence[str]) -> list[FetchResult]:
        sql = self.dialect.sql
        query = self._select(sql("*")) + sql(" WHERE {} = {}").format(self.key, self.dialect.param)
        try:
            with self.dialect.reading(self.read_dsn) as cur:
                results = []
                for key in keys:
                    # One indexed lookup per key; key lists are short (one golden ID's records)
                    # and this keeps the key column's own type instead of casting to text.
                    cur.execute(query, [str(key)])
                    row = cur.fetchone()
                    if row is None:
                        results.append(FetchResult(str(key), "not_found"))
                    else:
                        record = {name: _plain(value) for name, value in row.items()}
                        results.append(FetchResult(str(key), "ok", record=record))
                return results
        except self.dialect.errors as exc:
            status = "timeout" if self.dialect.is_timeout(exc) else "error"
            code = self.dialect.error_code(exc)
            return [FetchResult(str(key), status, error=code) for key in keys]

    def fetch_many(self, keys: Sequence[str]) -> list[FetchResult]:
        """The whole row for each key (``SELECT *``), one result per key in order."""
        return self._fetch_rows(keys) if keys else []

    def export(self, key: str) -> FetchResult:
        """The whole row for one key, for a data-subject access request."""
        return self._fetch_rows([key])[0]

    def list_changes(self, since_cursor: str | None = None) -> Iterator[ChangePage]:
        """Keyset pages ordered by (updated-at, key), from after ``since_cursor``.

        The cursor is the last row's (updated-at, key) as JSON, so resuming never skips a row
        that shares an updated-at with the previous page's last one.
        """
        s = self.settings
        if not s["updated_at_column"]:
            raise ConnectorError("list_changes needs updated_at_column",
                                 code="configuration error")
        sql, param, identifier = self.dialect.sql, self.dialect.param, self.dialect.identifier
        updated = identifier(s["updated_at_column"])
        names = [s["key_column"], s["updated_at_column"]]
        names += [name for name in (s["version_column"], s["deleted_column"]) if name]
        names += [name for name in self.mapping.source_fields() if name not in names]
        columns = sql(", ").join(identifier(name) for name in names)
        position = self._decode_cursor(since_cursor)
        try:
            with self.dialect.reading(self.read_dsn) as cur:
                while True:
                    query = self._select(columns)
                    params: list[Any] = []
                    if position is not None and position[1] is None:
                        # A key-less position (an erased key was taken out of the cursor):
                        # every row of that updated-at again, so that none is skipped.
                        query += sql(" WHERE {} >= {}").format(updated, param)
                        params.append(position[0])
                    elif position is not None:
                        query += sql(" WHERE ({}, {}) > ({}, {})").format(
                            updated, self.key, param, param)
                        params += position
                    query += sql(" ORDER BY {}, {} LIMIT {}").format(updated, self.key, param)
                    cur.execute(query, [*params, s["page_size"]])
                    rows = cur.fetchall()
                    if not rows:
                        return
                    last = rows[-1]
                    position = [last[s["updated_at_column"]], last[s["key_column"]]]
                    yield ChangePage([self._change(row) for row in rows],
                                     self._encode_cursor(position))
                    if len(rows) < s["page_size"]:
                        return
        except self.dialect.errors as exc:
            code = self.dialect.error_code(exc)
            raise ConnectorError(f"list changes from {s['table']}: {code}", code=code) from None

    def _change(self, row: Mapping[str, Any]) -> Change:
        s = self.settings
        version = row[s["version_column"]] if s["version_column"] else None
        return Change(
            key=str(row[s["key_column"]]),
            attributes=self.mapping.apply(row),
            version=None if version is None else int(version),
            updated_at=row[s["updated_at_column"]],
            deleted=bool(row[s["deleted_column"]]) if s["deleted_column"] else False,
        )

    @staticmethod
    def _encode_cursor(position: list[Any]) -> str:
        updated_at, key = position
        kind = "datetime" if isinstance(updated_at, datetime) else "value"
        return json.dumps([kind, _plain(updated_at), _plain(key)])

    @staticmethod
    def _decode_cursor(cursor: str | None) -> list[Any] | None:
        if cursor is None:
            return None
        try:
            kind, updated_at, key = json.loads(cursor)
            if kind == "datetime":
                updated_at = datetime.fromisoformat(updated_at)
        except (TypeError, ValueError):
            raise ConnectorError("unreadable cursor for this SQL source",
                                 code="unreadable cursor") from None
        return [updated_at, key]

    @classmethod
    def cursor_forget(cls, settings: Mapping[str, Any], cursor: str,
                      keys: Collection[str]) -> str:
        """A cursor ending on an erased key becomes the key-less position of its updated-at.

        Listing then resumes with every row of that updated-at (see ``list_changes``): the
        rows read before are replays, which change nothing, and none is skipped.
        """
        try:
            kind, updated_at, key = json.loads(cursor)
        except (TypeError, ValueError):
            return super().cursor_forget(settings, cursor, keys)
        if key is None or str(key) not in {str(k) for k in keys}:
            return cursor
        return json.dumps([kind, updated_at, None])

    # -- erasure --------------------------------------------------------------------------------

    def erase(self, key: str) -> EraseResult:
        """Run the configured DELETE or UPDATE for one key through the erase connection.

        Zero rows for a record that exists is an error (a wrong statement or a role without
        rights must not pass for success); more than one row is rolled back as an error,
        because one key is one record and anything else means the statement is wrong.
        """
        self.refuse_retained_erasure()
        existing = self._fetch_rows([key])[0]
        if existing.status == "not_found":
            return EraseResult(key, "not_found")
        if existing.status != "ok":
            return EraseResult(key, "error", error=f"existence check: {existing.error}")
        statement = self.settings["erase_statement"]
        dialect = self.dialect
        query = dialect.erase_query(statement) if statement else (
            dialect.sql("DELETE FROM {} WHERE {} = ").format(self.table, self.key)
            + dialect.erase_query(_PLACEHOLDER))
        try:
            with dialect.erasing(self.erase_dsn) as cur:
                cur.execute(query, {"key": str(key)})
                rows = cur.rowcount
                if rows != 1:
                    raise _WrongRowCount(rows)  # leaving the block rolls the erase back
        except _WrongRowCount as exc:
            return EraseResult(key, "error", rows=0,
                               error=f"erase statement affected {exc.rows} rows; rolled back")
        except dialect.errors as exc:
            return EraseResult(key, "error", error=f"erase failed: {dialect.error_code(exc)}")
        outcome = "deleted" if self.erase_policy == "delete" else "anonymised"
        return EraseResult(key, outcome, rows=rows)

    def health(self) -> HealthResult:
        """``SELECT 1`` through the read connection."""
        started = datetime.now()
        try:
            with self.dialect.reading(self.read_dsn) as cur:
                cur.execute("SELECT 1")
        except self.dialect.errors as exc:
            return HealthResult(False, self.dialect.error_code(exc), _ms_since(started))
        return HealthResult(True, "ok", _ms_since(started))


class _WrongRowCount(Exception):
    """Raised inside the erase transaction so that leaving the block rolls it back."""

    def __init__(self, rows: int):
        super().__init__(rows)
        self.rows = rows


def _ms_since(started: datetime) -> float:
    return (datetime.now() - started).total_seconds() * 1000
