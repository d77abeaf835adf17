import re
import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from kapcare.lib.canada import Province
from kapcare.patients.healthcard import HealthCard

# Strictly YYYY-MM-DD: Python 3.11's date.fromisoformat also reads some 10-digit
# health numbers as dates.
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class PatientQuerySet(models.QuerySet["Patient"]):
    def search(self, query: str) -> "PatientQuerySet":
        """Match name words, MRN, health number or a YYYY-MM-DD date of birth."""
        query = query.strip()
        if not query:
            return self
        if _ISO_DATE.match(query):
            try:
                return self.filter(born_on=date.fromisoformat(query))
            except ValueError:
                return self.none()
        compact = query.replace(" ", "").replace("-", "")
        if compact.isdigit() and len(compact) >= 4:
            return self.filter(health_number__startswith=compact)
        if query.upper().startswith("KC") and compact[2:].isdigit():
            return self.filter(mrn=compact.upper())
        result = self
        for word in query.lower().split()[:5]:
            result = result.filter(search_text__contains=word)
        return result


class Patient(models.Model):
    """A person under the clinic's care, or a prospect who has not started yet."""

    class Status(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        ACTIVE = "active", "Active treatment"
        MAINTENANCE = "maintenance", "Maintenance"
        DISCHARGED = "discharged", "Discharged"

    class SexAtBirth(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        INTERSEX = "intersex", "Intersex"
        UNKNOWN = "unknown", "Prefer not to say"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    mrn = models.CharField("MRN", max_length=12, unique=True, editable=False)
    legal_given_name = models.CharField("legal given name", max_length=100)
    legal_family_name = models.CharField("legal family name", max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    pronouns = models.CharField(
        max_length=40, blank=True, help_text="For example she/her, they/them."
    )
    born_on = models.DateField("date of birth")
    sex_at_birth = models.CharField(max_length=10, choices=SexAtBirth.choices)
    gender_identity = models.CharField(max_length=60, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    street_address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    province = models.CharField(
        max_length=2, choices=Province.choices, default=Province.ON
    )
    postal_code = models.CharField(max_length=7, blank=True)
    health_number = models.CharField("Ontario health number", max_length=10, blank=True)
    health_version_code = models.CharField("version code", max_length=2, blank=True)
    emergency_contact_name = models.CharField(max_length=150, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    emergency_contact_phone = models.CharField(max_length=20, blank=True)
    referring_clinician = models.CharField(
        max_length=200, blank=True, help_text="Name, practice and phone or fax."
    )
    responsible_physician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="patients_as_physician",
    )
    responsible_therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="patients_as_therapist",
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PROSPECT
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="patient",
        help_text="The portal account, once the patient accepts an invitation.",
    )
    search_text = models.CharField(max_length=400, editable=False, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["legal_family_name", "legal_given_name", "mrn"]
        permissions = [
            ("view_clinical_record", "Can view patients' clinical records"),
            ("invite_patient", "Can invite a patient to the portal"),
        ]
        indexes = [
            models.Index(
                fields=["legal_family_name", "legal_given_name", "mrn"],
                name="patients_patient_name_order",
            ),
            models.Index(fields=["born_on"], name="patients_patient_born_on"),
            models.Index(fields=["health_number"], name="patients_patient_health_no"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.mrn})"

    def get_absolute_url(self) -> str:
        return reverse("patients:patient_detail", args=[self.pk])

    @property
    def display_name(self) -> str:
        given = self.preferred_name or self.legal_given_name
        return f"{given} {self.legal_family_name}"

    @property
    def legal_name(self) -> str:
        return f"{self.legal_given_name} {self.legal_family_name}"

    def age_on(self, day: date) -> int:
        born = self.born_on
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def age(self) -> int:
        return self.age_on(timezone.localdate())

    @property
    def health_card(self) -> HealthCard | None:
        if not self.health_number:
            return None
        return HealthCard(self.health_number, self.health_version_code)

    @classmethod
    def field_label(cls, name: str) -> str:
        field = cls._meta.get_field(name)
        return str(getattr(field, "verbose_name", name)).capitalize()

    def build_search_text(self) -> str:
        parts = [self.legal_given_name, self.legal_family_name, self.preferred_name]
        return " ".join(p for p in parts if p).lower()


class MrnCounter(models.Model):
    """The last MRN number issued; incremented with a conditional UPDATE (portable lock)."""

    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"MRN counter at {self.last_number}"


class PortalInvitation(models.Model):
    """An expiring, single-use link that lets a patient create their portal account."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    sent_to = models.EmailField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    failed_checks = models.PositiveSmallIntegerField(default=0)

    MAX_FAILED_CHECKS = 5

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Portal invitation for {self.patient_id} sent to {self.sent_to}"

    def is_usable(self) -> bool:
        return (
            self.used_at is None
            and self.revoked_at is None
            and self.failed_checks < self.MAX_FAILED_CHECKS
            and self.expires_at > timezone.now()
        )
