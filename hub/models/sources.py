"""Source systems: the systems of record whose customer records the hub cross-references."""

from django.core.validators import RegexValidator
from django.db import models

source_code_validator = RegexValidator(
    r"^[a-z][a-z0-9_-]{0,39}$",
    "Use 1-40 lower-case letters, digits, '-' or '_', starting with a letter.",
)


class SourceSystem(models.Model):
    """A system of record (CRM, billing, ...), known by a short stable code such as ``crm``.

    ``trust_rank`` orders sources for survivorship (lower wins). The connector is described by
    its ``connector_kind`` (a name in ``connectors.registry``), ``connector_settings`` (secrets by
    environment-variable *name* only) and ``field_mapping`` (source field -> canonical key
    attribute). The privacy policy says how erasure is done there (``erase_policy``; ``retain``
    needs a ``legal_basis``) and what a data-subject export tells the person (purposes, data
    categories, recipients). ``sync_cursor`` is where the next incremental sync resumes.
    """

    class ErasePolicy(models.TextChoices):
        DELETE = "delete"
        ANONYMISE = "anonymise"
        RETAIN = "retain", "retain (legal hold)"

    code = models.CharField(max_length=40, unique=True, validators=[source_code_validator])
    name = models.CharField(max_length=200, blank=True)
    trust_rank = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    connector_kind = models.CharField(max_length=40, blank=True)
    connector_settings = models.JSONField(default=dict, blank=True)
    field_mapping = models.JSONField(default=dict, blank=True)
    erase_policy = models.CharField(max_length=10, choices=ErasePolicy.choices,
                                    default=ErasePolicy.RETAIN)
    legal_basis = models.TextField(blank=True)
    purposes = models.JSONField(default=list, blank=True)
    data_categories = models.JSONField(default=list, blank=True)
    recipients = models.JSONField(default=list, blank=True)

    sync_cursor = models.TextField(blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["trust_rank", "code"]

    def __str__(self) -> str:
        return self.code

    @property
    def has_connector(self) -> bool:
        return bool(self.connector_kind)

    def connector_config(self) -> dict:
        """The plain settings ``connectors.registry.create`` takes for this source."""
        return {**self.connector_settings, "mapping": self.field_mapping,
                "erase_policy": self.erase_policy}
