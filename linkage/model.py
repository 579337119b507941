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
3. Steward decisions, when there are enough of both kinds, pull m towards the level
   distribution of the pairs stewards called the same person.
4. The prior: the expected number of matches among the candidates (EM on the mixture weight
   alone, with m and u fixed) over all possible pairs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from linkage.comparisons import RecordTable, comparison_matrix
from linkage.config import EXACT_TEST, Comparison, MatchConfig
from linkage.scoring import apply_weight_caps

MatchModel = MatchConfig
# m and u are never exactly 0: one level would then veto or force a link on its own.
_FLOOR = 1e-7
# Sessions with fewer candidate pairs say too little about m to be averaged in.
_MIN_SESSION_PAIRS = 50


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


def expectation_maximisation(
    patterns: np.ndarray,
    counts: np.ndarray,
    m: list[np.ndarray],
    u: list[np.ndarray],
    *,
    active: list[bool],
    prior: float,
    iterations: int,
    tolerance: float,
    estimate_m: bool = True,
    config: MatchConfig | None = None,
    voting: list[bool] | None = None,
) -> tuple[list[np.ndarray], float, int]:
    """EM for m (u fixed) over distinct comparison patterns with their counts.

    ``patterns`` is (Q, K) int8 level indexes (-1 missing); only ``active`` comparisons take
    part. Returns the new m per comparison, the estimated share of matches and the number of
    iterations run. With ``estimate_m`` False only the share of matches is estimated. Given a
    ``config``, its weight caps apply in the E-step as they do in scoring: a household agreeing
    must not pass for a match while m is learnt either.
    """
    m = [np.array(x, dtype=float) for x in m]
    voting = active if voting is None else [a and v for a, v in zip(active, voting, strict=True)]
    counts = counts.astype(float)
    share = prior
    done = 0
    for iteration in range(1, iterations + 1):
        done = iteration
        bits = pattern_bits(patterns, m, u, voting, config)
        posterior = _posterior(bits, share)
        weighted = counts * posterior
        new_share = float(np.clip(weighted.sum() / counts.sum(), 1e-9, 1 - 1e-9))
        change = abs(new_share - share)
        share = new_share
        if estimate_m:
            for k, use in enumerate(active):
                if not use:
                    continue
                updated = _level_shares(patterns[:, k], weighted, len(m[k]))
                if updated is None:
                    continue
                change = max(change, float(np.abs(updated - m[k]).max()))
                m[k] = updated
        if change < tolerance:
            break
    return m, share, done


def pattern_bits(patterns, m, u, voting, config=None) -> np.ndarray:
    """Per-comparison weights (Q, K) of patterns, as ``linkage.scoring`` weighs them (without
    term frequencies); comparisons that do not vote weigh 0."""
    bits = np.zeros(patterns.shape, dtype=float)
    for k, use in enumerate(voting):
        if use:
            observed = patterns[:, k]
            present = observed >= 0
            level_bits = np.log2(m[k]) - np.log2(u[k])
            if config is not None:  # neutral levels weigh nothing, as in scoring
                neutral = [level.neutral for level in config.comparisons[k].levels]
                level_bits = np.where(neutral, 0.0, level_bits)
            bits[present, k] = level_bits[observed[present]]
    if config is not None:
        apply_weight_caps(bits, config)
    return bits


def _posterior(bits: np.ndarray, share: float) -> np.ndarray:
    log_factor = bits.sum(axis=1) * np.log(2.0)
    log_odds = np.clip(log_factor + np.log(share / (1.0 - share)), -700, 700)
    return 1.0 / (1.0 + np.exp(-log_odds))


def _level_shares(observed: np.ndarray, weights: np.ndarray, size: int,
                  pseudo: np.ndarray | None = None) -> np.ndarray | None:
    """The weighted distribution of pairs over the levels of one comparison (None if empty).

    Half a pair per level (or ``pseudo`` counts) is added: a level no pair reached so far is
    rare, not impossible, and must not veto or force a link on its own.
    """
    present = observed >= 0
    totals = np.bincount(observed[present], weights=weights[present], minlength=size)
    if totals.sum() <= 0:
        return None
    totals = totals + (0.5 if pseudo is None else pseudo)
    updated = np.maximum(totals / totals.sum(), _FLOOR)
    return updated / updated.sum()


def compress(levels: np.ndarray, extra: np.ndarray | None = None):
    """Distinct rows of a level matrix (with an optional int64 column), and their counts.

    Rows are packed into one int64 each (mixed radix), as sorting numbers is far faster than
    sorting rows; a million pairs shrink to a few thousand patterns, which is what EM runs on.
    """
    sizes = [int(levels[:, k].max(initial=-1)) + 2 for k in range(levels.shape[1])]
    extra_size = int(extra.max(initial=0)) + 1 if extra is not None else 1
    radix = np.cumprod([1, *sizes], dtype=object)
    if int(radix[-1]) * extra_size >= 2**62:
        rows = levels if extra is None else np.column_stack([levels.astype(np.int64), extra])
        distinct, counts = np.unique(rows, axis=0, return_counts=True)
        tail = distinct[:, -1] if extra is not None else None
        return distinct[:, : levels.shape[1]].astype(np.int8), tail, counts
    packed = np.zeros(len(levels), dtype=np.int64)
    for k in range(levels.shape[1]):
        packed += (levels[:, k].astype(np.int64) + 1) * int(radix[k])
    if extra is not None:
        packed += extra.astype(np.int64) * int(radix[-1])
    distinct, counts = np.unique(packed, return_counts=True)
    patterns = np.empty((len(distinct), levels.shape[1]), dtype=np.int8)
    for k in range(levels.shape[1]):
        patterns[:, k] = (distinct // int(radix[k])) % sizes[k] - 1
    tail = distinct // int(radix[-1]) if extra is not None else None
    return patterns, tail, counts


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
    ``comparison_matrix`` over them (the pipeline has both anyway). Returns the trained model.
    """
    settings = config.training
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
        u = _identifier_u(u, strangers, all_pairs - share * counts.sum())
        m_final, sessions, _ = _estimate_m(config, patterns, pattern_masks, counts, m_final, u)
    labelled = _refine_with_labels(config, table, m_final, labels)
    u = _no_level_above_exact(config, m_final, u)
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


def _no_level_above_exact(config: MatchConfig, m: list[np.ndarray],
                          u: list[np.ndarray]) -> list[np.ndarray]:
    """Raise u where a looser level would outweigh the exact one.

    Agreeing exactly is the strongest evidence a comparison has; a level that is rarer among
    random pairs (names swapped, a mailbox with Gmail dots) must not weigh more, or a swapped
    name would count twice what the same name in place counts.
    """
    result = []
    for k, comparison in enumerate(config.comparisons):
        exact = comparison.level_index(EXACT_TEST)
        levels = u[k].copy()
        if exact is not None:
            ceiling = m[k][exact] / levels[exact]
            raised = (m[k] / levels > ceiling) & (np.arange(len(levels)) != exact)
            if raised.any():
                levels[raised] = m[k][raised] / ceiling
                # Rescaling all of u by one factor keeps every level's order against exact.
                levels /= levels.sum()
        result.append(levels)
    return result


def _identifier_u(u: list[np.ndarray], strangers: dict[tuple[int, int], float],
                  non_matches: float) -> list[np.ndarray]:
    """u of the levels that only pairs sharing a blocking key reach, from EM's count of the
    *different* people among those pairs (``strangers``: (comparison, level) -> pairs).

    Random pairs and value counts cannot measure u for an e-mail address or a phone number:
    two different people share one so rarely that the agreeing pairs found that way are almost
    all the same person counted twice, which makes u thousands of times too large (an e-mail
    agreeing looked like 15 bits when it is worth 20 or more). Half a pair is added, as
    elsewhere: a level no stranger reached is rare, not impossible. The estimate only ever
    lowers u: the first one, matches included, bounds it from above (and keeps a data set too
    small to count strangers in from making things up).
    """
    corrected = [x.copy() for x in u]
    for (k, level), count in strangers.items():
        corrected[k][level] = min(u[k][level], (count + 0.5) / max(non_matches, 1.0))
    for k in {k for k, _ in strangers}:
        fixed = [level for kk, level in strangers if kk == k]
        rest = np.ones(len(corrected[k]), bool)
        rest[fixed] = False
        free = 1.0 - corrected[k][fixed].sum()
        corrected[k][rest] *= free / corrected[k][rest].sum()
        corrected[k] = np.maximum(corrected[k], _FLOOR * 1e-3)
        corrected[k] /= corrected[k].sum()
    return corrected


def household_evidence(config: MatchConfig, levels: np.ndarray) -> dict[str, dict]:
    """Whether the data holds multi-person households, per weight cap with person attributes.

    A household cap exists because twins, spouses and parent and child share an address but
    are different people. Whether that happens in *this* data can be measured without labels:
    among candidate pairs agreeing exactly on at least two of the cap's attributes (one
    address), count those where every person attribute is present and falls on its catch-all
    "else" level (a different given name and a different birth date: clearly two people).
    Data entry errors alone make that rare (about 1% of such pairs in FEBRL, a register of
    individuals); households make it common (5% in the synthetic customers). Below
    ``training.household_share_min`` the cap is dropped, so that an address counts as the
    independent evidence it is in such data.
    """
    position = {c.attribute: k for k, c in enumerate(config.comparisons)}
    evidence = {}
    for cap in config.weight_caps:
        if not cap.person_attributes or not all(
            a in position for a in (*cap.attributes, *cap.person_attributes)
        ):
            continue
        agreeing = sum((levels[:, position[a]] == 0).astype(np.int32) for a in cap.attributes)
        # One address agrees in at least two of its fields; a phone or mailbox in one.
        same_address = agreeing >= min(2, len(cap.attributes) - 1)
        different = same_address.copy()
        for attribute in cap.person_attributes:
            comparison = config.comparisons[position[attribute]]
            different &= levels[:, position[attribute]] == len(comparison.levels) - 1
        pairs, people = int(same_address.sum()), int(different.sum())
        share = people / pairs if pairs else 0.0
        evidence[cap.name] = {
            "address_pairs": pairs, "different_people": people, "share": round(share, 4),
            "kept": share >= (config.training.household_share_min if cap.min_share is None
                              else cap.min_share),
        }
    return evidence


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
        strangers.update(_strangers_of_rule(
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


def _strangers_of_rule(config, index, rule, patterns, pattern_masks, counts, found, m, u,
                       share, active, voting) -> dict[tuple[int, int], float]:
    """Expected pairs of different people per covered level of a one-attribute rule.

    A level is covered when every candidate pair on it was found by the rule (an exact e-mail
    shares the e-mail key): then the rule's pairs are all the pairs on that level, and EM,
    which judged them without that attribute, says how many are different people.
    """
    if len(rule.attributes) != 1:
        return {}
    k = next((k for k, c in enumerate(config.comparisons)
              if c.attribute == rule.attributes[0]), None)
    if k is None:
        return {}
    in_rule = (pattern_masks >> index) & 1 == 1
    bits = pattern_bits(patterns[found], m, u,
                        [a and v for a, v in zip(active, voting, strict=True)], config)
    strangers_per_pattern = counts[found] * (1.0 - _posterior(bits, share))
    result = {}
    for level in range(len(config.comparisons[k].levels) - 1):  # never the catch-all
        on_level = patterns[:, k] == level
        if counts[on_level].sum() < _MIN_SESSION_PAIRS or not in_rule[on_level].all():
            continue
        result[(k, level)] = float(strangers_per_pattern[patterns[found][:, k] == level].sum())
    return result


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
