"""Matching the batch path's float32 similarities exactly in the scalar path.

``cpdist`` returns Jaro–Winkler similarities as float32 and the batch path compares that rounded
value with a level's threshold; ``float32_boundary`` turns a threshold into the double the scalar
path can compare its unrounded similarity with, giving the very same answer.
"""

from __future__ import annotations

import math
import struct

import numpy as np


def float32_boundary(threshold: float) -> float:
    """The smallest double s with float32(s) >= threshold, for a similarity in [0, 1].

    ``cpdist`` returns Jaro–Winkler similarities as float32 and the batch path compares that
    rounded value with the threshold. Rounding is monotonic, so comparing the unrounded double
    with this boundary gives the very same answer without rounding every similarity.
    """
    if _rounded(0.0) >= threshold:
        return -math.inf
    if _rounded(1.0) < threshold:
        return math.inf
    # Positive doubles sort like their bit patterns: bisect on those.
    low, high = _bits(0.0), _bits(1.0)
    while high - low > 1:
        middle = (low + high) // 2
        if _rounded(_double(middle)) >= threshold:
            high = middle
        else:
            low = middle
    return _double(high)


def _rounded(value: float) -> float:
    # Back to a Python float: numpy would compare a float32 with the threshold in float32
    # (NEP 50), while the batch path compares in float64.
    return float(np.float32(value))


def _bits(value: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def _double(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", bits))[0]
