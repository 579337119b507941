"""Throwaway PostgreSQL databases for tests: skipped where there is no server, but never where
the suite runs on PostgreSQL (``DATABASE_URL``, as CI sets it), because a skip there would hide
exactly what CI is meant to prove."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

_POSTGRES_SCHEMES = ("postgres://", "postgresql://")
_LOCAL = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def postgres_required(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the suite runs on PostgreSQL, so PostgreSQL tests must run, not skip."""
    return environ.get("DATABASE_URL", "").startswith(_POSTGRES_SCHEMES)


def admin_dsn(environ: Mapping[str, str] = os.environ) -> str:
    """``CONNECTORS_TEST_ADMIN_DSN``, else the server of a PostgreSQL ``DATABASE_URL``, else
    the local default; always on the ``postgres`` maintenance database."""
    if environ.get("CONNECTORS_TEST_ADMIN_DSN"):
        return environ["CONNECTORS_TEST_ADMIN_DSN"]
    if postgres_required(environ):
        return make_conninfo(environ["DATABASE_URL"], dbname="postgres")
    return _LOCAL


def admin_connection(dsn: str | None = None,
                     environ: Mapping[str, str] = os.environ) -> psycopg.Connection:
    """An autocommit connection able to create databases; skip, or fail, without a server."""
    dsn = dsn or admin_dsn(environ)
    try:
        return psycopg.connect(make_conninfo(dsn, connect_timeout=3), autocommit=True)
    except psycopg.OperationalError as exc:
        where = conninfo_to_dict(dsn).get("host", "?")  # not the DSN: it may hold a password
        reason = f"PostgreSQL is not reachable on {where}: {type(exc).__name__}"
        if postgres_required(environ):
            pytest.fail(f"{reason}; DATABASE_URL is PostgreSQL, so this test must run",
                        pytrace=False)
        pytest.skip(reason)


@contextmanager
def throwaway_database(prefix: str) -> Iterator[tuple[psycopg.Connection, str, str]]:
    """A new, empty database: ``(admin connection, name, DSN)``; dropped afterwards."""
    admin = admin_connection()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield admin, name, make_conninfo(admin_dsn(), dbname=name)
    finally:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        admin.close()
