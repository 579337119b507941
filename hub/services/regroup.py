"""Regrouping: a record that conflicts with an entity it also matches is clustered together with
that entity's records, as a batch run would cluster them.

Records arrive one at a time, and where two different people sit in one group of matches the
order decides: a record without a birth date may have joined a parent before their namesake
child's record arrives, which the dateless record matches far better. The batch path settles
such a group strongest link first, never joining two records that conflict
(``linkage.cluster``). Here the same is done for the group the incoming record touches: its
records and those of every entity it links to above the auto-link threshold, scored pairwise
where they share a blocking key, clustered under the stewards' decisions, and planned with the
batch path's rule for which entity keeps its golden ID (``hub.services.batch_plan``). Reads
only; ``hub.services.linking`` applies the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from django.db.models import Q

from hub.models import Decision, Link, SourceRecord
from hub.services.batch_plan import MatchPlan, NewEntity, plan_match
from hub.services.candidates import Candidate
from hub.services.term_frequencies import record_frequencies
from linkage.blocking import blocking_keys
from linkage.cluster import ClusterSettings, cluster_pairs
from linkage.config import MatchConfig
from linkage.scoring import PairScore, score_many

# The incoming record's place in ``current`` before it belongs anywhere: it never survives as
# an entity, so its cluster keeps an existing golden ID whenever it holds one.
INCOMING = "~incoming"


@dataclass
class Regrouping:
    """Where the group's records go: ``plan`` (``targets`` per record id, ``moves`` of the
    stored records that change entity, ``retired`` entities left empty), the entities' records
    it was planned on (checked again once the entities are locked), per record its strongest pair
    inside its new cluster (the link's score and explanation), and the links clustering
    refused between the incoming record's cluster and another (questions for a steward)."""

    record_id: int
    plan: MatchPlan
    members: dict[str, frozenset[int]]
    best: dict[int, tuple[int, PairScore]] = field(default_factory=dict)
    refused: list[tuple[int, int, PairScore, str]] = field(default_factory=list)

    @property
    def target(self) -> object:
        """The incoming record's entity: a golden ID, or a ``NewEntity`` to issue."""
        return self.plan.targets[self.record_id]


def regroup(record_id: int, standardised: dict, entity_ids: list[str],
            config: MatchConfig) -> Regrouping:
    """Cluster the record with every active record of ``entity_ids`` as a batch run would."""
    group = _group(record_id, standardised, entity_ids)
    pairs = _scored_pairs(group, config)
    must, cannot = _constraints([record for record, _, _ in group])
    clusters = cluster_pairs(
        [record for record, _, _ in group],
        pd.DataFrame(pairs, columns=["left", "right", "weight", "conflict", "score"]),
        ClusterSettings.from_config(config), must_link=must, cannot_link=cannot)
    current = {record: entity or INCOMING for record, entity, _ in group}
    sizes = {entity: sum(1 for e in current.values() if e == entity)
             for entity in set(current.values())}
    plan = plan_match(clusters.labels, current, sizes)
    # The incoming record's placeholder is no entity: where plan_match handed it to a cluster
    # (one holding no other record's entity), that cluster is a new entity.
    new = NewEntity(record_id)

    def real(target: object) -> object:
        return new if target == INCOMING else target

    plan.targets = {record: real(target) for record, target in plan.targets.items()}
    plan.moves = [(record, old, real(target)) for record, old, target in plan.moves
                  if record != record_id]
    plan.retired = {old: real(target) for old, target in plan.retired.items()
                    if old != INCOMING}
    plan.split.discard(INCOMING)
    members = {entity: frozenset(r for r, e in current.items() if e == entity)
               for entity in sizes if entity != INCOMING}
    return Regrouping(record_id, plan, members, _best_pairs(pairs, clusters.labels),
                      _refused_across(record_id, clusters, pairs))


def _group(record_id: int, standardised: dict, entity_ids: list[str]) -> list[Candidate]:
    members = (SourceRecord.objects.filter(entity_id__in=entity_ids,
                                           state=SourceRecord.State.ACTIVE)
               .exclude(pk=record_id).values_list("id", "entity_id", "standardised"))
    return [(record_id, None, standardised), *members]


def _scored_pairs(group: list[Candidate], config: MatchConfig) -> list[tuple]:
    """(left, right, weight, conflict, score) of the pairs sharing a blocking key, as the batch
    path scores them (each record's term frequencies counted in the hub)."""
    keys = [set(blocking_keys(standardised, config)) for _, _, standardised in group]
    pairs = []
    for index, (left, _, left_attributes) in enumerate(group):
        others = [(right, attributes) for position, (right, _, attributes)
                  in enumerate(group[index + 1:], start=index + 1)
                  if keys[index] & keys[position]]
        if not others:
            continue
        scores = score_many(left_attributes, [attributes for _, attributes in others], config,
                            record_frequencies(left_attributes, config))
        for (right, _), score in zip(others, scores, strict=True):
            conflict = score.conflict or (config.conflict_threshold is not None
                                          and score.weight <= config.conflict_threshold)
            pairs.append((left, right, score.weight, conflict, score))
    return pairs


def _constraints(records: list[int]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Steward decisions among the records, and manual links (a record a steward placed stays
    with the smallest other record of its entity, as in the batch path)."""
    must, cannot = [], []
    decisions = Decision.objects.filter(is_active=True, record_a_id__in=records,
                                        record_b_id__in=records)
    for record_a, record_b, verdict in decisions.values_list("record_a_id", "record_b_id",
                                                             "verdict"):
        (must if verdict == Decision.Verdict.SAME else cannot).append((record_a, record_b))
    manual = Link.objects.filter(source_record_id__in=records, ended_at=None,
                                 origin=Link.Origin.MANUAL).values_list("source_record_id",
                                                                        "entity_id")
    for record_id, entity_id in manual:
        mates = SourceRecord.objects.filter(
            Q(entity_id=entity_id) & Q(state=SourceRecord.State.ACTIVE) & Q(id__in=records)
        ).exclude(pk=record_id).values_list("id", flat=True)
        if mates:
            must.append((record_id, min(mates)))
    return must, cannot


def _refused_across(record_id: int, clusters, pairs: list[tuple]) -> list[tuple]:
    """(inside, outside, score, reason) of the refused links from the incoming record's cluster
    to another one: the questions a steward may answer."""
    labels, mine = clusters.labels, clusters.labels[record_id]
    score_of = {frozenset((left, right)): score for left, right, _, _, score in pairs}
    across = []
    for link in clusters.refused:
        ends = (link.left, link.right) if labels[link.left] == mine else (link.right, link.left)
        if labels[ends[0]] == mine and labels[ends[1]] != mine:
            across.append((*ends, score_of[frozenset(ends)], link.reason))
    return across


def _best_pairs(pairs: list[tuple], labels: dict) -> dict[int, tuple[int, PairScore]]:
    """Per record, the other record and score of its strongest pair inside its cluster."""
    best: dict[int, tuple[int, PairScore]] = {}
    for left, right, weight, _conflict, score in pairs:
        if labels[left] != labels[right]:
            continue
        for record, other in ((left, right), (right, left)):
            if record not in best or best[record][1].weight < weight:
                best[record] = (other, score)
    return best
