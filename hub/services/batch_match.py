"""Batch matching: re-match whole sources with the model in force, keeping steward decisions.

``batch_match_plan`` reads the records, scores candidate pairs with the linkage pipeline and
clusters them under the stewards' constraints (a "same" decision or a manual link binds, a
"different" decision separates); ``batch_match_apply`` writes the plan in one transaction with
its events. The plan can be printed first (``manage.py match --dry-run``).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.db.models import Count

from hub.models import Decision, Link, SourceRecord
from hub.services.batch_plan import MatchPlan, plan_match
from hub.services.match_config import active_match_config
from linkage.attributes import CANONICAL_ATTRIBUTES, SOURCE_ATTRIBUTE
from linkage.cluster import ClusterSettings, cluster_pairs
from linkage.config import MatchConfig
from linkage.pipeline import BatchResult, link_frame

CHUNK = 5000


def chunks(items: list, size: int = CHUNK):
    """Slices of ``items``: SQLite refuses statements with too many parameters."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass(frozen=True)
class ReviewCandidate:
    """A pair worth a steward's look: the record, the other record, its weight and why."""

    record_id: int
    other_record_id: int
    weight: float
    reason: str
    row: int


@dataclass
class BatchRun:
    """A computed batch match: the plan, the review candidates, and what it was computed from."""

    config: MatchConfig
    plan: MatchPlan
    review: list[ReviewCandidate]
    result: BatchResult | None
    current: dict[int, str]
    timings: dict[str, float] = field(default_factory=dict)


def records_frame(sources: list[str] | None) -> tuple[pd.DataFrame, dict[int, str]]:
    """Standardised attributes of the active records in scope (index = record id), and each
    record's current entity."""
    records = SourceRecord.objects.filter(state=SourceRecord.State.ACTIVE)
    if sources:
        records = records.filter(source__code__in=sources)
    ids, entities, values = [], [], []
    for record_id, entity_id, standardised in records.values_list(
            "id", "entity_id", "standardised").iterator(chunk_size=CHUNK):
        ids.append(record_id)
        entities.append(entity_id)
        values.append(standardised)
    frame = pd.DataFrame.from_records(values, index=pd.Index(ids, name="record_id"),
                                      columns=[*CANONICAL_ATTRIBUTES, SOURCE_ATTRIBUTE])
    return frame, dict(zip(ids, entities, strict=True))


def _constraints(current: dict[int, str]) -> tuple[list[tuple], list[tuple]]:
    """Steward constraints among the records in scope.

    A manual link binds its record to the smallest other record of its entity, so the steward's
    grouping survives re-clustering; decisions bind or separate their two records.
    """
    must, cannot, crossing = [], [], []
    for record_a, record_b, verdict in Decision.objects.filter(is_active=True).values_list(
            "record_a_id", "record_b_id", "verdict"):
        if record_a in current and record_b in current:
            (must if verdict == Decision.Verdict.SAME else cannot).append((record_a, record_b))
        elif verdict == Decision.Verdict.DIFFERENT and (record_a in current or
                                                         record_b in current):
            crossing.append((record_a, record_b) if record_a in current else (record_b, record_a))
    manual = Link.objects.filter(ended_at=None, origin=Link.Origin.MANUAL).values_list(
        "source_record_id", "entity_id")
    members: dict[str, list[int]] = {}
    for record_id, entity_id in current.items():
        members.setdefault(entity_id, []).append(record_id)
    cannot += _cannot_join_entities_of(crossing, members)
    for record_id, entity_id in manual:
        others = [r for r in members.get(entity_id, []) if r != record_id]
        if record_id in current and others:
            must.append((record_id, min(others)))
    return must, cannot


def _cannot_join_entities_of(crossing: list[tuple[int, int]],
                             members: dict[str, list[int]]) -> list[tuple[int, int]]:
    """Keep a record in scope apart from the in-scope records of the entity that holds its
    out-of-scope "different" partner.

    Records out of scope stay in their entity; a cluster sharing no record with that entity
    cannot take its golden ID, so the partner and the record never meet there.
    """
    outside_entity: dict[int, str] = {}
    for chunk in chunks(sorted({outside for _inside, outside in crossing})):
        outside_entity.update(SourceRecord.objects.filter(
            id__any=chunk, state=SourceRecord.State.ACTIVE).values_list("id", "entity_id"))
    return [(inside, other) for inside, outside in crossing
            for other in members.get(outside_entity.get(outside), ()) if other != inside]


def _review_candidates(result: BatchResult, labels: dict, refused,
                       cannot: list[tuple[int, int]]) -> list[ReviewCandidate]:
    """One question per pair of clusters: the strongest pair between the thresholds, or the
    strongest refused link, joining two clusters that stayed apart.

    A link refused because a steward said the two sides are different people asks nothing;
    one refused because the sides score as different people (a record matching a parent and
    their namesake child) asks which of them it is: "ambiguous".
    """
    pairs, config = result.pairs, result.config
    decided = {tuple(sorted((labels[a], labels[b]))) for a, b in cannot}
    weight = pairs["weight"].to_numpy()
    left, right = pairs["left"].to_numpy(), pairs["right"].to_numpy()
    found: dict[tuple, ReviewCandidate] = {}

    def offer(a: int, b: int, score: float, reason: str, row) -> None:
        key = tuple(sorted((labels[a], labels[b])))
        if key[0] != key[1] and (key not in found or found[key].weight < score):
            found[key] = ReviewCandidate(max(a, b), min(a, b), score, reason, row)

    band = np.flatnonzero((weight >= config.review_threshold)
                          & (weight < config.auto_link_threshold))
    for row in band.tolist():
        offer(int(left[row]), int(right[row]), float(weight[row]), "uncertain", row)
    if refused:
        row_of = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(left, right, strict=True))}
        for link in refused:
            a, b = int(link.left), int(link.right)
            reason = link.reason
            if reason == "cannot_link":
                if tuple(sorted((labels[a], labels[b]))) in decided:
                    continue
                reason = "ambiguous"
            offer(a, b, float(link.weight), reason, row_of.get((a, b), row_of.get((b, a))))
    return list(found.values())


def batch_match_plan(*, sources: list[str] | None = None, config: MatchConfig | None = None,
                     cluster_settings: ClusterSettings | None = None) -> BatchRun:
    """Compute (without writing anything) what re-matching the records in scope would change."""
    config = config or active_match_config()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    frame, current = records_frame(sources)
    timings["load"] = time.perf_counter() - started
    if frame.empty:
        return BatchRun(config, MatchPlan(targets={}), [], None, current, timings)
    result = link_frame(frame, config, train_model=False)
    timings.update(result.timings)
    started = time.perf_counter()
    must, cannot = _constraints(current)
    settings = cluster_settings or ClusterSettings.from_config(config)
    clusters = cluster_pairs(current.keys(), result.pairs, settings, must_link=must,
                             cannot_link=cannot)
    # A run over every source has read every active record: their entities' sizes are counted.
    sizes = _entity_sizes(set(current.values())) if sources else dict(Counter(current.values()))
    plan = plan_match(clusters.labels, current, sizes)
    review = _review_candidates(result, clusters.labels, clusters.refused, cannot)
    timings["cluster_and_plan"] = time.perf_counter() - started
    return BatchRun(config, plan, review, result, current, timings)


def _entity_sizes(golden_ids: set[str]) -> dict[str, int]:
    """Active records per entity, for every entity a run touches."""
    sizes: dict[str, int] = {}
    for chunk in chunks(sorted(golden_ids)):
        sizes.update(SourceRecord.objects.filter(entity_id__any=chunk,
                                                 state=SourceRecord.State.ACTIVE)
                     .values_list("entity_id").annotate(n=Count("id")).values_list(
                         "entity_id", "n"))
    return sizes
