"""Booking, moving, cancelling and checking in appointments.

Double booking is refused inside the write transaction: the patient, the clinician
and the chair rows are locked (always in that order, so two bookings cannot
deadlock) before looking for overlaps, so of two concurrent bookings of one chair or
person exactly one wins; the other is told what blocked it.
"""

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.services import Action, Information, last_changed_by, record_event
from kapcare.intake import services as intake
from kapcare.intake.models import ConsultationRequest
from kapcare.lib.concurrency import check_unchanged
from kapcare.lib.tokens import new_link_token
from kapcare.patients import services as patients
from kapcare.patients.models import Patient
from kapcare.scheduling import notices
from kapcare.scheduling.forms import staff_with_role
from kapcare.scheduling.models import (
    Appointment,
    AppointmentType,
    BookingRequest,
    CalendarFeed,
    ContactPreference,
    Resource,
    TimeOff,
    WorkingHours,
    working_hours_values,
)
from kapcare.website.models import PortalBooking, get_clinic_profile

WEEKDAYS = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)


class BookingError(ValueError):
    """The booking cannot be made; `reasons` says each thing that blocked it."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(" ".join(reasons))
        self.reasons = reasons


def _span(starts_at: datetime, ends_at: datetime) -> str:
    start, end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
    return f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M}"


def _fits_hours(
    blocks: list[WorkingHours], starts_at: datetime, ends_at: datetime
) -> bool:
    """Within one day's working time, touching blocks joined (09-12 + 12-17)."""
    start, end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    if start.date() != end.date():
        return False
    spans = sorted((b.starts, b.ends) for b in blocks if b.weekday == start.weekday())
    joined: list[list[time]] = []
    for begins, finishes in spans:
        if joined and begins <= joined[-1][1]:
            joined[-1][1] = max(joined[-1][1], finishes)
        else:
            joined.append([begins, finishes])
    return any(b <= start.time() and end.time() <= e for b, e in joined)


def find_conflicts(
    *,
    patient: Patient,
    clinician: User,
    resource: Resource | None,
    starts_at: datetime,
    ends_at: datetime,
    ignore: Appointment | None = None,
) -> list[str]:
    """Everything that stops this booking, in words the front desk can act on."""
    reasons: list[str] = []
    busy = Appointment.objects.holding_time().overlapping(starts_at, ends_at)
    if ignore is not None:
        busy = busy.exclude(pk=ignore.pk)
    for other in busy.filter(clinician=clinician).select_related("appointment_type"):
        reasons.append(
            f"{clinician.display_name} already has a {other.appointment_type.name.lower()} "
            f"{_span(other.starts_at, other.ends_at)}."
        )
    if resource is not None:
        for other in busy.filter(resource=resource):
            reasons.append(
                f"{resource.name} is booked {_span(other.starts_at, other.ends_at)}."
            )
    for other in busy.filter(patient=patient).exclude(clinician=clinician):
        reasons.append(
            f"The patient already has an appointment {_span(other.starts_at, other.ends_at)}."
        )
    for away in TimeOff.objects.filter(
        staff=clinician, starts_at__lt=ends_at, ends_at__gt=starts_at
    ):
        reasons.append(
            f"{clinician.display_name} is away {_span(away.starts_at, away.ends_at)}"
            + (f" ({away.reason})." if away.reason else ".")
        )
    blocks = list(WorkingHours.objects.filter(staff=clinician))
    if not _fits_hours(blocks, starts_at, ends_at):
        day = WEEKDAYS[timezone.localtime(starts_at).weekday()]
        hours = ", ".join(
            f"{b.starts:%H:%M}–{b.ends:%H:%M}"
            for b in blocks
            if b.weekday == timezone.localtime(starts_at).weekday()
        )
        reasons.append(
            f"{clinician.display_name} works {hours} on {day}s."
            if hours
            else f"{clinician.display_name} does not work on {day}s."
        )
    return reasons


def _check_fit(
    appointment_type: AppointmentType,
    clinician: User,
    resource: Resource | None,
    is_virtual: bool,
    *,
    moving: bool = False,
) -> None:
    reasons = []
    if not clinician.is_active:
        reasons.append(f"{clinician.display_name} no longer works here.")
    if not appointment_type.is_active and not moving:
        reasons.append(f"{appointment_type} is no longer offered.")
    if not clinician.groups.filter(name=appointment_type.clinician_role).exists():
        reasons.append(
            f"A {appointment_type.name.lower()} is with a "
            f"{appointment_type.clinician_role.lower()}."
        )
    if appointment_type.needs_chair and (
        resource is None or resource.kind != Resource.Kind.CHAIR
    ):
        reasons.append("Choose a dosing chair.")
    if resource is not None and not resource.is_active:
        reasons.append(f"{resource.name} is out of use.")
    if is_virtual and not appointment_type.may_be_virtual:
        reasons.append(f"A {appointment_type.name.lower()} cannot be virtual.")
    if is_virtual and resource is not None:
        reasons.append("A virtual appointment needs no chair or room.")
    if reasons:
        raise BookingError(reasons)


def _lock_parties(patient: Patient, clinician: User, resource: Resource | None) -> None:
    # FOR NO KEY UPDATE: serialises bookings of the same patient, person or chair but,
    # unlike FOR UPDATE, does not block inserts that merely reference these rows
    # (created_by), so two people booking each other cannot deadlock.
    Patient.objects.select_for_update(no_key=True).filter(pk=patient.pk).first()
    User.objects.select_for_update(no_key=True).filter(pk=clinician.pk).first()
    if resource is not None:
        Resource.objects.select_for_update(no_key=True).filter(pk=resource.pk).first()


PAST_GRACE = timedelta(minutes=15)


def _ends(starts_at: datetime, length: timedelta) -> datetime:
    """Elapsed time, right across a clock change (arithmetic in UTC)."""
    return timezone.localtime(starts_at.astimezone(UTC) + length)


def _not_past(starts_at: datetime) -> None:
    if starts_at < timezone.now() - PAST_GRACE:
        raise BookingError(["That time has passed; choose a time from now on."])


def _audit(
    request: HttpRequest | None, appointment: Appointment, summary: str, action: str
) -> None:
    record_event(
        request=request,
        action=action,
        patient=appointment.patient,
        information=Information.DEMOGRAPHICS,
        object_type="appointment",
        object_id=appointment.pk,
        summary=summary,
    )


def book_appointment(
    *,
    request: HttpRequest | None,
    patient: Patient,
    appointment_type: AppointmentType,
    clinician: User,
    resource: Resource | None,
    starts_at: datetime,
    is_virtual: bool = False,
    notes: str = "",
    series: uuid.UUID | None = None,
    notify: bool = True,
    by: User,
) -> Appointment:
    """Book, refusing any conflict; the patient's confirmation is queued with it."""
    _check_fit(appointment_type, clinician, resource, is_virtual)
    _not_past(starts_at)
    ends_at = _ends(starts_at, timedelta(minutes=appointment_type.duration_minutes))
    with transaction.atomic():
        _lock_parties(patient, clinician, resource)
        reasons = find_conflicts(
            patient=patient, clinician=clinician, resource=resource,
            starts_at=starts_at, ends_at=ends_at,
        )  # fmt: skip
        if reasons:
            raise BookingError(reasons)
        appointment = Appointment.objects.create(
            patient=patient, appointment_type=appointment_type, clinician=clinician,
            resource=resource, starts_at=starts_at, ends_at=ends_at,
            is_virtual=is_virtual, notes=notes, series=series, created_by=by,
        )  # fmt: skip
        _audit(
            request, appointment,
            f"Booked {appointment_type.name.lower()} {_span(starts_at, ends_at)} with "
            f"{clinician.display_name}" + (f", {resource.name}" if resource else ""),
            Action.CREATE,
        )  # fmt: skip
        if notify:
            notices.queue_confirmation(appointment, request=request)
    return appointment


def move_appointment(
    *,
    request: HttpRequest | None,
    appointment: Appointment,
    starts_at: datetime,
    clinician: User | None = None,
    resource: Resource | None = None,
    notify: bool = True,
    by: User,
) -> Appointment:
    """Move to a new time (and person or chair); the old slot is freed only if the
    new one is free."""
    with transaction.atomic():
        fresh = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("appointment_type", "patient", "clinician", "resource")
            .get(pk=appointment.pk)
        )
        if fresh.status != Appointment.Status.BOOKED:
            raise BookingError(
                [f"A {fresh.get_status_display().lower()} appointment cannot move."]
            )
        who = clinician or fresh.clinician
        chair = resource or fresh.resource
        _check_fit(fresh.appointment_type, who, chair, fresh.is_virtual, moving=True)
        _not_past(starts_at)
        ends_at = _ends(starts_at, fresh.duration)
        _lock_parties(fresh.patient, who, chair)
        reasons = find_conflicts(
            patient=fresh.patient, clinician=who, resource=chair, starts_at=starts_at,
            ends_at=ends_at, ignore=fresh,
        )  # fmt: skip
        if reasons:
            raise BookingError(reasons)
        before = _span(fresh.starts_at, fresh.ends_at)
        fresh.starts_at, fresh.ends_at = starts_at, ends_at
        fresh.clinician, fresh.resource = who, chair
        fresh.updated_at = timezone.now()
        fresh.save(
            update_fields=[
                "starts_at",
                "ends_at",
                "clinician",
                "resource",
                "updated_at",
            ]
        )
        _audit(
            request, fresh, f"Moved {fresh.appointment_type.name.lower()} from {before} "
            f"to {_span(starts_at, ends_at)}", Action.UPDATE,
        )  # fmt: skip
        if notify and before != _span(starts_at, ends_at):
            notices.queue_change(fresh, request=request)
    return fresh


def _change_status(
    request: HttpRequest | None,
    appointment: Appointment,
    status: str,
    allowed_from: tuple[str, ...],
    summary: str,
    reason: str = "",
    notify: bool = False,
) -> Appointment:
    with transaction.atomic():
        fresh = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("appointment_type", "patient")
            .get(pk=appointment.pk)
        )
        if fresh.status not in allowed_from:
            raise BookingError(
                [f"The appointment is {fresh.get_status_display().lower()} already."]
            )
        fresh.status = status
        fresh.cancel_reason = reason
        fresh.updated_at = timezone.now()
        fresh.save(update_fields=["status", "cancel_reason", "updated_at"])
        _audit(
            request, fresh, summary + (f": {reason}" if reason else ""), Action.UPDATE
        )
        if notify:
            notices.queue_cancellation(fresh, request=request)
    return fresh


def cancel_appointment(
    *,
    request: HttpRequest | None,
    appointment: Appointment,
    reason: str,
    notify: bool = True,
    by: User,
) -> Appointment:
    if not reason.strip():
        raise BookingError(["Give the reason for cancelling."])
    return _change_status(
        request, appointment, Appointment.Status.CANCELLED,
        (Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN),
        "Cancelled the appointment", reason.strip(), notify=notify,
    )  # fmt: skip


def check_in(
    *, request: HttpRequest | None, appointment: Appointment, by: User
) -> Appointment:
    return _change_status(
        request, appointment, Appointment.Status.CHECKED_IN,
        (Appointment.Status.BOOKED,), "Checked the patient in",
    )  # fmt: skip


def mark_no_show(
    *, request: HttpRequest | None, appointment: Appointment, by: User
) -> Appointment:
    if Appointment.objects.get(pk=appointment.pk).starts_at > timezone.now():
        raise BookingError(["The appointment has not started yet."])
    return _change_status(
        request, appointment, Appointment.Status.NO_SHOW,
        (Appointment.Status.BOOKED,), "Marked a no-show",
    )  # fmt: skip


def _audit_clinic(
    request: HttpRequest | None, summary: str, object_type: str, object_id: object
) -> None:
    record_event(
        request=request, action=Action.UPDATE, information=Information.CLINIC,
        object_type=object_type, object_id=object_id, summary=summary,
    )  # fmt: skip


def add_resource(*, request: HttpRequest | None, name: str, kind: str) -> Resource:
    with transaction.atomic():
        resource = Resource.objects.create(name=name, kind=kind)
        _audit_clinic(
            request,
            f"Added {resource.get_kind_display().lower()} {name}",
            "resource",
            resource.pk,
        )
    return resource


def save_working_hours(
    *, request: HttpRequest | None, formset: Any, member: User, seen: str | None
) -> None:
    """Save the hours formset; raise ChangedMeanwhileError when the member's hours
    changed after the form was opened (`seen` is its fingerprint of them)."""
    with transaction.atomic():
        # Two admins editing one person's hours: the person's row is locked (there
        # may be no hours rows to lock), then the hours are compared with what this
        # editor saw, so a stale form cannot bring back hours someone removed.
        User.objects.select_for_update(no_key=True).filter(pk=member.pk).first()
        check_working_hours_seen(member=member, seen=seen)
        formset.save()
        blocks = ", ".join(
            f"{WEEKDAYS[b.weekday][:3]} {b.starts:%H:%M}–{b.ends:%H:%M}"
            for b in WorkingHours.objects.filter(staff=member)
        )
        _audit_clinic(
            request, f"Set {member.display_name}'s working hours: {blocks or 'none'}",
            "user", member.pk,
        )  # fmt: skip


def check_working_hours_seen(*, member: User, seen: str | None) -> None:
    """Raise ChangedMeanwhileError unless the member's hours are still the ones the
    form showed (`seen`). Also asked of a form that failed validation: a block
    removed meanwhile makes it invalid before the save could say why."""
    check_unchanged(
        seen, working_hours_values(member), what="this staff member's weekly schedule",
        changed_by=last_changed_by("user", member.pk),
    )  # fmt: skip


def add_time_off(
    *, request: HttpRequest | None, member: User, starts_at: datetime, ends_at: datetime,
    reason: str,
) -> TimeOff:  # fmt: skip
    with transaction.atomic():
        away = TimeOff.objects.create(
            staff=member, starts_at=starts_at, ends_at=ends_at, reason=reason
        )
        _audit_clinic(
            request, f"Added time off for {member.display_name}: {_span(starts_at, ends_at)}",
            "user", member.pk,
        )  # fmt: skip
    return away


PATTERNS = {2: (1, 3), 3: (0, 2, 4)}
"""Weekdays for a series: twice a week Tuesday and Thursday, three times Monday,
Wednesday and Friday (Murrough 2013's thrice-weekly induction, clinical-rules.md §9)."""
SLOT_STEP = timedelta(minutes=30)


@dataclass(frozen=True)
class ProposedSlot:
    label: str
    appointment_type: AppointmentType
    clinician: User
    resource: Resource | None
    starts_at: datetime
    is_virtual: bool = False


@dataclass(frozen=True)
class SeriesProposal:
    slots: list[ProposedSlot]
    missing: list[str]


def _weekdays_from(first_day: date, per_week: int, count: int) -> list[date]:
    pattern = PATTERNS[per_week]
    days: list[date] = []
    day = first_day
    while len(days) < count:
        if day.weekday() in pattern:
            days.append(day)
        day += timedelta(days=1)
    return days


def _first_free(
    *,
    patient: Patient,
    appointment_type: AppointmentType,
    clinician: User,
    resources: list[Resource | None],
    day: date,
    earliest: time,
    taken: list[tuple[datetime, datetime]],
) -> ProposedSlot | None:
    """The first start from `earliest` on `day` (30-minute steps) where the
    clinician, the patient and one of the resources are free, and which does not
    overlap the series' own slots proposed so far."""
    length = timedelta(minutes=appointment_type.duration_minutes)
    start = timezone.make_aware(datetime.combine(day, earliest))
    end_of_day = timezone.make_aware(datetime.combine(day, time(23, 0)))
    while start + length <= end_of_day:
        ends = _ends(start, length)
        if not any(s < ends and start < e for s, e in taken):
            for resource in resources:
                if not find_conflicts(
                    patient=patient, clinician=clinician, resource=resource,
                    starts_at=start, ends_at=ends,
                ):  # fmt: skip
                    return ProposedSlot(
                        label="", appointment_type=appointment_type,
                        clinician=clinician, resource=resource, starts_at=start,
                        is_virtual=resource is None and appointment_type.may_be_virtual,
                    )  # fmt: skip
        start += SLOT_STEP
    return None


def propose_series(
    *,
    patient: Patient,
    first_day: date,
    sessions: int,
    per_week: int,
    earliest: time,
    nurse: User,
    therapist: User | None,
) -> SeriesProposal:
    """Dosing sessions on the series' weekdays, each in the first free chair from
    `earliest`, and (with a therapist) an integration session the next weekday.
    Slots that cannot be found are reported, never silently dropped."""
    if per_week not in PATTERNS:
        raise BookingError(["A series runs two or three times a week."])
    dosing = AppointmentType.objects.get(seed_key="dosing")
    integration = AppointmentType.objects.get(seed_key="integration")
    dosing_length = timedelta(minutes=dosing.duration_minutes)
    integration_length = timedelta(minutes=integration.duration_minutes)
    chairs: list[Resource | None] = list(
        Resource.objects.filter(is_active=True, kind=Resource.Kind.CHAIR)
    )
    slots: list[ProposedSlot] = []
    missing: list[str] = []
    taken: list[tuple[datetime, datetime]] = []
    for number, day in enumerate(
        _weekdays_from(first_day, per_week, sessions), start=1
    ):
        label = f"Dosing session {number}"
        found = _first_free(
            patient=patient, appointment_type=dosing, clinician=nurse,
            resources=chairs, day=day, earliest=earliest, taken=taken,
        )  # fmt: skip
        if found is None:
            missing.append(
                f"{label} on {day:%A %Y-%m-%d}: no chair free while "
                f"{nurse.display_name} is working."
            )
            continue
        slots.append(replace(found, label=label))
        taken.append((found.starts_at, _ends(found.starts_at, dosing_length)))
        if therapist is None:
            continue
        next_day = day + timedelta(days=1)
        while next_day.weekday() > 4:
            next_day += timedelta(days=1)
        after = _first_free(
            patient=patient, appointment_type=integration, clinician=therapist,
            resources=[None], day=next_day, earliest=earliest, taken=taken,
        )  # fmt: skip
        if after is None:
            missing.append(
                f"Integration after session {number} on {next_day:%A %Y-%m-%d}: "
                f"{therapist.display_name} has no free hour."
            )
            continue
        slots.append(replace(after, label=f"Integration after session {number}"))
        taken.append((after.starts_at, _ends(after.starts_at, integration_length)))
    return SeriesProposal(slots=slots, missing=missing)


def book_series(
    *, request: HttpRequest | None, patient: Patient, proposal: SeriesProposal, by: User
) -> list[Appointment]:
    """Book every proposed slot in one transaction: if any was taken meanwhile,
    nothing is booked and the reasons say which."""
    series = uuid.uuid4()
    booked: list[Appointment] = []
    with transaction.atomic():
        for slot in proposal.slots:
            try:
                appointment = book_appointment(
                    request=request, patient=patient,
                    appointment_type=slot.appointment_type, clinician=slot.clinician,
                    resource=slot.resource, starts_at=slot.starts_at,
                    is_virtual=slot.is_virtual, notes=slot.label, series=series,
                    notify=False, by=by,
                )  # fmt: skip
            except BookingError as exc:
                raise BookingError(
                    [f"{slot.label}: {reason}" for reason in exc.reasons]
                ) from exc
            booked.append(appointment)
        if booked:
            notices.queue_series_confirmation(booked, request=request)
    return booked


def issue_calendar_feed(*, request: HttpRequest | None, user: User) -> str:
    """A new private feed token for `user` (any earlier one stops working)."""
    token, digest = new_link_token()
    with transaction.atomic():
        CalendarFeed.objects.update_or_create(
            user=user, defaults={"token_hash": digest, "created_at": timezone.now()}
        )
        record_event(
            request=request, action=Action.CREATE, information=Information.ACCOUNT,
            object_type="calendar_feed", object_id=user.pk,
            summary="Created a private calendar feed (any earlier link revoked)",
        )  # fmt: skip
    return token


def revoke_calendar_feed(*, request: HttpRequest | None, user: User) -> None:
    with transaction.atomic():
        CalendarFeed.objects.filter(user=user).delete()
        record_event(
            request=request, action=Action.UPDATE, information=Information.ACCOUNT,
            object_type="calendar_feed", object_id=user.pk,
            summary="Revoked the private calendar feed",
        )  # fmt: skip


def request_booking(
    *,
    request: HttpRequest | None,
    patient: Patient,
    kind: str,
    appointment_type: AppointmentType | None,
    appointment: Appointment | None,
    preferred: str,
    message: str,
    submission_key: str,
) -> BookingRequest:
    """A patient asks from the portal. A resubmitted form returns the first request."""
    if appointment is not None and appointment.patient_id != patient.pk:
        raise BookingError(["That is not your appointment."])
    if kind == BookingRequest.Kind.NEW and appointment_type is None:
        raise BookingError(["Choose the kind of appointment."])
    if kind != BookingRequest.Kind.NEW and appointment is None:
        raise BookingError(["Choose the appointment to change or cancel."])
    existing = BookingRequest.objects.filter(submission_key=submission_key).first()
    if existing is not None:
        if existing.patient_id != patient.pk:
            raise BookingError(["That form was already used; open the page again."])
        return existing
    with transaction.atomic():
        asked = BookingRequest.objects.create(
            patient=patient, kind=kind, appointment_type=appointment_type,
            appointment=appointment, preferred=preferred, message=message,
            submission_key=submission_key,
        )  # fmt: skip
        record_event(
            request=request, action=Action.CREATE, patient=patient,
            information=Information.DEMOGRAPHICS, object_type="booking_request",
            object_id=asked.pk, summary=f"Asked the clinic: {asked.get_kind_display().lower()}",
        )  # fmt: skip
    return asked


def answer_booking_request(
    *,
    request: HttpRequest | None,
    booking_request: BookingRequest,
    status: str,
    answer: str,
    by: User,
) -> BookingRequest:
    """Staff close a request: done (booked, moved or cancelled) or declined, with a
    word for the patient."""
    if status not in (BookingRequest.Status.DONE, BookingRequest.Status.DECLINED):
        raise BookingError(["Choose done or declined."])
    if status == BookingRequest.Status.DECLINED and not answer.strip():
        raise BookingError(["Tell the patient why it was declined."])
    with transaction.atomic():
        fresh = BookingRequest.objects.select_for_update().get(pk=booking_request.pk)
        if fresh.status != BookingRequest.Status.OPEN:
            raise BookingError(["Someone already answered this request."])
        fresh.status, fresh.answer = status, answer.strip()
        fresh.handled_at, fresh.handled_by = timezone.now(), by
        fresh.save(update_fields=["status", "answer", "handled_at", "handled_by"])
        record_event(
            request=request, action=Action.UPDATE, patient=fresh.patient,
            information=Information.DEMOGRAPHICS, object_type="booking_request",
            object_id=fresh.pk, summary=f"Answered a booking request: {fresh.get_status_display().lower()}",
        )  # fmt: skip
    return fresh


SELF_BOOKING_NOTICE = timedelta(hours=24)
SELF_BOOKING_DAYS = 7
SELF_BOOKING_HORIZON = timedelta(days=90)


def self_bookable_types() -> list[AppointmentType]:
    """What a patient may book in the portal: none unless the clinic allows it."""
    if get_clinic_profile().portal_booking != PortalBooking.SELF:
        return []
    return list(AppointmentType.objects.filter(is_active=True, self_bookable=True))


def _preferred_first(patient: Patient, role: str, staff: list[User]) -> list[User]:
    """The patient's own physician or therapist first, when they do this work."""
    own_id = {
        AppointmentType.ClinicianRole.PHYSICIAN: patient.responsible_physician_id,
        AppointmentType.ClinicianRole.THERAPIST: patient.responsible_therapist_id,
    }.get(AppointmentType.ClinicianRole(role))
    return sorted(staff, key=lambda user: user.pk != own_id)


def open_slots(
    *,
    patient: Patient,
    appointment_type: AppointmentType,
    first_day: date,
    days: int = SELF_BOOKING_DAYS,
    now: datetime | None = None,
) -> dict[date, list[ProposedSlot]]:
    """Free start times (30-minute steps) for a patient booking themselves, from
    SELF_BOOKING_NOTICE ahead: a clinician of the type's role working and not away
    or busy (the patient's own clinician first), a free chair if one is needed,
    and the patient free. A fixed number of queries whatever the schedule holds."""
    now = now or timezone.now()
    staff = _preferred_first(
        patient, appointment_type.clinician_role,
        list(staff_with_role(appointment_type.clinician_role)),
    )  # fmt: skip
    span_start = timezone.make_aware(datetime.combine(first_day, time(0)))
    span_end = timezone.make_aware(
        datetime.combine(first_day + timedelta(days=days), time(0))
    )
    hours: dict[uuid.UUID, list[WorkingHours]] = {}
    for block in WorkingHours.objects.filter(staff__in=staff):
        hours.setdefault(block.staff_id, []).append(block)
    busy: dict[object, list[tuple[datetime, datetime]]] = {}
    for away in TimeOff.objects.filter(
        staff__in=staff, starts_at__lt=span_end, ends_at__gt=span_start
    ):
        busy.setdefault(("staff", away.staff_id), []).append(
            (away.starts_at, away.ends_at)
        )
    chairs: list[Resource | None] = [None]
    if appointment_type.needs_chair:
        chairs = list(Resource.objects.filter(is_active=True, kind=Resource.Kind.CHAIR))
    for held in (
        Appointment.objects.holding_time()
        .overlapping(span_start, span_end)
        .filter(
            models.Q(clinician__in=staff)
            | models.Q(patient=patient)
            | models.Q(resource__in=[c for c in chairs if c is not None])
        )
        .values_list(
            "clinician_id", "patient_id", "resource_id", "starts_at", "ends_at"
        )
    ):
        clinician_id, patient_id, resource_id, starts, ends = held
        busy.setdefault(("staff", clinician_id), []).append((starts, ends))
        busy.setdefault(("chair", resource_id), []).append((starts, ends))
        if patient_id == patient.pk:
            busy.setdefault(("patient", patient_id), []).append((starts, ends))

    def free(key: object, starts: datetime, ends: datetime) -> bool:
        return not any(s < ends and starts < e for s, e in busy.get(key, []))

    length = timedelta(minutes=appointment_type.duration_minutes)
    slots: dict[date, list[ProposedSlot]] = {}
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        found: dict[datetime, ProposedSlot] = {}
        for clinician in staff:
            blocks = hours.get(clinician.pk, [])
            for block in blocks:
                if block.weekday != day.weekday():
                    continue
                start = timezone.make_aware(datetime.combine(day, block.starts))
                while True:
                    ends = _ends(start, length)
                    if not _fits_hours(blocks, start, ends):
                        break
                    if (
                        start not in found
                        and start >= now + SELF_BOOKING_NOTICE
                        and free(("staff", clinician.pk), start, ends)
                        and free(("patient", patient.pk), start, ends)
                    ):
                        open_chairs = [
                            c
                            for c in chairs
                            if c is None or free(("chair", c.pk), start, ends)
                        ]
                        if open_chairs:
                            found[start] = ProposedSlot(
                                label=appointment_type.name,
                                appointment_type=appointment_type,
                                clinician=clinician, resource=open_chairs[0], starts_at=start,
                            )  # fmt: skip
                    start = _ends(start, SLOT_STEP)
        if found:
            slots[day] = [found[k] for k in sorted(found)]
    return slots


SLOT_GONE = "That time is no longer free; please choose another."


def self_book(
    *,
    request: HttpRequest | None,
    patient: Patient,
    appointment_type: AppointmentType,
    starts_at: datetime,
    is_virtual: bool,
    by: User,
) -> Appointment:
    """A patient books a free time in the portal. The slot is found afresh and
    booked under the same locks as the front desk's bookings; a second click on
    the same time returns the appointment it already made."""
    if appointment_type not in self_bookable_types():
        raise BookingError(
            ["This appointment cannot be booked online; ask the clinic."]
        )
    if is_virtual and (
        appointment_type.needs_chair or not appointment_type.may_be_virtual
    ):
        is_virtual = False
    now = timezone.now()
    if not now + SELF_BOOKING_NOTICE <= starts_at <= now + SELF_BOOKING_HORIZON:
        raise BookingError(
            ["Online booking is from 24 hours to 90 days ahead; for other times, "
             "ask the clinic."]
        )  # fmt: skip

    def made_already() -> Appointment | None:
        return Appointment.objects.filter(
            patient=patient, appointment_type=appointment_type, starts_at=starts_at,
            status=Appointment.Status.BOOKED,
        ).first()  # fmt: skip

    already = made_already()
    if already is not None:
        return already
    local_day = timezone.localtime(starts_at).date()
    day_slots = open_slots(
        patient=patient, appointment_type=appointment_type, first_day=local_day, days=1
    ).get(local_day, [])
    slot = next((s for s in day_slots if s.starts_at == starts_at), None)
    if slot is None:
        raise BookingError([SLOT_GONE])
    try:
        return book_appointment(
            request=request, patient=patient, appointment_type=appointment_type,
            clinician=slot.clinician, resource=None if is_virtual else slot.resource,
            starts_at=starts_at, is_virtual=is_virtual, by=by,
        )  # fmt: skip
    except BookingError as exc:
        # A double click racing its twin: the twin's appointment is the answer.
        already = made_already()
        if already is not None:
            return already
        # Staff details (who is away and why) are not for patients.
        raise BookingError([SLOT_GONE]) from exc


def book_consultation_request(
    *,
    request: HttpRequest,
    consult: ConsultationRequest,
    person: dict[str, Any],
    appointment_type: AppointmentType,
    clinician: User,
    resource: Resource | None,
    starts_at: datetime,
    is_virtual: bool,
    notify: bool,
    by: User,
) -> Appointment:
    """Book a consultation straight from a request from the public site. Without
    a chart yet, a prospect chart is made from what they gave us (plus `person`:
    date of birth and sex at birth, which a chart needs), their contact choice
    becomes their message preference, and the request moves to "booked". All or
    nothing: a refused booking leaves no chart behind."""
    with transaction.atomic():
        locked = (
            ConsultationRequest.objects.select_for_update(of=("self",))
            .select_related("patient")
            .get(pk=consult.pk)
        )
        if locked.status not in ConsultationRequest.OPEN_STATUSES:
            raise BookingError(
                [
                    f"This request is {locked.get_status_display().lower()}; reopen it first."
                ]
            )
        patient = locked.patient
        if patient is not None:
            repeated = Appointment.objects.filter(
                patient=patient, appointment_type=appointment_type, starts_at=starts_at,
                status=Appointment.Status.BOOKED,
            ).first()  # fmt: skip
            if repeated is not None:
                return repeated  # the same form sent twice
        if patient is None:
            patient = patients.create_patient(
                request=request,
                fields={
                    "legal_given_name": locked.given_name,
                    "legal_family_name": locked.family_name,
                    "born_on": locked.born_on or person.get("born_on"),
                    "sex_at_birth": person["sex_at_birth"],
                    "email": locked.email, "phone": locked.phone,
                    "status": Patient.Status.PROSPECT,
                },
                created_by=by,
            )  # fmt: skip
            intake.link_to_patient(
                request=request, consult=locked, patient=patient, by=by
            )
            ContactPreference.objects.create(
                patient=patient, by_email=bool(locked.email),
                by_sms=locked.preferred_contact == ConsultationRequest.Contact.TEXT,
                updated_by=by,
            )  # fmt: skip
        appointment = book_appointment(
            request=request, patient=patient, appointment_type=appointment_type,
            clinician=clinician, resource=resource, starts_at=starts_at,
            is_virtual=is_virtual, notify=notify, by=by,
        )  # fmt: skip
        if locked.status in (
            ConsultationRequest.Status.NEW,
            ConsultationRequest.Status.CONTACTED,
        ):
            intake.change_status(
                request=request, consult=locked,
                to_status=ConsultationRequest.Status.BOOKED,
                note=f"Booked {appointment_type.name.lower()} "
                f"{_span(appointment.starts_at, appointment.ends_at)}",
                expected=locked.status, by=by,
            )  # fmt: skip
    return appointment
