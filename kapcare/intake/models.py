"""The clinic's front door: consultation requests, their pipeline, and self-checks
people chose to attach."""

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from kapcare.intake.eligibility import SEVERITY


class ConsultationRequest(models.Model):
    """Someone asking for a free consultation (not yet a patient)."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        BOOKED = "booked", "Consultation booked"
        ASSESSED = "assessed", "Assessed"
        ACCEPTED = "accepted", "Accepted"
        NOT_ELIGIBLE = "not_eligible", "Not eligible"
        REFERRED = "referred", "Referred elsewhere"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Contact(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone call"
        TEXT = "text", "Text message"

    class ContactTime(models.TextChoices):
        ANY = "any", "Any time"
        MORNING = "morning", "Morning (9-12)"
        AFTERNOON = "afternoon", "Afternoon (12-5)"
        EVENING = "evening", "Evening (5-8)"

    class HeardFrom(models.TextChoices):
        DOCTOR = "doctor", "My doctor or therapist"
        SEARCH = "search", "Web search"
        SOCIAL = "social", "Social media"
        FRIEND = "friend", "Friend or family"
        ARTICLE = "article", "An article or the clinic's blog"
        OTHER = "other", "Other"

    OPEN_STATUSES = (Status.NEW, Status.CONTACTED, Status.BOOKED, Status.ASSESSED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    born_on = models.DateField("date of birth", null=True, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True)
    preferred_contact = models.CharField(max_length=10, choices=Contact.choices)
    preferred_time = models.CharField(
        max_length=10, choices=ContactTime.choices, default=ContactTime.ANY
    )
    heard_from = models.CharField(max_length=10, choices=HeardFrom.choices, blank=True)
    message = models.TextField(blank=True, max_length=2000)
    consent_to_contact_at = models.DateTimeField(
        help_text="When the person ticked the consent box (CASL, PHIPA)."
    )
    consent_wording = models.TextField(help_text="The exact wording they agreed to.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    submission_key = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.NEW)
    status_changed_at = models.DateTimeField(default=timezone.now)
    first_contacted_at = models.DateTimeField(null=True, blank=True)
    patient = models.OneToOneField(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consultation_request",
    )
    search_text = models.CharField(max_length=400, editable=False, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="intake_board"),
            models.Index(fields=["email"], name="intake_request_email"),
            models.Index(fields=["phone"], name="intake_request_phone"),
            models.Index(fields=["ip_address", "created_at"], name="intake_request_ip"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_status_display()})"

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    def build_search_text(self) -> str:
        digits = "".join(c for c in self.phone if c.isdigit())
        return " ".join(
            [self.given_name, self.family_name, self.email, digits]
        ).casefold()


class RequestStatusChange(models.Model):
    """One step on the pipeline board: who moved the request, when, and why."""

    request = models.ForeignKey(
        ConsultationRequest, on_delete=models.CASCADE, related_name="changes"
    )
    from_status = models.CharField(max_length=15, blank=True)
    to_status = models.CharField(max_length=15)
    note = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or 'start'} -> {self.to_status}"


class SelfCheck(models.Model):
    """A self-check the person chose to attach to their request (otherwise nothing
    of it is stored)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.OneToOneField(
        ConsultationRequest, on_delete=models.CASCADE, related_name="self_check"
    )
    phq9_answers = models.JSONField()
    phq9_total = models.PositiveSmallIntegerField(null=True)
    phq9_band = models.CharField(max_length=40, blank=True)
    antidepressants_tried = models.CharField(max_length=10)
    screening_answers = models.JSONField()
    outcome = models.CharField(
        max_length=20,
        choices=[
            ("candidate", "May be a candidate"),
            ("talk_to_doctor", "Talk to a doctor first"),
            ("not_suitable", "Not suitable"),
        ],
    )
    completed_at = models.DateTimeField()
    token_hash = models.CharField(  # noqa: DJ001 - NULL keeps old rows unique
        max_length=64,
        unique=True,
        null=True,
        help_text="A self-check can be sent once: its signed answers are not reusable.",
    )

    def __str__(self) -> str:
        return f"Self-check for {self.request_id}: {self.outcome}"


class Referral(models.Model):
    """A referral from a family physician or psychiatrist, with its letter."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.OneToOneField(
        ConsultationRequest, on_delete=models.PROTECT, related_name="referral"
    )
    clinician_name = models.CharField("referring clinician", max_length=150)
    cpso_number = models.CharField("CPSO number", max_length=10, blank=True)
    billing_number = models.CharField("billing number", max_length=10, blank=True)
    clinician_phone = models.CharField("clinician's phone", max_length=20, blank=True)
    clinician_fax = models.CharField("clinician's fax", max_length=20, blank=True)
    reason = models.TextField("reason for referral", max_length=4000)
    letter = models.CharField(max_length=200, blank=True, editable=False)
    letter_content_type = models.CharField(max_length=40, blank=True, editable=False)
    letter_original_name = models.CharField(max_length=200, blank=True, editable=False)
    letter_size = models.PositiveIntegerField(default=0, editable=False)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Referral from {self.clinician_name}"


class ConsentDocument(models.Model):
    """One version of the clinic's KAP informed-consent text. Versions are never
    edited: a change is a new version, which may require patients to sign again."""

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField()
    requires_reconsent = models.BooleanField(
        default=True,
        help_text="Patients who signed an earlier version must sign this one.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("A consent version is never changed; add a new one.")
        super().save(*args, **kwargs)


class ConsentSignature(models.Model):
    """A patient's consent to one version: typed in the portal, or a scanned paper form."""

    class Method(models.TextChoices):
        PORTAL = "portal", "Signed in the portal"
        PAPER = "paper", "Paper form, scanned"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="consents"
    )
    document = models.ForeignKey(
        ConsentDocument, on_delete=models.PROTECT, related_name="signatures"
    )
    method = models.CharField(max_length=10, choices=Method.choices)
    typed_name = models.CharField(max_length=200, blank=True)
    signed_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    scan = models.CharField(max_length=200, blank=True, editable=False)
    scan_content_type = models.CharField(max_length=40, blank=True, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "document"], name="intake_consent_once_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"Consent v{self.document_id} by {self.patient_id}"


class EligibilityAssessment(models.Model):
    """The physician's documented decision on whether ketamine suits this patient.
    Signed assessments are read-only; later changes are dated addenda."""

    class Decision(models.TextChoices):
        ELIGIBLE = "eligible", "Eligible"
        NOT_ELIGIBLE = "not_eligible", "Not eligible"
        DEFERRED = "deferred", "Decision deferred"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="eligibility"
    )
    episode_months = models.PositiveSmallIntegerField(
        "duration of the current episode (months)", null=True, blank=True
    )
    severity = models.CharField(
        "symptom severity", max_length=20, blank=True,
        choices=[(code, label) for code, label, _ in SEVERITY],
    )  # fmt: skip
    augmentation_used = models.BooleanField("augmentation used", default=False)
    ect_used = models.BooleanField("ECT used", default=False)
    contraindications = models.JSONField(default=list, blank=True)
    precautions = models.JSONField(default=list, blank=True)
    override_reason = models.TextField(
        "reason to proceed despite a contraindication", blank=True
    )
    bp_systolic = models.PositiveSmallIntegerField(
        "BP systolic (mmHg)", null=True, blank=True
    )
    bp_diastolic = models.PositiveSmallIntegerField(
        "BP diastolic (mmHg)", null=True, blank=True
    )
    heart_rate = models.PositiveSmallIntegerField(
        "heart rate (/min)", null=True, blank=True
    )
    weight_kg = models.DecimalField(
        "weight (kg)", max_digits=5, decimal_places=1, null=True, blank=True
    )
    height_cm = models.DecimalField(
        "height (cm)", max_digits=5, decimal_places=1, null=True, blank=True
    )
    psychiatric_history = models.TextField(blank=True)
    substance_history = models.TextField("substance use history", blank=True)
    current_medications = models.TextField(blank=True)
    takes_benzodiazepine = models.BooleanField("takes a benzodiazepine", default=False)
    takes_lamotrigine = models.BooleanField("takes lamotrigine", default=False)
    takes_maoi = models.BooleanField("takes an MAOI", default=False)
    decision = models.CharField(max_length=15, choices=Decision.choices, blank=True)
    rationale = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_summary = models.JSONField(
        default=dict, blank=True, help_text="TRD, MSM and BMI as shown when signed."
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Eligibility assessment for {self.patient_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if (
            not self._state.adding
            and type(self).objects.filter(pk=self.pk, signed_at__isnull=False).exists()
        ):
            raise PermissionError("A signed assessment is read-only; add an addendum.")
        super().save(*args, **kwargs)

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class AntidepressantTrial(models.Model):
    class Outcome(models.TextChoices):
        NO_RESPONSE = "no_response", "No response"
        PARTIAL = "partial", "Partial response (< 50 %)"
        RESPONSE = "response", "Response"
        INTOLERANCE = "intolerance", "Stopped for side effects"

    assessment = models.ForeignKey(
        EligibilityAssessment, on_delete=models.CASCADE, related_name="trials"
    )
    drug = models.CharField(max_length=100)
    dose = models.CharField(max_length=60, blank=True)
    duration_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    adequate = models.BooleanField("adequate dose and duration", default=False)
    outcome = models.CharField(max_length=15, choices=Outcome.choices)
    reason_stopped = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.drug

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._refuse_if_signed()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        self._refuse_if_signed()
        return super().delete(*args, **kwargs)

    def _refuse_if_signed(self) -> None:
        if EligibilityAssessment.objects.filter(
            pk=self.assessment_id, signed_at__isnull=False
        ).exists():
            raise PermissionError("The assessment is signed; add an addendum instead.")


class AssessmentAddendum(models.Model):
    assessment = models.ForeignKey(
        EligibilityAssessment, on_delete=models.PROTECT, related_name="addenda"
    )
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Addendum {self.created_at:%Y-%m-%d}"
