"""Export bundles: what the hub and every source hold about a person, behind an expiring link.

The bundle is assembled once every source has answered: the hub's own data (golden ID,
cross-references with their key attributes, steward decisions) and each source's full record
as fetched live, with the purposes, data categories and recipients from the source's
configuration. It is reachable through a random token until it expires (``PRIVACY_EXPORT_TTL_
DAYS``, default 7); then the link answers 410 and the bundle is deleted.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hub.models import Decision, Link, PrivacyRequest, PrivacyStep, SourceRecord
from hub.services.errors import NotFound, ServiceError
from hub.services.privacy_common import Clock, privacy_event


class ExportExpired(ServiceError):
    """The export's link has expired and its bundle is deleted (HTTP 410)."""


def _hub_data(request: PrivacyRequest) -> dict:
    entity = request.subject
    records = list(SourceRecord.objects.filter(entity=entity, state=SourceRecord.State.ACTIVE)
                   .select_related("source").order_by("source__code", "source_key"))
    links = {link.source_record_id: link for link in Link.objects.filter(
        source_record__in=records, ended_at=None)}
    record_ids = {record.pk for record in records}
    described = {record.pk: f"{record.source.code}:{record.source_key}" for record in records}
    decisions = []
    for decision in Decision.objects.filter(
            Q(record_a_id__in=record_ids) | Q(record_b_id__in=record_ids)).order_by("pk"):
        # The other record of a "different" pair is somebody else's: it is not named.
        pair = [described.get(decision.record_a_id, "another person's record"),
                described.get(decision.record_b_id, "another person's record")]
        decisions.append({"records": pair, "verdict": decision.verdict,
                          "active": decision.is_active,
                          "decided_at": decision.created_at.isoformat()})
    return {
        "golden_id": entity.golden_id,
        "state": entity.state,
        "created_at": entity.created_at.isoformat(),
        "cross_references": [{
            "source": record.source.code, "source_key": record.source_key,
            "key_attributes": record.attributes,
            "linked_by": links[record.pk].origin if record.pk in links else None,
            "linked_at": links[record.pk].created_at.isoformat() if record.pk in links else None,
            "match_score": links[record.pk].score if record.pk in links else None,
        } for record in records],
        "decisions": decisions,
    }


def _source_block(step: PrivacyStep) -> dict:
    source = step.source
    fetched = (step.result or {}).get("records", {})
    return {
        "source": source.code, "name": source.name, "status": step.state,
        "error": step.last_error, "skipped_because": step.skip_detail,
        "records": [{"source_key": target["key"], "status": target["outcome"] or "unanswered",
                     "record": fetched.get(str(target["record_id"]))}
                    for target in step.targets],
        "purposes": source.purposes, "data_categories": source.data_categories,
        "recipients": source.recipients, "legal_basis": source.legal_basis,
    }


def export_bundle_assemble(*, request: PrivacyRequest, moment) -> None:
    """Build the bundle from the finished steps and issue (or renew) its download link.

    Runs inside the settling transaction; the fetched records move from the steps into the
    bundle so that they sit in one place, deleted in one go when the link expires.
    """
    steps = list(request.steps.select_related("source").order_by("source__trust_rank",
                                                                 "source__code"))
    request.export_bundle = {
        "request_id": request.pk, "generated_at": moment.isoformat(),
        "hub": _hub_data(request), "sources": [_source_block(step) for step in steps]}
    PrivacyStep.objects.filter(request=request).update(result=None)
    request.export_token = request.export_token or secrets.token_urlsafe(32)
    request.export_created_at = moment
    request.export_expires_at = moment + timedelta(days=settings.PRIVACY_EXPORT_TTL_DAYS)
    request.export_purged_at = None
    privacy_event("export_ready", request, sources=len(steps),
                  records=sum(1 for s in steps for t in s.targets if t["outcome"] == "exported"))


def _purge(request: PrivacyRequest, moment) -> None:
    request.export_bundle, request.export_purged_at = None, moment
    request.save(update_fields=["export_bundle", "export_purged_at"])
    privacy_event("export_purged", request)


def privacy_export_download(*, token: str, now: Clock = timezone.now, actor=None) -> dict:
    """The bundle behind a download token; ExportExpired (410) after expiry, NotFound if none.

    An expired bundle still stored is deleted on the spot, whatever the purge schedule.
    """
    with transaction.atomic():
        request = (PrivacyRequest.objects.select_for_update().filter(export_token=token)
                   .exclude(export_token="").first()) if token else None
        if request is None:
            raise NotFound("no such export")
        moment = now()
        expired = request.export_expires_at is None or moment >= request.export_expires_at
        if expired and request.export_bundle is not None:
            _purge(request, moment)  # committed: the error below is raised after the commit
        if not expired and request.export_bundle is not None:
            privacy_event("export_downloaded", request, actor=actor)
            return request.export_bundle
    raise ExportExpired("this export link has expired")


def privacy_exports_purge(*, now: Clock = timezone.now) -> int:
    """Delete every bundle whose link has expired; returns how many were deleted."""
    moment = now()
    purged = 0
    expired = PrivacyRequest.objects.filter(export_expires_at__lte=moment,
                                            export_bundle__isnull=False)
    for request_id in expired.values_list("pk", flat=True):
        with transaction.atomic():
            request = PrivacyRequest.objects.select_for_update().get(pk=request_id)
            if request.export_bundle is not None:
                _purge(request, moment)
                purged += 1
    return purged
