"""Administration commands for scripts and operators are idempotent."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from hub.models import SourceSystem


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_add_source_registers_once(db):
    assert run("add_source", "crm", "--name", "Sales CRM") == "source crm added"
    assert run("add_source", "crm") == "source crm already registered"
    assert SourceSystem.objects.get().name == "Sales CRM"


def test_add_source_refuses_a_bad_code(db):
    with pytest.raises(CommandError, match="code"):
        run("add_source", "Bad Code!")
    assert not SourceSystem.objects.exists()


def test_issue_token_is_idempotent_and_the_token_works(db):
    token = run("issue_token", "shop-app")
    assert run("issue_token", "shop-app") == token
    run("add_source", "webshop")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.put("/api/sources/webshop/records/W1", {"given_name": "Ann"},
                          format="json")
    assert response.status_code == 201
