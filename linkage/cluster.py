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
people as a steward's decision would (``cannot_link``): a record that matches both a parent
and their namesake child joins one of them, never both into one "customer".

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
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

CANNOT_LINK = "cannot_link"
WEAK_BRIDGE = "weak_bridge"
TOO_LARGE = "too_large"
# Links are decided in chunks of about a quarter of the number of components: larger chunks
# would join many components into one tangle that must be decided link by link in Python.
_MIN_CHUNK = 1024


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

    ``pairs`` needs the columns ``left``, ``right`` and ``weight`` (others are ignored); only
    pairs with ``weight >= auto_link_threshold`` are links, and a pair listed twice counts once,
    with its highest weight. Every pair id must be among ``record_ids`` (ValueError otherwise);
    record ids must be mutually comparable: the smallest id names a cluster and ties between
    equal weights are broken by ids, so the result does not depend on input order.

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
    forest = _Forest(len(ids))
    for a, b in zip(must_left.tolist(), must_right.tolist(), strict=True):
        forest.union(_root(forest.parent, a), _root(forest.parent, b))
    forest.forbid(*_constraint_positions(cannot_link, ids), ids)
    if settings.conflict_weight is not None:
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
               conflict_weight: float, forest: _Forest) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the pairs at or below ``conflict_weight`` that links could ever join.

    Only pairs inside one connected part of the auto-links (and must-links) can end up in one
    cluster; the others (nearly all of them) need no watching.
    """
    weight = pairs["weight"].to_numpy(dtype=float)
    selected = np.flatnonzero(weight <= conflict_weight)
    if not selected.size or not low.size:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    left, right = (_positions(pairs[column].iloc[selected], ids) for column in ("left", "right"))
    known = (left >= 0) & (right >= 0) & (left != right)
    left, right = left[known], right[known]
    roots = forest.find(np.arange(len(ids)))
    part = _components(len(ids), np.concatenate([low, roots]),
                       np.concatenate([high, np.arange(len(ids))]))
    joinable = part[left] == part[right]
    return left[joinable], right[joinable]


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(left), np.int8), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _smallest_member(labels: np.ndarray) -> np.ndarray:
    """Per item, the smallest position carrying the same label."""
    smallest = np.full(labels.max(initial=-1) + 1, len(labels))
    np.minimum.at(smallest, labels, np.arange(len(labels)))
    return smallest[labels]


def _root(parent, node: int) -> int:
    """The root of one node, for a Python list or a numpy array of parents."""
    while parent[node] != node:
        node = parent[node]
    return int(node)


class _Forest:
    """Union-find over record positions (numpy arrays), with per root its size and the records
    it has a "different" decision with; collects refused links as (link index, reason)."""

    def __init__(self, n: int) -> None:
        self.parent = np.arange(n)
        self.size = np.ones(n, np.int64)
        self.partners: dict[int, set[int]] = {}
        self.refused: list[int] = []
        self.reasons: list[str] = []

    def find(self, nodes: np.ndarray) -> np.ndarray:
        """Roots of many nodes at once; compresses their paths on the way."""
        roots = self.parent[nodes]
        while not np.array_equal(up := self.parent[roots], roots):
            roots = up
        self.parent[nodes] = roots
        return roots

    def forbids(self, a: int, b: int) -> bool:
        """Whether roots a and b hold a "different" pair between them."""
        mine, theirs = self.partners.get(a), self.partners.get(b)
        if not mine or not theirs:
            return False
        if len(theirs) < len(mine):
            mine, b = theirs, a
        return any(_root(self.parent, partner) == b for partner in mine)

    def union(self, a: int, b: int) -> None:
        """Join roots a and b (nothing if equal), the smaller under the larger."""
        if a != b:
            if self.size[a] < self.size[b]:
                a, b = b, a
            self.parent[b] = a
            self.size[a] += self.size[b]
            self._move_partners(b, a)

    def _move_partners(self, loser: int, winner: int) -> None:
        absorbed = self.partners.pop(loser, None)
        if absorbed:
            self.partners.setdefault(winner, set()).update(absorbed)

    def refuse(self, links: list[int], reason: str) -> None:
        self.refused.extend(links)
        self.reasons.extend([reason] * len(links))

    def forbid(self, left: np.ndarray, right: np.ndarray, ids: pd.Index, *,
               strict: bool = True) -> None:
        """Record "different" pairs; raise ValueError if must-links already joined one (with
        ``strict``; else such a pair is dropped: a steward's grouping outranks a score)."""
        for a, b in zip(left.tolist(), right.tolist(), strict=True):
            root_a, root_b = _root(self.parent, a), _root(self.parent, b)
            if root_a == root_b:
                if not strict:
                    continue
                why = "must-links put them in one entity" if a != b else "a record is itself"
                raise ValueError(f"records {ids[a]!r} and {ids[b]!r} are marked different, but "
                                 f"{why}")
            self.partners.setdefault(root_a, set()).add(b)
            self.partners.setdefault(root_b, set()).add(a)

    def merge_in_chunks(
        self, low: np.ndarray, high: np.ndarray, strong: np.ndarray, settings: ClusterSettings
    ) -> None:
        """Decide the links in the given order (strongest first), a chunk at a time.

        Components only grow, so some outcomes are known at the start of a chunk: a link inside
        a component is void; a weak link between two large components is deferred (a second
        link may support it, which is only known at the end); a strong link between components
        too large together is refused. The rest is merged per connected part of the chunk: in
        bulk where no rule can bite, else one link at a time.
        """
        large, max_size = settings.large_cluster_size, settings.max_cluster_size
        deferred = [np.empty(0, np.int64)]
        touched = np.zeros(len(self.parent), bool)
        touched[low], touched[high] = True, True
        components = int(np.count_nonzero(touched))
        start = 0
        while start < len(low):
            stop = min(len(low), start + max(_MIN_CHUNK, components // 4))
            a, b = self.find(low[start:stop]), self.find(high[start:stop])
            between = a != b
            link, a, b = np.arange(start, stop)[between], a[between], b[between]
            is_strong, size_a, size_b = strong[link], self.size[a], self.size[b]
            bridge = ~is_strong & (size_a >= large) & (size_b >= large)
            deferred.append(link[bridge])
            # With "different" pairs about, the reason could be cannot_link: decide one by one.
            over = ~bridge & is_strong & (size_a + size_b > max_size) & (not self.partners)
            self.refuse(link[over].tolist(), TOO_LARGE)
            rest = ~bridge & ~over
            components -= self._merge_chunk(link[rest], a[rest], b[rest], is_strong[rest],
                                            settings, deferred)
            start = stop
        self._settle_weak_bridges(low, high, np.sort(np.concatenate(deferred)), max_size)

    def _merge_chunk(self, link, a, b, strong, settings, deferred) -> int:
        """Merge a chunk's links in bulk where the outcome is sure; return the merge count."""
        if not len(link):
            return 0
        nodes, local = np.unique(np.concatenate([a, b]), return_inverse=True)
        part = _components(len(nodes), local[:len(link)], local[len(link):])
        records = np.bincount(part, weights=self.size[nodes]).astype(np.int64)
        # Parts where no rule can bite end up whole, whatever the order of their links. A weak
        # bridge needs two disjoint large components: a part with fewer records has none.
        unsure = records > settings.max_cluster_size
        weak = part[local[:len(link)][~strong]]
        unsure[weak[records[weak] >= 2 * settings.large_cluster_size]] = True
        if self.partners:
            unsure[part[np.isin(nodes, np.fromiter(self.partners, np.int64))]] = True
        # Union by size: each sure part goes under its largest component.
        order = np.lexsort((nodes, -self.size[nodes], part))
        first = np.concatenate([[True], part[order][1:] != part[order][:-1]])
        winner = np.empty(len(records), np.int64)
        winner[part[order][first]] = nodes[order][first]
        moved = ~unsure[part] & (nodes != winner[part])
        self.parent[nodes[moved]] = winner[part[moved]]
        self.size[winner[~unsure]] = records[~unsure]
        one_by_one = unsure[part[local[:len(link)]]]
        return int(moved.sum()) + self._merge_in_order(
            link[one_by_one], a[one_by_one], b[one_by_one], strong[one_by_one], settings, deferred)

    def _merge_in_order(self, link, a, b, strong, settings, deferred) -> int:
        """The greedy merge proper, one link at a time, on a small union-find over the chunk's
        components (Python lists: far faster than numpy for one element at a time)."""
        nodes, local = np.unique(np.concatenate([a, b]), return_inverse=True)
        parent, size = list(range(len(nodes))), self.size[nodes].tolist()
        partners = self._local_partners(nodes)
        large, max_size = settings.large_cluster_size, settings.max_cluster_size
        refused, reasons, later = [], [], []
        for k, x, y, is_strong in zip(link.tolist(), local[:len(link)].tolist(),
                                      local[len(link):].tolist(), strong.tolist(), strict=True):
            while parent[x] != x:
                parent[x] = x = parent[parent[x]]  # path halving; parent[x] is set first
            while parent[y] != y:
                parent[y] = y = parent[parent[y]]
            if x == y:
                continue
            if partners and any(_root(parent, p) == y for p in partners.get(x, ())):
                refused.append(k)
                reasons.append(CANNOT_LINK)
            elif not is_strong and size[x] >= large and size[y] >= large:
                later.append(k)
            elif size[x] + size[y] > max_size:
                refused.append(k)
                reasons.append(TOO_LARGE)
            else:
                if size[x] < size[y]:
                    x, y = y, x
                parent[y] = x
                size[x] += size[y]
                if y in partners:
                    partners.setdefault(x, set()).update(partners.pop(y))
        self.refused.extend(refused)
        self.reasons.extend(reasons)
        deferred.append(np.asarray(later, dtype=np.int64))
        roots = np.asarray([_root(parent, x) for x in range(len(nodes))], dtype=np.int64)
        moved = np.flatnonzero(roots != np.arange(len(nodes)))
        self.parent[nodes[moved]] = nodes[roots[moved]]
        self.size[nodes] = size
        for loser, winner in zip(nodes[moved].tolist(), nodes[roots[moved]].tolist(), strict=True):
            self._move_partners(loser, winner)
        return len(moved)

    def _local_partners(self, nodes: np.ndarray) -> dict[int, set[int]]:
        """The "different" relation between a chunk's components, as local indexes."""
        local: dict[int, set[int]] = {}
        for index, root in enumerate(nodes.tolist()):
            if root in self.partners:
                others = self.find(np.fromiter(self.partners[root], np.int64))
                position = np.minimum(np.searchsorted(nodes, others), len(nodes) - 1)
                local[index] = set(position[nodes[position] == others].tolist())
        return local

    def _settle_weak_bridges(
        self, low: np.ndarray, high: np.ndarray, links: np.ndarray, max_size: int
    ) -> None:
        """Merge the components joined by two or more deferred weak links; refuse the rest.

        In rounds, because a merge can create support: a component bridged once to each of two
        components that then merge is bridged twice to the result. A round groups the pending
        links by their pair of current roots and merges the pairs with two or more links,
        strongest first; the rounds stop when no pair has two links left.
        """
        n = len(self.parent)
        while len(links):
            a, b = self.find(low[links]), self.find(high[links])
            links, a, b = links[a != b], a[a != b], b[a != b]  # else joined meanwhile
            key = np.minimum(a, b) * n + np.maximum(a, b)
            order = np.argsort(key, kind="stable")  # keeps each group in decision order
            links, key, a, b = links[order], key[order], a[order], b[order]
            starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
            counts = np.diff(np.append(starts, len(key)))
            supported = counts >= 2
            if not supported.any():
                break
            for _, start, count in sorted(zip(links[starts[supported]].tolist(),
                                              starts[supported].tolist(),
                                              counts[supported].tolist(), strict=True)):
                root_a, root_b = _root(self.parent, a[start]), _root(self.parent, b[start])
                group = links[start:start + count].tolist()
                if root_a != root_b and self.forbids(root_a, root_b):
                    self.refuse(group, CANNOT_LINK)
                elif root_a != root_b and self.size[root_a] + self.size[root_b] > max_size:
                    self.refuse(group, TOO_LARGE)
                else:
                    self.union(root_a, root_b)
            links = np.sort(links[np.repeat(~supported, counts)])
        cannot = np.zeros(len(links), bool)
        if self.partners:
            roots = self.find(low[links]).tolist(), self.find(high[links]).tolist()
            pairs = zip(*roots, strict=True)
            cannot = np.fromiter((self.forbids(a, b) for a, b in pairs), bool, len(links))
        self.refuse(links[cannot].tolist(), CANNOT_LINK)
        self.refuse(links[~cannot].tolist(), WEAK_BRIDGE)
