"""Hostile input through every search box and free-text field that is shown back:
SQL-injection strings never fail the server, never match everything and never
change a table; script payloads always come back as text, never as markup."""

from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from kapcare.accounts.models import User
from kapcare.intake.models import ConsultationRequest
from kapcare.measures.services import submit_questionnaire_response
from kapcare.patients.models import Patient
from kapcare.website.models import Post, StaffProfile
from tests.conftest import ClientFor
from tests.factories import PatientFactory
from tests.fhir.test_api import api, token_for

pytestmark = pytest.mark.django_db

SQL_INJECTION = [
    "' OR '1'='1",
    "' OR 1=1 --",
    '" OR ""="',
    "'; DROP TABLE patients_patient; --",
    "%' UNION SELECT email, password FROM accounts_user --",
    "1; SELECT pg_sleep(5) --",
    "admin'--",
    "\\'; --",
    "%",
    "_",
    "' AND (SELECT COUNT(*) FROM sqlite_master) > 0 --",
]
SCRIPT = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "</textarea><script>alert(2)</script>",
    "<a href=javascript:alert(3)>x</a>",
]


class LiveScript(HTMLParser):
    """The real tags of a page (escaped text is not a tag) that would run script:
    an inline script or one from elsewhere than our static files, an on... event
    handler, or a javascript: link."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            source = found.get("src") or ""
            data_block = found.get("type") in (
                "application/ld+json",
                "application/json",
            )
            if source and not source.startswith("/static/"):
                self.found.append(f"<script src={source}>")
            elif not source and not data_block:
                self.found.append("<script> inline")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action", "formaction") and (
                (value or "").strip().lower().startswith("javascript:")
            ):
                self.found.append(f"<{tag} {name}={value}>")


def live_script(html: str) -> list[str]:
    parser = LiveScript()
    parser.feed(html)
    return parser.found


@pytest.fixture
def two_patients(db: None, nurse: User) -> list[Patient]:
    """Something for every search to find: charts with a PHQ-9, a consultation
    request and a published article."""
    patients = [PatientFactory.create(), PatientFactory.create()]
    for n, patient in enumerate(patients):
        submit_questionnaire_response(
            request=None, patient=patient, instrument="gad7", answers=[1] * 7,
            source="paper", submission_key=f"payload-{n}", entered_by=nurse,
        )  # fmt: skip
    ConsultationRequest.objects.create(
        given_name="Searchable", family_name="Person", email="s@example.com",
        preferred_contact="email", consent_wording="ok",
        consent_to_contact_at=timezone.now(), submission_key="payload-request",
    )  # fmt: skip
    Post(
        title="Sleep and recovery", slug="sleep", excerpt="Rest.", body="Rest well.",
        author=StaffProfile.objects.create(name="Dr. Search"), status="published",
        publish_at=timezone.now(),
    ).save()  # fmt: skip
    return patients


def _counts() -> tuple[int, int, int]:
    return (
        Patient.objects.count(),
        User.objects.count(),
        ConsultationRequest.objects.count(),
    )


def test_sql_injection_strings_in_every_search_box(
    client_for: ClientFor, nurse: User, clinic_admin: User, front_desk: User,
    two_patients: list[Patient], record_property: Callable[[str, object], None],
) -> None:  # fmt: skip
    before = _counts()
    boxes = [
        (client_for(nurse), reverse("patients:patient_list"), "page"),
        (client_for(clinic_admin), reverse("accounts:staff_list"), "page"),
        (client_for(front_desk), reverse("intake:board"), "rows"),
        (Client(), reverse("website:post_list"), "page_obj"),
    ]
    tried = 0
    for client, url, listed in boxes:
        assert list(client.get(url).context[listed]), url  # there is something to find
        for payload in SQL_INJECTION:
            response = client.get(url, {"q": payload})
            tried += 1
            assert response.status_code == 200, (url, payload)
            if payload not in ("%", "_"):  # plain characters, may match a name
                assert list(response.context[listed]) == [], (url, payload)
    _, token = token_for(clinic_admin)
    for resource, params in (
        ("Patient", ("name", "family", "given", "identifier", "birthdate", "_id")),
        ("Observation", ("code", "patient", "date", "category")),
        ("QuestionnaireResponse", ("patient", "questionnaire", "authored")),
    ):
        for name in params:
            for payload in SQL_INJECTION:
                response = api(token).get(f"/fhir/{resource}", {name: payload})
                tried += 1
                assert response.status_code in {200, 400}, (resource, name, payload)
                body = response.json()
                if response.status_code == 400:
                    assert body["resourceType"] == "OperationOutcome"
                else:
                    assert body.get("total", 0) == 0, (resource, name, payload)
    assert _counts() == before
    record_property("security: SQL-injection strings tried", tried)


def test_script_payloads_come_back_as_text(
    client_for: ClientFor, nurse: User, front_desk: User, clinic_admin: User,
    record_property: Callable[[str, object], None],
) -> None:  # fmt: skip
    author = StaffProfile.objects.create(name=SCRIPT[1][:100], credentials=SCRIPT[0])
    pages: list[tuple[Client, str]] = []
    for n, payload in enumerate(SCRIPT):
        patient = PatientFactory.create(
            legal_given_name=payload[:100], preferred_name=payload[:100]
        )
        chart = client_for(nurse).get(
            reverse("patients:patient_detail", args=[patient.pk])
        )
        assert escape(payload) in chart.content.decode()  # shown, as text
        request = ConsultationRequest.objects.create(
            given_name=payload[:100], family_name="Xss", email=f"x{n}@example.com",
            preferred_contact="email", consent_wording="ok", message=payload,
            consent_to_contact_at=timezone.now(), submission_key=f"xss-{n}",
        )  # fmt: skip
        pages.append(
            (
                client_for(front_desk),
                reverse("intake:request_detail", args=[request.pk]),
            )
        )
        post = Post(
            title=payload[:150], slug=f"xss-{n}", author=author, excerpt=payload[:200],
            body=f"Hello\n\n{payload}\n\n[link](javascript:alert(4))", status="published",
            publish_at=timezone.now(),
        )  # fmt: skip
        post.save()
        pages.append((Client(), reverse("website:post_detail", args=[post.slug])))
        pages.append(
            (client_for(nurse), reverse("patients:patient_detail", args=[patient.pk]))
        )
    pages += [
        (client_for(nurse), reverse("patients:patient_list")),
        (client_for(front_desk), reverse("intake:board")),
        (Client(), reverse("website:post_list")),
        (Client(), reverse("website:rss_feed")),
        (Client(), reverse("website:team")),
    ]
    for client, url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for payload in SCRIPT:
            assert payload not in html, (url, payload)
        assert live_script(html) == [], url
    record_property("security: script payloads rendered back", len(SCRIPT) * len(pages))
