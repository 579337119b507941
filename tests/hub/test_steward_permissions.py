"""Permissions: the migration's steward and viewer groups; viewers cannot decide, stewards and
superusers can, and every action is attributed to its user."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.core.exceptions import PermissionDenied

from hub.models import Decision, Entity, Event, Link, ReviewTask
from hub.services.steward import (
    action_undo,
    entity_merge,
    record_split,
    review_task_claim,
    review_task_release,
    review_task_resolve,
)
from hub.services.steward_groups import GROUP_PERMISSIONS, steward_groups_ensure
from tests.hub.test_steward_invariants import (
    MARGARET,
    MARGARET_MARRIED,
    entity_of,
    ingest_apart,
    ingest_for_review,
)

STEWARD_ACTIONS = {"resolve_reviewtask", "merge_entity", "split_entity", "undo_action"}


def member(name: str, group: str) -> User:
    user = User.objects.create_user(name)
    user.groups.add(Group.objects.get(name=group))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def scene(sources):
    """Two CRM/billing entities of one person, and a billing record waiting for review."""
    records = ingest_apart([("crm", "C1", MARGARET), ("billing", "B1", MARGARET)])
    task = ingest_for_review("support", "S1", MARGARET_MARRIED)
    return records, task


def attempt_everything(user, records, task) -> None:
    """Run every steward action as ``user`` (each must raise PermissionDenied)."""
    a, b = entity_of(records["C1"]), entity_of(records["B1"])
    calls = [
        lambda: review_task_claim(task_id=task.pk, user=user),
        lambda: review_task_release(task_id=task.pk, user=user),
        lambda: review_task_resolve(task_id=task.pk, verdict="same", user=user),
        lambda: entity_merge(survivor_id=a, victim_id=b, user=user),
        lambda: record_split(record_id=records["C1"].pk, user=user),
        lambda: action_undo(event_id=Event.objects.latest("id").pk, user=user),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()


def test_migration_creates_the_steward_and_viewer_groups(db):
    steward = set(Group.objects.get(name="steward").permissions.values_list("codename",
                                                                            flat=True))
    viewer = set(Group.objects.get(name="viewer").permissions.values_list("codename", flat=True))
    assert STEWARD_ACTIONS <= steward
    assert {"view_entity", "view_reviewtask", "view_sourcerecord", "view_event"} <= viewer
    assert viewer < steward
    assert not viewer & STEWARD_ACTIONS
    assert all(code.startswith("view_") for code in viewer)
    # The groups steward_groups_ensure() puts back after a flush are the migration's.
    assert {name: set(codes) for name, codes in GROUP_PERMISSIONS.items()} == {
        "steward": steward, "viewer": viewer}


def test_the_groups_come_back_after_a_flush_emptied_them(db):
    Group.objects.all().delete()
    groups = steward_groups_ensure()
    assert set(groups) == {"steward", "viewer"}
    assert set(groups["steward"].permissions.values_list("codename", flat=True)) >= (
        STEWARD_ACTIONS)
    assert not set(groups["viewer"].permissions.values_list("codename", flat=True)) & (
        STEWARD_ACTIONS)


def test_a_viewer_and_an_anonymous_user_can_do_nothing(scene):
    records, task = scene
    before = (Link.objects.count(), Decision.objects.count(), Event.objects.count(),
              list(Entity.objects.values_list("golden_id", "state", "version")))
    for user in (member("victor", "viewer"), AnonymousUser(), None):
        attempt_everything(user, records, task)
    assert before == (Link.objects.count(), Decision.objects.count(), Event.objects.count(),
                      list(Entity.objects.values_list("golden_id", "state", "version")))
    assert ReviewTask.objects.get(pk=task.pk).state == "open"


@pytest.mark.parametrize("kind", ["steward", "superuser"])
def test_a_steward_and_a_superuser_can_do_everything_and_each_step_is_attributed(scene, kind):
    records, task = scene
    if kind == "steward":
        user = member("sam", "steward")
    else:
        user = User.objects.create_superuser("root", password="x")
    review_task_claim(task_id=task.pk, user=user)
    review_task_release(task_id=task.pk, user=user)
    review_task_resolve(task_id=task.pk, verdict="same", user=user)
    action_undo(event_id=Event.objects.get(kind="review.resolved").pk, user=user)
    entity_merge(survivor_id=entity_of(records["C1"]), victim_id=entity_of(records["B1"]),
                 user=user)
    record_split(record_id=records["B1"].pk, user=user)
    action_undo(event_id=Event.objects.get(kind="record.split").pk, user=user)
    steward_events = Event.objects.filter(kind__in=[
        "review.claimed", "review.released", "review.resolved", "entity.merged",
        "record.split", "action.undone"])
    assert steward_events.count() == 7
    assert set(steward_events.values_list("actor", flat=True)) == {user.pk}
    manual = Link.objects.filter(origin="manual")
    assert manual.exists() and set(manual.values_list("created_by", flat=True)) == {user.pk}
    assert set(Decision.objects.values_list("decided_by", flat=True)) == {user.pk}
