"""Source configuration: the service's validation, the admin form and the file loader."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from hub.models import Event, SourceSystem
from hub.services.connections import connectors_reset, source_connector
from hub.services.errors import InvalidInput
from hub.services.sources import source_configure

MAPPING = {"first": "given_name", "last": "family_name", "mail": "email"}


def http_source(**overrides) -> dict:
    values = {"code": "crm", "name": "CRM", "trust_rank": 10, "connector_kind": "http",
              "connector_settings": {"base_url": "http://127.0.0.1:9", "token_env": "CRM_TOKEN"},
              "field_mapping": MAPPING, "erase_policy": "delete",
              "purposes": ["sales"], "data_categories": ["contact"], "recipients": []}
    return {**values, **overrides}


def refused(**values) -> dict:
    with pytest.raises(InvalidInput) as caught:
        source_configure(**values)
    return caught.value.errors


# -- the service ------------------------------------------------------------------------------

def test_configure_creates_then_updates_and_records_events_with_ids_only(db):
    source, created = source_configure(**http_source())
    assert created and source.connector_kind == "http" and source.trust_rank == 10
    assert source.connector_config()["mapping"] == MAPPING
    again, created = source_configure(**http_source(trust_rank=5, name=None))
    assert not created and again.pk == source.pk
    assert again.trust_rank == 5 and again.name == "CRM"
    events = list(Event.objects.filter(kind="source.configured"))
    assert [e.payload["created"] for e in events] == [True, False]
    assert events[1].payload == {"source_id": source.pk, "created": False,
                                 "changed": ["trust_rank"]}
    assert "127.0.0.1" not in json.dumps([e.payload for e in events])


def test_configuring_the_same_values_again_writes_nothing(db):
    source_configure(**http_source())
    source_configure(**http_source())
    assert Event.objects.filter(kind="source.configured").count() == 1


def test_unknown_kind_names_the_known_kinds(db):
    errors = refused(**http_source(connector_kind="ftp"))
    assert errors == {"connector_kind": ["unknown kind 'ftp'; known kinds: file, http, sql"]}


def test_missing_setting_is_named_by_its_setting(db):
    errors = refused(**http_source(connector_settings={"token_env": "CRM_TOKEN"}))
    assert errors["connector_settings.base_url"] == ["missing setting"]


def test_secret_setting_must_hold_a_variable_name_not_the_secret(db):
    errors = refused(**http_source(connector_settings={"base_url": "http://x",
                                                       "token_env": "s3cr3t-t0ken!"}))
    assert "connector_settings.token_env" in errors
    assert "s3cr3t" not in json.dumps(errors)


def test_bad_mapping_is_refused_on_field_mapping(db):
    errors = refused(**http_source(field_mapping={"first": "forename"}))
    assert errors["field_mapping"] == ["bad mapping: 'first' maps to unknown attribute "
                                       "'forename'"]
    errors = refused(**http_source(field_mapping={}))
    assert list(errors) == ["field_mapping"]


def test_retain_needs_a_legal_basis(db):
    errors = refused(**http_source(erase_policy="retain"))
    assert list(errors) == ["legal_basis"]
    source, _ = source_configure(**http_source(erase_policy="retain",
                                               legal_basis="tax law: invoices kept 10 years"))
    assert source.erase_policy == "retain"


def test_unknown_setting_and_bad_lists_are_refused(db):
    errors = refused(**http_source(connector_settings={"base_url": "http://x", "colour": "red"},
                                   purposes="sales"))
    assert errors["connector_settings.colour"] == ["unknown setting"]
    assert errors["purposes"] == ["expected a list of non-empty texts"]


def test_push_only_source_needs_no_connector(db):
    source, _ = source_configure(code="shop", connector_kind="", connector_settings={},
                                 field_mapping={}, erase_policy="delete")
    assert not source.has_connector
    errors = refused(code="shop", connector_kind="", connector_settings={"base_url": "x"},
                     field_mapping={}, erase_policy="delete")
    assert list(errors) == ["connector_settings"]


def test_connector_is_cached_until_the_configuration_changes(db):
    connectors_reset()
    source, _ = source_configure(**http_source(connector_settings={"base_url": "http://x"}))
    first = source_connector(source)
    assert source_connector(SourceSystem.objects.get(pk=source.pk)) is first
    source, _ = source_configure(**http_source(connector_settings={"base_url": "http://y"}))
    rebuilt = source_connector(source)
    assert rebuilt is not first and str(rebuilt.client.base_url).startswith("http://y")
    connectors_reset()


# -- the admin --------------------------------------------------------------------------------

@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("steward", "s@example.org", "pw-12345")
    client.force_login(user)
    return client


def admin_form(**overrides) -> dict:
    data = {"code": "crm", "name": "CRM", "trust_rank": "10", "is_active": "on",
            "connector_kind": "http",
            "connector_settings": json.dumps({"base_url": "http://127.0.0.1:9"}),
            "field_mapping": json.dumps(MAPPING), "erase_policy": "delete",
            "legal_basis": "", "purposes": "[]", "data_categories": "[]", "recipients": "[]"}
    return {**data, **overrides}


def form_errors(response) -> dict:
    assert response.status_code == 200, "the form should be shown again with errors"
    form = response.context["adminform"].form
    return {field: list(errors) for field, errors in form.errors.items()}


def test_admin_add_saves_through_the_service(staff_client):
    response = staff_client.post("/admin/hub/sourcesystem/add/", admin_form())
    assert response.status_code == 302
    source = SourceSystem.objects.get(code="crm")
    assert source.field_mapping == MAPPING and source.connector_kind == "http"
    assert Event.objects.filter(kind="source.configured", actor__username="steward").exists()


def test_admin_shows_unknown_kind_on_its_field(staff_client):
    errors = form_errors(staff_client.post("/admin/hub/sourcesystem/add/",
                                           admin_form(connector_kind="ftp")))
    assert errors["connector_kind"] == [
        "Select a valid choice. ftp is not one of the available choices."]
    assert not SourceSystem.objects.exists()


def test_admin_shows_missing_setting_on_the_settings_field(staff_client):
    errors = form_errors(staff_client.post("/admin/hub/sourcesystem/add/",
                                           admin_form(connector_settings="{}")))
    assert errors == {"connector_settings": ["base_url: missing setting"]}


def test_admin_shows_bad_mapping_on_the_mapping_field(staff_client):
    errors = form_errors(staff_client.post(
        "/admin/hub/sourcesystem/add/",
        admin_form(field_mapping=json.dumps({"first": "given_name", "nick": "given_name"}))))
    assert errors == {"field_mapping": ["bad mapping: 'first' and 'nick' both map to "
                                        "'given_name'"]}


def test_admin_change_form_lists_declared_settings_and_keeps_the_code(staff_client):
    source, _ = source_configure(**http_source())
    page = staff_client.get(f"/admin/hub/sourcesystem/{source.pk}/change/").content.decode()
    assert "base_url" in page and "root" in page and "secret" in page
    response = staff_client.post(f"/admin/hub/sourcesystem/{source.pk}/change/",
                                 admin_form(code="other", trust_rank="3"))
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.code == "crm" and source.trust_rank == 3


def test_admin_health_action_reports_a_source_that_is_down(staff_client):
    from tests.connectors.scripted_server import closed_port

    source, _ = source_configure(**http_source(connector_settings={
        "base_url": f"http://127.0.0.1:{closed_port()}"}))
    response = staff_client.post("/admin/hub/sourcesystem/", {
        "action": "check_health", "_selected_action": [source.pk]}, follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 1
    assert shown[0].startswith("crm: failing") and "connection failed" in shown[0]
    connectors_reset()


# -- load_sources -----------------------------------------------------------------------------

def write_sources(tmp_path, *entries) -> str:
    path = tmp_path / "sources.json"
    path.write_text(json.dumps({"sources": list(entries)}))
    return str(path)


def test_load_sources_creates_and_updates(db, tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_CRM_PORT", "8101")
    path = write_sources(tmp_path, http_source(connector_settings={
        "base_url": "http://127.0.0.1:${DEMO_CRM_PORT}", "token_env": "DEMO_CRM_TOKEN"}),
        {"code": "files", "connector_kind": "file", "erase_policy": "anonymise",
         "connector_settings": {"root": "${DEMO_ROOT:-/tmp}", "path": "x.csv", "key_field": "id"},
         "field_mapping": MAPPING})
    out = StringIO()
    call_command("load_sources", path, stdout=out)
    assert out.getvalue().split("\n")[:2] == ["source crm created", "source files created"]
    crm = SourceSystem.objects.get(code="crm")
    assert crm.connector_settings == {"base_url": "http://127.0.0.1:8101",
                                      "token_env": "DEMO_CRM_TOKEN"}
    assert SourceSystem.objects.get(code="files").connector_settings["root"] == "/tmp"
    call_command("load_sources", path, stdout=StringIO())
    assert SourceSystem.objects.count() == 2


def test_load_sources_loads_nothing_when_one_entry_is_bad(db, tmp_path):
    path = write_sources(tmp_path, http_source(),
                         http_source(code="billing", connector_settings={}),
                         http_source(code="shop", connector_kind="ftp"))
    with pytest.raises(CommandError) as caught:
        call_command("load_sources", path, stdout=StringIO())
    message = str(caught.value)
    assert "sources[1] (billing): connector_settings.base_url: missing setting" in message
    assert "sources[2] (shop): connector_kind: unknown kind 'ftp'" in message
    assert not SourceSystem.objects.exists()


def test_load_sources_refuses_substituting_secrets_and_unset_variables(db, tmp_path,
                                                                      monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    path = write_sources(tmp_path, http_source(connector_settings={
        "base_url": "http://h:${NOT_SET_ANYWHERE}", "token_env": "${TOKEN_NAME}"}))
    with pytest.raises(CommandError) as caught:
        call_command("load_sources", path, stdout=StringIO())
    message = str(caught.value)
    assert "environment variable NOT_SET_ANYWHERE is not set" in message
    assert "connector_settings.token_env: secret settings" in message


def test_load_sources_reports_a_malformed_file(db, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"sources": {"code": "crm"}}')
    with pytest.raises(CommandError, match=r'expected \{"sources"'):
        call_command("load_sources", str(path))
    path.write_text("{nope")
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("load_sources", str(path))
