"""Source systems: the systems of record whose customer records the hub cross-references."""

from django.core.validators import RegexValidator
from django.db import models

source_code_validator = RegexValidator(
    r"^[a-z][a-z0-9_-]{0,39}$",
    "Use 1-40 lower-case letters, digits, '-' or '_', starting with a letter.",
)


class SourceSystem(models.Model):
    """A system of record (CRM, billing, ...), known by a short stable code such as ``crm``.

    ``trust_rank`` orders sources for survivorship (lower wins). Connector settings and privacy
    policy are added with the connectors; secrets are never stored here.
    """

    code = models.CharField(max_length=40, unique=True, validators=[source_code_validator])
    name = models.CharField(max_length=200, blank=True)
    trust_rank = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["trust_rank", "code"]

    def __str__(self) -> str:
        return self.code
