"""One live connector per source system per process.

A connector carries state that must outlive a single request: its circuit breaker (so that a
source that is down costs one fast refusal instead of a timeout per call) and its pooled HTTP
connections. Connectors are therefore built once per source and kept, keyed by the source's id
and ``updated_at``: saving a new configuration changes ``updated_at``, which builds a fresh
connector on next use. The sync cursor is written with ``QuerySet.update`` so that syncing does
not touch ``updated_at`` and does not reset the breaker.
"""

from __future__ import annotations

import threading

from connectors import registry
from connectors.base import Connector, ConnectorError
from hub.models import SourceSystem


class NoConnector(ConnectorError):
    """The source has no connector configured (it only pushes changes through the API)."""


_lock = threading.Lock()
_connectors: dict[int, tuple[object, Connector]] = {}


def source_connector(source: SourceSystem) -> Connector:
    """The cached connector of ``source``, built on first use or after a configuration change.

    Raises NoConnector for a source without a connector kind and ``ConfigurationError`` when
    the stored configuration cannot be used (for instance a secret's environment variable is
    not set in this process).
    """
    if not source.connector_kind:
        raise NoConnector("no connector configured")
    version = source.updated_at
    with _lock:
        cached = _connectors.get(source.pk)
        if cached is not None and cached[0] == version:
            return cached[1]
    # Built outside the lock: building may resolve secrets from files or open pools.
    connector = registry.create(source.connector_kind, source.connector_config())
    with _lock:
        cached = _connectors.get(source.pk)
        if cached is not None and cached[0] == version:
            # Another thread built it first; keep one instance so there is one breaker.
            connector.close()
            return cached[1]
        # The replaced connector is not closed here: a request in another thread may still be
        # using it. Its pooled connections go when it is garbage-collected.
        _connectors[source.pk] = (version, connector)
    return connector


def connectors_reset() -> None:
    """Close and forget every cached connector (tests, or after changing the environment)."""
    with _lock:
        cached = list(_connectors.values())
        _connectors.clear()
    for _, connector in cached:
        connector.close()
