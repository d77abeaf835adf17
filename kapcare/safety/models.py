"""Safety alerts: raised with the data that triggers them, never deleted."""

import uuid
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class SafetyAlertQuerySet(models.QuerySet["SafetyAlert"]):
    def open(self) -> "SafetyAlertQuerySet":
        """Alerts nobody has acknowledged yet."""
        return self.filter(state=SafetyAlert.State.OPEN)

    def unresolved(self) -> "SafetyAlertQuerySet":
        return self.exclude(state=SafetyAlert.State.RESOLVED)

    def by_urgency(self) -> "SafetyAlertQuerySet":
        """High before moderate, then oldest first."""
        return self.order_by("level_rank", "raised_at")

    def delete(self) -> NoReturn:
        raise PermissionError("Safety alerts are never deleted; resolve them instead.")


class SafetyAlert(models.Model):
    class Level(models.TextChoices):
        HIGH = "high", "High"
        MODERATE = "moderate", "Moderate"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"

    class Trigger(models.TextChoices):
        QUESTIONNAIRE = "questionnaire", "Questionnaire answer"
        MANUAL = "manual", "Clinician's risk flag"
        RELAPSE = "relapse", "Possible relapse"
        ADVERSE_EVENT = "adverse_event", "Serious adverse event"

    class Action(models.TextChoices):
        CALLED_PATIENT = "called_patient", "Called the patient"
        SAFETY_PLAN_REVIEWED = "safety_plan_reviewed", "Reviewed the safety plan"
        URGENT_APPOINTMENT = "urgent_appointment", "Booked an urgent appointment"
        SENT_TO_EMERGENCY = "sent_to_emergency", "Sent to emergency"
        OTHER = "other", "Other (see note)"

    class Resolution(models.TextChoices):
        ADDRESSED = "addressed", "Risk addressed"
        RAISED_IN_ERROR = "raised_in_error", "Raised in error"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="safety_alerts",
    )
    consultation_request = models.ForeignKey(
        "intake.ConsultationRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="safety_alerts",
        help_text="Set for an alert from a self-check sent with a consultation "
        "request (someone who is not a patient yet).",
    )
    level = models.CharField(max_length=10, choices=Level.choices)
    level_rank = models.PositiveSmallIntegerField(editable=False)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    reason = models.CharField(max_length=300)
    source_type = models.CharField(max_length=40, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=15, choices=State.choices, default=State.OPEN)
    raised_at = models.DateTimeField(default=timezone.now)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(max_length=30, choices=Action.choices, blank=True)
    action_note = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    resolution_note = models.TextField(blank=True)

    objects = SafetyAlertQuerySet.as_manager()

    LEVEL_RANKS = {Level.HIGH: 0, Level.MODERATE: 1}

    class Meta:
        ordering = ["level_rank", "raised_at"]
        indexes = [
            models.Index(
                fields=["state", "level_rank", "raised_at"], name="safety_alert_queue"
            ),
            models.Index(
                fields=["patient", "state"], name="safety_alert_patient_state"
            ),
        ]
        constraints = [
            # One alert per triggering record: a retried submit cannot raise a second.
            models.UniqueConstraint(
                fields=["source_type", "source_id", "reason"],
                condition=~models.Q(source_id=""),
                name="safety_alert_one_per_source",
            ),
            models.CheckConstraint(
                condition=models.Q(patient__isnull=False)
                | models.Q(consultation_request__isnull=False),
                name="safety_alert_about_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} alert for {self.patient_id}: {self.reason}"

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("Safety alerts are never deleted; resolve them instead.")

    @property
    def subject_name(self) -> str:
        """Who the alert is about: the chart, or the consultation request."""
        if self.patient is not None:
            return self.patient.display_name
        if self.consultation_request is not None:
            return f"{self.consultation_request.display_name} (consultation request)"
        return ""

    def get_subject_url(self) -> str:
        if self.patient is not None:
            return self.patient.get_absolute_url()
        return reverse("intake:request_detail", args=[self.consultation_request_id])


class OnCallShift(models.Model):
    """The clinic's on-call rota: who is paged when an alert is not acknowledged."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    physician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="on_call_shifts",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    page_phone = models.CharField(
        "phone to text while on call",
        max_length=20,
        blank=True,
        help_text="Mobile number in E.164 form; escalations go by email and, if set, text.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["starts_at", "ends_at"], name="safety_oncall_when")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="safety_oncall_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.physician} on call {self.period}"

    @property
    def period(self) -> str:
        """ "from 2026-11-27 08:00 to 2026-11-28 08:00", in the clinic's time zone."""
        start, end = (
            timezone.localtime(self.starts_at),
            timezone.localtime(self.ends_at),
        )
        return f"from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}"


class AlertNotification(models.Model):
    """One escalation message (or the record that nobody could be reached)."""

    class Stage(models.TextChoices):
        ON_CALL = "on_call", "On-call physician"
        ADMIN = "admin", "Clinic admin"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "Text message"
        NONE = "none", "Nobody to notify"

    class Status(models.TextChoices):
        PENDING = "pending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        NO_RECIPIENT = "no_recipient", "Nobody to notify"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    alert = models.ForeignKey(
        SafetyAlert, on_delete=models.PROTECT, related_name="notifications"
    )
    stage = models.CharField(max_length=10, choices=Stage.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    sent_to = models.CharField(max_length=254, blank=True)
    status = models.CharField(
        max_length=15, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    detail = models.CharField(max_length=300, blank=True)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # One message per stage, person and channel: a re-run sends nothing twice.
            models.UniqueConstraint(
                fields=["alert", "stage", "recipient", "channel"],
                name="safety_notification_once",
            ),
            models.UniqueConstraint(
                fields=["alert", "stage"],
                condition=models.Q(recipient__isnull=True),
                name="safety_notification_nobody_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.channel} for alert {self.alert_id}"


SAFETY_PLAN_SECTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "warning_signs",
        "Step 1: Warning signs",
        "Thoughts, images, moods, situations or behaviours that a crisis may be developing.",
    ),
    (
        "coping_strategies",
        "Step 2: Internal coping strategies",
        "Things I can do to take my mind off my problems without contacting another person.",
    ),
    (
        "distractions",
        "Step 3: People and social settings that provide distraction",
        "Names and phone numbers, and places I can go.",
    ),
    (
        "people_to_ask",
        "Step 4: People whom I can ask for help",
        "Names and phone numbers.",
    ),
    (
        "professionals",
        "Step 5: Professionals or agencies I can contact during a crisis",
        "Clinicians, the clinic, crisis lines (9-8-8, call or text) and 9-1-1.",
    ),
    (
        "safe_environment",
        "Step 6: Making the environment safe",
        "How I will limit access to means, with whom.",
    ),
    (
        "reasons_for_living",
        "The one thing that is most important to me and worth living for",
        "",
    ),
)


class SafetyPlanVersion(models.Model):
    """One version of a patient's safety plan; versions are never changed, only added.

    Structure: Stanley B, Brown GK. Safety Planning Intervention: a brief
    intervention to mitigate suicide risk. Cogn Behav Pract 2012;19(2):256-264
    (six steps plus the reason for living). Not in /work/shared/clinical/.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="safety_plans"
    )
    version = models.PositiveIntegerField()
    warning_signs = models.TextField(blank=True)
    coping_strategies = models.TextField(blank=True)
    distractions = models.TextField(blank=True)
    people_to_ask = models.TextField(blank=True)
    professionals = models.TextField(blank=True)
    safe_environment = models.TextField(blank=True)
    reasons_for_living = models.TextField(blank=True)
    written_with_patient = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "version"], name="safety_plan_one_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"Safety plan v{self.version} for {self.patient_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("A saved safety plan version is never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("Safety plan versions are never deleted.")

    @property
    def sections(self) -> list[tuple[str, str, str]]:
        """(heading, hint, text) for each step, in order."""
        return [
            (heading, hint, str(getattr(self, name)))
            for name, heading, hint in SAFETY_PLAN_SECTIONS
        ]
