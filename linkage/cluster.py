"""Clustering: turn scored candidate pairs into entities without breaking stewards' decisions.

Linking every auto-link pair transitively (plain connected components) is what goes wrong in
practice: one wrong link chains two people's clusters together, and a shared family mailbox pulls
dozens of records into one "customer". ``cluster_pairs`` therefore merges greedily, strongest link
first, and refuses a merge when

* a record on one side has a steward "different" decision with a record on the other side
  (``cannot_link``; checked between whole components, so it holds transitively),
* both sides already are large entities and the link is weak, unless at least two auto-links
  connect them (``weak_bridge``),
* the merged entity would exceed ``max_cluster_size`` (``too_large``).

With ``conflict_weight`` set, two records whose pair scored at or below it count as different
people as a steward's decision would (``cannot_link``), and so do the pairs a ``conflict``
column marks (a comparison on a conflict level: born years apart): a record that matches both
a parent and their namesake child joins one of them, never both into one "customer".

Refused links are returned, not dropped, so that the hub can turn them into review tasks.
The merge is defined one link at a time but mostly done with numpy: what no rule can refuse is
merged in bulk, and only links whose outcome depends on their order go through a Python loop.
"""

from __future__ import annotations

import gc
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from linkage.cluster_forest import (
    CANNOT_LINK,
    TOO_LARGE,
    WEAK_BRIDGE,
    Forest,
    component_labels,
    root,
)

__all__ = ["CANNOT_LINK", "TOO_LARGE", "WEAK_BRIDGE", "ClusterResult", "ClusterSettings",
           "RefusedLink", "cluster_pairs"]


@dataclass(frozen=True)
class ClusterSettings:
    """Thresholds of the clustering; ``auto_link_threshold`` comes from the match configuration.

    A link with weight below ``auto_link_threshold + weak_link_margin`` is "weak"; a component of
    at least ``large_cluster_size`` records is "large". A merge that would make an entity larger
    than ``max_cluster_size`` is refused and flagged instead.
    """

    auto_link_threshold: float
    max_cluster_size: int = 50
    weak_link_margin: float = 4.0
    large_cluster_size: int = 3
    # Pairs weighing this or less are different people (None: no such rule).
    conflict_weight: float | None = None

    def __post_init__(self) -> None:
        if self.max_cluster_size < 1 or self.large_cluster_size < 1:
            raise ValueError("max_cluster_size and large_cluster_size must be at least 1")
        if not self.weak_link_margin >= 0:
            raise ValueError("weak_link_margin must be zero or positive")
        if self.conflict_weight is not None and not self.conflict_weight < self.auto_link_threshold:
            raise ValueError("conflict_weight must be below auto_link_threshold")

    @classmethod
    def from_config(cls, config, **overrides) -> ClusterSettings:
        """The settings a match configuration implies (its auto-link and conflict thresholds),
        with any field overridden."""
        return cls(**{"auto_link_threshold": config.auto_link_threshold,
                      "conflict_weight": config.conflict_threshold, **overrides})

    @property
    def strong_link_weight(self) -> float:
        """The weight from which a link may bridge two large entities on its own."""
        return self.auto_link_threshold + self.weak_link_margin


class RefusedLink(NamedTuple):
    """An auto-link that was not applied; ``left`` is the smaller of the two record ids."""

    left: Hashable
    right: Hashable
    weight: float
    reason: str  # CANNOT_LINK, WEAK_BRIDGE or TOO_LARGE


@dataclass
class ClusterResult:
    """Record id -> cluster id (the smallest record id in the cluster), and the refused links
    in decision order (strongest first, ties by record ids)."""

    labels: dict[Hashable, Hashable]
    refused: list[RefusedLink] = field(default_factory=list)


def cluster_pairs(
    record_ids: Iterable[Hashable],
    pairs: pd.DataFrame,
    settings: ClusterSettings,
    *,
    must_link: Iterable[tuple[Hashable, Hashable]] = (),
    cannot_link: Iterable[tuple[Hashable, Hashable]] = (),
) -> ClusterResult:
    """Cluster records into entities from scored pairs, honouring steward decisions.

    ``pairs`` needs the columns ``left``, ``right`` and ``weight``, and may have a boolean
    ``conflict`` (others are ignored); only pairs with ``weight >= auto_link_threshold`` are
    links, and a pair listed twice counts once, with its highest weight. Every pair id must be
    among ``record_ids`` (ValueError otherwise); record ids must be mutually comparable: the
    smallest id names a cluster and ties between equal weights are broken by ids, so the result
    does not depend on input order.

    ``must_link`` pairs ("same" decisions, manual links) are merged first, whatever their weight
    and the cluster size; ``cannot_link`` pairs ("different" decisions) never end up in one
    cluster. Decisions about records that are not in ``record_ids`` are ignored, so the hub may
    pass all decisions to a run over a partition. Raises ValueError, naming the two records, when
    the must-links force a cannot-link pair together.

    A weak link between two large components waits until all links were seen: if two or more
    waiting links join the same two components they merge (strongest first, again while merges
    create such pairs); otherwise each waiting link is refused as ``weak_bridge``.
    """
    ids = _sorted_unique_ids(record_ids)
    low, high, weight = _auto_links(pairs, ids, settings.auto_link_threshold)
    must_left, must_right = _constraint_positions(must_link, ids)
    forest = Forest(len(ids))
    for a, b in zip(must_left.tolist(), must_right.tolist(), strict=True):
        forest.union(root(forest.parent, a), root(forest.parent, b))
    forest.forbid(*_constraint_positions(cannot_link, ids), ids)
    if settings.conflict_weight is not None or "conflict" in pairs:
        forest.forbid(*_conflicts(pairs, ids, low, high, settings.conflict_weight, forest),
                      ids, strict=False)
    forest.merge_in_chunks(low, high, weight >= settings.strong_link_weight, settings)

    id_values = ids.to_numpy()
    link = np.asarray(forest.refused, dtype=np.int64)
    order = np.argsort(link)
    link = link[order]
    labels = id_values[_smallest_member(forest.find(np.arange(len(ids))))].tolist()
    # Up to millions of result tuples: each would trigger the cyclic garbage collector to scan
    # all tuples built so far again, though none of them can be part of a cycle.
    paused = gc.isenabled()
    gc.disable()
    try:
        refused = list(map(RefusedLink._make, zip(
            id_values[low[link]].tolist(), id_values[high[link]].tolist(), weight[link].tolist(),
            np.asarray(forest.reasons, dtype=object)[order].tolist(), strict=True)))
        return ClusterResult(dict(zip(id_values.tolist(), labels, strict=True)), refused)
    finally:
        if paused:
            gc.enable()


def _sorted_unique_ids(record_ids: Iterable[Hashable]) -> pd.Index:
    # Positions follow the sort order of the ids, so "smallest position" is "smallest id".
    values = record_ids if isinstance(record_ids, list) else list(record_ids)
    if values and type(values[0]) is int:
        try:
            array = np.array(values)  # int64 only if all are ints (else text, float, object)
        except ValueError:  # e.g. a tuple among the ints
            array = np.empty(0, object)
        if array.dtype.kind == "i":
            array.sort()
            return pd.Index(array[np.concatenate([[True], array[1:] != array[:-1]])])
    try:
        unique = sorted(set(values))  # Python's sort beats pandas' on object arrays by far
    except TypeError as error:
        raise TypeError(f"record ids must be mutually comparable: {error}") from None
    return pd.Index(np.fromiter(unique, dtype=object, count=len(unique)), dtype=object)


def _auto_links(
    pairs: pd.DataFrame, ids: pd.Index, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (smaller first) and weights of the distinct auto-links in decision order:
    strongest first, ties by record ids. A pair listed twice keeps its highest weight, so that
    "two distinct links" is never met by one pair listed twice."""
    weight = pairs["weight"].to_numpy(dtype=float)
    selected = np.flatnonzero(weight >= threshold)  # NaN weights are never links
    left, right = (_positions(pairs[column].iloc[selected], ids) for column in ("left", "right"))
    for side, column in ((left, "left"), (right, "right")):
        if (side < 0).any():
            unknown = pairs[column].iloc[selected[np.flatnonzero(side < 0)[0]]]
            raise ValueError(f"pairs refer to record {unknown!r}, which is not in record_ids")
    proper = left != right
    low, high = np.minimum(left, right)[proper], np.maximum(left, right)[proper]
    key = low * len(ids) + high
    by_key = np.argsort(key)
    starts = np.flatnonzero(np.diff(key[by_key], prepend=-1))
    low, high, weight = low[by_key][starts], high[by_key][starts], weight[selected][proper]
    weight = np.maximum.reduceat(weight[by_key], starts) if len(starts) else weight
    order = np.argsort(-weight, kind="stable")  # stable: equal weights keep the id order
    return low[order], high[order], weight[order]


def _positions(values: Iterable[Hashable], ids: pd.Index) -> np.ndarray:
    """Positions of ids in the index, -1 for unknown ones; tuples stay whole ids."""
    return ids.get_indexer(pd.Index(values, tupleize_cols=False)).astype(np.int64)


def _constraint_positions(
    constraints: Iterable[tuple[Hashable, Hashable]], ids: pd.Index
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of decision pairs; pairs about records outside this run are dropped."""
    constraints = list(constraints)
    left, right = (_positions([pair[side] for pair in constraints], ids) for side in (0, 1))
    known = (left >= 0) & (right >= 0)
    return left[known], right[known]


def _conflicts(pairs: pd.DataFrame, ids: pd.Index, low: np.ndarray, high: np.ndarray,
               conflict_weight: float | None, forest: Forest) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the conflicting pairs (at or below ``conflict_weight``, or marked in the
    ``conflict`` column) that links could ever join.

    Only pairs inside one connected part of the auto-links (and must-links) can end up in one
    cluster; the others (nearly all of them) need no watching.
    """
    conflict = np.zeros(len(pairs), dtype=bool)
    if conflict_weight is not None:
        conflict |= pairs["weight"].to_numpy(dtype=float) <= conflict_weight
    if "conflict" in pairs:
        conflict |= pairs["conflict"].to_numpy(dtype=bool)
    selected = np.flatnonzero(conflict)
    if not selected.size or not low.size:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    left, right = (_positions(pairs[column].iloc[selected], ids) for column in ("left", "right"))
    known = (left >= 0) & (right >= 0) & (left != right)
    left, right = left[known], right[known]
    roots = forest.find(np.arange(len(ids)))
    part = component_labels(len(ids), np.concatenate([low, roots]),
                       np.concatenate([high, np.arange(len(ids))]))
    joinable = part[left] == part[right]
    return left[joinable], right[joinable]


def _smallest_member(labels: np.ndarray) -> np.ndarray:
    """Per item, the smallest position carrying the same label."""
    smallest = np.full(labels.max(initial=-1) + 1, len(labels))
    np.minimum.at(smallest, labels, np.arange(len(labels)))
    return smallest[labels]

