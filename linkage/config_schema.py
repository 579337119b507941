"""The match configuration document: validation into ``linkage.config`` objects and back to JSON.

Every check raises ConfigError with the JSON path of the offending item, so whoever edits the
file (or a training run that produced it) learns exactly what is wrong and where.
"""

from __future__ import annotations

from typing import Any

from linkage.attributes import SOURCE_ATTRIBUTE
from linkage.config import (
    CAP_MODES,
    ELSE_TEST,
    EXACT_TEST,
    METHOD_TESTS,
    MISSING_LEVEL,
    PHONETIC_ALGORITHMS,
    RULE_KINDS,
    SOURCE_METHOD,
    BlockingRule,
    Comparison,
    ConfigError,
    Level,
    MatchConfig,
    TermFrequencySettings,
    TrainingSettings,
    WeightCap,
)
from linkage.config_validators import (
    boolean,
    check_attribute,
    check_threshold_order,
    check_transform,
    description,
    expect_keys,
    integer,
    number,
    probability,
    text,
)

_REQUIRED = tuple(
    "version prior_weight review_threshold auto_link_threshold max_block_size blocking_rules"
    " comparisons".split()
)
_OPTIONAL = ("description", "placeholders", "weight_caps", "training", "trained",
             "conflict_threshold")
# Hand-written m (or u) values must form a distribution over the levels; this slack only absorbs
# rounding in the file, it is not meant to hide a forgotten level.
_SUM_TOLERANCE = 1e-3
# For each test parameter: does a later level of the same test need a larger value to be
# reachable? (A lower similarity threshold, more edits, fewer trailing digits, dates fewer
# years apart are looser.)
_LOOSER_WHEN_LARGER = {"threshold": False, "max_distance": True, "n": False, "min_years": False}


def build_config(data: Any) -> MatchConfig:
    """Validate a decoded document and build the MatchConfig (see ``parse_config``)."""
    expect_keys(data, "(root)", required=_REQUIRED, optional=_OPTIONAL)
    review = number(data["review_threshold"], "review_threshold")
    auto_link = number(data["auto_link_threshold"], "auto_link_threshold")
    check_threshold_order(review, auto_link)
    trained = data.get("trained")
    if trained is not None and not isinstance(trained, dict):
        raise ConfigError("trained", "must be an object")
    comparisons = _comparisons(data["comparisons"])
    return MatchConfig(
        version=text(data["version"], "version"),
        prior_weight=number(data["prior_weight"], "prior_weight"),
        review_threshold=review,
        auto_link_threshold=auto_link,
        max_block_size=integer(data["max_block_size"], "max_block_size", minimum=2),
        blocking_rules=_blocking_rules(data["blocking_rules"]),
        comparisons=comparisons,
        weight_caps=_weight_caps(data.get("weight_caps", []), comparisons),
        conflict_threshold=_conflict_threshold(data.get("conflict_threshold"), review),
        placeholders=_placeholders(data.get("placeholders", {})),
        training=_training(data.get("training", {})),
        trained=trained,
        description=description(data, "description"),
    )


def _weight_caps(value: Any, comparisons: tuple[Comparison, ...]) -> tuple[WeightCap, ...]:
    if not isinstance(value, list):
        raise ConfigError("weight_caps", "must be a list")
    compared = {c.attribute for c in comparisons}
    caps: list[WeightCap] = []
    for index, item in enumerate(value):
        path = f"weight_caps[{index}]"
        expect_keys(item, path, required=("name", "attributes", "max_weight"),
                    optional=("description", "mode", "person_attributes", "contact_attributes",
                              "contact_conflict_weight", "min_share"))
        name = text(item["name"], f"{path}.name")
        mode = item.get("mode", "sum")
        if mode not in CAP_MODES:
            raise ConfigError(f"{path}.mode", f"must be one of {sorted(CAP_MODES)}")
        attributes = item["attributes"]
        # A group of one only means something while person attributes may disagree (a birth
        # date twins share); otherwise there is nothing to count once.
        fewest = 1 if item.get("person_attributes") else 2
        if not isinstance(attributes, list) or len(attributes) < fewest:
            raise ConfigError(f"{path}.attributes", "must be a list of at least two attributes"
                              " (one with person_attributes)")
        for position, attribute in enumerate(attributes):
            if attribute not in compared:
                raise ConfigError(f"{path}.attributes[{position}]",
                                  f"{attribute!r} is not compared")
            taken = any(attribute in cap.attributes for cap in caps)
            if taken or attribute in attributes[:position]:
                raise ConfigError(f"{path}.attributes[{position}]",
                                  f"{attribute!r} is already capped")
        max_weight = number(item["max_weight"], f"{path}.max_weight")
        if max_weight <= 0:
            raise ConfigError(f"{path}.max_weight", "must be positive")
        persons = item.get("person_attributes", [])
        if not isinstance(persons, list) or (persons and mode != "strongest"):
            raise ConfigError(f"{path}.person_attributes",
                              'must be a list, and only with mode "strongest"')
        for position, attribute in enumerate(persons):
            if attribute not in compared or attribute in attributes:
                raise ConfigError(f"{path}.person_attributes[{position}]",
                                  f"{attribute!r} is not compared outside the group")
        contacts = item.get("contact_attributes", [])
        if not isinstance(contacts, list) or (contacts and not persons):
            raise ConfigError(f"{path}.contact_attributes",
                              "must be a list, and only with person_attributes")
        for position, attribute in enumerate(contacts):
            if attribute not in compared or attribute in attributes or attribute in persons:
                raise ConfigError(f"{path}.contact_attributes[{position}]",
                                  f"{attribute!r} is not compared outside the group and the "
                                  "person attributes")
        conflict = item.get("contact_conflict_weight")
        if conflict is not None:
            if not contacts:
                raise ConfigError(f"{path}.contact_conflict_weight",
                                  "only with contact_attributes")
            conflict = number(conflict, f"{path}.contact_conflict_weight")
            if conflict >= 0:
                raise ConfigError(f"{path}.contact_conflict_weight",
                                  "must be negative (bits of a disagreement)")
        min_share = item.get("min_share")
        if min_share is not None:
            if not persons:
                raise ConfigError(f"{path}.min_share", "only with person_attributes")
            min_share = probability(min_share, f"{path}.min_share")
        caps.append(WeightCap(name, tuple(attributes), max_weight, mode, tuple(persons),
                              tuple(contacts), conflict, min_share))
    return tuple(caps)


def _conflict_threshold(value: Any, review: float) -> float | None:
    if value is None:
        return None
    threshold = number(value, "conflict_threshold")
    if not threshold < review:
        raise ConfigError("conflict_threshold",
                          f"must be below review_threshold ({threshold:g} >= {review:g})")
    return threshold


def _placeholders(value: Any) -> dict[str, frozenset[str]]:
    if not isinstance(value, dict):
        raise ConfigError("placeholders", "must be an object {attribute: [values]}")
    result = {}
    for attribute, values in value.items():
        path = f"placeholders.{attribute}"
        check_attribute(attribute, path)
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ConfigError(path, "must be a list of strings")
        result[attribute] = frozenset(values)
    return result


def _training(value: Any) -> TrainingSettings:
    defaults = TrainingSettings()
    names = tuple(defaults.__dataclass_fields__)
    expect_keys(value, "training", required=(), optional=names)
    parsed: dict[str, Any] = {}
    for name in names:
        if name not in value:
            continue
        path = f"training.{name}"
        if isinstance(getattr(defaults, name), int):
            parsed[name] = integer(value[name], path, minimum=0)
        else:
            parsed[name] = number(value[name], path)
            if parsed[name] <= 0:
                raise ConfigError(path, "must be positive")
    return TrainingSettings(**parsed)


def _blocking_rules(value: Any) -> tuple[BlockingRule, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError("blocking_rules", "must be a non-empty list")
    rules: list[BlockingRule] = []
    for index, item in enumerate(value):
        path = f"blocking_rules[{index}]"
        expect_keys(
            item,
            path,
            required=("name", "attributes"),
            optional=("transforms", "kind", "window", "prefix", "train", "unordered",
                      "description"),
        )
        name = text(item["name"], f"{path}.name")
        if any(rule.name == name for rule in rules):
            raise ConfigError(f"{path}.name", f"duplicate blocking rule name {name!r}")
        attributes = item["attributes"]
        if not isinstance(attributes, list) or not attributes:
            raise ConfigError(f"{path}.attributes", "must be a non-empty list of attributes")
        for position, attribute in enumerate(attributes):
            check_attribute(attribute, f"{path}.attributes[{position}]")
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
            check_transform(transform, f"{path}.transforms.{attribute}")
        kind = item.get("kind", "exact")
        if kind not in RULE_KINDS:
            raise ConfigError(
                f"{path}.kind", f"unknown kind {kind!r}; expected {sorted(RULE_KINDS)}"
            )
        sorted_kind = kind == "sorted_neighbourhood"
        for key in ("window", "prefix"):
            if (key in item) != sorted_kind:
                reason = "required" if sorted_kind else "only for sorted_neighbourhood rules"
                raise ConfigError(f"{path}.{key}", reason)
        unordered = boolean(item.get("unordered", False), f"{path}.unordered")
        if unordered and (sorted_kind or len(attributes) < 2):
            raise ConfigError(f"{path}.unordered",
                              "only for exact rules with at least two attributes")
        rules.append(
            BlockingRule(
                name=name,
                attributes=tuple(attributes),
                transforms=tuple(transforms.get(attribute, "") for attribute in attributes),
                kind=kind,
                window=integer(item["window"], f"{path}.window", minimum=2) if sorted_kind else 0,
                prefix=integer(item["prefix"], f"{path}.prefix", minimum=1) if sorted_kind else 0,
                train=boolean(item.get("train", True), f"{path}.train"),
                unordered=unordered,
                description=description(item, f"{path}.description"),
            )
        )
    return tuple(rules)


def _comparisons(value: Any) -> tuple[Comparison, ...]:
    if not isinstance(value, dict) or not value:
        raise ConfigError("comparisons", "must be a non-empty object {attribute: comparison}")
    comparisons: list[Comparison] = []
    for attribute, item in value.items():
        path = f"comparisons.{attribute}"
        check_attribute(attribute, path, or_source=True)
        expect_keys(
            item,
            path,
            required=("method", "levels"),
            optional=("term_frequency", "description"),
        )
        method = item["method"]
        if method not in METHOD_TESTS:
            raise ConfigError(
                f"{path}.method",
                f"unknown method {method!r}; expected one of {sorted(METHOD_TESTS)}",
            )
        _check_source_comparison(attribute, method, item, path)
        levels = _levels(item["levels"], method, f"{path}.levels", attribute)
        comparisons.append(
            Comparison(
                attribute=attribute,
                method=method,
                levels=levels,
                term_frequency=_term_frequency(item, f"{path}.term_frequency", levels),
                description=description(item, f"{path}.description"),
            )
        )
    return tuple(comparisons)


def _check_source_comparison(attribute: str, method: str, item: dict, path: str) -> None:
    """The record's source takes the source method, the only method it may take, and no
    term-frequency adjustment (how big a source is says nothing about a person)."""
    if attribute == SOURCE_ATTRIBUTE and method != SOURCE_METHOD:
        raise ConfigError(f"{path}.method",
                          f'the record\'s source is compared by method "{SOURCE_METHOD}"')
    if method == SOURCE_METHOD and attribute != SOURCE_ATTRIBUTE:
        raise ConfigError(f"{path}.method",
                          f'method "{SOURCE_METHOD}" compares only the record\'s source')
    if method == SOURCE_METHOD and item.get("term_frequency"):
        raise ConfigError(f"{path}.term_frequency", "the source takes no term-frequency adjustment")


def _term_frequency(
    item: dict, path: str, levels: tuple[Level, ...]
) -> TermFrequencySettings | None:
    value = item.get("term_frequency")
    if value is None or value is False:
        return None
    if not any(level.test == EXACT_TEST for level in levels):
        raise ConfigError(path, 'needs an "exact" level to adjust')
    if value is True:
        return TermFrequencySettings()
    expect_keys(value, path, required=(), optional=("min_frequency",))
    settings = TermFrequencySettings()
    if "min_frequency" in value:
        settings = TermFrequencySettings(
            min_frequency=probability(value["min_frequency"], f"{path}.min_frequency")
        )
    return settings


def _levels(value: Any, method: str, path: str, attribute: str) -> tuple[Level, ...]:
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
        name = text(item.get("name"), f"{item_path}.name")
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
        expect_keys(
            item,
            item_path,
            required=("name", "m", "u", *([param] if param else [])),
            optional=("test", "neutral", "conflict", "first_word", "description"),
        )
        if any(level.name == name for level in levels):
            raise ConfigError(f"{item_path}.name", f"duplicate level name {name!r}")
        is_last = index == len(value) - 1
        if is_last and test != ELSE_TEST:
            raise ConfigError(f"{item_path}.test", 'the last level must be the catch-all "else"')
        if not is_last and test == ELSE_TEST:
            raise ConfigError(f"{item_path}.test", '"else" must be the last level')
        params = _level_param(item, test, param, item_path, previous, attribute)
        levels.append(
            Level(
                name=name,
                m=probability(item["m"], f"{item_path}.m"),
                u=probability(item["u"], f"{item_path}.u"),
                test=test,
                neutral=boolean(item.get("neutral", False), f"{item_path}.neutral"),
                conflict=_conflict_level(item, test, f"{item_path}.conflict"),
                first_word=_first_word_level(item, method, test, f"{item_path}.first_word"),
                description=description(item, f"{item_path}.description"),
                **params,
            )
        )
    for attr in ("m", "u"):
        total = sum(getattr(level, attr) for level in levels)
        if abs(total - 1.0) > _SUM_TOLERANCE:
            raise ConfigError(path, f"{attr} values must sum to 1 over the levels (got {total:g})")
    return tuple(levels)


# Tests for which first words say nothing new: equal first words are the token level's, and a
# swap or move compares with another attribute.
FIRST_WORD_EXCLUDED_TESTS = frozenset(
    {EXACT_TEST, ELSE_TEST, "token", "swapped", "swapped_similar", "moved", "crossed"})


def _conflict_level(item: dict, test: str, path: str) -> bool:
    conflict = boolean(item.get("conflict", False), path)
    if conflict and test == EXACT_TEST:
        raise ConfigError(path, "agreeing exactly cannot say two different people")
    return conflict


def _first_word_level(item: dict, method: str, test: str, path: str) -> bool:
    first_word = boolean(item.get("first_word", False), path)
    if first_word and (method != "name" or test in FIRST_WORD_EXCLUDED_TESTS):
        raise ConfigError(path, "only for a level of a name comparison that compares two "
                          "different names (not exact, token, swapped or else)")
    return first_word


def _level_param(
    item: dict, test: str, param: str | None, path: str, previous: dict[str, Any], attribute: str
) -> dict[str, Any]:
    """Validate the level's test parameter and that the level is reachable after earlier ones."""
    param_path = f"{path}.{param}"
    if param in (None, "other", "algorithm"):
        # Tests without an ordered parameter can appear once (twice would be unreachable),
        # except phonetic, where two algorithms are two different tests.
        key = (test, item.get(param)) if param == "algorithm" else test
        if key in previous:
            raise ConfigError(f"{path}.test", f"duplicate test {test!r}: this level is unreachable")
        previous[key] = None
        if param == "other":
            check_attribute(item[param], param_path)
            if item[param] == attribute:
                raise ConfigError(param_path, "must be another attribute")
            return {"other": item[param]}
        if param == "algorithm":
            if item[param] not in PHONETIC_ALGORITHMS:
                raise ConfigError(
                    param_path, f"unknown algorithm; expected one of {sorted(PHONETIC_ALGORITHMS)}"
                )
            return {"algorithm": item[param]}
        return {}
    if param == "threshold":
        amount: Any = number(item[param], param_path)
        if not 0.0 < amount <= 1.0:
            raise ConfigError(param_path, "must be between 0 and 1")
    else:
        amount = integer(item[param], param_path, minimum=1)
    if test in previous:
        before = previous[test]
        looser = amount > before if _LOOSER_WHEN_LARGER[param] else amount < before
        if not looser:
            raise ConfigError(param_path, f"level unreachable after the previous {param} {before}")
    previous[test] = amount
    return {param: amount}
