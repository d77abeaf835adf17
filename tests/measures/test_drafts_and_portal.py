"""Answers saved as the patient goes, resumed later; suicidality in a draft is never
lost; the patient's own questionnaires and progress in the portal."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.lib.tokens import new_link_token
from kapcare.measures.models import QuestionnaireLink, QuestionnaireResponse
from kapcare.measures.services import submit_questionnaire_response
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _link(patient: Patient, instrument: str = "phq9") -> tuple[QuestionnaireLink, str]:
    token, hashed = new_link_token()
    link = QuestionnaireLink.objects.create(
        patient=patient,
        instrument=instrument,
        token_hash=hashed,
        sent_to=patient.email,
        expires_at=timezone.now() + dt.timedelta(hours=72),
    )
    return link, reverse("measures:link_fill", args=[token])


def _answers(values: dict[int, int]) -> dict[str, str]:
    return {f"item_{n}": str(v) for n, v in values.items()}


def test_answers_are_saved_as_they_go_and_come_back(patient_a: Patient) -> None:
    link, path = _link(patient_a)
    saved = Client().post(
        path, {**_answers({1: 2, 2: 1}), "save_draft": "1"}, headers=HTMX
    )
    assert saved.status_code == 200
    assert "2 of 10 answered" in saved.content.decode()
    link.refresh_from_db()
    assert link.draft_answers == {"1": 2, "2": 1}
    assert link.used_at is None

    again = Client().get(path).content.decode()
    assert 'name="item_1" value="2" id="id_item_1_2" checked' in again
    assert 'name="item_2" value="1" id="id_item_2_1" checked' in again
    assert "2 of 10 answered" in again
    assert not QuestionnaireResponse.objects.exists()
    assert AuditEvent.objects.filter(
        patient=patient_a, summary="Saved draft answers (2 of 10)"
    ).exists()


def test_without_javascript_save_and_finish_later_keeps_the_answers(
    patient_a: Patient,
) -> None:
    link, path = _link(patient_a, "gad7")
    response = Client().post(path, {**_answers({3: 3}), "save_draft": "1"}, follow=True)
    assert "Your answers are saved" in response.content.decode()
    link.refresh_from_db()
    assert link.draft_answers == {"3": 3}


def test_item_nine_in_a_draft_shows_crisis_resources_and_alerts_once(
    patient_a: Patient,
) -> None:
    _, path = _link(patient_a)
    saved = Client().post(path, {**_answers({9: 2}), "save_draft": "1"}, headers=HTMX)
    page = saved.content.decode()
    assert 'id="crisis-now"' in page and "9-8-8" in page and "9-1-1" in page
    assert "reviews answers like these during clinic hours" in page
    alert = SafetyAlert.objects.get(patient=patient_a)
    assert (alert.level, alert.source_type) == ("high", "questionnaire_link")
    assert alert.evidence["draft"] == "not yet sent"

    Client().post(path, {**_answers({9: 3}), "save_draft": "1"}, headers=HTMX)
    done = Client().post(path, _answers(dict.fromkeys(range(1, 9), 1) | {9: 3}))
    assert "help is available now" in done.content.decode()
    assert SafetyAlert.objects.filter(patient=patient_a).count() == 1
    assert QuestionnaireResponse.objects.get(patient=patient_a).answers[8] == 3


def test_an_unanswered_item_nine_in_a_draft_alerts_nobody_yet(
    patient_a: Patient,
) -> None:
    _, path = _link(patient_a)
    saved = Client().post(path, {**_answers({1: 0}), "save_draft": "1"}, headers=HTMX)
    assert "help is available now" not in saved.content.decode()
    assert not SafetyAlert.objects.exists()


def test_a_cssrs_yes_in_a_draft_alerts_at_once_and_is_never_lost(
    patient_a: Patient,
) -> None:
    _, path = _link(patient_a, "cssrs_screener")
    saved = Client().post(
        path, {**_answers({1: 1, 2: 1}), "save_draft": "1"}, headers=HTMX
    )
    assert "help is available now" in saved.content.decode()
    alert = SafetyAlert.objects.get(patient=patient_a)
    assert alert.level == "high"
    assert alert.reason == "C-SSRS screener: incomplete screen with a yes answer"
    # The patient changes their mind and sends all "no": the alert stays open.
    Client().post(path, _answers({1: 0, 2: 0, 6: 0}))
    assert SafetyAlert.objects.get(patient=patient_a).state == "open"
    assert QuestionnaireResponse.objects.get(patient=patient_a).risk == "none"


def test_a_final_answer_after_a_handled_draft_alert_raises_a_new_one(
    patient_a: Patient, nurse: User
) -> None:
    _, path = _link(patient_a)
    Client().post(path, {**_answers({9: 1}), "save_draft": "1"}, headers=HTMX)
    draft_alert = SafetyAlert.objects.get(patient=patient_a)
    SafetyAlert.objects.filter(pk=draft_alert.pk).update(
        state="resolved", resolution="raised_in_error"
    )
    Client().post(path, _answers(dict.fromkeys(range(1, 9), 0) | {9: 3}))
    opened = SafetyAlert.objects.get(patient=patient_a, state="open")
    assert opened.source_type == "questionnaire_response"
    assert opened.level == "high"


def test_a_lower_final_level_is_covered_by_the_open_draft_alert(
    patient_a: Patient,
) -> None:
    _, path = _link(patient_a, "cssrs_screener")
    Client().post(path, {**_answers({1: 1}), "save_draft": "1"}, headers=HTMX)
    # Final: yes to 1 only, low risk -> a moderate rule, covered by the open high alert.
    Client().post(path, _answers({1: 1, 2: 0, 6: 0}))
    assert SafetyAlert.objects.filter(patient=patient_a, state="open").count() == 1


def test_a_contradictory_cssrs_yes_from_a_patient_is_kept_and_alerted(
    patient_a: Patient,
) -> None:
    _, path = _link(patient_a, "cssrs_screener")
    # Question 2 "no", yet a "yes" to question 4 (intent), which the skip logic
    # would not have asked: never refused, never dropped.
    saved = Client().post(
        path, {**_answers({1: 0, 2: 0, 4: 1}), "save_draft": "1"}, headers=HTMX
    )
    assert saved.status_code == 200
    assert "help is available now" in saved.content.decode()
    done = Client().post(path, _answers({1: 0, 2: 0, 4: 1, 6: 0}))
    assert "help is available now" in done.content.decode()
    response = QuestionnaireResponse.objects.get(patient=patient_a)
    assert (response.risk, response.is_complete) == ("high", False)
    assert "contradictory_answers" in response.flags
    assert (
        SafetyAlert.objects.filter(
            patient=patient_a, state="open", level="high"
        ).count()
        == 1
    )


def test_bad_draft_values_and_spent_links_are_refused(patient_a: Patient) -> None:
    link, path = _link(patient_a)
    bad = Client().post(path, {"item_1": "7", "save_draft": "1"}, headers=HTMX)
    assert bad.status_code == 400
    QuestionnaireLink.objects.filter(pk=link.pk).update(used_at=timezone.now())
    spent = Client().post(path, {"item_1": "1", "save_draft": "1"}, headers=HTMX)
    assert spent.status_code == 410
    link.refresh_from_db()
    assert link.draft_answers == {}


def test_the_patient_fills_a_questionnaire_in_the_portal(
    client_for: ClientFor, patient_user: User, patient_a: Patient
) -> None:
    link, _ = _link(patient_a, "gad7")
    client = client_for(patient_user)
    home = client.get(reverse("portal:home")).content.decode()
    fill_url = reverse("portal:questionnaire_fill", args=[link.pk])
    assert fill_url in home
    client.post(fill_url, {**_answers({1: 2}), "save_draft": "1"}, headers=HTMX)
    assert 'value="2" id="id_item_1_2" checked' in client.get(fill_url).content.decode()
    done = client.post(fill_url, _answers(dict.fromkeys(range(1, 8), 1)))
    assert "Thank you" in done.content.decode()
    response = QuestionnaireResponse.objects.get(patient=patient_a)
    assert (response.source, response.total_display) == ("portal", "7")
    assert client.get(fill_url).status_code == 410
    assert fill_url not in client.get(reverse("portal:home")).content.decode()
    create = AuditEvent.objects.get(
        patient=patient_a, object_type="questionnaire_response"
    )
    assert create.actor == patient_user


def test_a_patient_cannot_open_another_patients_questionnaire(
    client_for: ClientFor, patient_user: User, patient_b: Patient
) -> None:
    link, _ = _link(patient_b)
    url = reverse("portal:questionnaire_fill", args=[link.pk])
    assert client_for(patient_user).get(url).status_code == 404
    assert client_for(patient_user).post(url, _answers({1: 1})).status_code == 404
    assert not QuestionnaireResponse.objects.exists()


@pytest.mark.parametrize("count", [2, 40])
def test_my_progress_explains_scores_in_plain_words_in_constant_queries(
    client_for: ClientFor,
    patient_user: User,
    patient_a: Patient,
    nurse: User,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    count: int,
) -> None:
    start = timezone.now() - dt.timedelta(days=count)
    for n in range(count):
        value = 2 if n == 0 else 1
        submit_questionnaire_response(
            request=None, patient=patient_a, instrument="phq9", answers=[value] * 8 + [0],
            source="paper", submission_key=f"k{n}", entered_by=nurse,
            authored_at=start + dt.timedelta(days=n),
        )  # fmt: skip
    client = client_for(patient_user)
    client.get(reverse("portal:home"))
    # Expect at most 17: session, user, clinic profile, OTP device, the portal check's
    # chart, the chart, groups, audit write (savepoint, head, insert, update,
    # release), all totals, dosing days, open links, permissions (2) for the menu.
    with django_assert_max_num_queries(17):
        page = client.get(reverse("portal:my_progress"))
    text = page.content.decode()
    assert "Your latest score is <strong>8</strong> (mild)" in text
    assert "Your first was 16" in text
    assert "50% lower" in text
    assert "what doctors call a <strong>response</strong>" in text
    assert text.count("<circle") == count
    assert AuditEvent.objects.filter(
        patient=patient_a, actor=patient_user, summary__contains="progress charts"
    ).exists()


def test_my_progress_has_an_empty_state(
    client_for: ClientFor, patient_user: User
) -> None:
    page = client_for(patient_user).get(reverse("portal:my_progress"))
    assert "No scores yet" in page.content.decode()


def test_staff_see_every_item_and_the_item_nine_history(
    client_for: ClientFor, nurse: User, patient_a: Patient
) -> None:
    response, _ = submit_questionnaire_response(
        request=None, patient=patient_a, instrument="phq9", answers=[1] * 8 + [2],
        source="paper", submission_key="detail", entered_by=nurse,
    )  # fmt: skip
    client = client_for(nurse)
    tab = client.get(reverse("measures:patient_measures", args=[patient_a.pk]))
    assert 'item 9: <span class="badge level-high">2</span>' in tab.content.decode()
    detail = client.get(
        reverse("measures:response_detail", args=[patient_a.pk, response.pk])
    ).content.decode()
    assert "More than half the days" in detail
    assert "Thoughts that you would be better off dead" in detail
    assert AuditEvent.objects.filter(
        patient=patient_a, actor=nurse, summary="Viewed questionnaire answers"
    ).exists()
