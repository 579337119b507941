"""The versioned match configuration: comparisons, levels with m/u, blocking rules, thresholds.

A configuration is plain data (the JSON file shipped with the hub, later also training output)
parsed once into frozen dataclasses. This module owns the vocabulary (methods, level tests,
blocking transforms and their parameters) that ``linkage.scoring`` and ``linkage.blocking``
implement, so a bad file is rejected up front with the JSON path of the offending item instead
of failing on the first pair that reaches the bad branch.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from linkage.attributes import CANONICAL_ATTRIBUTES

# Level tests each comparison method offers, with the parameter each test needs (None = none).
# Every method also offers "exact" (values equal) and requires the catch-all "else" as last level.
METHOD_TESTS: dict[str, dict[str, str | None]] = {
    "exact": {},
    "jaro_winkler": {"similarity": "threshold"},
    "levenshtein": {"distance": "max_distance"},
    "date": {"transposed_day_month": None, "one_digit": None, "same_year_month": None},
    "phone": {"last_digits": "n"},
    "email": {"same_local_part": None},
}
EXACT_TEST = "exact"
ELSE_TEST = "else"
MISSING_LEVEL = "missing"  # reserved: either value absent; never configured, weight 0

# Blocking transforms: plain ones, and "first:N" / "last:N" (a prefix / suffix of N characters).
PLAIN_TRANSFORMS = frozenset({"soundex", "nysiis", "metaphone", "year", "year_month"})
COUNTED_TRANSFORMS = frozenset({"first", "last"})

_TOP_LEVEL_KEYS = tuple(
    "version prior_weight review_threshold auto_link_threshold max_block_size blocking_rules"
    " comparisons".split()
)

# Hand-written m (or u) values must form a distribution over the levels; this slack only absorbs
# rounding in the file, it is not meant to hide a forgotten level.
_SUM_TOLERANCE = 1e-3


class ConfigError(ValueError):
    """A match configuration is invalid; the message starts with the JSON path of the bad item."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")

    def __reduce__(self) -> tuple[type[ConfigError], tuple[str, str]]:
        # Rebuild from both parts when unpickled (e.g. raised inside a Celery task).
        return (type(self), (self.path, self.reason))


@dataclass(frozen=True)
class Level:
    """One agreement level of a comparison, with its Fellegi–Sunter m and u probabilities.

    ``test`` names the check that puts a pair on this level (defaults to ``name``); ``threshold``
    (jaro_winkler similarity), ``max_distance`` (levenshtein) and ``n`` (phone last digits) are
    the test's parameter where it takes one. ``weight`` is log2(m/u), computed once here because
    scoring reads it for every pair.
    """

    name: str
    m: float
    u: float
    test: str = ""
    threshold: float | None = None
    max_distance: int | None = None
    n: int | None = None
    weight: float = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not self.test:
            object.__setattr__(self, "test", self.name)
        if not (0.0 < self.m <= 1.0 and 0.0 < self.u <= 1.0):
            raise ValueError(f"level {self.name!r}: m and u must be in (0, 1]")
        object.__setattr__(self, "weight", math.log2(self.m / self.u))


@dataclass(frozen=True)
class Comparison:
    """How one attribute is compared: a method and its levels, tried in order; last is "else"."""

    attribute: str
    method: str
    levels: tuple[Level, ...]
    description: str = field(default="", compare=False)


@dataclass(frozen=True)
class BlockingRule:
    """A blocking key built from several attributes, each optionally transformed.

    ``transforms`` is aligned with ``attributes``; an empty string means the value as is.
    """

    name: str
    attributes: tuple[str, ...]
    transforms: tuple[str, ...] = ()
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.transforms:
            object.__setattr__(self, "transforms", ("",) * len(self.attributes))
        if len(self.transforms) != len(self.attributes):
            raise ValueError("transforms must be aligned with attributes")


@dataclass(frozen=True)
class MatchConfig:
    """A complete, validated match configuration. Build it with load_config or parse_config."""

    version: str
    prior_weight: float
    review_threshold: float
    auto_link_threshold: float
    max_block_size: int
    blocking_rules: tuple[BlockingRule, ...]
    comparisons: tuple[Comparison, ...]
    description: str = field(default="", compare=False)

    def with_thresholds(
        self, *, review: float | None = None, auto_link: float | None = None
    ) -> MatchConfig:
        """Return a copy with the review and/or auto-link threshold replaced (settings overrides).

        Raises ConfigError unless the resulting review threshold is below the auto-link one.
        """
        new_review = self.review_threshold
        new_auto = self.auto_link_threshold
        if review is not None:
            new_review = _number(review, "review_threshold")
        if auto_link is not None:
            new_auto = _number(auto_link, "auto_link_threshold")
        _check_threshold_order(new_review, new_auto)
        return replace(self, review_threshold=new_review, auto_link_threshold=new_auto)


def load_config(path: str | Path | None = None) -> MatchConfig:
    """Read and validate a match configuration file; None means the one shipped with the hub."""
    if path is None:
        source = resources.files("linkage").joinpath("default_match_config.json")
        label = "default_match_config.json"
    else:
        source = Path(path)
        label = str(path)
    text = source.read_text(encoding="utf-8")
    try:
        data = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise ConfigError(label, f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    return parse_config(data)


def parse_config(data: dict) -> MatchConfig:
    """Validate a decoded configuration document and build the MatchConfig.

    Rejects unknown or missing keys, unknown attributes, methods, level tests and transforms,
    m/u outside (0, 1] or not summing to 1, unreachable levels, duplicate names and thresholds
    out of order; the ConfigError message names the JSON path of the first problem found.
    """
    _expect_keys(data, "(root)", required=_TOP_LEVEL_KEYS, optional=("description",))
    version = _text(data["version"], "version")
    review = _number(data["review_threshold"], "review_threshold")
    auto_link = _number(data["auto_link_threshold"], "auto_link_threshold")
    _check_threshold_order(review, auto_link)
    max_block_size = _integer(data["max_block_size"], "max_block_size", minimum=2)
    config = MatchConfig(
        version=version,
        prior_weight=_number(data["prior_weight"], "prior_weight"),
        review_threshold=review,
        auto_link_threshold=auto_link,
        max_block_size=max_block_size,
        blocking_rules=_parse_blocking_rules(data["blocking_rules"]),
        comparisons=_parse_comparisons(data["comparisons"]),
        description=_description(data, "description"),
    )
    return config


def _parse_blocking_rules(value: Any) -> tuple[BlockingRule, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError("blocking_rules", "must be a non-empty list")
    rules: list[BlockingRule] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        path = f"blocking_rules[{index}]"
        _expect_keys(
            item, path, required=("name", "attributes"), optional=("transforms", "description")
        )
        name = _text(item["name"], f"{path}.name")
        if name in seen:
            raise ConfigError(f"{path}.name", f"duplicate blocking rule name {name!r}")
        seen.add(name)
        attributes = item["attributes"]
        if not isinstance(attributes, list) or not attributes:
            raise ConfigError(f"{path}.attributes", "must be a non-empty list of attributes")
        for position, attribute in enumerate(attributes):
            _attribute(attribute, f"{path}.attributes[{position}]")
            if attribute in attributes[:position]:
                raise ConfigError(f"{path}.attributes[{position}]", f"duplicate {attribute!r}")
        transforms = item.get("transforms", {})
        if not isinstance(transforms, dict):
            raise ConfigError(f"{path}.transforms", "must be an object {attribute: transform}")
        for attribute, transform in transforms.items():
            if attribute not in attributes:
                raise ConfigError(
                    f"{path}.transforms.{attribute}", "attribute is not in this rule's attributes"
                )
            _transform(transform, f"{path}.transforms.{attribute}")
        rules.append(
            BlockingRule(
                name=name,
                attributes=tuple(attributes),
                transforms=tuple(transforms.get(attribute, "") for attribute in attributes),
                description=_description(item, f"{path}.description"),
            )
        )
    return tuple(rules)


def _parse_comparisons(value: Any) -> tuple[Comparison, ...]:
    if not isinstance(value, dict) or not value:
        raise ConfigError("comparisons", "must be a non-empty object {attribute: comparison}")
    comparisons: list[Comparison] = []
    for attribute, item in value.items():
        path = f"comparisons.{attribute}"
        _attribute(attribute, path)
        _expect_keys(item, path, required=("method", "levels"), optional=("description",))
        method = item["method"]
        if method not in METHOD_TESTS:
            raise ConfigError(
                f"{path}.method",
                f"unknown method {method!r}; expected one of {sorted(METHOD_TESTS)}",
            )
        comparisons.append(
            Comparison(
                attribute=attribute,
                method=method,
                levels=_parse_levels(item["levels"], method, f"{path}.levels"),
                description=_description(item, f"{path}.description"),
            )
        )
    return tuple(comparisons)


def _parse_levels(value: Any, method: str, path: str) -> tuple[Level, ...]:
    if not isinstance(value, list) or len(value) < 2:
        raise ConfigError(path, 'must be a list of at least two levels, the last one "else"')
    tests = METHOD_TESTS[method]
    allowed_tests = {EXACT_TEST, ELSE_TEST, *tests}
    levels: list[Level] = []
    # Per test, the parameter of the previous level using it: a later level must be looser,
    # otherwise it could never be reached (the first passing level wins).
    previous: dict[str, Any] = {}
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(item_path, "must be an object")
        name = _text(item.get("name"), f"{item_path}.name")
        if name == MISSING_LEVEL:
            raise ConfigError(f"{item_path}.name", f"{MISSING_LEVEL!r} is reserved")
        test = item.get("test", name)
        if not isinstance(test, str) or test not in allowed_tests:
            raise ConfigError(
                f"{item_path}.test",
                f"unknown test {test!r} for method {method!r}; expected one of "
                f"{sorted(allowed_tests)}",
            )
        param = tests.get(test)
        _expect_keys(
            item,
            item_path,
            required=("name", "m", "u", *([param] if param else [])),
            optional=("test", "description"),
        )
        if any(level.name == name for level in levels):
            raise ConfigError(f"{item_path}.name", f"duplicate level name {name!r}")
        is_last = index == len(value) - 1
        if is_last and test != ELSE_TEST:
            raise ConfigError(f"{item_path}.test", 'the last level must be the catch-all "else"')
        if not is_last and test == ELSE_TEST:
            raise ConfigError(f"{item_path}.test", '"else" must be the last level')
        params = _level_param(item, test, param, item_path, previous)
        levels.append(
            Level(
                name=name,
                m=_probability(item["m"], f"{item_path}.m"),
                u=_probability(item["u"], f"{item_path}.u"),
                test=test,
                **params,
            )
        )
    for attr in ("m", "u"):
        total = sum(getattr(level, attr) for level in levels)
        if abs(total - 1.0) > _SUM_TOLERANCE:
            raise ConfigError(path, f"{attr} values must sum to 1 over the levels (got {total:g})")
    return tuple(levels)


def _level_param(
    item: dict, test: str, param: str | None, path: str, previous: dict[str, Any]
) -> dict[str, Any]:
    """Validate the level's test parameter and that the level is reachable after earlier ones."""
    if param is None:
        if test in previous:
            raise ConfigError(f"{path}.test", f"duplicate test {test!r}: this level is unreachable")
        previous[test] = None
        return {}
    param_path = f"{path}.{param}"
    if param == "threshold":
        threshold = _number(item[param], param_path)
        if not 0.0 < threshold <= 1.0:
            raise ConfigError(param_path, "must be between 0 and 1")
        if test in previous and threshold >= previous[test]:
            raise ConfigError(param_path, f"must be below the previous level's {previous[test]}")
        previous[test] = threshold
        return {"threshold": threshold}
    amount = _integer(item[param], param_path, minimum=1)
    if test in previous:
        # A larger max_distance is looser; a larger n (more trailing digits) is stricter.
        before = previous[test]
        looser = amount > before if param == "max_distance" else amount < before
        if not looser:
            raise ConfigError(param_path, f"level unreachable after the previous {param} {before}")
    previous[test] = amount
    return {param: amount}


def _expect_keys(
    item: Any, path: str, *, required: tuple[str, ...], optional: tuple[str, ...]
) -> None:
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


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(path, "must be a non-empty string")
    return value


def _description(item: dict, path: str) -> str:
    value = item.get("description", "")
    if not isinstance(value, str):
        raise ConfigError(path, "must be a string")
    return value


def _number(value: Any, path: str) -> float:
    # bool is an int subclass; "true" as a weight is a typo, not 1.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(path, "must be a finite number")
    return float(value)


def _integer(value: Any, path: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(path, f"must be an integer >= {minimum}")
    return value


def _probability(value: Any, path: str) -> float:
    number = _number(value, path)
    # u = 0 or m = 0 would make log2(m/u) infinite: one field could then veto or force a link.
    if not 0.0 < number <= 1.0:
        raise ConfigError(path, "must be between 0 and 1 (0 excluded)")
    return number


def _attribute(value: Any, path: str) -> None:
    if value not in CANONICAL_ATTRIBUTES:
        raise ConfigError(path, f"unknown attribute {value!r}")


def _transform(value: Any, path: str) -> None:
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


def _check_threshold_order(review: float, auto_link: float) -> None:
    if not review < auto_link:
        raise ConfigError(
            "auto_link_threshold",
            f"must be greater than review_threshold ({auto_link:g} <= {review:g})",
        )


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json silently keeps the last of two equal keys; in a config that hides an edit mistake.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ConfigError(key, "duplicate key in JSON object")
        result[key] = value
    return result
