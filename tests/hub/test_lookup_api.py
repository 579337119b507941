"""Lookups: entity by golden ID, cross-reference by source key, the OpenAPI schema."""

URL = "/api/sources/{source}/records/{key}"


def test_entity_lists_its_cross_references_with_origin_and_score(api, person):
    golden_id = api.put(URL.format(source="crm", key="C1"), person,
                        format="json").json()["golden_id"]
    api.put(URL.format(source="billing", key="B1"), person, format="json")
    body = api.get(f"/api/entities/{golden_id}").json()
    assert body["golden_id"] == golden_id and body["state"] == "active"
    refs = {(r["source"], r["source_key"]): r for r in body["records"]}
    assert set(refs) == {("crm", "C1"), ("billing", "B1")}
    assert refs[("billing", "B1")]["origin"] == "auto"
    assert refs[("billing", "B1")]["outcome"] == "linked"
    assert refs[("billing", "B1")]["score"] > 0


def test_unknown_golden_id_is_404(api):
    assert api.get("/api/entities/GNOSUCHID").status_code == 404


def test_xref_answers_golden_id_and_all_cross_references(api, person):
    golden_id = api.put(URL.format(source="crm", key="C1"), person,
                        format="json").json()["golden_id"]
    api.put(URL.format(source="support", key="S-9"), person, format="json")
    body = api.get("/api/xref/support/S-9").json()
    assert body["golden_id"] == golden_id
    assert {r["source_key"] for r in body["records"]} == {"C1", "S-9"}


def test_xref_of_unknown_key_is_404(api):
    assert api.get("/api/xref/crm/none").status_code == 404


def test_openapi_schema_describes_the_ingest_and_lookup_paths(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/sources/{source}/records/{source_key}" in paths
    assert "/api/entities/{golden_id}" in paths
    assert "/api/xref/{source}/{source_key}" in paths


def test_api_docs_page_is_served_from_local_assets(api):
    response = api.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn.jsdelivr" not in page
