"""The registry of connector kinds, found by name (``"http"``, ``"sql"``, ``"file"``).

Kinds register themselves with ``@register("name")``; the built-in ones are imported on first
use so that importing the registry stays cheap and free of import cycles.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Collection, Mapping
from typing import Any

from connectors.base import ConfigurationError, Connector

_KINDS: dict[str, type[Connector]] = {}
_BUILTIN_MODULES = ("connectors.http", "connectors.sql", "connectors.files")


def register(kind: str) -> Callable[[type[Connector]], type[Connector]]:
    """Class decorator: make a Connector subclass available under ``kind``."""

    def decorator(cls: type[Connector]) -> type[Connector]:
        if kind in _KINDS and _KINDS[kind] is not cls:
            raise ValueError(f"connector kind {kind!r} is already registered")
        cls.kind = kind
        _KINDS[kind] = cls
        return cls

    return decorator


def _load_builtins() -> None:
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


def kinds() -> list[str]:
    """The registered kind names, sorted."""
    _load_builtins()
    return sorted(_KINDS)


def connector_class(kind: str) -> type[Connector]:
    """The class registered under ``kind``; ConfigurationError naming the known kinds if none."""
    _load_builtins()
    try:
        return _KINDS[kind]
    except (KeyError, TypeError):
        raise ConfigurationError(
            [("kind", f"unknown kind {kind!r}; known kinds: {', '.join(sorted(_KINDS))}")]
        ) from None


def validate(kind: str, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every ``(field, problem)`` with a kind and its settings, for a configuration form."""
    try:
        cls = connector_class(kind)
    except ConfigurationError as exc:
        return exc.problems
    return cls.validate_settings(settings)


def cursor_forget(kind: str, settings: Mapping[str, Any], cursor: str,
                  keys: Collection[str]) -> str:
    """``cursor`` of a ``kind`` source made to reveal none of ``keys`` (see
    ``Connector.cursor_forget``); an unknown kind falls back to the layout-blind default."""
    try:
        cls = connector_class(kind)
    except ConfigurationError:
        cls = Connector
    return cls.cursor_forget(settings, cursor, keys)


def create(kind: str, settings: Mapping[str, Any], *, environ: Mapping[str, str] | None = None,
           transport: Any = None, connection_factory: Any = None, clock: Any = None,
           sleep: Any = None) -> Connector:
    """Build a connector of ``kind`` from plain settings.

    ``environ`` supplies the secrets (default ``os.environ``). ``transport`` (an httpx
    transport), ``connection_factory`` (``conninfo -> psycopg.Connection``), ``clock`` and
    ``sleep`` are the I/O seams. ``clock`` and ``sleep`` go to the kinds that wait or time
    things and are dropped for the others; a ``transport`` or ``connection_factory`` given to a
    kind without one is a TypeError, because the caller clearly meant a different kind.
    """
    cls = connector_class(kind)
    accepted = inspect.signature(cls.__init__).parameters
    seams = {name: value for name, value in {
        "transport": transport, "connection_factory": connection_factory,
        "clock": clock, "sleep": sleep,
    }.items() if value is not None and (name in accepted or name not in ("clock", "sleep"))}
    return cls(settings, environ=os.environ if environ is None else environ, **seams)
