"""Batch matching: plans keep golden IDs stable, honour steward decisions, dry runs write
nothing, and a second run changes nothing."""

from io import StringIO

from django.core.management import call_command
from django.test import override_settings

from hub.models import Decision, Entity, Event, Link, MatchModel, SourceRecord
from hub.services.batch_plan import NewEntity, plan_match
from hub.services.ingest import record_upsert

PEOPLE = [
    {"given_name": "Aurelio", "family_name": "Brandauer", "birth_date": "1979-06-30",
     "email": "aurelio.b@example-mail.de", "postcode": "10115", "country": "DE"},
    {"given_name": "Ingrid", "family_name": "Solheim", "birth_date": "1988-02-14",
     "email": "ingrid.solheim@example-post.no", "postcode": "0150", "country": "NO"},
]


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, verbosity=0)
    return out.getvalue()


def ingest_apart():
    """Each person from two sources, kept apart in real time by an unreachable threshold."""
    with override_settings(MATCH_AUTO_LINK_THRESHOLD=500.0, MATCH_REVIEW_THRESHOLD=499.0):
        return {(source, i): record_upsert(source_code=source, source_key=f"{source}-{i}",
                                           attributes=person).golden_id
                for i, person in enumerate(PEOPLE) for source in ("crm", "billing")}


def test_plan_keeps_the_entity_holding_most_records_and_retires_the_others():
    current = {1: "GA", 2: "GA", 3: "GB", 4: "GC", 5: "GC"}
    plan = plan_match({1: "x", 2: "x", 3: "x", 4: "y", 5: "z"}, current,
                      {"GA": 2, "GB": 1, "GC": 2})
    assert plan.targets[3] == "GA"
    assert plan.retired == {"GB": "GA"}
    assert plan.split == {"GC"}
    assert plan.targets[4] == "GC" and plan.targets[5] == NewEntity("z")
    assert plan.summary() == {"records_relinked": 2, "entities_merged": 1, "entities_split": 1,
                              "new_entities": 1}


def test_plan_of_unchanged_clusters_is_empty():
    plan = plan_match({1: "x", 2: "x", 3: "y"}, {1: "GA", 2: "GA", 3: "GB"}, {"GA": 2, "GB": 1})
    assert plan.moves == [] and plan.retired == {} and plan.new_entities == []


def test_dry_run_reports_and_changes_nothing(sources):
    ingest_apart()
    events_before = Event.objects.count()
    output = run("match", "--dry-run")
    assert "records_relinked 2" in output and "entities_merged 2" in output
    assert "Dry run" in output
    assert Entity.objects.filter(state="active").count() == 4
    assert Event.objects.count() == events_before


def test_match_links_what_real_time_kept_apart_and_old_ids_resolve(sources, api):
    golden = ingest_apart()
    output = run("match")
    assert "records_relinked" in output
    for i in range(len(PEOPLE)):
        crm, billing = (SourceRecord.objects.get(source_key=f"{s}-{i}") for s in
                        ("crm", "billing"))
        assert crm.entity_id == billing.entity_id
    merged = Entity.objects.filter(state="merged")
    assert merged.count() == 2
    for entity in merged:
        response = api.get(f"/api/entities/{entity.golden_id}")
        assert response.status_code == 307
    assert set(golden.values()) >= set(Entity.objects.filter(state="active")
                                       .values_list("golden_id", flat=True))
    link = Link.objects.filter(ended_at=None, outcome="linked").first()
    assert link.explanation["attributes"] and link.model_version
    assert "values" not in str(link.explanation)
    assert run("match", "--dry-run").count("records_relinked 0") == 1


def test_batch_match_weighs_the_records_sources_as_real_time_does(sources):
    with override_settings(MATCH_AUTO_LINK_THRESHOLD=500.0, MATCH_REVIEW_THRESHOLD=499.0):
        for key in ("A", "B"):  # one customer registered twice in the CRM
            record_upsert(source_code="crm", source_key=key, attributes=PEOPLE[0])

    run("match")

    link = Link.objects.get(ended_at=None, outcome="linked")
    source = {a["attribute"]: a for a in link.explanation["attributes"]}["source"]
    # The batch frame carries the source as ingestion stored it (missing would weigh 0).
    assert source["level"] == "same" and source["weight"] < 0
    assert SourceRecord.objects.values("entity_id").distinct().count() == 1


def test_match_respects_a_different_decision(sources):
    ingest_apart()
    a, b = sorted(SourceRecord.objects.filter(source_key__endswith="-0")
                  .values_list("id", flat=True))
    Decision.objects.create(record_a_id=a, record_b_id=b, verdict="different")
    run("match")
    assert SourceRecord.objects.get(id=a).entity_id != SourceRecord.objects.get(id=b).entity_id


def test_match_keeps_a_manual_link_of_a_dissimilar_record(sources):
    first = record_upsert(source_code="crm", source_key="C1", attributes=PEOPLE[0])
    other = record_upsert(source_code="support", source_key="S1",
                          attributes={"given_name": "Lio", "family_name": "Weiss"})
    record = SourceRecord.objects.get(source_key="S1")
    Link.objects.filter(source_record=record, ended_at=None).update(ended_at="2026-01-01T00:00Z")
    SourceRecord.objects.filter(pk=record.pk).update(entity_id=first.golden_id)
    Link.objects.create(source_record=record, entity_id=first.golden_id, origin="manual",
                        outcome="linked")
    Entity.objects.filter(pk=other.golden_id).update(state="retired")
    run("match")
    assert SourceRecord.objects.get(source_key="S1").entity_id == first.golden_id


def test_train_stores_a_model_version_with_its_table(sources):
    from hub.evaluation import load_rows
    from linkage.synthetic import generate_records

    rows = generate_records(people=160, seed=4)
    load_rows([{k: v or "" for k, v in row.items()} for row in rows], "person_id")
    output = run("train", "--activate")
    assert "m" in output and "Candidate pairs" in output
    model = MatchModel.objects.get(is_active=True)
    assert model.document["version"] == model.version
    assert model.report["records"] == len(rows) >= 300


def test_train_refuses_too_few_records_and_keeps_the_model_in_force(sources):
    import pytest
    from django.core.management import CommandError

    ingest_apart()
    with pytest.raises(CommandError, match="4 records are too few to train a model"):
        run("train", "--activate")
    assert not MatchModel.objects.exists()


def test_match_keeps_a_parent_and_namesake_child_apart_and_asks_about_the_record_between(
        sources):
    from hub.models import ReviewTask
    from tests.hub.test_realtime_matching import BOTH, CHILD, PARENT

    with override_settings(MATCH_AUTO_LINK_THRESHOLD=500.0, MATCH_REVIEW_THRESHOLD=499.0):
        for key, person, source in (("P", PARENT, "crm"), ("C", CHILD, "billing"),
                                    ("X", BOTH, "support")):
            record_upsert(source_code=source, source_key=key, attributes=person)

    run("match")

    parent, child, record = (SourceRecord.objects.get(source_key=k) for k in ("P", "C", "X"))
    assert record.entity_id == child.entity_id != parent.entity_id
    task = ReviewTask.objects.get(state="open")
    assert task.reason == "ambiguous"
    assert {task.source_record.entity_id, task.candidate_entity_id} == {
        child.entity_id, parent.entity_id}
