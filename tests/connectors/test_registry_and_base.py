"""The registry of kinds, declared settings, secrets from the environment and field mapping."""

import pytest

import connectors
from connectors import (
    ConfigurationError,
    Connector,
    FieldMapping,
    Setting,
    connector_class,
    create,
    kinds,
    register,
    validate,
)
from connectors.base import CAPABILITIES


def test_builtin_kinds_are_found_by_name():
    assert {"http", "sql", "file"} <= set(kinds())
    assert connector_class("http").kind == "http"


def test_unknown_kind_lists_the_known_ones():
    with pytest.raises(ConfigurationError) as raised:
        create("ftp", {})
    assert raised.value.problems[0][0] == "kind"
    assert "unknown kind 'ftp'" in raised.value.problems[0][1]
    assert validate("ftp", {})[0][0] == "kind"


@pytest.mark.parametrize("kind", ["http", "sql", "file"])
def test_every_kind_declares_capabilities_and_settings(kind):
    cls = connector_class(kind)
    assert cls.capabilities <= CAPABILITIES and cls.capabilities
    names = [s.name for s in cls.all_settings()]
    assert len(names) == len(set(names))
    assert all(s.help or not s.secret for s in cls.all_settings())


def test_secret_settings_are_declared_as_such():
    secrets = {kind: sorted(s.name for s in connector_class(kind).all_settings() if s.secret)
               for kind in ("http", "sql", "file")}
    assert secrets == {"http": ["token_env"], "sql": ["dsn_env", "erase_dsn_env"], "file": []}


def test_missing_and_unknown_settings_and_bad_mapping_are_reported_per_field():
    problems = validate("sql", {"mapping": {"fname": "first_name"}, "colour": "blue"})

    assert ("colour", "unknown setting") in problems
    assert ("dsn_env", "missing setting") in problems
    assert ("table", "missing setting") in problems
    assert ("mapping", "bad mapping: 'fname' maps to unknown attribute 'first_name'") in problems


def test_field_mapping_keeps_only_mapped_non_empty_values():
    mapping = FieldMapping({"fn": "given_name", "dob": "birth_date", "pc": "postcode"})
    from datetime import date

    assert mapping.apply({"fn": "Ann", "dob": date(1990, 1, 2), "pc": "", "ssn": "x"}) == {
        "given_name": "Ann", "birth_date": "1990-01-02"}
    with pytest.raises(ConfigurationError):
        FieldMapping({})


def test_settings_typed_as_text_in_a_form_are_coerced():
    assert Setting("n", type=int).parse("5") == 5
    assert Setting("b", type=bool).parse("yes") is True
    with pytest.raises(ValueError):
        Setting("n", type=float).parse("-1")


@pytest.fixture
def forget_test_kinds():
    """Keep kinds registered by a test out of the rest of the session (admin choices etc.)."""
    yield
    connectors.registry._KINDS.pop("test-null", None)


def test_a_new_kind_registers_with_the_decorator(forget_test_kinds):
    @register("test-null")
    class NullConnector(Connector):
        """Answers nothing; proves the registry is open to new kinds."""

        capabilities = frozenset({"health"})

        def fetch_many(self, keys):
            return []

        def list_changes(self, since_cursor=None):
            return iter(())

        def export(self, key):
            self.require("export")

        def erase(self, key):
            self.require("erase")

        def health(self):
            return connectors.HealthResult(True)

    made = create("test-null", {"mapping": {"a": "email"}}, clock=lambda: 0.0)
    assert made.health().ok and "test-null" in kinds()
    with pytest.raises(connectors.ConnectorError, match="do not support export"):
        made.export("1")
    with pytest.raises(ValueError):
        register("test-null")(type("Other", (NullConnector,), {}))
