"""Corrections training makes to the plain estimates, where customer data break their
assumptions: identifiers whose agreement random pairs cannot measure, looser levels that would
outweigh exact agreement, and households (an address, a phone, a mailbox shared by several
people) whose caps are kept only where the data hold such households.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import beta

from linkage.config import EXACT_TEST, SOURCE_METHOD, MatchConfig
from linkage.em import FLOOR, pattern_bits, posterior

# Levels reached by fewer candidate pairs say too little to correct u with.
MIN_LEVEL_PAIRS = 50
# How sure training must be that households are rare before it drops their cap: the cap is
# what keeps twins, spouses and namesake parents apart, so a few hundred pairs that happen to
# hold few of them must not remove it.
HOUSEHOLD_CONFIDENCE = 0.99


def no_level_above_exact(config: MatchConfig, m: list[np.ndarray],
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
        # Records of one source are the exception: a source keeps its own customers apart, so
        # sharing one counts against a match, and its "else" rightly weighs more than "exact".
        if exact is not None and comparison.method != SOURCE_METHOD:
            ceiling = m[k][exact] / levels[exact]
            raised = (m[k] / levels > ceiling) & (np.arange(len(levels)) != exact)
            if raised.any():
                levels[raised] = m[k][raised] / ceiling
                # Rescaling all of u by one factor keeps every level's order against exact.
                levels /= levels.sum()
        result.append(levels)
    return result


def identifier_u(u: list[np.ndarray], strangers: dict[tuple[int, int], float],
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
        corrected[k] = np.maximum(corrected[k], FLOOR * 1e-3)
        corrected[k] /= corrected[k].sum()
    return corrected


def household_evidence(config: MatchConfig, levels: np.ndarray) -> dict[str, dict]:
    """Whether the data holds multi-person households, per weight cap with person attributes.

    A household cap exists because twins, spouses and parent and child share an address but are
    different people. Whether that happens in *this* data can be measured without labels: among
    candidate pairs agreeing exactly on at least two of the cap's attributes (one address; a
    phone or a mailbox on one of them, a birth date on itself), count those where every person
    attribute is present and falls on its catch-all "else" level (a different given name and a
    different birth date: clearly two people). Data entry errors alone make that rare (0.13% of
    such pairs in FEBRL, a register of individuals); households make it common (3.3% in the
    synthetic customers). The cap is dropped, so that an address counts as the independent
    evidence it is in such data, only when the data show with ``HOUSEHOLD_CONFIDENCE`` that the
    share is below ``training.household_share_min`` (or the cap's ``min_share``): the upper
    confidence bound of the share must be below it, not just the share.
    """
    position = {c.attribute: k for k, c in enumerate(config.comparisons)}
    evidence = {}
    for cap in config.weight_caps:
        if not cap.person_attributes or not all(
            a in position for a in (*cap.attributes, *cap.person_attributes)
        ):
            continue
        agreeing = sum((levels[:, position[a]] == 0).astype(np.int32) for a in cap.attributes)
        # One address agrees in at least two of its fields; a phone or mailbox in one, and a
        # one-attribute group (the birth date twins share) in that one.
        same_address = agreeing >= max(1, min(2, len(cap.attributes) - 1))
        different = same_address.copy()
        for attribute in cap.person_attributes:
            comparison = config.comparisons[position[attribute]]
            different &= levels[:, position[attribute]] == len(comparison.levels) - 1
        pairs, people = int(same_address.sum()), int(different.sum())
        share = people / pairs if pairs else 0.0
        upper = share_upper_bound(people, pairs)
        evidence[cap.name] = {
            "address_pairs": pairs, "different_people": people, "share": round(share, 4),
            "share_upper_bound": round(upper, 4),
            "kept": upper >= (config.training.household_share_min if cap.min_share is None
                              else cap.min_share),
        }
    return evidence


def share_upper_bound(hits: int, trials: int, confidence: float = HOUSEHOLD_CONFIDENCE) -> float:
    """The one-sided upper confidence bound of a share ``hits / trials`` (Clopper-Pearson).

    1.0 without trials: no pairs are no evidence that households are rare.
    """
    if hits >= trials:
        return 1.0
    return float(beta.ppf(confidence, hits + 1, trials - hits))


def strangers_of_rule(config, index, rule, patterns, pattern_masks, counts, found, m, u,
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
    strangers_per_pattern = counts[found] * (1.0 - posterior(bits, share))
    result = {}
    for level in range(len(config.comparisons[k].levels) - 1):  # never the catch-all
        on_level = patterns[:, k] == level
        if counts[on_level].sum() < MIN_LEVEL_PAIRS or not in_rule[on_level].all():
            continue
        result[(k, level)] = float(strangers_per_pattern[patterns[found][:, k] == level].sum())
    return result
