import uuid

import pytest
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from kapcare.accounts.models import User
from kapcare.measures.models import QuestionnaireResponse
from kapcare.measures.services import submit_questionnaire_response
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db


def _phq9_form(answers: list[int | None], key: str = "k1") -> dict[str, str]:
    data = {"submission_key": key, "source": "paper", "authored_on": "2026-11-20"}
    for number, value in enumerate(answers, start=1):
        if value is not None:
            data[f"item_{number}"] = str(value)
    return data


def _entry_url(patient: Patient, code: str = "phq9") -> str:
    return reverse("measures:response_create", args=[patient.pk, code])


def test_staff_enter_a_paper_phq9(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    response = client_for(nurse).post(
        _entry_url(patient_a), _phq9_form([1, 1, 1, 1, 1, 1, 1, 1, 0])
    )
    assert response.status_code == 302
    stored = QuestionnaireResponse.objects.get(patient=patient_a)
    assert (stored.total_display, stored.source, stored.entered_by_id) == (
        "8",
        "paper",
        nurse.pk,
    )
    assert stored.authored_at.date().isoformat() == "2026-11-20"


def test_an_unanswered_item_is_not_a_zero(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    client_for(nurse).post(
        _entry_url(patient_a), _phq9_form([1, 1, 1, 1, 1, 1, 1, None, 0])
    )
    stored = QuestionnaireResponse.objects.get(patient=patient_a)
    assert stored.answers[7] is None
    assert "prorated" in stored.flags


def test_item_nine_shows_an_alert_on_the_chart(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    client = client_for(nurse)
    response = client.post(
        _entry_url(patient_a), _phq9_form([0, 0, 0, 0, 0, 0, 0, 0, 2]), follow=True
    )
    assert b"A safety alert was raised" in response.content
    assert b"PHQ-9: suicidal thoughts endorsed" in response.content
    assert SafetyAlert.objects.filter(patient=patient_a, state="open").count() == 1


def test_a_double_submit_stores_one_response(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    client = client_for(nurse)
    form = _phq9_form([0, 0, 0, 0, 0, 0, 0, 0, 1], key="double")
    client.post(_entry_url(patient_a), form)
    client.post(_entry_url(patient_a), form)
    assert QuestionnaireResponse.objects.count() == 1
    assert SafetyAlert.objects.count() == 1


def test_a_value_outside_the_scale_is_refused(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    data = _phq9_form([0, 0, 0, 0, 0, 0, 0, 0, 0])
    data["item_3"] = "7"
    response = client_for(nurse).post(_entry_url(patient_a), data)
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert not QuestionnaireResponse.objects.exists()


def test_a_future_date_is_refused(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    data = {**_phq9_form([0] * 9), "authored_on": "2999-01-01"}
    response = client_for(nurse).post(_entry_url(patient_a), data)
    assert b"cannot be in the future" in response.content


def test_clinician_rated_madrs(
    client_for: ClientFor, physician: User, patient_a: Patient
) -> None:
    page = client_for(physician).get(_entry_url(patient_a, "madrs"))
    assert page.context["form"].fields["source"].initial == "clinician"
    data = {"submission_key": "m1", "source": "clinician", "authored_on": "2026-11-20"}
    data.update({f"item_{n}": "3" for n in range(1, 11)})
    client_for(physician).post(_entry_url(patient_a, "madrs"), data)
    stored = QuestionnaireResponse.objects.get(instrument="madrs")
    assert (stored.total_display, stored.band) == ("30", "moderate")
    assert SafetyAlert.objects.filter(patient=patient_a).count() == 1  # item 10 > 0


@pytest.mark.parametrize("count", [5, 500])
def test_the_measures_tab_uses_a_constant_number_of_queries(
    client_for: ClientFor,
    nurse: User,
    patient_a: Patient,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    count: int,
) -> None:
    for n in range(count):
        submit_questionnaire_response(
            request=None, patient=patient_a, instrument="gad7", answers=[n % 4] * 7,
            source="paper", submission_key=uuid.uuid4().hex, entered_by=nurse,
        )  # fmt: skip
    client = client_for(nurse)
    client.get(reverse("patients:patient_list"))
    # Expect at most 20: session, user, OTP device, clinic profile, permissions (2), the
    # chart, groups, audit write (savepoint, head, insert, update, release), count, one
    # page of responses with who entered them, all totals for the progress charts, the
    # dosing days marked on them, the schedules with their last send, the open links,
    # the mindfulness log, the header's alert count, the chart's alerts.
    with django_assert_max_num_queries(22):
        response = client.get(reverse("measures:patient_measures", args=[patient_a.pk]))
    assert len(response.context["page"]) == min(count, 25)
    assert response.content.count(b"<circle") == count


def test_a_reused_form_key_is_refused_then_saved_with_a_fresh_one(
    client_for: ClientFor, nurse: User, patient_a: Patient, patient_b: Patient
) -> None:
    client = client_for(nurse)
    client.post(_entry_url(patient_a), _phq9_form([0] * 9, key="copied"))
    refused = client.post(
        _entry_url(patient_b), _phq9_form([0, 0, 0, 0, 0, 0, 0, 0, 2], key="copied")
    )
    assert b"already used for different answers" in refused.content
    fresh_key = refused.context["form"].data["submission_key"]
    assert fresh_key != "copied"
    client.post(
        _entry_url(patient_b), _phq9_form([0, 0, 0, 0, 0, 0, 0, 0, 2], key=fresh_key)
    )
    assert SafetyAlert.objects.filter(patient=patient_b, state="open").count() == 1


def test_no_alert_message_without_an_alert(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    response = client_for(nurse).post(
        _entry_url(patient_a), _phq9_form([1, 1, 1, None, 1, 1, 1, 1, 0]), follow=True
    )
    assert b"A safety alert was raised" not in response.content
