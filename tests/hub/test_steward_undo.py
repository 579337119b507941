"""Undo of every steward decision restores the earlier memberships, links and decisions, and
refuses (naming who and when) once it was undone or a later action changed the same records."""

import pytest

from hub.models import Decision, Entity, Event, Link, ReviewTask, SourceRecord
from hub.services.errors import Conflict, InvalidInput, NotFound
from hub.services.steward import (
    action_undo,
    entity_merge,
    event_is_undoable,
    record_split,
    review_task_resolve,
)
from tests.hub.test_steward_invariants import (
    AURELIO,
    MARGARET,
    MARGARET_MARRIED,
    TWIN,
    assert_invariants,
    batch_match,
    entity_of,
    group_user,
    ingest_apart,
    ingest_for_review,
    resolve,
)


@pytest.fixture
def alice(db):
    return group_user("alice", "steward")


@pytest.fixture
def bob(db):
    return group_user("bob", "steward")


def last_event(kind: str) -> Event:
    return Event.objects.filter(kind=kind).latest("id")


def current_links() -> dict[int, tuple]:
    """Each active record's membership as a comparable value: entity, origin, outcome, score."""
    return {link.source_record_id: (link.entity_id, link.origin, link.outcome, link.score)
            for link in Link.objects.filter(ended_at=None)}


def entity_states() -> dict[str, tuple]:
    return {e.golden_id: (e.state, e.merged_into_id) for e in Entity.objects.all()}


def test_undo_of_a_same_resolution_restores_the_record_its_entity_and_the_task(sources, alice):
    ingest_apart([("crm", "C1", MARGARET)])
    task = ingest_for_review("billing", "B1", MARGARET_MARRIED)
    links, states = current_links(), entity_states()
    review_task_resolve(task_id=task.pk, verdict="same", user=alice)
    assert_invariants()
    undone = action_undo(event_id=last_event("review.resolved").pk, user=alice)
    assert current_links() == links and entity_states() == states
    assert not Decision.objects.filter(is_active=True).exists()
    reopened = ReviewTask.objects.get(pk=task.pk)
    assert (reopened.state, reopened.verdict, reopened.resolved_by) == ("open", "", None)
    assert undone.kind == "action.undone" and undone.actor == alice
    assert undone.payload["undone_event_id"] == last_event("review.resolved").pk
    assert undone.payload["reopened_task_ids"] == [task.pk]
    assert_invariants()
    # The reopened task can be decided again.
    review_task_resolve(task_id=task.pk, verdict="different", user=alice)
    assert_invariants()


def test_undo_of_a_different_resolution_withdraws_its_decisions(sources, alice):
    ingest_apart([("crm", "C1", MARGARET)])
    task = ingest_for_review("billing", "B1", TWIN)
    review_task_resolve(task_id=task.pk, verdict="different", user=alice)
    assert Decision.objects.filter(is_active=True).count() == 1
    action_undo(event_id=last_event("review.resolved").pk, user=alice)
    assert not Decision.objects.filter(is_active=True).exists()
    assert Decision.objects.filter(is_active=False, verdict="different").count() == 1
    assert ReviewTask.objects.get(pk=task.pk).state == "open"
    assert_invariants()


def test_undo_of_a_merge_brings_back_the_victim_with_its_own_records(sources, alice):
    records = ingest_apart([("crm", "C1", MARGARET), ("billing", "B1", MARGARET_MARRIED),
                            ("support", "S1", AURELIO)])
    survivor, victim, earlier = (entity_of(records[k]) for k in ("C1", "B1", "S1"))
    entity_merge(survivor_id=victim, victim_id=earlier, user=alice)
    links, states = current_links(), entity_states()
    entity_merge(survivor_id=survivor, victim_id=victim, user=alice)
    assert resolve(victim).golden_id == survivor and resolve(earlier).golden_id == survivor
    action_undo(event_id=last_event("entity.merged").pk, user=alice)
    assert current_links() == links
    assert entity_states() == states  # the victim is active; the earlier ID points at it again
    assert resolve(earlier).golden_id == victim
    assert Link.objects.get(source_record=records["C1"], ended_at=None).origin == "auto"
    assert_invariants()


def test_undo_of_a_split_returns_the_record_and_its_new_id_resolves_there(sources, alice):
    records = ingest_apart([("crm", "C1", MARGARET), ("billing", "B1", MARGARET)])
    old = entity_of(records["C1"])
    entity_merge(survivor_id=old, victim_id=entity_of(records["B1"]), user=alice)
    links = current_links()
    new = record_split(record_id=records["B1"].pk, user=alice)
    action_undo(event_id=last_event("record.split").pk, user=alice)
    assert current_links() == links
    entity = Entity.objects.get(pk=new.golden_id)
    assert (entity.state, entity.merged_into_id) == ("merged", old)
    assert not Decision.objects.filter(is_active=True).exists()
    assert_invariants()


def test_undo_of_a_split_brings_back_the_same_decision_it_withdrew(sources, alice):
    ingest_apart([("crm", "C1", MARGARET)])
    task = ingest_for_review("billing", "B1", MARGARET_MARRIED)
    review_task_resolve(task_id=task.pk, verdict="same", user=alice)
    same = Decision.objects.get(is_active=True)
    record_split(record_id=SourceRecord.objects.get(source_key="B1").pk, user=alice)
    assert not Decision.objects.filter(pk=same.pk, is_active=True).exists()
    assert_invariants()
    action_undo(event_id=last_event("record.split").pk, user=alice)
    assert list(Decision.objects.filter(is_active=True)) == [same]
    assert_invariants()


def test_undoing_twice_names_who_undid_it_and_when(sources, alice, bob):
    records = ingest_apart([("crm", "C1", MARGARET), ("billing", "B1", MARGARET)])
    entity_merge(survivor_id=entity_of(records["C1"]), victim_id=entity_of(records["B1"]),
                 user=alice)
    event = last_event("entity.merged")
    assert event_is_undoable(event)
    action_undo(event_id=event.pk, user=alice)
    with pytest.raises(Conflict, match=rf"event {event.pk} was already undone by alice at "
                                       r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"):
        action_undo(event_id=event.pk, user=bob)
    assert Event.objects.filter(kind="action.undone").count() == 1


def test_undo_is_refused_once_a_later_action_moved_the_same_record(sources, alice, bob):
    records = ingest_apart([("crm", "C1", MARGARET), ("billing", "B1", MARGARET),
                            ("support", "S1", MARGARET)])
    keep = entity_of(records["C1"])
    entity_merge(survivor_id=keep, victim_id=entity_of(records["B1"]), user=alice)
    merge = last_event("entity.merged")
    record_split(record_id=records["B1"].pk, user=bob)
    with pytest.raises(Conflict, match=f"record {records['B1'].pk} has been relinked since, "
                                       "by bob at"):
        action_undo(event_id=merge.pk, user=alice)
    # Undo in reverse order works: first the split, then the merge.
    action_undo(event_id=last_event("record.split").pk, user=alice)
    action_undo(event_id=merge.pk, user=alice)
    assert entity_of(records["C1"]) != entity_of(records["B1"])
    assert_invariants()


def test_undo_of_a_merge_whose_survivor_was_merged_again_is_refused(sources, alice):
    records = ingest_apart([("crm", "C1", MARGARET), ("billing", "B1", MARGARET),
                            ("support", "S1", MARGARET)])
    a, b, c = (entity_of(records[k]) for k in ("C1", "B1", "S1"))
    entity_merge(survivor_id=b, victim_id=a, user=alice)
    first = last_event("entity.merged")
    entity_merge(survivor_id=c, victim_id=b, user=alice)
    with pytest.raises(Conflict):
        action_undo(event_id=first.pk, user=alice)
    assert_invariants()


def test_only_steward_actions_can_be_undone(sources, alice):
    ingest_apart([("crm", "C1", MARGARET), ("billing", "B1", MARGARET)])
    batch_match()  # a batch run's merge is matching's, not a steward's: not undoable here
    assert not event_is_undoable(last_event("entity.merged"))
    with pytest.raises(InvalidInput):
        action_undo(event_id=last_event("entity.merged").pk, user=alice)
    assert not event_is_undoable(last_event("record.created"))
    with pytest.raises(InvalidInput):
        action_undo(event_id=last_event("record.created").pk, user=alice)
    with pytest.raises(NotFound):
        action_undo(event_id=999999, user=alice)
