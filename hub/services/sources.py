"""Registering source systems."""

from django.core.exceptions import ValidationError
from django.db import transaction

from hub.models import SourceSystem
from hub.models.sources import source_code_validator
from hub.services.errors import InvalidInput
from hub.services.events import event_record


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
