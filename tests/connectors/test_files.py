"""The file connector on CSV and JSON Lines exports, and its refusal to leave its root."""

import json

import pytest

from connectors import ConnectorError, ErasureRefused, create, validate
from connectors.files import resolve_inside

MAPPING = {"first": "given_name", "last": "family_name", "mail": "email"}
CSV = (
    "id,first,last,mail,changed,ver\n"
    "w-1,Margaret,Okonkwo-Hale,m@x.test,2026-01-02T00:00:00,2\n"
    "w-2,Ann,Lee,,2026-01-01T00:00:00,1\n"
    "w-3,Piotr,Wojciechowski,p@x.test,2026-01-02T00:00:00,5\n"
)


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "exports"
    root.mkdir()
    (root / "shop.csv").write_text(CSV)
    lines = [{"id": "j-1", "first": "Margaret", "mail": "m@x.test"},
             {"id": "j-2", "first": "Ann", "last": "Lee"}]
    (root / "shop.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return root


def connector(root, path="shop.csv", **overrides):
    return create("file", {"root": str(root), "path": path, "key_field": "id",
                           "mapping": MAPPING, **overrides})


def test_csv_fetch_finds_records_by_key(root):
    results = connector(root).fetch_many(["w-2", "w-9"])

    assert [r.status for r in results] == ["ok", "not_found"]
    assert results[0].record["last"] == "Lee"


def test_jsonl_fetch_and_export(root):
    assert connector(root, "shop.jsonl").fetch("j-1").record["mail"] == "m@x.test"
    assert connector(root, "shop.jsonl").export("j-2").record == {"id": "j-2", "first": "Ann",
                                                                    "last": "Lee"}


def test_list_changes_in_file_order_resumes_and_restarts_on_a_new_export(root):
    pages = list(connector(root, page_size=2).list_changes())
    assert [[c.key for c in p.changes] for p in pages] == [["w-1", "w-2"], ["w-3"]]
    assert pages[0].changes[1].attributes == {"given_name": "Ann", "family_name": "Lee"}

    resumed = list(connector(root, page_size=2).list_changes(pages[0].cursor))
    assert [c.key for p in resumed for c in p.changes] == ["w-3"]
    assert list(connector(root).list_changes(pages[-1].cursor)) == []

    (root / "shop.csv").write_text(CSV + "w-4,Ben,Ode,,2026-01-03T00:00:00,1\n")
    fresh = list(connector(root).list_changes(pages[-1].cursor))
    assert [c.key for p in fresh for c in p.changes] == ["w-1", "w-2", "w-3", "w-4"]


def test_list_changes_by_updated_at_with_versions(root):
    source = connector(root, updated_at_field="changed", version_field="ver", page_size=2)

    pages = list(source.list_changes())

    assert [[(c.key, c.version) for c in p.changes] for p in pages] == [
        [("w-2", 1), ("w-1", 2)], [("w-3", 5)]]
    resumed = list(source.list_changes(pages[0].cursor))
    assert [c.key for p in resumed for c in p.changes] == ["w-3"]


def test_jsonl_list_changes(root):
    changes = [c for p in connector(root, "shop.jsonl").list_changes() for c in p.changes]

    assert [(c.key, c.attributes) for c in changes] == [
        ("j-1", {"given_name": "Margaret", "email": "m@x.test"}),
        ("j-2", {"given_name": "Ann", "family_name": "Lee"}),
    ]


def test_erase_deletes_or_anonymises_by_rewriting_the_file(root):
    assert connector(root, erase_policy="delete").erase("w-1").outcome == "deleted"
    assert "Margaret" not in (root / "shop.csv").read_text()

    result = connector(root, "shop.jsonl", erase_policy="anonymise").erase("j-2")
    assert (result.outcome, result.rows) == ("anonymised", 1)
    assert connector(root, "shop.jsonl").fetch("j-2").record == {"id": "j-2", "first": None,
                                                                   "last": None}
    assert connector(root, erase_policy="delete").erase("w-9").outcome == "not_found"


def test_erase_under_retain_policy_is_refused(root):
    with pytest.raises(ErasureRefused):
        connector(root).erase("w-1")


@pytest.mark.parametrize("path", ["../etc/passwd", "sub/../../secret.csv", "/etc/passwd"])
def test_paths_escaping_the_root_are_refused_in_settings_and_at_use(root, path):
    problems = validate("file", {"root": str(root), "path": path, "key_field": "id",
                                 "mapping": MAPPING, "format": "csv"})
    assert [name for name, _ in problems] == ["path"]
    with pytest.raises(ConnectorError, match="path refused"):
        resolve_inside(root, path)


def test_a_symlink_pointing_outside_the_root_is_refused(root, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text(CSV)
    (root / "link.csv").symlink_to(outside)

    source = connector(root, "link.csv")

    assert source.fetch("w-1").status == "error"
    assert "outside the configured root" in source.fetch("w-1").error
    assert source.health().ok is False
    with pytest.raises(ConnectorError, match="path refused"):
        list(source.list_changes())


def test_a_symlink_inside_the_root_is_allowed(root):
    (root / "latest.csv").symlink_to(root / "shop.csv")

    assert connector(root, "latest.csv").fetch("w-1").status == "ok"


def test_health_and_missing_file(root):
    assert connector(root).health().ok is True
    missing = connector(root, "gone.csv")
    assert missing.health().ok is False
    assert missing.fetch("w-1").error == "cannot read the source file (FileNotFoundError)"


def test_malformed_jsonl_names_the_line_not_its_content(root):
    (root / "bad.jsonl").write_text('{"id": "j-1"}\n{"id": "Margaret\n')

    result = connector(root, "bad.jsonl").fetch("j-1")

    assert result.status == "error" and result.error == "line 2: malformed JSON"


def test_unknown_extension_needs_an_explicit_format(root):
    problems = validate("file", {"root": str(root), "path": "shop.txt", "key_field": "id",
                                 "mapping": MAPPING})
    assert problems == [("format", "cannot tell from the extension; set csv or jsonl")]
