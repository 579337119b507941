"""The HTTP/REST connector, on httpx.

Paths are templates (``/customers/{key}``) with the key URL-quoted. Idempotent calls are retried
on timeouts, 5xx and 429 (honouring ``Retry-After``) with exponential backoff and full jitter;
connection refusals and other 4xx are not retried, because trying again at once cannot help.
One circuit breaker per connector instance, and the hub keeps one instance per source per
process, so a source that is down costs one fast refusal per call instead of a timeout.
Error messages name the path *template* (``GET /customers/{key}: HTTP 500``), never the path
with the key in it, and never the body.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from connectors.base import (
    Change,
    ChangePage,
    CircuitOpen,
    Connector,
    ConnectorError,
    EraseResult,
    FetchResult,
    HealthResult,
    Setting,
    SourceTimeout,
)
from connectors.registry import register
from connectors.resilience import CircuitBreaker, RetryPolicy, parse_retry_after

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
CURSOR_FORMATS = ("opaque", "json", "base64-json")


def dotted_get(document: Any, path: str) -> Any:
    """The value at a dotted path (``"data.items"``) in decoded JSON, or None; "" is the root."""
    value = document
    for part in path.split(".") if path else ():
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


class MalformedResponse(ConnectorError):
    """The source answered with a body that is not the JSON it promised."""

    code = "malformed response"


@register("http")
class HttpConnector(Connector):
    """A REST system of record: fetch, list changes, export, erase and health over HTTP."""

    capabilities = frozenset({"fetch", "list_changes", "export", "erase", "health"})
    settings_schema = (
        Setting("base_url", required=True, help="e.g. https://crm.internal/api"),
        Setting("token_env", secret=True, help="environment variable holding the API token"),
        Setting("auth_header", default="Authorization", help="header carrying the token"),
        Setting("auth_scheme", default="Bearer", help="prefix before the token ('' for none)"),
        Setting("fetch_path", default="/customers/{key}", help="GET template for one record"),
        Setting("export_path", help="GET template for a full export (default: fetch_path)"),
        Setting("list_path", default="/customers", help="GET path listing changes"),
        Setting("cursor_param", default="cursor", help="query parameter carrying the cursor"),
        Setting("cursor_format", default="opaque", choices=CURSOR_FORMATS,
                help="how the source builds its cursor: 'json' or 'base64-json' for an array "
                     "ending with the last record's key, sorted as text (an erasure then "
                     "replaces that key with ''); 'opaque' for anything else (an erasure "
                     "clears a cursor the key can be read in: the next sync starts over)"),
        Setting("page_size_param", help="query parameter carrying the page size"),
        Setting("page_size", type=int, default=100),
        Setting("items_field", default="items", help="dotted path of the list in a page"),
        Setting("next_cursor_field", default="next", help="dotted path of the next cursor"),
        Setting("record_field", default="", help="dotted path of the record in a fetch body"),
        Setting("key_field", default="id", help="the source key's field in listed items"),
        Setting("version_field", help="integer version field in listed items"),
        Setting("updated_at_field", help="updated-at field in listed items"),
        Setting("deleted_field", help="boolean 'deleted' field in listed items"),
        Setting("erase_path", default="/customers/{key}", help="template for erasure"),
        Setting("erase_method", default="DELETE", choices=("DELETE", "POST")),
        Setting("erase_idempotent", type=bool, default=False,
                help="retry a POST erase too (only if the source deduplicates it)"),
        Setting("erased_count_field",
                help="dotted path of the number of records erased in the erase answer's JSON; "
                     "0 is then an error. Unset: any 2xx counts as one record"),
        Setting("health_path", default="/health"),
        Setting("connect_timeout", type=float, default=3.0, help="seconds"),
        Setting("read_timeout", type=float, default=10.0, help="seconds"),
        Setting("retry_attempts", type=int, default=3, help="tries per idempotent call"),
        Setting("retry_base_delay", type=float, default=0.2, help="seconds, doubled per retry"),
        Setting("retry_max_delay", type=float, default=10.0, help="seconds"),
        Setting("failure_threshold", type=int, default=5,
                help="consecutive failures that open the circuit"),
        Setting("cool_down", type=float, default=30.0, help="seconds the circuit stays open"),
    )

    def __init__(self, settings: Mapping[str, Any], *, environ: Mapping[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        super().__init__(settings, environ=environ)
        s = self.settings
        headers = {"Accept": "application/json"}
        token = self.secret("token_env")
        if token:
            headers[s["auth_header"]] = f"{s['auth_scheme']} {token}".strip()
        timeout = httpx.Timeout(s["read_timeout"], connect=s["connect_timeout"])
        self.client = httpx.Client(base_url=s["base_url"], headers=headers, timeout=timeout,
                                   transport=transport, follow_redirects=False)
        self.retry = RetryPolicy(attempts=max(1, s["retry_attempts"]),
                                 base_delay=s["retry_base_delay"], max_delay=s["retry_max_delay"])
        self.breaker = CircuitBreaker(s["failure_threshold"], s["cool_down"], clock=clock)
        self.sleep = sleep

    @classmethod
    def _check_combination(cls, settings):
        problems = []
        for name in ("fetch_path", "export_path", "erase_path"):
            template = settings.get(name)
            if template and "{key}" not in template:
                problems.append((name, "must contain {key}"))
        if not str(settings["base_url"]).startswith(("http://", "https://")):
            problems.append(("base_url", "must start with http:// or https://"))
        return problems

    def close(self) -> None:
        """Close the pooled HTTP connections."""
        self.client.close()

    # -- the one place that talks HTTP ---------------------------------------------------------

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                idempotent: bool | None = None, label: str | None = None) -> httpx.Response:
        """Send one logical call through the breaker and the retry policy.

        Returns the final response for any status (the caller interprets 404 and friends);
        raises CircuitOpen, SourceTimeout or ConnectorError when no usable response came.
        Messages name the call by ``label`` (the path template when the path holds a key).
        """
        label = f"{method} {label or path}"
        if idempotent is None:
            idempotent = method.upper() in IDEMPOTENT_METHODS
        if not self.breaker.allow():
            raise CircuitOpen(f"circuit open for {self.client.base_url.host}; retry in "
                              f"{self.breaker.seconds_until_retry():.0f}s")
        retry_number = 0
        while True:
            failure: ConnectorError | None = None
            response = None
            retry_after = None
            try:
                response = self.client.request(method, path, params=params)
            except httpx.TimeoutException as exc:
                failure = SourceTimeout(f"{label}: {type(exc).__name__}")
            except httpx.ConnectError:
                # Not retried: a refused connection means the service is down or misconfigured,
                # and trying again a few milliseconds later only adds load and latency.
                self.breaker.record_failure()
                raise ConnectorError(f"{label}: connection failed",
                                     code="connection failed") from None
            except httpx.HTTPError as exc:
                self.breaker.record_failure()
                raise ConnectorError(f"{label}: {type(exc).__name__}",
                                     code=type(exc).__name__) from None
            else:
                if response.status_code < 500 and response.status_code != 429:
                    self.breaker.record_success()
                    return response
                status = f"HTTP {response.status_code}"
                failure = ConnectorError(f"{label}: {status}", code=status)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            delay = self.retry.delay(retry_number, retry_after) if idempotent else None
            if delay is None:
                self.breaker.record_failure()
                if response is not None:
                    return response
                raise failure
            self.sleep(delay)
            retry_number += 1

    def _json(self, response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            # The body may hold personal data, so only its size goes into the message.
            raise MalformedResponse(
                f"{what}: malformed JSON ({len(response.content)} bytes)",
                code="malformed JSON") from None

    def _path(self, template: str, key: str) -> str:
        # safe="" so that a key with "/" or "?" cannot address a different resource.
        return template.replace("{key}", quote(str(key), safe=""))

    # -- operations -----------------------------------------------------------------------------

    def _get_record(self, template: str, key: str) -> FetchResult:
        path = self._path(template, key)
        try:
            response = self.request("GET", path, label=template)
            if response.status_code == 404:
                return FetchResult(key, "not_found")
            if response.status_code >= 400:
                return FetchResult(key, "error", error=f"HTTP {response.status_code}")
            body = self._json(response, f"GET {template}")
        except CircuitOpen as exc:
            return FetchResult(key, "circuit_open", error=str(exc))
        except SourceTimeout as exc:
            return FetchResult(key, "timeout", error=str(exc))
        except ConnectorError as exc:
            return FetchResult(key, "error", error=str(exc))
        record = dotted_get(body, self.settings["record_field"])
        if not isinstance(record, dict):
            return FetchResult(key, "error", error=f"GET {template}: expected a JSON object")
        return FetchResult(key, "ok", record=record)

    def fetch_many(self, keys: Sequence[str]) -> list[FetchResult]:
        """GET ``fetch_path`` per key; each key gets its own status, a failure never hides one."""
        return [self._get_record(self.settings["fetch_path"], key) for key in keys]

    def export(self, key: str) -> FetchResult:
        """GET ``export_path`` (or ``fetch_path``) for a data-subject access request."""
        return self._get_record(self.settings["export_path"] or self.settings["fetch_path"], key)

    def list_changes(self, since_cursor: str | None = None) -> Iterator[ChangePage]:
        """Follow ``next`` cursors from ``since_cursor`` until the source gives none.

        A page's cursor is the one to request next. The last page has no next cursor from the
        source, so it carries the cursor it was requested with: resuming there replays that
        page, which the hub ignores (replays change nothing, DESIGN.md invariant 4).
        """
        s = self.settings
        cursor = since_cursor
        while True:
            params = {}
            if cursor is not None:
                params[s["cursor_param"]] = cursor
            if s["page_size_param"]:
                params[s["page_size_param"]] = s["page_size"]
            response = self.request("GET", s["list_path"], params=params)
            if response.status_code >= 400:
                raise ConnectorError(f"GET {s['list_path']}: HTTP {response.status_code}",
                                     code=f"HTTP {response.status_code}")
            body = self._json(response, f"GET {s['list_path']}")
            items = dotted_get(body, s["items_field"])
            if not isinstance(items, list):
                raise MalformedResponse(f"GET {s['list_path']}: no list at {s['items_field']!r}")
            next_cursor = dotted_get(body, s["next_cursor_field"])
            next_cursor = None if next_cursor in (None, "") else str(next_cursor)
            changes = [self._change(item) for item in items]
            if not changes:
                # An empty page ends the listing; a new cursor on it is a watermark to keep.
                if next_cursor is not None and next_cursor != cursor:
                    yield ChangePage([], next_cursor)
                return
            yield ChangePage(changes, next_cursor if next_cursor is not None else cursor)
            if next_cursor is None or next_cursor == cursor:
                return
            cursor = next_cursor

    def _change(self, item: Any) -> Change:
        s = self.settings
        if not isinstance(item, dict) or item.get(s["key_field"]) in (None, ""):
            raise MalformedResponse(f"GET {s['list_path']}: an item has no {s['key_field']!r}")
        version = item.get(s["version_field"]) if s["version_field"] else None
        try:
            version = None if version is None else int(version)
        except (TypeError, ValueError):
            # The key identifies a customer, so the message says which field, not which item.
            raise MalformedResponse(
                f"GET {s['list_path']}: an item's {s['version_field']!r} is not an integer"
            ) from None
        return Change(
            key=str(item[s["key_field"]]),
            attributes=self.mapping.apply(item),
            version=version,
            updated_at=item.get(s["updated_at_field"]) if s["updated_at_field"] else None,
            deleted=bool(item.get(s["deleted_field"])) if s["deleted_field"] else False,
        )

    def erase(self, key: str) -> EraseResult:
        """Send ``erase_method`` to ``erase_path``; the source applies its own delete/anonymise.

        A POST erase is retried only if ``erase_idempotent`` says the source deduplicates it.
        404 and 410 mean the source does not hold the key (``not_found``). With
        ``erased_count_field`` the answer must say how many records were erased: 0 for a key
        the source holds is an error (a source ignoring the call must not pass for success),
        and so is an answer without the count. Without it, any 2xx counts as one record.
        """
        self.refuse_retained_erasure()
        s = self.settings
        path = self._path(s["erase_path"], key)
        label = f"{s['erase_method']} {s['erase_path']}"
        idempotent = s["erase_method"] == "DELETE" or s["erase_idempotent"]
        try:
            response = self.request(s["erase_method"], path, idempotent=idempotent,
                                    label=s["erase_path"])
        except ConnectorError as exc:
            return EraseResult(key, "error", error=str(exc))
        if response.status_code in (404, 410):
            return EraseResult(key, "not_found")
        if response.status_code >= 300:
            return EraseResult(key, "error", error=f"{label}: HTTP {response.status_code}")
        rows = 1
        if s["erased_count_field"]:
            try:
                count = dotted_get(self._json(response, label), s["erased_count_field"])
            except MalformedResponse as exc:
                return EraseResult(key, "error", error=str(exc))
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                return EraseResult(key, "error", error=(
                    f"{label}: no erased count at {s['erased_count_field']!r}"))
            if count == 0:
                return EraseResult(key, "error", error=f"{label}: erase affected 0 rows")
            rows = count
        outcome = "deleted" if self.erase_policy == "delete" else "anonymised"
        return EraseResult(key, outcome, rows=rows)

    @classmethod
    def cursor_forget(cls, settings: Mapping[str, Any], cursor: str,
                      keys: Collection[str]) -> str:
        """With a ``json`` or ``base64-json`` cursor, an erased key at the end becomes "".

        The source then resumes before every record of the same position, so nothing is
        skipped. An ``opaque`` cursor (or one that does not decode) is cleared if it reveals a
        key, as ``Connector.cursor_forget`` says.
        """
        try:
            layout = cls._with_defaults(settings)["cursor_format"]
        except ValueError:
            layout = "opaque"
        if layout == "opaque" or not cursor:
            return super().cursor_forget(settings, cursor, keys)
        try:
            text = cursor
            if layout == "base64-json":
                text = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4))
            position = json.loads(text)
        except (ValueError, TypeError):
            return super().cursor_forget(settings, cursor, keys)
        if not isinstance(position, list) or not position:
            return super().cursor_forget(settings, cursor, keys)
        if str(position[-1]) not in {str(key) for key in keys}:
            return cursor
        text = json.dumps([*position[:-1], ""])
        if layout == "json":
            return text
        encoded = base64.urlsafe_b64encode(text.encode()).decode()
        # Padded unless the source's own cursor proves it leaves the padding out.
        return encoded.rstrip("=") if len(cursor) % 4 else encoded

    def health(self) -> HealthResult:
        """GET ``health_path`` once, without retries; an open circuit reports itself."""
        started = time.monotonic()
        try:
            response = self.request("GET", self.settings["health_path"], idempotent=False)
        except ConnectorError as exc:
            return HealthResult(False, str(exc), (time.monotonic() - started) * 1000)
        elapsed = (time.monotonic() - started) * 1000
        return HealthResult(response.is_success, f"HTTP {response.status_code}", elapsed)
