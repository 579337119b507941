"""Small pieces shared by the privacy services: the clock, calendar months, events, locking."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import datetime

from hub.models import Entity, PrivacyRequest
from hub.services.errors import Conflict, NotFound
from hub.services.events import event_record

# Every privacy service takes ``now``: a callable returning an aware datetime, so that tests
# can move time forward instead of sleeping through retry schedules and link expiries.
Clock = Callable[[], datetime]

_HTTP_STATUS = re.compile(r"\bHTTP \d{3}\b")


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus whole calendar months; the day is clamped (31 Jan + 1 month = 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def privacy_event(event_kind: str, request: PrivacyRequest, actor=None, **payload):
    """Write a ``privacy.*`` event about a request: IDs, states and counts only."""
    return event_record(kind=f"privacy.{event_kind}", entity_id=request.subject_id or "",
                        actor=actor, payload={"request_id": request.pk, **payload})


def request_lock(request_id) -> PrivacyRequest:
    """The request's row, locked for the rest of the transaction; NotFound if there is none."""
    request = PrivacyRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise NotFound("no such privacy request")
    return request


def require_state(request: PrivacyRequest, action: str, allowed) -> None:
    """Conflict (HTTP 409) unless the request is in one of the ``allowed`` states."""
    if request.state not in allowed:
        raise Conflict(f"cannot {action} a privacy request that is {request.state}")


def subject_resolve(golden_id: str) -> Entity:
    """The entity a golden ID stands for now: a merged ID resolves to its survivor.

    NotFound for an unknown ID, Conflict for an entity that is already erased.
    """
    entity = Entity.objects.filter(golden_id=golden_id).select_related("merged_into").first()
    if entity is None:
        raise NotFound("no entity with this golden ID")
    if entity.state == Entity.State.MERGED:
        entity = entity.merged_into
    if entity.state == Entity.State.ERASED:
        raise Conflict("this golden ID has been erased")
    return entity


def error_code(text: str, fallback: str) -> str:
    """A short code for a connector's error message, which may quote paths holding keys."""
    text = text or ""
    found = _HTTP_STATUS.search(text)
    if found:
        return found.group(0)
    if "affected 0 rows" in text:
        return "erased zero rows"
    for code in ("connection failed", "circuit open", "timeout"):
        if code in text.casefold():
            return code
    return fallback
