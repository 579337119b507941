"""Tests for linkage.cluster: steward decisions, weak bridges, size limits, determinism."""

import random

import numpy as np
import pandas as pd
import pytest

import linkage.cluster
import linkage.cluster_forest
from linkage.cluster import ClusterResult, ClusterSettings, RefusedLink, cluster_pairs

SETTINGS = ClusterSettings(auto_link_threshold=10, max_cluster_size=50, weak_link_margin=4,
                           large_cluster_size=3)
STRONG, WEAK = 20.0, 11.0


def scored(*rows):
    """A pairs frame from (left, right, weight) rows."""
    return pd.DataFrame(list(rows), columns=["left", "right", "weight"])


def triangle(a, b, c, weight=STRONG):
    return [(a, b, weight), (b, c, weight), (a, c, weight)]


def entities(result):
    """The clusters of a result as a set of frozensets, for order-free comparison."""
    members = {}
    for record, cluster in result.labels.items():
        members.setdefault(cluster, set()).add(record)
    return {frozenset(group) for group in members.values()}


def test_strong_links_join_records_under_the_smallest_id():
    result = cluster_pairs(["c", "b", "a", "z"], scored(("c", "b", 15), ("b", "a", 12)), SETTINGS)

    assert result.labels == {"a": "a", "b": "a", "c": "a", "z": "z"}
    assert result.refused == []


def test_pairs_below_the_auto_link_threshold_are_not_links():
    result = cluster_pairs(["a", "b"], scored(("a", "b", 9.99)), SETTINGS)

    assert entities(result) == {frozenset("a"), frozenset("b")}
    assert result.refused == []


def test_different_decision_holds_transitively_and_the_refused_link_is_reported():
    pairs = scored(("a", "b", 20), ("b", "c", 15))

    result = cluster_pairs("abc", pairs, SETTINGS, cannot_link=[("a", "c")])

    assert entities(result) == {frozenset("ab"), frozenset("c")}
    assert result.refused == [RefusedLink("b", "c", 15.0, "cannot_link")]


def test_different_decision_between_members_keeps_merged_components_apart():
    # a-b and c-d merge first; the "different" decision between a and d then blocks b-c.
    pairs = scored(("a", "b", 30), ("c", "d", 30), ("b", "c", 20), ("a", "c", 18))

    result = cluster_pairs("abcd", pairs, SETTINGS, cannot_link=[("d", "a")])

    assert entities(result) == {frozenset("ab"), frozenset("cd")}
    assert [(link.left, link.right, link.reason) for link in result.refused] == [
        ("b", "c", "cannot_link"), ("a", "c", "cannot_link")]


def test_one_weak_link_between_two_large_entities_is_refused_as_weak_bridge():
    pairs = scored(*triangle("a", "b", "c"), *triangle("x", "y", "z"), ("c", "x", WEAK))

    result = cluster_pairs("abcxyz", pairs, SETTINGS)

    assert entities(result) == {frozenset("abc"), frozenset("xyz")}
    assert result.refused == [RefusedLink("c", "x", WEAK, "weak_bridge")]


def test_one_strong_link_between_two_large_entities_is_applied():
    strong_enough = SETTINGS.auto_link_threshold + SETTINGS.weak_link_margin
    pairs = scored(*triangle("a", "b", "c"), *triangle("x", "y", "z"), ("c", "x", strong_enough))

    result = cluster_pairs("abcxyz", pairs, SETTINGS)

    assert entities(result) == {frozenset("abcxyz")}
    assert result.refused == []


def test_two_weak_links_between_large_entities_are_applied():
    pairs = scored(*triangle("a", "b", "c"), *triangle("x", "y", "z"), ("c", "x", WEAK),
                   ("a", "y", 10.5))

    result = cluster_pairs("abcxyz", pairs, SETTINGS)

    assert entities(result) == {frozenset("abcxyz")}
    assert result.refused == []


def test_the_same_pair_listed_twice_is_one_link_not_two():
    pairs = scored(*triangle("a", "b", "c"), *triangle("x", "y", "z"), ("c", "x", WEAK),
                   ("x", "c", 10.5))

    result = cluster_pairs("abcxyz", pairs, SETTINGS)

    assert entities(result) == {frozenset("abc"), frozenset("xyz")}
    assert result.refused == [RefusedLink("c", "x", WEAK, "weak_bridge")]


def test_weak_link_to_a_small_entity_is_applied():
    pairs = scored(*triangle("a", "b", "c"), ("x", "y", STRONG), ("c", "x", WEAK))

    result = cluster_pairs("abcxy", pairs, SETTINGS)

    assert entities(result) == {frozenset("abcxy")}


def test_support_created_by_a_merge_counts():
    # c..e is bridged once to a..b's triangle and once to x..z's triangle; those two merge
    # through two weak links, after which c..e has two links into the result.
    pairs = scored(*triangle("a", "b", "g"), *triangle("x", "y", "z"), *triangle("c", "d", "e"),
                   ("a", "x", WEAK), ("b", "y", WEAK), ("c", "a", WEAK), ("d", "z", WEAK))

    result = cluster_pairs("abcdegxyz", pairs, SETTINGS)

    assert entities(result) == {frozenset("abcdegxyz")}
    assert result.refused == []


def test_merge_beyond_max_cluster_size_is_refused_as_too_large():
    settings = ClusterSettings(auto_link_threshold=10, max_cluster_size=4)
    pairs = scored(*triangle("a", "b", "c", 30), ("x", "y", 30), ("c", "x", 25))

    result = cluster_pairs("abcxy", pairs, settings)

    assert entities(result) == {frozenset("abc"), frozenset("xy")}
    assert result.refused == [RefusedLink("c", "x", 25.0, "too_large")]


def test_hub_of_many_records_is_capped_and_flagged_not_merged():
    settings = ClusterSettings(auto_link_threshold=10, max_cluster_size=5)
    # A shared mailbox: one record strongly linked to twenty others.
    pairs = scored(*((0, other, 20.0 - other / 100) for other in range(1, 21)))

    result = cluster_pairs(range(21), pairs, settings)

    assert max(len(group) for group in entities(result)) == 5
    assert [link.reason for link in result.refused] == ["too_large"] * 16
    assert [link.right for link in result.refused] == list(range(5, 21))


def test_must_link_merges_below_threshold_and_beyond_the_size_limit():
    settings = ClusterSettings(auto_link_threshold=10, max_cluster_size=2)
    pairs = scored(("a", "b", 1.0))

    result = cluster_pairs("abc", pairs, settings, must_link=[("a", "b"), ("c", "b")])

    assert entities(result) == {frozenset("abc")}


def test_must_links_forcing_a_different_pair_together_raise_naming_both():
    with pytest.raises(ValueError, match=r"'a'.*'c'"):
        cluster_pairs("abc", scored(), SETTINGS, must_link=[("a", "b"), ("b", "c")],
                      cannot_link=[("a", "c")])


def test_record_marked_different_from_itself_raises():
    with pytest.raises(ValueError, match="itself"):
        cluster_pairs("ab", scored(), SETTINGS, cannot_link=[("a", "a")])


def test_decisions_about_records_outside_the_run_are_ignored():
    result = cluster_pairs("ab", scored(("a", "b", 20)), SETTINGS,
                           must_link=[("a", "elsewhere")], cannot_link=[("b", "elsewhere")])

    assert entities(result) == {frozenset("ab")}


def test_pair_with_an_unknown_record_raises():
    with pytest.raises(ValueError, match="'q'"):
        cluster_pairs("ab", scored(("a", "q", 20)), SETTINGS)


def test_every_record_is_labelled_and_tuple_ids_work():
    ids = [("crm", "7"), ("billing", "1"), ("crm", "2")]
    pairs = scored((("crm", "7"), ("crm", "2"), 20), (("billing", "1"), ("billing", "1"), 30))

    result = cluster_pairs(ids, pairs, SETTINGS)

    assert result.labels == {("crm", "7"): ("crm", "2"), ("crm", "2"): ("crm", "2"),
                             ("billing", "1"): ("billing", "1")}


def test_no_records_gives_an_empty_result():
    assert cluster_pairs([], scored(), SETTINGS) == ClusterResult({}, [])


def test_settings_reject_meaningless_values():
    with pytest.raises(ValueError):
        ClusterSettings(auto_link_threshold=10, max_cluster_size=0)
    with pytest.raises(ValueError):
        ClusterSettings(auto_link_threshold=10, weak_link_margin=-1)


def random_instance(seed, size=40):
    """Records, tied integer weights, settings and consistent-or-not decisions."""
    rng = random.Random(seed)
    n = rng.randint(2, size)
    rows = [(rng.randrange(n), rng.randrange(n), float(rng.choice([8, 10, 11, 12, 13, 14, 16, 20])))
            for _ in range(rng.randint(0, 3 * n))]
    settings = ClusterSettings(auto_link_threshold=10, max_cluster_size=rng.randint(2, 12),
                               weak_link_margin=rng.choice([0, 2, 4, 100]),
                               large_cluster_size=rng.randint(1, 4))
    must = [(rng.randrange(n), rng.randrange(n)) for _ in range(rng.randint(0, 2))]
    cannot = [(rng.randrange(n), rng.randrange(n)) for _ in range(rng.randint(0, 4))]
    return list(range(n)), scored(*rows), settings, must, cannot


@pytest.mark.parametrize("seed", range(20))
def test_result_does_not_depend_on_input_order(seed):
    ids, pairs, settings, must, cannot = random_instance(seed, size=200)
    rng = random.Random(seed)
    shuffled = pairs.sample(frac=1, random_state=seed).reset_index(drop=True)
    swap = np.random.default_rng(seed).random(len(shuffled)) < 0.5
    left, right = shuffled["left"].to_numpy(), shuffled["right"].to_numpy()
    shuffled["left"], shuffled["right"] = np.where(swap, right, left), np.where(swap, left, right)
    shuffled_ids = rng.sample(ids, len(ids))

    try:
        expected = cluster_pairs(ids, pairs, settings, must_link=must, cannot_link=cannot)
    except ValueError:  # the random decisions contradict each other
        cannot = []
        expected = cluster_pairs(ids, pairs, settings, must_link=must)
    result = cluster_pairs(shuffled_ids, shuffled, settings, must_link=must, cannot_link=cannot)

    assert result == expected


def reference_cluster(record_ids, pairs, settings, must_link=(), cannot_link=()):
    """The rules of cluster_pairs applied literally, one link at a time, with no shortcuts."""
    ids = sorted(set(record_ids))
    parent = {record: record for record in ids}

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    def members(root):
        return {x for x in ids if find(x) == root}

    different = {frozenset(p) for p in cannot_link if p[0] in parent and p[1] in parent}

    def forbidden(a, b):
        return any(frozenset((x, y)) in different for x in members(a) for y in members(b))

    best = {}
    for left, right, weight in pairs.itertuples(index=False):
        if weight >= settings.auto_link_threshold and left != right:
            key = (min(left, right), max(left, right))
            best[key] = max(best.get(key, weight), weight)
    links = sorted(best.items(), key=lambda item: (-item[1], item[0]))
    for a, b in must_link:
        if a in parent and b in parent:
            parent[find(b)] = find(a)
    for pair in different:
        if len({find(x) for x in pair}) == 1:
            raise ValueError("contradiction")
    refused, deferred = {}, []
    for k, ((a, b), weight) in enumerate(links):
        if find(a) == find(b):
            continue
        sizes = len(members(find(a))), len(members(find(b)))
        if forbidden(find(a), find(b)):
            refused[k] = "cannot_link"
        elif weight < settings.strong_link_weight and min(sizes) >= settings.large_cluster_size:
            deferred.append(k)
        elif sum(sizes) > settings.max_cluster_size:
            refused[k] = "too_large"
        else:
            parent[find(b)] = find(a)
    pending = deferred
    while pending:  # rounds: merge component pairs joined by two or more deferred links
        groups = {}
        for k in pending:
            (a, b), _ = links[k]
            if find(a) != find(b):
                groups.setdefault(frozenset((find(a), find(b))), []).append(k)
        pending = sorted(k for group in groups.values() if len(group) < 2 for k in group)
        supported = sorted((g for g in groups.values() if len(g) >= 2), key=lambda g: g[0])
        if not supported:
            break
        for group in supported:
            (a, b), _ = links[group[0]]
            if find(a) == find(b):
                continue
            if forbidden(find(a), find(b)):
                refused.update(dict.fromkeys(group, "cannot_link"))
            elif len(members(find(a))) + len(members(find(b))) > settings.max_cluster_size:
                refused.update(dict.fromkeys(group, "too_large"))
            else:
                parent[find(b)] = find(a)
    for k in pending:
        (a, b), _ = links[k]
        if find(a) != find(b):
            refused[k] = "cannot_link" if forbidden(find(a), find(b)) else "weak_bridge"
    labels = {x: min(members(find(x))) for x in ids}
    return ClusterResult(labels, [RefusedLink(*links[k][0], links[k][1], refused[k])
                                  for k in sorted(refused)])


@pytest.mark.parametrize("chunk", [1, 3, 1024])
def test_bulk_merging_gives_exactly_the_one_link_at_a_time_result(monkeypatch, chunk):
    # cluster_pairs decides most links in bulk, chunk by chunk; small chunks make these small
    # graphs span many chunks, as large inputs do.
    monkeypatch.setattr(linkage.cluster_forest, "_MIN_CHUNK", chunk)
    for seed in range(120):
        ids, pairs, settings, must, cannot = random_instance(seed)
        try:
            expected = reference_cluster(ids, pairs, settings, must, cannot)
        except ValueError:
            with pytest.raises(ValueError):
                cluster_pairs(ids, pairs, settings, must_link=must, cannot_link=cannot)
            continue

        result = cluster_pairs(ids, pairs, settings, must_link=must, cannot_link=cannot)

        assert result == expected, f"seed {seed}"
