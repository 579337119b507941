"""Planning a batch match: from new clusters to entity changes that keep golden IDs stable.

Pure data in, plan out; nothing here touches the database, so the plan can be shown before it
is applied (``manage.py match --dry-run``) and tested on small hand-made cases.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NewEntity:
    """A golden ID still to be issued, for the cluster labelled ``label``."""

    label: object


@dataclass
class MatchPlan:
    """What a batch run would change.

    ``targets`` maps every record in scope to its entity after the run: an existing golden ID
    or a ``NewEntity``. ``moves`` lists (record id, old golden ID, target) for records that
    change entity; ``retired`` maps an entity left without records to the target that took most
    of them (its ID will resolve there); ``split`` names entities that lose some records but
    keep others.
    """

    targets: dict[int, object]
    moves: list[tuple[int, str, object]] = field(default_factory=list)
    retired: dict[str, object] = field(default_factory=dict)
    split: set[str] = field(default_factory=set)
    new_entities: list[NewEntity] = field(default_factory=list)

    def summary(self) -> dict:
        """Counts for the operator: records relinked, merges, splits, new entities."""
        return {"records_relinked": len(self.moves), "entities_merged": len(self.retired),
                "entities_split": len(self.split), "new_entities": len(self.new_entities)}


def _survivors(members: dict[object, list[int]], current: dict[int, str]) -> dict[object, str]:
    """Give each cluster the existing entity holding most of its records.

    An entity can survive in one cluster only (the one holding most of its records); ties go
    to the older-looking, smaller golden ID so the outcome does not depend on input order.
    """
    votes = Counter()
    for label, records in members.items():
        for record_id in records:
            votes[(label, current[record_id])] += 1
    survivors: dict[object, str] = {}
    taken: set[str] = set()
    for (label, golden_id), _count in sorted(votes.items(),
                                             key=lambda kv: (-kv[1], kv[0][1], str(kv[0][0]))):
        if label not in survivors and golden_id not in taken:
            survivors[label] = golden_id
            taken.add(golden_id)
    return survivors


def plan_match(labels: dict[int, object], current: dict[int, str],
               entity_sizes: dict[str, int]) -> MatchPlan:
    """Turn cluster ``labels`` (record id -> cluster) into entity changes.

    ``current`` is each record's entity now; ``entity_sizes`` the number of active records of
    every entity involved, including records outside this run's scope (they stay put).
    """
    members: dict[object, list[int]] = defaultdict(list)
    for record_id, label in labels.items():
        members[label].append(record_id)
    survivors = _survivors(members, current)
    plan = MatchPlan(targets={})
    for label in sorted(members, key=str):
        target = survivors.get(label)
        if target is None:
            target = NewEntity(label)
            plan.new_entities.append(target)
        for record_id in members[label]:
            plan.targets[record_id] = target
            if current[record_id] != target:
                plan.moves.append((record_id, current[record_id], target))
    _retire_or_split(plan, entity_sizes)
    return plan


def _retire_or_split(plan: MatchPlan, entity_sizes: dict[str, int]) -> None:
    leaving: dict[str, Counter] = defaultdict(Counter)
    arriving: Counter = Counter()
    for _record_id, old, target in plan.moves:
        leaving[old][target] += 1
        if isinstance(target, str):
            arriving[target] += 1
    for golden_id, destinations in leaving.items():
        remaining = entity_sizes[golden_id] - sum(destinations.values()) + arriving[golden_id]
        if remaining > 0:
            plan.split.add(golden_id)
        else:
            plan.retired[golden_id] = min(destinations.items(),
                                          key=lambda kv: (-kv[1], str(kv[0])))[0]
