"""Synthetic schedule for the demo clinic: chairs, a consult room, weekday hours for
the demo clinicians, the demo patient's next dosing and integration sessions, and
self-booking in the portal for integration sessions and follow-ups (so the demo
shows it). Only when the clinic has no chair yet."""

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.patients.demo import DEMO_DOMAIN
from kapcare.patients.models import Patient
from kapcare.scheduling.models import AppointmentType, Resource, WorkingHours
from kapcare.scheduling.services import book_appointment
from kapcare.website.models import PortalBooking, get_clinic_profile


def _next_weekday(after: date) -> datetime:
    """09:00 on the first weekday after `after`."""
    day = after + timedelta(days=1)
    while day.weekday() > 4:
        day += timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time(9)))


def seed_demo_schedule() -> int:
    """Returns the number of appointments booked (0 when chairs exist already)."""
    if Resource.objects.exists():
        return 0
    staff = {
        slug: User.objects.get(email=f"{slug}@{DEMO_DOMAIN}")
        for slug in ("nurse", "physician", "therapist")
    }
    with transaction.atomic():
        chairs = [
            Resource.objects.create(name=f"Chair {n}", kind=Resource.Kind.CHAIR)
            for n in (1, 2, 3)
        ]
        Resource.objects.create(name="Consult room", kind=Resource.Kind.ROOM)
        AppointmentType.objects.filter(
            seed_key__in=["integration", "follow_up"]
        ).update(self_bookable=True)
        clinic = get_clinic_profile()
        clinic.portal_booking = PortalBooking.SELF
        clinic.save(update_fields=["portal_booking"])
        WorkingHours.objects.bulk_create(
            WorkingHours(staff=user, weekday=d, starts=time(8), ends=time(18))
            for user in staff.values()
            for d in range(5)
        )
        portal = Patient.objects.filter(user__email=f"patient@{DEMO_DOMAIN}").first()
        if portal is None:
            return 0
        dosing = _next_weekday(timezone.localdate())
        book_appointment(
            request=None, patient=portal,
            appointment_type=AppointmentType.objects.get(seed_key="dosing"),
            clinician=staff["nurse"], resource=chairs[0], starts_at=dosing,
            by=staff["nurse"],
        )  # fmt: skip
        book_appointment(
            request=None, patient=portal,
            appointment_type=AppointmentType.objects.get(seed_key="integration"),
            clinician=staff["therapist"], resource=None,
            starts_at=_next_weekday(dosing.date()) + timedelta(hours=1), is_virtual=True,
            by=staff["nurse"],
        )  # fmt: skip
    return 2
