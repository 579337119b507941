"""``manage.py load_sources FILE.json``: create or update source systems from a file.

The file holds ``{"sources": [{"code": ..., "connector_kind": ..., "connector_settings": {...},
"field_mapping": {...}, "erase_policy": ..., ...}]}``. In connector settings that are not
secret, text may contain ``${VAR}`` or ``${VAR:-default}``, replaced from the environment when
the file is loaded (ports, paths, hosts). Secret settings hold an environment variable's name and
are never substituted. All sources are loaded in one transaction: one bad entry loads none.
"""

import json
import os
import re

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from connectors import registry
from connectors.base import ConfigurationError
from hub.services.errors import InvalidInput
from hub.services.sources import source_configure

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_FIELDS = {"code", "name", "trust_rank", "connector_kind", "connector_settings",
           "field_mapping", "erase_policy", "legal_basis", "purposes", "data_categories",
           "recipients", "is_active"}


class _Rollback(Exception):
    """Raised inside the transaction to undo a partly loaded file."""


def substitute(kind: str, settings, environ=os.environ) -> tuple[dict, dict]:
    """Settings with ``${VAR}`` replaced in non-secret text, and problems by field."""
    if not isinstance(settings, dict):
        return settings, {}
    try:
        secret = {s.name for s in registry.connector_class(kind).all_settings() if s.secret}
    except ConfigurationError:
        secret = set()  # unknown kind: source_configure names the problem
    result, problems = {}, {}

    def replace(match, name):
        variable, default = match.group(1), match.group(2)
        if variable in environ:
            return environ[variable]
        if default is not None:
            return default
        problems.setdefault(f"connector_settings.{name}", []).append(
            f"environment variable {variable} is not set")
        return match.group(0)

    for name, value in settings.items():
        if isinstance(value, str) and _PLACEHOLDER.search(value):
            if name in secret:
                problems.setdefault(f"connector_settings.{name}", []).append(
                    "secret settings name an environment variable; ${...} is not substituted")
            else:
                value = _PLACEHOLDER.sub(lambda m, n=name: replace(m, n), value)
        result[name] = value
    return result, problems


class Command(BaseCommand):
    help = "Create or update source systems from a JSON file, all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help='JSON file: {"sources": [...]}')

    def handle(self, *args, file, **options):
        try:
            with open(file, encoding="utf-8") as handle:
                document = json.load(handle)
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}") from None
        except ValueError as error:
            raise CommandError(f"{file} is not valid JSON: {error}") from None
        entries = document.get("sources") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise CommandError(f'{file}: expected {{"sources": [...]}}')
        problems, loaded = [], []
        try:
            with transaction.atomic():
                for index, entry in enumerate(entries):
                    label = f"sources[{index}]"
                    if isinstance(entry, dict) and isinstance(entry.get("code"), str):
                        label += f" ({entry['code']})"
                    errors = self._load_one(entry, loaded)
                    problems += [f"{label}: {field}: {message}"
                                 for field, messages in errors.items() for message in messages]
                if problems:
                    raise _Rollback
        except _Rollback:
            raise CommandError("nothing was loaded:\n  " + "\n  ".join(problems)) from None
        for source, created in loaded:
            self.stdout.write(f"source {source.code} {'created' if created else 'updated'}")

    def _load_one(self, entry, loaded) -> dict:
        if not isinstance(entry, dict):
            return {"source": ["expected an object"]}
        unknown = sorted(set(entry) - _FIELDS)
        if unknown:
            return {name: ["unknown field"] for name in unknown}
        missing = [name for name in ("code", "connector_kind", "erase_policy") if name not in entry]
        if missing:
            return {name: ["required"] for name in missing}
        values = {"connector_settings": {}, "field_mapping": {}, **entry}
        values["connector_settings"], errors = substitute(
            values["connector_kind"], values["connector_settings"])
        if errors:
            return errors
        try:
            loaded.append(source_configure(**values))
        except InvalidInput as error:
            return error.errors
        return {}
