"""Match models: versioned, trained match configurations."""

from django.conf import settings
from django.db import models


class MatchModel(models.Model):
    """One version of the match model: comparisons, levels with trained m/u, prior, thresholds.

    ``document`` is the linkage configuration document (``MatchConfig.to_dict()``); it holds
    probabilities and settings only, never term frequencies or any value of a record. At most
    one version is active: the real-time path and ``manage.py match`` use it; without one the
    configuration file shipped with the hub is used. Links and review tasks name the version
    that scored them.
    """

    version = models.CharField(max_length=64, unique=True)
    document = models.JSONField()
    report = models.JSONField(default=dict, blank=True,
                              help_text="Training summary: pairs, iterations, m/u table.")
    is_active = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True),
                                    name="match_model_one_active"),
        ]

    def __str__(self) -> str:
        return self.version
