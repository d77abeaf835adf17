"""Integration sessions, the psychotherapy-note role matrix, homework and the
mindfulness log in the portal, the timeline."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.measures.services import submit_questionnaire_response
from kapcare.patients.models import Patient
from kapcare.treatment import therapy
from kapcare.treatment.models import (
    DosingSession,
    IntegrationSession,
    MindfulnessPractice,
)
from tests.conftest import ClientFor, seen_in
from tests.treatment.conftest import request_by

pytestmark = pytest.mark.django_db
NOTE = "Explored the death of the father; transference noted."


def write(
    session: DosingSession, therapist: User, **values: object
) -> IntegrationSession:
    return therapy.start_integration_session(
        request=request_by(therapist), dosing_session=session,
        values={
            "held_on": timezone.localdate(), "intentions": "To meet the grief",
            "insights": "Felt held", "themes": "grief, self-worth",
            "goals": "Walk daily", "homework": "Write a letter to my father",
            **values,
        },
        psychotherapy_note=NOTE, by=therapist,
    )  # fmt: skip


def sign(session: IntegrationSession, therapist: User) -> None:
    therapy.update_integration_session(
        request=request_by(therapist), session=session,
        values={k: getattr(session, k) for k in therapy.FIELDS},
        psychotherapy_note=session.psychotherapy_note, sign=True, by=therapist,
    )  # fmt: skip


def test_only_a_therapist_writes_an_integration_session(
    dosed_session: DosingSession, nurse: User
) -> None:
    with pytest.raises(therapy.TherapyError, match="Only a therapist"):
        write(dosed_session, nurse)


def test_an_integration_session_follows_a_dose(
    open_session: DosingSession, dosed_session: DosingSession, therapist: User
) -> None:
    with pytest.raises(therapy.TherapyError, match="follows its dose"):
        write(
            dosed_session, therapist, held_on=timezone.localdate() - timedelta(days=1)
        )
    session = write(dosed_session, therapist)
    assert session.patient_id == dosed_session.patient_id
    assert session.theme_list == ["grief", "self-worth"]


@pytest.mark.parametrize(
    ("persona", "sees_note"),
    [("therapist", True), ("physician", True), ("nurse", False)],
)
def test_psychotherapy_notes_follow_the_role_matrix(
    client_for: ClientFor, dosed_session: DosingSession, therapist: User,
    request: pytest.FixtureRequest, persona: str, sees_note: bool,
) -> None:  # fmt: skip
    session = write(dosed_session, therapist)
    user: User = request.getfixturevalue(persona)
    response = client_for(user).get(session.get_absolute_url())
    assert response.status_code == 200
    assert b"Write a letter to my father" in response.content
    assert (NOTE.encode() in response.content) is sees_note
    read = AuditEvent.objects.filter(
        actor=user, information="psychotherapy", summary="Read a psychotherapy note"
    )
    assert read.exists() is sees_note


def test_front_desk_never_reaches_an_integration_session(
    client_for: ClientFor, dosed_session: DosingSession, therapist: User,
    front_desk: User,
) -> None:  # fmt: skip
    session = write(dosed_session, therapist)
    assert client_for(front_desk).get(session.get_absolute_url()).status_code == 403


def test_a_signed_integration_session_is_read_only(
    dosed_session: DosingSession, therapist: User
) -> None:
    session = write(dosed_session, therapist)
    sign(session, therapist)
    session.refresh_from_db()
    with pytest.raises(therapy.TherapyError, match="signed"):
        sign(session, therapist)


def test_another_therapist_cannot_change_it(
    dosed_session: DosingSession, therapist: User
) -> None:
    from kapcare.accounts.roles import Role
    from tests.conftest import make_staff

    session = write(dosed_session, therapist)
    with pytest.raises(therapy.TherapyError, match="Only the therapist who wrote"):
        sign(session, make_staff(Role.THERAPIST))


def test_the_patient_sees_signed_homework_but_never_the_note(
    client_for: ClientFor, dosed_session: DosingSession, therapist: User,
    patient_user: User,
) -> None:  # fmt: skip
    session = write(dosed_session, therapist)
    client = client_for(patient_user)
    url = reverse("portal:homework")
    assert b"Write a letter" not in client.get(url).content
    sign(session, therapist)
    body = client.get(url).content
    assert b"Write a letter to my father" in body
    assert NOTE.encode() not in body
    assert b"Felt held" not in body


def test_the_patient_logs_mindfulness_once_per_submit(
    client_for: ClientFor, patient_user: User, patient_a: Patient
) -> None:
    client = client_for(patient_user)
    data = {
        "practised_on": timezone.localdate().isoformat(), "minutes": "20",
        "practice": "body_scan", "mood_before": "3", "mood_after": "6",
        "submission_key": "k-1",
    }  # fmt: skip
    first = client.post(reverse("portal:mindfulness"), data)
    second = client.post(reverse("portal:mindfulness"), data)
    assert first.status_code == second.status_code == 302
    entry = MindfulnessPractice.objects.get()
    assert (entry.patient, entry.minutes, entry.mood_change) == (patient_a, 20, 3)
    page = client.get(reverse("portal:mindfulness")).content.decode()
    assert "Current streak: <strong>1 day</strong>" in page
    assert (
        AuditEvent.objects.filter(
            patient=patient_a, object_type="mindfulness_practice", action="create"
        ).count()
        == 1
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("mood_after", "11", "Select a valid choice"),
        ("minutes", "0", "greater than or equal to 1"),
        ("practised_on", "2099-01-01", "in the future"),
        ("mood_before", "", "This field is required"),
    ],
)
def test_bad_mindfulness_input_re_renders_with_a_message(
    client_for: ClientFor, patient_user: User, field: str, value: str, message: str
) -> None:
    data = {
        "practised_on": timezone.localdate().isoformat(), "minutes": "20",
        "practice": "breathing", "mood_before": "3", "mood_after": "6",
        "submission_key": f"bad-{field}", field: value,
    }  # fmt: skip
    response = client_for(patient_user).post(reverse("portal:mindfulness"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not MindfulnessPractice.objects.exists()


def test_the_clinician_sees_mindfulness_beside_the_scores(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    therapy.log_mindfulness(
        request=None, patient=patient_a, submission_key="x",
        values={"practised_on": timezone.localdate(), "minutes": 15,
                "practice": "breathing", "mood_before": 4, "mood_after": 7, "note": ""},
    )  # fmt: skip
    body = (
        client_for(nurse)
        .get(reverse("measures:patient_measures", args=[patient_a.pk]))
        .content.decode()
    )
    assert "Mindfulness practice" in body
    assert "Breathing, 15 min, mood 4 → 7" in body


def test_the_timeline_shows_doses_events_integration_and_scores(
    client_for: ClientFor, nurse: User, therapist: User,
    dosed_session: DosingSession, django_assert_max_num_queries: object,
) -> None:  # fmt: skip
    from kapcare.treatment import services

    services.report_adverse_event(
        request=request_by(nurse), session=dosed_session,
        values={"kind": "nausea", "description": "", "severity": "mild",
                "is_serious": False, "occurred_at": timezone.now(),
                "action_taken": "", "outcome": "resolved"},
        by=nurse,
    )  # fmt: skip
    write(dosed_session, therapist)
    for n in range(3):
        submit_questionnaire_response(
            request=None, patient=dosed_session.patient, instrument="phq9",
            answers=[2] * 8 + [0, None], source="paper", submission_key=f"t{n}",
            entered_by=nurse,
        )  # fmt: skip
    client = client_for(nurse)
    url = reverse("treatment:timeline", args=[dosed_session.patient_id])
    # Session, user, OTP device, clinic profile, permissions (2), chart, groups, the
    # audit write (4), doses, adverse events, integration sessions, scores, the alert
    # badge and the chart's alerts.
    with django_assert_max_num_queries(22):  # type: ignore[operator]
        body = client.get(url).content.decode()
    assert "Dosing session 1: 35.0 mg (0.5 mg/kg)" in body
    assert "Adverse event: Nausea / vomiting" in body
    assert "Integration session" in body
    assert body.count("PHQ-9: 16 ") + body.count("PHQ-9: 16<") == 3
    assert "16.000" not in body


def test_the_score_chart_marks_each_dose(
    client_for: ClientFor, nurse: User, dosed_session: DosingSession
) -> None:
    for n, ago in enumerate((3, 0)):
        submit_questionnaire_response(
            request=None, patient=dosed_session.patient, instrument="phq9",
            answers=[2] * 8 + [0, None], source="paper", submission_key=f"c{n}",
            entered_by=nurse,
            authored_at=timezone.now() - timedelta(days=ago),
        )  # fmt: skip
    body = (
        client_for(nurse)
        .get(reverse("measures:patient_measures", args=[dosed_session.patient_id]))
        .content.decode()
    )
    assert "1 dosing session marked." in body


def test_the_therapist_writes_and_signs_through_the_pages(
    client_for: ClientFor, therapist: User, dosed_session: DosingSession
) -> None:
    client = client_for(therapist)
    url = reverse(
        "treatment:integration_create",
        args=[dosed_session.patient_id, dosed_session.pk],
    )
    form = {
        "held_on": timezone.localdate().isoformat(), "intentions": "Openness",
        "insights": "", "themes": "trust", "goals": "", "homework": "Breathe 10 min",
        "psychotherapy_note": "Private",
    }  # fmt: skip
    response = client.post(url, form)
    session = IntegrationSession.objects.get()
    assert response["Location"] == session.get_absolute_url()
    edit = reverse("treatment:integration_edit", args=[session.patient_id, session.pk])
    seen = seen_in(client.get(edit))
    client.post(edit, {**form, "insights": "Felt safe", "sign": "1", "seen": seen})
    session.refresh_from_db()
    assert session.is_signed and session.insights == "Felt safe"
    assert client.get(edit)["Location"] == session.get_absolute_url()
