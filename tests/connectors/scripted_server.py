"""A real HTTP server on 127.0.0.1 whose answers a test scripts, one route at a time."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    """One scripted answer: status, body (bytes, or anything JSON-encodable), headers, delay."""

    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: dict
    headers: dict


class ScriptedServer:
    """Routes ``(method, path)`` to a queue of replies (the last one repeats) or a callable."""

    def __init__(self):
        self.routes: dict[tuple[str, str], list | object] = {}
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, method: str, path: str, *replies) -> None:
        """Answer ``method path`` with ``replies`` in turn, or with a callable(Seen) -> Reply."""
        self.routes[(method, path)] = replies[0] if callable(replies[0]) else list(replies)

    def seen(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        """The requests received, optionally filtered."""
        return [r for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)]

    def _reply_for(self, request: Seen) -> Reply:
        with self._lock:
            self.requests.append(request)
            route = self.routes.get((request.method, request.path))
            if route is None:
                return Reply(404, {"detail": "no such route"})
            if callable(route):
                return route(request)
            return route.pop(0) if len(route) > 1 else route[0]

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                parts = urlsplit(self.path)
                request = Seen(self.command, parts.path,
                               {k: v[0] for k, v in parse_qs(parts.query).items()},
                               {k.lower(): v for k, v in self.headers.items()})
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                reply = server._reply_for(request)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body
                if body is None:
                    body = b""
                elif not isinstance(body, bytes):
                    body = json.dumps(body).encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a read-timeout test); nothing to answer

            do_GET = do_POST = do_DELETE = do_PUT = _serve

            def log_message(self, *args):
                pass

        return Handler

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port() -> int:
    """A localhost port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
