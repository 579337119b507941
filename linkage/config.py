"""The versioned match configuration: comparisons, levels with m/u, blocking rules, thresholds.

A configuration is plain data (the JSON file shipped with the hub, or a trained model written by
``linkage.model``) parsed once into frozen dataclasses. A *trained model is a configuration* whose
m, u and prior were estimated from data: the same document format, a new version string and a
``training`` summary, so the hub stores, loads and scores with both alike.

The vocabulary (methods, level tests and their parameters, blocking rule kinds and transforms)
is in ``linkage.config_vocabulary`` and importable from here; the rules of the document are in
``linkage.config_schema``, which rejects a bad file up front with the JSON path of the
offending item.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from linkage.config_vocabulary import (  # noqa: F401 - the vocabulary, importable from here
    COUNTED_TRANSFORMS,
    ELSE_TEST,
    EXACT_TEST,
    METHOD_TESTS,
    MISSING_LEVEL,
    NAME_CHANGE_CONTACTS,
    PHONETIC_ALGORITHMS,
    PLAIN_TRANSFORMS,
    RULE_KINDS,
    SOURCE_METHOD,
    TEST_READS,
)


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

    ``test`` names the check that puts a pair on this level (defaults to ``name``); the test's
    parameter, where it takes one, is in ``threshold`` (jaro_winkler similarity),
    ``max_distance`` (levenshtein), ``n`` (last_digits, prefix), ``other`` (the attribute a
    name is swapped with), ``algorithm`` (phonetic) or ``min_years`` (years_apart).
    ``weight`` is log2(m/u), or 0 for a ``neutral`` level: one whose agreement says nothing the
    other comparisons have not said already (a mailbox name made of the person's names).
    A ``conflict`` level says two different people (born years apart) unless the pair's own
    weight reaches the auto-link threshold: clustering then never joins the two records
    through a chain of links, as it would not join two records a steward called different. A
    parent and their namesake child share a name and a home, which lifts their weight above
    the conflict threshold; a birth date keyed wrong in a register of individuals still links
    on the strength of everything else. A ``first_word`` level of a name is also reached when
    the first words of the two values pass its test, where one value has several words and the
    first words differ: "robert paul" / "bob" is a nickname, a middle name on one record only.
    """

    name: str
    m: float
    u: float
    test: str = ""
    threshold: float | None = None
    max_distance: int | None = None
    n: int | None = None
    other: str | None = None
    algorithm: str | None = None
    min_years: int | None = None
    neutral: bool = False
    conflict: bool = False
    first_word: bool = False
    description: str = field(default="", compare=False)
    weight: float = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not self.test:
            object.__setattr__(self, "test", self.name)
        if not (0.0 < self.m <= 1.0 and 0.0 < self.u <= 1.0):
            raise ValueError(f"level {self.name!r}: m and u must be in (0, 1]")
        weight = 0.0 if self.neutral else math.log2(self.m / self.u)
        object.__setattr__(self, "weight", weight)

    @property
    def parameter(self) -> Any:
        """The value of the test's parameter (None for tests without one)."""
        for name in ("threshold", "max_distance", "n", "other", "algorithm", "min_years"):
            value = getattr(self, name)
            if value is not None:
                return value
        return None


@dataclass(frozen=True)
class TermFrequencySettings:
    """Term-frequency adjustment of a comparison's exact level.

    Agreeing on a value shared by a fraction f of the records is worth log2(m / f) rather than
    log2(m / u): rare names weigh more than common ones. ``min_frequency`` bounds f from below
    so that a value seen once in a small data set cannot claim an absurd weight.
    """

    min_frequency: float = 1e-6


@dataclass(frozen=True)
class Comparison:
    """How one attribute is compared: a method and its levels, tried in order; last is "else".
"""

    attribute: str
    method: str
    levels: tuple[Level, ...]
    term_frequency: TermFrequencySettings | None = None
    description: str = field(default="", compare=False)

    @property
    def attributes(self) -> tuple[str, ...]:
        """Every attribute the comparison reads: its own, then any a level refers to."""
        others = [lv.other for lv in self.levels if lv.other and lv.other != self.attribute]
        others += [a for lv in self.levels for a in TEST_READS.get(lv.test, ())]
        return tuple(dict.fromkeys((self.attribute, *others)))

    @property
    def conflict_levels(self) -> tuple[int, ...]:
        """Indexes of the levels that say two different people (see ``Level.conflict``)."""
        return tuple(i for i, level in enumerate(self.levels) if level.conflict)

    def level_index(self, test: str) -> int | None:
        """Index of the first level using ``test``, or None."""
        return next((i for i, lv in enumerate(self.levels) if lv.test == test), None)


@dataclass(frozen=True)
class BlockingRule:
    """A blocking key built from several attributes, each optionally transformed.

    ``transforms`` is aligned with ``attributes``; an empty string means the value as is.
    A "sorted_neighbourhood" rule pairs each record with its ``window - 1`` successors in key
    order; the real-time path, which can only look keys up, approximates it with the first
    ``prefix`` characters of the key (see ``linkage.blocking``). An ``unordered`` rule sorts the
    transformed values of its first two attributes before joining them, so a record with given
    and family name swapped shares its key. ``train`` says whether EM
    learns m from the rule's pairs: rules whose blocks are mostly *related* people (a household,
    a shared mailbox name) would teach it that disagreeing given names are normal for a match.
    """

    name: str
    attributes: tuple[str, ...]
    transforms: tuple[str, ...] = ()
    kind: str = "exact"
    window: int = 0
    prefix: int = 0
    train: bool = True
    unordered: bool = False
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.transforms:
            object.__setattr__(self, "transforms", ("",) * len(self.attributes))
        if len(self.transforms) != len(self.attributes):
            raise ValueError("transforms must be aligned with attributes")


CAP_MODES = frozenset({"sum", "strongest"})


@dataclass(frozen=True)
class WeightCap:
    """A bound on the summed positive weight of attributes that are not independent evidence.

    Fellegi–Sunter adds weights as if attributes were independent. Address line, postcode and
    locality are one fact - where a household lives: a street line agreeing nearly implies the
    postcode and the locality agreeing, so summing their weights counts one address three
    times. The positive weights of the group are scaled down together. ``mode`` says down to
    what:

    * "strongest": the weight of the most telling agreement in the group (the group counts as
      one fact, worth what its most specific member is worth). Disagreements count as one
      fact too: a move changes street, postcode and town at once, and counts as the strongest
      of the three. When ``person_attributes`` are given, agreement counts at most
      ``max_weight`` while any of them disagrees (weighs less than -1 bit,
      ``weight_caps.NEUTRAL_BITS``), else without bound:
      twins, spouses and parent and child share a home but differ in a given name or a birth
      date, so a shared home only counts in full when the person fits;
    * "sum": ``max_weight``, whatever the members are worth; disagreements are left alone.
    """

    name: str
    attributes: tuple[str, ...]
    max_weight: float
    mode: str = "sum"
    person_attributes: tuple[str, ...] = ()
    # Agreement also counts at most ``max_weight`` while these say "someone else": a namesake at
    # the same address (a parent and their child, the birth date unknown on one record) has a
    # mailbox and a phone of their own, where one person's records nearly always share one.
    # With ``contact_conflict_weight`` (bits, negative), one of them weighing less than that
    # says so (two private mailboxes of their own, even with the phone missing on one record,
    # where a private and a work address disagree only a little); without it, every one of them
    # disagreeing (both records hold it and it falls below 0 bits).
    contact_attributes: tuple[str, ...] = ()
    contact_conflict_weight: float | None = None
    # The share of clearly different people among the pairs agreeing on the group below which
    # training drops the cap (None: ``training.household_share_min``); see
    # ``linkage.model.household_evidence``.
    min_share: float | None = None


@dataclass(frozen=True)
class TrainingSettings:
    """How ``linkage.model.train`` estimates the parameters (all have working defaults)."""

    random_pairs: int = 300_000
    max_em_iterations: int = 40
    em_tolerance: float = 1e-5
    # Fewer records say too little about u and m: among a few dozen records one family of
    # Smiths makes the name look common, and EM has next to no pairs. Training refuses.
    min_records: int = 300
    min_labelled_pairs: int = 50
    label_strength: float = 50.0
    seed: int = 0
    # Below this share of clearly different people among pairs sharing an address (surely
    # below: see ``linkage.model_corrections.household_evidence``), the data has no
    # multi-person households and training drops the household weight caps. FEBRL, a register
    # of individuals, shows 0.13%; the synthetic customers 3.3%.
    household_share_min: float = 0.01


@dataclass(frozen=True)
class MatchConfig:
    """A complete, validated match configuration (or trained model). See load_config."""

    version: str
    prior_weight: float
    review_threshold: float
    auto_link_threshold: float
    max_block_size: int
    blocking_rules: tuple[BlockingRule, ...]
    comparisons: tuple[Comparison, ...]
    weight_caps: tuple[WeightCap, ...] = ()
    # Two records whose pair weighs this or less are different people for clustering: no
    # chain of links may join them (None: no such rule).
    conflict_threshold: float | None = None
    placeholders: dict[str, frozenset[str]] = field(default_factory=dict, compare=False)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    trained: dict[str, Any] | None = field(default=None, compare=False)
    description: str = field(default="", compare=False)

    @property
    def attributes(self) -> tuple[str, ...]:
        """Every attribute a comparison or a blocking rule reads, in a stable order."""
        names = [a for c in self.comparisons for a in c.attributes]
        names += [a for rule in self.blocking_rules for a in rule.attributes]
        return tuple(dict.fromkeys(names))

    def comparison(self, attribute: str) -> Comparison:
        """The comparison of ``attribute`` (KeyError when it is not compared)."""
        for comparison in self.comparisons:
            if comparison.attribute == attribute:
                return comparison
        raise KeyError(attribute)

    def with_thresholds(
        self, *, review: float | None = None, auto_link: float | None = None
    ) -> MatchConfig:
        """Return a copy with the review and/or auto-link threshold replaced (settings overrides).

        Raises ConfigError unless the resulting review threshold is below the auto-link one.
        """
        from linkage.config_validators import check_threshold_order, number

        if review is None and auto_link is None:
            return self

        new_review = self.review_threshold if review is None else number(review, "review_threshold")
        new_auto = (
            self.auto_link_threshold
            if auto_link is None
            else number(auto_link, "auto_link_threshold")
        )
        check_threshold_order(new_review, new_auto)
        conflict = self.conflict_threshold
        if conflict is not None:
            # A review threshold moved down takes the conflict threshold with it, as far below
            # as it was: a pair worth a look must never count as two different people.
            conflict = min(conflict, new_review - (self.review_threshold - conflict))
        return replace(self, review_threshold=new_review, auto_link_threshold=new_auto,
                       conflict_threshold=conflict)

    def with_parameters(
        self,
        *,
        version: str,
        prior_weight: float,
        probabilities: dict[str, tuple[list[float], list[float]]],
        trained: dict[str, Any] | None = None,
        weight_caps: tuple[WeightCap, ...] | None = None,
    ) -> MatchConfig:
        """A copy with new m/u per level ({attribute: (m list, u list)}), prior and version.

        This is how training turns a configuration into a model; levels and rules are kept,
        and so are the weight caps unless ``weight_caps`` replaces them.
        """
        comparisons = []
        for comparison in self.comparisons:
            if comparison.attribute not in probabilities:
                comparisons.append(comparison)
                continue
            ms, us = probabilities[comparison.attribute]
            levels = tuple(
                replace(level, m=float(m), u=float(u))
                for level, m, u in zip(comparison.levels, ms, us, strict=True)
            )
            comparisons.append(replace(comparison, levels=levels))
        return replace(
            self,
            version=version,
            prior_weight=float(prior_weight),
            comparisons=tuple(comparisons),
            trained=trained,
            weight_caps=self.weight_caps if weight_caps is None else tuple(weight_caps),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of this configuration; ``from_dict`` (parse_config) reads it back."""
        from linkage.config_document import document_of

        return document_of(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchConfig:
        """Validate a decoded document and build the MatchConfig (same as parse_config)."""
        return parse_config(data)


def load_config(path: str | Path | None = None) -> MatchConfig:
    """Read and validate a match configuration file; None means the one shipped with the hub."""
    if path is None:
        source = resources.files("linkage").joinpath("default_match_config.json")
        label = "default_match_config.json"
    else:
        source = Path(path)
        label = str(path)
    text = source.read_text(encoding="utf-8")
    return loads_config(text, label=label)


def loads_config(text: str, *, label: str = "(text)") -> MatchConfig:
    """Parse and validate a configuration (or trained model) from its JSON text."""
    try:
        data = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise ConfigError(label, f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    return parse_config(data)


def parse_config(data: Any) -> MatchConfig:
    """Validate a decoded configuration document and build the MatchConfig.

    Rejects unknown or missing keys, unknown attributes, methods, level tests and transforms,
    m/u outside (0, 1] or not summing to 1, unreachable levels, duplicate names and thresholds
    out of order; the ConfigError message names the JSON path of the first problem found.
    """
    from linkage.config_schema import build_config

    return build_config(data)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json silently keeps the last of two equal keys; in a config that hides an edit mistake.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ConfigError(key, "duplicate key in JSON object")
        result[key] = value
    return result
