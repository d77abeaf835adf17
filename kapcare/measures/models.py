import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from kapcare.measures.instruments import INSTRUMENTS


class QuestionnaireResponse(models.Model):
    """One completed (or partly completed) instrument, with the score as computed then.

    The score is stored, not recomputed, so a later change to a definition never
    silently rewrites history; `instrument_version` says which definition scored it.
    """

    class Source(models.TextChoices):
        PATIENT_LINK = "patient_link", "Patient, by emailed link"
        PORTAL = "portal", "Patient, in the portal"
        CLINICIAN = "clinician", "Clinician-rated"
        PAPER = "paper", "Paper form entered by staff"

    class Status(models.TextChoices):
        COMPLETED = "completed", "Completed"
        ENTERED_IN_ERROR = "entered-in-error", "Entered in error"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        related_name="questionnaire_responses",
    )
    instrument = models.CharField(max_length=30)
    instrument_version = models.CharField(max_length=10)
    answers = models.JSONField(
        help_text="Item values in item order; null where unanswered."
    )
    total = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    band = models.CharField(max_length=40, blank=True)
    subscales = models.JSONField(default=dict, blank=True)
    flags = models.JSONField(default=list, blank=True)
    risk = models.CharField(max_length=10, blank=True)
    is_complete = models.BooleanField()
    source = models.CharField(max_length=20, choices=Source.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    authored_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.COMPLETED
    )
    submission_key = models.CharField(
        max_length=64,
        unique=True,
        help_text="Sent with the form; a repeated submit finds this row.",
    )

    class Meta:
        ordering = ["-authored_at"]
        indexes = [
            models.Index(
                fields=["patient", "instrument", "-authored_at"],
                name="measures_response_history",
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument} for {self.patient_id} at {self.authored_at:%Y-%m-%d}"

    @property
    def instrument_name(self) -> str:
        definition = INSTRUMENTS.get(self.instrument)
        return definition.name if definition else self.instrument

    @property
    def total_display(self) -> str:
        """The total without trailing zeros: "14", "16.875"; "" when not scorable."""
        if self.total is None:
            return ""
        text = f"{Decimal(str(self.total)):f}"
        return text.rstrip("0").rstrip(".") if "." in text else text


class QuestionnaireLink(models.Model):
    """A single-use, expiring link that lets a patient fill in one questionnaire
    without signing in. Only a hash of the token is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="questionnaire_links"
    )
    instrument = models.CharField(max_length=30)
    token_hash = models.CharField(max_length=64, unique=True)
    sent_to = models.EmailField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    response = models.OneToOneField(
        QuestionnaireResponse,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="link",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.instrument} link for {self.patient_id}"

    def is_usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()
