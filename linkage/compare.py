"""Comparison vectors of record pairs, computed with recordlinkage's ``Compare``.

Each comparison of the configuration is one custom recordlinkage feature
(``BaseCompareFeature``) whose vectorised computation is ``linkage.comparisons``'s: the pairs
reach it as record positions, and it reads the codes and per-value features of the record
table, so no string is copied per pair. (recordlinkage's own string features compare pair by
pair in Python, which is what makes them slow at millions of pairs; its ``Compare`` runs any
vectorised feature.) The result is the Fellegi–Sunter gamma matrix: one agreement level per
pair and comparison, -1 where a value is missing.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import recordlinkage
from recordlinkage.base import BaseCompareFeature

from linkage.comparisons import RecordTable, comparison_levels
from linkage.config import Comparison, MatchConfig

__all__ = ["comparison_matrix"]

_POSITION = "position"  # the one column recordlinkage indexes: each record's row in the table
# Compare logs two INFO lines per call; the real-time path calls it for large candidate sets,
# where that would be a log line per upsert saying nothing.
logging.getLogger("recordlinkage").setLevel(logging.WARNING)


class LevelFeature(BaseCompareFeature):
    """One configured comparison as a recordlinkage feature: the level of each pair."""

    def __init__(self, comparison: Comparison, table: RecordTable) -> None:
        super().__init__(_POSITION, _POSITION, label=comparison.attribute)
        self.comparison = comparison
        self.table = table

    def _compute_vectorized(self, left: pd.Series, right: pd.Series) -> np.ndarray:
        return comparison_levels(self.comparison, self.table, left.to_numpy(), right.to_numpy())


def comparison_matrix(
    config: MatchConfig, table: RecordTable, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """Levels of every comparison of the configuration: an int8 array of shape (pairs, K),
    for the pairs (``left[i]``, ``right[i]``) of table rows."""
    if len(left) == 0:
        return np.empty((0, len(config.comparisons)), dtype=np.int8)
    # The pairs as recordlinkage takes them, a MultiIndex, built on its codes directly: the
    # levels are the table's rows, so nothing is sorted or hashed.
    rows = pd.RangeIndex(table.size)
    pairs = pd.MultiIndex(levels=[rows, rows], codes=[np.asarray(left), np.asarray(right)],
                          verify_integrity=False)
    positions = pd.DataFrame({_POSITION: np.arange(table.size)})
    compare = recordlinkage.Compare([LevelFeature(c, table) for c in config.comparisons])
    vectors = compare.compute(pairs, positions)
    return vectors.to_numpy(dtype=np.int8)
