"""Batch upsert: up to 1,000 records, all stored or none."""

from hub.models import Entity, SourceRecord
from linkage.attributes import CANONICAL_ATTRIBUTES
from linkage.synthetic import generate_records

BATCH = "/api/sources/{source}/records/batch"


GIVEN = ("Oliver", "Priya", "Kwame", "Ingrid", "Mateo", "Yuki", "Fatima", "Declan")
FAMILY = ("Abernathy", "Vasquez", "Oyelaran", "Henriksen", "Castellano", "Nakamura",
          "Haddad", "Fitzgerald")


def _records(person, count):
    """Distinct made-up customers, none of them the ``person`` fixture."""
    return [{"source_key": f"W-{i}", "given_name": GIVEN[i % 8], "family_name": FAMILY[i % 8],
             "email": f"customer{i}@example-shop.com",
             "birth_date": f"19{60 + i:02d}-0{1 + i}-1{i}", "country": "GB"}
            for i in range(count)]


def test_batch_answers_per_record_in_order(api, person):
    records = _records(person, 3) + [{**person, "source_key": "W-dup"},
                                     {**person, "source_key": "W-dup2", "given_name": "Maggie"}]
    response = api.post(BATCH.format(source="webshop"), {"records": records}, format="json")
    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert [r["source_key"] for r in results] == [r["source_key"] for r in records]
    assert all(r["change"] == "created" for r in results)
    assert results[4]["golden_id"] == results[3]["golden_id"]
    assert SourceRecord.objects.count() == 5


def test_batch_with_one_bad_record_stores_none_and_names_it(api, person):
    records = _records(person, 4)
    records[2]["birth_date"] = "1980-02-30"
    response = api.post(BATCH.format(source="webshop"), {"records": records}, format="json")
    assert response.status_code == 400
    assert response.json() == {"records": {"2": {"birth_date": ["impossible date"]}}}
    assert not SourceRecord.objects.exists() and not Entity.objects.exists()


def test_batch_over_1000_records_is_refused(api, person):
    records = [{"source_key": f"K{i}", "given_name": "A"} for i in range(1001)]
    response = api.post(BATCH.format(source="webshop"), {"records": records}, format="json")
    assert response.status_code == 400
    assert "no more than 1000" in str(response.json()["records"])
    assert not SourceRecord.objects.exists()


def test_batch_of_exactly_1000_records_is_accepted(api):
    generated = generate_records(people=1000, seed=3, sources=("webshop",))[:1000]
    records = [{"source_key": r["source_key"],
                **{k: r[k] for k in CANONICAL_ATTRIBUTES if r[k] is not None}}
               for r in generated]
    assert len(records) == 1000
    response = api.post(BATCH.format(source="webshop"), {"records": records}, format="json")
    assert response.status_code == 200
    assert SourceRecord.objects.count() == 1000


def test_batch_replayed_changes_nothing(api, person):
    records = _records(person, 5)
    api.post(BATCH.format(source="webshop"), {"records": records}, format="json")
    again = api.post(BATCH.format(source="webshop"), {"records": records}, format="json")
    assert {r["change"] for r in again.json()["results"]} == {"unchanged"}
    assert SourceRecord.objects.count() == 5


def test_empty_batch_and_missing_records_are_refused(api):
    assert api.post(BATCH.format(source="webshop"), {"records": []},
                    format="json").status_code == 400
    assert api.post(BATCH.format(source="webshop"), {}, format="json").status_code == 400


def test_post_to_a_record_url_is_not_allowed(api, person):
    response = api.post("/api/sources/crm/records/CRM-1", person, format="json")
    assert response.status_code == 405
