"""Term frequencies: how common each value of an attribute is, for the term-frequency adjustment.

Agreeing on "smith" says less than agreeing on "wojciechowski". The batch path counts values in
its DataFrame (``TermFrequencies.from_frame``); the hub counts them in its database and builds
the same object with ``from_counts``, or passes any object with a ``frequency`` method. The
tables hold personal data (names), so they are never part of a stored model or explanation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

import numpy as np
import pandas as pd

# Below this many records holding an attribute, value counts say more about the sample than
# about the population (in a hub's first hundred records every name looks common), so the
# comparison keeps its average weight. Both paths apply it, so they still agree.
MIN_RECORDS = 1000
# A value's frequency is shrunk towards the comparison's average (the exact level's u) as if
# this many records with the average frequency had been seen besides the real ones: counts in
# a hub of a few thousand records are noisy, and a record arriving early would otherwise score
# differently from the same record in a batch run over the finished data. At a million
# records the shrinkage is negligible.
PRIOR_RECORDS = 2000.0


class FrequencySource(Protocol):
    """Anything that can tell how common a value is (a fraction of the records holding one)."""

    def frequency(self, attribute: str, value: str) -> float | None:
        """The fraction of records with this value among those with any, None if unknown."""

    def total(self, attribute: str) -> float | None:
        """How many records hold the attribute (None if unknown). Optional: a source without
        it gets no shrinkage (``linkage.frequencies.shrunk``)."""


def shrunk(frequency: np.ndarray, total: float, average: float) -> np.ndarray:
    """Frequencies of ``total`` records shrunk towards ``average`` (see PRIOR_RECORDS)."""
    return (frequency * total + PRIOR_RECORDS * average) / (total + PRIOR_RECORDS)


class TermFrequencies:
    """Value counts per attribute; ``frequency`` is count / records with a value.

    A value the table does not know has no frequency (None): the comparison then keeps its
    average weight instead of inventing one.
    """

    def __init__(self, counts: Mapping[str, pd.Series]) -> None:
        self._counts = {a: s[s > 0] for a, s in counts.items()}
        self._totals = {a: float(s.sum()) for a, s in self._counts.items()}

    @classmethod
    def from_counts(cls, counts: Mapping[str, Mapping[str, int]]) -> TermFrequencies:
        """Build from {attribute: {value: number of records}}, e.g. a GROUP BY in the hub."""
        return cls({a: pd.Series(dict(c), dtype="int64") for a, c in counts.items()})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, attributes: Iterable[str]) -> TermFrequencies:
        """Count the values of ``attributes`` in a DataFrame of standardised records."""
        counts = {}
        for attribute in attributes:
            if attribute in frame:
                column = frame[attribute]
                counts[attribute] = column[column.notna() & (column != "")].value_counts()
        return cls(counts)

    @property
    def attributes(self) -> tuple[str, ...]:
        """The attributes with counts."""
        return tuple(self._counts)

    def frequency(self, attribute: str, value: str) -> float | None:
        """The fraction of records holding ``value`` among those with a value; None if unknown."""
        counts = self._counts.get(attribute)
        if counts is None or self._totals[attribute] < MIN_RECORDS:
            return None
        count = counts.get(value)
        return None if count is None else float(count) / self._totals[attribute]

    def total(self, attribute: str) -> float | None:
        """Records holding the attribute, None below MIN_RECORDS (as ``frequency``)."""
        total = self._totals.get(attribute)
        return total if total is not None and total >= MIN_RECORDS else None

    def frequencies(self, attribute: str, values: np.ndarray) -> np.ndarray:
        """``frequency`` of many values at once; NaN where unknown."""
        counts = self._counts.get(attribute)
        if counts is None or self._totals[attribute] < MIN_RECORDS:
            return np.full(len(values), np.nan)
        positions = counts.index.get_indexer(pd.Index(values, dtype=object))
        found = counts.to_numpy(np.float64)[positions] / self._totals[attribute]
        return np.where(positions >= 0, found, np.nan)


def frequencies_of(source: FrequencySource, attribute: str, values: np.ndarray) -> np.ndarray:
    """Frequencies of ``values`` from any source; uses its vectorised method when it has one."""
    vectorised = getattr(source, "frequencies", None)
    if vectorised is not None:
        return np.asarray(vectorised(attribute, values), dtype=np.float64)
    found = (source.frequency(attribute, value) for value in values)
    return np.fromiter((np.nan if f is None else f for f in found), np.float64, len(values))
