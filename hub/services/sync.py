"""Sync: pull a source's changes through its connector into the ingest path, page by page.

Each page is ingested and its cursor stored in one transaction, so a sync that is interrupted
(Ctrl-C, a crash, a source failing mid-way) resumes after the last committed page: nothing is
lost and nothing is applied twice. Pages seen again are harmless anyway, because replaying a
change changes nothing (DESIGN.md invariant 4), which also makes a second run a no-op.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from connectors.base import Change, ChangePage, ConfigurationError, Connector, ConnectorError
from hub.models import SourceSystem
from hub.services.connections import source_connector
from hub.services.errors import Conflict, InvalidInput, NotFound
from hub.services.events import event_record
from hub.services.ingest import record_delete, record_upsert, records_upsert_batch
from hub.services.transactions import atomic_with_retry

COUNT_NAMES = ("new", "changed", "unchanged", "deleted", "rejected")
# What the ingest services report, in the words of a sync report.
_CHANGE_COUNTS = {"created": "new", "updated": "changed", "unchanged": "unchanged",
                  "stale": "unchanged", "deleted": "deleted"}


@dataclass
class SyncReport:
    """What one sync of one source did. ``reasons`` counts rejections by "field: problem".

    ``error`` says why a sync stopped as a code (``HTTP 502 (ConnectorError)``), never a
    connector's message: those may name a path, and paths hold source keys.
    """

    source: str
    full: bool = False
    counts: Counter = field(default_factory=lambda: Counter(dict.fromkeys(COUNT_NAMES, 0)))
    reasons: Counter = field(default_factory=Counter)
    pages: int = 0
    completed: bool = False
    error: str = ""

    def as_dict(self) -> dict:
        return {"source": self.source, "full": self.full, "pages": self.pages,
                "completed": self.completed, "error": self.error,
                "counts": {name: self.counts[name] for name in COUNT_NAMES},
                "rejected_reasons": dict(self.reasons)}


class SyncInterrupted(Exception):
    """The sync was interrupted (Ctrl-C) after ``report.pages`` committed pages."""

    def __init__(self, report: SyncReport):
        super().__init__(f"sync of {report.source} interrupted after {report.pages} pages")
        self.report = report


def _timestamp(value) -> datetime | None:
    """An aware datetime from a change's updated-at (datetime, ISO text or ISO date)."""
    if value is None or value == "" or isinstance(value, datetime):
        parsed = value or None
    else:
        text = str(value).strip()
        parsed = parse_datetime(text)
        if parsed is None and parse_date(text) is not None:
            parsed = datetime.combine(parse_date(text), time())
        if parsed is None:
            raise ValueError("not an ISO date-time")
    if parsed is not None and timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _reasons(errors: dict) -> list[str]:
    """"field: problem" lines from an InvalidInput's errors (they never hold values)."""
    return [f"{name}: {problem}" for name, problems in errors.items()
            for problem in (problems if isinstance(problems, list) else [problems])]


class _PageIngest:
    """Applies one page's changes through the ingest services and counts what they did."""

    def __init__(self, source: SourceSystem, report: SyncReport, actor):
        self.source, self.report, self.actor = source, report, actor

    def reject(self, reasons: list[str]) -> None:
        self.report.counts["rejected"] += 1
        self.report.reasons.update(reasons)

    def count(self, change: str) -> None:
        self.report.counts[_CHANGE_COUNTS.get(change, "unchanged")] += 1

    def apply(self, changes: list[Change]) -> None:
        """Upserts go in batches, deletes one by one, keeping the page's order per key."""
        run: list[dict] = []
        for change in changes:
            if change.deleted:
                self.upsert(run)
                run = []
                self.delete(change)
                continue
            try:
                updated_at = _timestamp(change.updated_at)
            except ValueError as problem:
                self.reject([f"updated_at: {problem}"])
                continue
            run.append({"source_key": change.key, "attributes": change.attributes,
                        "version": change.version, "updated_at": updated_at})
            if len(run) >= settings.INGEST_BATCH_LIMIT:
                self.upsert(run)
                run = []
        self.upsert(run)

    def upsert(self, items: list[dict]) -> None:
        """The batch service, minus the items it refuses (counted as rejected, with reasons)."""
        if not items:
            return
        try:
            results = records_upsert_batch(source_code=self.source.code, items=items,
                                           actor=self.actor)
        except InvalidInput as error:
            problems = error.errors.get("records")
            if not isinstance(problems, dict):
                raise
            for index in sorted(problems, key=int):
                self.reject(_reasons(problems[index]))
            self.upsert([item for index, item in enumerate(items) if str(index) not in problems])
            return
        except Conflict:
            # The batch is all or nothing and one item contradicts a stored version: apply the
            # items one by one (each in its own savepoint) to reject only that one.
            for item in items:
                self.upsert_one(item)
            return
        for result in results:
            self.count(result.change)

    def upsert_one(self, item: dict) -> None:
        try:
            result = record_upsert(source_code=self.source.code, actor=self.actor, **item)
        except InvalidInput as error:
            self.reject(_reasons(error.errors))
        except Conflict:
            self.reject(["version: already stored with different key attributes"])
        else:
            self.count(result.change)

    def delete(self, change: Change) -> None:
        try:
            result = record_delete(source_code=self.source.code, source_key=change.key,
                                   version=change.version, actor=self.actor)
        except NotFound:
            self.count("unchanged")  # deleted before the hub ever saw it: nothing to do
        else:
            self.count(result.change)


@atomic_with_retry
def _page_commit(source: SourceSystem, page: ChangePage, report: SyncReport, actor) -> None:
    """Ingest one page and store its cursor, in one transaction."""
    before = (report.counts.copy(), report.reasons.copy())
    try:
        _PageIngest(source, report, actor).apply(page.changes)
        SourceSystem.objects.filter(pk=source.pk).update(
            sync_cursor=page.cursor or "", last_synced_at=timezone.now())
    except BaseException:
        # Nothing of this page is committed, so nothing of it may be counted either.
        report.counts, report.reasons = before
        raise
    report.pages += 1
    source.sync_cursor = page.cursor or ""


def source_sync(*, source_code: str, full: bool = False, limit_pages: int | None = None,
                connector: Connector | None = None,
                progress: Callable[[int], None] | None = None, actor=None) -> SyncReport:
    """Pull changes of one source from its stored cursor (from the start with ``full``).

    Upserts go through ``records_upsert_batch`` and deletions through ``record_delete``, so
    every change is matched as if pushed through the API. Items the ingest path refuses are
    counted as rejected with "field: problem" reasons and do not stop the page. ``progress``
    is called with the number of changes of each committed page. A connector failure stops the
    sync after the last committed page and is reported in ``error``; Ctrl-C raises
    ``SyncInterrupted`` carrying the partial report. Either way the next run resumes there.
    Records one ``source.synced`` event with the counts.
    """
    source = SourceSystem.objects.filter(code=source_code).first()
    if source is None:
        raise NotFound(f"no source system with code '{source_code}'"[:120])
    if not source.is_active:
        raise InvalidInput({"source": ["the source is not active"]})
    report = SyncReport(source=source.code, full=full)
    try:
        connector = connector or source_connector(source)
        pages = connector.list_changes(since_cursor=None if full else source.sync_cursor or None)
        for page in pages:
            if limit_pages is not None and report.pages >= limit_pages:
                break
            _page_commit(source, page, report, actor)
            if progress is not None:
                progress(len(page.changes))
        else:
            report.completed = True
    except ConnectorError as exc:
        report.error = sync_error_code(exc)
    except KeyboardInterrupt:
        report.error = "interrupted"
        _record(report, source, actor)
        raise SyncInterrupted(report) from None
    _record(report, source, actor)
    return report


def sync_error_code(exc: ConnectorError) -> str:
    """What a report prints and stores about a connector failure: its code and class.

    A configuration problem keeps its message, which names settings and environment
    variables only, because the operator needs it to fix the set-up.
    """
    if isinstance(exc, ConfigurationError):
        return f"configuration error: {exc}"[:300]
    return f"{exc.code} ({type(exc).__name__})"[:300]


@atomic_with_retry
def _record(report: SyncReport, source: SourceSystem, actor) -> None:
    event_record(kind="source.synced", actor=actor,
                 payload={"source_id": source.pk, **{k: v for k, v in report.as_dict().items()
                                                     if k != "source"},
                          "failed": bool(report.error) and report.error != "interrupted"})
