"""The HTTP connector against a real HTTP server on localhost."""

import pytest

from connectors import ConfigurationError, ConnectorError, ErasureRefused, create
from tests.connectors.scripted_server import Reply, ScriptedServer, closed_port

MAPPING = {"firstName": "given_name", "lastName": "family_name", "mail": "email"}
PERSON = {"id": "c-1", "firstName": "Margaret", "lastName": "Okonkwo-Hale", "mail": "m@x.test"}


@pytest.fixture
def server():
    with ScriptedServer() as running:
        yield running


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def make(server, clock, sleeps):
    made = []

    def make_connector(base_url=None, environ=None, **overrides):
        settings = {"base_url": base_url or server.url, "mapping": MAPPING,
                    "connect_timeout": 0.5, "read_timeout": 0.1, "failure_threshold": 50,
                    **overrides}
        made.append(create("http", settings, environ=environ or {}, clock=clock,
                           sleep=sleeps.append))
        return made[-1]

    yield make_connector
    for connector in made:
        connector.close()


def test_fetch_returns_the_record_and_sends_the_token_from_the_environment(server, make):
    server.script("GET", "/customers/c-1", Reply(200, PERSON))
    connector = make(token_env="CRM_TOKEN", environ={"CRM_TOKEN": "s3cret"})

    result = connector.fetch("c-1")

    assert (result.status, result.record, result.error) == ("ok", PERSON, "")
    assert server.seen()[0].headers["authorization"] == "Bearer s3cret"


def test_token_can_come_from_a_file_named_by_a_FILE_variable(server, make, tmp_path):
    (tmp_path / "token").write_text("from-file\n")
    server.script("GET", "/customers/c-1", Reply(200, PERSON))
    connector = make(token_env="CRM_TOKEN", environ={"CRM_TOKEN_FILE": str(tmp_path / "token")})

    connector.fetch("c-1")

    assert server.seen()[0].headers["authorization"] == "Bearer from-file"


def test_missing_token_variable_is_a_configuration_error_naming_it(make):
    with pytest.raises(ConfigurationError, match="CRM_TOKEN"):
        make(token_env="CRM_TOKEN", environ={})


def test_keys_are_url_quoted_so_they_cannot_address_another_resource(server, make):
    server.script("GET", "/customers/a%2F..%2Fadmin%3Fx", Reply(200, PERSON))

    assert make().fetch("a/../admin?x").status == "ok"


def test_record_field_unwraps_an_envelope(server, make):
    server.script("GET", "/customers/c-1", Reply(200, {"data": PERSON}))

    assert make(record_field="data").fetch("c-1").record == PERSON


def test_fetch_many_reports_each_key_on_its_own(server, make):
    server.script("GET", "/customers/c-1", Reply(200, PERSON))

    results = make(retry_attempts=1).fetch_many(["c-1", "c-404"])

    assert [(r.key, r.status) for r in results] == [("c-1", "ok"), ("c-404", "not_found")]


def test_404_is_not_found_and_not_retried(server, make, sleeps):
    server.script("GET", "/customers/c-9", Reply(404, {"detail": "Margaret not here"}))

    result = make().fetch("c-9")

    assert (result.status, result.record) == ("not_found", None)
    assert len(server.seen()) == 1 and sleeps == []


def test_500_then_200_succeeds_on_retry_after_a_jittered_backoff(server, make, sleeps):
    server.script("GET", "/customers/c-1", Reply(500, {"detail": "Margaret broke it"}),
                  Reply(200, PERSON))

    result = make(retry_base_delay=0.2).fetch("c-1")

    assert result.status == "ok"
    assert len(server.seen()) == 2
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.2


def test_persistent_500_gives_an_error_with_the_status_and_no_body(server, make, sleeps):
    server.script("GET", "/customers/c-1", Reply(500, {"detail": "Margaret Okonkwo-Hale"}))

    result = make(retry_attempts=3).fetch("c-1")

    assert result.status == "error" and "HTTP 500" in result.error
    assert "Margaret" not in result.error
    assert len(server.seen()) == 3 and len(sleeps) == 2


def test_429_waits_the_retry_after_the_server_asked_for(server, make, sleeps):
    server.script("GET", "/customers/c-1", Reply(429, headers={"Retry-After": "1"}),
                  Reply(200, PERSON))

    result = make().fetch("c-1")

    assert result.status == "ok"
    assert sleeps == [1.0]


def test_read_timeout_is_reported_as_timeout_after_retries(server, make, sleeps):
    server.script("GET", "/customers/c-1", Reply(200, PERSON, delay=0.3))

    result = make(read_timeout=0.1, retry_attempts=2).fetch("c-1")

    assert result.status == "timeout" and "ReadTimeout" in result.error
    assert len(server.seen()) == 2 and len(sleeps) == 1


def test_connection_refused_is_an_error_and_not_retried(make, sleeps):
    connector = make(base_url=f"http://127.0.0.1:{closed_port()}")

    result = connector.fetch("c-1")

    assert result.status == "error" and "connection failed" in result.error
    assert sleeps == []


def test_malformed_json_is_an_error_that_does_not_echo_the_body(server, make):
    server.script("GET", "/customers/c-1", Reply(200, b'{"firstName": "Margaret", oops'))

    result = make().fetch("c-1")

    assert result.status == "error" and "malformed JSON" in result.error
    assert "Margaret" not in result.error


def test_circuit_opens_after_repeated_failures_and_closes_after_cool_down(server, make, clock):
    server.script("GET", "/customers/c-1", Reply(500), Reply(500), Reply(500), Reply(200, PERSON))
    connector = make(failure_threshold=3, cool_down=30, retry_attempts=1)

    assert [connector.fetch("c-1").status for _ in range(3)] == ["error"] * 3
    refused = connector.fetch("c-1")
    assert refused.status == "circuit_open" and len(server.seen()) == 3

    clock.now += 29
    assert connector.fetch("c-1").status == "circuit_open"
    clock.now += 1
    assert connector.fetch("c-1").status == "ok"
    assert connector.breaker.state == "closed"
    assert connector.fetch("c-1").status == "ok"


def test_a_failed_trial_after_cool_down_reopens_the_circuit(server, make, clock):
    server.script("GET", "/customers/c-1", Reply(503))
    connector = make(failure_threshold=2, cool_down=10, retry_attempts=1)
    connector.fetch("c-1"), connector.fetch("c-1")

    clock.now += 10
    assert connector.fetch("c-1").status == "error"
    assert connector.fetch("c-1").status == "circuit_open"
    assert connector.health().ok is False


def test_list_changes_follows_next_cursors_and_maps_attributes(server, make):
    pages = {
        None: {"data": {"items": [{**PERSON, "v": 3}]}, "meta": {"next": "p2"}},
        "p2": {"data": {"items": [{"id": "c-2", "firstName": "Ann", "v": "1", "gone": True}]},
               "meta": {"next": None}},
    }
    server.script("GET", "/changes", lambda seen: Reply(200, pages[seen.query.get("after")]))
    connector = make(list_path="/changes", cursor_param="after", items_field="data.items",
                     next_cursor_field="meta.next", version_field="v", deleted_field="gone",
                     page_size_param="limit", page_size=1)

    result = list(connector.list_changes())

    assert [page.cursor for page in result] == ["p2", "p2"]
    first, second = result[0].changes[0], result[1].changes[0]
    assert first.attributes == {"given_name": "Margaret", "family_name": "Okonkwo-Hale",
                                "email": "m@x.test"}
    assert (first.key, first.version, first.deleted) == ("c-1", 3, False)
    assert (second.key, second.version, second.deleted) == ("c-2", 1, True)
    assert server.seen()[0].query == {"limit": "1"}
    assert server.seen()[1].query == {"after": "p2", "limit": "1"}


def test_list_changes_resumes_from_a_saved_cursor(server, make):
    server.script("GET", "/customers",
                  lambda seen: Reply(200, {"items": [PERSON] if seen.query else [], "next": None}))

    pages = list(make().list_changes("saved"))

    assert server.seen()[0].query == {"cursor": "saved"}
    assert [page.cursor for page in pages] == ["saved"]


def test_list_changes_raises_on_an_error_page(server, make):
    server.script("GET", "/customers", Reply(500))

    with pytest.raises(Exception, match="HTTP 500"):
        list(make(retry_attempts=1).list_changes())


def test_erase_with_delete_is_retried_on_503(server, make, sleeps):
    server.script("DELETE", "/customers/c-1", Reply(503), Reply(204))

    result = make(erase_policy="delete").erase("c-1")

    assert (result.outcome, result.rows) == ("deleted", 1)
    assert len(server.seen("DELETE")) == 2


def test_post_erase_is_not_retried_unless_declared_idempotent(server, make):
    server.script("POST", "/customers/c-1/anonymise", Reply(500), Reply(200, {}))
    settings = {"erase_policy": "anonymise", "erase_method": "POST",
                "erase_path": "/customers/{key}/anonymise"}

    assert make(**settings).erase("c-1").outcome == "error"
    assert len(server.seen("POST")) == 1
    server.script("POST", "/customers/c-1/anonymise", Reply(500), Reply(200, {}))
    assert make(erase_idempotent=True, **settings).erase("c-1").outcome == "anonymised"


def test_erase_of_an_unknown_key_is_not_found(server, make):
    assert make(erase_policy="delete").erase("c-404").outcome == "not_found"


def test_erase_under_a_retain_policy_is_refused_without_calling_the_source(server, make):
    with pytest.raises(ErasureRefused, match="retain"):
        make(erase_policy="retain").erase("c-1")
    assert server.seen() == []


def test_health_reports_the_status(server, make):
    server.script("GET", "/health", Reply(200, {"ok": True}))

    assert make().health().ok is True
    assert make(health_path="/missing").health().ok is False


def test_settings_problems_are_reported_per_field():
    from connectors import validate

    problems = validate("http", {"base_url": "ftp://x", "mapping": MAPPING,
                                 "fetch_path": "/customers", "read_timeout": "soon"})

    assert ("read_timeout", "expected a float") in problems
    assert validate("http", {"base_url": "ftp://x", "mapping": MAPPING,
                             "fetch_path": "/c"}) == [
        ("fetch_path", "must contain {key}"),
        ("base_url", "must start with http:// or https://"),
    ]


def test_a_retry_after_beyond_the_cap_is_not_waited_for(server, make, sleeps):
    server.script("GET", "/customers/c-1",
                  Reply(429, headers={"Retry-After": "Fri, 31 Dec 2100 23:59:59 GMT"}))

    result = make().fetch("c-1")

    assert (result.status, result.error) == ("error", "HTTP 429")
    assert sleeps == [] and len(server.seen()) == 1


def test_an_empty_page_with_a_new_cursor_hands_back_the_watermark(server, make):
    server.script("GET", "/customers", Reply(200, {"items": [], "next": "w-42"}))

    pages = list(make().list_changes("w-41"))

    assert [(page.changes, page.cursor) for page in pages] == [([], "w-42")]


# -- the erased count -------------------------------------------------------------------------

def test_erase_reads_the_erased_count_the_source_answers(server, make):
    server.script("DELETE", "/customers/c-1", Reply(200, {"result": {"erased": 2}}))

    result = make(erase_policy="delete", erased_count_field="result.erased").erase("c-1")

    assert (result.outcome, result.rows, result.error) == ("deleted", 2, "")


def test_an_erase_answered_with_zero_records_is_an_error_not_success(server, make):
    server.script("POST", "/contacts/c-1/anonymise", Reply(200, {"erased": 0}))
    connector = make(erase_policy="anonymise", erase_method="POST",
                     erase_path="/contacts/{key}/anonymise", erased_count_field="erased")

    result = connector.erase("c-1")

    assert (result.outcome, result.rows) == ("error", 0)
    assert "affected 0 rows" in result.error and "c-1" not in result.error


@pytest.mark.parametrize("body", [{}, {"erased": "1"}, {"erased": True}, {"erased": -1},
                                  b"deleted"])
def test_an_erase_answer_without_a_usable_count_is_an_error(server, make, body):
    server.script("DELETE", "/customers/c-1", Reply(200, body))

    result = make(erase_policy="delete", erased_count_field="erased").erase("c-1")

    assert (result.outcome, result.rows) == ("error", 0)
    assert "c-1" not in result.error


def test_without_a_count_field_any_2xx_counts_as_one_record(server, make):
    server.script("DELETE", "/customers/c-1", Reply(204))

    assert make(erase_policy="delete").erase("c-1").rows == 1


@pytest.mark.parametrize("status", [404, 410])
def test_an_erase_the_source_answers_404_or_410_is_not_found(server, make, status):
    server.script("DELETE", "/customers/c-1", Reply(status, {"detail": "no such customer"}))

    result = make(erase_policy="delete", erased_count_field="erased").erase("c-1")

    assert (result.outcome, result.rows, result.error) == ("not_found", 0, "")


# -- messages carry codes and path templates, never keys --------------------------------------

def test_error_messages_and_codes_name_the_path_template_not_the_key(server, make, sleeps):
    server.script("GET", "/customers/CRM-7731-MOH", Reply(200, PERSON, delay=0.3))
    server.script("DELETE", "/customers/CRM-7731-MOH", Reply(500))
    connector = make(erase_policy="delete", retry_attempts=1, read_timeout=0.1)

    fetched = connector.fetch("CRM-7731-MOH")
    erased = connector.erase("CRM-7731-MOH")
    with pytest.raises(ConnectorError) as refused:
        make(base_url=f"http://127.0.0.1:{closed_port()}").request(
            "GET", "/customers/CRM-7731-MOH", label="/customers/{key}")

    assert (fetched.status, fetched.error) == ("timeout", "GET /customers/{key}: ReadTimeout")
    assert erased.error == "DELETE /customers/{key}: HTTP 500"
    assert str(refused.value) == "GET /customers/{key}: connection failed"
    assert refused.value.code == "connection failed"


def test_an_unreadable_version_in_a_listing_does_not_name_the_item(server, make):
    server.script("GET", "/customers", Reply(200, {"items": [{**PERSON, "v": "three"}]}))

    with pytest.raises(ConnectorError) as caught:
        list(make(version_field="v").list_changes())

    assert "c-1" not in str(caught.value) and caught.value.code == "malformed response"


def test_a_retained_erasure_is_refused_without_naming_the_key(make):
    with pytest.raises(ErasureRefused) as caught:
        make(erase_policy="retain").erase("CRM-7731-MOH")
    assert "CRM-7731-MOH" not in str(caught.value) and caught.value.code == "legal hold"
