"""Candidates for real-time matching: the active records sharing a blocking key with a record.

The lookup runs on every upsert, so it is built for the round trip: on PostgreSQL one statement
(of one shape, see ``hub.services.sql``) finds the records of every key and returns their
standardised attributes with them, sent in one pipeline with the record's own keys before it
and its term-frequency counts after it (``hub.services.write_behind.read``); elsewhere a UNION
ALL of one index lookup per key is followed by one read of the records. Only
hashes of keys are looked up (``BlockingKey``); no readable value leaves the database here.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from django.db import connection

from hub.models import BlockingKey, SourceRecord
from hub.services import write_behind
from hub.services.sql import any_of
from hub.services.term_frequencies import Statement, is_frequency_rule
from linkage.config import BlockingRule, MatchConfig

Candidate = tuple[int, str, dict]  # record id, entity id, standardised attributes

# Each key's records (up to its limit + 1, to learn whether it is over the limit), the keys
# within their limits, the records they found (with the keys that found each), those records.
_LOOKUP_POSTGRESQL = """
WITH keys AS (
    SELECT key_hash, max_records FROM unnest(%s::bigint[], %s::int[]) AS k (key_hash, max_records)
), blocks AS (
    SELECT keys.key_hash, found.ids FROM keys CROSS JOIN LATERAL (
        SELECT array_agg(b.source_record_id) AS ids FROM (
            SELECT source_record_id FROM {keys} WHERE key_hash = keys.key_hash
            LIMIT keys.max_records + 1) AS b) AS found
    WHERE cardinality(found.ids) <= keys.max_records
), matched AS (
    SELECT id, array_agg(key_hash) AS key_hashes FROM blocks, unnest(blocks.ids) AS id
    WHERE id IS DISTINCT FROM %s::bigint GROUP BY id
)
SELECT r.id, r.entity_id, r.standardised, matched.key_hashes
FROM matched JOIN {records} AS r ON r.id = matched.id WHERE r.state = %s
"""


def block_limit(rule: BlockingRule, config: MatchConfig) -> int:
    """The most records one key of the rule may hold and still form a block in real time.

    A sorted-neighbourhood rule pairs a record with its few neighbours in key order; real time
    looks up a prefix of the key instead, and in a large hub a prefix ("bennet") is shared by
    hundreds of records that are no neighbours at all. Such a key forms a block only while it
    holds at most ten windows' worth of records; an exact rule's up to ``max_block_size``.
    """
    if rule.kind == "sorted_neighbourhood":
        return min(config.max_block_size, 10 * rule.window)
    return config.max_block_size


def blocked_candidates(record_id: int | None, keys: list[tuple[str, int]], config: MatchConfig,
                       along: Sequence[Statement] = (),
                       ) -> tuple[dict[int, set[str]], list[Candidate], list[list[tuple]]]:
    """The active records sharing a blocking key with this one (never itself), with the rules
    that found each, and their attributes.

    A key shared by more records than its limit is too common to say anything (a default
    postcode, a shared company phone) and forms no block; see ``block_limit``. ``along``:
    other read statements to send in the same round trip (after the writes still queued in
    ``hub.services.write_behind``, such as this record's keys); their rows come third.
    """
    rule_of = {hashed: rule for rule, hashed in keys if not is_frequency_rule(rule)}
    if not rule_of:
        return {}, [], write_behind.read(along)
    rules = {rule.name: rule for rule in config.blocking_rules}
    limits = {hashed: block_limit(rules[rule], config) for hashed, rule in rule_of.items()}
    hashes = list(rule_of)
    if connection.vendor == "postgresql":
        sql = _LOOKUP_POSTGRESQL.format(keys=BlockingKey._meta.db_table,
                                        records=SourceRecord._meta.db_table)
        rows, *others = write_behind.read([
            (sql, [hashes, [limits[h] for h in hashes], record_id,
                   SourceRecord.State.ACTIVE.value]), *along])
        found = {candidate_id: {rule_of[h] for h in key_hashes}
                 for candidate_id, _, _, key_hashes in rows}
        return found, [(candidate_id, entity_id, _decoded(value))
                       for candidate_id, entity_id, value, _ in rows], others
    rows, *others = write_behind.read([_records_of_keys_statement(hashes, limits), *along])
    found = _records_of_keys(record_id, rule_of, limits, rows)
    return found, active_records(found), others


def _records_of_keys_statement(hashes: list[int], limits: dict[int, int]) -> Statement:
    """Records per key in one round trip: a UNION ALL of one index lookup per key, each cut
    at its limit + 1 rows."""
    table = BlockingKey._meta.db_table
    lookup = (f"SELECT * FROM (SELECT key_hash, source_record_id FROM {table} "
              "WHERE key_hash = %s LIMIT %s) AS k{n}")
    return (" UNION ALL ".join(lookup.format(n=n) for n in range(len(hashes))),
            [value for hashed in hashes for value in (hashed, limits[hashed] + 1)])


def _records_of_keys(record_id, rule_of, limits, rows) -> dict[int, set[str]]:
    """The records the keys found, with their rules, from the rows of the UNION ALL."""
    per_key = Counter(hashed for hashed, _ in rows)
    found: dict[int, set[str]] = {}
    for hashed, candidate_id in rows:
        if per_key[hashed] <= limits[hashed] and candidate_id != record_id:
            found.setdefault(candidate_id, set()).add(rule_of[hashed])
    return found


def active_records(record_ids: Iterable[int]) -> list[Candidate]:
    """(id, entity id, standardised attributes) of those of the records that are active.

    A plain statement: it runs on every upsert, with the attributes of a few dozen candidates,
    where the ORM's compilation and per-row conversion cost more than the lookup.
    """
    ids = sorted(set(record_ids))
    if not ids:
        return []
    condition, params = any_of("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, entity_id, standardised FROM {SourceRecord._meta.db_table} "
            f"WHERE state = %s AND {condition}", [SourceRecord.State.ACTIVE.value, *params])
        rows = cursor.fetchall()
    return [(record_id, entity_id, _decoded(value)) for record_id, entity_id, value in rows]


def _decoded(value) -> Mapping:
    # JSON arrives as text: Django leaves its decoding to the field, which is bypassed here.
    return json.loads(value) if isinstance(value, str) else value
