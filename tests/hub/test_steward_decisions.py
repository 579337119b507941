"""Steward decisions: claim, release, resolve (same / different), merge and split, with the
DESIGN.md invariants checked after every step and conflicts that name who decided and when."""

import json
import re

import pytest

from hub.models import Decision, Entity, Event, Link, ReviewTask, SourceRecord
from hub.services.errors import Conflict, InvalidInput, NotFound
from hub.services.steward import (
    entity_merge,
    record_split,
    review_task_claim,
    review_task_release,
    review_task_resolve,
)
from tests.hub.test_steward_invariants import (
    AURELIO,
    MARGARET,
    MARGARET_MARRIED,
    TWIN,
    assert_invariants,
    entity_of,
    group_user,
    ingest_apart,
    ingest_for_review,
    resolve,
)

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture
def alice(db):
    return group_user("alice", "steward")


@pytest.fixture
def bob(db):
    return group_user("bob", "steward")


@pytest.fixture
def task(sources):
    """Margaret in the CRM, and a billing record of her after marriage waiting for review."""
    ingest_apart([("crm", "C1", MARGARET)])
    return ingest_for_review("billing", "B1", MARGARET_MARRIED)


def record(key: str) -> SourceRecord:
    return SourceRecord.objects.get(source_key=key)


def payload_has_no_values(event: Event) -> None:
    text = json.dumps(event.payload)
    for value in (*MARGARET.values(), *MARGARET_MARRIED.values()):
        assert json.dumps(value) not in text


def test_claim_assigns_and_release_returns_the_task(task, alice, bob):
    claimed = review_task_claim(task_id=task.pk, user=alice)
    assert claimed.assignee == alice and claimed.claimed_at is not None
    assert review_task_claim(task_id=task.pk, user=alice).assignee == alice  # idempotent
    with pytest.raises(Conflict, match=r"claimed by alice at \d{4}-"):
        review_task_claim(task_id=task.pk, user=bob)
    with pytest.raises(Conflict, match="claimed by alice"):
        review_task_resolve(task_id=task.pk, verdict="same", user=bob)
    with pytest.raises(Conflict, match="claimed by alice"):
        review_task_release(task_id=task.pk, user=bob)
    released = review_task_release(task_id=task.pk, user=alice)
    assert released.assignee is None and released.claimed_at is None
    assert list(Event.objects.filter(kind__startswith="review.").values_list(
        "kind", "actor__username")) == [("review.claimed", "alice"), ("review.released", "alice")]
    assert review_task_claim(task_id=task.pk, user=bob).assignee == bob


def test_same_moves_the_record_with_a_manual_link_and_retires_its_lone_entity(task, alice):
    old = entity_of(record("B1"))
    candidate = task.candidate_entity_id
    resolved = review_task_resolve(task_id=task.pk, verdict="same", user=alice)
    assert (resolved.state, resolved.verdict, resolved.resolved_by) == ("resolved", "same", alice)
    assert entity_of(record("B1")) == candidate
    link = Link.objects.get(source_record=record("B1"), ended_at=None)
    assert (link.origin, link.created_by) == ("manual", alice)
    decision = Decision.objects.get(is_active=True)
    assert (decision.verdict, decision.decided_by) == ("same", alice)
    assert {decision.record_a_id, decision.record_b_id} == {record("B1").pk, record("C1").pk}
    assert resolve(old).golden_id == candidate  # the old golden ID still resolves
    event = Event.objects.get(kind="review.resolved")
    assert (event.actor, event.entity_id, event.source_record_id) == (alice, candidate,
                                                                      record("B1").pk)
    assert event.payload["moves"][0]["from"] == old and event.payload["retired"] == [old]
    payload_has_no_values(event)
    assert_invariants()


def test_same_leaves_an_entity_with_other_records_active_and_counts_its_version(sources, alice):
    ingest_apart([("crm", "C1", MARGARET)])
    task = ingest_for_review("billing", "B1", MARGARET_MARRIED)
    old = entity_of(record("B1"))
    # A second record in the billing record's entity, put there by an earlier steward.
    other = ingest_apart([("support", "S1", AURELIO)])["S1"]
    entity_merge(survivor_id=old, victim_id=entity_of(other), user=alice)
    version = Entity.objects.get(pk=old).version
    review_task_resolve(task_id=task.pk, verdict="same", user=alice)
    assert Entity.objects.get(pk=old).state == "active"
    assert Entity.objects.get(pk=old).version == version + 1
    assert entity_of(other) == old
    assert_invariants()


def test_different_records_a_decision_with_every_candidate_record_and_moves_nothing(
        sources, alice):
    ingest_apart([("crm", "C1", MARGARET)])
    candidate = entity_of(record("C1"))
    entity_merge(survivor_id=candidate, user=alice,
                 victim_id=ingest_apart([("support", "S1", MARGARET)])["S1"].entity_id)
    task = ingest_for_review("billing", "B1", TWIN)
    assert task.candidate_entity_id == candidate
    before = entity_of(record("B1"))
    review_task_resolve(task_id=task.pk, verdict="different", user=alice)
    assert entity_of(record("B1")) == before
    decisions = Decision.objects.filter(is_active=True, verdict="different")
    pairs = {frozenset((d.record_a_id, d.record_b_id)) for d in decisions}
    assert pairs == {frozenset((record("B1").pk, record(k).pk)) for k in ("C1", "S1")}
    assert all(d.decided_by == alice for d in decisions)
    assert_invariants()


def test_resolving_cancels_the_tasks_it_makes_moot(sources, alice):
    ingest_apart([("crm", "C1", MARGARET), ("support", "S1", MARGARET)])
    ingest_for_review("billing", "B1", MARGARET)
    tasks = list(ReviewTask.objects.filter(state="open").order_by("id"))
    assert len(tasks) == 2
    review_task_resolve(task_id=tasks[0].pk, verdict="same", user=alice)
    other = ReviewTask.objects.get(pk=tasks[1].pk)
    assert other.state == "cancelled"
    event = Event.objects.get(kind="review.resolved")
    assert event.payload["cancelled_task_ids"] == [other.pk]
    with pytest.raises(Conflict, match=f"task {other.pk} was cancelled at"):
        review_task_resolve(task_id=other.pk, verdict="different", user=alice)


def test_resolving_a_resolved_task_names_who_resolved_it_and_when(task, alice, bob):
    review_task_resolve(task_id=task.pk, verdict="same", user=alice)
    with pytest.raises(Conflict) as error:
        review_task_resolve(task_id=task.pk, verdict="different", user=bob)
    message = str(error.value)
    assert f"task {task.pk} was already resolved (same) by alice at " in message
    assert ISO_UTC.search(message)
    assert Event.objects.filter(kind="review.resolved").count() == 1


def test_bad_verdict_and_unknown_task_are_refused(task, alice):
    with pytest.raises(InvalidInput) as error:
        review_task_resolve(task_id=task.pk, verdict="maybe", user=alice)
    assert "verdict" in error.value.errors
    with pytest.raises(NotFound):
        review_task_resolve(task_id=999999, verdict="same", user=alice)
    assert ReviewTask.objects.get(pk=task.pk).state == "open"


def test_merge_moves_every_record_and_the_victim_resolves_to_the_survivor(sources, alice):
    records = ingest_apart([("crm", "C1", MARGARET), ("billing", "B1", MARGARET_MARRIED),
                            ("support", "S1", MARGARET)])
    survivor, victim, earlier = (entity_of(records[k]) for k in ("C1", "B1", "S1"))
    entity_merge(survivor_id=victim, victim_id=earlier, user=alice)
    result = entity_merge(survivor_id=survivor, victim_id=victim, user=alice)
    assert result.golden_id == survivor
    assert {entity_of(r) for r in records.values()} == {survivor}
    for golden_id in (victim, earlier):
        entity = Entity.objects.get(pk=golden_id)
        assert (entity.state, entity.merged_into_id) == ("merged", survivor)
    assert set(Link.objects.filter(ended_at=None).values_list("origin", flat=True)) == {"manual"}
    event = Event.objects.filter(kind="entity.merged").last()
    assert (event.entity_id, event.payload["into"], event.actor) == (victim, survivor, alice)
    assert event.payload["repointed"] == [earlier]
    payload_has_no_values(event)
    assert_invariants()


def test_merge_refuses_entities_a_different_decision_keeps_apart(sources, alice, bob):
    ingest_apart([("crm", "C1", MARGARET)])
    task = ingest_for_review("billing", "B1", TWIN)
    review_task_resolve(task_id=task.pk, verdict="different", user=alice)
    with pytest.raises(Conflict, match=r"decision \d+ \(different\) by alice at .*differ"):
        entity_merge(survivor_id=entity_of(record("C1")), victim_id=entity_of(record("B1")),
                     user=bob)
    assert entity_of(record("C1")) != entity_of(record("B1"))
    assert not Event.objects.filter(kind="entity.merged").exists()


def test_merge_with_a_stale_version_or_a_merged_entity_is_a_conflict(sources, alice, bob):
    records = ingest_apart([("crm", "C1", MARGARET), ("billing", "B1", MARGARET_MARRIED),
                            ("support", "S1", AURELIO)])
    a, b, c = (entity_of(records[k]) for k in ("C1", "B1", "S1"))
    seen = Entity.objects.get(pk=a).version
    entity_merge(survivor_id=a, victim_id=c, user=alice)
    with pytest.raises(Conflict, match=f"entity {a} has changed since version {seen} .*alice"):
        entity_merge(survivor_id=a, victim_id=b, user=bob, expected_versions={a: seen})
    with pytest.raises(Conflict, match=f"entity {c} is merged into {a} .*by alice at"):
        entity_merge(survivor_id=b, victim_id=c, user=bob)
    with pytest.raises(InvalidInput):
        entity_merge(survivor_id=a, victim_id=a, user=bob)
    with pytest.raises(NotFound):
        entity_merge(survivor_id=a, victim_id="GNOSUCHENTITY0000", user=bob)
    merged = entity_merge(survivor_id=a, victim_id=b, user=bob,
                          expected_versions={a: seen + 1, b: 1})
    assert merged.version == seen + 2
    assert_invariants()


def test_split_gives_the_record_a_new_golden_id_kept_apart_from_its_old_entity(sources, alice):
    records = ingest_apart([("crm", "C1", MARGARET), ("billing", "B1", MARGARET),
                            ("support", "S1", MARGARET)])
    old = entity_of(records["C1"])
    for key in ("B1", "S1"):
        entity_merge(survivor_id=old, victim_id=entity_of(records[key]), user=alice)
    new = record_split(record_id=records["B1"].pk, user=alice)
    assert new.golden_id != old and new.split_from_id == old and new.state == "active"
    assert entity_of(records["B1"]) == new.golden_id
    assert {entity_of(records["C1"]), entity_of(records["S1"])} == {old}
    assert Link.objects.get(source_record=records["B1"], ended_at=None).origin == "manual"
    different = {frozenset((d.record_a_id, d.record_b_id))
                 for d in Decision.objects.filter(is_active=True, verdict="different")}
    assert different == {frozenset((records["B1"].pk, records[k].pk)) for k in ("C1", "S1")}
    event = Event.objects.get(kind="record.split")
    assert (event.entity_id, event.payload["from"], event.actor) == (new.golden_id, old, alice)
    assert_invariants()


def test_split_refuses_a_lone_record_and_a_stale_version(sources, alice):
    records = ingest_apart([("crm", "C1", MARGARET), ("billing", "B1", MARGARET)])
    with pytest.raises(Conflict, match="only record"):
        record_split(record_id=records["C1"].pk, user=alice)
    entity_merge(survivor_id=entity_of(records["C1"]), victim_id=entity_of(records["B1"]),
                 user=alice)
    with pytest.raises(Conflict, match="has changed since version 1"):
        record_split(record_id=records["B1"].pk, user=alice, expected_entity_version=1)
    with pytest.raises(NotFound):
        record_split(record_id=999999, user=alice)
    assert not Event.objects.filter(kind="record.split").exists()
