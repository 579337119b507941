"""Small validators of match configuration documents: each checks one value and raises a
ConfigError naming its JSON path. Shared by ``linkage.config_schema`` and ``linkage.config``.
"""

from __future__ import annotations

import math
from typing import Any

from linkage.attributes import CANONICAL_ATTRIBUTES, SOURCE_ATTRIBUTE
from linkage.config import COUNTED_TRANSFORMS, PLAIN_TRANSFORMS, ConfigError


def expect_keys(item: Any, path: str, *, required: tuple[str, ...], optional: tuple[str, ...]):
    """Raise unless ``item`` is an object with all ``required`` and no unknown keys."""
    if not isinstance(item, dict):
        raise ConfigError(path, "must be an object")
    for key in item:
        if key not in required and key not in optional:
            raise ConfigError(_join(path, key), "unknown key")
    for key in required:
        if key not in item:
            raise ConfigError(_join(path, key), "required")


def _join(path: str, key: str) -> str:
    return key if path == "(root)" else f"{path}.{key}"


def text(value: Any, path: str) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(path, "must be a non-empty string")
    return value


def description(item: dict, path: str) -> str:
    """The optional free-text description of an item."""
    value = item.get("description", "")
    if not isinstance(value, str):
        raise ConfigError(path, "must be a string")
    return value


def number(value: Any, path: str) -> float:
    """A finite number (bool excluded: "true" as a weight is a typo, not 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(path, "must be a finite number")
    return float(value)


def boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(path, "must be true or false")
    return value


def integer(value: Any, path: str, minimum: int) -> int:
    """An integer of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(path, f"must be an integer >= {minimum}")
    return value


def probability(value: Any, path: str) -> float:
    """A probability in (0, 1]: 0 would make log2(m/u) infinite and let one field decide."""
    result = number(value, path)
    if not 0.0 < result <= 1.0:
        raise ConfigError(path, "must be between 0 and 1 (0 excluded)")
    return result


def check_attribute(value: Any, path: str, *, or_source: bool = False) -> None:
    """Raise unless ``value`` is a canonical attribute (or, with ``or_source``, the record's
    source, which only a comparison reads)."""
    if value not in CANONICAL_ATTRIBUTES and not (or_source and value == SOURCE_ATTRIBUTE):
        raise ConfigError(path, f"unknown attribute {value!r}")


def check_transform(value: Any, path: str) -> None:
    """Raise unless ``value`` is a known blocking transform."""
    if isinstance(value, str) and value in PLAIN_TRANSFORMS:
        return
    if isinstance(value, str) and ":" in value:
        kind, _, count = value.partition(":")
        if kind in COUNTED_TRANSFORMS and count.isdigit() and int(count) >= 1:
            return
    raise ConfigError(
        path,
        f"unknown transform {value!r}; expected one of {sorted(PLAIN_TRANSFORMS)} "
        "or first:N / last:N",
    )


def check_threshold_order(review: float, auto_link: float) -> None:
    """Raise unless the review threshold is below the auto-link threshold."""
    if not review < auto_link:
        raise ConfigError(
            "auto_link_threshold",
            f"must be greater than review_threshold ({auto_link:g} <= {review:g})",
        )
