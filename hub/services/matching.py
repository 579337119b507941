"""Real-time matching of one source record against the hub: block, score, decide.

Reads only; the ingest service applies the decision. Candidates come from the indexed
blocking-key table, are scored pairwise with the linkage model, and are grouped by entity (an
entity scores as its best-matching record). Steward decisions are constraints: a "different"
decision removes the candidate's entity, a "same" decision forces the link. Scores at or below
the configuration's conflict threshold separate as a "different" decision would, as they do in
the batch clustering: the record never joins an entity holding a record it conflicts with, nor
two entities whose records conflict with each other.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db.models import Q

from hub.models import Decision, SourceRecord
from hub.services.candidates import active_records, blocked_candidates
from hub.services.regroup import Regrouping
from hub.services.term_frequencies import (
    FrequencyCount,
    frequency_keys,
    record_frequencies,
)
from linkage.blocking import blocking_keys
from linkage.cluster import ClusterSettings
from linkage.config import MatchConfig
from linkage.scoring import PairScore, score_many

# How many candidate entities a record below the auto-link threshold is put up for review with.
MAX_REVIEW_CANDIDATES = 3


def key_hash(rule: str, key: str) -> int:
    """A signed 64-bit hash of one blocking key, as stored in ``BlockingKey.key_hash``."""
    digest = hashlib.blake2b(f"{rule}\x1f{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def hashed_blocking_keys(standardised: Mapping, config: MatchConfig) -> list[tuple[str, int]]:
    """The (rule, key hash) pairs of a standardised record, stored as its BlockingKey rows.

    Besides the blocking keys, these rows count values for the term-frequency adjustment (see
    ``hub.services.term_frequencies``): rules named ``tf:<attribute>``, which never find
    candidates.
    """
    keys = [(rule, key_hash(rule, key)) for rule, key in blocking_keys(standardised, config)]
    return keys + frequency_keys(standardised, config)


@dataclass
class EntityCandidate:
    """One candidate entity with its best-scoring record and the rules that found it."""

    entity_id: str
    record_id: int
    score: PairScore
    rules: set[str] = field(default_factory=set)
    # Filled in only when several entities score above auto-link (see ``merge_context``).
    auto_links: int = 0
    size: int = 0
    # A record of the entity scores at or below the conflict threshold against this one.
    conflicting: bool = False
    # The entity's records among the candidates, with their standardised attributes.
    members: dict[int, Mapping] = field(default_factory=dict)

    def explanation(self) -> dict:
        return {**self.score.explanation(), "blocking_rules": sorted(self.rules)}


@dataclass
class MatchDecision:
    """What matching says about one record: link, new entity, or review (with candidates)."""

    outcome: str  # "linked", "new_entity" or "review"
    target: EntityCandidate | None = None
    review: list[tuple[EntityCandidate, str]] = field(default_factory=list)
    forced_by_decision: bool = False
    # Further entities the record joins to ``target``, as the batch clustering would.
    merge: list[EntityCandidate] = field(default_factory=list)
    # Set instead of the above when the record's group was clustered afresh
    # (``hub.services.regroup``): where every record of the group goes.
    regrouping: Regrouping | None = None


def _decided_pairs(record_id: int | None) -> tuple[set[int], set[int]]:
    """Ids of records a steward said are the same as / different from this record."""
    same: set[int] = set()
    different: set[int] = set()
    if record_id is None:
        return same, different
    decisions = Decision.objects.filter(is_active=True).filter(
        Q(record_a_id=record_id) | Q(record_b_id=record_id))
    for record_a_id, record_b_id, verdict in decisions.values_list(
            "record_a_id", "record_b_id", "verdict"):
        other = record_b_id if record_a_id == record_id else record_a_id
        (same if verdict == Decision.Verdict.SAME else different).add(other)
    return same, different


def score_candidates(*, record_id: int | None, standardised: Mapping, config: MatchConfig,
                     keys: list[tuple[str, int]], extra_record_ids: Iterable[int] = (),
                     has_decisions: bool = True) -> tuple[list[EntityCandidate], dict]:
    """Score every candidate record and keep the best record per active entity.

    ``extra_record_ids`` adds records that must be considered whatever their blocking keys
    (the other members of the record's current entity). Returns the candidates, best first,
    and the decision constraints ({"same": entity ids, "different": entity ids}).
    ``has_decisions=False`` (a record just inserted) skips looking its decisions up.
    """
    counting = FrequencyCount(standardised, config)  # counted in the lookup's round trip
    found, rows, counted = blocked_candidates(record_id, keys, config, counting.statements)
    for extra_id in extra_record_ids:
        if extra_id != record_id:
            found.setdefault(extra_id, set()).add("same_entity")
    same_ids, different_ids = _decided_pairs(record_id) if has_decisions else (set(), set())
    for same_id in same_ids:
        # A steward's "same" must be honoured even when no blocking key is shared any more.
        found.setdefault(same_id, set()).add("decision")
    read = {candidate_id for candidate_id, _, _ in rows}
    rows += active_records((set(found) | same_ids | different_ids) - read)
    constraints: dict[str, set[str]] = {"same": set(), "different": set()}
    scored = []
    for candidate_id, entity_id, candidate_std in rows:
        if candidate_id in different_ids:
            constraints["different"].add(entity_id)
        if candidate_id in same_ids:
            constraints["same"].add(entity_id)
        if candidate_id in found:
            scored.append((candidate_id, entity_id, candidate_std))
    frequencies = counting.frequencies(counted)
    scores = score_many(standardised, [std for _, _, std in scored], config, frequencies)
    best: dict[str, EntityCandidate] = {}
    auto_links: Counter = Counter()
    conflicting: set[str] = set()
    members: dict[str, dict[int, Mapping]] = {}
    for (candidate_id, entity_id, candidate_std), pair in zip(scored, scores, strict=True):
        auto_links[entity_id] += pair.weight >= config.auto_link_threshold
        members.setdefault(entity_id, {})[candidate_id] = candidate_std
        if _conflict(pair, config):
            conflicting.add(entity_id)
        current = best.get(entity_id)
        if current is None or pair.weight > current.score.weight:
            best[entity_id] = EntityCandidate(entity_id, candidate_id, pair, found[candidate_id])
        else:
            current.rules |= found[candidate_id]
    ranked = sorted(best.values(), key=lambda c: (-c.score.weight, c.entity_id))
    for candidate in ranked:
        candidate.auto_links = auto_links[candidate.entity_id]
        candidate.conflicting = candidate.entity_id in conflicting
        candidate.members = members[candidate.entity_id]
    merge_context(ranked, constraints, config)
    return ranked, constraints


def _conflict(pair: PairScore, config: MatchConfig) -> bool:
    """Whether the pair is two different people: a conflict level, or a weight at or below the
    conflict threshold (as ``linkage.cluster`` decides in the batch path)."""
    return pair.conflict or (config.conflict_threshold is not None
                             and pair.weight <= config.conflict_threshold)


def merge_context(ranked: list[EntityCandidate], constraints: dict, config: MatchConfig) -> None:
    """Sizes of, and steward "different" decisions between, the entities above auto-link.

    Only needed (and only queried) when the record links to more than one entity: ``decide``
    then joins them as the batch clustering would, which needs both.
    """
    constraints["apart"] = set()
    auto = [c for c in ranked
            if c.score.weight >= config.auto_link_threshold and not c.conflicting]
    if len(auto) < 2:
        return
    constraints["apart"] |= _conflicting_entities(auto, config)
    entity_of = dict(SourceRecord.objects
                     .filter(entity_id__in=[c.entity_id for c in auto],
                             state=SourceRecord.State.ACTIVE)
                     .values_list("id", "entity_id"))
    sizes = Counter(entity_of.values())
    for candidate in auto:
        candidate.size = sizes[candidate.entity_id]
    decisions = Decision.objects.filter(is_active=True, verdict=Decision.Verdict.DIFFERENT,
                                        record_a_id__in=list(entity_of),
                                        record_b_id__in=list(entity_of))
    for record_a_id, record_b_id in decisions.values_list("record_a_id", "record_b_id"):
        pair = frozenset({entity_of[record_a_id], entity_of[record_b_id]})
        if len(pair) == 2:
            constraints["apart"].add(pair)


def _conflicting_entities(auto: list[EntityCandidate], config: MatchConfig) -> set[frozenset]:
    """Pairs of the entities above auto-link whose records conflict with each other.

    As in the batch path, only records sharing a blocking key are compared: those are the
    pairs a batch run scores.
    """
    if config.conflict_threshold is None and not any(c.conflict_levels
                                                     for c in config.comparisons):
        return set()
    keyed = [(c.entity_id, std, set(blocking_keys(std, config)))
             for c in auto for std in c.members.values()]
    apart = set()
    for index, (entity_a, record_a, keys_a) in enumerate(keyed):
        others = [(entity_b, record_b) for entity_b, record_b, keys_b in keyed[index + 1:]
                  if entity_b != entity_a and keys_a & keys_b
                  and frozenset({entity_a, entity_b}) not in apart]
        if not others:
            continue
        scores = score_many(record_a, [record for _, record in others], config,
                            record_frequencies(record_a, config))
        apart |= {frozenset({entity_a, entity_b}) for (entity_b, _), pair in
                  zip(others, scores, strict=True) if _conflict(pair, config)}
    return apart


def decide(candidates: list[EntityCandidate], constraints: dict, config: MatchConfig,
           ) -> MatchDecision:
    """Turn ranked candidate entities into a link, a new entity or review tasks.

    A "same" decision wins outright; entities holding a "different" record are never chosen.
    One entity above the auto-link threshold is linked. Above it against several, the record
    joins them as the batch clustering (``linkage.cluster``) would, strongest first, and a join
    that clustering refuses (a steward's "different", records scoring as different people, one
    weak link between two large entities, an over-large result) becomes a review task instead.
    An entity holding a record this one conflicts with is never joined: it is put up for review
    as "ambiguous". Otherwise the best few above the review threshold are put up for review.
    """
    allowed = [c for c in candidates if c.entity_id not in constraints["different"]]
    forced = [c for c in allowed if c.entity_id in constraints["same"]]
    if len(forced) == 1:
        return MatchDecision("linked", target=forced[0], forced_by_decision=True)
    above = [c for c in allowed if c.score.weight >= config.auto_link_threshold]
    auto = [c for c in above if not c.conflicting]
    held = [(c, "ambiguous") for c in above if c.conflicting]
    if len(auto) == 1:
        return MatchDecision("linked", target=auto[0], review=held)
    if len(auto) > 1:
        decision = _join_several(auto, constraints, config)
        decision.review += held
        return decision
    if held:
        return MatchDecision("review", review=held[:MAX_REVIEW_CANDIDATES])
    uncertain = [c for c in allowed if c.score.weight >= config.review_threshold]
    if uncertain:
        return MatchDecision(
            "review", review=[(c, "uncertain") for c in uncertain[:MAX_REVIEW_CANDIDATES]])
    return MatchDecision("new_entity")


def entities_to_regroup(candidates: list[EntityCandidate], constraints: dict,
                        config: MatchConfig) -> list[str]:
    """The entities to cluster a new record with afresh, as a batch run would: all those above
    the auto-link threshold, when one of them holds a record this one conflicts with (the order
    of arrival would otherwise decide which of two people the group's records go with). None
    when a steward's decision settles the record.
    """
    allowed = [c for c in candidates if c.entity_id not in constraints["different"]]
    if any(c.entity_id in constraints["same"] for c in allowed):
        return []
    above = [c for c in allowed if c.score.weight >= config.auto_link_threshold]
    if not any(c.conflicting for c in above):
        return []
    return [c.entity_id for c in above]


def _join_several(auto: list[EntityCandidate], constraints: dict, config: MatchConfig,
                  ) -> MatchDecision:
    """Link to the strongest entity and merge the others in, unless clustering would refuse."""
    settings = ClusterSettings.from_config(config)
    joined, refused = [auto[0]], []
    size = 1 + auto[0].size
    for candidate in auto[1:]:
        large = (size >= settings.large_cluster_size
                 and candidate.size >= settings.large_cluster_size)
        if any(frozenset({candidate.entity_id, j.entity_id}) in constraints.get("apart", ())
               for j in joined):
            refused.append((candidate, "ambiguous"))
        elif (large and candidate.score.weight < settings.strong_link_weight
              and candidate.auto_links < 2):
            refused.append((candidate, "weak_bridge"))
        elif size + candidate.size > settings.max_cluster_size:
            refused.append((candidate, "too_large"))
        else:
            joined.append(candidate)
            size += candidate.size
    return MatchDecision("linked", target=auto[0], merge=joined[1:], review=refused)
