"""Federated reads: the full records of an entity, fetched live from every source that holds one.

The hub stores only key attributes; an application that wants the whole customer asks the hub,
which asks each source concurrently. A slow or dead source must never fail the answer or delay
it past the deadline, so every source gets its own worker and the caller waits for the deadline
at most: a straggler is reported as ``timeout`` and abandoned (its worker finishes, or fails, on
its own; nothing it returns is used). Nothing fetched is stored; only the access is recorded.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from connectors.base import CircuitOpen, ConfigurationError, ConnectorError, SourceTimeout
from hub.models import Entity, SourceSystem
from hub.selectors.entities import entity_current_links, entity_get
from hub.services.connections import NoConnector, source_connector
from hub.services.errors import NotFound
from hub.services.events import event_record

# Shared by all requests so that a request does not pay for starting threads. Abandoned
# stragglers hold a worker until their own read timeout; the size leaves room for several
# stuck sources while the circuit breakers open, after which they cost no worker time at all.
_POOL = ThreadPoolExecutor(max_workers=64, thread_name_prefix="federation")
_HTTP_STATUS = re.compile(r"\bHTTP \d{3}\b")


@dataclass
class EntityRecords:
    """The answer of ``entity_records_fetch``: one block per cross-reference of the entity."""

    golden_id: str
    state: str
    resolved_from: str | None
    blocks: list[dict] = field(default_factory=list)
    elapsed_ms: float = 0.0


def _error_code(text: str, fallback: str) -> str:
    """A short code for an error message: connector messages may name paths, which hold keys."""
    found = _HTTP_STATUS.search(text or "")
    if found:
        return found.group(0)
    if "connection failed" in (text or ""):
        return "connection failed"
    return fallback


def _block(code: str, key: str, status: str, *, record=None, elapsed_ms: float,
           error: str = "") -> dict:
    return {"source": code, "source_key": key, "status": status, "record": record,
            "elapsed_ms": round(elapsed_ms, 1), "error": error}


def _fetch_source(source: SourceSystem, keys: list[str]) -> list[dict]:
    """One ``fetch_many`` call (in a worker thread), turned into blocks.

    The connector is looked up here rather than by the caller so that building one (on first
    use, or after a configuration change) does not hold up the other sources.
    """
    code = source.code
    started = time.perf_counter()
    try:
        results = source_connector(source).fetch_many(keys)
        failure = None
    except NoConnector:
        failure = ("error", "no connector configured")
    except ConfigurationError:
        failure = ("error", "connector misconfigured")
    except CircuitOpen:
        failure = ("circuit_open", "circuit open")
    except SourceTimeout:
        failure = ("timeout", "source timeout")
    except ConnectorError as exc:
        failure = ("error", _error_code(str(exc), "connector error"))
    except Exception as exc:  # noqa: BLE001 - one broken connector must not fail the answer
        failure = ("error", f"unexpected {type(exc).__name__}")
    elapsed = (time.perf_counter() - started) * 1000
    if failure is not None:
        return [_block(code, key, failure[0], elapsed_ms=elapsed, error=failure[1])
                for key in keys]
    blocks = []
    for key, result in zip(keys, results, strict=False):
        error = "" if result.status in ("ok", "not_found") else _error_code(
            result.error, result.status.replace("_", " "))
        blocks.append(_block(code, key, result.status, elapsed_ms=elapsed, error=error,
                             record=result.record if result.status == "ok" else None))
    return blocks


def _resolve(golden_id: str) -> tuple[Entity, str | None]:
    entity = entity_get(golden_id)
    if entity is None:
        raise NotFound("no entity with this golden ID")
    if entity.state == Entity.State.MERGED:
        # merged_into always names the final survivor (merges re-point earlier victims).
        return entity.merged_into, golden_id
    return entity, None


def entity_records_fetch(*, golden_id: str, actor=None, timeout: float | None = None,
                         ) -> EntityRecords:
    """Fetch the full record behind every cross-reference of an entity, all sources at once.

    A merged ID answers for its survivor (``resolved_from`` names the ID asked for). Each block
    says ``ok`` (with the record), ``not_found``, ``timeout``, ``error`` or ``circuit_open``;
    a source without a connector gives ``error`` "no connector configured". The answer comes
    within ``timeout`` seconds (default ``settings.FEDERATION_TIMEOUT``) whatever the sources
    do. Nothing fetched is stored; one ``entity.records_accessed`` event records who asked for
    which entity and which sources answered how, without any record content.
    """
    deadline_seconds = settings.FEDERATION_TIMEOUT if timeout is None else timeout
    started = time.perf_counter()
    entity, resolved_from = _resolve(golden_id)
    keys_by_source: dict[str, list[str]] = {}
    sources: dict[str, SourceSystem] = {}
    if entity.is_active:
        for link in entity_current_links(entity.golden_id):
            source = link.source_record.source
            sources[source.code] = source
            keys_by_source.setdefault(source.code, []).append(link.source_record.source_key)

    blocks: dict[str, list[dict]] = {}
    futures: dict[Future, str] = {}
    for code, keys in keys_by_source.items():
        if not sources[code].has_connector:
            blocks[code] = [_block(code, k, "error", elapsed_ms=0, error="no connector configured")
                            for k in keys]
            continue
        futures[_POOL.submit(_fetch_source, sources[code], keys)] = code
    remaining = deadline_seconds - (time.perf_counter() - started)
    done, _ = wait(futures, timeout=max(0.0, remaining))
    for future, code in futures.items():
        if future in done and future.exception() is None:
            blocks[code] = future.result()
        elif future in done:
            blocks[code] = [_block(code, k, "error", elapsed_ms=0,
                                   error=f"unexpected {type(future.exception()).__name__}")
                            for k in keys_by_source[code]]
        else:
            future.cancel()  # only helps if it never started; a running one is abandoned
            blocks[code] = [_block(code, k, "timeout", elapsed_ms=deadline_seconds * 1000,
                                   error="deadline passed") for k in keys_by_source[code]]
    ordered = [block for code in keys_by_source for block in blocks[code]]

    statuses: dict[str, dict[str, int]] = {}
    for block in ordered:
        per_source = statuses.setdefault(block["source"], {})
        per_source[block["status"]] = per_source.get(block["status"], 0) + 1
    payload = {"sources": list(keys_by_source), "statuses": statuses}
    if resolved_from:
        payload["resolved_from"] = resolved_from
    # The access is personal-data processing in its own right, so it is recorded even when
    # every source failed; the event is written after the fetch so no transaction is held open
    # while waiting on the sources.
    with transaction.atomic():
        event_record(kind="entity.records_accessed", entity_id=entity.golden_id, actor=actor,
                     payload=payload)
    return EntityRecords(golden_id=entity.golden_id, state=entity.state,
                         resolved_from=resolved_from, blocks=ordered,
                         elapsed_ms=round((time.perf_counter() - started) * 1000, 1))
