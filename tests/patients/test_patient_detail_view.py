import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.lib.http import AuthenticatedHttpRequest
from kapcare.patients.access import get_patient_for_user
from kapcare.patients.models import Patient
from tests.conftest import ClientFor
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
Information = AuditEvent.Information


def _url(patient: Patient) -> str:
    return reverse("patients:patient_detail", args=[patient.pk])


def test_every_chart_view_writes_an_audit_event(
    client_for: ClientFor, physician: User, patient_a: Patient
) -> None:
    client = client_for(physician)
    for _ in range(3):
        assert client.get(_url(patient_a)).status_code == 200
    views = AuditEvent.objects.filter(patient=patient_a, action=AuditEvent.Action.VIEW)
    assert views.count() == 3
    event = views.first()
    assert event is not None
    assert (event.actor_id, event.actor_label, event.actor_role) == (
        physician.pk,
        physician.email,
        "Physician",
    )
    assert event.information == Information.CLINICAL  # clinical staff also see alerts
    assert event.request_id


def test_the_header_shows_identity_age_and_care_team(
    client_for: ClientFor, nurse: User, physician: User
) -> None:
    patient = PatientFactory.create(
        pronouns="they/them", responsible_physician=physician
    )
    response = client_for(nurse).get(_url(patient))
    body = response.content.decode()
    assert patient.mrn in body
    assert "they/them" in body
    assert f"({patient.age} y)" in body
    assert physician.full_name in body


def test_clinical_staff_see_the_alerts_area_and_front_desk_do_not(
    client_for: ClientFor, nurse: User, front_desk: User, patient_a: Patient
) -> None:
    assert b"No open safety alerts" in client_for(nurse).get(_url(patient_a)).content
    front = client_for(front_desk).get(_url(patient_a)).content.lower()
    assert b"safety alert" not in front


def test_an_unknown_chart_is_404(client_for: ClientFor, nurse: User) -> None:
    response = client_for(nurse).get(
        reverse("patients:patient_detail", args=[uuid.uuid4()])
    )
    assert response.status_code == 404


def test_a_staff_member_without_totp_cannot_open_a_chart(
    client_for: ClientFor, unenrolled_nurse: User, patient_a: Patient
) -> None:
    response = client_for(unenrolled_nurse).get(_url(patient_a))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_enrol"))
    assert not AuditEvent.objects.filter(
        patient=patient_a, action=AuditEvent.Action.VIEW
    ).exists()


def test_an_enrolled_but_unverified_staff_member_is_asked_for_a_code(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    response = client_for(nurse, verified=False).get(_url(patient_a))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_verify"))


@pytest.mark.parametrize("count", [1, 50])
def test_the_chart_uses_a_constant_number_of_queries(
    client_for: ClientFor,
    nurse: User,
    physician: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    count: int,
) -> None:
    patients = PatientFactory.create_batch(count, responsible_physician=physician)
    client = client_for(nurse)
    client.get(reverse("patients:patient_list"))
    # Expect 17: session, user, OTP device, clinic profile, permissions (2), the chart with
    # its care team (one join), groups, savepoint, chain head, audit insert, head update,
    # release, the header's open-alert count, the chart's unresolved alerts, and the
    # consent versions and the patient's signatures.
    with django_assert_max_num_queries(17):
        assert client.get(_url(patients[-1])).status_code == 200


def _request(user: User) -> AuthenticatedHttpRequest:
    request = RequestFactory().get("/")
    request.user = user
    return request  # type: ignore[return-value]


def test_front_desk_may_not_read_clinical_information(
    front_desk: User, patient_a: Patient
) -> None:
    with pytest.raises(PermissionDenied):
        get_patient_for_user(
            _request(front_desk), patient_a.pk, information=Information.CLINICAL
        )
    denied = AuditEvent.objects.get(action=AuditEvent.Action.ACCESS_DENIED)
    assert denied.patient_id == patient_a.pk
    assert denied.actor_id == front_desk.pk


def test_clinical_staff_may_read_clinical_information(
    therapist: User, patient_a: Patient
) -> None:
    patient = get_patient_for_user(
        _request(therapist), patient_a.pk, information=Information.CLINICAL
    )
    assert patient == patient_a
    assert (
        AuditEvent.objects.filter(
            patient=patient_a, information=Information.CLINICAL
        ).count()
        == 1
    )


def test_clinic_admin_alone_may_not_read_charts(
    clinic_admin: User, patient_a: Patient
) -> None:
    with pytest.raises(PermissionDenied):
        get_patient_for_user(_request(clinic_admin), patient_a.pk)


def test_a_patient_reaching_for_another_chart_gets_404(
    patient_user: User, patient_b: Patient
) -> None:
    with pytest.raises(Http404):
        get_patient_for_user(_request(patient_user), patient_b.pk)
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.ACCESS_DENIED, actor=patient_user
        ).count()
        == 1
    )


def test_a_patient_may_read_their_own_chart(
    patient_user: User, patient_a: Patient
) -> None:
    assert get_patient_for_user(_request(patient_user), patient_a.pk) == patient_a


def test_a_patient_cannot_use_staff_chart_urls(
    client: Client, patient_user: User, patient_a: Patient
) -> None:
    client.force_login(patient_user)
    assert client.get(_url(patient_a)).status_code == 403
