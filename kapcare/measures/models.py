import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.schedules import Repeat, Schedule, describe


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
        API = "api", "External app (FHIR API)"

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
    def suicidality_answer(self) -> tuple[int, int | None] | None:
        """(item number, value) of the instrument's suicidality item, for its history."""
        definition = INSTRUMENTS.get(self.instrument)
        if definition is None or definition.suicidality_item is None:
            return None
        number = definition.suicidality_item
        value = self.answers[number - 1] if len(self.answers) >= number else None
        return number, value

    @property
    def total_display(self) -> str:
        """The total without trailing zeros: "14", "16.875"; "" when not scorable."""
        if self.total is None:
            return ""
        text = f"{Decimal(str(self.total)):f}"
        return text.rstrip("0").rstrip(".") if "." in text else text


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"


REPEAT_CHOICES = [
    (Repeat.ONCE.value, "Once"),
    (Repeat.WEEKLY.value, "Weekly"),
    (Repeat.EVERY_N_WEEKS.value, "Every N weeks"),
    (Repeat.MONTHLY.value, "Monthly (for example in maintenance)"),
    (Repeat.BEFORE_DOSING.value, "Before each dosing session"),
    (Repeat.END_OF_INDUCTION.value, "At the end of the induction series"),
]


class QuestionnaireAssignment(models.Model):
    """A clinician's standing order: send this patient this questionnaire on a schedule."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="assignments"
    )
    instrument = models.CharField(max_length=30)
    repeat = models.CharField(max_length=20, choices=REPEAT_CHOICES)
    interval_weeks = models.PositiveSmallIntegerField(default=1)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    channel = models.CharField(
        max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    problem = models.CharField(
        max_length=200, blank=True, help_text="Why the last due send failed."
    )

    class Meta:
        ordering = ["stopped_at", "-assigned_at"]
        indexes = [models.Index(fields=["stopped_at"], name="measures_assignment_live")]

    def __str__(self) -> str:
        return f"{self.instrument} {self.repeat} for {self.patient_id}"

    @property
    def schedule(self) -> Schedule:
        return Schedule(
            Repeat(self.repeat), self.starts_on, self.ends_on, self.interval_weeks
        )

    @property
    def description(self) -> str:
        return describe(self.schedule)

    @property
    def instrument_name(self) -> str:
        definition = INSTRUMENTS.get(self.instrument)
        return definition.name if definition else self.instrument


class QuestionnaireLink(models.Model):
    """A single-use, expiring link that lets a patient fill in one questionnaire
    without signing in (or in the portal). Only a hash of the token is stored;
    staff can withdraw a link that has not been answered (sent to a wrong address).

    Answers are kept as a draft while the patient fills the form, so they can
    come back to it until the link expires.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="questionnaire_links"
    )
    instrument = models.CharField(max_length=30)
    token_hash = models.CharField(max_length=64, unique=True)
    channel = models.CharField(
        max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    sent_to = models.CharField(max_length=254)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when a schedule sent it.",
    )
    assignment = models.ForeignKey(
        QuestionnaireAssignment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="links",
    )
    due_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    draft_answers = models.JSONField(
        default=dict, blank=True, help_text="Item number -> value, saved as they go."
    )
    draft_saved_at = models.DateTimeField(null=True, blank=True)
    delivery_error = models.CharField(max_length=200, blank=True)
    response = models.OneToOneField(
        QuestionnaireResponse,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="link",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One link per scheduled occurrence: a re-run of the sender sends nothing twice.
            models.UniqueConstraint(
                fields=["assignment", "due_on"], name="measures_link_one_per_due"
            )
        ]
        indexes = [
            models.Index(fields=["patient", "used_at"], name="measures_link_open")
        ]

    def __str__(self) -> str:
        return f"{self.instrument} link for {self.patient_id}"

    @property
    def instrument_name(self) -> str:
        definition = INSTRUMENTS.get(self.instrument)
        return definition.name if definition else self.instrument

    def is_usable(self) -> bool:
        return (
            self.used_at is None
            and self.withdrawn_at is None
            and self.expires_at > timezone.now()
        )


class MeasureSummary(models.Model):
    """Each patient's standing on one instrument, kept current in the transaction that
    stores a response, so the caseload page reads one row per patient and instrument
    however long the history is."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="measure_summaries"
    )
    instrument = models.CharField(max_length=30)
    count = models.PositiveIntegerField()
    baseline_total = models.FloatField()
    baseline_on = models.DateField()
    previous_total = models.FloatField(null=True, blank=True)
    latest_total = models.FloatField()
    latest_on = models.DateField()
    latest_band = models.CharField(max_length=40, blank=True)
    percent_change = models.FloatField(null=True, blank=True)
    response = models.BooleanField(null=True)
    remission = models.BooleanField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "instrument"], name="measures_summary_one"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument} summary for {self.patient_id}"

    @property
    def instrument_name(self) -> str:
        definition = INSTRUMENTS.get(self.instrument)
        return definition.name if definition else self.instrument

    @property
    def trend(self) -> str:
        """ "up", "down" or "same" against the previous total (lower is better)."""
        if self.previous_total is None or self.previous_total == self.latest_total:
            return "same"
        return "up" if self.latest_total > self.previous_total else "down"

    @property
    def band_rank(self) -> int:
        """Position of the latest band in the instrument's bands (0 = mildest)."""
        definition = INSTRUMENTS.get(self.instrument)
        if definition is None:
            return 0
        labels = [label for _, _, label in definition.band_ranges]
        return labels.index(self.latest_band) if self.latest_band in labels else 0
