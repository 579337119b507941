"""Evaluation of matching against known truth (synthetic data, or a steward-labelled sample).

Clusterings are given as mappings record id -> cluster label; labels are opaque (only equality
matters), so truth may use a person id and the prediction a golden id. All scores are computed
by counting, never by enumerating record pairs, so a million records take a second or two:

* pairwise: precision and recall over the pairs of records put together (what linkage papers
  report; large clusters weigh quadratically);
* B-cubed: precision and recall per record, averaged (each record weighs the same);
* blocking: how many true pairs the candidate pairs keep, and how much comparing they save.

``with_review_decided`` answers "how good would we be if stewards worked the whole queue?".
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

Labels = Mapping[Hashable, Hashable]


@dataclass(frozen=True)
class PairMetrics:
    """Counts of record pairs: together in both clusterings (true positives), together only in
    the prediction (false positives), together only in the truth (false negatives).

    Precision is 1.0 when no pair is predicted (no wrong claim was made), recall is 1.0 when no
    pair is true (nothing was missed); F1 is 0.0 when both precision and recall are 0.
    """

    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        """Share of predicted pairs that are true."""
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        """Share of true pairs that are predicted."""
        true = self.true_positives + self.false_negatives
        return self.true_positives / true if true else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        return _harmonic_mean(self.precision, self.recall)


def pairwise_metrics(truth: Labels, predicted: Labels) -> PairMetrics:
    """Pairwise true/false positives and false negatives of ``predicted`` against ``truth``.

    Both mappings must label the same records (ValueError otherwise). Computed from the
    contingency table of truth x predicted clusters: a cell of n records holds n(n-1)/2 pairs
    that are together in both clusterings.
    """
    true_codes, predicted_codes = _aligned_codes(truth, predicted)
    together_in_both = _pair_count(np.bincount(_cells(true_codes, predicted_codes)))
    return PairMetrics(
        true_positives=together_in_both,
        false_positives=_pair_count(np.bincount(predicted_codes)) - together_in_both,
        false_negatives=_pair_count(np.bincount(true_codes)) - together_in_both,
    )


def bcubed(truth: Labels, predicted: Labels) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of ``predicted`` against ``truth``.

    Per record: precision is the share of its predicted cluster that truly belongs with it
    (itself included), recall the share of its true cluster that its predicted cluster holds.
    Both are averaged over records; F1 is the harmonic mean of the two averages (Amigó et al.,
    2009). Both mappings must label the same records; no records gives (1.0, 1.0, 1.0).
    """
    true_codes, predicted_codes = _aligned_codes(truth, predicted)
    if not len(true_codes):
        return 1.0, 1.0, 1.0
    cell = _cells(true_codes, predicted_codes)
    overlap = np.bincount(cell)[cell].astype(float)  # records sharing both clusters with each
    precision = float(np.mean(overlap / np.bincount(predicted_codes)[predicted_codes]))
    recall = float(np.mean(overlap / np.bincount(true_codes)[true_codes]))
    return precision, recall, _harmonic_mean(precision, recall)


def blocking_metrics(
    candidate_pairs: pd.DataFrame | Iterable[tuple[Hashable, Hashable]],
    truth: Labels,
    n_records: int | Mapping[Hashable, int] | None = None,
) -> dict[str, float | int]:
    """Quality of a set of candidate pairs against ``truth``.

    ``candidate_pairs`` is a DataFrame with ``left`` and ``right`` columns, or any iterable of
    id pairs (a recordlinkage MultiIndex included); order within a pair, repeats and pairs of a
    record with itself do not count. Every id must be in ``truth`` (ValueError otherwise).

    ``n_records`` is the number of records the blocking ran over: an int, a mapping source ->
    record count (summed), or None for ``len(truth)``. The hub deduplicates all sources together,
    within and across sources, so "all possible pairs" is n(n-1)/2 of that total.

    Returns ``pairs_completeness`` (share of true pairs among the candidates; 1.0 when there is
    no true pair), ``reduction_ratio`` (1 - candidates / all possible pairs; 1.0 when no pair is
    possible), ``pairs_quality`` (share of candidates that are true; 1.0 without candidates),
    and the counts ``candidate_pairs``, ``true_pairs`` and ``true_pairs_found``.
    """
    keys = list(truth)
    index = _index(keys)
    codes = _factorize(truth.values(), len(keys))
    if isinstance(candidate_pairs, pd.DataFrame):
        left, right = candidate_pairs["left"], candidate_pairs["right"]
    elif isinstance(candidate_pairs, pd.MultiIndex):
        left, right = (candidate_pairs.get_level_values(side) for side in (0, 1))
    else:
        pairs = list(candidate_pairs)
        left, right = ([pair[side] for pair in pairs] for side in (0, 1))
    low, high = (_positions(index, values) for values in (left, right))
    low, high = np.minimum(low, high), np.maximum(low, high)
    distinct = pd.unique((low * max(len(keys), 1) + high)[low != high])  # hashing beats sorting
    low, high = distinct // max(len(keys), 1), distinct % max(len(keys), 1)
    found = int(np.count_nonzero(codes[low] == codes[high]))
    true_pairs = _pair_count(np.bincount(codes))

    if n_records is None:
        n_records = len(keys)
    elif isinstance(n_records, Mapping):
        n_records = sum(n_records.values())
    possible = n_records * (n_records - 1) // 2
    return {
        "pairs_completeness": found / true_pairs if true_pairs else 1.0,
        "reduction_ratio": 1.0 - len(distinct) / possible if possible else 1.0,
        "pairs_quality": found / len(distinct) if len(distinct) else 1.0,
        "candidate_pairs": len(distinct),
        "true_pairs": true_pairs,
        "true_pairs_found": found,
    }


def with_review_decided(
    predicted: Labels, review_pairs: Iterable[tuple[Hashable, Hashable]], truth: Labels
) -> dict[Hashable, Hashable]:
    """The predicted clustering after every review task was decided correctly.

    A review pair whose records share a truth cluster merges their predicted clusters (through
    a union-find, so merges chain); a pair that does not is left apart. Nothing is ever split:
    a review task can only confirm a link, as in the hub. A merged cluster takes the smallest
    of its labels (the first one if labels cannot be compared), so labels that follow the
    "smallest record id" rule of ``linkage.cluster`` keep following it. Returns record id ->
    label for every record of ``predicted``; ValueError for a review pair with an unknown id.
    """
    parent: dict[Hashable, Hashable] = {}

    def find(label: Hashable) -> Hashable:
        # Only absorbed labels are keys of parent, so a label not in it is a root.
        while label in parent:
            up = parent[label]
            if up in parent:
                parent[label] = up = parent[up]  # path halving keeps chains short
            label = up
        return label

    for a, b in review_pairs:
        for record in (a, b):
            if record not in predicted or record not in truth:
                raise ValueError(f"review pair refers to record {record!r}, not labelled")
        if truth[a] == truth[b]:
            first, second = find(predicted[a]), find(predicted[b])
            if first != second:
                try:
                    first, second = min(first, second), max(first, second)
                except TypeError:
                    pass
                parent[second] = first
    renamed = {label: find(label) for label in parent}
    return {record: renamed.get(label, label) for record, label in predicted.items()}


def _aligned_codes(truth: Labels, predicted: Labels) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of the truth and predicted labels, record by record."""
    keys = list(truth)
    try:
        predicted_labels = [predicted[key] for key in keys]
    except KeyError as error:
        raise ValueError(f"record {error.args[0]!r} is in truth but not in predicted") from None
    if len(predicted) != len(keys):
        extra = next(key for key in predicted if key not in truth)
        raise ValueError(f"record {extra!r} is in predicted but not in truth")
    return _factorize(truth.values(), len(keys)), _factorize(predicted_labels, len(keys))


def _factorize(labels: Iterable[Hashable], count: int) -> np.ndarray:
    # An object array keeps tuple labels whole; None and NaN count as ordinary labels.
    values = np.fromiter(labels, dtype=object, count=count)
    return pd.factorize(values, use_na_sentinel=False)[0].astype(np.int64)


def _index(keys: list[Hashable]) -> pd.Index:
    """An index for looking records up; int64 when the ids are ints (far faster than objects)."""
    if keys and type(keys[0]) is int:
        try:
            array = np.array(keys)
        except ValueError:
            array = np.empty(0, object)
        if array.dtype.kind == "i":
            return pd.Index(array)
    return pd.Index(np.fromiter(keys, dtype=object, count=len(keys)), dtype=object)


def _positions(index: pd.Index, values: pd.Series | pd.Index | list) -> np.ndarray:
    values = pd.Index(values, tupleize_cols=False)  # a column keeps its dtype: fast lookups
    positions = index.get_indexer(values).astype(np.int64)
    if (positions < 0).any():
        unknown = values[np.flatnonzero(positions < 0)[0]]
        raise ValueError(f"candidate pair refers to record {unknown!r}, which is not in truth")
    return positions


def _cells(true_codes: np.ndarray, predicted_codes: np.ndarray) -> np.ndarray:
    """Per record, a code of its cell of the contingency table (truth x predicted cluster)."""
    combined = true_codes * (int(predicted_codes.max(initial=0)) + 1) + predicted_codes
    return pd.factorize(combined)[0]  # hashing: np.unique would sort, several times slower


def _pair_count(sizes: np.ndarray) -> int:
    """Number of record pairs inside clusters of the given sizes."""
    sizes = sizes.astype(np.int64)
    return int(np.sum(sizes * (sizes - 1) // 2))


def _harmonic_mean(a: float, b: float) -> float:
    return 2 * a * b / (a + b) if a + b else 0.0
