"""The connector interface: declared settings, field mapping, result types and errors.

A connector reads (and, where the source's privacy policy allows, erases) customer records in one
system of record. It takes plain settings and returns plain dataclasses; it never sees the hub's
database. Secrets are never part of the settings: a secret setting holds the *name* of an
environment variable (or of a ``*_FILE`` variable naming a file), resolved when the connector is
built, so that configuration stored in the hub's database can be shown and exported safely.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.cursors import reveals
from linkage.attributes import CANONICAL_ATTRIBUTES

CAPABILITIES = frozenset({"fetch", "list_changes", "export", "erase", "health"})
ERASE_POLICIES = ("delete", "anonymise", "retain")
FETCH_STATUSES = frozenset({"ok", "not_found", "timeout", "error", "circuit_open"})
ERASE_OUTCOMES = frozenset({"deleted", "anonymised", "not_found", "error"})

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConnectorError(Exception):
    """A source could not be read or written.

    Neither the message nor ``code`` carries record content or source keys (a key identifies a
    customer in a source). ``code`` is the short form (``HTTP 503``, ``timeout``, an SQLSTATE)
    meant for reports, events and the screen; the message may add the path template or the
    setting involved.
    """

    code = "connector error"

    def __init__(self, message: str = "", *, code: str | None = None):
        super().__init__(message)
        if code:
            self.code = code


class ConfigurationError(ConnectorError):
    """Settings are invalid; ``problems`` lists ``(field, problem)`` pairs for a form."""

    code = "configuration error"

    def __init__(self, problems: Sequence[tuple[str, str]]):
        self.problems = list(problems)
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in self.problems))


class CircuitOpen(ConnectorError):
    """The source failed repeatedly; calls are refused until its cool-down has passed."""

    code = "circuit open"


class SourceTimeout(ConnectorError):
    """The source did not answer in time."""

    code = "timeout"


class ErasureRefused(ConnectorError):
    """The source's policy retains records (legal hold); the caller records the refusal."""

    code = "legal hold"


@dataclass(frozen=True)
class Setting:
    """One declared connector parameter, enough to render and validate a form field.

    A ``secret`` setting holds the name of an environment variable, never the secret itself.
    """

    name: str
    required: bool = False
    secret: bool = False
    help: str = ""
    type: type = str
    default: Any = None
    choices: tuple[str, ...] = ()

    def parse(self, value: Any) -> Any:
        """Coerce a value as typed into a form (strings) or a config file; raise ValueError."""
        if self.type is bool:
            if isinstance(value, bool):
                return value
            if str(value).strip().lower() in {"1", "true", "yes", "on"}:
                return True
            if str(value).strip().lower() in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError("expected true or false")
        if self.type in (int, float):
            if isinstance(value, bool):
                raise ValueError(f"expected a {self.type.__name__}")
            try:
                parsed = self.type(value)
            except (TypeError, ValueError):
                raise ValueError(f"expected a {self.type.__name__}") from None
            if parsed < 0:
                raise ValueError("must not be negative")
            return parsed
        if self.type is dict:
            if not isinstance(value, Mapping):
                raise ValueError("expected a mapping")
            return dict(value)
        if not isinstance(value, str):
            raise ValueError("expected text")
        if self.secret and not _ENV_NAME.match(value):
            raise ValueError("must name an environment variable, not hold the secret itself")
        if self.choices and value not in self.choices:
            raise ValueError(f"must be one of {', '.join(self.choices)}")
        return value


class FieldMapping:
    """Maps a source's field names onto the canonical key attributes (linkage/attributes.py)."""

    def __init__(self, source_to_canonical: Mapping[str, str]):
        problems = self.problems(source_to_canonical)
        if problems:
            raise ConfigurationError([("mapping", problem) for problem in problems])
        self.source_to_canonical = dict(source_to_canonical)

    @staticmethod
    def problems(source_to_canonical: Any) -> list[str]:
        """Why a mapping is unusable, one sentence per problem (empty when it is fine)."""
        if not isinstance(source_to_canonical, Mapping) or not source_to_canonical:
            return ["bad mapping: expected a non-empty mapping of source field to attribute"]
        problems = []
        seen: dict[str, str] = {}
        for source, canonical in source_to_canonical.items():
            if not isinstance(source, str) or not source:
                problems.append("bad mapping: source field names must be non-empty text")
            elif canonical not in CANONICAL_ATTRIBUTES:
                problems.append(f"bad mapping: {source!r} maps to unknown attribute {canonical!r}")
            elif canonical in seen:
                problems.append(
                    f"bad mapping: {seen[canonical]!r} and {source!r} both map to {canonical!r}"
                )
            else:
                seen[canonical] = source
        return problems

    def source_fields(self) -> list[str]:
        """The source field names this mapping reads."""
        return list(self.source_to_canonical)

    def apply(self, record: Mapping[str, Any]) -> dict[str, str]:
        """The canonical attributes of a source record; missing and empty values are left out."""
        attributes = {}
        for source, canonical in self.source_to_canonical.items():
            value = record.get(source)
            if value is None or value == "":
                continue
            attributes[canonical] = value.isoformat() if hasattr(value, "isoformat") else str(value)
        return attributes


@dataclass
class FetchResult:
    """One key's live record (``fetch`` and ``export``); ``error`` holds codes, never data."""

    key: str
    status: str
    record: dict | None = None
    error: str = ""

    def __post_init__(self):
        if self.status not in FETCH_STATUSES:
            raise ValueError(f"unknown fetch status {self.status!r}")


@dataclass
class Change:
    """A source record's key attributes (canonical names) as of one version."""

    key: str
    attributes: dict[str, str]
    version: int | None = None
    updated_at: datetime | str | None = None
    deleted: bool = False


@dataclass
class ChangePage:
    """One page of changes and the cursor to resume from once the page has been processed."""

    changes: list[Change]
    cursor: str | None


@dataclass
class EraseResult:
    """What erasing one key did at the source; ``rows`` counts rows (or records) affected."""

    key: str
    outcome: str
    rows: int = 0
    error: str = ""

    def __post_init__(self):
        if self.outcome not in ERASE_OUTCOMES:
            raise ValueError(f"unknown erase outcome {self.outcome!r}")


@dataclass
class HealthResult:
    """Whether a source answered, with a short code-only detail and the probe's duration."""

    ok: bool
    detail: str = ""
    elapsed_ms: float = 0.0


COMMON_SETTINGS = (
    Setting("mapping", required=True, type=dict,
            help="source field name -> canonical key attribute"),
    Setting("erase_policy", default="retain", choices=ERASE_POLICIES,
            help="how erasure is done at this source; 'retain' refuses (legal hold)"),
)


class Connector(ABC):
    """Access to one system of record. Subclasses declare ``kind``, capabilities and settings.

    Operations a connector does not support raise ConnectorError; ``capabilities`` tells the hub
    which ones to offer before it tries.
    """

    kind: str = ""
    capabilities: frozenset[str] = frozenset()
    settings_schema: tuple[Setting, ...] = ()

    def __init__(self, settings: Mapping[str, Any], *, environ: Mapping[str, str] | None = None):
        problems = self.validate_settings(settings)
        if problems:
            raise ConfigurationError(problems)
        self.environ = os.environ if environ is None else environ
        self.settings = self._with_defaults(settings)
        self.mapping = FieldMapping(self.settings["mapping"])
        self.erase_policy: str = self.settings["erase_policy"]

    @classmethod
    def all_settings(cls) -> tuple[Setting, ...]:
        """The common settings followed by this kind's own."""
        return COMMON_SETTINGS + cls.settings_schema

    @classmethod
    def validate_settings(cls, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Every problem with ``settings`` as ``(field, problem)``; empty when they are usable."""
        if not isinstance(settings, Mapping):
            return [("settings", "expected a mapping of setting names to values")]
        declared = {s.name: s for s in cls.all_settings()}
        problems = [(name, "unknown setting") for name in settings if name not in declared]
        for name, setting in declared.items():
            value = settings.get(name)
            if value is None or value == "":
                if setting.required:
                    problems.append((name, "missing setting"))
                continue
            try:
                setting.parse(value)
            except ValueError as exc:
                problems.append((name, str(exc)))
        if isinstance(settings.get("mapping"), Mapping):
            problems += [("mapping", p) for p in FieldMapping.problems(settings.get("mapping"))]
        if not problems:
            problems += cls._check_combination(cls._with_defaults(settings))
        return list(dict.fromkeys(problems))

    @classmethod
    def _check_combination(cls, settings: dict[str, Any]) -> list[tuple[str, str]]:
        """Problems spanning several settings (overridden by kinds that have them)."""
        return []

    @classmethod
    def _with_defaults(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        values = {}
        for setting in cls.all_settings():
            value = settings.get(setting.name)
            values[setting.name] = (
                setting.default if value is None or value == "" else setting.parse(value)
            )
        return values

    def secret(self, setting_name: str) -> str | None:
        """Resolve a secret setting from the environment (``NAME`` or ``NAME_FILE``).

        None when the setting is not configured; ConfigurationError when it names a variable
        that is not set, so a missing secret shows up when the source is set up, not mid-sync.
        """
        variable = self.settings.get(setting_name)
        if not variable:
            return None
        if self.environ.get(variable):
            return self.environ[variable]
        file_variable = f"{variable}_FILE"
        if self.environ.get(file_variable):
            try:
                return Path(self.environ[file_variable]).read_text().strip()
            except OSError as exc:
                raise ConfigurationError(
                    [(setting_name, f"cannot read the file named by {file_variable} "
                                    f"({type(exc).__name__})")]) from None
        raise ConfigurationError(
            [(setting_name, f"environment variable {variable} (or {file_variable}) is not set")]
        )

    def require(self, capability: str) -> None:
        """Refuse an operation this connector has not declared."""
        if capability not in self.capabilities:
            raise ConnectorError(f"{self.kind} connectors do not support {capability}")

    def refuse_retained_erasure(self) -> None:
        """Raise ErasureRefused when the source's policy is to retain (a legal hold)."""
        if self.erase_policy == "retain":
            raise ErasureRefused("erase refused: the source's erase_policy is 'retain'")

    @classmethod
    def cursor_forget(cls, settings: Mapping[str, Any], cursor: str,
                      keys: Collection[str]) -> str:
        """``cursor`` made to reveal none of ``keys``, resuming no later than it did.

        Returns ``cursor`` itself when it reveals none of them. This default cannot read the
        cursor's layout, so a cursor in which a key can be read (see ``connectors.cursors``)
        becomes "": the next sync starts from the beginning, which is safe because replays
        change nothing. Kinds that know their layout rewrite the position instead. Pure: no
        I/O and no secrets, so the hub can call it inside the erasure's transaction.
        """
        return "" if cursor and reveals(cursor, keys) else cursor

    def fetch(self, key: str) -> FetchResult:
        """The live record for one key."""
        return self.fetch_many([key])[0]

    @abstractmethod
    def fetch_many(self, keys: Sequence[str]) -> list[FetchResult]:
        """The live records for ``keys``, one result per key in the same order."""

    @abstractmethod
    def list_changes(self, since_cursor: str | None = None) -> Iterator[ChangePage]:
        """Pages of changed records after ``since_cursor`` (None: from the beginning).

        Persist each page's cursor after processing it to resume there after a crash.
        """

    @abstractmethod
    def export(self, key: str) -> FetchResult:
        """Everything the source holds on one key, for a data-subject access request."""

    @abstractmethod
    def erase(self, key: str) -> EraseResult:
        """Delete or anonymise one key as ``erase_policy`` says; ErasureRefused for 'retain'."""

    @abstractmethod
    def health(self) -> HealthResult:
        """A cheap probe of the source."""

    def close(self) -> None:  # noqa: B027 - optional hook, most connectors hold nothing open
        """Release held resources."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
