"""The union-find behind ``linkage.cluster``: components of records with their sizes and
"different" partners, merged link by link or in bulk, refusing the links rules forbid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

if TYPE_CHECKING:
    from linkage.cluster import ClusterSettings

CANNOT_LINK = "cannot_link"
WEAK_BRIDGE = "weak_bridge"
TOO_LARGE = "too_large"
# Links are decided in chunks of about a quarter of the number of components: larger chunks
# would join many components into one tangle that must be decided link by link in Python.
_MIN_CHUNK = 1024


def component_labels(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` nodes joined by the given edges."""
    graph = coo_matrix((np.ones(len(left), np.int8), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def root(parent, node: int) -> int:
    """The root of one node, for a Python list or a numpy array of parents."""
    while parent[node] != node:
        node = parent[node]
    return int(node)


class Forest:
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
        return any(root(self.parent, partner) == b for partner in mine)

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
            root_a, root_b = root(self.parent, a), root(self.parent, b)
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
        part = component_labels(len(nodes), local[:len(link)], local[len(link):])
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
            if partners and any(root(parent, p) == y for p in partners.get(x, ())):
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
        roots = np.asarray([root(parent, x) for x in range(len(nodes))], dtype=np.int64)
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
                root_a, root_b = root(self.parent, a[start]), root(self.parent, b[start])
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
