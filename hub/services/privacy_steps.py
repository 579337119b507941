"""Running the per-source steps of privacy requests: claim, call the source, record, retry.

A step is claimed with a conditional UPDATE (so two workers never run it together), the source
is called outside any transaction (a slow source must not hold locks), and the answer is
recorded in one transaction with its event, after which the request's state is settled.
Transient failures are retried on a schedule stored in the step (exponential backoff with
jitter) until the step's retry window ends; because the schedule lives in the database, a
restart of the workers loses nothing: ``manage.py run_privacy_steps`` or the Celery beat entry
simply runs whatever is due.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from connectors.base import CircuitOpen, ConfigurationError, ConnectorError, ErasureRefused
from hub.models import PrivacyRequest, PrivacyStep, SourceRecord
from hub.services.connections import NoConnector, source_connector
from hub.services.privacy_common import Clock, error_code, privacy_event, request_lock

State = PrivacyStep.State
DUE_STATES = (State.PENDING, State.RETRYING)
ERASED_OUTCOMES = ("deleted", "anonymised")
_rng = random.Random()


@dataclass
class Attempt:
    """What one attempt at a source came to; ``kind`` is final, transient or permanent."""

    kind: str  # "finished" | "skipped" | "transient" | "permanent"
    targets: list[dict]
    error: str = ""
    skip_reason: str = ""
    skip_detail: str = ""
    records: dict = field(default_factory=dict)


def steps_create(*, request: PrivacyRequest, moment, record_ids=None) -> list[PrivacyStep]:
    """One step per source holding the subject's active records (or just ``record_ids``).

    An erasure at a source whose policy is to retain is skipped at once with its legal basis,
    and a source without a connector is skipped as not supported: asking them would only fail.
    """
    records = SourceRecord.objects.filter(state=SourceRecord.State.ACTIVE).select_related("source")
    records = (records.filter(pk__in=record_ids) if record_ids is not None
               else records.filter(entity_id=request.subject_id))
    by_source: dict[int, list[SourceRecord]] = {}
    for record in records.order_by("source__trust_rank", "source__code", "pk"):
        by_source.setdefault(record.source_id, []).append(record)
    created = []
    for source_records in by_source.values():
        source = source_records[0].source
        targets = [{"record_id": r.pk, "key": r.source_key, "outcome": "", "rows": 0}
                   for r in source_records]
        step, fresh = PrivacyStep.objects.get_or_create(
            request=request, source=source, defaults={"targets": targets})
        if not fresh:
            # A record joined the subject while the request ran: add it and ask again.
            known = {t["record_id"] for t in step.targets}
            step.targets += [t for t in targets if t["record_id"] not in known]
            step.state, step.next_attempt_at, step.finished_at = State.PENDING, None, None
        if request.kind == PrivacyRequest.Kind.ERASURE and (
                source.erase_policy == source.ErasePolicy.RETAIN):
            _skip(step, moment, PrivacyStep.SkipReason.LEGAL_HOLD,
                  source.legal_basis or "the source's policy is to retain")
        elif not source.connector_kind:
            _skip(step, moment, PrivacyStep.SkipReason.NOT_SUPPORTED, "no connector configured")
        step.save()
        created.append(step)
    return created


def _skip(step: PrivacyStep, moment, reason: str, detail: str) -> None:
    step.state, step.skip_reason, step.skip_detail = State.SKIPPED, reason, detail
    step.finished_at = moment


def backoff_seconds(attempts: int, rng: random.Random = _rng) -> float:
    """Delay before the next try after ``attempts`` tries: doubling, capped, half jittered.

    "Equal jitter": half the delay is fixed so a retry never comes at once, the other half is
    random so that many steps failing together do not retry together.
    """
    delay = min(settings.PRIVACY_RETRY_MAX_SECONDS,
                settings.PRIVACY_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return delay / 2 + rng.uniform(0, delay / 2)


def _due(moment) -> Q:
    lease = moment - timedelta(seconds=settings.PRIVACY_STEP_LEASE_SECONDS)
    return (Q(state__in=DUE_STATES, next_attempt_at__isnull=True)
            | Q(state__in=DUE_STATES, next_attempt_at__lte=moment)
            # A worker that died mid-call left its step running: take it over after the lease.
            | Q(state=State.RUNNING, last_attempt_at__lte=lease))


def _claim(step_id: int, moment) -> bool:
    window = timedelta(hours=settings.PRIVACY_RETRY_WINDOW_HOURS)
    return PrivacyStep.objects.filter(_due(moment), pk=step_id).update(
        state=State.RUNNING, attempts=F("attempts") + 1, last_attempt_at=moment,
        first_attempt_at=Coalesce("first_attempt_at", moment),
        retry_until=Coalesce("retry_until", moment + window)) == 1


def _erase(step: PrivacyStep, connector, targets: list[dict]) -> Attempt:
    if "erase" not in connector.capabilities:
        return Attempt("skipped", targets, skip_reason=PrivacyStep.SkipReason.NOT_SUPPORTED,
                       skip_detail=f"{connector.kind} connectors cannot erase")
    for target in targets:
        if target["outcome"]:
            continue  # done in an earlier attempt: a source is asked once per record
        try:
            result = connector.erase(target["key"])
        except ErasureRefused:
            return Attempt("skipped", targets, skip_reason=PrivacyStep.SkipReason.LEGAL_HOLD,
                           skip_detail=step.source.legal_basis or "the source retains records")
        except CircuitOpen:
            return Attempt("transient", targets, error="circuit open")
        except ConnectorError as exc:
            return Attempt("transient", targets, error=exc.code)
        if result.outcome in ERASED_OUTCOMES and result.rows > 0:
            target["outcome"], target["rows"] = result.outcome, result.rows
        elif result.outcome == "not_found":
            target["outcome"] = "not_found"
        else:
            code = error_code(result.error, "source error")
            if result.outcome in ERASED_OUTCOMES or code == "erased zero rows":
                # The record exists and nothing was erased: a wrong statement or a source that
                # ignores the call. Retrying will not fix that; a person has to.
                return Attempt("permanent", targets, error="erased zero rows")
            return Attempt("transient", targets, error=code)
    return Attempt("finished", targets)


def _export(connector, targets: list[dict]) -> Attempt:
    if "export" not in connector.capabilities:
        return Attempt("skipped", targets, skip_reason=PrivacyStep.SkipReason.NOT_SUPPORTED,
                       skip_detail=f"{connector.kind} connectors cannot export")
    records = {}
    for target in targets:
        if target["outcome"]:
            continue
        try:
            result = connector.export(target["key"])
        except ConnectorError as exc:
            return Attempt("transient", targets, error=exc.code, records=records)
        if result.status == "ok":
            target["outcome"], target["rows"] = "exported", 1
            records[str(target["record_id"])] = result.record
        elif result.status == "not_found":
            target["outcome"] = "not_found"
        else:
            return Attempt("transient", targets, records=records,
                           error=error_code(result.error, result.status.replace("_", " ")))
    return Attempt("finished", targets, records=records)


def _attempt(step: PrivacyStep, connector_for) -> Attempt:
    """Call the source for every target not yet answered. No database writes here."""
    targets = [dict(t) for t in step.targets]
    try:
        connector = connector_for(step.source)
    except NoConnector:
        return Attempt("skipped", targets, skip_reason=PrivacyStep.SkipReason.NOT_SUPPORTED,
                       skip_detail="no connector configured")
    except ConfigurationError:
        return Attempt("transient", targets, error="connector misconfigured")
    try:
        if step.request.kind == PrivacyRequest.Kind.ERASURE:
            return _erase(step, connector, targets)
        return _export(connector, targets)
    except Exception as exc:  # noqa: BLE001 - one broken connector must not stop the others
        return Attempt("transient", targets, error=f"unexpected {type(exc).__name__}")


def _apply(step: PrivacyStep, attempt: Attempt, moment) -> None:
    step.targets = attempt.targets
    step.rows_affected = sum(t.get("rows", 0) for t in attempt.targets)
    step.last_error = attempt.error[:200]
    if attempt.records:
        step.result = {"records": {**((step.result or {}).get("records", {})),
                                   **attempt.records}}
    if attempt.kind == "finished":
        answered = [t["outcome"] for t in attempt.targets]
        step.state = (State.NOT_FOUND if all(o == "not_found" for o in answered)
                      else State.DONE)
    elif attempt.kind == "skipped":
        step.state = State.SKIPPED
        step.skip_reason, step.skip_detail = attempt.skip_reason, attempt.skip_detail
    elif attempt.kind == "permanent":
        step.state = State.ERROR
    elif step.retry_until is not None and moment >= step.retry_until:
        step.state, step.last_error = State.ERROR, f"retry window ended: {attempt.error}"[:200]
    else:
        step.state = State.RETRYING
        step.next_attempt_at = moment + timedelta(seconds=backoff_seconds(step.attempts))
    if step.is_final:
        step.next_attempt_at, step.finished_at = None, moment
        if step.request.kind == PrivacyRequest.Kind.ERASURE and step.state != State.ERROR:
            # The source has answered for good: its keys are no longer needed anywhere.
            step.targets = [{**t, "key": ""} for t in step.targets]


def privacy_step_run(*, step_id: int, now: Clock = timezone.now,
                     connector_for: Callable | None = None) -> bool:
    """Run one step if it is due; returns whether it ran. See the module docstring."""
    if not _claim(step_id, now()):
        return False
    step = PrivacyStep.objects.select_related("request", "source").get(pk=step_id)
    attempt = _attempt(step, connector_for or source_connector)
    with transaction.atomic():
        request = request_lock(step.request_id)
        step = (PrivacyStep.objects.select_for_update(of=("self",)).select_related("source")
                .get(pk=step_id))
        if step.state != State.RUNNING:
            return False  # taken over after the lease ran out; the newer attempt decides
        step.request = request
        moment = now()
        _apply(step, attempt, moment)
        step.save()
        privacy_event("step_attempted", request, source_id=step.source_id, step_id=step.pk,
                      state=step.state, attempt=step.attempts, rows=step.rows_affected,
                      error=step.last_error)
        from hub.services.privacy_settle import request_settle  # noqa: PLC0415 - import cycle

        request_settle(request=request, moment=moment)
    return True


def privacy_steps_run_due(*, now: Clock = timezone.now, request_id: int | None = None,
                          connector_for: Callable | None = None, limit: int = 500) -> int:
    """Run every step that is due (optionally of one request); returns how many ran."""
    steps = PrivacyStep.objects.filter(_due(now()))
    if request_id is not None:
        steps = steps.filter(request_id=request_id)
    ids = list(steps.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    return sum(privacy_step_run(step_id=step_id, now=now, connector_for=connector_for)
               for step_id in ids)


def privacy_steps_dispatch(request_id: int) -> None:
    """Start a request's due steps in the background: Celery if configured, else right here.

    Called after commit. Without a broker the steps run in this process before returning,
    which keeps a laptop set-up free of moving parts; the periodic runner catches retries.
    """
    if settings.CELERY_BROKER_URL:
        from hub.tasks import privacy_request_steps_run  # noqa: PLC0415 - needs celery

        privacy_request_steps_run.delay(request_id)
    else:
        privacy_steps_run_due(request_id=request_id)
