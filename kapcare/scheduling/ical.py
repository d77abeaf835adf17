"""iCalendar (RFC 5545) for a clinician's appointments, with the clinic's time zone
(VTIMEZONE from the IANA data, e.g. America/Toronto) so calendar apps place each
event at the right local time across clock changes.

Events name the appointment type and the patient's MRN only: a calendar feed is
read by third-party apps, so no patient names leave the clinic this way."""

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone
from icalendar import Calendar, Event

from kapcare.scheduling.models import Appointment


def appointments_ics(
    appointments: Iterable[Appointment], *, name: str, host: str, now: datetime
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Kapcare//Schedule//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for appointment in appointments:
        event = Event()
        event.add("uid", f"{appointment.pk}@{host}")
        event.add("dtstamp", now)
        event.add("dtstart", timezone.localtime(appointment.starts_at))
        event.add("dtend", timezone.localtime(appointment.ends_at))
        event.add(
            "summary",
            f"{appointment.appointment_type.name} ({appointment.patient.mrn})",
        )
        where = (
            "Virtual"
            if appointment.is_virtual
            else getattr(appointment.resource, "name", "")
        )
        if where:
            event.add("location", where)
        event.add(
            "status",
            "CANCELLED"
            if appointment.status == Appointment.Status.CANCELLED
            else "CONFIRMED",
        )
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
