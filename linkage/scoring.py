"""Fellegi–Sunter scoring: match weights from agreement levels, and their explanation.

The weight of a pair is the prior plus, per compared attribute, log2(m/u) of the level it
reached (0 when the value is missing on either side). On the exact level of an attribute with
a term-frequency adjustment, u is replaced by the frequency of the agreed value, so agreeing on
a rare name weighs more than on a common one.

``pair_weights`` does this for arrays of pairs (the batch pipeline). ``score_many`` and
``score_pair`` (the hub's real-time path) put a few candidates on their levels with the scalar
tests of ``linkage.scalar`` (the numpy set-up costs milliseconds per call) and many with the
batch code; either way the weights come from ``pair_weights``, so both paths give a pair the
same levels and weights, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from linkage import scalar
from linkage.compare import comparison_matrix
from linkage.comparisons import MISSING, RecordTable
from linkage.config import EXACT_TEST, MISSING_LEVEL, Comparison, MatchConfig
from linkage.frequencies import FrequencySource, TermFrequencies, frequencies_of, shrunk
from linkage.weight_caps import added, apply_weight_caps

Record = Mapping[str, str | None]

__all__ = [
    "MISSING",
    "AttributeScore",
    "PairScore",
    "comparison_vector",
    "match_probability",
    "apply_weight_caps",
    "conflicting_pairs",
    "match_weights",
    "pair_weights",
    "score_many",
    "score_pair",
]

# Up to this many candidates the scalar tests are used. Measured (2026-12): the vectorised
# path costs ~10 ms before its first pair, and per pair it is no faster once each score is
# built, so the scalar one wins at every size seen in real time (4.7 vs 14 ms for 100
# candidates, 23 vs 43 ms for 1,000, 103 vs 128 ms for 4,000); a common name in a 1M hub
# reaches 500-600 candidates. Larger lists, not measured, keep the vectorised path. Both give
# identical levels and weights.
SCALAR_MAX_CANDIDATES = 5000


@dataclass(frozen=True)
class AttributeScore:
    """The level one attribute comparison reached and the weight it added ("missing" adds 0)."""

    attribute: str
    level: str
    weight: float


@dataclass(frozen=True)
class PairScore:
    """The match weight of a pair, its match probability and the per-attribute contributions.

    ``weight`` already includes ``prior``. ``config_version`` is the version of the model (or
    configuration) that scored the pair; ``rules`` the blocking rules that found it, if known.
    ``conflict``: an attribute reached a level that says two different people (``Level.conflict``).
    """

    weight: float
    probability: float
    attributes: tuple[AttributeScore, ...]
    prior: float = 0.0
    config_version: str = ""
    rules: tuple[str, ...] = ()
    conflict: bool = False

    def explanation(self) -> dict:
        """A JSON-safe account of the score, stored with a link or review task.

        It holds levels and weights only, never the compared values, so it carries no personal
        data and survives the erasure of the records it explains.
        """
        explanation = {
            "config_version": self.config_version,
            "model_version": self.config_version,
            "weight": round(self.weight, 4),
            "probability": round(self.probability, 6),
            "prior": round(self.prior, 4),
            "attributes": [
                {"attribute": a.attribute, "level": a.level, "weight": round(a.weight, 4)}
                for a in self.attributes
            ],
        }
        if self.rules:
            explanation["blocking_rules"] = list(self.rules)
        if self.conflict:
            explanation["conflict"] = True
        return explanation


def match_probability(weight):
    """The match probability 2**w / (1 + 2**w) of a total weight (a number or an array)."""
    # 2**-w overflows to inf for very negative weights, which correctly gives 0.
    with np.errstate(over="ignore"):
        result = 1.0 / (1.0 + np.exp2(-np.asarray(weight, dtype=np.float64)))
    return float(result) if np.ndim(result) == 0 else result


def conflicting_pairs(config: MatchConfig, levels: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Per pair (a row of levels, with its match weight), whether it is two different people
    by a conflict level: one comparison on such a level and the pair no auto-link of its own
    (see ``Level.conflict``)."""
    conflict = np.zeros(len(levels), dtype=bool)
    for k, comparison in enumerate(config.comparisons):
        if comparison.conflict_levels:
            conflict |= np.isin(levels[:, k], comparison.conflict_levels)
    return conflict & (totals < config.auto_link_threshold)


def _conflict_sets(config: MatchConfig) -> list[tuple[int, frozenset[int]]]:
    return [(k, frozenset(c.conflict_levels)) for k, c in enumerate(config.comparisons)
            if c.conflict_levels]


def pair_weights(
    config: MatchConfig,
    levels: np.ndarray,
    table: RecordTable,
    left: np.ndarray,
    right: np.ndarray,
    frequencies: FrequencySource | None = None,
) -> np.ndarray:
    """Per-attribute weights (float64, shape (pairs, K)) of pairs whose levels are known.

    Sum a row and add ``config.prior_weight`` for the match weight of the pair.
    """
    # Column-major: every step below works on one attribute's column at a time.
    weights = np.empty(levels.shape, dtype=np.float64, order="F")
    for k, comparison in enumerate(config.comparisons):
        # Index -1 (MISSING) reads the trailing 0.0: a missing value is neutral.
        lookup = np.array([level.weight for level in comparison.levels] + [0.0])
        weights[:, k] = lookup[levels[:, k]]
        if comparison.term_frequency is not None and frequencies is not None:
            _adjust_exact(weights[:, k], levels[:, k], comparison, table, left, frequencies)
    apply_weight_caps(weights, config)
    return weights


def match_weights(config: MatchConfig, weights: np.ndarray) -> np.ndarray:
    """The match weight of each row of ``pair_weights``: the prior plus the attribute weights,
    added left to right, so that every path (batch, real time, explanation) gets the very same
    float whatever the memory layout of its array."""
    return config.prior_weight + added([weights[:, k] for k in range(weights.shape[1])])


def _adjust_exact(
    weights: np.ndarray,
    levels: np.ndarray,
    comparison: Comparison,
    table: RecordTable,
    left: np.ndarray,
    frequencies: FrequencySource,
) -> None:
    """Replace u by the agreed value's frequency on the exact level (in place), shrunk
    towards the level's own u by ``linkage.frequencies.shrunk``.

    Both records hold the same value there, so the left one's is the agreed value.
    """
    exact = next(i for i, level in enumerate(comparison.levels) if level.test == EXACT_TEST)
    at = np.flatnonzero(levels == exact)
    if at.size == 0:
        return
    column = table[comparison.attribute]
    per_value = frequencies_of(frequencies, comparison.attribute, column.values)
    found = per_value[column.codes[left[at]]]
    known = ~np.isnan(found)
    total_of = getattr(frequencies, "total", None)  # a source may only know frequencies
    total = total_of(comparison.attribute) if total_of is not None else None
    if total is not None:
        found = shrunk(found, total, comparison.levels[exact].u)
    floor = comparison.term_frequency.min_frequency
    m = comparison.levels[exact].m
    weights[at[known]] = np.log2(m / np.maximum(found[known], floor))


def score_many(
    record: Record,
    candidates: Sequence[Record],
    config: MatchConfig,
    frequencies: FrequencySource | None = None,
) -> list[PairScore]:
    """Score one record against each of its candidates (the real-time path), in one pass.

    Equivalent to ``[score_pair(record, c, config, frequencies) for c in candidates]``, but the
    comparisons run once over all candidates.
    """
    if not candidates:
        return []
    prebuilt = _attribute_scores(config)
    if len(candidates) <= SCALAR_MAX_CANDIDATES:
        level_rows = scalar.levels_of(record, candidates, config)
        weights, base_rows = _small_weights(config, level_rows, record, prebuilt, frequencies)
    else:
        table = RecordTable.from_records([record, *candidates], config.attributes)
        left = np.zeros(len(candidates), dtype=np.int64)
        right = np.arange(1, len(candidates) + 1, dtype=np.int64)
        levels = comparison_matrix(config, table, left, right)
        weights = pair_weights(config, levels, table, left, right, frequencies)
        level_rows, base_rows = levels.tolist(), None
    totals = match_weights(config, weights)
    # One numpy call for all rows rather than one per row (microseconds each); elementwise, so
    # each probability is the one match_probability(total) gives.
    probabilities = np.atleast_1d(match_probability(totals)).tolist()
    # Python floats: numpy scalars are slow to index and build.
    weight_rows, total_rows = weights.tolist(), totals.tolist()
    conflict_sets = _conflict_sets(config)
    scores = []
    for row, (level_row, weight_row) in enumerate(zip(level_rows, weight_rows, strict=True)):
        if base_rows is not None and weight_row == base_rows[row]:
            # No adjustment or cap touched the row: every attribute is its level's shared score.
            # (== cannot confuse 0.0 with -0.0 here: no weight computation yields -0.0.)
            attributes = tuple(per[level] for per, level in zip(prebuilt, level_row, strict=True))
        else:
            attributes = tuple(
                _attribute_score(per[level], weight)
                for per, level, weight in zip(prebuilt, level_row, weight_row, strict=True)
            )
        conflict = total_rows[row] < config.auto_link_threshold and any(
            level_row[k] in levels for k, levels in conflict_sets)
        scores.append(
            PairScore(
                total_rows[row], probabilities[row], attributes, config.prior_weight,
                config.version, conflict=conflict,
            )
        )
    return scores


def _small_weights(
    config: MatchConfig,
    level_rows: list[list[int]],
    record: Record,
    prebuilt: list[list[AttributeScore]],
    frequencies: FrequencySource | None,
) -> tuple[np.ndarray, list[list[float]]]:
    """``pair_weights`` for a record and a few candidates, and the unadjusted weight rows.

    The level weights are copied from Python lists instead of numpy lookups (a copy, no
    arithmetic, so the same floats); the term-frequency adjustment and the caps are the very
    functions ``pair_weights`` calls, so every float operation is the same.
    """
    base_rows = [[per[level].weight for per, level in zip(prebuilt, row, strict=True)]
                 for row in level_rows]
    weights = np.array(base_rows, dtype=np.float64).reshape(len(level_rows), len(prebuilt))
    if frequencies is not None:
        adjusted = [c for c in config.comparisons if c.term_frequency is not None]
        if adjusted:
            levels = np.array(level_rows, dtype=np.int8).reshape(weights.shape)
            # The adjustment looks up the left value of each pair, here always the record's:
            # a one-row table of it gives the same frequencies as a table of all the records.
            table = RecordTable.from_records([record], [c.attribute for c in adjusted])
            left = np.zeros(len(level_rows), dtype=np.int64)
            if type(frequencies) is TermFrequencies:
                frequencies = _OneByOne(frequencies)
            for k, comparison in enumerate(config.comparisons):
                if comparison.term_frequency is not None:
                    _adjust_exact(weights[:, k], levels[:, k], comparison, table, left, frequencies)
    apply_weight_caps(weights, config)
    return weights, base_rows


class _OneByOne:
    """A TermFrequencies looked up value by value, for the one value the real-time path needs.

    ``TermFrequencies.frequencies`` builds a pandas Index per call (~0.1 ms); ``frequency`` is a
    dict-like lookup. Both divide the same float64 count by the same float64 total, so the
    frequencies are identical; only exactly TermFrequencies is wrapped, since another source's
    two methods need not agree.
    """

    def __init__(self, source: TermFrequencies) -> None:
        self._source = source

    def frequencies(self, attribute: str, values: np.ndarray) -> np.ndarray:
        """``frequency`` of each value, NaN where unknown (as ``TermFrequencies.frequencies``)."""
        found = (self._source.frequency(attribute, value) for value in values)
        return np.fromiter((np.nan if f is None else f for f in found), np.float64, len(values))

    def total(self, attribute: str) -> float | None:
        return self._source.total(attribute)


def _attribute_score(unadjusted: AttributeScore, weight: float) -> AttributeScore:
    """``unadjusted`` itself when ``weight`` is bitwise its weight, else a new AttributeScore.

    AttributeScores are immutable, so sharing one per (attribute, level) is safe and saves
    building a frozen dataclass per attribute per candidate. Zeros are told apart by sign, so
    a -0.0 is never replaced by a 0.0.
    """
    known = unadjusted.weight
    if weight == known and (weight or math.copysign(1.0, weight) == math.copysign(1.0, known)):
        return unadjusted
    return AttributeScore(unadjusted.attribute, unadjusted.level, weight)


# Per configuration (by id, with the config kept to detect a recycled id): per comparison, an
# AttributeScore per level index with the level's own weight; index -1 is "missing".
_PREBUILT: dict[int, tuple[MatchConfig, list[list[AttributeScore]]]] = {}


def _attribute_scores(config: MatchConfig) -> list[list[AttributeScore]]:
    entry = _PREBUILT.get(id(config))
    if entry is None or entry[0] is not config:
        if len(_PREBUILT) >= 16:
            _PREBUILT.clear()  # few configurations live in one process; recomputing is cheap
        prebuilt = [
            [AttributeScore(c.attribute, level.name, float(level.weight)) for level in c.levels]
            + [AttributeScore(c.attribute, MISSING_LEVEL, 0.0)]
            for c in config.comparisons
        ]
        entry = (config, prebuilt)
        _PREBUILT[id(config)] = entry
    return entry[1]


def score_pair(
    a: Record, b: Record, config: MatchConfig, frequencies: FrequencySource | None = None
) -> PairScore:
    """Score two standardised records: the prior plus each compared attribute's level weight.

    A value missing (None or empty) on either side gives the level "missing" with weight 0. For
    present values the first level whose test passes wins; the last level ("else") catches all.
    Without ``frequencies`` no term-frequency adjustment is made.
    """
    return score_many(a, [b], config, frequencies)[0]


def comparison_vector(a: Record, b: Record, config: MatchConfig) -> tuple[int, ...]:
    """The level index reached by each comparison of the configuration, MISSING (-1) if absent.

    This is the Fellegi–Sunter gamma vector of the pair, as training counts it.
    """
    table = RecordTable.from_records([a, b], config.attributes)
    levels = comparison_matrix(config, table, np.array([0]), np.array([1]))
    return tuple(int(level) for level in levels[0])
