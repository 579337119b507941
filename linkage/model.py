"""Training the Fellegi–Sunter model: u from random pairs, m by EM, refinement from stewards.

A trained model is a ``MatchConfig`` (alias ``MatchModel``) with estimated m, u and prior, a new
version string and a ``trained`` summary of how it was estimated; ``to_dict``/``from_dict`` (or
``load_config``) round-trip it through JSON so the hub can store and reload every version. It
holds no term-frequency tables: those contain names, and the hub computes them from live data.

Estimation, in the order ``train`` runs it:
1. u, the probability of each level for two *different* people, from random record pairs (the
   chance that two random records are the same person is negligible). The exact level's u is
   computed from value counts instead, which is exact and resolves very rare agreement.
2. m, the probability of each level for the *same* person, by expectation maximisation over the
   candidate pairs with u fixed. One EM session per exact blocking rule, leaving out the
   attributes of the rule (all its pairs agree on them by construction, which says nothing
   about m); each attribute's m is the average over the sessions that estimated it.
   Attributes no session estimates (each rule blocks on them) are learnt over all pairs.
3. Identifiers: u of the levels only pairs sharing a key reach (an e-mail, a phone) from the
   different people EM finds among those pairs, then m once more
   (``linkage.model_corrections``).
4. Steward decisions, when there are enough of both kinds, pull m towards the level
   distribution of the pairs stewards called the same person; no looser level may then
   outweigh the exact one.
5. The prior: the expected number of matches among the candidates (EM on the mixture weight
   alone, with m and u fixed) over all possible pairs; household caps the data give no
   evidence for are dropped.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from linkage.compare import comparison_matrix
from linkage.comparisons import RecordTable
from linkage.config import EXACT_TEST, Comparison, MatchConfig
from linkage.em import FLOOR as _FLOOR
from linkage.em import compress, expectation_maximisation, pattern_bits
from linkage.model_corrections import (
    household_evidence,
    identifier_u,
    no_level_above_exact,
    strangers_of_rule,
)

__all__ = ["Labels", "MatchModel", "TooFewRecords", "compress", "estimate_u",
           "expectation_maximisation", "household_evidence", "pattern_bits", "train"]

MatchModel = MatchConfig
# Sessions with fewer candidate pairs say too little about m to be averaged in.
_MIN_SESSION_PAIRS = 50


class TooFewRecords(ValueError):
    """Training was given fewer records than ``training.min_records``: it estimates nothing."""

    def __init__(self, records: int, minimum: int) -> None:
        super().__init__(f"{records} records are too few to train a model (at least {minimum})")
        self.records, self.minimum = records, minimum


@dataclass(frozen=True)
class Labels:
    """Steward decisions on pairs of table rows: ``same[i]`` is True for "same person"."""

    left: np.ndarray
    right: np.ndarray
    same: np.ndarray


def estimate_u(
    config: MatchConfig, table: RecordTable, *, pairs: int, seed: int
) -> dict[str, np.ndarray]:
    """u per level of every comparison, from random pairs of table rows (see module docstring).
    """
    rng = np.random.default_rng(seed)
    n = table.size
    if n < 2:
        return {c.attribute: np.array([lv.u for lv in c.levels]) for c in config.comparisons}
    if n * (n - 1) // 2 <= pairs:
        left, right = np.triu_indices(n, 1)
    else:
        left, right = rng.integers(0, n, size=pairs), rng.integers(0, n, size=pairs)
        distinct = left != right
        left, right = left[distinct], right[distinct]
    levels = comparison_matrix(config, table, left, right)
    result = {}
    for k, comparison in enumerate(config.comparisons):
        observed = levels[:, k]
        counts = np.bincount(observed[observed >= 0], minlength=len(comparison.levels))
        result[comparison.attribute] = _u_from_counts(comparison, counts.astype(float), table)
    return result


def _u_from_counts(comparison: Comparison, counts: np.ndarray, table: RecordTable) -> np.ndarray:
    exact = comparison.level_index(EXACT_TEST)
    # A pseudo-count: a level never seen among random pairs is rare, not impossible.
    u = counts + 0.5
    if exact is not None:
        codes = table[comparison.attribute].codes
        values = np.bincount(codes[codes >= 0]).astype(float)
        present = values.sum()
        if present >= 2:
            # The share of pairs of records (with a value) that hold the same value.
            exact_u = float((values * (values - 1)).sum() / (present * (present - 1)))
            rest = np.delete(u, exact)
            u = np.insert(rest / rest.sum() * (1.0 - exact_u), exact, exact_u)
    u = np.maximum(u / u.sum(), _FLOOR)
    return u / u.sum()


def train(
    config: MatchConfig,
    table: RecordTable,
    left: np.ndarray,
    right: np.ndarray,
    masks: np.ndarray,
    levels: np.ndarray,
    *,
    labels: Labels | None = None,
) -> MatchConfig:
    """Estimate u, m and the prior from a table and its blocked candidate pairs.

    ``left``/``right``/``masks`` come from ``linkage.blocking.block_pairs`` and ``levels`` from
    ``comparison_matrix`` over them (the pipeline has both anyway). Returns the trained model;
    raises ``TooFewRecords`` below ``training.min_records``.
    """
    settings = config.training
    minimum = max(2, settings.min_records)  # two records are the fewest that make a pair
    if table.size < minimum:
        raise TooFewRecords(table.size, minimum)
    u_by_attribute = estimate_u(config, table, pairs=settings.random_pairs, seed=settings.seed)
    u = [u_by_attribute[c.attribute] for c in config.comparisons]
    m_start = [np.array([lv.m for lv in c.levels]) for c in config.comparisons]
    patterns, pattern_masks, counts = compress(levels, masks)
    all_pairs = table.size * (table.size - 1) / 2
    m_final, sessions, strangers = _estimate_m(config, patterns, pattern_masks, counts, m_start, u)
    share = _match_share(config, patterns, counts, m_final, u)
    if strangers:
        # Identifiers: u again from the pairs of different people who share the value, now
        # that EM has told matches apart; then m once more with the corrected u.
        u = identifier_u(u, strangers, all_pairs - share * counts.sum())
        m_final, sessions, _ = _estimate_m(config, patterns, pattern_masks, counts, m_final, u)
    labelled = _refine_with_labels(config, table, m_final, labels)
    u = no_level_above_exact(config, m_final, u)
    share = _match_share(config, patterns, counts, m_final, u)
    expected_matches = share * counts.sum()
    match_rate = float(np.clip(expected_matches / max(all_pairs, 1.0), 1e-12, 0.5))
    prior = float(np.log2(match_rate / (1 - match_rate)))
    probabilities = {
        c.attribute: (m_final[k].tolist(), u[k].tolist()) for k, c in enumerate(config.comparisons)
    }
    households = household_evidence(config, levels)
    caps = tuple(cap for cap in config.weight_caps
                 if cap.name not in households or households[cap.name]["kept"])
    summary = {
        "base_version": config.trained["base_version"] if config.trained else config.version,
        "records": int(table.size),
        "candidate_pairs": int(counts.sum()),
        "random_pairs": int(settings.random_pairs),
        "expected_matches": round(float(expected_matches), 1),
        "em_sessions": sessions,
        "labelled_pairs": labelled,
        "households": households,
    }
    digest = hashlib.sha256(
        json.dumps([probabilities, prior, [c.name for c in caps]], sort_keys=True).encode()
    ).hexdigest()[:12]
    version = f"{summary['base_version']}+trained.{digest}"
    return config.with_parameters(
        version=version, prior_weight=prior, probabilities=probabilities, trained=summary,
        weight_caps=caps,
    )


def _match_share(config, patterns, counts, m, u) -> float:
    """The share of matches among the candidates, with every comparison taking part."""
    settings = config.training
    _, share, _ = expectation_maximisation(
        patterns, counts, m, u, active=[True] * len(u), prior=0.1,
        iterations=settings.max_em_iterations, tolerance=settings.em_tolerance, estimate_m=False,
        config=config,
    )
    return share


def _estimate_m(config, patterns, pattern_masks, counts, m_start, u):
    """m by one EM session per exact blocking rule, averaged weighted by the matches found.

    A session leaves out the attributes of its rule: all its pairs agree on them by
    construction, which says nothing about m. It also counts, for each level of those
    attributes that only the rule's pairs reach (an exact e-mail, the same phone digits), how
    many of its pairs EM takes for different people: ``strangers``, (comparison, level) ->
    expected pairs, from which ``_identifier_u`` measures u where random pairs cannot.
    """
    settings = config.training
    sums = [np.zeros(len(c.levels)) for c in config.comparisons]
    weights = np.zeros(len(config.comparisons))
    sessions = []
    strangers: dict[tuple[int, int], float] = {}
    # Attributes capped to a fixed sum do not vote while m is learnt: that cap stands for "a
    # household is not a person" and a family would otherwise teach EM that different given
    # names are normal for a match. Their m is still learnt.
    capped = {a for cap in config.weight_caps if cap.mode == "sum" for a in cap.attributes}
    voting = [c.attribute not in capped for c in config.comparisons]
    for index, rule in enumerate(config.blocking_rules):
        if rule.kind != "exact" or not rule.train:
            continue  # sorted neighbourhoods are mostly non-matches: little to learn from
        found = (pattern_masks >> index) & 1 == 1
        if counts[found].sum() < _MIN_SESSION_PAIRS:
            continue
        active = [c.attribute not in rule.attributes for c in config.comparisons]
        m, share, iterations = expectation_maximisation(
            patterns[found], counts[found], m_start, u, active=active, prior=0.1,
            iterations=settings.max_em_iterations, tolerance=settings.em_tolerance, config=config,
            voting=voting,
        )
        strangers.update(strangers_of_rule(
            config, index, rule, patterns, pattern_masks, counts, found, m, u, share, active,
            voting))
        matches = share * counts[found].sum()
        for k, use in enumerate(active):
            if use:
                sums[k] += m[k] * matches
                weights[k] += matches
        sessions.append({"rule": rule.name, "pairs": int(counts[found].sum()),
                         "iterations": iterations, "match_share": round(share, 6)})
    m_final = [
        s / w if w > 0 else start for s, w, start in zip(sums, weights, m_start, strict=True)
    ]
    unlearnt = [w == 0 for w in weights]
    if any(unlearnt) and counts.sum() >= _MIN_SESSION_PAIRS:
        # Every session left these out (each rule blocks on them, e.g. the birth date where
        # no e-mail or phone rule has pairs): learn them over all candidate pairs, the others
        # as learnt, rather than keep the configuration's starting values.
        m_all, _, iterations = expectation_maximisation(
            patterns, counts, m_final, u, active=unlearnt, prior=0.1,
            iterations=settings.max_em_iterations, tolerance=settings.em_tolerance, config=config,
            voting=voting)
        m_final = [m_all[k] if unlearnt[k] else m for k, m in enumerate(m_final)]
        sessions.append({"rule": "all candidate pairs", "pairs": int(counts.sum()),
                         "iterations": iterations,
                         "attributes": [c.attribute for c, u_ in
                                        zip(config.comparisons, unlearnt, strict=True) if u_]})
    return m_final, sessions, strangers


def _refine_with_labels(
    config: MatchConfig, table: RecordTable, m: list[np.ndarray], labels: Labels | None
) -> dict:
    """Blend m with the levels of steward-confirmed matches, when there are enough decisions.

    The EM estimate acts as ``label_strength`` pseudo-pairs: a few decisions nudge m, many
    decisions dominate it. "Different" decisions are counted for the threshold only: they are
    hard cases picked by review, not random pairs, so they must not move u.
    """
    settings = config.training
    if labels is None:
        return {"same": 0, "different": 0, "used": False}
    same = np.asarray(labels.same, dtype=bool)
    summary = {"same": int(same.sum()), "different": int((~same).sum()), "used": False}
    if min(summary["same"], summary["different"]) < settings.min_labelled_pairs:
        return summary
    levels = comparison_matrix(
        config, table, np.asarray(labels.left)[same], np.asarray(labels.right)[same]
    )
    for k, comparison in enumerate(config.comparisons):
        observed = levels[:, k]
        counts = np.bincount(observed[observed >= 0], minlength=len(comparison.levels))
        blended = counts + settings.label_strength * m[k]
        m[k] = np.maximum(blended / blended.sum(), _FLOOR)
        m[k] /= m[k].sum()
    summary["used"] = True
    return summary
