"""Source records: the hub's cross-reference to one record in one source system."""

from django.db import models


class SourceRecord(models.Model):
    """A cross-reference ``(source, source_key)`` with the key attributes needed to match.

    Holds the key attributes as received and standardised, the source's version / updated-at
    (to ignore replays and out-of-order changes) and the entity it belongs to. Never the full
    record: that stays in the source and is fetched live. A deleted record keeps its row (and
    version) so that a late, older change cannot bring it back; it belongs to no entity.
    """

    class State(models.TextChoices):
        ACTIVE = "active"
        DELETED = "deleted"
        ERASED = "erased"

    source = models.ForeignKey("hub.SourceSystem", on_delete=models.PROTECT,
                               related_name="records")
    source_key = models.CharField(max_length=255)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    attributes = models.JSONField(default=dict, help_text="Key attributes as received.")
    standardised = models.JSONField(default=dict, help_text="Key attributes standardised.")
    invalid_attributes = models.JSONField(
        default=dict, blank=True,
        help_text="Attributes received with an unusable value, with the reason (no values).")
    # Hash of the received attributes: an identical replay is detected without comparing JSON.
    content_hash = models.CharField(max_length=64)
    source_version = models.BigIntegerField(null=True, blank=True)
    source_updated_at = models.DateTimeField(null=True, blank=True)
    entity = models.ForeignKey("hub.Entity", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="records")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "source_key"], name="record_unique_key"),
            models.CheckConstraint(
                name="record_active_has_entity",
                condition=(models.Q(state="active", entity__isnull=False)
                           | (~models.Q(state="active") & models.Q(entity__isnull=True))),
            ),
        ]

    def __str__(self) -> str:
        return f"record {self.pk}"
