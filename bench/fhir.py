"""Issue 9's target: an Observation search for a patient with 500 observations."""

from datetime import timedelta
from decimal import Decimal

from django.test import Client, RequestFactory
from django.utils import timezone

from bench.timing import Send
from kapcare.accounts.models import User
from kapcare.fhir.auth import register_client
from kapcare.measures.services import submit_questionnaire_response
from kapcare.patients.models import Patient
from kapcare.treatment.models import DosingSession, VitalSign

OBSERVATIONS = 500


def seed_fhir() -> tuple[Client, str]:
    """A system client, and the search for a patient with OBSERVATIONS
    observations (150 vital-sign rows of BP, heart rate and SpO2, and 50 PHQ-9
    totals); returns the client and the search address."""
    session = DosingSession.objects.select_related("patient").first()
    assert session is not None  # noqa: S101 - the demo clinic has sessions
    patient: Patient = session.patient
    nurse = User.objects.get(email="nurse@demo.kapcare.test")
    start = timezone.now() - timedelta(days=200)
    VitalSign.objects.bulk_create(
        VitalSign(
            session=session,
            taken_at=start + timedelta(hours=n),
            systolic=120,
            diastolic=80,
            heart_rate=70,
            spo2=98,
            recorded_by=nurse,
        )
        for n in range(150)
    )
    for n in range(50):
        submit_questionnaire_response(
            request=None, patient=patient, instrument="phq9", answers=[1] * 9,
            source="paper", submission_key=f"bench-fhir-{n}",
            authored_at=start + timedelta(days=n, minutes=7),
        )  # fmt: skip
    DosingSession.objects.filter(pk=session.pk).update(weight_kg=Decimal("70"))
    admin = User.objects.get(email="admin@demo.kapcare.test")
    request = RequestFactory().get("/")
    request.user = admin
    _, token = register_client(
        request=request, name="Bench", kind="system", patient=None,
        may_submit_responses=False, by=admin,
    )  # fmt: skip
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client, f"/fhir/Observation?patient={patient.pk}&_count=50"


def next_page(client: Client, search: str) -> Send:
    """The second page: its address comes from the first page's next link."""
    first = client.get(search).json()
    url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    path = url[url.index("/fhir/") :]
    return lambda: client.get(path)
