"""An outside FHIR client library (fhirpy) against the live server: it reads the
CapabilityStatement, pages through a patient's Observations by the next links
and reads a QuestionnaireResponse."""

from datetime import timedelta

import pytest
from django.utils import timezone
from fhirpy import SyncFHIRClient
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from kapcare.accounts.models import User
from kapcare.measures.models import QuestionnaireResponse
from kapcare.patients.models import Patient
from tests.fhir.test_api import add_phq9, token_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_fhirpy_reads_metadata_pages_observations_and_reads_a_response(
    live_server: LiveServer, settings: Settings, clinic_admin: User, patient_a: Patient,
    patient_b: Patient,
) -> None:  # fmt: skip
    settings.SITE_URL = live_server.url
    add_phq9(patient_a, 23, timezone.now() - timedelta(days=60))
    add_phq9(patient_b, 4, timezone.now() - timedelta(days=60), key="b")
    _, token = token_for(clinic_admin)
    client = SyncFHIRClient(f"{live_server.url}/fhir", authorization=f"Bearer {token}")

    statement = client.execute("metadata", method="get")
    assert statement["resourceType"] == "CapabilityStatement"
    assert "Observation" in {r["type"] for r in statement["rest"][0]["resource"]}

    search = client.resources("Observation").search(patient=str(patient_a.pk)).limit(5)
    first_page = search.fetch()
    assert len(first_page) == 5
    everything = search.fetch_all()
    assert len(everything) == 23
    assert len({o["id"] for o in everything}) == 23
    assert {o["subject"]["reference"] for o in everything} == {
        f"Patient/{patient_a.pk}"
    }

    stored = QuestionnaireResponse.objects.filter(patient=patient_a).first()
    assert stored is not None
    response = client.reference("QuestionnaireResponse", str(stored.pk)).to_resource()
    assert response["subject"]["reference"] == f"Patient/{patient_a.pk}"
    assert response["status"] == "completed"
