"""The progress report for the referring clinician: preview, PDF (its text read back
with pypdf), email to the referrer, access and audit."""

import io

import pytest
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from tests.conftest import ClientFor
from tests.outcomes.conftest import Cohort

pytestmark = pytest.mark.django_db
PLAN = "Continue maintenance infusions every four weeks; review in three months."


def url(cohort: Cohort) -> str:
    return reverse("outcomes:progress_report", args=[cohort.people["a"].pk])


def test_the_preview_shows_the_course_and_scores_and_is_audited(
    hand_built: Cohort, client_for: ClientFor, physician: User,
    django_assert_max_num_queries: object,
) -> None:  # fmt: skip
    client = client_for(physician)
    client.get(url(hand_built))
    with django_assert_max_num_queries(30):  # type: ignore[operator]
        response = client.get(url(hand_built))
    body = response.content.decode()
    a = hand_built.people["a"]
    assert response.status_code == 200
    assert a.legal_family_name in body and a.mrn in body
    assert "2 of 6 planned" in body  # two doses in A's course
    assert "PHQ-9" in body and "<svg" in body
    event = AuditEvent.objects.filter(summary="Previewed the progress report").first()
    assert event is not None and event.patient_id == a.pk and event.actor == physician


def test_the_pdf_needs_a_plan(
    hand_built: Cohort, client_for: ClientFor, physician: User
) -> None:
    response = client_for(physician).post(url(hand_built), {"do": "pdf", "plan": ""})
    assert response.status_code == 400
    assert "Write the current plan" in response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert not AuditEvent.objects.filter(action="print").exists()


def test_the_pdf_carries_the_scores_plan_and_signature_and_is_audited(
    hand_built: Cohort, client_for: ClientFor, physician: User
) -> None:
    response = client_for(physician).post(url(hand_built), {"do": "pdf", "plan": PLAN})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    a = hand_built.people["a"]
    assert "Progress report" in flat and a.legal_family_name in flat and a.mrn in flat
    assert "PHQ-9" in flat and "GAD-7" in flat
    # A's course: PHQ-9 20 (20 February) -> 8 (1 April): -12, -60%, response
    assert "PHQ-9 20 8 (2026-04-01) -12 (-60%) Yes No" in flat
    assert "Continue maintenance infusions every four weeks" in flat
    assert physician.display_name in flat and "Signed electronically" in flat
    printed = AuditEvent.objects.filter(action="print", patient_id=a.pk)
    assert printed.filter(summary="Downloaded the progress report (PDF)").count() == 1


def test_sending_to_the_referrer_emails_the_pdf_once(
    hand_built: Cohort, client_for: ClientFor, physician: User
) -> None:
    client = client_for(physician)
    data = {"do": "send", "plan": PLAN, "referrer_email": "dr.referrer@example.com",
            "submission_key": "k1"}  # fmt: skip
    first = client.post(url(hand_built), data)
    second = client.post(url(hand_built), data)
    assert first.status_code == second.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dr.referrer@example.com"]
    [(_, content, kind)] = message.attachments
    assert kind == "application/pdf" and content[:4] == b"%PDF"
    sent = AuditEvent.objects.filter(
        action="export", patient_id=hand_built.people["a"].pk
    )
    assert sent.filter(summary__contains="dr.referrer@example.com").count() == 1


def test_sending_needs_an_address(
    hand_built: Cohort, client_for: ClientFor, physician: User
) -> None:
    response = client_for(physician).post(url(hand_built), {"do": "send", "plan": PLAN})
    assert response.status_code == 400
    assert "Enter the referrer" in response.content.decode()
    assert not mail.outbox


@pytest.mark.parametrize("role", ["nurse", "therapist", "front_desk", "clinic_admin"])
def test_only_physicians_write_the_report(
    hand_built: Cohort, client_for: ClientFor, request: pytest.FixtureRequest, role: str
) -> None:
    user = request.getfixturevalue(role)
    assert client_for(user).get(url(hand_built)).status_code == 403
    assert (
        client_for(user).post(url(hand_built), {"do": "pdf", "plan": PLAN}).status_code
        == 403
    )


def test_a_failed_send_says_so_and_records_no_sending(
    hand_built: Cohort, client_for: ClientFor, physician: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from smtplib import SMTPException

    from kapcare.outcomes import report

    def refuse(*args: object, **kwargs: object) -> None:
        raise SMTPException("relay refused")

    monkeypatch.setattr(report, "send_report", refuse)
    response = client_for(physician).post(
        url(hand_built),
        {
            "do": "send",
            "plan": PLAN,
            "referrer_email": "dr@example.com",
            "submission_key": "k2",
        },
        follow=True,
    )
    assert "could not be sent (relay refused)" in response.content.decode()
    assert not AuditEvent.objects.filter(action="export").exists()


def test_the_table_follows_the_course_and_its_programme(
    hand_built: Cohort, client_for: ClientFor, physician: User
) -> None:
    """B's induction course ended on 20 April: its latest PHQ-9 is 4 (15 March),
    not the 27 after it. G's esketamine course: MADRS 30 -> 12 is remission
    (≤ 12), where the ketamine threshold (≤ 10) would say no."""
    client = client_for(physician)
    b_url = reverse("outcomes:progress_report", args=[hand_built.people["b"].pk])
    body = client.get(
        b_url, {"course": str(hand_built.courses["b"].pk)}
    ).content.decode()
    table = " ".join(
        body.split("Scores over this course")[1].split("</table>")[0].split()
    )
    assert "4 (2026-03-15)" in table and ">27<" not in table
    g_url = reverse("outcomes:progress_report", args=[hand_built.people["g"].pk])
    g_body = " ".join(client.get(g_url).content.decode().split())
    assert "Yes (MADRS &lt;= 12 (esketamine programme" in g_body
