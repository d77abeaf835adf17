"""Scheduled questionnaires: assigning, sending when due (once), by email or text, stopping."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.lib import sms
from kapcare.measures.models import QuestionnaireAssignment, QuestionnaireLink
from kapcare.measures.schedules import Repeat
from kapcare.measures.services import send_due_questionnaires, send_event_questionnaires
from kapcare.patients.models import Patient
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db


def _schedule(
    client_for: ClientFor, staff: User, patient: Patient, **fields: str
) -> object:
    data = {
        "instrument": "phq9",
        "repeat": "weekly",
        "starts_on": timezone.localdate().isoformat(),
        "channel": "email",
        **fields,
    }
    return client_for(staff).post(
        reverse("measures:assignment_create", args=[patient.pk]), data
    )


def test_a_weekly_phq9_goes_out_today_then_each_week_and_never_twice(
    client_for: ClientFor,
    nurse: User,
    patient_a: Patient,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _schedule(client_for, nurse, patient_a)
    assert response.status_code == 302  # type: ignore[attr-defined]
    assignment = QuestionnaireAssignment.objects.get(patient=patient_a)
    assert assignment.description.startswith("Weekly from ")
    assert len(mail.outbox) == 1
    assert re.search(r"/measures/q/\S+/", str(mail.outbox[0].body))

    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_questionnaires() == 0
        assert send_due_questionnaires(today=timezone.localdate()) == 0
    assert len(mail.outbox) == 1

    next_week = timezone.localdate() + dt.timedelta(days=7)
    with (
        time_machine.travel(timezone.now() + dt.timedelta(days=7)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert send_due_questionnaires() == 1
        assert send_due_questionnaires() == 0
    assert len(mail.outbox) == 2
    assert list(
        QuestionnaireLink.objects.filter(assignment=assignment)
        .order_by("due_on")
        .values_list("due_on", flat=True)
    ) == [timezone.localdate(), next_week]
    sent = AuditEvent.objects.filter(
        patient=patient_a, object_type="questionnaire_link", actor__isnull=True
    )
    assert sent.count() == 2  # scheduled sends are audited as the system


def test_a_start_date_in_the_future_sends_nothing_yet(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    start = timezone.localdate() + dt.timedelta(days=3)
    _schedule(client_for, nurse, patient_a, repeat="once", starts_on=start.isoformat())
    assert not QuestionnaireLink.objects.exists()
    assert send_due_questionnaires(today=start - dt.timedelta(days=1)) == 0
    assert send_due_questionnaires(today=start) == 1


def test_texts_go_to_the_mobile_number(
    client_for: ClientFor,
    nurse: User,
    patient_a: Patient,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    Patient.objects.filter(pk=patient_a.pk).update(phone="+14165550123")
    with django_capture_on_commit_callbacks(execute=True):
        _schedule(client_for, nurse, patient_a, repeat="once", channel="sms")
    (message,) = sms.outbox
    assert message.to == "+14165550123"
    assert "/measures/q/" in message.body
    assert "9-8-8" in message.body
    assert patient_a.legal_family_name not in message.body
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"starts_on": "2020-01-01"}, "Start today or later."),
        (
            {"repeat": "every_n_weeks", "interval_weeks": ""},
            "Say how many weeks apart.",
        ),
        (
            {"repeat": "every_n_weeks", "interval_weeks": "60"},
            "less than or equal to 52",
        ),
        ({"ends_on": "2020-01-01"}, "The end date is before the start date."),
        ({"instrument": "madrs"}, "Select a valid choice"),
        ({"channel": "sms"}, "mobile number before sending"),
    ],
)
def test_bad_schedules_are_explained_and_nothing_is_stored(
    client_for: ClientFor,
    nurse: User,
    patient_a: Patient,
    fields: dict[str, str],
    error: str,
) -> None:
    Patient.objects.filter(pk=patient_a.pk).update(phone="")
    response = _schedule(client_for, nurse, patient_a, **fields)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert error in response.content.decode()  # type: ignore[attr-defined]
    assert not QuestionnaireAssignment.objects.exists()


def test_a_patient_without_email_is_shown_as_not_sent(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    assignment = QuestionnaireAssignment.objects.create(
        patient=patient_a,
        instrument="gad7",
        repeat="weekly",
        starts_on=timezone.localdate(),
        assigned_by=nurse,
    )
    Patient.objects.filter(pk=patient_a.pk).update(email="")
    assert send_due_questionnaires() == 0
    assignment.refresh_from_db()
    assert assignment.problem.startswith("Add the patient's email address")
    page = client_for(nurse).get(
        reverse("measures:patient_measures", args=[patient_a.pk])
    )
    assert "Not sent: Add the patient" in page.content.decode()
    Patient.objects.filter(pk=patient_a.pk).update(email="back@example.com")
    assert send_due_questionnaires() == 1
    assignment.refresh_from_db()
    assert assignment.problem == ""


def test_stopped_schedules_and_discharged_patients_get_nothing(
    client_for: ClientFor, nurse: User, patient_a: Patient, patient_b: Patient
) -> None:
    for patient in (patient_a, patient_b):
        QuestionnaireAssignment.objects.create(
            patient=patient,
            instrument="gad7",
            repeat="weekly",
            starts_on=timezone.localdate() + dt.timedelta(days=1),
            assigned_by=nurse,
        )
    assignment = QuestionnaireAssignment.objects.get(patient=patient_a)
    response = client_for(nurse).post(
        reverse("measures:assignment_stop", args=[patient_a.pk, assignment.pk])
    )
    assert response.status_code == 302
    Patient.objects.filter(pk=patient_b.pk).update(status=Patient.Status.DISCHARGED)
    assert (
        send_due_questionnaires(today=timezone.localdate() + dt.timedelta(days=1)) == 0
    )
    assignment.refresh_from_db()
    assert assignment.stopped_by == nurse
    assert AuditEvent.objects.filter(
        patient=patient_a,
        object_type="questionnaire_assignment",
        action=AuditEvent.Action.UPDATE,
        summary__startswith="Stopped GAD-7",
    ).exists()


def test_a_schedule_cannot_be_stopped_through_another_patients_chart(
    client_for: ClientFor, nurse: User, patient_a: Patient, patient_b: Patient
) -> None:
    assignment = QuestionnaireAssignment.objects.create(
        patient=patient_a,
        instrument="gad7",
        repeat="weekly",
        starts_on=timezone.localdate(),
        assigned_by=nurse,
    )
    response = client_for(nurse).post(
        reverse("measures:assignment_stop", args=[patient_b.pk, assignment.pk])
    )
    assert response.status_code == 404
    assignment.refresh_from_db()
    assert assignment.stopped_at is None


def test_dosing_day_questionnaires_go_once_per_session_date(
    nurse: User, patient_a: Patient
) -> None:
    QuestionnaireAssignment.objects.create(
        patient=patient_a,
        instrument="phq9",
        repeat=Repeat.BEFORE_DOSING,
        starts_on=timezone.localdate(),
        assigned_by=nurse,
    )
    assert send_due_questionnaires() == 0  # a treatment event, not a calendar date
    day = timezone.localdate() + dt.timedelta(days=2)
    first = send_event_questionnaires(
        patient=patient_a, event=Repeat.BEFORE_DOSING, on=day
    )
    again = send_event_questionnaires(
        patient=patient_a, event=Repeat.BEFORE_DOSING, on=day
    )
    assert (len(first), again) == (1, [])
    assert first[0].due_on == day
    with pytest.raises(ValueError, match="not a treatment event"):
        send_event_questionnaires(patient=patient_a, event=Repeat.WEEKLY, on=day)


def test_the_schedule_list_costs_the_same_queries_however_many_links(
    client_for: ClientFor,
    nurse: User,
    patient_a: Patient,
    django_assert_max_num_queries: pytest.FixtureRequest,
) -> None:
    start = timezone.localdate() - dt.timedelta(days=70)
    for repeat in ("weekly", "monthly", "every_n_weeks"):
        assignment = QuestionnaireAssignment.objects.create(
            patient=patient_a, instrument="gad7", repeat=repeat, interval_weeks=2,
            starts_on=start, assigned_by=nurse,
        )  # fmt: skip
        for week in range(10):
            send_due_questionnaires(today=start + dt.timedelta(weeks=week))
    assert QuestionnaireLink.objects.count() > 10
    client = client_for(nurse)
    client.get(reverse("patients:patient_list"))
    # As on the measures tab (see test_response_views), with the mindfulness panel.
    with django_assert_max_num_queries(21):  # type: ignore[operator]
        page = client.get(reverse("measures:patient_measures", args=[patient_a.pk]))
    assert page.content.decode().count('<th scope="row">GAD-7</th>') == 3
    assert assignment.description in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_send_that_fails_is_retried_on_the_next_beat(
    nurse: User, patient_a: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real commits, as in the clinic clock: the message goes right after commit."""
    import smtplib

    from kapcare.website import mail as clinic_mail

    assignment = QuestionnaireAssignment.objects.create(
        patient=patient_a, instrument="gad7", repeat="weekly",
        starts_on=timezone.localdate(), assigned_by=nurse,
    )  # fmt: skip

    def down(*args: object, **kwargs: object) -> None:
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(clinic_mail, "send_mail", down)
    assert send_due_questionnaires() == 0
    assert not QuestionnaireLink.objects.exists()  # nobody could use it
    assignment.refresh_from_db()
    assert assignment.problem.startswith("Could not send (Connection unexpectedly")
    assert AuditEvent.objects.filter(
        patient=patient_a, summary__startswith="GAD-7 link not delivered"
    ).exists()
    monkeypatch.undo()
    assert send_due_questionnaires() == 1
    assert len(mail.outbox) == 1
    assignment.refresh_from_db()
    assert assignment.problem == ""


@pytest.mark.django_db(transaction=True)
def test_a_manual_send_that_fails_says_so(
    client_for: ClientFor,
    nurse: User,
    patient_a: Patient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kapcare.website import mail as clinic_mail

    def down(*args: object, **kwargs: object) -> None:
        raise OSError("mail server unreachable")

    monkeypatch.setattr(clinic_mail, "send_mail", down)
    response = client_for(nurse).post(
        reverse("measures:link_send", args=[patient_a.pk]),
        {"instrument": "gad7"},
        follow=True,
    )
    assert "could not be sent (mail server unreachable)" in response.content.decode()
    link = QuestionnaireLink.objects.get()
    assert not link.is_usable()
