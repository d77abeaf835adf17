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
from kapcare.measures.models import QuestionnaireLink, QuestionnaireResponse
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert
from tests.conftest import ClientFor
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
Send = Callable[..., str]


@pytest.fixture
def send(
    client_for: ClientFor,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> Send:
    """Email a questionnaire link as `staff`; return the path from the email."""

    def go(staff: User, patient: Patient, instrument: str = "phq9") -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(staff).post(
                reverse("measures:link_send", args=[patient.pk]),
                {"instrument": instrument},
            )
        assert response.status_code == 302
        match = re.search(r"http://[^/]+(/measures/q/\S+/)", str(mail.outbox[-1].body))
        assert match is not None
        return match.group(1)

    return go


def _answers(values: list[int | None]) -> dict[str, str]:
    return {f"item_{n}": str(v) for n, v in enumerate(values, start=1) if v is not None}


def test_the_patient_fills_in_a_phq9_from_the_email(
    send: Send, nurse: User, patient_a: Patient
) -> None:
    path = send(nurse, patient_a)
    assert mail.outbox[-1].to == [patient_a.email]
    page = Client().get(path)
    assert page.status_code == 200
    done = Client().post(path, _answers([1, 1, 1, 1, 1, 1, 1, 1, 0]))
    assert b"Thank you" in done.content
    response = QuestionnaireResponse.objects.get(patient=patient_a)
    assert (response.total_display, response.source) == ("8", "patient_link")
    assert not SafetyAlert.objects.exists()


def test_item_nine_shows_crisis_resources_and_raises_an_alert(
    send: Send, nurse: User, patient_a: Patient
) -> None:
    path = send(nurse, patient_a)
    done = Client().post(path, _answers([0, 0, 0, 0, 0, 0, 0, 0, 2]))
    assert b"9-8-8" in done.content
    assert b'role="alert"' in done.content
    assert SafetyAlert.objects.filter(patient=patient_a, state="open").count() == 1


def test_the_link_refuses_reuse(send: Send, nurse: User, patient_a: Patient) -> None:
    path = send(nurse, patient_a)
    Client().post(path, _answers([0] * 9))
    again = Client().post(path, _answers([3] * 9))
    assert again.status_code == 410
    assert b"no longer works" in again.content
    assert QuestionnaireResponse.objects.count() == 1


def test_the_link_expires_after_72_hours(
    send: Send, nurse: User, patient_a: Patient
) -> None:
    path = send(nurse, patient_a)
    with time_machine.travel(timezone.now() + timedelta(hours=73)):
        assert Client().get(path).status_code == 410


def test_an_unknown_link_is_404(client: Client) -> None:
    assert (
        client.get(reverse("measures:link_fill", args=["made-up"])).status_code == 404
    )


def test_an_empty_form_is_refused_and_the_link_still_works(
    send: Send, nurse: User, patient_a: Patient
) -> None:
    path = send(nurse, patient_a)
    page = Client().post(path, {})
    assert b"Answer at least one question" in page.content
    assert not QuestionnaireResponse.objects.exists()
    assert Client().get(path).status_code == 200


def test_a_skipped_item_nine_is_stored_as_unknown(
    send: Send, nurse: User, patient_a: Patient
) -> None:
    path = send(nurse, patient_a)
    Client().post(path, _answers([1, 1, 1, 1, 1, 1, 1, 1, None]))
    response = QuestionnaireResponse.objects.get()
    assert response.answers[8] is None
    assert SafetyAlert.objects.filter(
        reason="PHQ-9: suicidality question not answered"
    ).exists()


def test_clinician_rated_scales_are_not_emailed(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    client_for(nurse).post(
        reverse("measures:link_send", args=[patient_a.pk]), {"instrument": "madrs"}
    )
    assert not QuestionnaireLink.objects.exists()


def test_sending_needs_an_email(client_for: ClientFor, nurse: User) -> None:
    patient = PatientFactory.create(email="")
    response = client_for(nurse).post(
        reverse("measures:link_send", args=[patient.pk]),
        {"instrument": "gad7"},
        follow=True,
    )
    assert b"email address" in response.content
    assert not QuestionnaireLink.objects.exists()


def test_sending_and_answering_are_audited(
    send: Send, nurse: User, patient_a: Patient
) -> None:
    path = send(nurse, patient_a)
    Client().post(path, _answers([0] * 9))
    kinds = set(
        AuditEvent.objects.filter(patient=patient_a).values_list(
            "object_type", flat=True
        )
    )
    assert {"questionnaire_link", "questionnaire_response"} <= kinds


def test_only_a_hash_of_the_token_is_stored(
    send: Send, nurse: User, patient_a: Patient
) -> None:
    path = send(nurse, patient_a)
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert not QuestionnaireLink.objects.filter(token_hash=token).exists()


def test_staff_withdraw_an_unanswered_link(
    send: Send, nurse: User, therapist: User, patient_a: Patient,
    client_for: ClientFor,
) -> None:  # fmt: skip
    """Sent to a wrong address: the link stops working at once, the draft kept so
    far stays, the chart no longer lists it, and the withdrawal is audited."""
    path = send(nurse, patient_a)
    Client().post(path, {**_answers([1, 1, 0]), "save_draft": "1"})
    link = QuestionnaireLink.objects.get(patient=patient_a)
    chart = client_for(therapist)
    measures = reverse("measures:patient_measures", args=[patient_a.pk])
    assert b"Withdraw link" in chart.get(measures).content
    withdraw = reverse("measures:link_withdraw", args=[patient_a.pk, link.pk])
    answer = chart.post(withdraw, follow=True)
    assert b"link no longer works" in answer.content
    assert b"Withdraw link" not in answer.content
    assert Client().get(path).status_code == 410
    refused = Client().post(path, _answers([0] * 9))
    assert refused.status_code == 410 and b"withdrawn by the clinic" in refused.content
    link.refresh_from_db()
    assert (link.withdrawn_by, link.draft_answers) == (
        therapist,
        {"1": 1, "2": 1, "3": 0},
    )
    assert not QuestionnaireResponse.objects.exists()
    assert AuditEvent.objects.filter(
        object_id=str(link.pk), summary__startswith="Withdrew the PHQ-9 link",
        patient_id=patient_a.pk, actor=therapist,
    ).count() == 1  # fmt: skip
    again = chart.post(withdraw, follow=True)
    assert b"already answered or withdrawn" in again.content


def test_an_answered_link_cannot_be_withdrawn(
    send: Send, nurse: User, patient_a: Patient, client_for: ClientFor
) -> None:
    path = send(nurse, patient_a)
    Client().post(path, _answers([0] * 9))
    link = QuestionnaireLink.objects.get(patient=patient_a)
    answer = client_for(nurse).post(
        reverse("measures:link_withdraw", args=[patient_a.pk, link.pk]), follow=True
    )
    assert b"already answered or withdrawn" in answer.content
    link.refresh_from_db()
    assert link.withdrawn_at is None and link.used_at is not None


def test_a_link_of_another_patient_is_404(
    send: Send, nurse: User, patient_a: Patient, patient_b: Patient,
    client_for: ClientFor,
) -> None:  # fmt: skip
    path = send(nurse, patient_a)
    link = QuestionnaireLink.objects.get(patient=patient_a)
    answer = client_for(nurse).post(
        reverse("measures:link_withdraw", args=[patient_b.pk, link.pk])
    )
    assert answer.status_code == 404
    assert Client().get(path).status_code == 200
