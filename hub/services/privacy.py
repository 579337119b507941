"""Privacy requests: receive, verify, approve, reject, cancel, extend, run and retry.

Each service is one transaction with its ``privacy.*`` event; an action the request's state
does not allow raises Conflict (HTTP 409). Running creates one step per source holding the
subject and starts them after commit (``hub.services.privacy_steps``); the request's state then
follows its steps (``hub.services.privacy_settle``).

    received --verify--> verified --approve--> approved --run--> in progress
        -> completed | partially completed | failed      (retry: partially completed/failed
                                                            -> in progress)
    received / verified / approved --reject--> rejected, --cancel--> cancelled
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from hub.models import PrivacyRequest, PrivacyStep
from hub.services.errors import Conflict, InvalidInput
from hub.services.privacy_common import (
    Clock,
    add_months,
    privacy_event,
    request_lock,
    require_state,
    subject_resolve,
)
from hub.services.privacy_settle import request_settle
from hub.services.privacy_steps import privacy_steps_dispatch, steps_create
from hub.services.privacy_suppression import suppression_key_check

S = PrivacyRequest.State
APPROVE_PERMISSION = "hub.approve_privacyrequest"
MAX_EXTENSION_MONTHS = 2
BEFORE_RUN = (S.RECEIVED, S.VERIFIED, S.APPROVED)
OPEN_STATES = (*BEFORE_RUN, S.IN_PROGRESS, S.PARTIALLY_COMPLETED)


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def privacy_request_receive(*, kind: str, golden_id: str = "", reference: str = "",
                            actor=None, now: Clock = timezone.now) -> PrivacyRequest:
    """Record a new export or erasure request; due one calendar month after receipt.

    The subject may be named now (a golden ID found with ``privacy_subject_search``) or at
    verification. ``reference`` is the channel's own reference, not the person's details.
    """
    if kind not in PrivacyRequest.Kind.values:
        raise InvalidInput({"kind": ["must be export or erasure"]})
    subject = subject_resolve(golden_id) if golden_id else None
    moment = now()
    request = PrivacyRequest.objects.create(
        kind=kind, subject=subject, reference=reference[:100], received_at=moment,
        received_by=_user(actor), due_at=add_months(moment, 1))
    privacy_event("request_received", request, actor=actor, kind=kind)
    return request


@transaction.atomic
def privacy_request_verify(*, request_id: int, method: str, golden_id: str = "", actor=None,
                           now: Clock = timezone.now) -> PrivacyRequest:
    """Record that the requester's identity was checked (and how), naming the subject."""
    request = request_lock(request_id)
    require_state(request, "verify", (S.RECEIVED,))
    if method not in PrivacyRequest.VerificationMethod.values:
        raise InvalidInput({"method": [
            "must be one of " + ", ".join(PrivacyRequest.VerificationMethod.values)]})
    if golden_id:
        request.subject = subject_resolve(golden_id)
    if request.subject_id is None:
        raise InvalidInput({"golden_id": ["name the subject's golden ID"]})
    request.state, request.verification_method = S.VERIFIED, method
    request.verified_at, request.verified_by = now(), _user(actor)
    request.save()
    privacy_event("request_verified", request, actor=actor, method=method)
    return request


@transaction.atomic
def privacy_request_approve(*, request_id: int, actor, now: Clock = timezone.now,
                            ) -> PrivacyRequest:
    """Approve a verified request; an erasure needs a privacy officer (PermissionDenied)."""
    request = request_lock(request_id)
    require_state(request, "approve", (S.VERIFIED,))
    if request.kind == PrivacyRequest.Kind.ERASURE and not (
            actor is not None and actor.has_perm(APPROVE_PERMISSION)):
        raise PermissionDenied("approving an erasure needs the privacy-officer permission")
    request.state, request.approved_at, request.approved_by = S.APPROVED, now(), _user(actor)
    request.save()
    privacy_event("request_approved", request, actor=actor)
    return request


def _close(request_id: int, action: str, state: str, reason: str, actor, now: Clock):
    request = request_lock(request_id)
    require_state(request, action, BEFORE_RUN)
    request.state, request.close_reason = state, reason
    request.closed_at, request.closed_by = now(), _user(actor)
    request.save()
    privacy_event(f"request_{state}", request, actor=actor)
    return request


@transaction.atomic
def privacy_request_reject(*, request_id: int, reason: str, actor=None,
                           now: Clock = timezone.now) -> PrivacyRequest:
    """Refuse a request that has not run (identity not proven, manifestly unfounded, ...)."""
    if not (reason or "").strip():
        raise InvalidInput({"reason": ["a rejection needs a reason"]})
    return _close(request_id, "reject", S.REJECTED, reason.strip(), actor, now)


@transaction.atomic
def privacy_request_cancel(*, request_id: int, reason: str = "", actor=None,
                           now: Clock = timezone.now) -> PrivacyRequest:
    """Withdraw a request that has not run (the person withdrew it, a duplicate, ...)."""
    return _close(request_id, "cancel", S.CANCELLED, (reason or "").strip(), actor, now)


@transaction.atomic
def privacy_request_extend(*, request_id: int, months: int, reason: str, actor=None,
                           now: Clock = timezone.now) -> PrivacyRequest:
    """Push the due date back by whole months, two at most in all, with a recorded reason."""
    request = request_lock(request_id)
    require_state(request, "extend", OPEN_STATES)
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = ["an extension needs a reason"]
    if not isinstance(months, int) or isinstance(months, bool) or months < 1:
        errors["months"] = ["must be a whole number of months, at least 1"]
    elif request.extension_months + months > MAX_EXTENSION_MONTHS:
        errors["months"] = [f"at most {MAX_EXTENSION_MONTHS} months in all; "
                            f"{request.extension_months} already granted"]
    if errors:
        raise InvalidInput(errors)
    request.extension_months += months
    request.extension_reason = "\n".join(
        filter(None, [request.extension_reason, reason.strip()]))
    request.due_at = add_months(request.received_at, 1 + request.extension_months)
    request.extended_at, request.extended_by = now(), _user(actor)
    request.save()
    privacy_event("request_extended", request, actor=actor, months=months,
                  due_at=request.due_at.isoformat())
    return request


@transaction.atomic
def privacy_request_run(*, request_id: int, actor=None, now: Clock = timezone.now,
                        dispatch: bool = True) -> PrivacyRequest:
    """Start an approved request: one step per source holding the subject, run after commit.

    A request that is not approved (unverified, say) cannot run: Conflict. With ``dispatch``
    off the steps wait for the periodic runner (``manage.py run_privacy_steps``).
    """
    request = request_lock(request_id)
    require_state(request, "run", (S.APPROVED,))
    if request.kind == PrivacyRequest.Kind.ERASURE:
        suppression_key_check()  # fail now, not after the sources have erased the person
    # The subject may have been merged since it was named: carry on with the survivor.
    request.subject = subject_resolve(request.subject_id)
    moment = now()
    request.state, request.started_at = S.IN_PROGRESS, moment
    request.save()
    steps = steps_create(request=request, moment=moment)
    privacy_event("request_started", request, actor=actor, steps=len(steps),
                  source_ids=[step.source_id for step in steps])
    request_settle(request=request, moment=moment, actor=actor)
    if dispatch:
        transaction.on_commit(lambda: privacy_steps_dispatch(request.pk))
    return request


@transaction.atomic
def privacy_request_retry_failed(*, request_id: int, actor=None, now: Clock = timezone.now,
                                 dispatch: bool = True) -> PrivacyRequest:
    """Run the steps that ended in error again (and only those), with a fresh retry window."""
    request = request_lock(request_id)
    require_state(request, "retry", (S.PARTIALLY_COMPLETED, S.FAILED))
    failed = request.steps.filter(state=PrivacyStep.State.ERROR)
    if not failed.exists():
        raise Conflict("no failed step to retry")
    count = failed.update(state=PrivacyStep.State.PENDING, next_attempt_at=None,
                          retry_until=None, finished_at=None, last_error="")
    request.state = S.IN_PROGRESS
    request.save()
    privacy_event("request_retried", request, actor=actor, steps=count)
    if dispatch:
        transaction.on_commit(lambda: privacy_steps_dispatch(request.pk))
    return request
