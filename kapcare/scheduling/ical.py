"""iCalendar (RFC 5545) for a clinician's appointments, with the clinic's time zone
(VTIMEZONE from the IANA data, e.g. America/Toronto) so calendar apps place each
event at the right local time across clock changes.

A clinician's feed names the appointment type and the patient's MRN only: a
calendar feed is read by third-party apps, so no patient names leave the clinic
this way. A patient's own .ics names the clinic, not the patient."""

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils import timezone
from icalendar import Calendar, Event

from kapcare.scheduling.models import Appointment

if TYPE_CHECKING:
    from kapcare.website.models import ClinicProfile


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


def patient_ics(
    appointments: Iterable[Appointment],
    *,
    clinic: "ClinicProfile",
    host: str,
    now: datetime,
    sequence: int = 0,
) -> bytes:
    """The .ics attached to a patient's confirmation, change or cancellation: the
    clinic's name and address, and how to prepare. Same UID as the clinician's
    feed, so a change replaces the event in the patient's calendar."""
    calendar = Calendar()
    calendar.add("prodid", "-//Kapcare//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    address = ", ".join(
        part
        for part in (
            clinic.street_address,
            clinic.city,
            clinic.province,
            clinic.postal_code,
        )
        if part
    )
    for appointment in appointments:
        event = Event()
        event.add("uid", f"{appointment.pk}@{host}")
        event.add("dtstamp", now)
        event.add("sequence", sequence)
        event.add("dtstart", timezone.localtime(appointment.starts_at))
        event.add("dtend", timezone.localtime(appointment.ends_at))
        event.add("summary", f"{appointment.appointment_type.name} at {clinic.name}")
        where = (
            "Virtual (the clinic sends the link)" if appointment.is_virtual else address
        )
        if where:
            event.add("location", where)
        about = [f"With {appointment.clinician.display_name}."]
        if appointment.appointment_type.preparation:
            about.append(appointment.appointment_type.preparation)
        if clinic.phone:
            about.append(f"To change it, call {clinic.phone}.")
        event.add("description", "\n\n".join(about))
        cancelled = appointment.status == Appointment.Status.CANCELLED
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
