"""Registering and configuring source systems: connector, field mapping and privacy policy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from connectors import registry
from connectors.base import ERASE_POLICIES, FieldMapping
from hub.models import SourceSystem
from hub.models.sources import source_code_validator
from hub.services.errors import InvalidInput
from hub.services.events import event_record

# Connector problems are reported by the connectors package against its own setting names; these
# are the fields of a source's configuration that they belong to.
_PROBLEM_FIELDS = {"kind": "connector_kind", "mapping": "field_mapping",
                   "erase_policy": "erase_policy", "settings": "connector_settings"}
# Settings that are columns of their own, not part of ``connector_settings``.
_RESERVED_SETTINGS = ("mapping", "erase_policy")
_LIST_FIELDS = ("purposes", "data_categories", "recipients")


@transaction.atomic
def source_add(*, code: str, name: str = "", actor=None) -> tuple[SourceSystem, bool]:
    """Register a source system by code; idempotent (an existing code is returned unchanged,
    except that a given name replaces the stored one)."""
    try:
        source_code_validator(code)
    except ValidationError as error:
        raise InvalidInput({"code": list(error.messages)}) from error
    source, created = SourceSystem.objects.select_for_update().get_or_create(
        code=code, defaults={"name": name or code})
    if not created and name and source.name != name:
        source.name = name
        source.save(update_fields=["name"])
        event_record(kind="source.renamed", actor=actor, payload={"source_id": source.pk})
    if created:
        event_record(kind="source.added", actor=actor, payload={"source_id": source.pk})
    return source, created


def connector_problems(*, connector_kind: str, connector_settings: Any, field_mapping: Any,
                       erase_policy: str) -> dict[str, list[str]]:
    """Problems with a source's connector configuration, by field (empty when usable).

    A blank ``connector_kind`` describes a source that only pushes through the API: it needs no
    settings, and a mapping is checked only if one is given. Setting problems are named
    ``connector_settings.<setting>`` so that a form or a file loader can point at them.
    """
    errors: dict[str, list[str]] = {}

    def add(field: str, problem: str) -> None:
        if problem not in errors.setdefault(field, []):
            errors[field].append(problem)

    if erase_policy not in ERASE_POLICIES:
        add("erase_policy", f"must be one of {', '.join(ERASE_POLICIES)}")
    if not isinstance(connector_settings, Mapping):
        add("connector_settings", "expected a mapping of setting names to values")
        connector_settings = {}
    for name in _RESERVED_SETTINGS:
        if name in connector_settings:
            add(f"connector_settings.{name}", f"set {_PROBLEM_FIELDS[name]} instead")
    if not connector_kind:
        if connector_settings:
            add("connector_settings", "settings need a connector kind")
        if field_mapping:
            for problem in FieldMapping.problems(field_mapping):
                add("field_mapping", problem)
        return errors
    for problem in FieldMapping.problems(field_mapping):
        add("field_mapping", problem)
    settings = {key: value for key, value in connector_settings.items()
                if key not in _RESERVED_SETTINGS}
    config = {**settings, "mapping": field_mapping,
              "erase_policy": erase_policy if erase_policy in ERASE_POLICIES else None}
    for name, problem in registry.validate(connector_kind, config):
        if name == "mapping":
            continue  # FieldMapping.problems above already said it, in its own words
        add(_PROBLEM_FIELDS.get(name, f"connector_settings.{name}"), problem)
    return errors


def source_problems(*, code: str, name: str | None, trust_rank: Any, connector_kind: str,
                    connector_settings: Any, field_mapping: Any, erase_policy: str,
                    legal_basis: str, purposes: Any, data_categories: Any,
                    recipients: Any) -> dict[str, list[str]]:
    """Every problem with a source's configuration, by field: what ``source_configure`` and
    the admin form refuse."""
    errors: dict[str, list[str]] = {}
    try:
        source_code_validator(code)
    except ValidationError as error:
        errors["code"] = list(error.messages)
    if name is not None and (not isinstance(name, str) or len(name) > 200):
        errors["name"] = ["expected text of at most 200 characters"]
    if trust_rank is not None and (isinstance(trust_rank, bool) or not isinstance(trust_rank, int)
                                   or not 0 <= trust_rank <= 32767):
        errors["trust_rank"] = ["expected a whole number from 0 to 32767"]
    errors.update(connector_problems(
        connector_kind=connector_kind, connector_settings=connector_settings,
        field_mapping=field_mapping, erase_policy=erase_policy))
    if erase_policy == "retain" and not str(legal_basis or "").strip():
        errors.setdefault("legal_basis", []).append(
            "required when the erase policy is 'retain': say why the records are kept")
    for field, value in zip(_LIST_FIELDS, (purposes, data_categories, recipients), strict=True):
        if isinstance(value, str) or not isinstance(value, Iterable) or not all(
                isinstance(item, str) and item.strip() for item in value):
            errors[field] = ["expected a list of non-empty texts"]
    return errors


@transaction.atomic
def source_configure(*, code: str, name: str | None = None, trust_rank: int | None = None,
                     connector_kind: str, connector_settings: Mapping, field_mapping: Mapping,
                     erase_policy: str, legal_basis: str = "", purposes: Iterable[str] = (),
                     data_categories: Iterable[str] = (), recipients: Iterable[str] = (),
                     is_active: bool = True, actor=None) -> tuple[SourceSystem, bool]:
    """Create or update a source system with its connector, field mapping and privacy policy.

    Validated as a whole before anything is written; ``InvalidInput`` names each offending field
    (``connector_settings.base_url``, ``connector_kind``, ``field_mapping``, ``legal_basis``).
    ``name`` and ``trust_rank`` keep their stored values when None. Secrets appear only as the
    names of environment variables (the connector's declared secret settings refuse anything
    else). Changing the configuration does not reset the sync cursor. Returns ``(source,
    created)`` and records ``source.configured`` with the names of the fields that changed.
    """
    purposes, data_categories, recipients = (
        value if isinstance(value, str) else list(value or ())
        for value in (purposes, data_categories, recipients))
    errors = source_problems(
        code=code, name=name, trust_rank=trust_rank, connector_kind=connector_kind,
        connector_settings=connector_settings, field_mapping=field_mapping,
        erase_policy=erase_policy, legal_basis=legal_basis, purposes=purposes,
        data_categories=data_categories, recipients=recipients)
    if errors:
        raise InvalidInput(errors)
    values = {
        "connector_kind": connector_kind or "",
        "connector_settings": dict(connector_settings),
        "field_mapping": dict(field_mapping or {}),
        "erase_policy": erase_policy,
        "legal_basis": legal_basis or "",
        "purposes": purposes, "data_categories": data_categories, "recipients": recipients,
        "is_active": bool(is_active),
    }
    if name is not None:
        values["name"] = name
    if trust_rank is not None:
        values["trust_rank"] = trust_rank
    source = SourceSystem.objects.select_for_update().filter(code=code).first()
    created = source is None
    if created:
        source = SourceSystem(code=code, name=name or code)
    changed = [field for field, value in values.items() if getattr(source, field) != value]
    if created or changed:
        for field, value in values.items():
            setattr(source, field, value)
        source.save()
        event_record(kind="source.configured", actor=actor,
                     payload={"source_id": source.pk, "created": created,
                              "changed": sorted(changed)})
    return source, created
