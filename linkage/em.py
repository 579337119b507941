"""Expectation maximisation for the Fellegi–Sunter m probabilities, on compressed patterns.

The batch pipeline's millions of candidate pairs shrink to a few thousand distinct comparison
patterns (``compress``); EM runs on those with their counts. ``pattern_bits`` weighs patterns
as ``linkage.scoring`` weighs pairs (neutral levels, weight caps), so what EM learns is what
scoring uses.
"""

from __future__ import annotations

import numpy as np

from linkage.config import MatchConfig
from linkage.weight_caps import apply_weight_caps

# m and u are never exactly 0: one level would then veto or force a link on its own.
FLOOR = 1e-7


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
        weighted = counts * posterior(bits, share)
        new_share = float(np.clip(weighted.sum() / counts.sum(), 1e-9, 1 - 1e-9))
        change = abs(new_share - share)
        share = new_share
        if estimate_m:
            for k, use in enumerate(active):
                if not use:
                    continue
                updated = level_shares(patterns[:, k], weighted, len(m[k]))
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


def posterior(bits: np.ndarray, share: float) -> np.ndarray:
    """The match probability of each pattern, given its per-comparison bits and the share."""
    log_factor = bits.sum(axis=1) * np.log(2.0)
    log_odds = np.clip(log_factor + np.log(share / (1.0 - share)), -700, 700)
    return 1.0 / (1.0 + np.exp(-log_odds))


def level_shares(observed: np.ndarray, weights: np.ndarray, size: int,
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
    updated = np.maximum(totals / totals.sum(), FLOOR)
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
