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

from collections.abc import Mapping

from django.db.models import Count

from hub.models import BlockingKey
from linkage.config import MatchConfig
from linkage.frequencies import MIN_RECORDS

FREQUENCY_RULE_PREFIX = "tf:"
# Hashed in place of a value: counts the records holding the attribute at all. A control
# character, so no standardised value can be equal to it.
_ANY_VALUE = "\x00any"


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
    """The frequencies of the few values one record holds (a ``FrequencySource``)."""

    def __init__(self, frequencies: Mapping[tuple[str, str], float]) -> None:
        self._frequencies = dict(frequencies)

    def frequency(self, attribute: str, value: str) -> float | None:
        return self._frequencies.get((attribute, value))


def record_frequencies(standardised: Mapping, config: MatchConfig) -> KnownFrequencies:
    """How common each of the record's term-frequency values is among the hub's records.

    One query. The record's own rows are counted when it is already stored, as the batch path
    counts every record it matches.
    """
    from hub.services.matching import key_hash

    wanted: dict[int, tuple[str, str | None]] = {}
    for attribute in _frequency_attributes(config):
        value = standardised.get(attribute)
        if value:
            rule = FREQUENCY_RULE_PREFIX + attribute
            wanted[key_hash(rule, value)] = (attribute, value)
            wanted[key_hash(rule, _ANY_VALUE)] = (attribute, None)
    if not wanted:
        return KnownFrequencies({})
    rows = (BlockingKey.objects.filter(key_hash__in=list(wanted)).values("key_hash")
            .annotate(rows=Count("id")).values_list("key_hash", "rows"))
    counts = dict(rows)
    totals = {attribute: counts.get(hashed, 0)
              for hashed, (attribute, value) in wanted.items() if value is None}
    return KnownFrequencies({
        (attribute, value): counts[hashed] / totals[attribute]
        for hashed, (attribute, value) in wanted.items()
        if value is not None and counts.get(hashed) and totals.get(attribute, 0) >= MIN_RECORDS
    })
