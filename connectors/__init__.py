"""Source-system access, free of Django: a Connector interface, its kinds and their registry.

Use ``connectors.registry.create(kind, settings)`` to build a connector from plain settings.
"""

from connectors.base import (
    Change,
    ChangePage,
    CircuitOpen,
    ConfigurationError,
    Connector,
    ConnectorError,
    EraseResult,
    ErasureRefused,
    FetchResult,
    FieldMapping,
    HealthResult,
    Setting,
    SourceTimeout,
)
from connectors.registry import (
    connector_class,
    create,
    cursor_forget,
    kinds,
    register,
    validate,
)

__all__ = [
    "Change", "ChangePage", "CircuitOpen", "ConfigurationError", "Connector", "ConnectorError",
    "EraseResult", "ErasureRefused", "FetchResult", "FieldMapping", "HealthResult", "Setting",
    "SourceTimeout", "connector_class", "create", "cursor_forget", "kinds", "register",
    "validate",
]
