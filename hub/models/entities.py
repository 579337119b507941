"""Entities: one real-world customer each, known by an opaque golden ID that never breaks."""

import secrets

from django.db import models

# Crockford's base32 alphabet: no I, L, O or U, so IDs survive being read aloud or retyped.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_golden_id() -> str:
    """A fresh random golden ID: 'G' + 16 base32 characters (80 random bits).

    Random rather than sequential so IDs say nothing about volume or order; the primary key
    constraint makes a collision fail loudly instead of reusing an ID.
    """
    return "G" + "".join(secrets.choice(_ALPHABET) for _ in range(16))


class Entity(models.Model):
    """One real-world customer. Its golden ID is issued once and resolves forever.

    States: *active* (has records), *merged* (``merged_into`` points at the survivor, always the
    final one: merges re-point earlier victims), *retired* (its last record left; the ID still
    resolves to this row) and *erased* (a tombstone after a GDPR erasure).

    Lineage: ``merged_into`` (reverse ``merged_from``) records merges; ``split_from`` (reverse
    ``split_into``) names the entity a steward split this one's record out of. The custom
    permissions ``merge_entity``, ``split_entity`` and ``undo_action`` guard the steward
    services in ``hub.services.steward``.
    """

    class State(models.TextChoices):
        ACTIVE = "active"
        MERGED = "merged"
        RETIRED = "retired"
        ERASED = "erased"

    golden_id = models.CharField(primary_key=True, max_length=17, default=new_golden_id,
                                 editable=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="merged_from")
    split_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="split_into")
    # Incremented by every change of membership or state: an optimistic check for stewards.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "entities"
        permissions = [
            ("merge_entity", "Can merge two entities"),
            ("split_entity", "Can split a record out of an entity"),
            ("undo_action", "Can undo a steward action"),
        ]
        indexes = [models.Index(fields=["state"])]
        constraints = [
            models.CheckConstraint(
                name="entity_merged_has_survivor",
                condition=(models.Q(state="merged", merged_into__isnull=False)
                           | (~models.Q(state="merged") & models.Q(merged_into__isnull=True))),
            ),
        ]

    def __str__(self) -> str:
        return self.golden_id

    @property
    def is_active(self) -> bool:
        return self.state == self.State.ACTIVE
