"""Blocking: the keys under which a record is indexed, and the candidate pairs they produce.

Comparing every record with every other is quadratic, so a record is only compared with records
that share a blocking key. The configuration holds a *union* of rules, each on a few attributes,
so that a duplicate with an error in any single field still shares some key. Placeholder values
(listed in the configuration) never form a key, and a key shared by more than
``max_block_size`` records (a family mailbox, a company switchboard) forms no block: it says
nothing about identity and would swamp the scorer.

Two paths, one definition of a key:
- real time: ``blocking_keys`` of every source record go into an indexed table; an incoming
  record fetches the records sharing one of its keys.
- batch: ``block_pairs`` builds the same blocks for a whole DataFrame with sorts and array
  arithmetic (no Python loop over records or pairs).

A "sorted_neighbourhood" rule sorts records by its key and pairs each with the next
``window - 1``, which catches near-equal keys no exact rule shares. An index lookup cannot do
that, so in real time such a rule gives the first ``prefix`` characters of its key, an exact key
that approximates "close in sort order". Keys are built from personal data (an email is a key as
is), so they must be erased with the record.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from functools import lru_cache, partial

import jellyfish
import numpy as np
import pandas as pd

from linkage import features
from linkage.config import BlockingRule, MatchConfig

Record = Mapping[str, str | None]
# Rules are tracked as bits of an int64 mask per pair.
MAX_RULES = 63
# While pairs are gathered, a rule's index rides in the low bits of the pair's code
# (left * records + right), which leaves room for this many records.
_RULE_BITS, _RULE_MASK = 6, 63
MAX_BATCH = 2 ** 28


def blocking_keys(record: Record, config: MatchConfig) -> list[tuple[str, str]]:
    """Return ``(rule name, key)`` for every rule whose attributes are all present in the record.

    The key joins the transformed values with "|" ("|" and "\\" inside a value are escaped, so
    two different value tuples never give the same key). A value that is missing, empty, a
    configured placeholder, or empty after its transform (e.g. soundex of a name without
    letters) skips the rule. Sorted-neighbourhood rules give a prefix of their key (see the
    module docstring). The list follows the rule order and holds no duplicates.
    """
    keys: list[tuple[str, str]] = []
    for rule in config.blocking_rules:
        key = rule_key(record, rule, config.placeholders)
        if key is not None and rule.kind == "sorted_neighbourhood":
            key = key[: rule.prefix]
        if key is not None and (rule.name, key) not in keys:
            keys.append((rule.name, key))
    return keys


def rule_key(
    record: Record, rule: BlockingRule, placeholders: Mapping[str, frozenset[str]] | None = None
) -> str | None:
    """The key of one rule for a record, or None when an attribute is missing."""
    parts: list[str] = []
    for attribute, transform in zip(rule.attributes, rule.transforms, strict=True):
        value = _usable(record.get(attribute), attribute, placeholders or {})
        if value and transform:
            value = apply_transform(transform, value)
        if not value:
            return None
        parts.append(value.replace("\\", "\\\\").replace("|", "\\|"))
    if rule.unordered:
        parts[:2] = sorted(parts[:2])
    return "|".join(parts)


def _usable(value: str | None, attribute: str, placeholders: Mapping[str, frozenset[str]]):
    if not value or value in placeholders.get(attribute, ()):
        return None
    return value


def apply_transform(transform: str, value: str) -> str | None:
    """Apply a blocking transform ("soundex", "first:3", "year", ...) to a present value.

    Returns None (or "") when the transform has nothing to say about the value, e.g. "year" of a
    string that does not start with four digits.
    """
    return _resolve(transform)(value)


# --- batch ------------------------------------------------------------------------------------


def block_pairs(
    frame: pd.DataFrame, config: MatchConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate pairs of a DataFrame of standardised records, by the union of the rules.

    Returns row positions ``left < right`` (int64 arrays, each pair once) and an int64 mask per
    pair whose bit i is set when rule i of the configuration found it.
    """
    if len(config.blocking_rules) > MAX_RULES:
        raise ValueError(f"at most {MAX_RULES} blocking rules are supported")
    size = len(frame)
    if size > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} records can be blocked in one batch")
    packed = []
    cache: dict = {}
    for index, rule in enumerate(config.blocking_rules):
        key = rule_keys_array(frame, rule, config.placeholders, sort=rule.kind != "exact",
                              cache=cache)
        if rule.kind == "exact":
            left, right = _pairs_in_blocks(key, config.max_block_size)
        else:
            left, right = _pairs_in_windows(key, rule.window, config.max_block_size)
        low, high = np.minimum(left, right), np.maximum(left, right)
        # One int64 per found pair: the pair's code above, the rule's index in the low bits.
        packed.append((low * size + high) << _RULE_BITS | index)
    found = np.concatenate(packed) if packed else np.empty(0, dtype=np.int64)
    del packed
    if found.size == 0:
        return found, found, found
    found.sort()  # one plain sort: the order among one pair's rules does not matter
    codes = found >> _RULE_BITS
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    unique = codes[starts]
    masks = np.bitwise_or.reduceat(np.left_shift(1, found & _RULE_MASK), starts)
    return unique // size, unique % size, masks


def rule_keys_array(
    frame: pd.DataFrame,
    rule: BlockingRule,
    placeholders: Mapping[str, frozenset[str]],
    *,
    sort: bool = False,
    cache: dict | None = None,
) -> np.ndarray:
    """One integer key per row for a rule (-1 where the rule gives no key).

    Equal integers mean equal ``rule_key`` strings; with ``sort`` their order is the order of
    the tuples of transformed values. ``cache`` shares the per-attribute work between rules of
    one run (the postcode appears in many rules).
    """
    cache = {} if cache is None else cache
    combined = np.zeros(len(frame), dtype=np.int64)
    parts = list(zip(rule.attributes, rule.transforms, strict=True))
    if rule.unordered:
        combined = _unordered_codes(frame, parts[:2], placeholders, cache)
        parts = parts[2:]
    for attribute, transform in parts:
        part_codes = cache.get((attribute, transform, sort))
        if part_codes is None:
            part_codes = _part_codes(frame, attribute, transform, placeholders, sort, cache)
            cache[(attribute, transform, sort)] = part_codes
        width = int(part_codes.max()) + 2 if len(part_codes) else 1
        combined = np.where(
            (combined < 0) | (part_codes < 0), -1, combined * width + part_codes
        )
        # Re-number after each attribute so that the key never overflows int64.
        valid = combined >= 0
        renumbered, _ = pd.factorize(combined[valid], sort=sort)
        combined[valid] = renumbered
    return combined


def _transformed(frame, attribute, transform, placeholders, cache) -> tuple[np.ndarray, list]:
    """Per row, an index into the distinct transformed values (None where there is none)."""
    codes, usable = _distinct_usable(frame, attribute, placeholders, cache)
    if not transform:
        return codes, usable
    resolved = _resolve(transform)
    return codes, [(resolved(value) or None) if value else None for value in usable]


def _distinct_usable(frame, attribute, placeholders, cache) -> tuple[np.ndarray, list]:
    """Per row, an index into the attribute's distinct values, and those values (None for a
    placeholder), found once per attribute for all the rules and transforms that read it."""
    found = cache.get(("distinct", attribute))
    if found is None:
        raw = frame[attribute] if attribute in frame else pd.Series([None] * len(frame))
        codes, distinct = pd.factorize(pd.Series(raw.to_numpy(object), dtype=object))
        found = codes, [_usable(value, attribute, placeholders) for value in distinct]
        cache[("distinct", attribute)] = found
    return found


def _part_codes(frame, attribute, transform, placeholders, sort, cache) -> np.ndarray:
    """Codes of one transformed attribute: the transform runs once per distinct value."""
    codes, transformed = _transformed(frame, attribute, transform, placeholders, cache)
    # Distinct values may share a transformed value (two names, one soundex): code those alike.
    value_codes, _ = pd.factorize(pd.Series(transformed, dtype=object), sort=sort)
    value_codes = np.append(value_codes.astype(np.int64), -1)  # index -1: a missing value
    return value_codes[codes]


def _unordered_codes(frame, parts, placeholders, cache) -> np.ndarray:
    """One code per row for the unordered pair of two transformed attributes (-1: missing).

    Both attributes are coded in one shared vocabulary, so ("ann", "lee") and ("lee", "ann")
    become the same (smaller, larger) pair of codes.
    """
    (codes_a, values_a), (codes_b, values_b) = (
        _transformed(frame, attribute, transform, placeholders, cache)
        for attribute, transform in parts
    )
    shared, _ = pd.factorize(pd.Series(values_a + values_b, dtype=object), sort=True)
    shared = shared.astype(np.int64)
    first = np.append(shared[: len(values_a)], -1)[codes_a]
    second = np.append(shared[len(values_a):], -1)[codes_b]
    width = int(max(first.max(initial=0), second.max(initial=0))) + 1
    low, high = np.minimum(first, second), np.maximum(first, second)
    combined = np.where((first < 0) | (second < 0), -1, low * width + high)
    valid = combined >= 0
    combined[valid], _ = pd.factorize(combined[valid], sort=True)
    return combined


def _pairs_in_blocks(key: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of rows sharing a key, for blocks of 2 to ``cap`` rows."""
    rows = np.flatnonzero(key >= 0)
    order = np.argsort(key[rows])  # any order within a block gives its pairs
    rows, sorted_keys = rows[order], key[rows][order]
    if rows.size < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    sizes = np.diff(np.r_[starts, rows.size])
    lefts, rights = [], []
    # Blocks of one size at a time: the pairs of a block of s rows are the upper triangle of an
    # s x s grid, laid over every block of that size at once.
    for block_size in np.unique(sizes[(sizes >= 2) & (sizes <= cap)]):
        block_starts = starts[sizes == block_size]
        i, j = np.triu_indices(int(block_size), 1)
        lefts.append(rows[(block_starts[:, None] + i).ravel()])
        rights.append(rows[(block_starts[:, None] + j).ravel()])
    if not lefts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(lefts).astype(np.int64), np.concatenate(rights).astype(np.int64)


def _pairs_in_windows(key: np.ndarray, window: int, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of rows at most ``window - 1`` apart in key order (sorted neighbourhood).

    Rows whose key is shared by more than ``cap`` rows take no part: like a too-large block,
    a very frequent key says nothing, and its rows would only be paired with arbitrary
    neighbours.
    """
    rows = np.flatnonzero(key >= 0)
    counts = np.bincount(key[rows]) if rows.size else np.empty(0, dtype=np.int64)
    rows = rows[counts[key[rows]] <= cap]
    ordered = rows[np.argsort(key[rows], kind="stable")]
    lefts, rights = [], []
    for offset in range(1, window):
        lefts.append(ordered[:-offset])
        rights.append(ordered[offset:])
    return np.concatenate(lefts).astype(np.int64), np.concatenate(rights).astype(np.int64)


def candidate_pairs(
    records: Mapping[Hashable, Record], config: MatchConfig
) -> set[tuple[Hashable, Hashable]]:
    """All pairs of record ids found by the rules (for tests and small data sets).

    Each pair appears once, ordered as the ids first appear in ``records``.
    """
    ids = list(records)
    frame = pd.DataFrame.from_records([dict(records[i]) for i in ids])
    left, right, _ = block_pairs(frame, config)
    return {(ids[a], ids[b]) for a, b in zip(left.tolist(), right.tolist(), strict=True)}


def rule_names(mask: int, config: MatchConfig) -> tuple[str, ...]:
    """The names of the rules whose bits are set in a ``block_pairs`` mask."""
    return tuple(r.name for i, r in enumerate(config.blocking_rules) if mask >> i & 1)


# --- transforms -------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _resolve(transform: str) -> Callable[[str], str | None]:
    # Transform names were validated with the configuration; parse each one once, not per value.
    kind, _, count = transform.partition(":")
    if count:
        return partial(_COUNTED[kind], count=int(count))
    return _PLAIN[transform]


def _phonetic(encode: Callable[[str], str]) -> Callable[[str], str | None]:
    def transform(value: str) -> str | None:
        # Spaces are dropped first so that "van der berg" and "vanderberg" share a code; a
        # value without letters has no sound (jellyfish would still return e.g. "1000").
        letters = value.replace(" ", "")
        if not any(char.isalpha() for char in letters):
            return None
        return encode(letters)

    return transform


def _year(value: str) -> str | None:
    year = value[:4]
    return year if len(year) == 4 and year.isdigit() else None


def _year_month(value: str) -> str | None:
    # Only ISO dates (YYYY-MM...) have a month at a known place; anything else is unusable.
    if _year(value) is None or len(value) < 7 or value[4] != "-" or not value[5:7].isdigit():
        return None
    return value[:7]


def _month_day(value: str) -> str | None:
    # Survives a wrong year (the commonest slip in a birth date after a swapped day and month).
    if _year_month(value) is None or len(value) != 10:
        return None
    return value[5:]


def _digits(value: str) -> str | None:
    return features.only_digits(value) or None


_PLAIN: dict[str, Callable[[str], str | None]] = {
    "soundex": _phonetic(jellyfish.soundex),
    "nysiis": _phonetic(jellyfish.nysiis),
    "metaphone": _phonetic(jellyfish.metaphone),
    "year": _year,
    "year_month": _year_month,
    "month_day": _month_day,
    "digits": _digits,
    "letters": features.letters,
    "reverse": lambda value: value[::-1],
    # The mailbox behind plus tags and Gmail dots, and its local part alone (the same person
    # at another provider); see linkage.features.
    "canonical_email": features.canonical_email,
    "email_local_part": lambda value: features.email_local_part(value) or None,
}


def _first(value: str, count: int) -> str:
    return value[:count]


def _last(value: str, count: int) -> str:
    return value[-count:]


_COUNTED: dict[str, Callable[[str, int], str]] = {"first": _first, "last": _last}
