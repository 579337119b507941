"""Two stewards at once on a real database server: exactly one wins, the other learns who
decided and when, nobody deadlocks, and no record ends in two entities."""

import logging
import threading
import time

import pytest
from django.db import connection, connections

from hub.models import Entity, ReviewTask
from hub.services.errors import Conflict
from hub.services.steward import entity_merge, record_split, review_task_resolve
from tests.hub.test_steward_invariants import (
    AURELIO,
    MARGARET,
    MARGARET_MARRIED,
    assert_invariants,
    entity_of,
    group_user,
    ingest_apart,
    ingest_for_review,
)

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs row locks of a database server (CI runs on PostgreSQL)"),
    pytest.mark.django_db(transaction=True),
]

ROUNDS = 5


def race(*calls):
    """Run each call in its own thread, released together; returns (results, errors, seconds)."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def worker(call):
        try:
            barrier.wait()
            results.append(call())
        except Exception as error:  # collected and asserted by the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a steward is stuck"
    return results, errors, time.monotonic() - started


def test_two_stewards_resolving_one_task_exactly_one_wins(sources):
    alice, bob = group_user("alice", "steward"), group_user("bob", "steward")
    for round_ in range(ROUNDS):
        ingest_apart([("crm", f"C{round_}", MARGARET)])
        task = ingest_for_review("billing", f"B{round_}", MARGARET_MARRIED)
        results, errors, _ = race(
            lambda t=task: review_task_resolve(task_id=t.pk, verdict="same", user=alice),
            lambda t=task: review_task_resolve(task_id=t.pk, verdict="different", user=bob))
        assert len(results) == 1 and len(errors) == 1, errors
        assert isinstance(errors[0], Conflict)
        winner = results[0].resolved_by.username
        assert f"already resolved ({results[0].verdict}) by {winner} at " in str(errors[0])
        stored = ReviewTask.objects.get(pk=task.pk)
        assert (stored.state, stored.resolved_by.username) == ("resolved", winner)
        assert_invariants()


def test_merging_a_into_b_and_b_into_a_at_once_exactly_one_wins(sources, caplog):
    caplog.set_level(logging.INFO, logger="hub.services.transactions")
    alice, bob = group_user("alice", "steward"), group_user("bob", "steward")
    for round_ in range(ROUNDS):
        records = ingest_apart([("crm", f"C{round_}", MARGARET),
                                ("billing", f"B{round_}", MARGARET_MARRIED),
                                ("support", f"S{round_}", AURELIO)])
        a, b = entity_of(records[f"C{round_}"]), entity_of(records[f"B{round_}"])
        results, errors, seconds = race(
            lambda a=a, b=b: entity_merge(survivor_id=b, victim_id=a, user=alice),
            lambda a=a, b=b: entity_merge(survivor_id=a, victim_id=b, user=bob))
        assert len(results) == 1 and len(errors) == 1, errors
        assert isinstance(errors[0], Conflict)  # not a deadlock error
        assert "is merged into" in str(errors[0]) and " by " in str(errors[0])
        # Deadlock detection alone takes a second on PostgreSQL: waiting on a lock is faster.
        assert seconds < 5
        survivor = results[0].golden_id
        victim = b if survivor == a else a
        assert Entity.objects.get(pk=victim).merged_into_id == survivor
        assert entity_of(records[f"C{round_}"]) == entity_of(records[f"B{round_}"]) == survivor
        assert_invariants()
    # Locks in golden-ID order: the second merge waits, it is never aborted as a deadlock.
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]


def test_a_split_racing_a_merge_of_its_entity_leaves_every_record_in_one_entity(sources):
    alice, bob = group_user("alice", "steward"), group_user("bob", "steward")
    for round_ in range(ROUNDS):
        records = ingest_apart([("crm", f"C{round_}", MARGARET),
                                ("billing", f"B{round_}", MARGARET),
                                ("support", f"S{round_}", MARGARET_MARRIED)])
        c, b, s = (entity_of(records[k]) for k in (f"C{round_}", f"B{round_}", f"S{round_}"))
        entity_merge(survivor_id=c, victim_id=b, user=alice)
        results, errors, _ = race(
            lambda r=records[f"B{round_}"]: record_split(record_id=r.pk, user=alice),
            lambda c=c, s=s: entity_merge(survivor_id=s, victim_id=c, user=bob))
        assert not [e for e in errors if not isinstance(e, Conflict)], errors
        assert results
        assert_invariants()
