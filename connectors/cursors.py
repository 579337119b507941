"""Sync cursors that may hold a source key, and how to tell.

A keyset cursor is a position, (updated-at, key) of the last record read, so the key of that
record sits in the cursor the hub stores. When that person is erased the cursor must stop
revealing the key. Kinds that know their cursor's layout (``Connector.cursor_forget``) replace
the key with a *key-less* position (the same updated-at, no key): listing resumes with every
record of that updated-at, so nothing is skipped, and the ones read before are replays, which
change nothing in the hub. An opaque cursor is searched for the key as it is, URL-decoded,
base64-decoded and JSON-decoded; when the key can be read in it, it is cleared and the next
sync starts from the beginning (slower, equally safe).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Collection, Iterator
from typing import Any
from urllib.parse import unquote

_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")


def _base64_text(cursor: str) -> str | None:
    """The cursor decoded as (URL-safe or standard) base64 text, or None if it is not."""
    compact = cursor.strip()
    try:
        raw = base64.b64decode(compact.translate(_URLSAFE_TO_STANDARD)
                               + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.decode("utf-8", errors="ignore")


def _json_strings(text: str) -> Iterator[str]:
    """Every scalar in ``text`` read as JSON (nothing when it is not JSON), as text."""
    try:
        stack: list[Any] = [json.loads(text)]
    except (ValueError, RecursionError):
        return
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            stack += value
        elif value is not None:
            yield str(value)


def readable_forms(cursor: str) -> list[str]:
    """The ways a key could be read in ``cursor``, case-folded."""
    forms = [cursor, unquote(cursor)]
    decoded = _base64_text(cursor)
    if decoded:
        forms.append(decoded)
    for form in list(forms):
        forms += list(_json_strings(form))
    return [form.casefold() for form in forms]


def reveals(cursor: str, keys: Collection[str]) -> bool:
    """Whether any of ``keys`` can be read in ``cursor``.

    A key counts only as a whole token (not preceded or followed by a letter or digit), so a
    short numeric key is not "found" inside a timestamp.
    """
    if not cursor:
        return False
    forms = readable_forms(cursor)
    for key in keys:
        folded = str(key).casefold()
        if not folded:
            continue
        token = re.compile(rf"(?<![0-9a-z]){re.escape(folded)}(?![0-9a-z])")
        if any(token.search(form) for form in forms):
            return True
    return False
