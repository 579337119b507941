"""Privacy requests: a data subject's export or erasure, carried to every source that holds them."""

from django.conf import settings
from django.db import models


class PrivacyRequest(models.Model):
    """One GDPR data-subject request (export or erasure) about one golden ID.

    The life cycle is received -> identity verified -> approved -> in progress -> completed,
    partially completed or failed; a request may be rejected or cancelled before it runs.
    Erasure needs approval by a privacy officer (``approve_privacyrequest``). The audit fields
    say who received, verified and approved it and when; ``hub_erasure`` keeps counts of what
    the hub removed. Nothing here holds the subject's attribute values: the subject is known
    by golden ID, and the export bundle (the one place with personal data, for an export) is
    deleted when its link expires.
    """

    class Kind(models.TextChoices):
        EXPORT = "export"
        ERASURE = "erasure"

    class State(models.TextChoices):
        RECEIVED = "received"
        VERIFIED = "verified", "identity verified"
        APPROVED = "approved"
        IN_PROGRESS = "in_progress", "in progress"
        COMPLETED = "completed"
        PARTIALLY_COMPLETED = "partially_completed", "partially completed"
        FAILED = "failed"
        REJECTED = "rejected"
        CANCELLED = "cancelled"

    class VerificationMethod(models.TextChoices):
        ACCOUNT_LOGIN = "account_login", "signed in to their account"
        EMAIL_CONFIRMATION = "email_confirmation", "confirmed from the e-mail address on file"
        IDENTITY_DOCUMENT = "identity_document", "identity document checked"
        OTHER = "other"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=20, choices=State.choices, default=State.RECEIVED)
    subject = models.ForeignKey("hub.Entity", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="privacy_requests")
    # The channel's own reference (a ticket number), never the person's name or address.
    reference = models.CharField(max_length=100, blank=True)

    received_at = models.DateTimeField()
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    due_at = models.DateTimeField()
    extension_months = models.PositiveSmallIntegerField(default=0)
    extension_reason = models.TextField(blank=True)
    extended_at = models.DateTimeField(null=True, blank=True)
    extended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    verification_method = models.CharField(max_length=20, blank=True,
                                           choices=VerificationMethod.choices)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    close_reason = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    hub_erased_at = models.DateTimeField(null=True, blank=True)
    hub_erasure = models.JSONField(default=dict, blank=True,
                                   help_text="Counts of what the hub removed; never values.")
    export_token = models.CharField(max_length=64, blank=True, db_index=True)
    export_bundle = models.JSONField(null=True, blank=True)
    export_created_at = models.DateTimeField(null=True, blank=True)
    export_expires_at = models.DateTimeField(null=True, blank=True)
    export_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["state", "due_at"])]
        permissions = [("approve_privacyrequest",
                        "Can approve privacy requests (privacy officer)")]

    def __str__(self) -> str:
        return f"privacy request {self.pk} ({self.kind})"


class PrivacyStep(models.Model):
    """The part of a privacy request carried out at one source system.

    ``targets`` lists the subject's records at that source as ``{"record_id", "key",
    "outcome", "rows"}``; a key is kept only while the source still has to be asked, so an
    erased person's source keys do not outlive the step. Transient failures are retried on a
    schedule stored here (``next_attempt_at``, exponential backoff with jitter) until
    ``retry_until``; a restart loses nothing because the schedule is in the database.
    ``result`` holds an export's fetched records until the bundle is assembled.
    """

    class State(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        RETRYING = "retrying"
        DONE = "done"
        NOT_FOUND = "not_found", "not found"
        SKIPPED = "skipped"
        ERROR = "error"

    class SkipReason(models.TextChoices):
        LEGAL_HOLD = "legal_hold", "legal hold"
        NOT_SUPPORTED = "not_supported", "not supported"

    request = models.ForeignKey(PrivacyRequest, on_delete=models.CASCADE, related_name="steps")
    source = models.ForeignKey("hub.SourceSystem", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    targets = models.JSONField(default=list, blank=True)
    skip_reason = models.CharField(max_length=20, blank=True, choices=SkipReason.choices)
    skip_detail = models.TextField(blank=True, help_text="The legal basis of a legal hold.")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    retry_until = models.DateTimeField(null=True, blank=True)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_affected = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    result = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["request", "source__trust_rank", "source__code"]
        constraints = [models.UniqueConstraint(fields=["request", "source"],
                                               name="privacy_step_one_per_source")]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"privacy step {self.pk}"

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STEP_STATES


FINAL_STEP_STATES = frozenset({PrivacyStep.State.DONE, PrivacyStep.State.NOT_FOUND,
                               PrivacyStep.State.SKIPPED, PrivacyStep.State.ERROR})
