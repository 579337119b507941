"""Term frequencies for the real-time path, counted in the hub's own blocking-key index.

The batch path counts how common each value is in the records it matches; the real-time path
must use the same counts, or a record arriving alone would score differently from the same
record in a batch run. Each record therefore stores, beside its blocking keys, one
``BlockingKey`` row per term-frequency attribute under the rule ``tf:<attribute>``: one with
the hash of its value and one with the hash of a marker shared by every record holding that
attribute. Counting rows by hash (an index lookup) then gives the value's count and the number
of records with any value. Only hashes are stored, and the rows go with the record when it is
deleted or erased.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping

from django.db import connection

from hub.models import BlockingKey
from linkage.config import MatchConfig
from linkage.frequencies import MIN_RECORDS

FREQUENCY_RULE_PREFIX = "tf:"
# Hashed in place of a value: counts the records holding the attribute at all. A control
# character, so no standardised value can be equal to it.
_ANY_VALUE = "\x00any"
# Counting is an index range scan, as long as the count. So a value is counted up to MAX_COUNT
# records (beyond it, at a million records, it is among the commonest names, and a fraction of
# a bit in its weight does not matter). In a large hub (CACHE_FROM_RECORDS or more records
# holding the attribute) the count of a common value (COMMON_COUNT or more) is kept for
# TOTALS_MAX_AGE seconds, as is the number of records holding the attribute at all: there both
# change by a negligible fraction in that time, and common names are exactly the ones that come
# back again and again. A smaller hub is counted afresh on every call (a cheap scan): while it
# grows, a cached total would be far off (the first total of an empty hub is 0, which would
# switch the adjustment off for minutes) and real-time scores would drift from the batch path's.
MAX_COUNT = 20_000
COMMON_COUNT = 50
TOTALS_MAX_AGE = 300.0
CACHE_FROM_RECORDS = 100_000
_CACHE_SIZE = 100_000
_totals: dict[int, tuple[float, int]] = {}  # key hash -> (monotonic time counted, count)
_common: OrderedDict[int, tuple[float, int]] = OrderedDict()  # the same, for common values


def is_frequency_rule(rule: str) -> bool:
    """Whether a BlockingKey rule counts values rather than finding candidates."""
    return rule.startswith(FREQUENCY_RULE_PREFIX)


def _frequency_attributes(config: MatchConfig) -> list[str]:
    return [c.attribute for c in config.comparisons if c.term_frequency is not None]


def frequency_keys(standardised: Mapping, config: MatchConfig) -> list[tuple[str, int]]:
    """The ``tf:<attribute>`` (rule, key hash) rows of a standardised record."""
    from hub.services.matching import key_hash

    keys = []
    for attribute in _frequency_attributes(config):
        value = standardised.get(attribute)
        if value:
            rule = FREQUENCY_RULE_PREFIX + attribute
            keys += [(rule, key_hash(rule, value)), (rule, key_hash(rule, _ANY_VALUE))]
    return keys


class KnownFrequencies:
    """The frequencies of the few values one record holds, and the number of records holding
    each attribute (a ``FrequencySource``)."""

    def __init__(self, frequencies: Mapping[tuple[str, str], float],
                 totals: Mapping[str, float] | None = None) -> None:
        self._frequencies = dict(frequencies)
        self._totals = dict(totals or {})

    def frequency(self, attribute: str, value: str) -> float | None:
        return self._frequencies.get((attribute, value))

    def total(self, attribute: str) -> float | None:
        return self._totals.get(attribute)


def _count(key_hashes: list[int], limit: int | None) -> dict[int, int]:
    """Rows per key hash in one round trip, each counted up to ``limit``."""
    table = BlockingKey._meta.db_table
    if connection.vendor == "postgresql":
        # One statement shape for any number of hashes (hub.services.sql); LIMIT NULL counts
        # all.
        sql = (f"SELECT h, (SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE key_hash = h "
               "LIMIT %s) AS found) FROM unnest(%s::bigint[]) AS h")
        with connection.cursor() as cursor:
            cursor.execute(sql, [limit, list(key_hashes)])
            return dict(cursor.fetchall())
    cap = f" LIMIT {int(limit)}" if limit else ""
    one = (f"SELECT %s AS key_hash, (SELECT COUNT(*) FROM (SELECT 1 FROM {table} "
           f"WHERE key_hash = %s{cap}) AS found) AS rows")
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join([one] * len(key_hashes)),
                       [value for hashed in key_hashes for value in (hashed, hashed)])
        return dict(cursor.fetchall())


def _cached_totals(key_hashes: list[int]) -> dict[int, int]:
    """Records holding each attribute: kept TOTALS_MAX_AGE seconds once the hub is large."""
    now = time.monotonic()
    stale = [h for h in key_hashes
             if h not in _totals or _totals[h][1] < CACHE_FROM_RECORDS
             or now - _totals[h][0] >= TOTALS_MAX_AGE]
    if stale:
        for hashed, rows in _count(stale, None).items():
            _totals[hashed] = (now, rows)
    return {h: _totals[h][1] for h in key_hashes}


def _value_counts(key_hashes: list[int], *, cached: bool) -> dict[int, int]:
    """Records holding each value, counted up to MAX_COUNT; common ones cached if ``cached``."""
    now = time.monotonic()
    counts = {h: _common[h][1] for h in key_hashes
              if cached and h in _common and now - _common[h][0] < TOTALS_MAX_AGE}
    missing = [h for h in key_hashes if h not in counts]
    if missing:
        for hashed, rows in _count(missing, MAX_COUNT).items():
            counts[hashed] = rows
            if cached and rows >= COMMON_COUNT:
                _common[hashed] = (now, rows)
                _common.move_to_end(hashed)
        while len(_common) > _CACHE_SIZE:
            _common.popitem(last=False)
    return counts


def record_frequencies(standardised: Mapping, config: MatchConfig) -> KnownFrequencies:
    """How common each of the record's term-frequency values is among the hub's records.

    One query for the values (plus, every few minutes, one for the totals). The record's own
    rows are counted when it is already stored, as the batch path counts every record it
    matches.
    """
    from hub.services.matching import key_hash

    values: dict[int, tuple[str, str]] = {}
    totals_of: dict[str, int] = {}
    for attribute in _frequency_attributes(config):
        value = standardised.get(attribute)
        if value:
            rule = FREQUENCY_RULE_PREFIX + attribute
            values[key_hash(rule, value)] = (attribute, value)
            totals_of[attribute] = key_hash(rule, _ANY_VALUE)
    if not values:
        return KnownFrequencies({})
    totals = _cached_totals(list(totals_of.values()))
    counts = _value_counts(list(values), cached=min(totals.values()) >= CACHE_FROM_RECORDS)
    frequencies, known_totals = {}, {}
    for hashed, (attribute, value) in values.items():
        total = totals[totals_of[attribute]]
        if counts.get(hashed) and total >= MIN_RECORDS:
            frequencies[(attribute, value)] = min(counts[hashed], total) / total
            known_totals[attribute] = float(total)
    return KnownFrequencies(frequencies, known_totals)
