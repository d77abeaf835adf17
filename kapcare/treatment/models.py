"""Treatment: protocol templates, courses, supervised dosing sessions and the
ketamine register (controlled substance, CDSA Schedule I)."""

import uuid
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from kapcare.treatment.infusion import (
    InfusionState,
    PumpAction,
    PumpEvent,
    infusion_state,
)
from kapcare.treatment.vitals import Limits, Reading


def end_of_day(day: date, zone: tzinfo) -> datetime:
    """Midnight after the day in the given time zone (the end of that day)."""
    return timezone.make_aware(
        datetime.combine(day + timedelta(days=1), time.min), zone
    )


class Drug(models.TextChoices):
    KETAMINE = "ketamine", "Racemic ketamine"
    ESKETAMINE = "esketamine", "Esketamine"


class Route(models.TextChoices):
    IV = "iv", "Intravenous infusion"
    IM = "im", "Intramuscular injection"
    SUBLINGUAL = "sublingual", "Sublingual"
    NASAL = "nasal", "Nasal spray"


class Protocol(models.Model):
    """A clinic-editable template: drug, route, dose limits, monitoring and discharge.

    Blank limits mean the clinical sources gave none; `sources` says where each
    filled-in value comes from (see protocols.py for the seeded ones)."""

    class DoseBasis(models.TextChoices):
        PER_KG = "per_kg", "mg per kg of body weight"
        FIXED = "fixed", "Fixed dose in mg"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    seed_key = models.CharField(
        max_length=40, blank=True, editable=False,
        help_text="Set on the templates Kapcare seeds (protocols.py).",
    )  # fmt: skip
    drug = models.CharField(max_length=12, choices=Drug.choices)
    route = models.CharField(max_length=12, choices=Route.choices)
    dose_basis = models.CharField(max_length=8, choices=DoseBasis.choices)
    usual_dose = models.DecimalField(
        max_digits=6, decimal_places=3, null=True, blank=True,
        help_text="mg/kg or mg, as the dose basis says. Blank: no sourced dose.",
    )  # fmt: skip
    max_dose = models.DecimalField(
        max_digits=6, decimal_places=3, null=True, blank=True,
        help_text="A prescription above this is refused (mg/kg or mg).",
    )  # fmt: skip
    allowed_doses = models.CharField(
        max_length=60, blank=True,
        help_text="For fixed doses: the doses allowed, comma-separated (e.g. 56, 84).",
    )  # fmt: skip
    infusion_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    planned_sessions = models.PositiveSmallIntegerField(null=True, blank=True)
    planned_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Over how many days the planned sessions run."
    )
    vitals_interval_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    vitals_checkpoints = models.CharField(
        max_length=60, blank=True,
        help_text="Minutes after the dose starts when vitals are due, comma-separated.",
    )  # fmt: skip
    dissociation_rating_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True,
        help_text="Minutes after the dose starts when the CADSS is rated.",
    )  # fmt: skip
    observation_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    discharge_pass_score = models.PositiveSmallIntegerField(default=9)
    systolic_max = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_max = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2_min = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate_min = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate_max = models.PositiveSmallIntegerField(null=True, blank=True)
    respiratory_rate_min = models.PositiveSmallIntegerField(null=True, blank=True)
    respiratory_rate_max = models.PositiveSmallIntegerField(null=True, blank=True)
    blood_pressure_action = models.TextField(blank=True)
    spo2_action = models.TextField(blank=True)
    heart_rate_action = models.TextField(blank=True)
    respiratory_rate_action = models.TextField(blank=True)
    asks_pregnancy_status = models.BooleanField(default=True)
    preparation = models.TextField(
        blank=True, help_text="Fasting and other preparation, as told to the patient."
    )
    sources = models.TextField(help_text="Where each value above comes from.")
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["seed_key"],
                condition=~models.Q(seed_key=""),
                name="treatment_protocol_seed_key",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def limits(self) -> Limits:
        return Limits(
            systolic_max=self.systolic_max,
            diastolic_max=self.diastolic_max,
            spo2_min=self.spo2_min,
            heart_rate_min=self.heart_rate_min,
            heart_rate_max=self.heart_rate_max,
            respiratory_rate_min=self.respiratory_rate_min,
            respiratory_rate_max=self.respiratory_rate_max,
            blood_pressure_action=self.blood_pressure_action,
            spo2_action=self.spo2_action,
            heart_rate_action=self.heart_rate_action,
            respiratory_rate_action=self.respiratory_rate_action,
        )

    @property
    def is_per_kg(self) -> bool:
        return self.dose_basis == self.DoseBasis.PER_KG

    @property
    def dose_unit(self) -> str:
        return "mg/kg" if self.is_per_kg else "mg"

    @property
    def allowed_dose_values(self) -> tuple[Decimal, ...]:
        return tuple(
            Decimal(v.strip()) for v in self.allowed_doses.split(",") if v.strip()
        )

    def courses_using(self) -> int:
        return TreatmentCourse.objects.filter(protocol=self).count()

    @property
    def checkpoint_minutes(self) -> tuple[int, ...]:
        return tuple(
            int(v.strip()) for v in self.vitals_checkpoints.split(",") if v.strip()
        )


class TreatmentCourse(models.Model):
    class Indication(models.TextChoices):
        DEPRESSION = "depression", "Treatment-resistant depression"
        ANXIETY = "anxiety", "Anxiety"
        PTSD = "ptsd", "PTSD"

    class Phase(models.TextChoices):
        INDUCTION = "induction", "Induction"
        MAINTENANCE = "maintenance", "Maintenance / booster"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        STOPPED = "stopped", "Stopped"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="courses"
    )
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="+")
    indication = models.CharField(max_length=12, choices=Indication.choices)
    phase = models.CharField(
        max_length=12, choices=Phase.choices, default=Phase.INDUCTION
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    prescribed_dose = models.DecimalField(
        max_digits=6, decimal_places=3, help_text="mg/kg or mg, as the protocol says."
    )
    planned_sessions = models.PositiveSmallIntegerField()
    starts_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    first_dose_at = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="When the course's first dose started (set by the dosing session).",
    )  # fmt: skip
    ended_at = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="The end of the course's last day (midnight after ended_on, clinic time).",
    )  # fmt: skip
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-starts_on", "-created_at"]
        indexes = [
            models.Index(
                fields=["patient", "-starts_on"], name="treatment_course_patient"
            ),
            models.Index(fields=["first_dose_at"], name="treatment_course_first_dose"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True, ended_at__isnull=True)
                | models.Q(ended_on__isnull=False, ended_at__isnull=False),
                name="treatment_course_end_both_or_neither",
                violation_error_message="A course's end date and end time go together.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.protocol} from {self.starts_on:%Y-%m-%d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keeps ended_at with ended_on (in the clinic's time zone, whatever zone is
        active), so a score can be compared with the course's end in the database
        without a time-zone conversion per score."""
        from kapcare.website.models import clinic_zone

        self.ended_at = (
            end_of_day(self.ended_on, clinic_zone()) if self.ended_on else None
        )
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "ended_on" in update_fields:
            kwargs["update_fields"] = {*update_fields, "ended_at"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("treatment:course_detail", args=[self.patient_id, self.pk])


class DosingSession(models.Model):
    """One supervised dose, kept open by the nurse from check-in to discharge."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed by nurse, awaiting co-sign"
        SIGNED = "signed", "Signed"

    class Pregnancy(models.TextChoices):
        NOT_ASKED = "", "Not recorded"
        NOT_APPLICABLE = "not_applicable", "Not applicable"
        NOT_PREGNANT = "not_pregnant", "Not pregnant (patient's report)"
        NEGATIVE_TEST = "negative_test", "Negative pregnancy test today"
        PREGNANT = "pregnant", "Pregnant or may be pregnant"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.ForeignKey(
        TreatmentCourse, on_delete=models.PROTECT, related_name="sessions"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="dosing_sessions"
    )
    number = models.PositiveSmallIntegerField()
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.IN_PROGRESS
    )
    opened_at = models.DateTimeField(default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    identity_confirmed = models.BooleanField(default=False)
    fasting_confirmed = models.BooleanField(default=False)
    no_alcohol_confirmed = models.BooleanField(default=False)
    escort_name = models.CharField(max_length=120, blank=True)
    escort_phone = models.CharField(max_length=20, blank=True)
    pregnancy_status = models.CharField(
        max_length=16, choices=Pregnancy.choices, blank=True
    )
    has_medication_changes = models.BooleanField(default=False)
    medication_changes = models.TextField(blank=True)
    predose_questionnaires_done = models.BooleanField(default=False)
    checklist_done_at = models.DateTimeField(null=True, blank=True)
    checklist_done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    blood_pressure_override_reason = models.TextField(blank=True)
    blood_pressure_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    blood_pressure_override_at = models.DateTimeField(null=True, blank=True)

    weight_kg = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, blank=True
    )
    dose_mg_per_kg = models.DecimalField(
        max_digits=6, decimal_places=3, null=True, blank=True
    )
    concentration_mg_per_ml = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True
    )
    bag_volume_ml = models.DecimalField(
        max_digits=6, decimal_places=1, null=True, blank=True
    )
    infusion_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    dose_mg = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    draw_volume_ml = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True
    )
    pump_rate_ml_per_h = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True
    )
    dose_working = models.JSONField(default=list, blank=True)
    dose_calculated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    dose_calculated_at = models.DateTimeField(null=True, blank=True)
    dose_witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    dose_witnessed_at = models.DateTimeField(null=True, blank=True)
    dose_started_at = models.DateTimeField(null=True, blank=True)
    dose_given_mg = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True,
        help_text="Set when the infusion is stopped early: the dose the pump gave.",
    )  # fmt: skip
    dose_lot = models.ForeignKey(
        "treatment.KetamineLot", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    aldrete = models.JSONField(default=dict, blank=True)
    aldrete_score = models.PositiveSmallIntegerField(null=True, blank=True)
    aldrete_scored_at = models.DateTimeField(null=True, blank=True)
    escort_present = models.BooleanField(default=False)
    discharge_override_reason = models.TextField(blank=True)
    discharge_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    class Meta:
        ordering = ["-opened_at"]
        permissions = [
            (
                "sign_dosingsession",
                "Co-sign dosing sessions and record physician overrides",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "number"], name="treatment_session_number"
            ),
        ]
        indexes = [
            models.Index(
                fields=["patient", "-opened_at"], name="treatment_session_patient"
            )
        ]

    def __str__(self) -> str:
        return f"Dosing session {self.number} ({self.opened_at:%Y-%m-%d})"

    def get_absolute_url(self) -> str:
        return reverse("treatment:session_detail", args=[self.patient_id, self.pk])

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.IN_PROGRESS

    @property
    def infusion(self) -> InfusionState | None:
        """The infusion as the pump gave it (pauses, rate changes, a stop), for an
        IV dose with a calculated infusion time; None before the dose starts."""
        if (
            self.dose_started_at is None
            or not self.infusion_minutes
            or self.dose_mg is None
        ):
            return None
        return infusion_state(
            started_at=self.dose_started_at, dose_mg=float(self.dose_mg),
            planned_minutes=self.infusion_minutes,
            planned_rate_ml_per_h=self.pump_rate_ml_per_h,
            events=[e.as_pump_event() for e in self.infusion_events.all()],
        )  # fmt: skip

    @property
    def infusion_finished(self) -> bool:
        """No drug is flowing now or later: not an infusion, finished, or stopped."""
        state = self.infusion
        return state is None or (
            state.ends_at is not None and state.ends_at <= timezone.now()
        )

    @property
    def dose_ends_at(self) -> Any:
        """When the dose ended (or will): the infusion's end after its pauses and
        rate changes; None while the infusion is paused."""
        if self.dose_started_at is None:
            return None
        state = self.infusion
        if state is None:
            return self.dose_started_at
        return state.ends_at


class VitalSign(models.Model):
    """One set of vital signs, at the time it was taken (which may be before it was
    entered: a late entry keeps its real time)."""

    session = models.ForeignKey(
        DosingSession, on_delete=models.PROTECT, related_name="vitals"
    )
    taken_at = models.DateTimeField()
    is_baseline = models.BooleanField(default=False)
    systolic = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField(null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    temperature_c = models.DecimalField(
        max_digits=4, decimal_places=1, null=True, blank=True
    )
    sedation_score = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="On the clinic's own sedation scale."
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["taken_at", "recorded_at"]
        indexes = [
            models.Index(fields=["session", "taken_at"], name="treatment_vital_time")
        ]

    def __str__(self) -> str:
        return f"Vitals {self.taken_at:%H:%M}"

    @property
    def reading(self) -> Reading:
        return Reading(
            systolic=self.systolic,
            diastolic=self.diastolic,
            heart_rate=self.heart_rate,
            spo2=self.spo2,
            respiratory_rate=self.respiratory_rate,
        )

    @property
    def is_late_entry(self) -> bool:
        return (self.recorded_at - self.taken_at) > timedelta(minutes=5)


class InfusionEvent(models.Model):
    """The nurse paused, restarted, changed the rate of, or stopped the infusion
    pump, at the time it happened."""

    class Action(models.TextChoices):
        PAUSED = PumpAction.PAUSED, "Paused"
        RESUMED = PumpAction.RESUMED, "Restarted"
        RATE_CHANGED = PumpAction.RATE_CHANGED, "Rate changed"
        STOPPED = PumpAction.STOPPED, "Stopped"

    session = models.ForeignKey(
        DosingSession, on_delete=models.PROTECT, related_name="infusion_events"
    )
    action = models.CharField(max_length=12, choices=Action.choices)
    at = models.DateTimeField()
    rate_ml_per_h = models.DecimalField(
        max_digits=6, decimal_places=1, null=True, blank=True
    )
    reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "recorded_at"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.at:%H:%M}"

    def as_pump_event(self) -> PumpEvent:
        return PumpEvent(self.at, PumpAction(self.action), self.rate_ml_per_h)


class DissociationRating(models.Model):
    """A CADSS total rated by the clinician on the clinic's licensed form.

    The item anchors and the 0-92 range of the 23-item version are recalled, not
    verified (clinical-rules.md §5 and §11), so only the total is kept."""

    session = models.ForeignKey(
        DosingSession, on_delete=models.PROTECT, related_name="dissociation_ratings"
    )
    rated_at = models.DateTimeField()
    version = models.CharField(max_length=20, default="CADSS 23-item")
    total = models.PositiveSmallIntegerField()
    notes = models.TextField(blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["rated_at"]

    def __str__(self) -> str:
        return f"{self.version} {self.total}"


class SessionNote(models.Model):
    """An observation or an intervention (drug and dose where one was given)."""

    class Kind(models.TextChoices):
        OBSERVATION = "observation", "Observation"
        ANTIEMETIC = "antiemetic", "Antiemetic"
        ANTIHYPERTENSIVE = "antihypertensive", "Antihypertensive"
        MUSIC = "music", "Music"
        REASSURANCE = "reassurance", "Reassurance"
        OTHER = "other", "Other intervention"

    session = models.ForeignKey(
        DosingSession, on_delete=models.PROTECT, related_name="notes"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    noted_at = models.DateTimeField()
    text = models.TextField(blank=True)
    drug = models.CharField(max_length=120, blank=True)
    dose = models.CharField(max_length=60, blank=True)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["noted_at"]

    def __str__(self) -> str:
        return self.get_kind_display()


class AdverseEvent(models.Model):
    class Kind(models.TextChoices):
        NAUSEA = "nausea", "Nausea / vomiting"
        HYPERTENSION = "hypertension", "Hypertension"
        TACHYCARDIA = "tachycardia", "Tachycardia"
        EMERGENCE = "emergence", "Emergence reaction"
        AGITATION = "agitation", "Agitation"
        OVERSEDATION = "oversedation", "Oversedation"
        DESATURATION = "desaturation", "Desaturation"
        OTHER = "other", "Other"

    class Severity(models.TextChoices):
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", "Resolved"
        ONGOING = "ongoing", "Ongoing at discharge"
        TRANSFERRED = "transferred", "Transferred to emergency care"

    session = models.ForeignKey(
        DosingSession, on_delete=models.PROTECT, related_name="adverse_events"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="adverse_events"
    )
    kind = models.CharField(max_length=14, choices=Kind.choices)
    description = models.CharField(max_length=200, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    is_serious = models.BooleanField(
        default=False,
        help_text="Life-threatening, needed emergency care or admission, or the "
        "clinician judges it serious: the physician is notified.",
    )
    occurred_at = models.DateTimeField()
    action_taken = models.TextField(blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occurred_at"]
        indexes = [
            models.Index(fields=["patient", "occurred_at"], name="treatment_ae_patient")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_severity_display()})"


class SessionAddendum(models.Model):
    """A dated correction to a signed session, with who wrote it and why."""

    session = models.ForeignKey(
        DosingSession, on_delete=models.PROTECT, related_name="addenda"
    )
    reason = models.CharField(max_length=200)
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Addendum {self.created_at:%Y-%m-%d}"


class KetamineLot(models.Model):
    """Stock received: one supplier lot of one strength. Its balance is in mg and
    moves only through RegisterEntry rows (services.register_*)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    drug = models.CharField(max_length=12, choices=Drug.choices)
    product = models.CharField(max_length=120)
    strength_mg_per_ml = models.DecimalField(max_digits=7, decimal_places=2)
    vial_volume_ml = models.DecimalField(max_digits=6, decimal_places=2)
    supplier = models.CharField(max_length=120)
    lot_number = models.CharField(max_length=60)
    expires_on = models.DateField()
    received_on = models.DateField()
    vials_received = models.PositiveIntegerField()
    balance_mg = models.DecimalField(max_digits=10, decimal_places=1)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["expires_on", "lot_number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance_mg__gte=0),
                name="treatment_lot_balance_not_negative",
            ),
            models.UniqueConstraint(
                fields=["lot_number", "strength_mg_per_ml", "product"],
                name="treatment_lot_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} lot {self.lot_number}"

    @property
    def vial_mg(self) -> Decimal:
        return self.strength_mg_per_ml * self.vial_volume_ml

    def is_expired(self, on: Any = None) -> bool:
        return self.expires_on < (on or timezone.localdate())


class RegisterEntry(models.Model):
    """One line of the narcotic register. Append-only."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Received"
        ADMINISTERED = "administered", "Administered"
        WASTED = "wasted", "Wasted"
        COUNT_ADJUSTMENT = "count_adjustment", "Count adjustment"

    lot = models.ForeignKey(
        KetamineLot, on_delete=models.PROTECT, related_name="entries"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    change_mg = models.DecimalField(max_digits=10, decimal_places=1)
    balance_after_mg = models.DecimalField(max_digits=10, decimal_places=1)
    session = models.ForeignKey(
        DosingSession, null=True, blank=True, on_delete=models.PROTECT,
        related_name="register_entries",
    )  # fmt: skip
    reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "id"]
        verbose_name_plural = "register entries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance_after_mg__gte=0),
                name="treatment_entry_balance_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="wasted") | models.Q(witness__isnull=False),
                name="treatment_waste_witnessed",
            ),
            # One administration per session: a double submit cannot draw twice.
            models.UniqueConstraint(
                fields=["session"],
                condition=models.Q(kind="administered"),
                name="treatment_one_draw_per_session",
            ),
        ]
        indexes = [
            models.Index(fields=["lot", "recorded_at"], name="treatment_entry_lot_time")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.change_mg} mg"

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("Register entries are never deleted.")


class StockCount(models.Model):
    """A count of one lot (monthly reconciliation); a discrepancy must be explained."""

    lot = models.ForeignKey(
        KetamineLot, on_delete=models.PROTECT, related_name="counts"
    )
    counted_on = models.DateField()
    expected_mg = models.DecimalField(max_digits=10, decimal_places=1)
    counted_mg = models.DecimalField(max_digits=10, decimal_places=1)
    explanation = models.TextField(blank=True)
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-counted_on", "-recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expected_mg=models.F("counted_mg"))
                | ~models.Q(explanation=""),
                name="treatment_count_discrepancy_explained",
            ),
        ]

    def __str__(self) -> str:
        return f"Count of {self.lot} on {self.counted_on:%Y-%m-%d}"

    @property
    def discrepancy_mg(self) -> Decimal:
        return self.counted_mg - self.expected_mg


class IntegrationSession(models.Model):
    """A therapist's integration session after a dose: intentions, insights, themes,
    goals and homework (the patient sees the homework once signed). The
    psychotherapy note is for the therapist and physician only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        related_name="integration_sessions",
    )
    dosing_session = models.ForeignKey(
        DosingSession, on_delete=models.PROTECT, related_name="integration_sessions"
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    held_on = models.DateField()
    intentions = models.TextField(
        blank=True, help_text="What the patient set out to explore, before the dose."
    )
    insights = models.TextField(blank=True, help_text="What came up, after the dose.")
    themes = models.CharField(
        max_length=300, blank=True, help_text="Comma-separated, e.g. grief, self-worth."
    )
    goals = models.TextField(blank=True)
    homework = models.TextField(
        blank=True, help_text="Shown to the patient in the portal once signed."
    )
    psychotherapy_note = models.TextField(
        blank=True, help_text="Therapist and physician only; never in the portal."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-held_on", "-created_at"]
        permissions = [
            ("view_psychotherapy_notes", "Read psychotherapy notes"),
        ]
        indexes = [
            models.Index(
                fields=["patient", "-held_on"], name="treatment_integration_patient"
            )
        ]

    def __str__(self) -> str:
        return f"Integration session {self.held_on:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("treatment:integration_detail", args=[self.patient_id, self.pk])

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def theme_list(self) -> list[str]:
        return [t.strip() for t in self.themes.split(",") if t.strip()]


class MindfulnessPractice(models.Model):
    """One practice the patient logged in the portal."""

    class Practice(models.TextChoices):
        BREATHING = "breathing", "Breathing"
        BODY_SCAN = "body_scan", "Body scan"
        SITTING = "sitting", "Sitting meditation"
        WALKING = "walking", "Walking meditation"
        LOVING_KINDNESS = "loving_kindness", "Loving-kindness"
        MOVEMENT = "movement", "Mindful movement or yoga"
        OTHER = "other", "Other"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="mindfulness"
    )
    practised_on = models.DateField()
    minutes = models.PositiveSmallIntegerField()
    practice = models.CharField(max_length=20, choices=Practice.choices)
    mood_before = models.PositiveSmallIntegerField()
    mood_after = models.PositiveSmallIntegerField()
    note = models.CharField(max_length=300, blank=True)
    submission_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-practised_on", "-created_at"]
        indexes = [
            models.Index(
                fields=["patient", "-practised_on"], name="treatment_mindful_patient"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minutes__gte=1, minutes__lte=600),
                name="treatment_mindful_minutes",
            ),
            models.CheckConstraint(
                condition=models.Q(mood_before__lte=10, mood_after__lte=10),
                name="treatment_mindful_mood_0_10",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_practice_display()} {self.minutes} min"

    @property
    def mood_change(self) -> int:
        return self.mood_after - self.mood_before
