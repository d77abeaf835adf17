"""Referrals with their letters: only real PDF/PNG/JPEG, size limit, private storage,
read only by clinical staff, every read audited."""

import io
import uuid

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from pytest_django import Settings

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.intake.models import ConsultationRequest, Referral
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db
URL = reverse("intake:referral_create")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "#fff").save(buffer, "PNG")
    return buffer.getvalue()


def _data(
    letter: SimpleUploadedFile | None = None, **changes: object
) -> dict[str, object]:
    data: dict[str, object] = {
        "given_name": "Ravi", "family_name": "Menon", "born_on": "1979-08-30",
        "phone": "613-555-0101", "email": "", "clinician_name": "Dr. Ana Silva",
        "cpso_number": "12345", "billing_number": "654321",
        "clinician_phone": "613-555-0199", "clinician_fax": "613-555-0198",
        "reason": "TRD, three failed SSRIs", "submission_key": uuid.uuid4().hex,
    }  # fmt: skip
    if letter is not None:
        data["letter"] = letter
    data.update(changes)
    return data


def test_a_referral_with_its_letter_enters_the_board(
    client_for: ClientFor, front_desk: User, nurse: User
) -> None:
    letter = SimpleUploadedFile("letter.pdf", PDF, content_type="application/pdf")
    response = client_for(front_desk).post(URL, _data(letter))
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert (referral.cpso_number, referral.letter_content_type) == (
        "12345",
        "application/pdf",
    )
    assert referral.letter.startswith("referrals/")
    assert storages["private"].exists(referral.letter)
    consult = referral.request
    assert (consult.phone, consult.heard_from) == ("+16135550101", "doctor")

    letter_url = reverse("intake:referral_letter", args=[consult.pk])
    served = client_for(nurse).get(letter_url)
    assert served.status_code == 200
    assert served["Content-Type"] == "application/pdf"
    assert b"".join(served.streaming_content) == PDF  # type: ignore[attr-defined]
    reads = AuditEvent.objects.filter(object_type="referral_letter", actor=nurse)
    assert reads.count() == 1
    client_for(nurse).get(letter_url)
    assert reads.count() == 2


def test_front_desk_enters_letters_but_cannot_read_them(
    client_for: ClientFor, front_desk: User
) -> None:
    letter = SimpleUploadedFile("letter.png", _png(), content_type="image/png")
    client_for(front_desk).post(URL, _data(letter))
    consult = ConsultationRequest.objects.get()
    url = reverse("intake:referral_letter", args=[consult.pk])
    assert client_for(front_desk).get(url).status_code == 403
    assert not AuditEvent.objects.filter(object_type="referral_letter").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("letter.pdf", b"<html>not a pdf</html>", "Only PDF, PNG or JPEG files"),
        ("letter.exe", b"MZ\x90\x00binary", "Only PDF, PNG or JPEG files"),
        ("scan.png", b"\x89PNG\r\n\x1a\nbroken", "The image could not be read"),
        ("empty.pdf", b"", "The submitted file is empty."),
    ],
)
def test_letters_are_judged_by_their_contents(
    client_for: ClientFor, front_desk: User, name: str, content: bytes, message: str
) -> None:
    letter = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = client_for(front_desk).post(URL, _data(letter))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Referral.objects.exists()


def test_a_letter_over_the_limit_is_refused(
    client_for: ClientFor, front_desk: User, settings: Settings
) -> None:
    settings.DOCUMENT_MAX_BYTES = 1024
    letter = SimpleUploadedFile("big.pdf", PDF + b" " * 2048, "application/pdf")
    response = client_for(front_desk).post(URL, _data(letter))
    assert (
        "the limit is 0 MB" in response.content.decode()
        or "limit is" in response.content.decode()
    )
    assert not Referral.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cpso_number": "12a45"}, "The CPSO number has digits only."),
        ({"billing_number": "x"}, "The billing number has digits only."),
        ({"clinician_fax": "fax me"}, "Enter a phone number such as"),
        (
            {"phone": "", "email": ""},
            "email address or phone number, so we can contact",
        ),
        ({"reason": ""}, "This field is required."),
    ],
)
def test_referral_fields_are_checked(
    client_for: ClientFor, front_desk: User, changes: dict[str, str], message: str
) -> None:
    response = client_for(front_desk).post(URL, {**_data(), **changes})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_double_submit_enters_one_referral(
    client_for: ClientFor, front_desk: User
) -> None:
    data = _data()
    client_for(front_desk).post(URL, data)
    client_for(front_desk).post(URL, data)
    assert Referral.objects.count() == 1
