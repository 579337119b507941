"""The privacy-request API: state machine (every illegal transition is 409), permissions, due
dates and extensions, subject search, background execution and the periodic runner."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from hub.models import PrivacyRequest, PrivacyStep
from hub.services import privacy as services
from hub.services.errors import Conflict
from tests.hub.test_privacy_support import (
    CODES,
    SUBJECT_KEYS,
    Clock,
    approved_request,
    make_user,
    script_erase,
)

S = PrivacyRequest.State
ACTIONS = {
    "verify": {"method": "identity_document"},
    "approve": {},
    "reject": {"reason": "identity not proven"},
    "cancel": {"reason": "withdrawn"},
    "run": {},
    "retry": {},
    "extend": {"months": 1, "reason": "complex request"},
}
ALLOWED = {
    "verify": {S.RECEIVED},
    "approve": {S.VERIFIED},
    "reject": {S.RECEIVED, S.VERIFIED, S.APPROVED},
    "cancel": {S.RECEIVED, S.VERIFIED, S.APPROVED},
    "run": {S.APPROVED},
    "retry": {S.PARTIALLY_COMPLETED, S.FAILED},
    "extend": {S.RECEIVED, S.VERIFIED, S.APPROVED, S.IN_PROGRESS, S.PARTIALLY_COMPLETED},
}


@pytest.fixture
def client_for(db):
    def build(user):
        client = APIClient()
        client.force_authenticate(user)
        return client
    return build


@pytest.fixture
def officer_api(client_for, officer):
    return client_for(officer)


def open_request(api, golden_id, kind="erasure"):
    answer = api.post("/api/privacy-requests/", {"kind": kind, "golden_id": golden_id},
                      format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()


def act(api, request_id, action, body=None):
    return api.post(f"/api/privacy-requests/{request_id}/{action}",
                    ACTIONS[action] if body is None else body, format="json")


@pytest.mark.parametrize("state", list(S.values))
def test_every_illegal_transition_answers_409(officer_api, subject, state):
    request_id = open_request(officer_api, subject)["id"]
    PrivacyRequest.objects.filter(pk=request_id).update(state=state)
    for action, allowed in ALLOWED.items():
        if state in allowed:
            continue
        answer = act(officer_api, request_id, action)
        assert answer.status_code == 409, (state, action, answer.content)
        assert PrivacyRequest.objects.get(pk=request_id).state == state


def test_the_legal_path_received_verified_approved_running_completed(
        officer_api, servers, subject, django_capture_on_commit_callbacks):
    for code in CODES:
        script_erase(servers[code], SUBJECT_KEYS[code])
    created = open_request(officer_api, subject)
    assert created["state"] == "received" and created["received_by"] == "officer"

    assert act(officer_api, created["id"], "verify").json()["state"] == "verified"
    assert act(officer_api, created["id"], "approve").json()["state"] == "approved"
    with django_capture_on_commit_callbacks(execute=True):
        # No broker configured: the steps run in-process once the transaction commits.
        assert act(officer_api, created["id"], "run").status_code == 200

    body = officer_api.get(f"/api/privacy-requests/{created['id']}").json()
    assert body["state"] == "completed"
    assert {s["source"]: (s["state"], s["attempts"], s["rows_affected"]) for s in body["steps"]
            } == {code: ("done", 1, 1) for code in CODES}
    assert body["verified_by"] == body["approved_by"] == "officer"
    assert body["hub_erasure"]["records"] == 4


def test_an_unverified_request_cannot_run(officer_api, subject):
    request_id = open_request(officer_api, subject)["id"]
    assert act(officer_api, request_id, "run").status_code == 409
    assert act(officer_api, request_id, "approve").status_code == 409
    assert not PrivacyStep.objects.filter(request_id=request_id).exists()


def test_erasure_approval_needs_the_privacy_officer_permission(client_for, subject, officer):
    clerk = make_user("clerk", "view_privacyrequest", "change_privacyrequest")
    clerk_api = client_for(clerk)
    request_id = open_request(clerk_api, subject)["id"]
    act(clerk_api, request_id, "verify")
    assert act(clerk_api, request_id, "approve").status_code == 403
    assert PrivacyRequest.objects.get(pk=request_id).state == S.VERIFIED
    assert act(client_for(officer), request_id, "approve").status_code == 200
    export_id = open_request(clerk_api, subject, kind="export")["id"]
    act(clerk_api, export_id, "verify")
    assert act(clerk_api, export_id, "approve").status_code == 200  # exports need no officer


def test_users_without_privacy_permissions_are_refused(client_for, subject):
    app_api = client_for(make_user("shop-app"))
    assert app_api.get("/api/privacy-requests/").status_code == 403
    answer = app_api.post("/api/privacy-requests/", {"kind": "erasure", "golden_id": subject},
                          format="json")
    assert answer.status_code == 403


def test_the_privacy_officer_group_carries_the_approval_permission(db):
    group = Group.objects.get(name="privacy_officer")
    assert group.permissions.filter(codename="approve_privacyrequest").exists()
    assert Permission.objects.get(codename="approve_privacyrequest").content_type.model == (
        "privacyrequest")


def test_due_one_calendar_month_after_receipt_and_extended_two_months_at_most(
        subject, officer):
    clock = Clock(datetime(2027, 1, 31, 12, 0, tzinfo=UTC))
    request = services.privacy_request_receive(kind="export", golden_id=subject, now=clock)
    assert request.due_at == datetime(2027, 2, 28, 12, 0, tzinfo=UTC)

    from hub.services.errors import InvalidInput

    with pytest.raises(InvalidInput) as no_reason:
        services.privacy_request_extend(request_id=request.pk, months=1, reason=" ", now=clock)
    assert "reason" in no_reason.value.errors
    with pytest.raises(InvalidInput):
        services.privacy_request_extend(request_id=request.pk, months=3, reason="x", now=clock)
    extended = services.privacy_request_extend(request_id=request.pk, months=1, actor=officer,
                                               reason="many sources", now=clock)
    assert extended.due_at == datetime(2027, 3, 31, 12, 0, tzinfo=UTC)
    extended = services.privacy_request_extend(request_id=request.pk, months=1, actor=officer,
                                               reason="a source is migrating", now=clock)
    assert extended.due_at == datetime(2027, 4, 30, 12, 0, tzinfo=UTC)
    assert extended.extension_reason == "many sources\na source is migrating"
    assert extended.extended_by == officer
    with pytest.raises(InvalidInput) as too_long:
        services.privacy_request_extend(request_id=request.pk, months=1, reason="x", now=clock)
    assert "at most 2 months" in too_long.value.errors["months"][0]


def test_extend_without_reason_answers_400(officer_api, subject):
    request_id = open_request(officer_api, subject)["id"]
    answer = act(officer_api, request_id, "extend", {"months": 1})
    assert answer.status_code == 400 and "reason" in answer.json()


def test_subject_search_by_attributes_and_by_golden_id(officer_api, subject, person):
    by_attributes = officer_api.post("/api/privacy-requests/subject-search", {
        "attributes": {"given_name": person["given_name"], "family_name": person["family_name"],
                       "email": person["email"], "birth_date": person["birth_date"]}},
        format="json")
    by_id = officer_api.post("/api/privacy-requests/subject-search", {"golden_id": subject},
                             format="json")

    assert by_attributes.status_code == 200
    best = by_attributes.json()[0]
    assert best["golden_id"] == subject and best["band"] in ("auto_link", "review")
    assert best["sources"] == sorted(CODES) and best["record_count"] == 4
    assert by_id.json()[0]["golden_id"] == subject
    bad = officer_api.post("/api/privacy-requests/subject-search",
                           {"attributes": {"birth_date": "1984-02-31"}}, format="json")
    assert bad.status_code == 400 and "birth_date" in bad.json()


def test_a_restart_loses_nothing_the_runner_picks_up_due_and_abandoned_steps(
        servers, subject, officer):
    for code in CODES:
        script_erase(servers[code], SUBJECT_KEYS[code])
    request = approved_request("erasure", subject, officer, Clock(timezone.now()))
    # The process died right after committing: nothing was dispatched.
    services.privacy_request_run(request_id=request.pk, actor=officer, dispatch=False)
    # One worker even died mid-call, long ago: its step is still marked running.
    PrivacyStep.objects.filter(request=request, source__code="crm").update(
        state=PrivacyStep.State.RUNNING, attempts=1,
        last_attempt_at=timezone.now() - timedelta(hours=2))

    call_command("run_privacy_steps")

    request.refresh_from_db()
    assert request.state == S.COMPLETED
    assert PrivacyStep.objects.get(request=request, source__code="crm").attempts == 2


def test_with_a_broker_the_steps_run_as_a_celery_task(
        servers, subject, officer, settings, django_capture_on_commit_callbacks):
    from celery.signals import task_prerun

    from hub.celery import app

    for code in CODES:
        script_erase(servers[code], SUBJECT_KEYS[code])
    settings.CELERY_BROKER_URL = "memory://"
    ran = []

    def record(sender=None, args=None, **kwargs):
        ran.append((sender.name, tuple(args or ())))

    task_prerun.connect(record, weak=False)
    app.conf.task_always_eager = True  # run the queued task here instead of on a worker
    try:
        request = approved_request("erasure", subject, officer, Clock(timezone.now()))
        with django_capture_on_commit_callbacks(execute=True):
            services.privacy_request_run(request_id=request.pk, actor=officer)
    finally:
        app.conf.task_always_eager = False
        task_prerun.disconnect(record)
    request.refresh_from_db()
    assert ran == [("hub.tasks.privacy_request_steps_run", (request.pk,))]
    assert request.state == S.COMPLETED


def test_a_merged_subject_is_followed_to_its_survivor_and_an_erased_one_refused(
        subject, officer):
    from hub.models import Entity

    Entity.objects.filter(pk=subject).update(state=Entity.State.ERASED)
    with pytest.raises(Conflict):
        services.privacy_request_receive(kind="erasure", golden_id=subject, actor=officer)
