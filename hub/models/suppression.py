"""The suppression list: keyed hashes of an erased person's identifiers, and nothing else."""

from django.db import models


class SuppressionEntry(models.Model):
    """One identifier of an erased person, as an HMAC-SHA256 digest under ``PRIVACY_HMAC_KEY``.

    ``kind`` says which identifier was hashed (email, phone, national_id, name_birth_date,
    source_record); the value itself is never stored. A record whose identifiers hash to an
    entry is held for review instead of being linked (``hub.services.privacy_suppression``).
    ``golden_id`` is the erased tombstone, so the review task can name it.
    """

    kind = models.CharField(max_length=20)
    digest = models.CharField(max_length=64)
    golden_id = models.CharField(max_length=17)
    request = models.ForeignKey("hub.PrivacyRequest", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="suppression_entries")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "suppression entries"
        indexes = [models.Index(fields=["digest"], name="suppression_digest")]

    def __str__(self) -> str:
        return f"suppression {self.kind} #{self.pk}"
