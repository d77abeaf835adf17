"""Patients ask from the portal; staff answer; the patient sees the answer."""

import pytest
from django.urls import reverse

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.audit.models import AuditEvent
from kapcare.patients.models import Patient
from kapcare.scheduling import services
from kapcare.scheduling.models import AppointmentType, BookingRequest, Resource
from tests.conftest import ClientFor, make_staff
from tests.scheduling.test_booking import at, book, works_weekdays

pytestmark = pytest.mark.django_db


def test_a_patient_asks_for_an_appointment_once_per_submit(
    client_for: ClientFor, patient_user: User, patient_a: Patient
) -> None:
    client = client_for(patient_user)
    data = {
        "kind": "new",
        "appointment_type": AppointmentType.objects.get(seed_key="follow_up").pk,
        "preferred": "Tuesday mornings", "message": "", "submission_key": "k1",
    }  # fmt: skip
    assert client.post(reverse("portal:appointments"), data).status_code == 302
    assert client.post(reverse("portal:appointments"), data).status_code == 302
    asked = BookingRequest.objects.get()
    assert (asked.patient, asked.preferred, asked.status) == (
        patient_a, "Tuesday mornings", "open",
    )  # fmt: skip
    assert (
        AuditEvent.objects.filter(
            object_type="booking_request", action="create"
        ).count()
        == 1
    )


def test_a_new_request_needs_its_kind_and_a_change_its_appointment(
    client_for: ClientFor, patient_user: User
) -> None:
    client = client_for(patient_user)
    missing = client.post(
        reverse("portal:appointments"), {"kind": "new", "submission_key": "k2"}
    )
    assert missing.status_code == 400
    assert b"Choose the kind of appointment." in missing.content
    change = client.post(
        reverse("portal:appointments"), {"kind": "change", "submission_key": "k3"}
    )
    assert b"Choose the appointment." in change.content
    assert not BookingRequest.objects.exists()


def test_a_patient_cannot_ask_about_someone_elses_appointment(
    patient_a: Patient, patient_b: Patient
) -> None:
    nurse = works_weekdays(make_staff(Role.NURSE))
    theirs = book(patient_b, nurse, at(9), resource=Resource.objects.create(
        name="Chair 1", kind="chair"))  # fmt: skip
    with pytest.raises(services.BookingError, match="not your appointment"):
        services.request_booking(
            request=None, patient=patient_a, kind="cancel", appointment_type=None,
            appointment=theirs, preferred="", message="", submission_key="k4",
        )  # fmt: skip


def test_staff_answer_and_the_patient_sees_it(
    client_for: ClientFor, front_desk: User, patient_user: User, patient_a: Patient
) -> None:
    asked = services.request_booking(
        request=None, patient=patient_a, kind="new",
        appointment_type=AppointmentType.objects.get(seed_key="follow_up"),
        appointment=None, preferred="", message="", submission_key="k5",
    )  # fmt: skip
    desk = client_for(front_desk)
    queue = desk.get(reverse("scheduling:request_queue")).content.decode()
    assert patient_a.mrn in queue
    answer = reverse("scheduling:request_answer", args=[asked.pk])
    desk.post(answer, {"status": "declined", "answer": ""})
    asked.refresh_from_db()
    assert asked.status == "open"
    desk.post(answer, {"status": "declined", "answer": "Please call us to book"})
    asked.refresh_from_db()
    assert (asked.status, asked.handled_by) == ("declined", front_desk)
    page = client_for(patient_user).get(reverse("portal:appointments")).content.decode()
    assert "Declined</strong>: Please call us to book" in page
