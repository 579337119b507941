"""The "steward" and "viewer" groups, kept in place after migrations and database flushes.

Migration 0005 creates them once; a flush (as transactional tests do between tests) empties
every table, and Django then re-creates permissions but not groups. Connecting
``steward_groups_on_migrate`` to ``post_migrate`` puts the groups back in both cases.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS

VIEW_PERMISSIONS = (
    "view_entity", "view_sourcerecord", "view_link", "view_decision", "view_reviewtask",
    "view_event", "view_sourcesystem", "view_matchmodel",
)
STEWARD_ACTIONS = ("resolve_reviewtask", "merge_entity", "split_entity", "undo_action")
GROUP_PERMISSIONS = {
    "steward": VIEW_PERMISSIONS + STEWARD_ACTIONS,
    "viewer": VIEW_PERMISSIONS,
}


def steward_groups_ensure(*, using: str = DEFAULT_DB_ALIAS) -> dict[str, Group]:
    """Create the two groups if missing and give them exactly their permissions."""
    groups = {}
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set(Permission.objects.using(using).filter(
            content_type__app_label="hub", codename__in=codenames))
        groups[name] = group
    return groups


def steward_groups_on_migrate(sender, *, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """``post_migrate`` receiver (connect it with ``sender`` = the hub's app config)."""
    steward_groups_ensure(using=using)
