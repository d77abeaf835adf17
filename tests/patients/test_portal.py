import re
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.patients.models import Patient, PortalInvitation
from tests.conftest import ClientFor
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a long portal passphrase 42"
Invite = Callable[[User, Patient], str]


@pytest.fixture
def invite(
    client_for: ClientFor,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> Callable[[User, Patient], str]:
    """Send an invitation as `staff`; return the token from the emailed link."""

    def send(staff: User, patient: Patient) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(staff).post(
                reverse("patients:patient_invite", args=[patient.pk])
            )
        assert response.status_code == 302
        match = re.search(
            r"http://\S+/portal/invitation/(\S+)/", str(mail.outbox[-1].body)
        )
        assert match is not None
        return match.group(1)

    return send


def _accept(token: str, patient: Patient, **changes: str) -> Client:
    client = Client()
    data = {
        "born_on": patient.born_on.isoformat(),
        "password1": PASSWORD,
        "password2": PASSWORD,
        **changes,
    }
    client.post(reverse("portal:invitation_accept", args=[token]), data)
    return client


def test_the_whole_invitation_journey(invite: Invite, front_desk: User) -> None:
    patient = PatientFactory.create()
    token = invite(front_desk, patient)
    assert mail.outbox[-1].to == [patient.email]
    client = _accept(token, patient)
    patient.refresh_from_db()
    assert patient.user is not None
    assert patient.user.kind == User.Kind.PATIENT
    assert patient.user.check_password(PASSWORD)
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    assert patient.mrn.encode() in response.content
    assert AuditEvent.objects.filter(
        patient=patient, action=AuditEvent.Action.INVITATION_ACCEPTED
    ).exists()


def test_the_link_works_once(invite: Invite, front_desk: User) -> None:
    patient = PatientFactory.create()
    token = invite(front_desk, patient)
    _accept(token, patient)
    response = Client().get(reverse("portal:invitation_accept", args=[token]))
    assert response.status_code == 410


def test_the_link_expires(invite: Invite, front_desk: User) -> None:
    patient = PatientFactory.create()
    token = invite(front_desk, patient)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        response = Client().get(reverse("portal:invitation_accept", args=[token]))
    assert response.status_code == 410


def test_a_new_invitation_revokes_the_old_link(
    invite: Invite, front_desk: User
) -> None:
    patient = PatientFactory.create()
    old = invite(front_desk, patient)
    invite(front_desk, patient)
    assert (
        Client().get(reverse("portal:invitation_accept", args=[old])).status_code == 410
    )


def test_an_unknown_token_is_404(client: Client) -> None:
    assert (
        client.get(
            reverse("portal:invitation_accept", args=["not-a-real-token"])
        ).status_code
        == 404
    )


def test_a_wrong_birth_date_is_refused_and_counted(
    invite: Invite, front_desk: User
) -> None:
    patient = PatientFactory.create()
    token = invite(front_desk, patient)
    response = Client().post(
        reverse("portal:invitation_accept", args=[token]),
        {
            "born_on": (patient.born_on - timedelta(days=1)).isoformat(),
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert b"does not match" in response.content
    patient.refresh_from_db()
    assert patient.user is None
    assert PortalInvitation.objects.get(patient=patient).failed_checks == 1


def test_five_wrong_birth_dates_burn_the_link(invite: Invite, front_desk: User) -> None:
    patient = PatientFactory.create()
    token = invite(front_desk, patient)
    wrong = (patient.born_on - timedelta(days=3)).isoformat()
    for _ in range(PortalInvitation.MAX_FAILED_CHECKS):
        _accept(token, patient, born_on=wrong)
    _accept(token, patient)
    patient.refresh_from_db()
    assert patient.user is None


def test_a_weak_password_is_refused(invite: Invite, front_desk: User) -> None:
    patient = PatientFactory.create()
    token = invite(front_desk, patient)
    response = Client().post(
        reverse("portal:invitation_accept", args=[token]),
        {
            "born_on": patient.born_on.isoformat(),
            "password1": "12345678",
            "password2": "12345678",
        },
    )
    assert response.status_code == 200
    assert b"too short" in response.content or b"too common" in response.content
    patient.refresh_from_db()
    assert patient.user is None


def test_a_double_submit_creates_one_account(invite: Invite, front_desk: User) -> None:
    patient = PatientFactory.create()
    token = invite(front_desk, patient)
    _accept(token, patient)
    _accept(token, patient)
    assert User.objects.filter(email=patient.email).count() == 1


def test_inviting_needs_an_email_address(
    client_for: ClientFor, front_desk: User
) -> None:
    patient = PatientFactory.create(email="")
    response = client_for(front_desk).post(
        reverse("patients:patient_invite", args=[patient.pk]), follow=True
    )
    assert b"Add the patient&#x27;s email address" in response.content
    assert not PortalInvitation.objects.exists()


def test_who_looked_at_my_record(
    client_for: ClientFor,
    nurse: User,
    patient_user: User,
    patient_a: Patient,
    patient_b: Patient,
) -> None:
    client_for(nurse).get(reverse("patients:patient_detail", args=[patient_a.pk]))
    client_for(nurse).get(reverse("patients:patient_detail", args=[patient_b.pk]))
    response = client_for(patient_user).get(reverse("portal:access_log"))
    events = list(response.context["page"])
    assert any(e.actor_id == nurse.pk for e in events)
    assert all(e.patient_id == patient_a.pk for e in events)
    assert nurse.full_name.encode() in response.content


def test_the_portal_is_for_patients_only(client_for: ClientFor, nurse: User) -> None:
    assert client_for(nurse).get(reverse("portal:home")).status_code == 403


def test_a_patient_sees_crisis_resources(
    client_for: ClientFor, patient_user: User
) -> None:
    response = client_for(patient_user).get(reverse("portal:home"))
    assert b"9-8-8" in response.content


def test_appearing_in_a_staff_search_shows_in_my_access_log(
    client_for: ClientFor, front_desk: User, patient_user: User, patient_a: Patient
) -> None:
    client_for(front_desk).get(reverse("patients:patient_list"), {"q": patient_a.mrn})
    response = client_for(patient_user).get(reverse("portal:access_log"))
    listed = [e for e in response.context["page"] if e.actor_id == front_desk.pk]
    assert [e.information for e in listed] == [AuditEvent.Information.PATIENT_LIST]
