"""Export: every linked source record fetched live plus the hub's data, as JSON and as a page,
behind a link that answers 410 (and whose bundle is deleted) once it expires."""

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from hub.models import Decision, Event, PrivacyRequest, PrivacyStep, SourceRecord
from hub.services import privacy as services
from hub.services.privacy_export import ExportExpired, privacy_export_download
from hub.services.privacy_steps import privacy_steps_run_due
from tests.connectors.scripted_server import Reply
from tests.hub.test_privacy_support import (
    CODES,
    SUBJECT_KEYS,
    Clock,
    approved_request,
    run_request,
    script_export,
)

RECORDS = {code: {"id": SUBJECT_KEYS[code], "first": "Margaret", "note": f"{code} extra",
                  "orders": [{"id": 1, "total": 12.5}]} for code in CODES}


def run_export(golden_id, servers, officer, clock):
    for code in CODES:
        script_export(servers[code], SUBJECT_KEYS[code], RECORDS[code])
    request = approved_request("export", golden_id, officer, clock)
    services.privacy_request_run(request_id=request.pk, actor=officer, now=clock,
                                 dispatch=False)
    privacy_steps_run_due(now=clock)
    request.refresh_from_db()
    return request


def test_the_bundle_holds_every_linked_source_record_and_the_hubs_data(
        servers, subject, officer, person):
    records = list(SourceRecord.objects.filter(entity_id=subject).order_by("pk"))
    Decision.objects.create(record_a=records[0], record_b=records[1], verdict="same")
    request = run_export(subject, servers, officer, Clock())

    assert request.state == PrivacyRequest.State.COMPLETED
    bundle = request.export_bundle
    assert bundle["hub"]["golden_id"] == subject
    xrefs = {x["source"]: x for x in bundle["hub"]["cross_references"]}
    assert {code: x["source_key"] for code, x in xrefs.items()} == SUBJECT_KEYS
    assert xrefs["crm"]["key_attributes"]["email"] == person["email"]
    assert bundle["hub"]["decisions"][0]["verdict"] == "same"
    sources = {block["source"]: block for block in bundle["sources"]}
    assert set(sources) == set(CODES)
    for code in CODES:
        assert sources[code]["records"] == [{"source_key": SUBJECT_KEYS[code],
                                             "status": "exported", "record": RECORDS[code]}]
        assert sources[code]["purposes"] == [f"{code} purposes"]
        assert sources[code]["recipients"] == [f"{code} team"]
        assert sources[code]["data_categories"] == ["contact details"]
    # The fetched records live in the bundle only, not in the steps any more.
    assert not PrivacyStep.objects.filter(request=request, result__isnull=False).exists()


def test_the_download_link_serves_json_and_a_readable_page(api, servers, subject, officer):
    request = run_export(subject, servers, officer, Clock(timezone.now()))
    url = f"/api/privacy-requests/exports/{request.export_token}"
    anonymous = api.__class__()  # the data subject has no account: the token is the key

    answer = anonymous.get(url)
    page = anonymous.get(url + "?view=html")

    assert answer.status_code == 200
    assert answer.json()["hub"]["golden_id"] == subject
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    for code in CODES:
        assert SUBJECT_KEYS[code] in html and f"{code} extra" in html and f"{code} team" in html
    assert anonymous.get("/api/privacy-requests/exports/not-a-token").status_code == 404
    assert Event.objects.filter(kind="privacy.export_downloaded").count() == 2


def test_after_expiry_the_link_answers_410_and_the_bundle_is_deleted(
        api, servers, subject, officer):
    eight_days_ago = Clock(timezone.now() - timedelta(days=8))
    request = run_export(subject, servers, officer, eight_days_ago)
    assert request.export_expires_at == eight_days_ago() + timedelta(days=7)

    answer = api.get(f"/api/privacy-requests/exports/{request.export_token}")

    assert answer.status_code == 410
    request.refresh_from_db()
    assert request.export_bundle is None and request.export_purged_at is not None


def test_the_purge_command_deletes_expired_bundles_only(servers, subject, officer):
    clock = Clock()
    expired = run_export(subject, servers, officer, Clock(timezone.now() - timedelta(days=9)))
    fresh = run_export(subject, servers, officer, Clock(timezone.now()))

    call_command("purge_privacy_exports")

    expired.refresh_from_db()
    fresh.refresh_from_db()
    assert expired.export_bundle is None and fresh.export_bundle is not None
    clock.moment = fresh.export_expires_at - timedelta(seconds=1)
    assert privacy_export_download(token=fresh.export_token, now=clock)["request_id"] == fresh.pk
    clock.advance(seconds=1)
    try:
        privacy_export_download(token=fresh.export_token, now=clock)
        raise AssertionError("an expired link must not serve the bundle")
    except ExportExpired:
        pass
    fresh.refresh_from_db()
    assert fresh.export_bundle is None


def test_a_source_that_is_down_is_retried_and_the_bundle_waits_for_it(
        servers, subject, officer):
    clock = Clock()
    for code in CODES:
        script_export(servers[code], SUBJECT_KEYS[code], RECORDS[code])
    servers["support"].script("GET", f"/customers/{SUBJECT_KEYS['support']}", Reply(503))
    request, _ = run_request("export", subject, officer, clock)
    assert request.state == PrivacyRequest.State.PARTIALLY_COMPLETED
    assert request.export_bundle is None

    script_export(servers["support"], SUBJECT_KEYS["support"], RECORDS["support"])
    clock.advance(hours=1)
    privacy_steps_run_due(now=clock)

    request.refresh_from_db()
    assert request.state == PrivacyRequest.State.COMPLETED
    assert {b["source"]: b["records"][0]["record"] for b in request.export_bundle["sources"]
            } == RECORDS
    fetched = {code: len(servers[code].seen("GET", f"/customers/{SUBJECT_KEYS[code]}"))
               for code in CODES}
    assert fetched == {"crm": 1, "billing": 1, "webshop": 1, "support": 2}
