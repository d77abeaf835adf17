import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.measures.models import QuestionnaireResponse
from kapcare.measures.scoring import ScoringError
from kapcare.measures.services import (
    SubmissionKeyReusedError,
    submit_questionnaire_response,
)
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _submit(
    patient: Patient, instrument: str, answers: list[int | None], key: str = ""
) -> QuestionnaireResponse:
    response, _ = submit_questionnaire_response(
        request=None,
        patient=patient,
        instrument=instrument,
        answers=answers,
        source=QuestionnaireResponse.Source.PAPER,
        submission_key=key or uuid.uuid4().hex,
    )
    return response


def test_a_response_stores_its_score(patient_a: Patient) -> None:
    response = _submit(patient_a, "phq9", [2, 2, 2, 2, 2, 2, 1, 1, 0])
    response.refresh_from_db()
    assert (response.total_display, response.band, response.is_complete) == (
        "14",
        "moderate",
        True,
    )
    assert response.instrument_version
    assert (
        AuditEvent.objects.filter(
            object_type="questionnaire_response", patient=patient_a
        ).count()
        == 1
    )


def test_item_nine_raises_one_high_alert(patient_a: Patient) -> None:
    response = _submit(patient_a, "phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1])
    alert = SafetyAlert.objects.get(patient=patient_a)
    assert (alert.level, alert.state, alert.source_id) == (
        "high",
        "open",
        str(response.pk),
    )
    assert alert.evidence["answers"][8] == 1


def test_a_negative_item_nine_raises_nothing(patient_a: Patient) -> None:
    _submit(patient_a, "phq9", [3, 3, 3, 3, 3, 3, 3, 3, 0])
    assert not SafetyAlert.objects.exists()


def test_a_missing_item_nine_is_stored_as_missing_not_zero(patient_a: Patient) -> None:
    response = _submit(patient_a, "phq9", [1, 1, 1, 1, 1, 1, 1, 1, None])
    assert response.answers[8] is None
    assert "item9_missing" in response.flags


@pytest.mark.parametrize(
    ("answers", "level"),
    [([1, 1, 0, 0, 0, 1, 1], "high"), ([1, 1, 1, 0, 0, 0, None], "moderate")],
)
def test_cssrs_risk_raises_an_alert_at_its_level(
    patient_a: Patient, answers: list[int | None], level: str
) -> None:
    _submit(patient_a, "cssrs_screener", answers)
    assert SafetyAlert.objects.get(patient=patient_a).level == level


def test_cssrs_low_risk_still_raises_a_moderate_alert(patient_a: Patient) -> None:
    """Kapcare policy: a yes to question 1 or 2 is a positive suicidality answer."""
    _submit(patient_a, "cssrs_screener", [1, 0, None, None, None, 0, None])
    assert SafetyAlert.objects.get(patient=patient_a).level == "moderate"


def test_an_incomplete_cssrs_with_a_yes_raises_a_high_alert(patient_a: Patient) -> None:
    _submit(patient_a, "cssrs_screener", [0, 0, None, None, None, 1, None])
    alert = SafetyAlert.objects.get(patient=patient_a)
    assert (alert.level, alert.reason) == (
        "high",
        "C-SSRS screener: incomplete screen with a yes answer",
    )


def test_an_all_no_cssrs_raises_nothing(patient_a: Patient) -> None:
    _submit(patient_a, "cssrs_screener", [0, 0, None, None, None, 0, None])
    assert not SafetyAlert.objects.exists()


def test_an_unanswered_item_nine_raises_a_moderate_alert(patient_a: Patient) -> None:
    _submit(patient_a, "phq9", [1, 1, 1, 1, 1, 1, 1, 1, None])
    alert = SafetyAlert.objects.get(patient=patient_a)
    assert (alert.level, alert.reason) == (
        "moderate",
        "PHQ-9: suicidality question not answered",
    )


def test_a_retried_submit_stores_one_response_and_one_alert(patient_a: Patient) -> None:
    first = _submit(patient_a, "phq9", [0, 0, 0, 0, 0, 0, 0, 0, 2], key="same-key")
    second = _submit(patient_a, "phq9", [0, 0, 0, 0, 0, 0, 0, 0, 2], key="same-key")
    assert first.pk == second.pk
    assert QuestionnaireResponse.objects.count() == 1
    assert SafetyAlert.objects.count() == 1


def test_bad_answers_store_nothing(patient_a: Patient) -> None:
    with pytest.raises(ScoringError, match="item 3"):
        _submit(patient_a, "phq9", [0, 0, 4, 0, 0, 0, 0, 0, 1])
    assert not QuestionnaireResponse.objects.exists()
    assert not SafetyAlert.objects.exists()


def test_a_failure_raising_the_alert_rolls_back_the_response(
    patient_a: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr("kapcare.measures.services.raise_safety_alert", broken)
    with pytest.raises(RuntimeError):
        _submit(patient_a, "phq9", [0, 0, 0, 0, 0, 0, 0, 0, 3])
    assert not QuestionnaireResponse.objects.exists()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    items=st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=8, max_size=8),
    item9=st.integers(1, 3),
    retries=st.integers(1, 3),
)
def test_any_positive_item_nine_leaves_exactly_one_open_alert(
    nurse: User, items: list[int | None], item9: int, retries: int
) -> None:
    patient = PatientFactory.create()
    key = uuid.uuid4().hex
    for _ in range(retries):
        _submit(patient, "phq9", [*items, item9], key=key)
    assert SafetyAlert.objects.filter(patient=patient, state="open").count() == 1
    assert QuestionnaireResponse.objects.filter(patient=patient).count() == 1


def test_a_reused_key_with_other_answers_is_refused_not_swallowed(
    patient_a: Patient, patient_b: Patient
) -> None:
    _submit(patient_a, "phq9", [0] * 9, key="reused")
    with pytest.raises(SubmissionKeyReusedError):
        _submit(patient_b, "phq9", [0, 0, 0, 0, 0, 0, 0, 0, 3], key="reused")
    with pytest.raises(SubmissionKeyReusedError):
        _submit(patient_a, "phq9", [0, 0, 0, 0, 0, 0, 0, 0, 3], key="reused")
    assert QuestionnaireResponse.objects.count() == 1


@st.composite
def cssrs_answers(draw: st.DrawFn) -> list[int | None]:
    """Answer sets that follow the screener's skip logic, blanks allowed."""
    maybe = st.one_of(st.none(), st.integers(0, 1))
    q1, q2, q6 = draw(maybe), draw(maybe), draw(maybe)
    follow = [draw(maybe) for _ in range(3)] if q2 != 0 else [None, None, None]
    recent = draw(maybe) if q6 == 1 else None
    return [q1, q2, *follow, q6, recent]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(answers=cssrs_answers())
def test_any_yes_on_the_cssrs_leaves_an_open_alert(
    nurse: User, answers: list[int | None]
) -> None:
    patient = PatientFactory.create()
    _submit(patient, "cssrs_screener", answers)
    has_yes = 1 in answers[:6]
    assert SafetyAlert.objects.filter(patient=patient, state="open").exists() == has_yes
