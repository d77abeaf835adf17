"""Informed consent: versions, signing in the portal, paper scans, re-consent."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.intake.consent import consent_status
from kapcare.intake.models import ConsentDocument, ConsentSignature
from kapcare.patients.models import Patient
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db
DOCS = reverse("intake:consent_documents")
PORTAL = reverse("portal:consent")
PDF = b"%PDF-1.4\n%%EOF\n"


def _publish(client_for: ClientFor, admin: User, reconsent: bool = True) -> None:
    data = {"title": "Consent to KAP", "body": "Ketamine may cause dissociation."}
    if reconsent:
        data["requires_reconsent"] = "on"
    assert client_for(admin).post(DOCS, data).status_code == 302


def test_the_patient_signs_with_their_typed_name_and_the_chart_shows_it(
    client_for: ClientFor, clinic_admin: User, patient_user: User,
    patient_a: Patient, nurse: User,
) -> None:  # fmt: skip
    _publish(client_for, clinic_admin)
    client = client_for(patient_user)
    page = client.get(PORTAL).content.decode()
    assert "Ketamine may cause dissociation." in page
    wrong = client.post(
        PORTAL, {"version": "1", "agree": "on", "typed_name": "Someone Else"}
    )
    assert "Type your full legal name" in wrong.content.decode()
    unticked = client.post(PORTAL, {"version": "1", "typed_name": patient_a.legal_name})
    assert "Tick the box to agree" in unticked.content.decode()
    assert not ConsentSignature.objects.exists()
    signed = client.post(
        PORTAL,
        {
            "version": "1",
            "agree": "on",
            "typed_name": f"  {patient_a.legal_name.upper()} ",
        },
        REMOTE_ADDR="192.0.2.44",
    )
    assert signed.status_code == 302
    signature = ConsentSignature.objects.get()
    assert (signature.method, signature.ip_address) == ("portal", "192.0.2.44")
    assert signature.typed_name == patient_a.legal_name.upper()
    chart = client_for(nurse).get(patient_a.get_absolute_url()).content.decode()
    assert "Signed <strong>version 1</strong>" in chart
    assert AuditEvent.objects.filter(
        patient=patient_a, object_type="consent_signature", actor=patient_user
    ).exists()


def test_a_new_version_asks_for_consent_again_unless_told_not_to(
    client_for: ClientFor, clinic_admin: User, patient_user: User, patient_a: Patient
) -> None:
    _publish(client_for, clinic_admin)
    client_for(patient_user).post(
        PORTAL, {"version": "1", "agree": "on", "typed_name": patient_a.legal_name}
    )
    _publish(client_for, clinic_admin, reconsent=False)  # a typo fix
    status = consent_status(patient_a)
    assert (status.current.version, status.needed) == (2, False)  # type: ignore[union-attr]
    _publish(client_for, clinic_admin, reconsent=True)
    assert consent_status(patient_a).needed
    page = client_for(patient_user).get(PORTAL).content.decode()
    assert "(version 3)" in page and "Sign" in page


def test_a_stale_form_does_not_sign_the_wrong_version(
    client_for: ClientFor, clinic_admin: User, patient_user: User, patient_a: Patient
) -> None:
    _publish(client_for, clinic_admin)
    _publish(client_for, clinic_admin)
    response = client_for(patient_user).post(
        PORTAL, {"version": "1", "agree": "on", "typed_name": patient_a.legal_name}
    )
    assert "changed while you were reading it" in response.content.decode()
    assert not ConsentSignature.objects.exists()


def test_versions_never_change(clinic_admin: User) -> None:
    document = ConsentDocument.objects.create(
        version=1, title="t", body="b", created_by=clinic_admin
    )
    document.body = "edited"
    with pytest.raises(PermissionError):
        document.save()


def test_a_paper_consent_is_recorded_with_its_scan_and_reads_are_audited(
    client_for: ClientFor, clinic_admin: User, nurse: User, patient_a: Patient
) -> None:
    _publish(client_for, clinic_admin)
    url = reverse("intake:consent_paper", args=[patient_a.pk])
    bad = client_for(nurse).post(
        url,
        {"version": "1", "signed_on": "2026-11-20",
         "scan": SimpleUploadedFile("x.pdf", b"not a pdf")},
        follow=True,
    )  # fmt: skip
    assert "Only PDF, PNG or JPEG" in bad.content.decode()
    client_for(nurse).post(
        url,
        {"version": "1", "signed_on": "2026-11-20",
         "scan": SimpleUploadedFile("form.pdf", PDF)},
    )  # fmt: skip
    signature = ConsentSignature.objects.get()
    assert (signature.method, signature.recorded_by) == ("paper", nurse)
    scan = client_for(nurse).get(reverse("intake:consent_scan", args=[signature.pk]))
    assert b"".join(scan.streaming_content) == PDF  # type: ignore[attr-defined]
    assert (
        AuditEvent.objects.filter(object_type="consent_scan", actor=nurse).count() == 1
    )
    again = client_for(nurse).post(
        url,
        {"version": "1", "signed_on": "2026-11-21",
         "scan": SimpleUploadedFile("form.pdf", PDF)},
        follow=True,
    )  # fmt: skip
    assert "already signed" in again.content.decode()
    assert ConsentSignature.objects.count() == 1
