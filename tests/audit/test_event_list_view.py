from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.patients.models import Patient
from tests.conftest import ClientFor
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
URL = reverse("audit:event_list")


def _chart(patient: Patient) -> str:
    return reverse("patients:patient_detail", args=[patient.pk])


def test_the_admin_finds_every_access_to_one_patient(
    client_for: ClientFor,
    clinic_admin: User,
    nurse: User,
    patient_a: Patient,
    patient_b: Patient,
) -> None:
    client_for(nurse).get(_chart(patient_a))
    client_for(nurse).get(_chart(patient_b))
    response = client_for(clinic_admin).get(URL, {"patient": patient_a.mrn})
    events = list(response.context["page"])
    assert events
    assert {e.patient_id for e in events} == {patient_a.pk}


def test_search_by_user_and_action(
    client_for: ClientFor,
    clinic_admin: User,
    nurse: User,
    physician: User,
    patient_a: Patient,
) -> None:
    client_for(nurse).get(_chart(patient_a))
    client_for(physician).get(_chart(patient_a))
    response = client_for(clinic_admin).get(
        URL, {"user": nurse.email, "action": "view"}
    )
    assert {e.actor_id for e in response.context["page"]} == {nurse.pk}


def test_search_by_date_uses_the_clinic_day(
    client_for: ClientFor, clinic_admin: User, nurse: User, patient_a: Patient
) -> None:
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        client_for(nurse).get(_chart(patient_a))
    client_for(nurse).get(_chart(patient_a))
    today = timezone.localdate()
    response = client_for(clinic_admin).get(
        URL,
        {"patient": patient_a.mrn, "action": "view", "date_from": today.isoformat()},
    )
    assert len(response.context["page"]) == 1


def test_an_end_date_before_the_start_is_explained(
    client_for: ClientFor, clinic_admin: User
) -> None:
    response = client_for(clinic_admin).get(
        URL, {"date_from": "2026-05-02", "date_to": "2026-05-01"}
    )
    assert b"end date is before the start date" in response.content


def test_reading_the_audit_log_is_itself_recorded(
    client_for: ClientFor, clinic_admin: User
) -> None:
    client_for(clinic_admin).get(URL, {"user": "someone"})
    event = AuditEvent.objects.get(object_type="audit_log")
    assert (event.actor_id, event.detail) == (clinic_admin.pk, {"user": "someone"})


def test_clinical_staff_cannot_read_the_audit_log(
    client_for: ClientFor, physician: User
) -> None:
    assert client_for(physician).get(URL).status_code == 403


@pytest.mark.parametrize("count", [1, 30])
def test_the_query_count_does_not_grow_with_events(
    client_for: ClientFor,
    clinic_admin: User,
    nurse: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    count: int,
) -> None:
    nurse_client = client_for(nurse)
    for patient in PatientFactory.create_batch(count):
        nurse_client.get(_chart(patient))
    client = client_for(clinic_admin)
    client.get(URL)
    # Expect 14: session, user, OTP device, clinic profile, permissions (2), groups,
    # audit write (savepoint, chain head, insert, head update, release), count, and
    # one page of events joined to their patients.
    with django_assert_max_num_queries(14):
        client.get(URL)


def test_looking_a_patient_up_is_recorded_against_that_patient(
    client_for: ClientFor, clinic_admin: User, patient_a: Patient
) -> None:
    client_for(clinic_admin).get(URL, {"patient": patient_a.mrn})
    event = AuditEvent.objects.get(patient=patient_a)
    assert (event.actor_id, event.summary) == (
        clinic_admin.pk,
        "Looked up in the audit log",
    )
