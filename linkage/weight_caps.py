"""Weight caps: bounds on the summed weight of attributes that are not independent evidence.

Fellegi–Sunter adds attribute weights as if each attribute were independent evidence; an
address line, its postcode and its town are one fact, as are a family's landline and mailbox.
``apply_weight_caps`` scales such a group's weights down as its ``linkage.config.WeightCap``
says, on every path that weighs pairs (batch scoring, real time, EM's patterns).
"""

from __future__ import annotations

import numpy as np

from linkage.config import MatchConfig

__all__ = ["NEUTRAL_BITS", "added", "apply_weight_caps"]

# A person attribute weighing less than this below zero says nothing either way: a level EM
# finds about as common among matches as among non-matches (a nickname with a typo) is no
# sign of someone else, and must not shrink an exact e-mail or phone to a household fact.
NEUTRAL_BITS = 1.0


def apply_weight_caps(weights: np.ndarray, config: MatchConfig) -> None:
    """Scale down, in place, the positive weights of each capped group (see ``WeightCap``).

    ``weights`` is (pairs, K) in bits, columns in the order of ``config.comparisons``. The
    positive weights of a group keep their proportions, so the explanation still shows which
    attribute contributed what, and still sums to the total. Columns are handled one at a
    time (no 2-D fancy indexing, which costs more than the arithmetic at millions of pairs).
    """
    for cap in config.weight_caps:
        columns = [k for k, c in enumerate(config.comparisons) if c.attribute in cap.attributes]
        if cap.mode == "strongest":
            _one_disagreement(weights, columns)
        positive = [np.maximum(weights[:, k], 0.0) for k in columns]
        total = added(positive)
        if cap.mode == "strongest":
            limit = np.maximum.reduce(positive)
            if cap.person_attributes:
                misfit = _person_misfit(weights, config, cap)
                limit = np.where(misfit, np.minimum(limit, cap.max_weight), limit)
            else:
                limit = np.minimum(limit, cap.max_weight)
        else:
            limit = np.full(len(total), cap.max_weight)
        _scale_columns(weights, columns, total, limit, positive=True)


def _person_misfit(weights: np.ndarray, config: MatchConfig, cap) -> np.ndarray:
    """Per pair: does the person not fit the shared group? Any person attribute disagrees (weighs
    less than -``NEUTRAL_BITS``), or the contact attributes say someone else: one weighs less
    than ``contact_conflict_weight``, or, without that, every one disagrees (see ``WeightCap``).
    """
    misfit = np.zeros(len(weights), dtype=bool)
    contacts = []
    for k, c in enumerate(config.comparisons):
        if c.attribute in cap.person_attributes:
            misfit |= weights[:, k] < -NEUTRAL_BITS
        if c.attribute in cap.contact_attributes:
            contacts.append(weights[:, k])
    if cap.contact_conflict_weight is not None:
        for column in contacts:
            misfit |= column < cap.contact_conflict_weight
    elif contacts:
        misfit |= np.logical_and.reduce([column < 0 for column in contacts])
    return misfit


def _one_disagreement(weights: np.ndarray, columns: list[int]) -> None:
    """Scale a group's negative weights down to its strongest one (in place).

    A group that is one fact when it agrees is one fact when it disagrees: a person who moved
    has another street, postcode and town, which is one move, not three pieces of evidence
    against them.
    """
    negative = [np.minimum(weights[:, k], 0.0) for k in columns]
    _scale_columns(weights, columns, added(negative), np.minimum.reduce(negative),
                   positive=False)


def added(columns: list[np.ndarray]) -> np.ndarray:
    """The elementwise sum of columns, added left to right (the same floats on every path)."""
    total = columns[0].copy()
    for column in columns[1:]:
        total += column
    return total


def _scale_columns(weights, columns, total, limit, *, positive: bool) -> None:
    """Where the group's positive (or negative) ``total`` passes ``limit``, scale those
    weights of the group so that they add up to the limit."""
    over = total > limit if positive else total < limit
    rows = np.flatnonzero(over)
    if rows.size == 0:
        return
    scale = limit[rows] / total[rows]
    for k in columns:
        values = weights[rows, k]
        side = values > 0 if positive else values < 0
        weights[rows, k] = np.where(side, values * scale, values)
