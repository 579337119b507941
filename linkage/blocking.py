"""Blocking: the keys under which a record is indexed, and the candidate pairs they produce.

Comparing every record with every other is quadratic, so a record is only compared with records
that share at least one blocking key. The configuration holds a *union* of rules, each on a few
attributes, so that a duplicate with an error in any single field still shares some key.

The real-time path stores ``blocking_keys`` of every source record in an indexed table and fetches
the records sharing a key with an incoming one; the batch path uses ``candidate_pairs``. Keys are
built from personal data (an email is a key as is), so they must be erased with the record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Mapping
from functools import lru_cache, partial

import jellyfish

from linkage.config import BlockingRule, MatchConfig

Record = Mapping[str, str | None]


def blocking_keys(record: Record, config: MatchConfig) -> list[tuple[str, str]]:
    """Return ``(rule name, key)`` for every rule whose attributes are all present in the record.

    The key joins the transformed values with "|" ("|" and "\\" inside a value are escaped, so
    two different value tuples never give the same key). A value that is missing, empty, or
    empty after its transform (e.g. soundex of a name without letters) skips the rule. The list
    follows the rule order of the configuration and holds no duplicates.
    """
    keys: list[tuple[str, str]] = []
    for rule in config.blocking_rules:
        key = rule_key(record, rule)
        if key is not None and (rule.name, key) not in keys:
            keys.append((rule.name, key))
    return keys


def rule_key(record: Record, rule: BlockingRule) -> str | None:
    """The key of one rule for a record, or None when an attribute is missing."""
    parts: list[str] = []
    for attribute, transform in zip(rule.attributes, rule.transforms, strict=True):
        value = record.get(attribute)
        if not value:
            return None
        if transform:
            value = apply_transform(transform, value)
            if not value:
                return None
        parts.append(value.replace("\\", "\\\\").replace("|", "\\|"))
    return "|".join(parts)


def apply_transform(transform: str, value: str) -> str | None:
    """Apply a blocking transform ("soundex", "first:3", "year", ...) to a present value.

    Returns None (or "") when the transform has nothing to say about the value, e.g. "year" of a
    string that does not start with four digits.
    """
    return _resolve(transform)(value)


@lru_cache(maxsize=64)
def _resolve(transform: str) -> Callable[[str], str | None]:
    # Transform names were validated with the configuration; parse each one once, not per value.
    kind, _, count = transform.partition(":")
    if count:
        return partial(_COUNTED[kind], count=int(count))
    return _PLAIN[transform]


def candidate_pairs(
    records: Mapping[Hashable, Record], config: MatchConfig
) -> set[tuple[Hashable, Hashable]]:
    """All pairs of record ids sharing at least one blocking key (batch path and evaluation).

    Blocks with more than ``config.max_block_size`` records are skipped (the real-time path
    should skip them too): such a key (a shared family mailbox, a placeholder phone number) says
    nothing about identity and would swamp the scorer. Each pair appears once, ordered as the
    ids first appear in ``records``.
    """
    blocks: dict[tuple[str, str], list[Hashable]] = defaultdict(list)
    order: dict[Hashable, int] = {}
    for position, (record_id, record) in enumerate(records.items()):
        order[record_id] = position
        for key in blocking_keys(record, config):
            blocks[key].append(record_id)
    pairs: set[tuple[Hashable, Hashable]] = set()
    for members in blocks.values():
        if len(members) > config.max_block_size:
            continue
        for left, right in _pairs_within(members):
            pairs.add((left, right) if order[left] < order[right] else (right, left))
    return pairs


def _pairs_within(members: list[Hashable]) -> Iterator[tuple[Hashable, Hashable]]:
    for index, left in enumerate(members):
        for right in members[index + 1 :]:
            yield left, right


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


_PLAIN: dict[str, Callable[[str], str | None]] = {
    "soundex": _phonetic(jellyfish.soundex),
    "nysiis": _phonetic(jellyfish.nysiis),
    "metaphone": _phonetic(jellyfish.metaphone),
    "year": _year,
    "year_month": _year_month,
}


def _first(value: str, count: int) -> str:
    return value[:count]


def _last(value: str, count: int) -> str:
    return value[-count:]


_COUNTED: dict[str, Callable[[str, int], str]] = {"first": _first, "last": _last}
