from urllib.parse import urlsplit

import pytest
from django.core.mail import EmailMessage
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db
VERIFY = reverse("accounts:otp_verify")
ENROL = reverse("accounts:otp_enrol")
PATIENTS = reverse("patients:patient_list")


def code_for(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time += offset * device.step
    return f"{totp.token():06d}"


def test_staff_without_totp_are_sent_to_enrol(
    client_for: ClientFor, unenrolled_nurse: User
) -> None:
    response = client_for(unenrolled_nurse).get(PATIENTS)
    assert response.status_code == 302
    assert response["Location"].startswith(ENROL)


def test_enrolment_shows_a_qr_code_then_a_good_code_unlocks_patient_data(
    client_for: ClientFor, unenrolled_nurse: User
) -> None:
    client = client_for(unenrolled_nurse)
    page = client.get(ENROL)
    assert b"data:image/svg+xml;charset=utf-8,%3Csvg%20xmlns" in page.content
    device = TOTPDevice.objects.get(user=unenrolled_nurse, confirmed=False)
    response = client.post(ENROL, {"token": code_for(device), "next": PATIENTS})
    assert response.status_code == 302
    assert response["Location"] == PATIENTS
    assert client.get(PATIENTS).status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.OTP_ENROLLED, actor=unenrolled_nurse
    ).exists()


def test_a_wrong_enrolment_code_keeps_the_device_unconfirmed(
    client_for: ClientFor, unenrolled_nurse: User
) -> None:
    client = client_for(unenrolled_nurse)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=unenrolled_nurse)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = client.post(ENROL, {"token": wrong})
    assert b"did not match" in response.content
    device.refresh_from_db()
    assert not device.confirmed


def test_verification_with_a_good_code(client_for: ClientFor, nurse: User) -> None:
    client = client_for(nurse, verified=False)
    device = TOTPDevice.objects.get(user=nurse)
    response = client.post(VERIFY, {"token": code_for(device), "next": PATIENTS})
    assert response["Location"] == PATIENTS
    assert client.get(PATIENTS).status_code == 200


def test_a_used_code_cannot_be_used_again(client_for: ClientFor, nurse: User) -> None:
    device = TOTPDevice.objects.get(user=nurse)
    code = code_for(device)
    first = client_for(nurse, verified=False)
    assert first.post(VERIFY, {"token": code}).status_code == 302
    second = client_for(nurse, verified=False)
    response = second.post(VERIFY, {"token": code})
    assert response.status_code == 200
    assert second.get(PATIENTS).status_code == 302
    assert AuditEvent.objects.filter(action=AuditEvent.Action.OTP_FAILED).count() == 1


def test_failures_are_throttled(client_for: ClientFor, nurse: User) -> None:
    client = client_for(nurse, verified=False)
    device = TOTPDevice.objects.get(user=nurse)
    client.post(
        VERIFY, {"token": "000000" if code_for(device) != "000000" else "111111"}
    )
    response = client.post(VERIFY, {"token": code_for(device)})
    assert response.status_code == 200
    assert client.get(PATIENTS).status_code == 302


@pytest.mark.parametrize("token", ["12345", "abcdef", "1234567", ""])
def test_malformed_codes_get_a_clear_message(
    client_for: ClientFor, nurse: User, token: str
) -> None:
    response = client_for(nurse, verified=False).post(VERIFY, {"token": token})
    assert response.status_code == 200
    assert b"errorlist" in response.content


def test_password_reset_does_not_skip_two_step(
    client: Client, nurse: User, mailoutbox: list[EmailMessage]
) -> None:
    client.post(reverse("accounts:password_reset"), {"email": nurse.email})
    link = next(
        line for line in mailoutbox[0].body.splitlines() if "/password-reset/" in line
    )
    path = urlsplit(link.strip()).path
    form = client.get(path, follow=True)
    new = "a brand new passphrase 9"
    client.post(
        form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    nurse.refresh_from_db()
    assert nurse.check_password(new)
    client.post(reverse("accounts:login"), {"username": nurse.email, "password": new})
    response = client.get(PATIENTS)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.PASSWORD_CHANGED, actor=nurse
    ).exists()


def test_a_patient_without_totp_is_not_asked_for_it(
    client_for: ClientFor, patient_user: User
) -> None:
    assert client_for(patient_user).get(reverse("portal:home")).status_code == 200
