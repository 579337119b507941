"""Settling a privacy request: its state follows its steps, and the hub acts when all are done.

* some step not yet tried (pending, running)    -> in progress
* none of those, but a step waiting to retry     -> partially completed (retried on schedule)
* every step answered for good                   -> completed, or partially completed / failed
  when some / all steps ended in error; an erasure then erases the subject in the hub, an
  export assembles its bundle.
"""

from __future__ import annotations

from django.db import transaction

from hub.models import PrivacyRequest, PrivacyStep, SourceRecord
from hub.services.entities import entities_lock
from hub.services.privacy_common import privacy_event
from hub.services.privacy_erasure import other_requests_lock, subject_erase_in_hub
from hub.services.privacy_export import export_bundle_assemble
from hub.services.privacy_steps import privacy_steps_dispatch, steps_create

RequestState = PrivacyRequest.State
StepState = PrivacyStep.State
SETTLING_STATES = (RequestState.IN_PROGRESS, RequestState.PARTIALLY_COMPLETED,
                   RequestState.FAILED)


def _uncovered_records(request: PrivacyRequest) -> list[int]:
    """Active records of the subject that no step covers: they joined while the request ran."""
    covered = {target["record_id"] for step in request.steps.all() for target in step.targets}
    active = SourceRecord.objects.filter(entity_id=request.subject_id,
                                         state=SourceRecord.State.ACTIVE)
    return [pk for pk in active.values_list("pk", flat=True) if pk not in covered]


def _add_counts(previous: dict, fresh: dict) -> dict:
    return {key: previous.get(key, 0) + fresh.get(key, 0) for key in {*previous, *fresh}}


def request_settle(*, request: PrivacyRequest, moment, actor=None) -> None:
    """Recompute the request's state from its steps; call with the request's row locked."""
    if request.state not in SETTLING_STATES:
        return
    states = list(request.steps.values_list("state", flat=True))
    if any(state in (StepState.PENDING, StepState.RUNNING) for state in states):
        new_state = RequestState.IN_PROGRESS
    elif StepState.RETRYING in states:
        new_state = RequestState.PARTIALLY_COMPLETED
    else:
        if request.subject_id:
            if request.kind == PrivacyRequest.Kind.ERASURE:
                other_requests_lock(request)  # the erasure purges them; requests go first
            # Ingest locks an entity before linking into it: holding the lock here means no
            # record can join the subject between this check and the erasure below.
            entities_lock([request.subject_id])
        late = _uncovered_records(request) if request.subject_id else []
        if late:
            steps_create(request=request, moment=moment, record_ids=late)
            transaction.on_commit(lambda: privacy_steps_dispatch(request.pk))
            return request_settle(request=request, moment=moment, actor=actor)
        if request.kind == PrivacyRequest.Kind.ERASURE:
            counts = subject_erase_in_hub(request=request, moment=moment)
            request.hub_erasure = _add_counts(request.hub_erasure or {}, counts)
            request.hub_erased_at = request.hub_erased_at or moment
        else:
            export_bundle_assemble(request=request, moment=moment)
        failed = states.count(StepState.ERROR)
        if not failed:
            new_state = RequestState.COMPLETED
        else:
            new_state = (RequestState.FAILED if failed == len(states)
                         else RequestState.PARTIALLY_COMPLETED)
    changed = new_state != request.state
    request.state = new_state
    if new_state == RequestState.COMPLETED:
        request.completed_at = moment
    request.save()
    if changed:
        counts = {state: states.count(state) for state in sorted(set(states))}
        privacy_event(f"request_{new_state}", request, actor=actor, steps=counts)
