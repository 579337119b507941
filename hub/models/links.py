"""Links: the history of source records' memberships of entities, with score and reason."""

from django.conf import settings
from django.db import models


class Link(models.Model):
    """A source record's membership of an entity, from ``created_at`` until ``ended_at``.

    The current link has ``ended_at`` empty (at most one per record). ``origin`` says whether
    matching (auto) or a steward (manual) made it; ``score`` and ``explanation`` are the match
    weight and its per-attribute breakdown (levels and weights only, no values) with the model
    version that produced them.
    """

    class Origin(models.TextChoices):
        AUTO = "auto"
        MANUAL = "manual"

    class Outcome(models.TextChoices):
        LINKED = "linked"
        NEW_ENTITY = "new_entity"
        REVIEW = "review"

    source_record = models.ForeignKey("hub.SourceRecord", on_delete=models.CASCADE,
                                      related_name="links")
    entity = models.ForeignKey("hub.Entity", on_delete=models.PROTECT, related_name="links")
    origin = models.CharField(max_length=10, choices=Origin.choices)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    score = models.FloatField(null=True, blank=True)
    explanation = models.JSONField(default=dict, blank=True)
    model_version = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source_record"], condition=models.Q(ended_at=None),
                                    name="link_one_current_per_record"),
        ]
        indexes = [models.Index(fields=["entity", "ended_at"])]

    def __str__(self) -> str:
        return f"link {self.source_record_id} -> {self.entity_id}"
