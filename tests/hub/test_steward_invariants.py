"""Steward decisions hold against automatic matching: neither a real-time re-ingest nor a batch
``manage.py match`` run undoes a manual link or joins a "different" pair.

The helpers at the top (people, users, scenario builders, the invariant check) are shared by
the other ``test_steward_*`` modules.
"""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import override_settings

from hub.models import Decision, Entity, Link, ReviewTask, SourceRecord
from hub.services.batch_match import batch_match_plan
from hub.services.ingest import record_upsert
from hub.services.steward import (
    action_undo,
    entity_merge,
    record_split,
    review_task_resolve,
)
from hub.services.steward_groups import steward_groups_ensure

MARGARET = {"given_name": "Margaret", "family_name": "Okonkwo-Hale", "birth_date": "1984-03-17",
            "email": "m.okonkwo@example-mail.co.uk", "phone": "020 7946 0321",
            "postcode": "N7 8QT", "country": "GB"}
# The same customer after a marriage and a move: a steward knows, the matcher cannot.
MARGARET_MARRIED = {"given_name": "Margaret", "family_name": "Fairweather",
                    "birth_date": "1984-03-17", "email": "maggie.fw@example-post.co.uk",
                    "postcode": "BS1 4DJ", "country": "GB"}
# Twins: everything but the first name and e-mail agree.
TWIN = {**MARGARET, "given_name": "Marguerite", "email": "marguerite.o@example-mail.co.uk"}
AURELIO = {"given_name": "Aurelio", "family_name": "Brandauer", "birth_date": "1979-06-30",
           "email": "aurelio.b@example-mail.de", "postcode": "10115", "country": "DE"}

def group_user(name: str, group_name: str) -> User:
    """A user in the steward or viewer group (put back if a transactional test flushed it)."""
    user = User.objects.create_user(name)
    user.groups.add(steward_groups_ensure()[group_name])
    return User.objects.get(pk=user.pk)  # fresh: permissions are cached per instance


def ingest_apart(items) -> dict[str, SourceRecord]:
    """Ingest (source, key, attributes) each into its own entity: no threshold is reachable."""
    with override_settings(MATCH_AUTO_LINK_THRESHOLD=500.0, MATCH_REVIEW_THRESHOLD=499.0):
        for source, key, attributes in items:
            record_upsert(source_code=source, source_key=key, attributes=attributes, version=1)
    return {key: SourceRecord.objects.get(source_key=key) for _s, key, _a in items}


def ingest_for_review(source, key, attributes) -> ReviewTask:
    """Ingest a record that every candidate scores as uncertain; returns its best task."""
    with override_settings(MATCH_AUTO_LINK_THRESHOLD=500.0, MATCH_REVIEW_THRESHOLD=-500.0):
        result = record_upsert(source_code=source, source_key=key, attributes=attributes,
                               version=1)
    assert result.outcome == "review"
    return ReviewTask.objects.filter(source_record__source_key=key).order_by("-score").first()


def reingest(record: SourceRecord, attributes: dict) -> None:
    """A newer version of the record from its source, matched with the shipped thresholds."""
    record.refresh_from_db()
    record_upsert(source_code=record.source.code, source_key=record.source_key,
                  attributes=attributes, version=(record.source_version or 0) + 1)


def batch_match() -> None:
    call_command("match", stdout=StringIO(), verbosity=0)


def entity_of(record: SourceRecord) -> str:
    return SourceRecord.objects.get(pk=record.pk).entity_id


def resolve(golden_id: str) -> Entity:
    """Follow a golden ID to the row it resolves to (invariant 2), at most one hop."""
    entity = Entity.objects.get(golden_id=golden_id)
    if entity.state == Entity.State.MERGED:
        entity = entity.merged_into
        assert entity.state != Entity.State.MERGED, "merged IDs must resolve in one step"
    return entity


def assert_invariants() -> None:
    """DESIGN.md section 2, invariants 1-3, over the whole database."""
    links = {}
    for link in Link.objects.filter(ended_at=None):
        assert link.source_record_id not in links, "a record with two current links"
        links[link.source_record_id] = link
    members: dict[str, set[int]] = {}
    for record in SourceRecord.objects.select_related("entity"):
        if record.state != SourceRecord.State.ACTIVE:
            assert record.pk not in links and record.entity_id is None
            continue
        assert record.entity.state == Entity.State.ACTIVE, f"record {record.pk} in a dead entity"
        assert links[record.pk].entity_id == record.entity_id
        members.setdefault(record.entity_id, set()).add(record.pk)
    for entity in Entity.objects.all():
        assert resolve(entity.golden_id).state in ("active", "retired", "erased")
        if entity.state == Entity.State.ACTIVE:
            assert members.get(entity.golden_id), f"active entity {entity.pk} without records"
    entity_of_record = {r: gid for gid, ids in members.items() for r in ids}
    for decision in Decision.objects.filter(is_active=True):
        a, b = entity_of_record.get(decision.record_a_id), entity_of_record.get(
            decision.record_b_id)
        if decision.verdict == Decision.Verdict.DIFFERENT:
            assert a is None or a != b, f"different pair {decision} in one entity"
        else:
            assert a == b, f"same pair {decision} in two entities"


def assert_survives_matching(together: list[list[SourceRecord]],
                             apart: list[tuple[SourceRecord, SourceRecord]]) -> None:
    """A batch plan moves none of the steward's groups, and a batch run keeps them."""
    run = batch_match_plan()
    moved = {record_id for record_id, _old, _new in run.plan.moves}
    assert not moved & {r.pk for group in together for r in group}
    batch_match()
    for group in together:
        assert len({entity_of(r) for r in group}) == 1
    for a, b in apart:
        assert entity_of(a) != entity_of(b)
    assert_invariants()


@pytest.fixture
def steward(db):
    return group_user("alice", "steward")


def test_a_same_resolution_survives_reingest_with_a_change_and_batch_matching(sources, steward):
    records = ingest_apart([("crm", "C1", MARGARET)])
    task = ingest_for_review("billing", "B1", MARGARET_MARRIED)
    married = SourceRecord.objects.get(source_key="B1")
    review_task_resolve(task_id=task.pk, verdict="same", user=steward)
    assert entity_of(married) == entity_of(records["C1"])
    reingest(married, {**MARGARET_MARRIED, "locality": "Bristol", "phone": "0117 496 0011"})
    reingest(records["C1"], {**MARGARET, "email": "margaret.new@example-mail.co.uk"})
    assert entity_of(married) == entity_of(records["C1"])
    assert_invariants()
    assert_survives_matching([[married, records["C1"]]], [])


def test_a_different_resolution_survives_reingest_as_an_exact_copy_and_batch_matching(
        sources, steward):
    records = ingest_apart([("crm", "C1", MARGARET)])
    task = ingest_for_review("billing", "B1", TWIN)
    twin = SourceRecord.objects.get(source_key="B1")
    review_task_resolve(task_id=task.pk, verdict="different", user=steward)
    # Now the twin's record carries Margaret's exact attributes: an auto-link on any score.
    reingest(twin, MARGARET)
    assert Link.objects.get(source_record=twin, ended_at=None).outcome != "linked"
    assert entity_of(twin) != entity_of(records["C1"])
    assert_invariants()
    assert_survives_matching([], [(twin, records["C1"])])


def test_a_merge_of_dissimilar_entities_survives_reingest_and_batch_matching(sources, steward):
    records = ingest_apart([("crm", "C1", MARGARET), ("billing", "B1", MARGARET_MARRIED),
                            ("support", "S1", MARGARET)])
    # C1 and S1 are auto-linked by a batch run; the married record stays alone.
    batch_match()
    assert entity_of(records["C1"]) == entity_of(records["S1"])
    survivor = entity_of(records["C1"])
    entity_merge(survivor_id=survivor, victim_id=entity_of(records["B1"]), user=steward)
    assert_invariants()
    # Survivor's own record changes so much that it would match nothing on its own.
    reingest(records["C1"], AURELIO)
    reingest(records["B1"], {**MARGARET_MARRIED, "postcode": "BS2 0JA"})
    group = [records["C1"], records["B1"], records["S1"]]
    assert {entity_of(r) for r in group} == {survivor}
    assert_survives_matching([group], [])


def test_a_split_record_is_never_put_back_by_reingest_or_batch_matching(sources, steward):
    records = ingest_apart([("crm", "C1", MARGARET), ("billing", "B1", MARGARET)])
    batch_match()
    old = entity_of(records["C1"])
    assert entity_of(records["B1"]) == old
    new = record_split(record_id=records["B1"].pk, user=steward)
    assert_invariants()
    reingest(records["B1"], {**MARGARET, "phone": "020 7946 0999"})
    reingest(records["C1"], {**MARGARET, "locality": "London"})
    assert entity_of(records["B1"]) == new.golden_id
    assert entity_of(records["C1"]) == old
    assert_survives_matching([], [(records["B1"], records["C1"])])


def test_after_an_undone_merge_matching_may_decide_again(sources, steward):
    records = ingest_apart([("crm", "C1", MARGARET), ("billing", "B1", MARGARET_MARRIED)])
    merge = entity_merge(survivor_id=entity_of(records["C1"]),
                         victim_id=entity_of(records["B1"]), user=steward)
    from hub.models import Event
    event = Event.objects.get(kind="entity.merged", payload__into=merge.golden_id)
    action_undo(event_id=event.pk, user=steward)
    assert entity_of(records["C1"]) != entity_of(records["B1"])
    assert not Link.objects.filter(ended_at=None, origin="manual").exists()
    batch_match()
    assert entity_of(records["C1"]) != entity_of(records["B1"])
    assert_invariants()


def test_batch_matching_keeps_a_split_record_in_its_own_entity_when_a_third_record_arrives(
        sources, steward):
    records = ingest_apart([("crm", "C1", MARGARET), ("billing", "B1", MARGARET)])
    batch_match()
    new = record_split(record_id=records["B1"].pk, user=steward)
    ingest_apart([("support", "S1", MARGARET), ("webshop", "W1", MARGARET)])
    batch_match()
    assert entity_of(records["B1"]) == new.golden_id
    assert Link.objects.get(source_record=records["B1"], ended_at=None).origin == "manual"
    assert entity_of(records["B1"]) != entity_of(records["C1"])
    assert_invariants()


def test_a_batch_run_over_some_sources_never_joins_a_different_pair_across_the_scope(
        sources, steward):
    moved = {**MARGARET, "phone": "020 7946 0999"}
    records = ingest_apart([("billing", "B1", MARGARET), ("crm", "C1", moved)])
    batch_match()
    shared = entity_of(records["B1"])
    assert entity_of(records["C1"]) == shared
    task = ingest_for_review("crm", "C2", MARGARET)
    review_task_resolve(task_id=task.pk, verdict="different", user=steward)
    # Two later crm records, exact copies of C2, sit in the shared entity; then only crm is
    # re-matched. They cluster with C2 (their strongest links), and that cluster must not take
    # the shared golden ID, which keeps B1 (out of scope) and would put C2 next to it.
    later = ingest_apart([("crm", "C3", MARGARET), ("crm", "C4", MARGARET)])
    for record in later.values():
        SourceRecord.objects.filter(pk=record.pk).update(entity_id=shared)
        Link.objects.filter(source_record=record, ended_at=None).update(entity_id=shared)
    Entity.objects.filter(state="active").exclude(
        golden_id__in=SourceRecord.objects.filter(state="active").values("entity_id")).update(
        state="retired")
    assert_invariants()
    call_command("match", "--sources", "crm", stdout=StringIO(), verbosity=0)
    assert entity_of(SourceRecord.objects.get(source_key="C2")) != entity_of(records["B1"])
    assert_invariants()


def test_a_merged_group_absorbed_by_a_larger_entity_keeps_its_manual_links(sources, steward):
    records = ingest_apart([("crm", "C1", MARGARET), ("billing", "B1", MARGARET_MARRIED)])
    entity_merge(survivor_id=entity_of(records["C1"]), victim_id=entity_of(records["B1"]),
                 user=steward)
    more = ingest_apart([("support", "S1", MARGARET), ("webshop", "W1", MARGARET),
                         ("webshop", "W2", MARGARET)])
    call_command("match", "--sources", "support", "webshop", stdout=StringIO(), verbosity=0)
    larger = entity_of(more["S1"])
    assert {entity_of(r) for r in more.values()} == {larger}
    batch_match()  # the steward's pair joins the larger entity, which keeps its golden ID
    assert entity_of(records["C1"]) == entity_of(records["B1"]) == larger
    assert set(Link.objects.filter(source_record__in=records.values(), ended_at=None)
               .values_list("origin", flat=True)) == {"manual"}
    reingest(records["B1"], {**MARGARET_MARRIED, "postcode": "BS2 0JA"})
    assert entity_of(records["B1"]) == larger
    assert_invariants()
