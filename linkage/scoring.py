"""Fellegi–Sunter scoring: match weights from agreement levels, and their explanation.

The weight of a pair is the prior plus, per compared attribute, log2(m/u) of the level it
reached (0 when the value is missing on either side). On the exact level of an attribute with
a term-frequency adjustment, u is replaced by the frequency of the agreed value, so agreeing on
a rare name weighs more than on a common one.

``pair_weights`` does this for arrays of pairs (the batch pipeline); ``score_many`` and
``score_pair`` run the very same code on a table of one record and its candidates (the hub's
real-time path), so both paths give a pair the same levels and weights, bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from linkage.comparisons import MISSING, RecordTable, comparison_matrix
from linkage.config import EXACT_TEST, MISSING_LEVEL, Comparison, MatchConfig
from linkage.frequencies import FrequencySource, frequencies_of

Record = Mapping[str, str | None]

__all__ = [
    "MISSING",
    "AttributeScore",
    "PairScore",
    "comparison_vector",
    "match_probability",
    "apply_weight_caps",
    "pair_weights",
    "score_many",
    "score_pair",
]


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
    """

    weight: float
    probability: float
    attributes: tuple[AttributeScore, ...]
    prior: float = 0.0
    config_version: str = ""
    rules: tuple[str, ...] = ()

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
        return explanation


def match_probability(weight):
    """The match probability 2**w / (1 + 2**w) of a total weight (a number or an array)."""
    # 2**-w overflows to inf for very negative weights, which correctly gives 0.
    with np.errstate(over="ignore"):
        result = 1.0 / (1.0 + np.exp2(-np.asarray(weight, dtype=np.float64)))
    return float(result) if np.ndim(result) == 0 else result


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
    weights = np.empty(levels.shape, dtype=np.float64)
    for k, comparison in enumerate(config.comparisons):
        # Index -1 (MISSING) reads the trailing 0.0: a missing value is neutral.
        lookup = np.array([level.weight for level in comparison.levels] + [0.0])
        weights[:, k] = lookup[levels[:, k]]
        if comparison.term_frequency is not None and frequencies is not None:
            _adjust_exact(weights[:, k], levels[:, k], comparison, table, left, frequencies)
    apply_weight_caps(weights, config)
    return weights


def apply_weight_caps(weights: np.ndarray, config: MatchConfig) -> None:
    """Scale down, in place, the positive weights of each capped group (see ``WeightCap``).

    ``weights`` is (pairs, K) in bits, columns in the order of ``config.comparisons``. The
    positive weights of a group keep their proportions, so the explanation still shows which
    attribute contributed what, and still sums to the total.
    """
    for cap in config.weight_caps:
        columns = [k for k, c in enumerate(config.comparisons) if c.attribute in cap.attributes]
        group = weights[:, columns]
        positive = np.where(group > 0, group, 0.0)
        total = positive.sum(axis=1)
        limit = np.full(len(total), cap.max_weight)
        if cap.mode == "strongest":
            strongest = positive.max(axis=1, initial=0.0)
            if cap.person_attributes:
                persons = [k for k, c in enumerate(config.comparisons)
                           if c.attribute in cap.person_attributes]
                misfit = (weights[:, persons] < 0).any(axis=1)
                limit = np.where(misfit, np.minimum(strongest, limit), strongest)
            else:
                limit = np.minimum(limit, strongest)
        over = total > limit
        if not over.any():
            continue
        scale = np.ones_like(total)
        scale[over] = limit[over] / total[over]
        weights[:, columns] = np.where(group > 0, group * scale[:, None], group)


def _adjust_exact(
    weights: np.ndarray,
    levels: np.ndarray,
    comparison: Comparison,
    table: RecordTable,
    left: np.ndarray,
    frequencies: FrequencySource,
) -> None:
    """Replace u by the agreed value's frequency on the exact level (in place).

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
    table = RecordTable.from_records([record, *candidates], config.attributes)
    left = np.zeros(len(candidates), dtype=np.int64)
    right = np.arange(1, len(candidates) + 1, dtype=np.int64)
    levels = comparison_matrix(config, table, left, right)
    weights = pair_weights(config, levels, table, left, right, frequencies)
    totals = config.prior_weight + weights.sum(axis=1)
    names = [
        [level.name for level in comparison.levels] + [MISSING_LEVEL]
        for comparison in config.comparisons
    ]
    scores = []
    for row, total in enumerate(totals.tolist()):
        attributes = tuple(
            AttributeScore(comparison.attribute, names[k][levels[row, k]], float(weights[row, k]))
            for k, comparison in enumerate(config.comparisons)
        )
        scores.append(
            PairScore(
                total, match_probability(total), attributes, config.prior_weight, config.version
            )
        )
    return scores


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
