"""Who may use the FHIR API: registered clients with SMART-style scopes."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiClient(models.Model):
    """A registered API client. Only the token's SHA-256 is kept; the token is
    shown once when the client is created. A revoked client is refused at once.

    A system client (a registry, a referring EMR's backend) holds `system/*.read`:
    every patient. A patient client (a patient's own app) holds `patient/*.read`
    bound to one patient: anything outside that patient's compartment is 404."""

    class Kind(models.TextChoices):
        SYSTEM = "system", "Backend system (all patients)"
        PATIENT = "patient", "One patient's app"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.CASCADE,
        related_name="api_clients",
    )  # fmt: skip
    may_submit_responses = models.BooleanField(
        "may send questionnaire responses", default=False,
        help_text="Adds QuestionnaireResponse.write to the client's scopes.",
    )  # fmt: skip
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(max_length=8, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="patient") & models.Q(patient__isnull=False))
                | (models.Q(kind="system") & models.Q(patient__isnull=True)),
                name="fhir_client_patient_iff_patient_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scopes(self) -> list[str]:
        context = "patient" if self.kind == self.Kind.PATIENT else "system"
        scopes = [f"{context}/*.read"]
        if self.may_submit_responses:
            scopes.append(f"{context}/QuestionnaireResponse.write")
        return scopes


class BulkExport(models.Model):
    """One Bulk Data $export request (FHIR Bulk Data Access IG): kicked off by a
    system client, run by a task, its NDJSON files kept in private storage."""

    class Level(models.TextChoices):
        SYSTEM = "system", "Whole system"
        PATIENT = "patient", "All patients"
        GROUP = "group", "Group of patients"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(
        ApiClient, on_delete=models.CASCADE, related_name="exports"
    )
    level = models.CharField(max_length=8, choices=Level.choices)
    group = models.CharField(max_length=40, blank=True)
    types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    request_url = models.CharField(max_length=500)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=300, blank=True)
    transaction_time = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    run_id = models.UUIDField(null=True, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.status})"


class BulkExportFile(models.Model):
    export = models.ForeignKey(
        BulkExport, on_delete=models.CASCADE, related_name="files"
    )
    resource_type = models.CharField(max_length=40)
    part = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    count = models.PositiveIntegerField()

    class Meta:
        ordering = ["resource_type", "part"]
        constraints = [
            models.UniqueConstraint(
                fields=["export", "resource_type", "part"], name="fhir_export_file_once"
            )
        ]

    def __str__(self) -> str:
        return self.name
