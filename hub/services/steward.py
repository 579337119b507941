"""Steward decisions as services: the one entry point for the workbench, admin and API.

Each function is keyword-only, runs in one transaction (retried after a deadlock), checks the
user's permission (``PermissionDenied``), writes its event and raises ``Conflict`` (naming who
decided and when), ``NotFound`` or ``InvalidInput``. Entities are locked before records, in
golden-ID and id order, so concurrent stewards queue up instead of deadlocking; the one who
comes second finds the state changed and gets a ``Conflict``.

Event kinds: review.claimed, review.released, review.resolved, entity.merged, record.split,
action.undone. Payloads carry IDs only.
"""

from hub.services.steward_entities import entity_merge, record_split
from hub.services.steward_tasks import (
    review_task_claim,
    review_task_release,
    review_task_resolve,
)
from hub.services.steward_undo import UNDOABLE_KINDS, action_undo, event_is_undoable

__all__ = [
    "UNDOABLE_KINDS",
    "action_undo",
    "entity_merge",
    "event_is_undoable",
    "record_split",
    "review_task_claim",
    "review_task_release",
    "review_task_resolve",
]
