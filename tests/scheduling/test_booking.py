"""Booking rules: no double booking of a person, a chair or a patient; working hours
and time off; moving, cancelling, checking in; and the database-level race."""

import threading
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.audit.models import AuditEvent
from kapcare.patients.models import Patient
from kapcare.scheduling import services
from kapcare.scheduling.models import (
    Appointment,
    AppointmentType,
    Resource,
    TimeOff,
    WorkingHours,
)
from tests.conftest import make_staff
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
MONDAY = date(2026, 12, 7)


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return timezone.make_aware(
        datetime.combine(MONDAY + timedelta(days=day), time(hour, minute))
    )


def works_weekdays(user: User) -> User:
    WorkingHours.objects.bulk_create(
        WorkingHours(staff=user, weekday=d, starts=time(8), ends=time(18))
        for d in range(5)
    )
    return user


@pytest.fixture
def dosing() -> AppointmentType:
    return AppointmentType.objects.get(seed_key="dosing")


@pytest.fixture
def chair() -> Resource:
    return Resource.objects.create(name="Chair 1", kind="chair")


@pytest.fixture
def rn(db: None) -> User:
    return works_weekdays(make_staff(Role.NURSE))


def book(patient: Patient, clinician: User, start: datetime, *, kind: str = "dosing",
         resource: Resource | None = None) -> Appointment:  # fmt: skip
    return services.book_appointment(
        request=None, patient=patient,
        appointment_type=AppointmentType.objects.get(seed_key=kind),
        clinician=clinician, resource=resource, starts_at=start, by=clinician,
    )  # fmt: skip


def test_the_default_types_are_seeded() -> None:
    dosing = AppointmentType.objects.get(seed_key="dosing")
    assert (dosing.duration_minutes, dosing.needs_chair, dosing.clinician_role) == (
        180, True, "Nurse",
    )  # fmt: skip
    assert AppointmentType.objects.count() == 6


def test_a_booking_takes_the_types_length_and_is_audited(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    appointment = book(patient_a, rn, at(9), resource=chair)
    assert appointment.ends_at == at(12)
    assert AuditEvent.objects.filter(
        patient=patient_a, object_type="appointment", action="create"
    ).exists()


def test_a_chair_is_not_booked_twice(
    rn: User, chair: Resource, patient_a: Patient, patient_b: Patient
) -> None:
    book(patient_a, rn, at(9), resource=chair)
    other_nurse = works_weekdays(make_staff(Role.NURSE))
    with pytest.raises(services.BookingError) as refused:
        book(patient_b, other_nurse, at(11), resource=chair)
    assert refused.value.reasons == ["Chair 1 is booked 2026-12-07 09:00–12:00."]


def test_a_clinician_is_not_booked_twice(
    rn: User, chair: Resource, patient_a: Patient, patient_b: Patient
) -> None:
    book(patient_a, rn, at(9), resource=chair)
    chair_2 = Resource.objects.create(name="Chair 2", kind="chair")
    with pytest.raises(services.BookingError, match="already has a dosing session"):
        book(patient_b, rn, at(10), resource=chair_2)


def test_back_to_back_is_allowed(
    rn: User, chair: Resource, patient_a: Patient, patient_b: Patient
) -> None:
    book(patient_a, rn, at(8), resource=chair)
    assert book(patient_b, rn, at(11), resource=chair).starts_at == at(11)


def test_working_hours_and_time_off_are_respected(
    rn: User, chair: Resource, patient_a: Patient
) -> None:
    with pytest.raises(services.BookingError, match="works 08:00–18:00 on Mondays"):
        book(patient_a, rn, at(16), resource=chair)
    with pytest.raises(services.BookingError, match="does not work on Saturdays"):
        book(patient_a, rn, at(9, day=5), resource=chair)
    TimeOff.objects.create(staff=rn, starts_at=at(0, day=1), ends_at=at(23, day=1),
                           reason="Course")  # fmt: skip
    with pytest.raises(services.BookingError, match=r"is away .* \(Course\)"):
        book(patient_a, rn, at(9, day=1), resource=chair)


def test_the_type_decides_the_role_and_the_chair(rn: User, patient_a: Patient) -> None:
    with pytest.raises(services.BookingError) as refused:
        book(patient_a, rn, at(9), kind="dosing")
    assert refused.value.reasons == ["Choose a dosing chair."]
    with pytest.raises(services.BookingError, match="with a physician"):
        book(patient_a, rn, at(9), kind="assessment")


def test_a_cancelled_slot_is_free_again(
    rn: User, chair: Resource, patient_a: Patient, patient_b: Patient
) -> None:
    first = book(patient_a, rn, at(9), resource=chair)
    with pytest.raises(services.BookingError, match="reason"):
        services.cancel_appointment(request=None, appointment=first, reason=" ", by=rn)
    services.cancel_appointment(
        request=None, appointment=first, reason="Patient unwell", by=rn
    )
    assert book(patient_b, rn, at(9), resource=chair).starts_at == at(9)


def test_moving_checks_the_new_slot_and_keeps_the_old_if_refused(
    rn: User, chair: Resource, patient_a: Patient, patient_b: Patient
) -> None:
    first = book(patient_a, rn, at(8), resource=chair)
    second = book(patient_b, rn, at(11), resource=chair)
    with pytest.raises(services.BookingError, match="Chair 1 is booked"):
        services.move_appointment(
            request=None, appointment=second, starts_at=at(10), by=rn
        )
    second.refresh_from_db()
    assert second.starts_at == at(11)
    moved = services.move_appointment(
        request=None, appointment=first, starts_at=at(14), by=rn
    )
    assert (moved.starts_at, moved.ends_at) == (at(14), at(17))


def test_check_in_and_no_show(rn: User, chair: Resource, patient_a: Patient) -> None:
    appointment = book(patient_a, rn, at(9), resource=chair)
    with pytest.raises(services.BookingError, match="not started"):
        services.mark_no_show(request=None, appointment=appointment, by=rn)
    services.check_in(request=None, appointment=appointment, by=rn)
    with pytest.raises(services.BookingError, match="checked in already"):
        services.check_in(request=None, appointment=appointment, by=rn)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_bookings_of_one_chair_exactly_one_wins() -> None:
    """On PostgreSQL the row locks make the second booking wait, then see the first."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database is not shared between threads")
    chair = Resource.objects.create(name="Chair 9", kind="chair")
    nurses = [works_weekdays(make_staff(Role.NURSE)) for _ in range(2)]
    patients = [PatientFactory.create() for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            book(patients[n], nurses[n], at(9), resource=chair)
            outcomes.append("booked")
        except services.BookingError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked", "refused"]
    assert Appointment.objects.filter(resource=chair).count() == 1


def test_a_booking_may_not_run_past_midnight(
    chair: Resource, patient_a: Patient
) -> None:
    late = make_staff(Role.NURSE)
    WorkingHours.objects.create(staff=late, weekday=0, starts=time(9), ends=time(17))
    with pytest.raises(services.BookingError, match="works 09:00–17:00 on Mondays"):
        book(patient_a, late, at(21), resource=chair)


def test_touching_blocks_of_hours_join(chair: Resource, patient_a: Patient) -> None:
    split = make_staff(Role.NURSE)
    WorkingHours.objects.create(staff=split, weekday=0, starts=time(9), ends=time(12))
    WorkingHours.objects.create(staff=split, weekday=0, starts=time(12), ends=time(17))
    assert book(patient_a, split, at(11), resource=chair).ends_at == at(14)


def test_a_past_time_is_refused(rn: User, chair: Resource, patient_a: Patient) -> None:
    with pytest.raises(services.BookingError, match="has passed"):
        book(patient_a, rn, timezone.now() - timedelta(days=1), resource=chair)


def test_a_no_show_frees_the_chair(
    rn: User, chair: Resource, patient_a: Patient, patient_b: Patient
) -> None:
    first = book(patient_a, rn, at(9), resource=chair)
    Appointment.objects.filter(pk=first.pk).update(status="no_show")
    assert book(patient_b, rn, at(10), resource=chair).starts_at == at(10)


def test_the_length_is_elapsed_time_across_the_clock_change(
    chair: Resource, patient_a: Patient
) -> None:
    sunday_nurse = make_staff(Role.NURSE)
    WorkingHours.objects.create(
        staff=sunday_nurse, weekday=6, starts=time(0), ends=time(23)
    )
    # Ontario springs forward at 02:00 on 14 March 2027.
    start = timezone.make_aware(datetime.combine(date(2027, 3, 14), time(1)))
    appointment = book(patient_a, sunday_nurse, start, resource=chair)
    appointment.refresh_from_db()
    assert appointment.ends_at - appointment.starts_at == timedelta(hours=3)
    assert timezone.localtime(appointment.ends_at).hour == 5
