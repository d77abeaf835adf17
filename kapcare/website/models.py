import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from kapcare.lib.canada import Province
from kapcare.lib.phones import format_phone
from kapcare.scheduling.reminders import parse_reminder_hours

TIME_ZONE_CHOICES = [
    (tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz
]

DEFAULT_CRISIS_RESOURCES = (
    "If you are thinking about suicide or are in crisis, call or text 9-8-8 "
    "(Suicide Crisis Helpline, 24/7, in English and French). "
    "In an emergency, call 9-1-1 or go to your nearest emergency department."
)


DEFAULT_ALERT_RESPONSE_STATEMENT = (
    "Your care team reviews answers like these during clinic hours and will contact "
    "you. If you need help before then, call or text 9-8-8 at any time, or call 9-1-1."
)


def validate_reminder_hours(value: str) -> None:
    try:
        parse_reminder_hours(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


class PortalBooking(models.TextChoices):
    REQUESTS = "requests", "Patients ask; staff book"
    SELF = "self", "Patients book the types marked for self-booking"


class ClinicProfile(models.Model):
    """The clinic's identity, used by every page, email and printout (one row)."""

    name = models.CharField(max_length=150, default="Kapcare Clinic")
    logo = models.ImageField(upload_to="clinic/", blank=True)
    street_address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True, default="Toronto")
    province = models.CharField(
        max_length=2, choices=Province.choices, default=Province.ON
    )
    postal_code = models.CharField(max_length=7, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    hours = models.TextField(
        blank=True,
        help_text="Opening hours as patients should read them, one line a day.",
    )
    time_zone = models.CharField(
        max_length=64, choices=TIME_ZONE_CHOICES, default="America/Toronto"
    )
    crisis_resources = models.TextField(
        default=DEFAULT_CRISIS_RESOURCES,
        help_text="Shown wherever a patient may need urgent help.",
    )
    alert_response_statement = models.TextField(
        default=DEFAULT_ALERT_RESPONSE_STATEMENT,
        help_text="Shown to a patient whose answers raised a safety alert: when the "
        "clinic will respond.",
    )
    high_alert_deadline_minutes = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
        help_text="A high alert not acknowledged within this time pages the on-call "
        "physician; twice this time, the clinic admins.",
    )
    moderate_alert_deadline_business_days = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="The same for a moderate alert, in business days (weekends and "
        "statutory holidays skipped).",
    )
    relapse_warning_enabled = models.BooleanField(
        default=True,
        help_text="Raise a 'possible relapse' alert for patients who responded.",
    )
    relapse_consecutive_measures = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="How many measures in a row must meet the relapse rule.",
    )
    first_contact_business_days = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="A new consultation request not contacted within this many "
        "business days is highlighted on the intake board.",
    )
    appointment_reminder_hours = models.CharField(
        max_length=40,
        default="48,24",
        validators=[validate_reminder_hours],
        help_text="When to remind patients before an appointment, in hours, "
        "separated by commas (e.g. 48,24). Leave empty for no reminders.",
    )
    portal_booking = models.CharField(
        max_length=10,
        choices=PortalBooking.choices,
        default=PortalBooking.REQUESTS,
        help_text="Whether patients book in the portal themselves (only the "
        "appointment types marked for self-booking) or ask the clinic.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name

    @property
    def reminder_hours(self) -> tuple[int, ...]:
        return parse_reminder_hours(self.appointment_reminder_hours)

    @property
    def has_own_crisis_text(self) -> bool:
        """Whether the clinic added to the national default (e.g. a local crisis line)."""
        return self.crisis_resources.strip() != DEFAULT_CRISIS_RESOURCES

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)

    @property
    def address_lines(self) -> list[str]:
        city_line = " ".join(
            p
            for p in [
                f"{self.city}," if self.city else "",
                self.province,
                self.postal_code,
            ]
            if p
        )
        return [line for line in [self.street_address, city_line] if line]


def get_clinic_profile() -> ClinicProfile:
    profile, _ = ClinicProfile.objects.get_or_create(pk=1)
    return profile
