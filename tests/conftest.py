"""Shared fixtures: an API client authenticated with a token, and registered sources."""

import pytest
from rest_framework.test import APIClient

from hub.services.sources import source_add
from hub.services.tokens import token_issue


@pytest.fixture(autouse=True)
def _fresh_frequency_totals():
    """Each test has its own database, so the per-process totals cached for the
    term-frequency adjustment must not leak from one test into the next."""
    from hub.services import term_frequencies

    term_frequencies._totals.clear()
    term_frequencies._common.clear()
    yield
    term_frequencies._totals.clear()
    term_frequencies._common.clear()


@pytest.fixture
def sources(db):
    """The four demo source systems, registered."""
    return {code: source_add(code=code)[0] for code in ("crm", "billing", "support", "webshop")}


@pytest.fixture
def api(db, sources):
    """An API client sending a valid token."""
    key, _ = token_issue(username="app")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def person():
    """Key attributes of one customer as a source would send them."""
    return {
        "given_name": "Margaret",
        "family_name": "Okonkwo-Hale",
        "birth_date": "1984-03-17",
        "email": "m.okonkwo@example-mail.co.uk",
        "phone": "020 7946 0321",
        "address_line": "14 Larkspur Road",
        "locality": "London",
        "postcode": "N7 8QT",
        "country": "GB",
    }
