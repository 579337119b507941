"""Bad input answers 400 naming the field and the reason, and stores nothing."""

import pytest

from hub.models import BlockingKey, Entity, Event, SourceRecord

URL = "/api/sources/{source}/records/{key}"


def assert_nothing_stored():
    assert not SourceRecord.objects.exists()
    assert not Entity.objects.exists()
    assert not BlockingKey.objects.exists()
    assert not Event.objects.filter(kind__startswith="record.").exists()


@pytest.mark.parametrize(("body", "field", "reason"), [
    ({"birth_date": "1999-02-29"}, "birth_date", "impossible date"),
    ({"birth_date": "2021-13-01"}, "birth_date", "impossible date"),
    ({"birth_date": "17/03/1984"}, "birth_date", "not an ISO date"),
    ({"shoe_size": "44"}, "shoe_size", "unknown field"),
    ({"given_name": "x" * 101}, "given_name", "no more than 100 characters"),
    ({"version": "seven"}, "version", "valid integer"),
    ({"version": -1}, "version", "greater than or equal to 0"),
    ({"updated_at": "yesterday"}, "updated_at", "Datetime has wrong format"),
    ({"given_name": ["Ann"]}, "given_name", "Not a valid string"),
])
def test_bad_field_answers_400_with_field_and_reason(api, person, body, field, reason):
    response = api.put(URL.format(source="crm", key="K1"), {**person, **body}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    assert reason in " ".join(errors[field])
    assert_nothing_stored()


def test_malformed_json_answers_400(api):
    response = api.put(URL.format(source="crm", key="K1"), '{"given_name": "Ann",',
                       content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert_nothing_stored()


def test_body_that_is_not_an_object_answers_400(api):
    response = api.put(URL.format(source="crm", key="K1"), [1, 2], format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert_nothing_stored()


def test_unknown_source_answers_400_naming_source(api, person):
    response = api.put(URL.format(source="erp", key="K1"), person, format="json")
    assert response.status_code == 400
    assert "unknown source system" in response.json()["source"][0]
    assert_nothing_stored()


def test_error_messages_do_not_echo_personal_data(api, person):
    response = api.put(URL.format(source="crm", key="K1"),
                       {**person, "birth_date": "1984-02-31-margaret-secret"}, format="json")
    assert response.status_code == 400
    assert "margaret-secret" not in response.content.decode()


@pytest.mark.parametrize(("body", "field", "reason"), [
    ({"email": "margaret at example"}, "email", "not a valid email address"),
    ({"country": "Atlantis"}, "country", "unknown country"),
    ({"phone": "call me maybe"}, "phone", "not a valid phone number"),
])
def test_unusable_contact_value_is_kept_as_a_warning_not_a_rejection(api, person, body, field,
                                                                      reason):
    response = api.put(URL.format(source="crm", key="K1"), {**person, **body}, format="json")
    assert response.status_code == 201
    assert response.json()["warnings"] == {field: reason}
    record = SourceRecord.objects.get()
    assert record.standardised[field] is None
    assert record.attributes[field] == body[field]
    assert record.invalid_attributes == {field: reason}


def test_source_key_over_255_characters_answers_400(api, person):
    response = api.post(URL.format(source="crm", key="batch"),
                        {"records": [{**person, "source_key": "k" * 256}]}, format="json")
    assert response.status_code == 400
    assert "source_key" in response.json()["records"]["0"]
    assert_nothing_stored()
