"""Real-time matching decisions: auto link, review, ambiguity, steward decisions."""

from django.test import override_settings

from hub.models import Decision, Entity, ReviewTask, SourceRecord
from hub.services.ingest import record_upsert

NAMES = {"given_name": "Aurelio", "family_name": "Brandauer"}


def upsert(source, key, **attributes):
    return record_upsert(source_code=source, source_key=key, attributes=attributes)


def test_record_matching_two_entities_opens_review_tasks_instead_of_guessing(sources):
    by_email = upsert("crm", "C1", **NAMES, email="aurelio.b@example-mail.de")
    by_birth = upsert("billing", "B1", **NAMES, birth_date="1979-06-30", postcode="10115")
    assert by_email.golden_id != by_birth.golden_id  # names alone are not enough to link
    both = upsert("support", "S1", **NAMES, email="aurelio.b@example-mail.de",
                  birth_date="1979-06-30", postcode="10115")
    assert both.outcome == "review"
    assert both.golden_id not in {by_email.golden_id, by_birth.golden_id}
    tasks = ReviewTask.objects.filter(source_record__source_key="S1", state="open")
    assert {t.candidate_entity_id for t in tasks} == {by_email.golden_id, by_birth.golden_id}
    assert {t.reason for t in tasks} == {"ambiguous"}
    assert all(t.explanation["attributes"] and t.model_version for t in tasks)
    assert Entity.objects.get(pk=by_email.golden_id).records.count() == 1


def test_score_between_thresholds_opens_one_uncertain_task(sources):
    first = upsert("crm", "C1", **NAMES, postcode="10115")
    second = upsert("billing", "B1", **NAMES, postcode="10115")
    assert second.outcome == "review"
    assert second.golden_id != first.golden_id
    task = ReviewTask.objects.get(state="open")
    assert (task.reason, task.candidate_entity_id) == ("uncertain", first.golden_id)
    assert [t["candidate_golden_id"] for t in second.review_tasks] == [first.golden_id]


def test_thresholds_come_from_settings(sources):
    upsert("crm", "C1", **NAMES, postcode="10115")
    with override_settings(MATCH_AUTO_LINK_THRESHOLD=4.0):
        second = upsert("billing", "B1", **NAMES, postcode="10115")
    assert second.outcome == "linked"


def test_update_of_a_record_in_review_replaces_its_open_tasks(sources):
    upsert("crm", "C1", **NAMES, postcode="10115")
    upsert("billing", "B1", **NAMES, postcode="10115")
    assert ReviewTask.objects.filter(state="open").count() == 1
    upsert("billing", "B1", given_name="Zelda", family_name="Quist", postcode="99999")
    assert ReviewTask.objects.filter(state="open").count() == 0
    assert ReviewTask.objects.get().state == "cancelled"


def test_different_decision_keeps_two_records_apart(sources):
    full = {**NAMES, "email": "aurelio.b@example-mail.de", "birth_date": "1979-06-30"}
    first = upsert("crm", "C1", **full)
    second = upsert("billing", "B1", **full, locality="Berlin")
    assert second.golden_id == first.golden_id
    record_a, record_b = sorted(SourceRecord.objects.values_list("id", flat=True))
    Decision.objects.create(record_a_id=record_a, record_b_id=record_b, verdict="different")
    moved = upsert("billing", "B1", **full, locality="Potsdam")
    assert moved.golden_id != first.golden_id
    assert moved.outcome == "new_entity"


def test_manual_link_survives_an_update_that_would_not_match(sources):
    first = upsert("crm", "C1", **NAMES, email="aurelio.b@example-mail.de")
    second = upsert("billing", "B1", **NAMES, email="aurelio.b@example-mail.de")
    assert second.golden_id == first.golden_id
    record = SourceRecord.objects.get(source_key="B1")
    record.links.filter(ended_at=None).update(origin="manual")
    updated = upsert("billing", "B1", given_name="Zelda", family_name="Quist")
    assert updated.golden_id == first.golden_id and updated.origin == "manual"


def test_same_decision_links_records_that_score_low(sources):
    first = upsert("crm", "C1", given_name="Aurelio", family_name="Brandauer")
    second = upsert("billing", "B1", given_name="Lio", family_name="Brandauer-Weiss")
    assert second.golden_id != first.golden_id
    record_a, record_b = sorted(SourceRecord.objects.values_list("id", flat=True))
    Decision.objects.create(record_a_id=record_a, record_b_id=record_b, verdict="same")
    relinked = upsert("billing", "B1", given_name="Lio", family_name="Weiss-Lopez")
    assert relinked.golden_id == first.golden_id and relinked.origin == "manual"


def test_placeholder_email_does_not_link_strangers(sources):
    upsert("crm", "C1", given_name="Ann", family_name="Lee", email="test@test.com")
    other = upsert("crm", "C2", given_name="Bob", family_name="Stone", email="test@test.com")
    assert other.outcome == "new_entity"
