"""Fixtures and helpers shared by the privacy tests (this module holds no tests itself).

Sources are real HTTP servers on localhost (``ScriptedServer``) behind the hub's own HTTP
connector, so the privacy services are exercised through the Connector interface exactly as in
production; time is a ``Clock`` the tests move forward.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission, User

from hub.models import PrivacyRequest
from hub.services import privacy as services
from hub.services.connections import connectors_reset
from hub.services.ingest import record_upsert
from hub.services.sources import source_configure
from tests.connectors.scripted_server import Reply, ScriptedServer

CODES = ("crm", "billing", "support", "webshop")
MAPPING = {"first": "given_name", "last": "family_name"}
SUBJECT_KEYS = {"crm": "CRM-7731-MOH", "billing": "BIL-55102-MOH", "support": "SUP-9917-MOH",
                "webshop": "WEB-40417-MOH"}
OTHER_KEYS = {"crm": "CRM-1200-TJB", "support": "SUP-3005-TJB"}
OTHER_PERSON = {
    "given_name": "Tobias", "family_name": "Janssen-Brook", "birth_date": "1971-11-02",
    "email": "tobias.jb@postbox-mail.de", "phone": "030 1234 5678", "country": "DE",
    "address_line": "Kastanienallee 9", "locality": "Berlin", "postcode": "10435",
}


class Clock:
    """An injectable ``now``: returns the same instant until the test moves it."""

    def __init__(self, start: datetime | None = None):
        self.moment = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta) -> None:
        self.moment += timedelta(**delta)


def configure(code: str, server: ScriptedServer, erase_policy: str = "delete",
              legal_basis: str = "", **connector_settings) -> None:
    """Point a source at a scripted server through the real HTTP connector (one try per call,
    so a failing source costs no sleeping)."""
    source_configure(code=code, connector_kind="http", field_mapping=MAPPING,
                     erase_policy=erase_policy, legal_basis=legal_basis,
                     purposes=[f"{code} purposes"], data_categories=["contact details"],
                     recipients=[f"{code} team"],
                     connector_settings={"base_url": server.url, "retry_attempts": 1,
                                         **connector_settings})


def erase_path(code: str, key: str) -> str:
    return f"/customers/{key}"


@pytest.fixture
def privacy_settings(settings):
    settings.PRIVACY_HMAC_KEY = "test-suppression-key"
    settings.CELERY_BROKER_URL = ""
    settings.PRIVACY_RETRY_BASE_SECONDS = 60.0
    settings.PRIVACY_RETRY_MAX_SECONDS = 3600.0
    settings.PRIVACY_RETRY_WINDOW_HOURS = 24.0
    settings.PRIVACY_EXPORT_TTL_DAYS = 7.0
    return settings


@pytest.fixture
def servers(privacy_settings):
    """One scripted HTTP source per code, each configured as the source's connector."""
    connectors_reset()
    with ExitStack() as stack:
        running = {code: stack.enter_context(ScriptedServer()) for code in CODES}
        yield running
    connectors_reset()


@pytest.fixture
def subject(api, servers, person):
    """The data subject with one record in each of the four sources, plus another person."""
    for code, server in servers.items():
        configure(code, server)
        golden_id = record_upsert(source_code=code, source_key=SUBJECT_KEYS[code],
                                  attributes=person).golden_id
    for code, key in OTHER_KEYS.items():
        record_upsert(source_code=code, source_key=key, attributes=OTHER_PERSON)
    return golden_id


def make_user(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        content_type__app_label="hub", codename__in=codenames))
    return User.objects.get(pk=user.pk)  # a fresh instance: no stale permission cache


@pytest.fixture
def officer(db):
    """A privacy officer: may open, act on and approve privacy requests."""
    return make_user("officer", "view_privacyrequest", "change_privacyrequest",
                     "add_privacyrequest", "approve_privacyrequest")


def approved_request(kind: str, golden_id: str, officer, clock) -> PrivacyRequest:
    """A request received, verified and approved by the officer, ready to run."""
    request = services.privacy_request_receive(kind=kind, golden_id=golden_id, actor=officer,
                                               reference="TICKET-88", now=clock)
    services.privacy_request_verify(request_id=request.pk, method="identity_document",
                                    actor=officer, now=clock)
    return services.privacy_request_approve(request_id=request.pk, actor=officer, now=clock)


def run_request(kind: str, golden_id: str, officer, clock) -> tuple[PrivacyRequest, int]:
    """Approve a request, start it and run the steps due now, as a worker would; returns the
    request as it then stands and how many steps ran."""
    from hub.services.privacy_steps import privacy_steps_run_due

    request = approved_request(kind, golden_id, officer, clock)
    services.privacy_request_run(request_id=request.pk, actor=officer, now=clock,
                                 dispatch=False)
    ran = privacy_steps_run_due(now=clock)
    request.refresh_from_db()
    return request, ran


def script_erase(server: ScriptedServer, key: str, *replies: Reply) -> None:
    server.script("DELETE", f"/customers/{key}", *(replies or (Reply(204),)))


def script_export(server: ScriptedServer, key: str, record: dict) -> None:
    server.script("GET", f"/customers/{key}", Reply(200, record))
