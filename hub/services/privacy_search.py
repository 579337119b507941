"""Finding the data subject of a privacy request: by golden ID or by identifying attributes.

A person writing in gives a name, an e-mail, a birth date, not a golden ID. Their attributes are
standardised exactly as ingest does, candidate entities come from the blocking index, and the
matcher scores them, so the officer sees the same candidates (with scores against the model's
thresholds) that the matcher itself would consider. Reads only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.models import Entity, SourceRecord
from hub.services.errors import InvalidInput, NotFound
from hub.services.ingest import prepare_attributes
from hub.services.match_config import active_match_config
from hub.services.matching import hashed_blocking_keys, score_candidates

MAX_CANDIDATES = 10


@dataclass
class SubjectCandidate:
    """One entity that may be the subject: its score (None when named by golden ID),
    where it has records, and the blocking rules that found it."""

    golden_id: str
    state: str
    score: float | None
    band: str  # "named" | "auto_link" | "review" | "weak"
    sources: list[str] = field(default_factory=list)
    record_count: int = 0
    matched_on: list[str] = field(default_factory=list)


def _sources_of(golden_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    rows = (SourceRecord.objects.filter(entity_id__in=golden_ids,
                                        state=SourceRecord.State.ACTIVE)
            .values_list("entity_id", "source__code").order_by("source__code"))
    for entity_id, code in rows:
        found.setdefault(entity_id, []).append(code)
    return found


def privacy_subject_search(*, golden_id: str = "", attributes: Mapping | None = None,
                           limit: int = MAX_CANDIDATES) -> list[SubjectCandidate]:
    """Candidate entities for a subject, best first.

    With ``golden_id`` the one entity it resolves to (a merged ID gives its survivor; NotFound
    if unknown). With ``attributes`` (canonical key attributes, any subset) the active entities
    sharing a blocking key, scored; InvalidInput names a bad attribute.
    """
    if golden_id:
        entity = Entity.objects.filter(golden_id=golden_id).select_related("merged_into").first()
        if entity is None:
            raise NotFound("no entity with this golden ID")
        entity = entity.merged_into if entity.state == Entity.State.MERGED else entity
        sources = _sources_of([entity.golden_id]).get(entity.golden_id, [])
        return [SubjectCandidate(entity.golden_id, entity.state, None, "named",
                                 sorted(set(sources)), len(sources))]
    if not attributes:
        raise InvalidInput({"non_field_errors": ["give a golden ID or identifying attributes"]})
    prepared = prepare_attributes(attributes)
    config = active_match_config()
    keys = hashed_blocking_keys(prepared.standardised, config)
    candidates, _ = score_candidates(record_id=None, standardised=prepared.standardised,
                                     config=config, keys=keys)
    candidates = candidates[:limit]
    sources = _sources_of([c.entity_id for c in candidates])
    found = []
    for candidate in candidates:
        weight = candidate.score.weight
        band = ("auto_link" if weight >= config.auto_link_threshold
                else "review" if weight >= config.review_threshold else "weak")
        codes = sources.get(candidate.entity_id, [])
        found.append(SubjectCandidate(candidate.entity_id, Entity.State.ACTIVE, round(weight, 2),
                                      band, sorted(set(codes)), len(codes),
                                      sorted(candidate.rules)))
    return found
