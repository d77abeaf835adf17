"""The anonymous self-check: outcomes at their rules, crisis first, nothing stored
unless attached."""

import pytest
from django.test import Client
from django.urls import reverse

from kapcare.intake.models import ConsultationRequest, SelfCheck
from kapcare.intake.selfcheck import (
    CANDIDATE,
    NOT_SUITABLE,
    TALK_TO_DOCTOR,
    assess,
)

URL = reverse("intake:self_check")
NO = {"aneurysm": False}


def test_two_antidepressants_and_moderate_depression_may_be_a_candidate() -> None:
    result = assess([1, 1, 1, 1, 1, 1, 2, 2, 0], "2", NO)
    assert (result.outcome, result.phq9_total, result.crisis) == (CANDIDATE, 10, False)


@pytest.mark.parametrize(
    ("answers", "tried", "reason"),
    [
        ([1, 1, 1, 1, 1, 1, 1, 2, 0], "3", "milder depression"),  # 9, below 10
        ([1, 1, 1, 1, 1, 1, 2, 2, 0], "1", "fewer than two antidepressants"),
        ([1, 1, 1, 1, 1, 1, 2, 2, 0], "unsure", "fewer than two antidepressants"),
        ([None, None, None, 1, 1, 1, 2, 2, 0], "3", "not answered"),
    ],
)
def test_each_reason_to_talk_to_a_doctor_first(
    answers: list[int | None], tried: str, reason: str
) -> None:
    result = assess(answers, tried, NO)
    assert result.outcome == TALK_TO_DOCTOR
    assert any(reason in r for r in result.reasons)


def test_a_precaution_means_talk_to_a_doctor_and_a_contraindication_not_suitable() -> (
    None
):
    moderate = [2, 2, 2, 2, 2, 0, 0, 0, 0]
    assert assess(moderate, "3", {"pregnancy": True}).outcome == TALK_TO_DOCTOR
    blocked = assess(moderate, "3", {"brain_bleed": True, "pregnancy": True})
    assert blocked.outcome == NOT_SUITABLE
    assert blocked.reasons == ("bleeding in the brain",)


def _form(item9: int = 0, **screen: str) -> dict[str, str]:
    data = {f"item_{n}": "2" for n in range(1, 9)}
    data |= {"item_9": str(item9), "antidepressants_tried": "3"}
    for code in ("aneurysm", "brain_bleed", "allergy", "psychosis", "substance_use",
                 "pregnancy", "blood_pressure", "interacting_medicines"):  # fmt: skip
        data[f"screen_{code}"] = screen.get(code, "no")
    return data


@pytest.mark.django_db
def test_the_result_page_puts_crisis_resources_first_and_stores_nothing(
    client: Client,
) -> None:
    page = client.post(URL, _form(item9=1)).content.decode()
    assert page.index("9-8-8") < page.index("<h2>Your self-check result")
    assert "were not sent to anyone" in page
    assert "You may be a candidate" in page
    assert not SelfCheck.objects.exists()
    assert not ConsultationRequest.objects.exists()


@pytest.mark.django_db
def test_unanswered_screening_questions_are_asked_again(client: Client) -> None:
    data = _form()
    del data["screen_allergy"]
    response = client.post(URL, data)
    assert response.status_code == 400
    assert "Please answer the questions marked below." in response.content.decode()


@pytest.mark.django_db
def test_attaching_the_answers_carries_them_into_the_request(client: Client) -> None:
    from tests.intake.test_consultation_requests import _data

    result = client.post(URL, _form(item9=0, pregnancy="yes")).content.decode()
    token = result.split('name="self_check" value="')[1].split('"')[0]
    form = client.post(reverse("intake:request_create"), {"self_check": token})
    assert (
        "Your self-check answers will be sent with this request."
        in form.content.decode()
    )
    client.post(reverse("intake:request_create"), _data(self_check=token))
    check = SelfCheck.objects.get()
    assert check.outcome == TALK_TO_DOCTOR
    assert check.screening_answers["pregnancy"] is True
    assert check.phq9_total == 16


@pytest.mark.django_db
def test_a_forged_self_check_is_refused(client: Client) -> None:
    from tests.intake.test_consultation_requests import _data

    response = client.post(reverse("intake:request_create"), _data(self_check="x:y:z"))
    page = response.content.decode()
    assert "Your self-check answers have expired" in page
    assert 'name="self_check" value="x:y:z"' not in page  # send again without them
    assert not ConsultationRequest.objects.exists()


@pytest.mark.django_db
def test_an_attached_item_nine_raises_an_alert_that_follows_the_person(
    client: Client,
) -> None:
    from kapcare.accounts.roles import Role
    from kapcare.safety.models import SafetyAlert
    from tests.conftest import make_staff, sign_in
    from tests.intake.test_consultation_requests import _data

    result = client.post(URL, _form(item9=2)).content.decode()
    token = result.split('name="self_check" value="')[1].split('"')[0]
    client.post(reverse("intake:request_create"), _data(self_check=token))
    consult = ConsultationRequest.objects.get()
    alert = SafetyAlert.objects.get()
    assert (alert.level, alert.state, alert.patient, alert.consultation_request) == (
        "high", "open", None, consult,
    )  # fmt: skip

    nurse = sign_in(Client(), make_staff(Role.NURSE))
    queue = nurse.get(reverse("safety:alert_queue")).content.decode()
    assert "Noor Haddad (consultation request)" in queue
    detail_url = reverse("intake:request_detail", args=[consult.pk])
    assert "suicidal thoughts endorsed" in nurse.get(detail_url).content.decode()
    front = sign_in(Client(), make_staff(Role.FRONT_DESK))
    assert "a clinician is handling it" in front.get(detail_url).content.decode()

    done = nurse.post(
        reverse("safety:alert_acknowledge", args=[alert.pk]),
        {"action": "called_patient", "note": "Safe, booked tomorrow"},
    )
    assert done["Location"] == detail_url
    alert.refresh_from_db()
    assert alert.state == "acknowledged"

    nurse.post(
        reverse("intake:request_convert", args=[consult.pk]),
        {
            "legal_given_name": "Noor",
            "legal_family_name": "Haddad",
            "born_on": "1988-02-03",
            "sex_at_birth": "female",
            "province": "ON",
            "status": "prospect",
        },
    )
    consult.refresh_from_db()
    alert.refresh_from_db()
    assert alert.patient == consult.patient is not None


@pytest.mark.django_db
def test_one_self_check_can_be_sent_once(client: Client) -> None:
    from tests.intake.test_consultation_requests import _data

    result = client.post(URL, _form(item9=2)).content.decode()
    token = result.split('name="self_check" value="')[1].split('"')[0]
    client.post(reverse("intake:request_create"), _data(self_check=token))
    again = client.post(
        reverse("intake:request_create"), _data(submission_key="k2", self_check=token)
    )
    assert "already sent with a request" in again.content.decode()
    assert SelfCheck.objects.count() == 1


@pytest.mark.django_db
def test_front_desk_does_not_see_the_answers(client: Client) -> None:
    from kapcare.accounts.roles import Role
    from tests.conftest import make_staff, sign_in
    from tests.intake.test_consultation_requests import _data

    result = client.post(URL, _form(item9=2, pregnancy="yes")).content.decode()
    token = result.split('name="self_check" value="')[1].split('"')[0]
    client.post(reverse("intake:request_create"), _data(self_check=token))
    consult = ConsultationRequest.objects.get()
    front = sign_in(Client(), make_staff(Role.FRONT_DESK))
    page = front.get(
        reverse("intake:request_detail", args=[consult.pk])
    ).content.decode()
    assert "clinical staff can read it" in page
    assert "pregnancy" not in page and "PHQ-9 16" not in page
    board = front.get(reverse("intake:board")).content.decode()
    assert "PHQ-9" not in board


@pytest.mark.django_db
def test_an_unanswered_item_nine_also_shows_crisis_resources(client: Client) -> None:
    data = _form()
    del data["item_9"]
    page = client.post(URL, data).content.decode()
    assert "help is available now" in page
