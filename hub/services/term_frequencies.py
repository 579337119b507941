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
from hub.services import write_behind
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


def _counted_values(standardised: Mapping, config: MatchConfig):
    """(attribute, value, rule, hash of the value, hash of the attribute's "any value" marker)
    of each term-frequency value the record holds."""
    from hub.services.matching import key_hash

    for attribute in _frequency_attributes(config):
        value = standardised.get(attribute)
        if value:
            rule = FREQUENCY_RULE_PREFIX + attribute
            yield attribute, value, rule, key_hash(rule, value), key_hash(rule, _ANY_VALUE)


def frequency_keys(standardised: Mapping, config: MatchConfig) -> list[tuple[str, int]]:
    """The ``tf:<attribute>`` (rule, key hash) rows of a standardised record."""
    return [key for _, _, rule, value_hash, any_hash in _counted_values(standardised, config)
            for key in ((rule, value_hash), (rule, any_hash))]


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


Statement = tuple[str, list]


def _count_statement(key_hashes: list[int], limit: int | None) -> Statement:
    """The statement counting rows per key hash, each up to ``limit``; rows (hash, count)."""
    table = BlockingKey._meta.db_table
    if connection.vendor == "postgresql":
        # One statement shape for any number of hashes (hub.services.sql); LIMIT NULL counts
        # all.
        return (f"SELECT h, (SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE key_hash = h "
                "LIMIT %s) AS found) FROM unnest(%s::bigint[]) AS h", [limit, list(key_hashes)])
    cap = f" LIMIT {int(limit)}" if limit else ""
    one = (f"SELECT %s AS key_hash, (SELECT COUNT(*) FROM (SELECT 1 FROM {table} "
           f"WHERE key_hash = %s{cap}) AS found) AS rows")
    return (" UNION ALL ".join([one] * len(key_hashes)),
            [value for hashed in key_hashes for value in (hashed, hashed)])


class FrequencyCount:
    """How common each of a record's term-frequency values is among the hub's records: the
    statements to count them (``statements``, none when the caches know every count) and the
    frequencies from their rows (``frequencies``).

    Split in two so that the real-time path can send the counting statements in the round trip
    of its candidate lookup (``hub.services.candidates``). The record's own rows are counted
    when it is already stored, as the batch path counts every record it matches.
    """

    def __init__(self, standardised: Mapping, config: MatchConfig) -> None:
        self._values: dict[int, tuple[str, str]] = {}  # value hash -> (attribute, value)
        self._totals_of: dict[str, int] = {}  # attribute -> hash of its "any value" marker
        for attribute, value, _, value_hash, any_hash in _counted_values(standardised, config):
            self._values[value_hash] = (attribute, value)
            self._totals_of[attribute] = any_hash
        self._now = time.monotonic()
        self._fresh_totals = {h: _totals[h][1] for h in self._totals_of.values()
                              if self._total_fresh(h)}
        self._stale_totals = [h for h in self._totals_of.values() if h not in self._fresh_totals]
        # Whether the hub is large enough for common values to be cached: decided on the
        # totals known before this count (they change by a negligible fraction meanwhile).
        self._cached = bool(self._values) and all(
            _totals.get(h, (0.0, 0))[1] >= CACHE_FROM_RECORDS for h in self._totals_of.values())
        self._counts = {h: _common[h][1] for h in self._values
                        if self._cached and h in _common
                        and self._now - _common[h][0] < TOTALS_MAX_AGE}
        self._uncounted = [h for h in self._values if h not in self._counts]
        self.statements: list[Statement] = []
        if self._stale_totals:
            self.statements.append(_count_statement(self._stale_totals, None))
        if self._uncounted:
            self.statements.append(_count_statement(self._uncounted, MAX_COUNT))

    def _total_fresh(self, hashed: int) -> bool:
        known = _totals.get(hashed)
        return (known is not None and known[1] >= CACHE_FROM_RECORDS
                and self._now - known[0] < TOTALS_MAX_AGE)

    def frequencies(self, results: list[list[tuple]]) -> KnownFrequencies:
        """The frequencies, from the rows of ``statements`` (in their order)."""
        results = list(results)
        totals = dict(self._fresh_totals)
        if self._stale_totals:
            for hashed, rows in results.pop(0):
                _totals[hashed] = (self._now, rows)
                totals[hashed] = rows
        counts = dict(self._counts)
        if self._uncounted:
            for hashed, rows in results.pop(0):
                counts[hashed] = rows
                if self._cached and rows >= COMMON_COUNT:
                    _common[hashed] = (self._now, rows)
                    _common.move_to_end(hashed)
            while len(_common) > _CACHE_SIZE:
                _common.popitem(last=False)
        frequencies, known_totals = {}, {}
        for hashed, (attribute, value) in self._values.items():
            total = totals[self._totals_of[attribute]]
            if counts.get(hashed) and total >= MIN_RECORDS:
                frequencies[(attribute, value)] = min(counts[hashed], total) / total
                known_totals[attribute] = float(total)
        return KnownFrequencies(frequencies, known_totals)


def record_frequencies(standardised: Mapping, config: MatchConfig) -> KnownFrequencies:
    """How common each of the record's term-frequency values is among the hub's records.

    One round trip for the values not cached (with, every few minutes, the totals), none when
    the caches know them all; see ``FrequencyCount``.
    """
    count = FrequencyCount(standardised, config)
    return count.frequencies(write_behind.read(count.statements) if count.statements else [])
