"""Self-booking in the portal (where the clinic allows it) and booking a free
consultation straight from a request on the public site."""

from datetime import date, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.intake.models import ConsultationRequest
from kapcare.patients.models import Patient
from kapcare.scheduling import services
from kapcare.scheduling.models import (
    Appointment,
    AppointmentMessage,
    AppointmentType,
    ContactPreference,
    TimeOff,
)
from kapcare.website.models import PortalBooking, get_clinic_profile
from tests.conftest import ClientFor
from tests.factories import PatientFactory
from tests.scheduling.test_booking import MONDAY, at, book, works_weekdays

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration() -> AppointmentType:
    kind = AppointmentType.objects.get(seed_key="integration")
    kind.self_bookable = True
    kind.save()
    clinic = get_clinic_profile()
    clinic.portal_booking = PortalBooking.SELF
    clinic.save()
    return kind


@pytest.fixture
def portal(client_for: ClientFor, patient_user: User) -> Client:
    return client_for(patient_user)


def test_self_booking_is_off_until_the_clinic_allows_it(
    portal: Client, therapist: User
) -> None:
    response = portal.get(reverse("portal:book"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:appointments")
    page = portal.get(reverse("portal:appointments"))
    assert b'href="/portal/appointments/book/"' not in page.content


def test_only_types_marked_for_self_booking_are_offered(
    integration: AppointmentType, portal: Client, patient_a: Patient, therapist: User
) -> None:
    works_weekdays(therapist)
    dosing = AppointmentType.objects.get(seed_key="dosing")
    page = portal.get(reverse("portal:book")).content.decode()
    assert "Integration session" in page and "Dosing session" not in page
    refused = portal.post(
        reverse("portal:book"),
        {"type": str(dosing.pk), "starts_at": at(9).isoformat()},
    )
    assert refused.status_code == 200  # the type is not on offer: nothing chosen
    assert not Appointment.objects.exists()


def test_free_times_skip_the_busy_the_away_and_the_first_24_hours(
    integration: AppointmentType, patient_a: Patient, therapist: User
) -> None:
    works_weekdays(therapist)
    other = PatientFactory.create()
    book(other, therapist, at(10), kind="integration")
    slots = services.open_slots(
        patient=patient_a, appointment_type=integration, first_day=MONDAY, days=1
    )[MONDAY]
    starts = [timezone.localtime(s.starts_at).strftime("%H:%M") for s in slots]
    assert starts[:3] == ["08:00", "08:30", "09:00"]
    assert "09:30" not in starts and "10:00" not in starts and "10:30" not in starts
    assert starts[-1] == "17:00"  # a 60-minute session ends by 18:00
    soon = services.open_slots(
        patient=patient_a, appointment_type=integration,
        first_day=timezone.localdate(), days=1,
    )  # fmt: skip
    assert all(
        s.starts_at >= timezone.now() + services.SELF_BOOKING_NOTICE
        for day in soon.values()
        for s in day
    )


def test_the_patients_own_therapist_comes_first(
    integration: AppointmentType, patient_a: Patient, therapist: User
) -> None:
    from kapcare.accounts.roles import Role
    from tests.conftest import make_staff

    second = works_weekdays(make_staff(Role.THERAPIST))
    works_weekdays(therapist)
    Patient.objects.filter(pk=patient_a.pk).update(responsible_therapist=second)
    patient_a.refresh_from_db()
    [first, *_] = services.open_slots(
        patient=patient_a, appointment_type=integration, first_day=MONDAY, days=1
    )[MONDAY]
    assert first.clinician == second


def test_a_patient_books_a_free_time_once_however_often_they_click(
    integration: AppointmentType, portal: Client, patient_a: Patient, therapist: User
) -> None:
    works_weekdays(therapist)
    url = reverse("portal:book")
    page = portal.get(url, {"type": str(integration.pk), "from": MONDAY.isoformat()})
    assert "Book Monday, December 7 at 09:00" in page.content.decode()
    data = {"type": str(integration.pk), "starts_at": at(9).isoformat(), "virtual": "1"}
    first = portal.post(url, data)
    assert first.status_code == 302
    again = portal.post(url, data)
    assert again.status_code == 302
    appointment = Appointment.objects.get()
    assert (appointment.patient, appointment.clinician, appointment.is_virtual) == (
        patient_a, therapist, True,
    )  # fmt: skip
    assert AppointmentMessage.objects.filter(kind="confirmation").count() == 1
    assert AuditEvent.objects.filter(
        patient=patient_a, object_type="appointment", action="create"
    ).exists()
    listing = portal.get(reverse("portal:appointments"))
    assert b"Integration session" in listing.content


def test_a_time_taken_meanwhile_is_refused_with_a_clear_message(
    integration: AppointmentType, portal: Client, patient_a: Patient, therapist: User
) -> None:
    works_weekdays(therapist)
    book(PatientFactory.create(), therapist, at(9), kind="integration")
    response = portal.post(
        reverse("portal:book"),
        {"type": str(integration.pk), "starts_at": at(9).isoformat()},
    )
    assert response.status_code == 409
    assert b"That time is no longer free; please choose another." in response.content
    garbled = portal.post(
        reverse("portal:book"), {"type": str(integration.pk), "starts_at": "soon"}
    )
    assert garbled.status_code == 400
    assert b"Choose one of the times shown." in garbled.content
    assert Appointment.objects.count() == 1


def test_the_booking_page_queries_stay_flat(
    integration: AppointmentType, portal: Client, therapist: User
) -> None:
    works_weekdays(therapist)
    url = reverse("portal:book")
    query = {"type": str(integration.pk), "from": MONDAY.isoformat()}

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert portal.get(url, query).status_code == 200
        return len(queries)

    count()  # the first request also sets up the session
    few = count()
    for day in range(5):
        for hour in (9, 11, 14):
            book(
                PatientFactory.create(),
                therapist,
                at(hour, day=day),
                kind="integration",
            )
    assert count() == few


@pytest.fixture
def consult(db: None) -> ConsultationRequest:
    return ConsultationRequest.objects.create(
        given_name="Wren", family_name="Oduya", email="wren@example.com",
        phone="+14165550188", preferred_contact="text",
        consent_to_contact_at=timezone.now(), consent_wording="I agree",
        submission_key="consult-1",
    )  # fmt: skip


def _consult_form(nurse: User, **extra: str) -> dict[str, str]:
    return {
        "appointment_type": str(AppointmentType.objects.get(seed_key="consultation").pk),
        "clinician": str(nurse.pk), "on": MONDAY.isoformat(), "at": "10:00",
        "is_virtual": "on", "notify": "on", **extra,
    }  # fmt: skip


def test_a_consultation_request_is_booked_in_one_step(
    client_for: ClientFor, front_desk: User, nurse: User, consult: ConsultationRequest
) -> None:
    works_weekdays(nurse)
    client = client_for(front_desk)
    url = reverse("scheduling:consultation_book", args=[consult.pk])
    page = client.get(url)
    assert b"Date of birth" in page.content and b"Sex at birth" in page.content
    data = _consult_form(nurse, born_on="1988-04-02", sex_at_birth="female")
    response = client.post(url, data)
    assert response.status_code == 302
    consult.refresh_from_db()
    patient = consult.patient
    assert patient is not None
    assert (patient.legal_given_name, patient.born_on, patient.status) == (
        "Wren", date(1988, 4, 2), Patient.Status.PROSPECT,
    )  # fmt: skip
    assert consult.status == ConsultationRequest.Status.BOOKED
    appointment = Appointment.objects.get()
    assert (appointment.patient, appointment.is_virtual) == (patient, True)
    preference = ContactPreference.objects.get(patient=patient)
    assert (preference.by_email, preference.by_sms) == (True, True)
    channels = AppointmentMessage.objects.values_list("channel", flat=True)
    assert sorted(channels) == ["email", "sms"]
    assert client.post(url, data).status_code == 302  # sent twice
    assert Appointment.objects.count() == 1 and Patient.objects.count() == 1
    assert consult.changes.filter(to_status="booked").count() == 1


def test_a_refused_consultation_booking_leaves_no_chart(
    client_for: ClientFor, front_desk: User, nurse: User, consult: ConsultationRequest
) -> None:
    works_weekdays(nurse)
    book(PatientFactory.create(), nurse, at(10), kind="consultation")
    client = client_for(front_desk)
    url = reverse("scheduling:consultation_book", args=[consult.pk])
    response = client.post(
        url, _consult_form(nurse, born_on="1988-04-02", sex_at_birth="female")
    )
    assert response.status_code == 409
    assert b"already has a free consultation" in response.content
    assert b'value="1988-04-02"' in response.content  # entries kept
    consult.refresh_from_db()
    assert consult.patient is None and consult.status == "new"
    assert Patient.objects.count() == 1
    missing = client.post(url, _consult_form(nurse, at="11:00"))
    assert missing.status_code == 200
    assert b"A chart needs the date of birth." in missing.content
    assert b"A chart needs the sex at birth." in missing.content
    assert Appointment.objects.count() == 1


def test_a_request_with_a_chart_already_books_against_it(
    client_for: ClientFor, front_desk: User, nurse: User, consult: ConsultationRequest,
    patient_a: Patient,
) -> None:  # fmt: skip
    works_weekdays(nurse)
    ConsultationRequest.objects.filter(pk=consult.pk).update(patient=patient_a)
    client = client_for(front_desk)
    url = reverse("scheduling:consultation_book", args=[consult.pk])
    assert b"Sex at birth" not in client.get(url).content
    assert client.post(url, _consult_form(nurse)).status_code == 302
    assert Appointment.objects.get().patient == patient_a
    assert Patient.objects.count() == 1


def test_the_request_page_offers_booking(
    client_for: ClientFor, front_desk: User, consult: ConsultationRequest
) -> None:
    page = client_for(front_desk).get(
        reverse("intake:request_detail", args=[consult.pk])
    )
    assert reverse("scheduling:consultation_book", args=[consult.pk]).encode() in (
        page.content
    )


def test_self_booking_is_from_24_hours_to_90_days_ahead(
    integration: AppointmentType,
    patient_a: Patient,
    therapist: User,
    patient_user: User,
) -> None:
    works_weekdays(therapist)

    def attempt(starts_at: datetime) -> Appointment:
        return services.self_book(
            request=None, patient=patient_a, appointment_type=integration,
            starts_at=starts_at, is_virtual=False, by=patient_user,
        )  # fmt: skip

    with time_machine.travel(at(10, day=-1), tick=False):  # Sunday 10:00
        for too_soon in (at(9), at(9, day=-1) + timedelta(days=1)):
            with pytest.raises(services.BookingError, match="from 24 hours to 90 days"):
                attempt(too_soon)
        with pytest.raises(services.BookingError, match="from 24 hours to 90 days"):
            attempt(at(10, day=91))
        assert attempt(at(10)).starts_at == at(10)


def test_a_type_not_offered_online_is_refused_by_the_service(
    integration: AppointmentType,
    patient_a: Patient,
    therapist: User,
    patient_user: User,
) -> None:
    works_weekdays(therapist)
    follow_up = AppointmentType.objects.get(seed_key="follow_up")
    with pytest.raises(services.BookingError, match="cannot be booked online"):
        services.self_book(
            request=None, patient=patient_a, appointment_type=follow_up,
            starts_at=at(9), is_virtual=False, by=patient_user,
        )  # fmt: skip
    get_clinic_profile().__class__.objects.update(portal_booking=PortalBooking.REQUESTS)
    with pytest.raises(services.BookingError, match="cannot be booked online"):
        services.self_book(
            request=None, patient=patient_a, appointment_type=integration,
            starts_at=at(9), is_virtual=False, by=patient_user,
        )  # fmt: skip


def test_patients_are_not_told_why_staff_are_away(
    integration: AppointmentType,
    patient_a: Patient,
    therapist: User,
    patient_user: User,
) -> None:
    works_weekdays(therapist)
    slots = services.open_slots(
        patient=patient_a, appointment_type=integration, first_day=MONDAY, days=1
    )
    assert slots
    TimeOff.objects.create(
        staff=therapist, starts_at=at(8), ends_at=at(18), reason="Surgery"
    )
    with (
        mock.patch.object(services, "open_slots", return_value=slots),
        pytest.raises(services.BookingError) as refused,
    ):
        services.self_book(
            request=None, patient=patient_a, appointment_type=integration,
            starts_at=at(9), is_virtual=False, by=patient_user,
        )  # fmt: skip
    assert refused.value.reasons == [services.SLOT_GONE]


def test_out_of_range_dates_in_the_portal_are_handled(
    integration: AppointmentType, portal: Client, therapist: User
) -> None:
    url = reverse("portal:book")
    far = portal.get(url, {"type": str(integration.pk), "from": "9999-12-30"})
    assert far.status_code == 200
    assert b"Next week" not in far.content
    for starts_at in ("9999-12-31T23:00:00-12:00", "0001-01-01T00:00:00+14:00"):
        response = portal.post(
            url, {"type": str(integration.pk), "starts_at": starts_at}
        )
        assert response.status_code in {400, 409}
    assert not Appointment.objects.exists()


def test_a_closed_consultation_request_cannot_be_booked(
    client_for: ClientFor, front_desk: User, nurse: User, consult: ConsultationRequest
) -> None:
    works_weekdays(nurse)
    ConsultationRequest.objects.filter(pk=consult.pk).update(status="withdrawn")
    response = client_for(front_desk).post(
        reverse("scheduling:consultation_book", args=[consult.pk]),
        _consult_form(nurse, born_on="1988-04-02", sex_at_birth="female"),
    )
    assert response.status_code == 409
    assert b"This request is withdrawn; reopen it first." in response.content
    assert not Patient.objects.exists() and not AppointmentMessage.objects.exists()
