"""Records prepared for vectorised comparison: per attribute, distinct values and one integer
code per record (-1 = missing), with per-value features computed once and cached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd


class Column:
    """One attribute of a RecordTable: ``codes`` per record into ``values`` (distinct values).

    Per-value features are computed lazily, once, and cached on the column.
    """

    def __init__(self, raw: Sequence[str | None] | np.ndarray) -> None:
        self.codes, self.values = _factorize(raw)
        self._features: dict[tuple, np.ndarray] = {}

    def feature(self, key: tuple, compute: Callable[[str], object], dtype=object,
                of: np.ndarray | None = None) -> np.ndarray:
        """``compute`` applied to every distinct value, cached under ``key``; with ``of`` (an
        earlier feature, one entry per distinct value) applied to that instead, so a feature
        of a feature (the local part of the canonical address) reuses the work behind it."""
        found = self._features.get(key)
        if found is None:
            # Filled element by element: np.array() would turn tuples into a 2-D array.
            found = np.empty(len(self.values), dtype=dtype)
            for index, value in enumerate(self.values if of is None else of):
                found[index] = compute(value)
            self._features[key] = found
        return found

    def mapped(self, key: tuple, compute: Callable[[str], str]) -> Column:
        """A column of ``compute`` of each record's value (the first word of a name), cached
        under ``key``; built from the distinct values, so it costs no pass over the records'
        strings."""
        found = self._features.get(("column", *key))
        if found is None:
            codes, values = _factorize(self.feature(key, compute))
            found = Column.__new__(Column)
            found.values, found._features = values, {}
            found.codes = (np.where(self.codes >= 0, codes[self.codes], -1).astype(np.int32)
                           if len(codes) else self.codes.copy())  # no values: all missing
            self._features[("column", *key)] = found
        return found

    def feature_codes(self, key: tuple, compute: Callable[[str], str],
                      of: np.ndarray | None = None) -> np.ndarray:
        """Integer codes of a string feature per distinct value; "" (no feature) becomes -1."""
        found = self._features.get(("codes", *key))
        if found is None:
            found, _ = _factorize(self.feature(key, compute, of=of))
            self._features[("codes", *key)] = found
        return found


# Below this many values a dict beats pandas' set-up cost; the real-time path lives here.
_SMALL = 512


def _factorize(raw: Sequence[str | None] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes (int32, -1 for None or "") and distinct values in order of first appearance.

    A source that sends an empty field knows nothing, so "" counts as missing, like None.
    """
    if len(raw) < _SMALL:
        seen: dict[str, int] = {}
        codes = [-1 if not v else seen.setdefault(v, len(seen)) for v in raw]
        values = np.empty(len(seen), dtype=object)
        values[:] = list(seen)
        return np.array(codes, dtype=np.int32), values
    series = pd.Series(raw, dtype=object)
    series = series.where(series.notna() & (series != ""), None)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes.astype(np.int32), np.asarray(uniques, dtype=object)


class RecordTable:
    """Records prepared for comparison: one Column per attribute, rows in record order."""

    def __init__(self, columns: Mapping[str, Sequence[str | None] | np.ndarray]) -> None:
        self.columns = {name: Column(values) for name, values in columns.items()}
        lengths = {len(column.codes) for column in self.columns.values()}
        if len(lengths) > 1:
            raise ValueError("all columns must have the same length")
        self.size = lengths.pop() if lengths else 0

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, attributes: Iterable[str]) -> RecordTable:
        """A table of the given attributes of a DataFrame (absent columns count as missing)."""
        return cls(
            {
                a: frame[a].to_numpy(object) if a in frame else [None] * len(frame)
                for a in attributes
            }
        )

    @classmethod
    def from_records(
        cls, records: Sequence[Mapping[str, str | None]], attributes: Iterable[str]
    ) -> RecordTable:
        """A table of the given attributes of plain records (the real-time path)."""
        return cls({a: [record.get(a) for record in records] for a in attributes})

    def __getitem__(self, attribute: str) -> Column:
        return self.columns[attribute]
