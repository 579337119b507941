"""What the two REST demo systems share: a persisted record store, cursors, a tiny JSON server.

The store keeps one system's records in memory, by key, and rewrites its JSON file atomically
after every change, so an erasure survives a restart. Listing is keyset paging over
(updated-at, key) with an opaque cursor, which is how the hub's HTTP connector resumes a sync.
The server is ``http.server.ThreadingHTTPServer``: no dependency, one thread per request, and a
bearer token compared in constant time on every route but ``/health``.
"""

from __future__ import annotations

import base64
import copy
import hmac
import json
import os
import re
import socket
import tempfile
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

Reply = tuple[int, Any]
MAX_PAGE = 1000


class BadRequest(Exception):
    """The client sent something unusable; the message goes back as the error text."""


class TokenMissing(Exception):
    """The environment variable holding a demo system's token is not set."""


def read_token(variable: str, environ: Mapping[str, str]) -> str:
    """The token from ``variable`` (or a file named by ``variable_FILE``); never generated."""
    if environ.get(variable):
        return environ[variable]
    if environ.get(f"{variable}_FILE"):
        return Path(environ[f"{variable}_FILE"]).read_text().strip()
    raise TokenMissing(f"{variable} (or {variable}_FILE) is not set")


def encode_cursor(updated_at: str, key: str) -> str:
    """A cursor for the position after the record (updated_at, key): base64 of JSON.

    The hub's configuration declares this layout (``cursor_format: base64-json``), so that
    an erasure can hand back ``[updated_at, ""]``: the position before every record of that
    updated-at, which holds no key and skips nothing.
    """
    return base64.urlsafe_b64encode(json.dumps([updated_at, key]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The (updated_at, key) position in a cursor; BadRequest if it is not one of ours."""
    try:
        updated_at, key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(updated_at), str(key)
    except (ValueError, TypeError):
        raise BadRequest("invalid cursor") from None


def page_size(query: Mapping[str, str], name: str, default: int = 100) -> int:
    """The requested page size, 1..MAX_PAGE."""
    try:
        size = int(query.get(name, default))
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None
    if not 1 <= size <= MAX_PAGE:
        raise BadRequest(f"{name} must be between 1 and {MAX_PAGE}")
    return size


class RecordStore:
    """One system's records by key, persisted as ``{"records": [...]}`` in one JSON file."""

    def __init__(self, path: Path, *, key_field: str, updated_field: str):
        self.path, self.key_field, self.updated_field = Path(path), key_field, updated_field
        self.lock = threading.Lock()
        records = json.loads(self.path.read_text(encoding="utf-8"))["records"]
        self.records = {record[key_field]: record for record in records}

    @staticmethod
    def write(path: Path, records: list[dict[str, Any]]) -> None:
        """Write records atomically: a crash leaves the old file or the new, never half."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with open(fd, "w", encoding="utf-8") as out:
                json.dump({"records": records}, out, ensure_ascii=False)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> dict[str, Any] | None:
        """A copy of one record, or None."""
        with self.lock:
            record = self.records.get(key)
            return copy.deepcopy(record) if record is not None else None

    def page(self, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """Up to ``limit`` record copies after ``cursor`` in (updated-at, key) order.

        The next cursor is the last record's position, or the given cursor on an empty page, so
        a client that stores it resumes exactly after what it has seen.
        """
        after = decode_cursor(cursor) if cursor else None
        with self.lock:
            ordered = sorted(self.records.values(),
                             key=lambda r: (r[self.updated_field], r[self.key_field]))
            if after is not None:
                ordered = [r for r in ordered if (r[self.updated_field], r[self.key_field]) > after]
            items = copy.deepcopy(ordered[:limit])
        if not items:
            return [], cursor
        last = items[-1]
        return items, encode_cursor(last[self.updated_field], last[self.key_field])

    def change(self, key: str, edit: Callable[[dict[str, Any]], bool]) -> bool | None:
        """Apply ``edit`` to one record and persist; None if the key is unknown.

        ``edit`` returns whether it changed anything, so a repeated erasure writes nothing.
        """
        with self.lock:
            record = self.records.get(key)
            if record is None:
                return None
            changed = edit(record)
            if changed:
                self.write(self.path, list(self.records.values()))
            return changed


class JsonApi:
    """Routes ``(method, path regex)`` to handlers ``(match, query) -> (status, body)``."""

    name = "demo"

    def __init__(self, token: str):
        self.token = token
        self.routes: list[tuple[str, re.Pattern, Callable[..., Reply]]] = []

    def route(self, method: str, pattern: str, handler: Callable[..., Reply]) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), handler))

    def authorised(self, header: str | None) -> bool:
        expected = f"Bearer {self.token}".encode()
        return header is not None and hmac.compare_digest(header.encode(), expected)

    def handle(self, method: str, target: str, authorization: str | None) -> Reply:
        """The reply to one request; the token is checked before anything is looked up."""
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        if path == "/health":
            return 200, {"status": "ok", "system": self.name}
        if not self.authorised(authorization):
            return 401, {"error": "missing or invalid bearer token"}
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        allowed = False
        for route_method, pattern, handler in self.routes:
            match = pattern.match(path)
            if match is None:
                continue
            if route_method != method:
                allowed = True
                continue
            try:
                return handler({k: unquote(v) for k, v in match.groupdict().items()}, query)
            except BadRequest as exc:
                return 400, {"error": str(exc)}
        return (405, {"error": "method not allowed"}) if allowed else (404, {"error": "not found"})


def _handler_class(api: JsonApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as httpx's pool expects

        def setup(self) -> None:
            super().setup()
            # Headers and body leave in two writes; without this, Nagle's algorithm and the
            # client's delayed ACK add ~40 ms to every keep-alive request.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)  # drained: no route takes a body
            status, body = api.handle(self.command, self.path, self.headers.get("Authorization"))
            payload = b"" if status == 204 else json.dumps(body).encode()
            self.send_response(status)
            if status == 401:
                self.send_header("WWW-Authenticate", 'Bearer realm="demo"')
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = do_PUT = _serve

        def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
            pass  # request lines carry record keys; the demo stays quiet instead

    return Handler


def start_server(api: JsonApi, host: str, port: int) -> ThreadingHTTPServer:
    """Listen on ``host:port`` (0: any free port) and serve from a daemon thread."""
    server = ThreadingHTTPServer((host, port), _handler_class(api))
    server.daemon_threads = True
    # A short poll interval so that stopping (tests, Ctrl-C) takes a tenth of a second.
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                     name=f"demo-{api.name}", daemon=True).start()
    return server
