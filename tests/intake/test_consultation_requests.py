"""The public consultation request: validation, consent record, spam defence,
idempotency, notifications."""

import time

import pytest
import time_machine
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.intake.forms import FORM_SALT
from kapcare.intake.models import ConsultationRequest

pytestmark = pytest.mark.django_db
URL = reverse("intake:request_create")


def _started(seconds_ago: float = 30, key: str = "key-1") -> str:
    return signing.dumps({"t": time.time() - seconds_ago, "k": key}, salt=FORM_SALT)


def _data(**changes: str) -> dict[str, str]:
    data = {
        "given_name": "Noor", "family_name": "Haddad", "email": "noor@example.com",
        "phone": "416 555 0142", "preferred_contact": "email", "preferred_time": "any",
        "heard_from": "doctor", "message": "", "born_on": "", "consent": "on",
        "website": "", "submission_key": "key-1", "self_check": "",
    }  # fmt: skip
    data.update(changes)
    data.setdefault("started", _started(key=data["submission_key"]))
    return data


def test_a_request_is_stored_with_the_consent_wording_and_time(
    client: Client,
    front_desk: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, _data(), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:request_done")
    consult = ConsultationRequest.objects.get()
    assert (consult.phone, consult.status, consult.ip_address) == (
        "+14165550142", "new", "203.0.113.9",
    )  # fmt: skip
    assert consult.consent_wording.startswith(
        "I agree that Kapcare Clinic may contact me"
    )
    assert consult.consent_to_contact_at is not None
    to = sorted(address for m in mail.outbox for address in m.to)
    assert to == sorted(["noor@example.com", front_desk.email])
    notice = next(m for m in mail.outbox if m.to == [front_desk.email])
    assert "Haddad" not in notice.body  # no personal details by email
    assert AuditEvent.objects.filter(object_type="consultation_request").exists()
    assert (
        "Thank you, your request was received"
        in client.get(response["Location"]).content.decode()
    )


def test_a_double_submit_stores_one_request(client: Client) -> None:
    client.post(URL, _data())
    second = client.post(URL, _data())
    assert second.status_code == 302
    assert ConsultationRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "", "phone": ""}, "Give an email address or a phone number."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"phone": "call me"}, "Enter a phone number such as 416-555-0123."),
        ({"phone": "555"}, "not a valid phone number"),
        ({"phone": "123 456 7890"}, "not a valid phone number"),
        (
            {"email": "", "preferred_contact": "email"},
            "Give an email address, or choose",
        ),
        (
            {"phone": "", "preferred_contact": "text"},
            "Give a phone number, or choose email.",
        ),
        ({"consent": ""}, "Tick the box so we may contact you"),
        ({"given_name": ""}, "This field is required."),
        ({"born_on": "2999-01-01"}, "cannot be in the future"),
        ({"preferred_contact": "pigeon"}, "Select a valid choice."),
    ],
)
def test_bad_input_is_explained_and_kept(
    client: Client, changes: dict[str, str], message: str
) -> None:
    response = client.post(URL, _data(**changes))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'value="Haddad"' in page or changes.get("family_name") == ""
    assert not ConsultationRequest.objects.exists()


def test_the_honeypot_refuses_with_a_message(client: Client) -> None:
    response = client.post(URL, _data(website="http://spam.example"))
    assert response.status_code == 400
    assert "This form could not be accepted" in response.content.decode()
    assert not ConsultationRequest.objects.exists()


def test_a_form_sent_too_fast_is_refused_then_accepted(client: Client) -> None:
    fast = client.post(URL, _data(started=_started(seconds_ago=0.5)))
    assert "That was very quick" in fast.content.decode()
    replayed = client.post(URL, _data(submission_key="other", started=_started()))
    assert "This form is out of date" in replayed.content.decode()
    assert fast.status_code == 400
    assert "That was very quick" in fast.content.decode()
    assert not ConsultationRequest.objects.exists()
    assert client.post(URL, _data(started=_started())).status_code == 302


def test_a_tampered_start_token_is_refused(client: Client) -> None:
    response = client.post(URL, _data(started="forged"))
    assert "This form is out of date" in response.content.decode()


def test_one_address_may_send_five_an_hour(client: Client, settings: Settings) -> None:
    for n in range(5):
        ok = client.post(URL, _data(submission_key=f"k{n}"), REMOTE_ADDR="198.51.100.7")
        assert ok.status_code == 302
    refused = client.post(URL, _data(submission_key="k6"), REMOTE_ADDR="198.51.100.7")
    assert refused.status_code == 429
    assert "several requests from your connection" in refused.content.decode()
    other = client.post(URL, _data(submission_key="k7"), REMOTE_ADDR="198.51.100.8")
    assert other.status_code == 302
    with time_machine.travel(time.time() + 3700):
        later = client.post(
            URL,
            _data(submission_key="k8"),
            REMOTE_ADDR="198.51.100.7",
        )
    assert later.status_code == 302
    assert ConsultationRequest.objects.count() == 7


def test_every_public_page_calls_to_book_a_consultation(client: Client) -> None:
    for name in ("website:home", "intake:self_check", "accounts:login"):
        page = client.get(reverse(name)).content.decode()
        assert f'href="{URL}"' in page, name


@pytest.mark.django_db
def test_the_contact_choice_has_no_blank_option(client: Client) -> None:
    page = client.get(URL).content.decode()
    assert 'name="preferred_contact" value=""' not in page
    assert ">Choose…</option>" in page
