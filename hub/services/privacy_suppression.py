"""The suppression list: keyed hashes of an erased person's identifiers, checked at ingest.

After an erasure the hub forgets the person, yet a source may send them again (a stale export,
a sync of a source that retains the record under a legal hold). To notice that without keeping
anything readable, the hub stores an HMAC-SHA256 of each normalised identifier under a secret
from the environment (``PRIVACY_HMAC_KEY``): without the key the digests cannot be tested
against guesses, which a plain hash of an e-mail address or a birth date could.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from hub.models import Entity, ReviewTask, SourceRecord, SuppressionEntry
from hub.services.events import event_record

_GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}


def _key() -> bytes:
    key = settings.PRIVACY_HMAC_KEY
    if not key:
        raise ImproperlyConfigured(
            "PRIVACY_HMAC_KEY (or PRIVACY_HMAC_KEY_FILE) must be set: the suppression list of "
            "erased people is keyed with it")
    return key.encode()


def suppression_key_check() -> None:
    """ImproperlyConfigured unless the suppression list's key is set."""
    _key()


def keyed_digest(kind: str, value: str) -> str:
    """HMAC-SHA256 (hex) of one normalised identifier, domain-separated by its kind."""
    return hmac.new(_key(), f"{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()


def canonical_email(email: str) -> str:
    """The address a mailbox really receives: lower-case, no ``+tag``, no Gmail dots."""
    local, _, domain = email.strip().lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in _GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def normalised_identifiers(standardised: Mapping) -> dict[str, str]:
    """The identifiers of one standardised record that single a person out, by kind.

    E-mail in canonical form, phone as digits only, national ID, and full name with birth
    date; address and a name alone are too shared to suppress anybody on.
    """
    found = {}
    if standardised.get("email"):
        found["email"] = canonical_email(standardised["email"])
    phone_digits = "".join(ch for ch in str(standardised.get("phone") or "") if ch.isdigit())
    if len(phone_digits) >= 6:
        found["phone"] = phone_digits
    if standardised.get("national_id"):
        found["national_id"] = str(standardised["national_id"]).replace(" ", "").upper()
    names = (standardised.get("given_name"), standardised.get("family_name"),
             standardised.get("birth_date"))
    if all(names):
        found["name_birth_date"] = "\x1f".join(str(part) for part in names)
    return found


def source_record_identifier(source_code: str, source_key: str) -> str:
    return f"{source_code}\x1f{source_key}"


def record_digests(*, source_code: str, source_key: str, standardised: Mapping,
                   ) -> set[tuple[str, str]]:
    """(kind, digest) of every identifier of one record, its cross-reference included."""
    pairs = {(kind, keyed_digest(kind, value))
             for kind, value in normalised_identifiers(standardised).items()}
    pairs.add(("source_record", keyed_digest(
        "source_record", source_record_identifier(source_code, source_key))))
    return pairs


def suppression_entries_write(*, records: Iterable[SourceRecord], golden_id: str,
                              request=None) -> int:
    """Store the digests of the erased person's records; returns how many were written.

    Call inside the erasure transaction, before the records' values are wiped.
    """
    pairs: set[tuple[str, str]] = set()
    for record in records:
        pairs |= record_digests(source_code=record.source.code, source_key=record.source_key,
                                standardised=record.standardised or {})
    known = set(SuppressionEntry.objects.filter(digest__in=[d for _, d in pairs])
                .values_list("kind", "digest"))
    fresh = [SuppressionEntry(kind=kind, digest=digest, golden_id=golden_id, request=request)
             for kind, digest in sorted(pairs - known)]
    SuppressionEntry.objects.bulk_create(fresh)
    return len(fresh)


# Whether the list holds anybody: ingest reads it with other facts in one statement.
ANY_SUPPRESSED_SQL = f"SELECT EXISTS (SELECT 1 FROM {SuppressionEntry._meta.db_table})"


def _any_suppressed() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(ANY_SUPPRESSED_SQL)
        return bool(cursor.fetchone()[0])


def suppression_match(*, source_code: str, source_key: str, standardised: Mapping,
                      any_suppressed: bool | None = None) -> tuple[str, list[str]] | None:
    """The erased golden ID this record's identifiers point at, with the matching kinds.

    Returns None at once while the list is empty (``any_suppressed``, when the caller has read
    it already), so ingest pays no more than one indexed query and needs no key on a hub that
    never erased anybody.
    """
    if not (_any_suppressed() if any_suppressed is None else any_suppressed):
        return None
    pairs = record_digests(source_code=source_code, source_key=source_key,
                           standardised=standardised)
    hits = list(SuppressionEntry.objects.filter(digest__in=[d for _, d in pairs])
                .values_list("kind", "digest", "golden_id"))
    hits = [(kind, golden_id) for kind, digest, golden_id in hits if (kind, digest) in pairs]
    if not hits:
        return None
    golden_ids = sorted({golden_id for _, golden_id in hits})
    return golden_ids[0], sorted({kind for kind, _ in hits})


def suppressed_record_hold(*, record: SourceRecord, actor=None,
                           any_suppressed: bool | None = None) -> list[dict] | None:
    """Ingest hook: hold a record that matches an erased person instead of linking it.

    Called by ingest with the record's row locked and its new attributes stored but not yet
    matched. When the identifiers hit the suppression list the record stays outside every
    entity (no blocking keys, so nothing can match against it) and a review task with reason
    "suppressed" asks a steward to look; returns that task for the ingest answer. Returns None
    when the record may be matched as usual.
    """
    hit = suppression_match(source_code=record.source.code, source_key=record.source_key,
                            standardised=record.standardised, any_suppressed=any_suppressed)
    if hit is None:
        return None
    golden_id, kinds = hit
    tombstone = Entity.objects.filter(golden_id=golden_id).first()
    if tombstone is None:
        return None
    if record.state == SourceRecord.State.ACTIVE:
        raise AssertionError("only records outside any entity are held")
    record.save()
    task = ReviewTask.objects.filter(source_record=record, candidate_entity=tombstone,
                                     state=ReviewTask.State.OPEN).first()
    if task is None:
        task = ReviewTask.objects.create(
            source_record=record, candidate_entity=tombstone,
            reason=ReviewTask.Reason.SUPPRESSED, score=0.0,
            explanation={"suppression_kinds": kinds})
    event_record(kind="record.suppressed", entity_id=golden_id, source_record_id=record.pk,
                 actor=actor, payload={"source_id": record.source_id, "review_task_id": task.pk,
                                       "kinds": kinds})
    return [{"id": task.pk, "candidate_golden_id": golden_id, "score": 0.0,
             "reason": ReviewTask.Reason.SUPPRESSED}]
