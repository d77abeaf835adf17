"""Issue 7's target: the day view with 10 chairs and 200 appointments, and the
portal's self-booking search over the same week."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.patients.models import Patient
from kapcare.scheduling.models import Appointment, AppointmentType, Resource
from kapcare.website.models import PortalBooking, get_clinic_profile

CHAIRS = 10
APPOINTMENTS = 200
DAY = date(2027, 1, 12)


def seed_schedule() -> date:
    """10 chairs, and 200 appointments on one day (20 per chair, 30 minutes each
    from 08:00), each with its own patient."""
    nurse = User.objects.get(email="nurse@demo.kapcare.test")
    kind = AppointmentType.objects.get(seed_key="follow_up")
    chairs = [
        Resource.objects.create(name=f"Bench chair {n:02d}", kind=Resource.Kind.CHAIR)
        for n in range(CHAIRS)
    ]
    patients = list(Patient.objects.order_by("mrn")[:APPOINTMENTS])
    start = timezone.make_aware(datetime.combine(DAY, time(8)))
    Appointment.objects.bulk_create(
        Appointment(
            patient=patient,
            appointment_type=kind,
            clinician=nurse,
            resource=chairs[n % CHAIRS],
            starts_at=start + timedelta(minutes=30 * (n // CHAIRS)),
            ends_at=start + timedelta(minutes=30 * (n // CHAIRS) + 30),
            created_by=nurse,
        )
        for n, patient in enumerate(patients)
    )
    AppointmentType.objects.filter(seed_key="dosing").update(self_bookable=True)
    clinic = get_clinic_profile()
    clinic.portal_booking = PortalBooking.SELF
    clinic.save()
    return DAY


def self_booking_query() -> dict[str, str]:
    """The portal's free-time search for a dosing session in the crowded week:
    every chair and the nurse are busy 08:00-18:00 on DAY."""
    dosing = AppointmentType.objects.get(seed_key="dosing")
    return {"type": str(dosing.pk), "from": DAY.isoformat()}
