"""The file connector: a CSV or JSON Lines export under a configured root directory.

The file path is relative to ``root`` and is resolved (symlinks included) before every open; a
path that lands outside the root is refused, so a source configuration cannot be used to read
``/etc/passwd`` or another tenant's files. Erasure rewrites the file atomically (a temporary
file in the same directory, then ``os.replace``) so a crash never leaves half a file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any

from connectors.base import (
    Change,
    ChangePage,
    ConfigurationError,
    Connector,
    ConnectorError,
    EraseResult,
    FetchResult,
    HealthResult,
    Setting,
)
from connectors.registry import register


def resolve_inside(root: str | os.PathLike, relative: str) -> Path:
    """``relative`` resolved under ``root``; ConnectorError if it is absolute or escapes it."""
    if PurePath(relative).is_absolute() or os.path.isabs(relative):
        raise ConnectorError("path refused: absolute paths are not allowed", code="path refused")
    if ".." in PurePath(relative).parts:
        raise ConnectorError("path refused: '..' is not allowed", code="path refused")
    real_root = Path(root).resolve()
    target = (real_root / relative).resolve()
    # resolve() follows symlinks, so a link pointing outside the root is caught here too.
    if not target.is_relative_to(real_root):
        raise ConnectorError("path refused: it resolves outside the configured root",
                             code="path refused")
    return target


@register("file")
class FileConnector(Connector):
    """A CSV or JSON Lines file of customer records, one record per row or line."""

    capabilities = frozenset({"fetch", "list_changes", "export", "erase", "health"})
    settings_schema = (
        Setting("root", required=True, help="directory the connector may read"),
        Setting("path", required=True, help="file path relative to root"),
        Setting("format", choices=("csv", "jsonl"), help="default: from the file extension"),
        Setting("key_field", required=True),
        Setting("updated_at_field", help="ISO timestamps; enables incremental listing"),
        Setting("version_field"),
        Setting("deleted_field"),
        Setting("delimiter", default=",", help="CSV delimiter"),
        Setting("encoding", default="utf-8"),
        Setting("page_size", type=int, default=500),
    )

    @classmethod
    def _check_combination(cls, settings):
        problems = []
        path = settings["path"]
        if PurePath(path).is_absolute() or os.path.isabs(path):
            problems.append(("path", "must be relative to root"))
        elif ".." in PurePath(path).parts:
            problems.append(("path", "must not contain '..'"))
        if not settings["format"] and PurePath(path).suffix.lower() not in (".csv", ".jsonl"):
            problems.append(("format", "cannot tell from the extension; set csv or jsonl"))
        if len(settings["delimiter"]) != 1:
            problems.append(("delimiter", "must be one character"))
        if settings["page_size"] < 1:
            problems.append(("page_size", "must be at least 1"))
        return problems

    def __init__(self, settings: Mapping[str, Any], *, environ: Mapping[str, str] | None = None):
        super().__init__(settings, environ=environ)
        s = self.settings
        self.format = s["format"] or PurePath(s["path"]).suffix.lower().lstrip(".")
        if not Path(s["root"]).is_dir():
            raise ConfigurationError([("root", "is not a directory")])

    def file(self) -> Path:
        """The configured file, re-checked on every use because the tree may have changed."""
        return resolve_inside(self.settings["root"], self.settings["path"])

    # -- reading and writing the whole file -----------------------------------------------------

    def _read(self) -> tuple[list[dict[str, Any]], list[str], str]:
        """Records, CSV header and a content fingerprint (to notice a replaced export)."""
        path = self.file()
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConnectorError(f"cannot read the source file ({type(exc).__name__})",
                                 code="cannot read the file") from None
        fingerprint = hashlib.sha256(raw).hexdigest()[:16]
        try:
            text = raw.decode(self.settings["encoding"])
        except (UnicodeDecodeError, LookupError):
            raise ConnectorError(f"cannot decode the file as {self.settings['encoding']}",
                                 code="cannot decode the file") from None
        if self.format == "csv":
            reader = csv.DictReader(io.StringIO(text), delimiter=self.settings["delimiter"])
            try:
                return list(reader), list(reader.fieldnames or []), fingerprint
            except csv.Error:
                raise ConnectorError(f"malformed CSV near line {reader.line_num}",
                                     code="malformed CSV") from None
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise ConnectorError(f"line {number}: malformed JSON",
                                     code="malformed JSON") from None
            if not isinstance(record, dict):
                raise ConnectorError(f"line {number}: expected a JSON object",
                                     code="malformed JSON")
            records.append(record)
        return records, [], fingerprint

    def _write(self, records: list[dict[str, Any]], header: list[str]) -> None:
        path = self.file()
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with open(fd, "w", encoding=self.settings["encoding"], newline="") as out:
                if self.format == "csv":
                    writer = csv.DictWriter(out, fieldnames=header,
                                            delimiter=self.settings["delimiter"])
                    writer.writeheader()
                    writer.writerows(records)
                else:
                    out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _key(self, record: Mapping[str, Any]) -> str:
        return str(record.get(self.settings["key_field"], ""))

    # -- operations -----------------------------------------------------------------------------

    def fetch_many(self, keys: Sequence[str]) -> list[FetchResult]:
        """The records for ``keys`` from one read of the file."""
        try:
            records, _, _ = self._read()
        except ConnectorError as exc:
            return [FetchResult(str(key), "error", error=str(exc)) for key in keys]
        by_key = {self._key(record): record for record in records}
        return [FetchResult(str(key), "ok", record=by_key[str(key)]) if str(key) in by_key
                else FetchResult(str(key), "not_found") for key in keys]

    def export(self, key: str) -> FetchResult:
        """The whole record for one key."""
        return self.fetch_many([key])[0]

    def list_changes(self, since_cursor: str | None = None) -> Iterator[ChangePage]:
        """Pages of records in (updated-at, key) order, or in file order without updated-at.

        Without updated-at the cursor is the file's fingerprint and a row offset: a new export
        starts again from its first row (re-sending unchanged records is harmless to the hub),
        while the same export resumes where the last page ended.
        """
        s = self.settings
        records, _, fingerprint = self._read()
        try:
            cursor = json.loads(since_cursor) if since_cursor else None
        except ValueError:
            raise ConnectorError("unreadable cursor for this file source",
                                 code="unreadable cursor") from None
        if s["updated_at_field"]:
            field = s["updated_at_field"]
            ordered = sorted(records, key=lambda r: (str(r.get(field) or ""), self._key(r)))
            if cursor is not None and cursor[1] is None:
                # A key-less position (an erased key was taken out of the cursor): every
                # record of that updated-at again, so that none is skipped.
                ordered = [r for r in ordered if str(r.get(field) or "") >= cursor[0]]
            elif cursor is not None:
                after = tuple(cursor)
                ordered = [r for r in ordered
                           if (str(r.get(field) or ""), self._key(r)) > after]
            for start in range(0, len(ordered), s["page_size"]):
                page = ordered[start:start + s["page_size"]]
                last = page[-1]
                yield ChangePage([self._change(r) for r in page],
                                 json.dumps([str(last.get(field) or ""), self._key(last)]))
            return
        offset = cursor[1] if cursor and cursor[0] == fingerprint else 0
        for start in range(offset, len(records), s["page_size"]):
            page = records[start:start + s["page_size"]]
            yield ChangePage([self._change(r) for r in page],
                             json.dumps([fingerprint, start + len(page)]))

    def _change(self, record: Mapping[str, Any]) -> Change:
        s = self.settings
        version = record.get(s["version_field"]) if s["version_field"] else None
        try:
            version = None if version in (None, "") else int(version)
        except (TypeError, ValueError):
            # The key identifies a customer, so the message names the field, not the record.
            raise ConnectorError(f"a record's {s['version_field']!r} is not an integer",
                                 code="bad version") from None
        deleted = record.get(s["deleted_field"]) if s["deleted_field"] else False
        if isinstance(deleted, str):
            deleted = deleted.strip().lower() in {"1", "true", "yes"}
        return Change(
            key=self._key(record),
            attributes=self.mapping.apply(record),
            version=version,
            updated_at=record.get(s["updated_at_field"]) if s["updated_at_field"] else None,
            deleted=bool(deleted),
        )

    def erase(self, key: str) -> EraseResult:
        """Remove the record (delete) or blank every field but the key (anonymise)."""
        self.refuse_retained_erasure()
        try:
            records, header, _ = self._read()
            matches = [r for r in records if self._key(r) == str(key)]
            if not matches:
                return EraseResult(key, "not_found")
            if self.erase_policy == "delete":
                records = [r for r in records if self._key(r) != str(key)]
            else:
                for record in matches:
                    for name in record:
                        if name != self.settings["key_field"]:
                            record[name] = "" if self.format == "csv" else None
            self._write(records, header)
        except (ConnectorError, OSError) as exc:
            message = str(exc) if isinstance(exc, ConnectorError) else type(exc).__name__
            return EraseResult(key, "error", error=f"erase failed: {message}")
        outcome = "deleted" if self.erase_policy == "delete" else "anonymised"
        return EraseResult(key, outcome, rows=len(matches))

    @classmethod
    def cursor_forget(cls, settings: Mapping[str, Any], cursor: str,
                      keys: Collection[str]) -> str:
        """An (updated-at, key) cursor ending on an erased key keeps only its updated-at.

        Listing then resumes with every record of that updated-at: the ones read before are
        replays, and none is skipped. A (fingerprint, offset) cursor holds no key.
        """
        try:
            first, second = json.loads(cursor)
        except (TypeError, ValueError):
            return super().cursor_forget(settings, cursor, keys)
        if not isinstance(second, str) or second not in {str(key) for key in keys}:
            return cursor
        return json.dumps([first, None])

    def health(self) -> HealthResult:
        """Whether the file resolves inside the root and is readable."""
        try:
            path = self.file()
            with path.open("rb"):
                pass
        except ConnectorError as exc:
            return HealthResult(False, str(exc))
        except OSError as exc:
            return HealthResult(False, f"cannot open the source file ({type(exc).__name__})")
        return HealthResult(True, "ok")
