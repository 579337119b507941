"""Erasing a data subject inside the hub, once every source has answered.

The hub keeps little about a person (key attributes, cross-references), but personal data can
creep into other places: an explanation, an event written by a careless service, the admin's
change log, a session, a source's sync cursor (the position of the last record read), an
earlier export of the same person. This module removes the key attributes, replaces the source
keys, retires the golden ID as an *erased* tombstone, writes the suppression entries, and then
scrubs every place where a value of the subject could sit (DESIGN.md invariant 5). It runs
inside the request's settling transaction and only counts what it did.
"""

from __future__ import annotations

import json

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db.models import Q

from hub.models import (
    BlockingKey,
    Decision,
    Entity,
    Event,
    Link,
    PrivacyRequest,
    PrivacyStep,
    ReviewTask,
    SourceRecord,
)
from hub.models.privacy import FINAL_STEP_STATES
from hub.services.privacy_common import privacy_event
from hub.services.privacy_suppression import suppression_entries_write
from hub.services.sync_cursors import sync_cursors_forget

ERASED = "[erased]"
# Substring matching below this length would hit unrelated text ("GB" in "GBP").
MIN_TOKEN_LENGTH = 3
# Attributes that describe places shared by many people rather than the person.
_NOT_PERSONAL = {"country", "region"}
_R = PrivacyRequest.State
OPEN_REQUEST_STATES = (_R.RECEIVED, _R.VERIFIED, _R.APPROVED, _R.IN_PROGRESS,
                       _R.PARTIALLY_COMPLETED)


def subject_golden_ids(entity: Entity) -> set[str]:
    """The subject's golden ID and every ID merged into it (they all resolve to it)."""
    return {entity.golden_id, *Entity.objects.filter(merged_into=entity)
            .values_list("golden_id", flat=True)}


def subject_records(golden_ids: set[str]) -> list[SourceRecord]:
    """The subject's records: active in its entity, or gone (deleted) while linked to it.

    A record that once sat in the entity but now belongs to another active entity was moved
    there (a split): it is somebody else's and is left alone.
    """
    ever_linked = set(Link.objects.filter(entity_id__in=golden_ids)
                      .values_list("source_record_id", flat=True))
    chosen = []
    candidates = (SourceRecord.objects.filter(pk__in=ever_linked).select_related("source")
                  .exclude(state=SourceRecord.State.ERASED))
    for record in candidates:
        if record.state == SourceRecord.State.ACTIVE:
            if record.entity_id in golden_ids:
                chosen.append(record)
            continue
        last = Link.objects.filter(source_record=record).order_by("-created_at", "-pk").first()
        if last is not None and last.entity_id in golden_ids:
            chosen.append(record)
    return chosen


def subject_tokens(records: list[SourceRecord]) -> tuple[set[str], set[str]]:
    """The subject's values to search for, case-folded: (all tokens, strong identifiers).

    Strong identifiers (e-mail, phone, national ID, full name, source keys) are safe to search
    for across the whole database; the others only inside rows already known to be the
    subject's.
    """
    tokens, strong = set(), set()
    for record in records:
        strong.add(record.source_key.casefold())
        for values in (record.attributes or {}, record.standardised or {}):
            for name, value in values.items():
                if not value or name in _NOT_PERSONAL:
                    continue
                text = str(value).casefold()
                tokens.add(text)
                if name in ("email", "phone", "national_id"):
                    strong.add(text)
                if name == "phone":
                    digits = "".join(ch for ch in text if ch.isdigit())
                    tokens.add(digits)
                    strong.add(digits)
            given, family = values.get("given_name"), values.get("family_name")
            if given and family:
                strong.add(f"{given} {family}".casefold())
    tokens |= strong
    return ({t for t in tokens if len(t) >= MIN_TOKEN_LENGTH},
            {t for t in strong if len(t) >= MIN_TOKEN_LENGTH})


def scrub(value, tokens: set[str]):
    """``value`` (decoded JSON) with every string holding a token replaced by "[erased]"."""
    if isinstance(value, str):
        folded = value.casefold()
        return ERASED if any(token in folded for token in tokens) else value
    if isinstance(value, list):
        return [scrub(item, tokens) for item in value]
    if isinstance(value, dict):
        return {scrub(key, tokens): scrub(item, tokens) for key, item in value.items()}
    return value


def _scrub_json_rows(queryset, field: str, tokens: set[str]) -> int:
    changed = 0
    for pk, value in queryset.values_list("pk", field):
        cleaned = scrub(value, tokens)
        if cleaned != value:
            # QuerySet.update, not save(): events are append-only for every other writer.
            queryset.model.objects.filter(pk=pk).update(**{field: cleaned})
            changed += 1
    return changed


def _scrub_admin_log(golden_ids: set[str], record_ids: set[int], strong: set[str]) -> int:
    objects = {Entity: golden_ids, SourceRecord: record_ids,
               Link: Link.objects.filter(source_record_id__in=record_ids)
               .values_list("pk", flat=True),
               ReviewTask: ReviewTask.objects.filter(
                   Q(source_record_id__in=record_ids) | Q(candidate_record_id__in=record_ids))
               .values_list("pk", flat=True),
               Decision: Decision.objects.filter(
                   Q(record_a_id__in=record_ids) | Q(record_b_id__in=record_ids))
               .values_list("pk", flat=True)}
    matches = Q(pk__in=[])
    for model, ids in objects.items():
        matches |= Q(content_type=ContentType.objects.get_for_model(model),
                     object_id__in=[str(i) for i in ids])
    for token in strong:
        matches |= Q(object_repr__icontains=token) | Q(change_message__icontains=token)
    return LogEntry.objects.filter(matches).update(object_repr=ERASED, change_message="")


def _sessions_drop(strong: set[str]) -> int:
    """Sessions are no subject data, but a form may have parked a value in one: drop those."""
    dropped = 0
    for session in Session.objects.all().iterator():
        try:
            text = json.dumps(session.get_decoded(), default=str).casefold()
        except Exception:  # noqa: BLE001 - an undecodable session holds nothing readable
            continue
        if any(token in text for token in strong):
            session.delete()
            dropped += 1
    return dropped


def _notify_accessors(request: PrivacyRequest, golden_ids: set[str]) -> int:
    """One event per user (application) that fetched the person's records, IDs only."""
    accessors = sorted(set(Event.objects.filter(
        kind="entity.records_accessed", entity_id__in=golden_ids, actor__isnull=False)
        .values_list("actor_id", flat=True)))
    for user_id in accessors:
        privacy_event("erasure_notice", request, recipient_user_id=user_id)
    return len(accessors)


def other_requests_lock(request: PrivacyRequest) -> list[int]:
    """Lock the other requests about the request's subject, before the subject's entity.

    Their settling locks the request first and the entity second; taking them in that same
    order here (before ``entities_lock``) means the two cannot wait on each other.
    """
    golden_ids = subject_golden_ids(request.subject)
    return list(PrivacyRequest.objects.select_for_update().filter(subject_id__in=golden_ids)
                .exclude(pk=request.pk).order_by("pk").values_list("pk", flat=True))


def _other_requests_purge(request: PrivacyRequest, golden_ids: set[str], tokens: set[str],
                          moment) -> dict:
    """Every other request about the subject loses what it holds of them.

    An earlier export keeps its bundle (the person's full records) and its steps the source
    keys: the bundle is deleted (its link then answers 410) and the keys and fetched records
    are cleared. A request still open is cancelled and its unfinished steps closed: there is
    nobody left to export or erase.
    """
    counts = {"export_bundles_purged": 0, "other_requests_cancelled": 0}
    others = PrivacyRequest.objects.select_for_update().filter(
        subject_id__in=golden_ids).exclude(pk=request.pk).order_by("pk")
    for other in others:
        fields = ["reference", "close_reason", "extension_reason"]
        for field in fields:
            setattr(other, field, scrub(getattr(other, field), tokens))
        if other.export_bundle is not None:
            other.export_bundle, other.export_purged_at = None, moment
            fields += ["export_bundle", "export_purged_at"]
            counts["export_bundles_purged"] += 1
            privacy_event("export_purged", other, reason="subject_erased",
                          erasure_request_id=request.pk)
        other.steps.exclude(state__in=FINAL_STEP_STATES).update(
            state=PrivacyStep.State.ERROR, next_attempt_at=None, finished_at=moment,
            last_error=f"subject erased by privacy request {request.pk}")
        if other.state in OPEN_REQUEST_STATES:
            other.state, other.closed_at = PrivacyRequest.State.CANCELLED, moment
            other.close_reason = f"the subject was erased by privacy request {request.pk}"
            fields += ["state", "closed_at"]
            counts["other_requests_cancelled"] += 1
            privacy_event("request_cancelled", other, reason="subject_erased",
                          erasure_request_id=request.pk)
        other.save(update_fields=fields)
        for step in other.steps.all():
            PrivacyStep.objects.filter(pk=step.pk).update(
                targets=[{**t, "key": ""} for t in step.targets], result=None)
    return counts


def subject_erase_in_hub(*, request: PrivacyRequest, moment) -> dict:
    """Erase the request's subject from the hub; returns the counts kept for the audit."""
    entity = request.subject
    golden_ids = subject_golden_ids(entity)
    records = subject_records(golden_ids)
    record_ids = {record.pk for record in records}
    tokens, strong = subject_tokens(records)
    counts = {"records": len(records),
              "suppression_entries": suppression_entries_write(
                  records=records, golden_id=entity.golden_id, request=request)}
    keys_by_source: dict[int, set[str]] = {}
    for record in records:
        keys_by_source.setdefault(record.source_id, set()).add(record.source_key)
    counts["sync_cursors_rewritten"] = sync_cursors_forget(keys_by_source=keys_by_source)

    Link.objects.filter(source_record_id__in=record_ids, ended_at=None).update(ended_at=moment)
    counts["blocking_keys"] = BlockingKey.objects.filter(
        source_record_id__in=record_ids).delete()[0]
    for record in records:
        SourceRecord.objects.filter(pk=record.pk).update(
            state=SourceRecord.State.ERASED, entity=None, attributes={}, standardised={},
            invalid_attributes={}, content_hash="", source_key=f"erased:{record.pk}",
            updated_at=moment)
    tasks = ReviewTask.objects.filter(Q(source_record_id__in=record_ids)
                                      | Q(candidate_record_id__in=record_ids)
                                      | Q(candidate_entity_id__in=golden_ids))
    counts["review_tasks_cancelled"] = tasks.filter(state=ReviewTask.State.OPEN).update(
        state=ReviewTask.State.CANCELLED, resolved_at=moment)
    counts["review_tasks_scrubbed"] = _scrub_json_rows(tasks, "explanation", tokens)
    counts["links_scrubbed"] = _scrub_json_rows(
        Link.objects.filter(source_record_id__in=record_ids), "explanation", tokens)
    counts["events_scrubbed"] = _scrub_json_rows(
        Event.objects.filter(Q(entity_id__in=golden_ids) | Q(source_record_id__in=record_ids)),
        "payload", tokens)
    counts["admin_log_scrubbed"] = _scrub_admin_log(golden_ids, record_ids, strong)
    counts["sessions_dropped"] = _sessions_drop(strong)

    Entity.objects.filter(pk=entity.pk).update(state=Entity.State.ERASED, merged_into=None,
                                               version=entity.version + 1, updated_at=moment)
    for step in request.steps.exclude(state=PrivacyStep.State.ERROR):
        PrivacyStep.objects.filter(pk=step.pk).update(
            targets=[{**t, "key": ""} for t in step.targets], result=None)
    for field in ("reference", "close_reason", "extension_reason"):
        setattr(request, field, scrub(getattr(request, field), tokens))
    counts.update(_other_requests_purge(request, golden_ids, tokens, moment))
    counts["notified_applications"] = _notify_accessors(request, golden_ids)
    privacy_event("subject_erased", request, **counts)
    return counts
