import threading

import pytest
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries, DjangoCaptureOnCommitCallbacks

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.patients.models import Patient
from kapcare.patients.services import (
    EDITABLE_FIELDS,
    StaleEditError,
    invite_patient_to_portal,
    update_patient,
)
from tests.conftest import ClientFor
from tests.factories import PatientFactory, valid_health_number

pytestmark = pytest.mark.django_db


def _form_data(patient: Patient, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {}
    for name in EDITABLE_FIELDS:
        value = getattr(
            patient, f"{name}_id" if name.startswith("responsible_") else name
        )
        data[name] = "" if value is None else value
    data["born_on"] = patient.born_on.isoformat()
    data["loaded_at"] = patient.updated_at.isoformat()
    data.update(changes)
    return data


def _url(patient: Patient) -> str:
    return reverse("patients:patient_edit", args=[patient.pk])


def test_an_edit_keeps_who_when_and_old_and_new_values(
    client_for: ClientFor, nurse: User
) -> None:
    patient = PatientFactory.create(preferred_name="", pronouns="")
    response = client_for(nurse).post(
        _url(patient), _form_data(patient, preferred_name="Sunny", pronouns="she/her")
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.preferred_name, patient.pronouns) == ("Sunny", "she/her")
    event = AuditEvent.objects.get(patient=patient, action=AuditEvent.Action.UPDATE)
    assert event.actor_id == nurse.pk
    assert event.detail["changes"] == {
        "preferred_name": ["", "Sunny"],
        "pronouns": ["", "she/her"],
    }


def test_staff_can_read_the_history(
    client_for: ClientFor, nurse: User, front_desk: User
) -> None:
    patient = PatientFactory.create(pronouns="")
    client_for(nurse).post(_url(patient), _form_data(patient, pronouns="they/them"))
    response = client_for(front_desk).get(
        reverse("patients:patient_history", args=[patient.pk])
    )
    body = response.content.decode()
    assert "Pronouns" in body
    assert "they/them" in body
    assert nurse.email in body
    assert (
        AuditEvent.objects.filter(
            patient=patient, information=AuditEvent.Information.HISTORY
        ).count()
        == 1
    )


def test_history_shows_care_team_names_not_ids(
    client_for: ClientFor, nurse: User, physician: User
) -> None:
    patient = PatientFactory.create()
    client_for(nurse).post(
        _url(patient), _form_data(patient, responsible_physician=physician.pk)
    )
    response = client_for(nurse).get(
        reverse("patients:patient_history", args=[patient.pk])
    )
    assert physician.full_name in response.content.decode()
    assert str(physician.pk) not in response.content.decode()


def test_saving_without_changes_writes_no_history(
    client_for: ClientFor, nurse: User
) -> None:
    patient = PatientFactory.create()
    client_for(nurse).post(_url(patient), _form_data(patient))
    assert not AuditEvent.objects.filter(
        patient=patient, action=AuditEvent.Action.UPDATE
    ).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("health_number", "1234567890", "check digit"),
        ("health_number", "12345", "10 digits"),
        ("health_number", "12345ABCDE", "digits only"),
        ("health_version_code", "ABC", "two letters"),
        ("phone", "12", "phone number"),
        ("postal_code", "12345", "postal code"),
        ("born_on", "2999-01-01", "future"),
        ("legal_family_name", "", "required"),
    ],
)
def test_bad_input_re_renders_with_a_message_and_keeps_the_rest(
    client_for: ClientFor, nurse: User, field: str, value: str, message: str
) -> None:
    patient = PatientFactory.create(pronouns="")
    response = client_for(nurse).post(
        _url(patient), _form_data(patient, pronouns="xe/xem", **{field: value})
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert b'value="xe/xem"' in response.content
    patient.refresh_from_db()
    assert patient.pronouns == ""


def test_a_second_editor_is_told_instead_of_overwriting(
    client_for: ClientFor, nurse: User, physician: User
) -> None:
    patient = PatientFactory.create(pronouns="")
    stale = _form_data(patient, pronouns="he/him")
    update_patient(
        request=None,
        patient=patient,
        fields={"pronouns": "she/her"},
        changed_by=physician,
    )
    response = client_for(nurse).post(_url(patient), stale)
    assert response.status_code == 200
    assert physician.email in response.content.decode()
    patient.refresh_from_db()
    assert patient.pronouns == "she/her"


def test_a_valid_health_number_is_stored_without_spaces(
    client_for: ClientFor, nurse: User
) -> None:
    patient = PatientFactory.create()
    number = valid_health_number(42)
    spaced = f"{number[:4]} {number[4:7]} {number[7:]}"
    client_for(nurse).post(
        _url(patient),
        _form_data(patient, health_number=spaced, health_version_code="xy"),
    )
    patient.refresh_from_db()
    assert (patient.health_number, patient.health_version_code) == (number, "XY")


def test_extra_posted_fields_are_ignored(client_for: ClientFor, nurse: User) -> None:
    patient = PatientFactory.create()
    mrn = patient.mrn
    client_for(nurse).post(
        _url(patient), _form_data(patient, mrn="KC9999999", user=nurse.pk)
    )
    patient.refresh_from_db()
    assert patient.mrn == mrn
    assert patient.user_id is None


def test_a_form_without_its_version_is_refused(
    client_for: ClientFor, nurse: User
) -> None:
    patient = PatientFactory.create(pronouns="")
    data = _form_data(patient, pronouns="he/him")
    del data["loaded_at"]
    response = client_for(nurse).post(_url(patient), data)
    assert b"out of date" in response.content
    patient.refresh_from_db()
    assert patient.pronouns == ""


def test_changing_the_email_revokes_an_open_invitation(
    nurse: User, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    patient = PatientFactory.create(email="typo@exmaple.com")
    request = RequestFactory().post("/")
    request.user = nurse
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite_patient_to_portal(
            request=request, patient=patient, invited_by=nurse
        )
    update_patient(
        request=None,
        patient=patient,
        fields={"email": "right@example.com"},
        changed_by=nurse,
    )
    invitation.refresh_from_db()
    assert not invitation.is_usable()


@pytest.mark.django_db(transaction=True)
def test_two_editors_saving_at_once_cannot_both_win(
    nurse: User, physician: User
) -> None:
    """On PostgreSQL the row lock makes the second save wait, then see the first."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database is not shared between threads")
    patient = PatientFactory.create(city="Toronto")
    loaded_at = patient.updated_at.isoformat()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(user: User, city: str) -> None:
        barrier.wait()
        try:
            update_patient(
                request=None,
                patient=patient,
                fields={"city": city},
                changed_by=user,
                loaded_at=loaded_at,
            )
            outcomes.append("saved")
        except StaleEditError:
            outcomes.append("stale")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=a)
        for a in [(nurse, "Ottawa"), (physician, "Kingston")]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["saved", "stale"]
    assert (
        AuditEvent.objects.filter(
            patient=patient, action=AuditEvent.Action.UPDATE
        ).count()
        == 1
    )


@pytest.mark.parametrize("edits", [1, 30])
def test_the_history_page_uses_a_constant_number_of_queries(
    client_for: ClientFor,
    nurse: User,
    physician: User,
    therapist: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    edits: int,
) -> None:
    patient = PatientFactory.create()
    for n in range(edits):
        carer = physician if n % 2 else therapist
        field = "responsible_physician" if n % 2 else "responsible_therapist"
        update_patient(
            request=None,
            patient=patient,
            fields={field: carer, "pronouns": f"v{n}"},
            changed_by=nurse,
        )
    client = client_for(nurse)
    client.get(reverse("patients:patient_list"))
    # Expect at most 18: session, user, OTP device, clinic profile, permissions (2), the
    # chart with its care team, groups, audit write (savepoint, head, insert, update,
    # release), count, one page of events, one query for the care-team names, the
    # header's open-alert count and the chart's unresolved alerts.
    with django_assert_max_num_queries(18):
        response = client.get(reverse("patients:patient_history", args=[patient.pk]))
    assert len(response.context["entries"]) == min(edits, 20)
