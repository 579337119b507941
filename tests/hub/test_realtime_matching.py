"""Real-time matching decisions: auto link, review, ambiguity, steward decisions."""

import pandas as pd
from django.test import override_settings

from hub.models import Decision, Entity, Event, ReviewTask, SourceRecord
from hub.services import term_frequencies
from hub.services.ingest import record_upsert
from hub.services.match_config import active_match_config
from hub.services.matching import EntityCandidate, decide
from hub.services.term_frequencies import record_frequencies
from linkage import frequencies as linkage_frequencies
from linkage.frequencies import TermFrequencies
from linkage.scoring import PairScore, score_pair

NAMES = {"given_name": "Aurelio", "family_name": "Brandauer"}


def upsert(source, key, **attributes):
    return record_upsert(source_code=source, source_key=key, attributes=attributes)


def _two_halves_of_one_customer():
    by_email = upsert("crm", "C1", **NAMES, email="aurelio.b@example-mail.de")
    by_birth = upsert("billing", "B1", **NAMES, birth_date="1979-06-30", postcode="10115")
    assert by_email.golden_id != by_birth.golden_id  # names alone are not enough to link
    return by_email, by_birth


BRIDGE = {**NAMES, "email": "aurelio.b@example-mail.de", "birth_date": "1979-06-30",
          "postcode": "10115"}


def test_record_linking_two_entities_joins_them_as_a_batch_run_would(sources):
    by_email, by_birth = _two_halves_of_one_customer()

    both = upsert("support", "S1", **BRIDGE)

    assert both.outcome == "linked"
    survivor = Entity.objects.get(pk=both.golden_id)
    assert survivor.golden_id in {by_email.golden_id, by_birth.golden_id}
    assert survivor.records.filter(state="active").count() == 3
    victim_id = ({by_email.golden_id, by_birth.golden_id} - {survivor.golden_id}).pop()
    victim = Entity.objects.get(pk=victim_id)
    assert (victim.state, victim.merged_into_id) == ("merged", survivor.golden_id)
    assert Event.objects.filter(kind="entity.merged", entity_id=victim_id,
                                payload__into=survivor.golden_id).count() == 1
    assert not ReviewTask.objects.filter(state="open").exists()


def test_record_matching_two_entities_a_steward_kept_apart_opens_review_tasks_instead_of_guessing(
        sources):
    by_email, by_birth = _two_halves_of_one_customer()
    first, second = sorted(SourceRecord.objects.values_list("id", flat=True))
    Decision.objects.create(record_a_id=first, record_b_id=second, verdict="different")

    both = upsert("support", "S1", **BRIDGE)

    assert both.outcome == "linked"
    assert both.golden_id in {by_email.golden_id, by_birth.golden_id}
    other = ({by_email.golden_id, by_birth.golden_id} - {both.golden_id}).pop()
    task = ReviewTask.objects.get(source_record__source_key="S1", state="open")
    assert (task.candidate_entity_id, task.reason) == (other, "ambiguous")
    assert task.explanation["attributes"] and task.model_version
    assert Entity.objects.get(pk=other).state == "active"
    assert Entity.objects.get(pk=other).records.count() == 1


def test_score_between_thresholds_opens_one_uncertain_task(sources):
    first = upsert("crm", "C1", **NAMES, locality="Berlin")
    second = upsert("billing", "B1", **NAMES, locality="Berlin")
    assert second.outcome == "review"
    assert second.golden_id != first.golden_id
    task = ReviewTask.objects.get(state="open")
    assert (task.reason, task.candidate_entity_id) == ("uncertain", first.golden_id)
    assert [t["candidate_golden_id"] for t in second.review_tasks] == [first.golden_id]


def test_thresholds_come_from_settings(sources):
    upsert("crm", "C1", **NAMES, locality="Berlin")
    with override_settings(MATCH_AUTO_LINK_THRESHOLD=3.5, MATCH_REVIEW_THRESHOLD=2.0):
        second = upsert("billing", "B1", **NAMES, locality="Berlin")
    assert second.outcome == "linked"


def test_update_of_a_record_in_review_replaces_its_open_tasks(sources):
    upsert("crm", "C1", **NAMES, locality="Berlin")
    upsert("billing", "B1", **NAMES, locality="Berlin")
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


def test_real_time_term_frequencies_are_the_counts_a_batch_run_makes(sources, monkeypatch):
    monkeypatch.setattr(linkage_frequencies, "MIN_RECORDS", 1)
    monkeypatch.setattr(term_frequencies, "MIN_RECORDS", 1)
    monkeypatch.setattr(term_frequencies, "TOTALS_MAX_AGE", 0.0)  # recount on every call
    people = [("Anna", "Smith"), ("Ben", "Smith"), ("Carl", "Smith"), ("Dora", "Wojciechowski")]
    for index, (given, family) in enumerate(people):
        upsert("crm", f"C{index}", given_name=given, family_name=family,
               birth_date=f"198{index}-01-01")
    config = active_match_config()
    stored = [r.standardised for r in SourceRecord.objects.all()]
    batch = TermFrequencies.from_frame(pd.DataFrame(stored), ["given_name", "family_name"])

    for record in stored:
        hub = record_frequencies(record, config)
        for attribute in ("given_name", "family_name"):
            value = record[attribute]
            assert hub.frequency(attribute, value) == batch.frequency(attribute, value)
    assert record_frequencies(stored[0], config).frequency("family_name", stored[0]["family_name"]
                                                           ) == 0.75


def test_joining_several_entities_refuses_what_clustering_refuses(db):
    config = active_match_config()
    strong = config.auto_link_threshold + 20
    weak = config.auto_link_threshold + 1

    def candidate(entity, weight, size, auto_links=1):
        score = PairScore(weight=weight, probability=1.0, attributes=(), prior=0.0,
                          config_version="t", rules=())
        return EntityCandidate(entity, 1, score, auto_links=auto_links, size=size)

    decision = decide([candidate("GA", strong, 5), candidate("GD", strong - 1, 60),
                       candidate("GB", weak, 4), candidate("GC", weak, 1)],
                      {"same": set(), "different": set(), "apart": set()}, config)

    assert decision.outcome == "linked" and decision.target.entity_id == "GA"
    assert [c.entity_id for c in decision.merge] == ["GC"]
    assert {(c.entity_id, reason) for c, reason in decision.review} == {
        ("GB", "weak_bridge"), ("GD", "too_large")}


def _anna_frequency_before_and_after_a_second_record(monkeypatch) -> tuple[float, float]:
    """Anna's given-name frequency in a one-record hub, then after Ben arrives (counted with
    whatever cache the test set up)."""
    monkeypatch.setattr(linkage_frequencies, "MIN_RECORDS", 1)
    monkeypatch.setattr(term_frequencies, "MIN_RECORDS", 1)
    upsert("crm", "C1", given_name="Anna", family_name="Smith", birth_date="1980-01-01")
    config = active_match_config()
    anna = SourceRecord.objects.get(source_key="C1").standardised
    before = record_frequencies(anna, config).frequency("given_name", anna["given_name"])
    upsert("crm", "C2", given_name="Ben", family_name="Jones", birth_date="1981-01-01")
    after = record_frequencies(anna, config).frequency("given_name", anna["given_name"])
    return before, after


def test_totals_for_term_frequencies_are_counted_once_per_max_age_in_a_large_hub(
        sources, monkeypatch):
    monkeypatch.setattr(term_frequencies, "CACHE_FROM_RECORDS", 1)  # "large" from one record

    before, after = _anna_frequency_before_and_after_a_second_record(monkeypatch)

    # The total (records with a given name) is still the cached 1, the count is fresh.
    assert (before, after) == (1.0, 1.0)
    term_frequencies._totals.clear()
    anna = SourceRecord.objects.get(source_key="C1").standardised
    assert record_frequencies(anna, active_match_config()).frequency(
        "given_name", anna["given_name"]) == 0.5


def test_a_small_hub_counts_its_totals_afresh_on_every_call(sources, monkeypatch):
    # An early total must not stick: the first count of a growing hub would otherwise hold
    # for minutes and keep real-time scores away from what a batch run makes of the same data.
    assert _anna_frequency_before_and_after_a_second_record(monkeypatch) == (1.0, 0.5)


# A parent and their namesake child (different birth dates, national IDs and homes make them
# conflict), and a record carrying the parent's mailbox and the child's national ID.
FAMILY = {"given_name": "Olivia", "family_name": "Bennett", "country": "GB"}
PARENT = {**FAMILY, "birth_date": "1958-04-12", "national_id": "QQ123456C",
          "email": "olivia.bennett@postbox.co.uk", "phone": "+44 7700 900123",
          "address_line": "3 Mill Lane", "postcode": "YO1 7AB"}
CHILD = {**FAMILY, "birth_date": "1988-06-30", "national_id": "QQ654321A",
         "email": "liv.b@mailhouse.co.uk", "phone": "+44 7700 900456",
         "address_line": "12 Acacia Avenue", "postcode": "LS1 1AB"}
BOTH = {**FAMILY, "national_id": "QQ654321A", "email": "olivia.bennett@postbox.co.uk",
        "address_line": "12 Acacia Avenue", "postcode": "LS1 1AB"}


def test_a_record_matching_a_parent_and_their_namesake_child_joins_one_and_asks_about_the_other(
        sources):
    parent = upsert("crm", "P", **PARENT)
    child = upsert("crm", "C", **CHILD)
    assert parent.golden_id != child.golden_id

    record = upsert("support", "X", **BOTH)

    assert record.outcome == "linked"
    assert record.golden_id == child.golden_id  # the stronger match: the national ID
    assert Entity.objects.get(pk=parent.golden_id).state == "active"
    assert SourceRecord.objects.get(source_key="P").entity_id == parent.golden_id
    task = ReviewTask.objects.get(state="open")
    assert (task.reason, task.candidate_entity_id) == ("ambiguous", parent.golden_id)


def test_a_record_never_joins_an_entity_holding_a_record_it_conflicts_with(sources):
    parent = upsert("crm", "P", **PARENT)
    # The parent's second record, joined by the mailbox alone (no birth date, no ID).
    upsert("billing", "P2", **FAMILY, email="olivia.bennett@postbox.co.uk",
           postcode="YO1 7AB")
    assert SourceRecord.objects.get(source_key="P2").entity_id == parent.golden_id

    child = upsert("support", "C", **{**CHILD, "email": None})

    assert child.golden_id != parent.golden_id
    assert SourceRecord.objects.get(source_key="P").entity_id == parent.golden_id


# A parent and their namesake child at one address with one landline: only the birth dates
# tell them apart, and they are decades apart.
HOME = {**FAMILY, "address_line": "12 Acacia Avenue", "locality": "Leeds", "postcode": "LS1 1AB",
        "phone": "+44 113 496 0000"}


def test_a_household_record_without_a_birth_date_never_joins_a_parent_and_child_into_one(
        sources):
    parent = upsert("crm", "P", **HOME, birth_date="1958-04-12")
    child = upsert("billing", "C", **HOME, birth_date="1988-06-30")
    config = active_match_config()
    stored = dict(SourceRecord.objects.values_list("source_key", "standardised"))
    between = score_pair(stored["P"], stored["C"], config)
    assert between.conflict and between.weight > config.conflict_threshold

    record = upsert("support", "X", **HOME)

    assert parent.golden_id != child.golden_id
    assert SourceRecord.objects.get(source_key="P").entity_id == parent.golden_id
    assert SourceRecord.objects.get(source_key="C").entity_id == child.golden_id
    assert record.golden_id in {parent.golden_id, child.golden_id}
    assert Entity.objects.filter(state="active").count() == 2
    other = ({parent.golden_id, child.golden_id} - {record.golden_id}).pop()
    assert [(t.reason, t.candidate_entity_id) for t in ReviewTask.objects.filter(
        state="open")] == [("ambiguous", other)]


def test_a_record_conflicting_with_part_of_an_entity_regroups_it_as_a_batch_run_would(sources):
    # The child's record without a birth date (nor an e-mail: with a mailbox and a phone both
    # unlike the parent's it would stay apart) arrives first and joins the parent (same name,
    # same home); the child's dated record then matches it far better than the parent does.
    parent = upsert("crm", "P", **HOME, birth_date="1958-04-12", email="o.bennett@postbox.co.uk")
    undated = upsert("support", "X", **{**HOME, "phone": "+44 7700 900777"})
    assert undated.golden_id == parent.golden_id
    x_id = SourceRecord.objects.get(source_key="X").pk

    child = upsert("billing", "C", **{**HOME, "phone": "+44 7700 900777"},
                   email="liv.bennett88@mailhouse.co.uk", birth_date="1988-06-30")

    records = {r.source_key: r for r in SourceRecord.objects.all()}
    assert records["X"].entity_id == records["C"].entity_id == child.golden_id
    assert records["P"].entity_id == parent.golden_id != child.golden_id
    assert child.outcome == "linked"
    relinked = Event.objects.get(kind="record.relinked", source_record_id=x_id)
    assert relinked.payload["from"] == parent.golden_id
    assert relinked.payload["regrouped_by_record_id"] == records["C"].pk
    task = ReviewTask.objects.get(state="open")
    assert (task.source_record_id, task.reason, task.candidate_entity_id) == (
        records["C"].pk, "ambiguous", parent.golden_id)
    # What a batch run makes of the same records: nothing to change.
    from hub.services.batch_match import batch_match_plan
    assert batch_match_plan().plan.moves == []


def _parent_and_undated_child_record():
    parent = upsert("crm", "P", **HOME, birth_date="1958-04-12", email="o.bennett@postbox.co.uk")
    undated = upsert("support", "X", **{**HOME, "phone": "+44 7700 900777"})
    assert undated.golden_id == parent.golden_id
    return parent


CHILD_DATED = {**HOME, "phone": "+44 7700 900777", "email": "liv.bennett88@mailhouse.co.uk",
               "birth_date": "1988-06-30"}


def test_regrouping_never_moves_a_record_a_steward_placed(sources):
    parent = _parent_and_undated_child_record()
    SourceRecord.objects.get(source_key="X").links.filter(ended_at=None).update(origin="manual")

    child = upsert("billing", "C", **CHILD_DATED)

    assert SourceRecord.objects.get(source_key="X").entity_id == parent.golden_id
    assert child.golden_id != parent.golden_id
    assert not Event.objects.filter(kind="record.relinked").exists()
    assert ReviewTask.objects.get(state="open").candidate_entity_id == parent.golden_id


def test_a_regrouping_planned_on_a_group_that_changed_since_is_not_applied(sources):
    from django.db import transaction

    from hub.services.regroup import regroup
    from hub.services.regroup_apply import regrouping_apply

    parent = _parent_and_undated_child_record()
    child = upsert("billing", "C", **CHILD_DATED)  # regrouped: X now with the child
    record = SourceRecord.objects.get(source_key="C")
    plan = regroup(record.pk, record.standardised, [parent.golden_id, child.golden_id],
                   active_match_config())
    grown = upsert("webshop", "W", **HOME, birth_date="1958-04-12")  # the parent's group grew
    assert grown.golden_id == parent.golden_id

    with transaction.atomic():
        assert regrouping_apply(record=record, regrouping=plan,
                                config=active_match_config()) is None


def test_the_records_source_is_stored_with_its_values_and_weighed_in_the_match(sources):
    first = upsert("crm", "C1", **BRIDGE)
    within = upsert("crm", "C2", **BRIDGE)  # explained by C1, the entity's only record
    across = upsert("billing", "B1", **BRIDGE)  # explained by the better of the two

    assert SourceRecord.objects.get(source_key="C2").standardised["source"] == "crm"
    assert across.golden_id == within.golden_id == first.golden_id
    levels = {kind: {a["attribute"]: a for a in result.explanation["attributes"]}["source"]
              for kind, result in (("across", across), ("within", within))}
    assert (levels["across"]["level"], levels["within"]["level"]) == ("else", "same")
    # One system rarely holds one person twice: the second CRM record weighs less.
    assert levels["within"]["weight"] < 0 < levels["across"]["weight"]
