"""The matching engine, the connectors and the demo systems stay free of Django and the hub."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"django", "rest_framework", "hub"}


def _imported_top_level_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ["linkage", "connectors", "demo_sources"])
def test_package_never_imports_django_or_hub(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    offenders = {str(f.relative_to(ROOT)): sorted(_imported_top_level_modules(f) & FORBIDDEN)
                 for f in files}
    assert {f: names for f, names in offenders.items() if names} == {}


def test_layering_check_detects_a_forbidden_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("from django.db import models\nimport hub.models\n")
    assert _imported_top_level_modules(module) & FORBIDDEN == {"django", "hub"}
