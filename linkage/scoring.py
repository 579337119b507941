"""Fellegi–Sunter scoring of a record pair, with an attribute-by-attribute explanation.

Scoring is two steps, kept apart on purpose: ``comparison_vector`` puts the pair on one level per
compared attribute (the gamma vector of Fellegi–Sunter), and ``score_vector`` turns those levels
into weights. Training (EM over gamma vectors of many pairs), term-frequency adjustments and a
vectorised batch comparison can then replace or extend one step without touching the other.

Each configuration is compiled once into level tests and ready-made AttributeScore objects (they
hold no values, only levels and weights), so a pair costs a few string comparisons and sums.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import eq, ne
from threading import Lock

from rapidfuzz.distance import JaroWinkler, Levenshtein

from linkage.config import ELSE_TEST, EXACT_TEST, METHOD_TESTS, Comparison, Level, MatchConfig

Record = Mapping[str, str | None]
MISSING = -1  # the level index of an attribute missing on either side
# 2**w overflows a float beyond about w = 1023; a pair is certain far before that.
_MAX_EXPONENT = 1000.0


@dataclass(frozen=True)
class AttributeScore:
    """The level one attribute comparison reached and the weight it added ("missing" adds 0)."""

    attribute: str
    level: str
    weight: float


@dataclass(frozen=True)
class PairScore:
    """The match weight of a pair, its match probability and the per-attribute contributions.

    ``weight`` already includes ``prior`` (the configuration's prior weight).
    """

    weight: float
    probability: float
    attributes: tuple[AttributeScore, ...]
    prior: float = 0.0
    config_version: str = ""

    def explanation(self) -> dict:
        """A JSON-safe account of the score, stored with a link or review task.

        It holds levels and weights only, never the compared values, so it carries no personal
        data and survives the erasure of the records it explains.
        """
        return {
            "config_version": self.config_version,
            "weight": round(self.weight, 4),
            "probability": round(self.probability, 6),
            "prior": round(self.prior, 4),
            "attributes": [
                {"attribute": a.attribute, "level": a.level, "weight": round(a.weight, 4)}
                for a in self.attributes
            ],
        }


def score_pair(a: Record, b: Record, config: MatchConfig) -> PairScore:
    """Score two records: the prior plus, per compared attribute, the weight of its level.

    A value missing (None or empty) on either side gives the level "missing" with weight 0. For
    present values the first level whose test passes wins; the last level ("else") catches all.
    """
    # One pass doing what comparison_vector + score_vector do: this is the real-time hot path.
    weight = config.prior_weight
    attributes = []
    for attribute, compare, outcomes in _compiled(config).comparisons:
        left = a.get(attribute)
        right = b.get(attribute)
        outcome = outcomes[compare(left, right)] if left and right else outcomes[MISSING]
        weight += outcome.weight
        attributes.append(outcome)
    return PairScore(
        weight, match_probability(weight), tuple(attributes), config.prior_weight, config.version
    )


def comparison_vector(a: Record, b: Record, config: MatchConfig) -> tuple[int, ...]:
    """The level index reached by each comparison of the configuration, MISSING (-1) if absent.

    This is the Fellegi–Sunter gamma vector: what training counts and what a vectorised batch
    comparison must reproduce.
    """
    vector = []
    for attribute, compare, _ in _compiled(config).comparisons:
        left = a.get(attribute)
        right = b.get(attribute)
        vector.append(compare(left, right) if left and right else MISSING)
    return tuple(vector)


def score_vector(vector: Sequence[int], config: MatchConfig) -> PairScore:
    """Turn a comparison vector (one level index per comparison) into a PairScore."""
    weight = config.prior_weight
    attributes = []
    for (_, _, outcomes), index in zip(_compiled(config).comparisons, vector, strict=True):
        # outcomes[-1] is the "missing" score, so MISSING (-1) indexes it directly.
        outcome = outcomes[index]
        weight += outcome.weight
        attributes.append(outcome)
    return PairScore(
        weight, match_probability(weight), tuple(attributes), config.prior_weight, config.version
    )


def match_probability(weight: float) -> float:
    """The match probability 2**w / (1 + 2**w) of a total weight; increases with the weight."""
    if weight < -_MAX_EXPONENT:
        return 0.0
    if weight > _MAX_EXPONENT:
        return 1.0
    return 1.0 / (1.0 + 2.0**-weight)


# --- level tests -----------------------------------------------------------------------------
# A factory per (method, test) binds the level's parameter and returns a check of two present,
# standardised values. jaro_winkler and levenshtein levels are compiled apart (see below) so the
# similarity is computed once per pair, not once per level.

PairTest = Callable[[str, str], bool]


def _jaro_winkler_test(level: Level) -> PairTest:
    threshold = level.threshold
    return lambda a, b: JaroWinkler.normalized_similarity(a, b) >= threshold


def _levenshtein_test(level: Level) -> PairTest:
    max_distance = level.max_distance
    return lambda a, b: Levenshtein.distance(a, b, score_cutoff=max_distance) <= max_distance


def _is_iso_date(value: str) -> bool:
    # Standardised dates are YYYY-MM-DD; a cheap shape check is enough to slice them safely.
    return len(value) == 10 and value[4] == "-" and value[7] == "-"


def _transposed_day_month(a: str, b: str) -> bool:
    # "1985-03-04" vs "1985-04-03": day and month swapped on entry (US vs European order).
    return (
        _is_iso_date(a)
        and _is_iso_date(b)
        and a[:4] == b[:4]
        and a[5:7] == b[8:10]
        and a[8:10] == b[5:7]
    )


def _one_character_differs(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(map(ne, a, b)) == 1


def _same_year_month(a: str, b: str) -> bool:
    return _is_iso_date(a) and _is_iso_date(b) and a[:7] == b[:7]


def _last_digits_test(level: Level) -> PairTest:
    count = level.n or 0

    def same_last_digits(a: str, b: str) -> bool:
        # Catches one number written with and without its country code (or another trunk
        # prefix) when standardisation could not tell the country.
        tail_a = _digits(a)[-count:]
        return len(tail_a) == count and tail_a == _digits(b)[-count:]

    return same_last_digits


def _digits(value: str) -> str:
    rest = value.removeprefix("+")
    return rest if rest.isdigit() else "".join(char for char in value if char.isdigit())


def _same_local_part(a: str, b: str) -> bool:
    # The same mailbox name at another provider is good evidence, not proof ("info" and
    # "john.smith" exist at many domains), which is why this level has its own, larger u.
    local_a, at_a, _ = a.rpartition("@")
    local_b, at_b, _ = b.rpartition("@")
    return bool(at_a and at_b and local_a) and local_a == local_b


_TEST_FACTORIES: dict[tuple[str, str], Callable[[Level], PairTest]] = {
    ("jaro_winkler", "similarity"): _jaro_winkler_test,
    ("levenshtein", "distance"): _levenshtein_test,
    ("date", "transposed_day_month"): lambda level: _transposed_day_month,
    ("date", "one_digit"): lambda level: _one_character_differs,
    ("date", "same_year_month"): lambda level: _same_year_month,
    ("phone", "last_digits"): _last_digits_test,
    ("email", "same_local_part"): lambda level: _same_local_part,
}


def level_test(method: str, level: Level) -> PairTest:
    """The check putting two present values on ``level`` of a comparison ``method``.

    For batch code and tests; score_pair uses the same checks, compiled per configuration.
    """
    if level.test == EXACT_TEST:
        return eq
    if level.test not in METHOD_TESTS[method]:
        raise KeyError(f"method {method!r} has no level test {level.test!r}")
    return _TEST_FACTORIES[(method, level.test)](level)


# --- compiled configurations -----------------------------------------------------------------


@dataclass(frozen=True)
class _CompiledConfig:
    # Per comparison: attribute, a function giving the level index of two present values, and
    # the AttributeScore of each level followed by the one for "missing".
    comparisons: tuple[tuple[str, Callable[[str, str], int], tuple[AttributeScore, ...]], ...]


def _compile_comparison(comparison: Comparison) -> Callable[[str, str], int]:
    levels = comparison.levels
    else_index = len(levels) - 1
    if comparison.method in ("jaro_winkler", "levenshtein"):
        # Every test of these methods passes for equal values, so equal values take the first
        # level; otherwise "exact" fails and only the similarity (or distance) decides.
        if comparison.method == "jaro_winkler":
            steps = tuple((i, lv.threshold) for i, lv in enumerate(levels) if lv.threshold)
            lowest = min((t for _, t in steps), default=1.0)

            def measure(a: str, b: str) -> float:
                return JaroWinkler.normalized_similarity(a, b, score_cutoff=lowest)

        else:
            # Compared as negative distances so both methods read "measure >= bound".
            steps = tuple((i, -lv.max_distance) for i, lv in enumerate(levels) if lv.max_distance)
            largest = max((-bound for _, bound in steps), default=0)

            def measure(a: str, b: str) -> float:
                return -Levenshtein.distance(a, b, score_cutoff=largest)

        def compare_by_measure(a: str, b: str) -> int:
            if a == b:
                return 0
            value = measure(a, b)
            for index, bound in steps:
                if value >= bound:
                    return index
            return else_index

        return compare_by_measure

    checks = tuple(
        (index, level_test(comparison.method, level))
        for index, level in enumerate(levels)
        if level.test != ELSE_TEST
    )

    def compare(a: str, b: str) -> int:
        for index, passes in checks:
            if passes(a, b):
                return index
        return else_index

    return compare


def _compile(config: MatchConfig) -> _CompiledConfig:
    comparisons = []
    for comparison in config.comparisons:
        outcomes = tuple(
            AttributeScore(comparison.attribute, level.name, level.weight)
            for level in comparison.levels
        ) + (AttributeScore(comparison.attribute, "missing", 0.0),)
        comparisons.append((comparison.attribute, _compile_comparison(comparison), outcomes))
    return _CompiledConfig(comparisons=tuple(comparisons))


# Keyed by id() because hashing a MatchConfig walks every level on each call, which would cost
# more than scoring the pair; the entry keeps its config alive, so an id is never reused while
# cached. Configurations are few (one per version and threshold override), the bound is a guard.
_CACHE: dict[int, tuple[MatchConfig, _CompiledConfig]] = {}
_CACHE_LIMIT = 32
_CACHE_LOCK = Lock()


def _compiled(config: MatchConfig) -> _CompiledConfig:
    entry = _CACHE.get(id(config))
    if entry is not None and entry[0] is config:
        return entry[1]
    compiled = _compile(config)
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[id(config)] = (config, compiled)
    return compiled
