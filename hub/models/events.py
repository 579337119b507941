"""Events: the append-only change log. IDs, kinds and numbers only, never personal data."""

from django.conf import settings
from django.db import models


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete an event."""


class Event(models.Model):
    """One change record: ingest, link, merge, split, decision, privacy step, data access.

    Written by services in the same transaction as the change it records. ``payload`` holds
    IDs (golden IDs, internal record ids), outcomes and scores: it must never contain key
    attribute values or source keys, so that erasing a person never has to rewrite history.
    """

    kind = models.CharField(max_length=40)
    entity_id = models.CharField(max_length=17, blank=True, db_index=True)
    source_record_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("events are append-only")
