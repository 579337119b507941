"""The ingest API: upsert, replay, versions, delete, batch."""

import pytest

from hub.models import Entity, Event, Link, SourceRecord

URL = "/api/sources/{source}/records/{key}"


def put(api, source, key, body):
    return api.put(URL.format(source=source, key=key), body, format="json")


def record_events():
    return Event.objects.filter(kind__startswith="record.")


def test_first_upsert_creates_record_and_new_entity(api, person):
    response = put(api, "crm", "CRM-1", person)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["change"] == "created"
    assert body["outcome"] == "new_entity"
    assert Entity.objects.get(pk=body["golden_id"]).state == "active"
    record = SourceRecord.objects.get(source__code="crm", source_key="CRM-1")
    assert record.standardised["phone"] == "+442079460321"
    assert record.standardised["postcode"] == "N78QT"
    assert record.attributes["phone"] == "020 7946 0321"


def test_same_put_twice_stores_one_record_and_one_event(api, person):
    first = put(api, "crm", "CRM-1", {**person, "version": 3}).json()
    second = put(api, "crm", "CRM-1", {**person, "version": 3})
    assert second.status_code == 200
    assert second.json()["change"] == "unchanged"
    assert second.json()["golden_id"] == first["golden_id"]
    assert SourceRecord.objects.count() == 1
    assert Entity.objects.count() == 1
    assert record_events().count() == 1


def test_unversioned_replay_changes_nothing(api, person):
    put(api, "crm", "CRM-1", person)
    assert put(api, "crm", "CRM-1", person).json()["change"] == "unchanged"
    assert record_events().count() == 1


def test_older_version_after_newer_is_ignored_and_says_so(api, person):
    put(api, "crm", "CRM-1", {**person, "version": 5, "email": "new@example-mail.com"})
    response = put(api, "crm", "CRM-1", {**person, "version": 4})
    assert response.status_code == 200
    assert response.json()["change"] == "stale"
    assert response.json()["message"]
    record = SourceRecord.objects.get()
    assert record.source_version == 5
    assert record.standardised["email"] == "new@example-mail.com"
    assert record_events().count() == 1


def test_older_updated_at_after_newer_is_ignored(api, person):
    put(api, "crm", "CRM-1", {**person, "updated_at": "2026-05-02T10:00:00Z"})
    response = put(api, "crm", "CRM-1", {**person, "given_name": "Peggy",
                                         "updated_at": "2026-05-01T10:00:00Z"})
    assert response.json()["change"] == "stale"
    assert SourceRecord.objects.get().standardised["given_name"] == "margaret"


def test_same_version_with_different_attributes_is_a_conflict(api, person):
    put(api, "crm", "CRM-1", {**person, "version": 2})
    response = put(api, "crm", "CRM-1", {**person, "given_name": "Meg", "version": 2})
    assert response.status_code == 409
    assert SourceRecord.objects.get().standardised["given_name"] == "margaret"


def test_newer_version_updates_and_rematches(api, person):
    first = put(api, "crm", "CRM-1", {**person, "version": 1}).json()
    response = put(api, "crm", "CRM-1", {**person, "version": 2, "locality": "Camden"})
    assert response.json()["change"] == "updated"
    assert response.json()["golden_id"] == first["golden_id"]
    assert SourceRecord.objects.get().source_version == 2
    assert record_events().count() == 2


def test_same_person_from_another_source_joins_the_entity(api, person):
    crm = put(api, "crm", "CRM-1", person).json()
    billing = put(api, "billing", "B-77", {**person, "phone": "+44 20 7946 0321",
                                           "given_name": "MARGARET"}).json()
    assert billing["outcome"] == "linked"
    assert billing["golden_id"] == crm["golden_id"]
    assert billing["score"] > 0
    levels = {a["attribute"]: a["level"] for a in billing["explanation"]["attributes"]}
    assert levels["birth_date"] == "exact"
    assert billing["explanation"]["blocking_rules"]
    link = Link.objects.get(source_record__source_key="B-77", ended_at=None)
    assert link.origin == "auto" and link.model_version


def test_a_different_person_gets_a_new_entity(api, person):
    crm = put(api, "crm", "CRM-1", person).json()
    other = {"given_name": "Tobias", "family_name": "Lindqvist", "birth_date": "1990-11-02",
             "email": "tobias.l@example-post.se", "country": "SE"}
    response = put(api, "crm", "CRM-2", other).json()
    assert response["outcome"] == "new_entity"
    assert response["golden_id"] != crm["golden_id"]


def test_update_that_no_longer_matches_moves_the_record_out(api, person):
    crm = put(api, "crm", "CRM-1", person).json()
    billing = put(api, "billing", "B-1", person).json()
    assert billing["golden_id"] == crm["golden_id"]
    stranger = {"given_name": "Tobias", "family_name": "Lindqvist", "birth_date": "1990-11-02",
                "country": "SE"}
    moved = put(api, "billing", "B-1", stranger).json()
    assert moved["change"] == "updated"
    assert moved["golden_id"] != crm["golden_id"]
    assert SourceRecord.objects.get(source_key="CRM-1").entity_id == crm["golden_id"]


def test_update_that_joins_another_entity_leaves_old_id_resolving(api, person):
    crm = put(api, "crm", "CRM-1", person).json()
    lone = put(api, "billing", "B-1", {"given_name": "Tobias", "family_name": "Lindqvist",
                                       "birth_date": "1990-11-02", "country": "SE"}).json()
    assert lone["golden_id"] != crm["golden_id"]
    joined = put(api, "billing", "B-1", person).json()
    assert joined["golden_id"] == crm["golden_id"]
    old = Entity.objects.get(pk=lone["golden_id"])
    assert old.state == "merged" and old.merged_into_id == crm["golden_id"]
    response = api.get(f"/api/entities/{lone['golden_id']}")
    assert response.status_code == 307
    assert response["Location"].endswith(f"/api/entities/{crm['golden_id']}")


def test_delete_retires_the_last_entity_and_its_id_still_resolves(api, person):
    golden_id = put(api, "crm", "CRM-1", {**person, "version": 1}).json()["golden_id"]
    response = api.delete(URL.format(source="crm", key="CRM-1") + "?version=2")
    assert response.status_code == 200
    assert response.json()["change"] == "deleted"
    record = SourceRecord.objects.get()
    assert record.state == "deleted" and record.entity is None
    assert record.attributes == {} and record.standardised == {}
    assert not record.blocking_keys.exists()
    lookup = api.get(f"/api/entities/{golden_id}")
    assert lookup.status_code == 200
    assert lookup.json()["state"] == "retired" and lookup.json()["records"] == []
    # The deletion was version 2: a late version-1 upsert must not resurrect the record.
    assert put(api, "crm", "CRM-1", {**person, "version": 1}).json()["change"] == "stale"
    assert SourceRecord.objects.get().state == "deleted"


def test_delete_keeps_the_entity_when_other_records_remain(api, person):
    golden_id = put(api, "crm", "CRM-1", person).json()["golden_id"]
    put(api, "billing", "B-1", person)
    api.delete(URL.format(source="crm", key="CRM-1"))
    entity = api.get(f"/api/entities/{golden_id}").json()
    assert entity["state"] == "active"
    assert [r["source_key"] for r in entity["records"]] == ["B-1"]


def test_delete_twice_is_harmless_and_unknown_record_is_404(api, person):
    put(api, "crm", "CRM-1", person)
    api.delete(URL.format(source="crm", key="CRM-1"))
    again = api.delete(URL.format(source="crm", key="CRM-1"))
    assert again.status_code == 200 and again.json()["change"] == "unchanged"
    assert api.delete(URL.format(source="crm", key="nope")).status_code == 404
    assert Event.objects.filter(kind="record.deleted").count() == 1


def test_record_comes_back_after_delete_with_a_newer_version(api, person):
    put(api, "crm", "CRM-1", {**person, "version": 1})
    api.delete(URL.format(source="crm", key="CRM-1") + "?version=2")
    response = put(api, "crm", "CRM-1", {**person, "version": 3})
    assert response.json()["change"] == "updated"
    assert SourceRecord.objects.get().state == "active"


def test_source_keys_may_contain_slashes_and_spaces(api, person):
    response = put(api, "crm", "accounts/42/contact 7", person)
    assert response.status_code == 201
    xref = api.get("/api/xref/crm/accounts/42/contact 7")
    assert xref.json()["golden_id"] == response.json()["golden_id"]


@pytest.mark.parametrize("method", ["put", "delete"])
def test_requests_without_a_token_are_refused(db, sources, person, method):
    from rest_framework.test import APIClient

    response = getattr(APIClient(), method)(URL.format(source="crm", key="CRM-1"), person,
                                            format="json")
    assert response.status_code == 401
    assert not SourceRecord.objects.exists()


def test_a_source_deactivated_after_use_refuses_further_records(api, person):
    """The hub remembers source ids by code between upserts; deactivating a source must still
    take effect at the next upsert, with nothing stored."""
    from hub.models import SourceSystem

    assert put(api, "crm", "CRM-1", person).status_code == 201
    SourceSystem.objects.filter(code="crm").update(is_active=False)

    response = put(api, "crm", "CRM-2", person)

    assert response.status_code == 400
    assert "unknown source system" in response.json()["source"][0]
    assert not SourceRecord.objects.filter(source_key="CRM-2").exists()
    assert record_events().count() == 1


def test_a_source_replaced_under_the_same_code_receives_records(api, person):
    """A source deleted and registered again has a new id: the remembered one is not used."""
    from hub.models import SourceSystem
    from hub.services.sources import source_add

    assert put(api, "billing", "B-1", person).status_code == 201
    SourceRecord.objects.filter(source__code="billing").delete()
    old = SourceSystem.objects.get(code="billing")
    old.delete()
    new, _ = source_add(code="billing")
    assert new.pk != old.pk

    response = put(api, "billing", "B-2", person)

    assert response.status_code == 201, response.json()
    assert SourceRecord.objects.get(source_key="B-2").source_id == new.pk
