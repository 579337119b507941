"""Sync cursors that must forget erased source keys.

A source's sync cursor is the position of the last record read, and for keyset cursors that
position includes the record's source key. Once that person is erased (or a record held by the
suppression list is discarded) the hub keeps no key of theirs, so the cursor is rewritten by
the source's connector kind (``connectors.cursors``): to a key-less position with the same
updated-at where the kind knows its layout (the next sync replays the records of that instant,
which changes nothing, and skips none), or to "" where it does not (the next sync starts over).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from connectors import registry
from hub.models import SourceSystem


def sync_cursors_forget(*, keys_by_source: Mapping[int, Collection[str]]) -> int:
    """Rewrite the sync cursors that reveal any of the given keys; returns how many changed.

    ``keys_by_source`` maps a source's id to keys of that source. Call inside the transaction
    that forgets the keys. No connector is built and no source is called.
    """
    changed = 0
    sources = SourceSystem.objects.filter(pk__in=list(keys_by_source)).exclude(sync_cursor="")
    for source in sources:
        keys = [key for key in keys_by_source[source.pk] if key]
        cursor = registry.cursor_forget(source.connector_kind, source.connector_config(),
                                        source.sync_cursor, keys)
        if cursor == source.sync_cursor:
            continue
        # Conditional, and through update() so that ``updated_at`` (the connector cache's
        # version) stays: if a sync stored a newer cursor meanwhile, that one stays too.
        changed += SourceSystem.objects.filter(
            pk=source.pk, sync_cursor=source.sync_cursor).update(sync_cursor=cursor)
    return changed
