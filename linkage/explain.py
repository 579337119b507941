"""Explanations of many batch pairs at once, in the same form as ``PairScore.explanation()``.

The batch path may relink hundreds of thousands of records; building each explanation through
``BatchResult.score`` would recompute one pair at a time. Here the per-attribute weights of all
chosen rows are computed in one vectorised call and only the small dicts are built in Python.
"""

from __future__ import annotations

import numpy as np

from linkage.config import MISSING_LEVEL
from linkage.pipeline import LEVEL_PREFIX, BatchResult
from linkage.scoring import match_probability, match_weights, pair_weights


def explain_rows(result: BatchResult, rows: np.ndarray) -> list[dict]:
    """Explanations (levels and weights, never values) of the pairs at positions ``rows``."""
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size == 0:
        return []
    config, pairs = result.config, result.pairs
    levels = np.stack([pairs[LEVEL_PREFIX + c.attribute].to_numpy()[rows]
                       for c in config.comparisons], axis=1).astype(np.int8)
    left = pairs.attrs["left_position"][rows]
    right = pairs.attrs["right_position"][rows]
    weights = pair_weights(config, levels, result.table, left, right, result.frequencies)
    totals = match_weights(config, weights)
    # Pick the rows first: converting the whole column would cost seconds on millions of pairs.
    rules = [str(rule) for rule in pairs["rules"].to_numpy()[rows].tolist()]
    names = [[level.name for level in c.levels] + [MISSING_LEVEL] for c in config.comparisons]
    # Python lists, not numpy scalars, in the loop: a relink explains every moved record.
    level_rows, weight_rows = levels.tolist(), weights.tolist()
    attributes = [c.attribute for c in config.comparisons]
    explanations = []
    for i, total in enumerate(totals.tolist()):
        level_row, weight_row = level_rows[i], weight_rows[i]
        explanations.append({
            "config_version": config.version,
            "model_version": config.version,
            "weight": round(total, 4),
            "probability": round(match_probability(total), 6),
            "prior": config.prior_weight,
            "attributes": [
                {"attribute": attribute, "level": names[k][level_row[k]],
                 "weight": round(weight_row[k], 4)}
                for k, attribute in enumerate(attributes)],
            "blocking_rules": rules[i].split("+"),
        })
    return explanations
