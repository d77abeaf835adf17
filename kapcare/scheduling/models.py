"""Appointments, the chairs and rooms they use, and when staff work."""

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone

if TYPE_CHECKING:
    from kapcare.accounts.models import User


class AppointmentType(models.Model):
    """A clinic-editable kind of appointment: how long, what it needs, how to prepare."""

    class Kind(models.TextChoices):
        CONSULTATION = "consultation", "Free consultation"
        ASSESSMENT = "assessment", "Physician assessment"
        DOSING = "dosing", "Dosing session"
        INTEGRATION = "integration", "Integration session"
        FOLLOW_UP = "follow_up", "Follow-up"
        BOOSTER = "booster", "Booster"

    class ClinicianRole(models.TextChoices):
        PHYSICIAN = "Physician", "Physician"
        NURSE = "Nurse", "Nurse"
        THERAPIST = "Therapist", "Therapist"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seed_key = models.CharField(max_length=40, blank=True, editable=False)
    name = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=14, choices=Kind.choices)
    duration_minutes = models.PositiveSmallIntegerField()
    clinician_role = models.CharField(max_length=12, choices=ClinicianRole.choices)
    needs_chair = models.BooleanField(
        default=False, help_text="Needs a dosing chair for its whole length."
    )
    may_be_virtual = models.BooleanField(default=False)
    self_bookable = models.BooleanField(
        "patients may book it themselves",
        default=False,
        help_text="Offered for self-booking in the portal when the clinic allows it.",
    )
    preparation = models.TextField(
        blank=True, help_text="Sent with the confirmation and reminders."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["seed_key"],
                condition=~models.Q(seed_key=""),
                name="scheduling_type_seed_key",
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5, duration_minutes__lte=600),
                name="scheduling_type_duration",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Resource(models.Model):
    """A dosing chair or a room: booked by one appointment at a time."""

    class Kind(models.TextChoices):
        CHAIR = "chair", "Dosing chair"
        ROOM = "room", "Room"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=60, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class WorkingHours(models.Model):
    """One weekly block when a staff member works (Monday = 0)."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField()
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["staff", "weekday", "starts"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="scheduling_hours_weekday"
            ),
            models.CheckConstraint(
                condition=models.Q(ends__gt=models.F("starts")),
                name="scheduling_hours_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.weekday} {self.starts}-{self.ends}"


def working_hours_values(staff: "User") -> list[object]:
    """A staff member's weekly hours as the hours form shows them, row by row in a
    fixed order (ids included: the form edits rows by id), for its lost-update
    check."""
    rows = WorkingHours.objects.filter(staff=staff).order_by("weekday", "starts", "pk")
    return [f"{row.pk}:{row.weekday}:{row.starts}-{row.ends}" for row in rows]


class TimeOff(models.Model):
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_off"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="scheduling_time_off_order",
            ),
        ]

    def __str__(self) -> str:
        return f"Time off {self.starts_at:%Y-%m-%d}"


class AppointmentQuerySet(models.QuerySet["Appointment"]):
    def holding_time(self) -> "AppointmentQuerySet":
        """Appointments that occupy their people and chair: not cancelled, and not a
        no-show (whose time is free again)."""
        return self.exclude(
            status__in=[Appointment.Status.CANCELLED, Appointment.Status.NO_SHOW]
        )

    def on_the_schedule(self) -> "AppointmentQuerySet":
        return self.exclude(status=Appointment.Status.CANCELLED)

    def overlapping(self, starts_at: object, ends_at: object) -> "AppointmentQuerySet":
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)


class Appointment(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CHECKED_IN = "checked_in", "Checked in"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="appointments"
    )
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="+"
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    resource = models.ForeignKey(
        Resource, null=True, blank=True, on_delete=models.PROTECT,
        related_name="appointments",
    )  # fmt: skip
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    is_virtual = models.BooleanField(default=False)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.BOOKED
    )
    cancel_reason = models.CharField(max_length=200, blank=True)
    notes = models.CharField(
        max_length=300, blank=True,
        help_text="Seen by the front desk: practical notes only, nothing clinical.",
    )  # fmt: skip
    series = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["starts_at"], name="scheduling_appt_start"),
            models.Index(
                fields=["clinician", "starts_at"], name="scheduling_appt_clinician"
            ),
            models.Index(
                fields=["resource", "starts_at"], name="scheduling_appt_resource"
            ),
            models.Index(
                fields=["patient", "starts_at"], name="scheduling_appt_patient"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="scheduling_appt_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at


class CalendarFeed(models.Model):
    """A clinician's private iCalendar feed. Only the token's hash is kept; a new
    token replaces the old one, which stops working at once. It expires
    CALENDAR_FEED_LIFETIME after it was made, and with the clinician's account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user_id}"

    @property
    def expires_at(self) -> datetime:
        return self.created_at + settings.CALENDAR_FEED_LIFETIME

    @property
    def has_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class BookingRequest(models.Model):
    """A patient's request from the portal: a new appointment, or a change or
    cancellation of one; staff book it (or decline) and the patient sees the answer."""

    class Kind(models.TextChoices):
        NEW = "new", "New appointment"
        CHANGE = "change", "Change of time"
        CANCEL = "cancel", "Cancellation"

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for the clinic"
        DONE = "done", "Done"
        DECLINED = "declined", "Declined"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="booking_requests"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    appointment_type = models.ForeignKey(
        AppointmentType, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT,
        related_name="requests",
    )  # fmt: skip
    preferred = models.CharField(
        max_length=200, blank=True, help_text="e.g. Tuesday or Thursday mornings"
    )
    message = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    answer = models.CharField(max_length=300, blank=True)
    submission_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["status", "created_at"], name="scheduling_request_queue"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request {self.created_at:%Y-%m-%d}"


class ContactPreference(models.Model):
    """How a patient wants appointment messages (confirmations, reminders, changes).
    No row means the default: email only. Both off is an opt-out."""

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.CASCADE, primary_key=True,
        related_name="contact_preference",
    )  # fmt: skip
    by_email = models.BooleanField("by email", default=True)
    by_sms = models.BooleanField("by text message", default=False)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip

    def __str__(self) -> str:
        return f"Contact preference of {self.patient_id}"

    @property
    def opted_out(self) -> bool:
        return not (self.by_email or self.by_sms)


def contact_preference_values(preference: ContactPreference | None) -> list[object]:
    """What the contact preference form shows of the saved row, for its lost-update
    check; "" while there is no row (the default, email only, is not saved)."""
    if preference is None or preference._state.adding:
        return [""]
    return [preference.by_email, preference.by_sms]


class AppointmentMessage(models.Model):
    """One message to a patient about an appointment, recorded before it is sent.

    `key` is the idempotency key (what the message is for, e.g. the 24 h reminder of
    an appointment at a given time); unique with the channel, so no run of the
    clock or the worker can queue it twice. A message is claimed (SENDING) before
    it goes out and marked SENT after; one left SENDING by a killed worker becomes
    UNKNOWN and is never resent on its own, so nobody gets it twice."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Confirmation"
        SERIES = "series", "Series confirmation"
        REMINDER = "reminder", "Reminder"
        CHANGE = "change", "Change of time"
        CANCELLATION = "cancellation", "Cancellation"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "Text message"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Not accepted (will retry)"
        SKIPPED = "skipped", "Not sent (appointment changed)"
        UNKNOWN = "unknown", "Unknown (worker stopped while sending)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.CharField(max_length=150)
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="messages"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    sent_to = models.CharField(max_length=254)
    for_starts_at = models.DateTimeField(
        help_text="The appointment's time when queued; a moved appointment's "
        "old reminders are skipped."
    )
    hours_before = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "channel"], name="scheduling_message_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "created_at"], name="scheduling_message_queue"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.channel} ({self.status})"
