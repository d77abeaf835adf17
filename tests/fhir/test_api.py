"""The FHIR R4 API: CapabilityStatement, read and search with keyset paging,
bearer tokens and the patient compartment (an IDOR sweep), OperationOutcome for
every error, every resource validated by fhir.resources, audit, flat queries."""

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse as FhirQR
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.fhir.auth import register_client, revoke_client
from kapcare.fhir.mapping import ONTARIO_HCN, mrn_system
from kapcare.fhir.models import ApiClient
from kapcare.intake.models import ConsentDocument, ConsentSignature
from kapcare.measures.models import QuestionnaireResponse
from kapcare.measures.services import submit_questionnaire_response
from kapcare.patients.models import Patient
from kapcare.scheduling.models import Appointment, AppointmentType
from kapcare.treatment import services as treatment
from kapcare.treatment.models import (
    DosingSession,
    IntegrationSession,
    Protocol,
    VitalSign,
)
from tests.conftest import ClientFor
from tests.treatment.conftest import IV, request_by

pytestmark = pytest.mark.django_db
MODELS: dict[str, Any] = {
    "Patient": FhirPatient, "Practitioner": Practitioner, "Questionnaire": Questionnaire,
    "QuestionnaireResponse": FhirQR, "Observation": Observation, "Encounter": Encounter,
    "MedicationAdministration": MedicationAdministration, "Flag": Flag,
    "Appointment": FhirAppointment, "Consent": Consent,
}  # fmt: skip
PATIENT_TYPES = [
    "Patient", "QuestionnaireResponse", "Observation", "Encounter",
    "MedicationAdministration", "Flag", "Appointment", "Consent",
]  # fmt: skip


def token_for(admin: User, *, patient: Patient | None = None) -> tuple[ApiClient, str]:
    return register_client(
        request=request_by(admin), name="Registry" if patient is None else "My app",
        kind="patient" if patient else "system", patient=patient,
        may_submit_responses=False, by=admin,
    )  # fmt: skip


def api(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def session_for(patient: Patient, physician: User) -> DosingSession:
    course = treatment.create_course(
        request=request_by(physician), patient=patient,
        protocol=Protocol.objects.get(name=IV), indication="depression",
        phase="induction", prescribed_dose=Decimal("0.5"), planned_sessions=6,
        starts_on=timezone.localdate(), notes="", by=physician,
    )  # fmt: skip
    session = treatment.start_session(request=None, course=course, by=physician)
    DosingSession.objects.filter(pk=session.pk).update(weight_kg=Decimal("72.5"))
    return session


def add_vitals(
    session: DosingSession, nurse: User, count: int, start: datetime
) -> None:
    VitalSign.objects.bulk_create(
        VitalSign(
            session=session,
            taken_at=start + timedelta(minutes=10 * n),
            systolic=120 + n % 10,
            diastolic=80,
            heart_rate=70,
            spo2=98,
            recorded_by=nurse,
        )
        for n in range(count)
    )


def add_phq9(patient: Patient, count: int, start: datetime, key: str = "") -> None:
    for n in range(count):
        submit_questionnaire_response(
            request=None, patient=patient, instrument="phq9", answers=[1] * 8 + [0],
            source="paper", submission_key=f"fhir-{key}{patient.pk}-{n}",
            authored_at=start + timedelta(days=n),
        )  # fmt: skip


@pytest.fixture
def records(
    physician: User,
    nurse: User,
    therapist: User,
    patient_a: Patient,
    patient_b: Patient,
) -> dict[str, Any]:
    """Every kind of record the API serves, for two patients."""
    start = timezone.now() - timedelta(days=30)
    document = ConsentDocument.objects.create(
        version=1, title="Consent", body="Text", created_by=physician
    )
    for patient in (patient_a, patient_b):
        add_phq9(patient, 3, start)
        session = session_for(patient, physician)
        add_vitals(session, nurse, 4, start)
        DosingSession.objects.filter(pk=session.pk).update(
            dose_started_at=start, dose_mg=Decimal("36.3"),
            pump_rate_ml_per_h=Decimal("150"), dose_calculated_by=nurse,
        )  # fmt: skip
        IntegrationSession.objects.create(
            patient=patient, dosing_session=session, therapist=therapist,
            held_on=start.date() + timedelta(days=1), homework="Walk",
        )  # fmt: skip
        submit_questionnaire_response(
            request=None, patient=patient, instrument="phq9", answers=[1] * 9,
            source="paper", submission_key=f"fhir-item9-{patient.pk}",
            authored_at=start + timedelta(days=5),
        )  # fmt: skip
        Appointment.objects.create(
            patient=patient,
            appointment_type=AppointmentType.objects.get(seed_key="integration"),
            clinician=therapist, starts_at=start + timedelta(days=40),
            ends_at=start + timedelta(days=40, hours=1), created_by=therapist,
        )  # fmt: skip
        ConsentSignature.objects.create(
            patient=patient, document=document, method="portal",
            typed_name="Name", signed_at=start,
        )  # fmt: skip
    return {"start": start}


def entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"
    ]


def follow(client: Client, url: str) -> Iterator[dict[str, Any]]:
    """Every page of a search, following next links."""
    while url:
        response = client.get(url.removeprefix("http://127.0.0.1:8000"))
        assert response.status_code == 200, response.content
        bundle = response.json()
        Bundle.model_validate(bundle)
        yield bundle
        url = next(
            (link["url"] for link in bundle["link"] if link["relation"] == "next"), ""
        )


def test_the_capability_statement_says_what_is_implemented(client: Client) -> None:
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    CapabilityStatement.model_validate(response.json())
    statement = response.json()
    assert statement["format"] == ["application/fhir+json"]
    served = {r["type"] for r in statement["rest"][0]["resource"]}
    assert served == set(MODELS)
    observation = next(
        r for r in statement["rest"][0]["resource"] if r["type"] == "Observation"
    )
    assert {p["name"] for p in observation["searchParam"]} >= {
        "patient",
        "code",
        "date",
        "category",
    }


def test_every_resource_validates_on_real_records(
    clinic_admin: User, records: dict[str, Any]
) -> None:
    _, token = token_for(clinic_admin)
    client = api(token)
    for kind, model in MODELS.items():
        resources = [
            r for b in follow(client, f"/fhir/{kind}?_count=5") for r in entries(b)
        ]
        assert resources, kind
        for resource in resources:
            model.model_validate(resource)
            read = client.get(f"/fhir/{kind}/{resource['id']}")
            assert read.status_code == 200, (kind, resource["id"])
            assert read.json() == resource
    vitals = [
        r
        for b in follow(client, "/fhir/Observation?category=vital-signs")
        for r in entries(b)
    ]
    codes = {r["code"]["coding"][0]["code"] for r in vitals}
    assert codes == {"85354-9", "8867-4", "2708-6", "29463-7"}
    weight = next(r for r in vitals if r["code"]["coding"][0]["code"] == "29463-7")
    assert weight["valueQuantity"] == {
        "value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg",
    }  # fmt: skip


def test_paging_is_complete_and_stable_under_inserts(
    clinic_admin: User, physician: User, nurse: User, patient_a: Patient
) -> None:
    start = timezone.now() - timedelta(days=60)
    add_phq9(patient_a, 12, start)
    add_vitals(session_for(patient_a, physician), nurse, 20, start + timedelta(hours=1))
    _, token = token_for(clinic_admin)
    client = api(token)
    url = f"/fhir/Observation?patient={patient_a.pk}&_count=7"
    first = client.get(url).json()
    seen = [r["id"] for r in entries(first)]
    add_phq9(patient_a, 1, timezone.now(), key="late")  # newer than every page
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    for bundle in follow(client, next_url):
        seen += [r["id"] for r in entries(bundle)]
    expected = (
        12 + 20 * 3 + 1
    )  # a total per PHQ-9; BP, heart rate, SpO2 per vital; weight
    assert len(seen) == len(set(seen)) == expected
    dates = [
        r["effectiveDateTime"]
        for b in follow(
            client, f"/fhir/Observation?patient={patient_a.pk}&_sort=date&_count=50"
        )
        for r in entries(b)
    ]
    assert dates == sorted(dates) and len(dates) == expected + 1


def test_search_parameters(
    clinic_admin: User, records: dict[str, Any], patient_a: Patient
) -> None:
    _, token = token_for(clinic_admin)
    client = api(token)

    def ids(url: str) -> list[str]:
        return [r["id"] for b in follow(client, url) for r in entries(b)]

    assert ids(f"/fhir/Patient?identifier={mrn_system()}|{patient_a.mrn}") == [
        str(patient_a.pk)
    ]
    assert ids(f"/fhir/Patient?identifier={ONTARIO_HCN}|{patient_a.health_number}") == [
        str(patient_a.pk)
    ]
    assert ids(f"/fhir/Patient?identifier={ONTARIO_HCN}|{patient_a.mrn}") == []
    born = patient_a.born_on
    assert str(patient_a.pk) in ids(f"/fhir/Patient?birthdate={born.isoformat()}")
    assert str(patient_a.pk) not in ids(f"/fhir/Patient?birthdate=gt{born.isoformat()}")
    assert ids(f"/fhir/Patient?family={patient_a.legal_family_name[:3]}&_count=50")
    totals = ids(
        f"/fhir/Observation?patient={patient_a.pk}&code=http://loinc.org|44261-6"
    )
    assert len(totals) == 4 and all(t.endswith("-0") for t in totals)
    assert (
        ids(f"/fhir/Observation?patient={patient_a.pk}&category=survey&date=lt2000")
        == []
    )
    since = (records["start"] + timedelta(days=1, hours=12)).date().isoformat()
    assert (
        len(
            ids(
                f"/fhir/QuestionnaireResponse?patient={patient_a.pk}&authored=ge{since}"
            )
        )
        == 2  # days 2 and 5
    )
    phq = ids(
        "/fhir/QuestionnaireResponse?questionnaire=https://kapcare.org/fhir/Questionnaire/phq9"
    )
    assert len(phq) == 8
    assert ids("/fhir/Questionnaire?code=http://loinc.org|44249-1") == ["phq9"]


@pytest.mark.parametrize(
    ("path", "status", "code", "words"),
    [
        ("/fhir/Patient?colour=blue", 400, "not-supported", "Unknown search parameter"),
        ("/fhir/Patient?name:exact=x", 400, "not-supported", "name:exact"),
        ("/fhir/Observation?date=2026-02-30", 400, "invalid", "not a real date"),
        ("/fhir/Observation?date=yesterday", 400, "invalid", "not a FHIR date"),
        ("/fhir/Observation?_count=0", 400, "invalid", "_count"),
        ("/fhir/Observation?_count=abc", 400, "invalid", "_count"),
        ("/fhir/Observation?_cursor=forged.abc", 400, "invalid", "paging link"),
        ("/fhir/Observation?_sort=-colour", 400, "not-supported", "_sort"),
        ("/fhir/Observation?patient=not-a-uuid", 400, "invalid", "Patient id"),
        ("/fhir/Spaceship", 404, "not-supported", "not a resource type"),
        ("/fhir/Patient/00000000-0000-0000-0000-000000000000", 404, "not-found", "not known"),
        ("/fhir/Observation/s-nothing", 404, "not-found", "not known"),
        ("/fhir/Patient?_format=xml", 406, "not-supported", "JSON only"),
    ],
)  # fmt: skip
def test_errors_are_operation_outcomes(
    clinic_admin: User, path: str, status: int, code: str, words: str
) -> None:
    _, token = token_for(clinic_admin)
    response = api(token).get(path)
    assert response.status_code == status
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].code == code
    assert words in (outcome.issue[0].diagnostics or "")


def test_lenient_handling_reports_what_it_ignored(
    clinic_admin: User, patient_a: Patient
) -> None:
    _, token = token_for(clinic_admin)
    response = api(token).get(
        "/fhir/Patient?colour=blue&_count=1", HTTP_PREFER="handling=lenient"
    )
    assert response.status_code == 200
    bundle = response.json()
    warning = next(e for e in bundle["entry"] if e["search"]["mode"] == "outcome")
    assert "colour" in warning["resource"]["issue"][0]["diagnostics"]
    assert "colour" not in bundle["link"][0]["url"]


def test_tokens_are_required_checked_and_revocable(
    client: Client, clinic_admin: User
) -> None:
    missing = client.get("/fhir/Patient")
    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith(
        "Bearer"
    )
    assert api("kc_guess").get("/fhir/Patient").status_code == 401
    registered, token = token_for(clinic_admin)
    assert api(token).get("/fhir/Patient").status_code == 200
    assert ApiClient.objects.get().token_hash != token  # only the hash is kept
    revoke_client(request=request_by(clinic_admin), client=registered)
    assert api(token).get("/fhir/Patient").status_code == 401
    assert client.post("/fhir/metadata").status_code == 405


def test_a_patients_app_sees_only_that_patient(
    clinic_admin: User, records: dict[str, Any], patient_a: Patient, patient_b: Patient
) -> None:
    """The IDOR sweep: every resource of patient B, read and searched with
    patient A's token, is not found; A's own records are all there."""
    _, system = token_for(clinic_admin)
    _, own = token_for(clinic_admin, patient=patient_a)
    everything = api(system)
    mine = api(own)
    for kind in ("Patient", "QuestionnaireResponse", "Observation"):
        for bundle in follow(everything, f"/fhir/{kind}?_count=100"):
            for resource in entries(bundle):
                owner = (
                    resource["id"]
                    if kind == "Patient"
                    else resource["subject"]["reference"].split("/")[1]
                )
                answer = mine.get(f"/fhir/{kind}/{resource['id']}")
                if owner == str(patient_a.pk):
                    assert answer.status_code == 200, (kind, resource["id"])
                else:
                    assert answer.status_code == 404, (kind, resource["id"])
        searched = [
            r
            for b in follow(
                mine,
                f"/fhir/{kind}?patient={patient_b.pk}"
                if kind != "Patient"
                else f"/fhir/{kind}?_id={patient_b.pk}",
            )
            for r in entries(b)
        ]
        assert searched == [], kind
        own_rows = [r for b in follow(mine, f"/fhir/{kind}") for r in entries(b)]
        assert own_rows, kind
    assert mine.get("/fhir/Practitioner").status_code == 403
    assert mine.get("/fhir/Questionnaire/phq9").status_code == 200


def owner_of(kind: str, resource: dict[str, Any]) -> str:
    if kind == "Patient":
        return str(resource["id"])
    if kind == "Appointment":
        reference = resource["participant"][0]["actor"]["reference"]
    elif kind == "Consent":
        reference = resource["patient"]["reference"]
    else:
        reference = resource["subject"]["reference"]
    return str(reference).split("/")[1]


def test_every_read_is_audited_under_the_client(
    clinic_admin: User, records: dict[str, Any], patient_a: Patient
) -> None:
    _, token = token_for(clinic_admin)
    client = api(token)
    client.get(f"/fhir/Patient/{patient_a.pk}")
    event = AuditEvent.objects.filter(patient=patient_a, object_type="fhir").get()
    assert event.action == AuditEvent.Action.VIEW
    assert event.actor_label == "FHIR client: Registry"
    client.get("/fhir/QuestionnaireResponse?_count=100")
    searched = AuditEvent.objects.filter(
        object_type="fhir", action=AuditEvent.Action.SEARCH
    )
    assert searched.count() == 2  # one per patient shown


def test_search_queries_do_not_grow_with_the_records(
    clinic_admin: User, physician: User, nurse: User, patient_a: Patient
) -> None:
    _, token = token_for(clinic_admin)
    client = api(token)
    session = session_for(patient_a, physician)
    start = timezone.now() - timedelta(days=90)

    def count() -> int:
        client.get(f"/fhir/Observation?patient={patient_a.pk}&_count=20")  # warm
        with CaptureQueriesContext(connection) as queries:
            assert (
                client.get(
                    f"/fhir/Observation?patient={patient_a.pk}&_count=20"
                ).status_code
                == 200
            )
        return len(queries)

    add_vitals(session, nurse, 5, start)
    add_phq9(patient_a, 5, start)
    few = count()
    add_vitals(session, nurse, 100, start + timedelta(days=1))
    add_phq9(patient_a, 40, start + timedelta(days=2), key="more")
    assert count() == few


def test_clinic_admins_register_and_revoke_clients(
    client_for: ClientFor, clinic_admin: User, physician: User, patient_a: Patient
) -> None:
    admin = client_for(clinic_admin)
    url = reverse("fhir:client_list")
    page = admin.post(
        url, {"name": "Noor's app", "kind": "patient", "mrn": patient_a.mrn.lower()}
    )
    body = page.content.decode()
    assert "shown once" in body
    token = body.split('<code class="secret">')[1].split("</code>")[0]
    assert token.startswith("kc_")
    assert api(token).get(f"/fhir/Patient/{patient_a.pk}").status_code == 200
    assert token not in admin.get(url).content.decode()
    missing = admin.post(url, {"name": "Bad", "kind": "patient", "mrn": ""})
    assert "Give the MRN" in missing.content.decode()
    registered = ApiClient.objects.get()
    admin.post(reverse("fhir:client_revoke", args=[registered.pk]))
    assert api(token).get(f"/fhir/Patient/{patient_a.pk}").status_code == 401
    assert client_for(physician).get(url).status_code == 403
    assert AuditEvent.objects.filter(object_type="api_client").count() == 2


def test_treatment_resources_carry_their_codes(
    clinic_admin: User, records: dict[str, Any], patient_a: Patient
) -> None:
    _, token = token_for(clinic_admin)
    client = api(token)

    def found(url: str) -> list[dict[str, Any]]:
        return [r for b in follow(client, url) for r in entries(b)]

    [dose] = found(f"/fhir/MedicationAdministration?patient={patient_a.pk}")
    assert dose["dosage"]["route"]["coding"][0] == {
        "system": "http://snomed.info/sct", "code": "47625008",
        "display": "Intravenous route",
    }  # fmt: skip
    assert dose["dosage"]["dose"] == {
        "value": 36.3, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"
    }  # fmt: skip
    assert dose["dosage"]["rateQuantity"]["code"] == "mL/h"
    assert dose["context"]["reference"] == f"Encounter/{dose['id']}"
    visits = found(f"/fhir/Encounter?patient={patient_a.pk}")
    assert sorted(v["type"][0]["text"] for v in visits) == [
        "Integration psychotherapy session", "Ketamine dosing session 1",
    ]  # fmt: skip
    assert all(v["class"]["code"] == "AMB" for v in visits)
    [alert] = found(f"/fhir/Flag?patient={patient_a.pk}&status=active")
    assert "safety alert" in alert["code"]["text"]
    assert found(f"/fhir/Flag?patient={patient_a.pk}&status=inactive") == []
    [visit] = found(f"/fhir/Appointment?patient={patient_a.pk}&status=booked")
    assert visit["serviceType"][0]["text"] == "Integration session"
    assert found(f"/fhir/Appointment?patient={patient_a.pk}&status=cancelled") == []
    [consent] = found(f"/fhir/Consent?patient={patient_a.pk}")
    assert consent["scope"]["coding"][0]["code"] == "treatment"


def test_everything_about_one_patient(
    clinic_admin: User, records: dict[str, Any], patient_a: Patient, patient_b: Patient
) -> None:
    _, token = token_for(clinic_admin)
    response = api(token).get(f"/fhir/Patient/{patient_a.pk}/$everything")
    assert response.status_code == 200
    bundle = response.json()
    Bundle.model_validate(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds[0] == "Patient" and set(kinds) == set(PATIENT_TYPES)
    assert bundle["total"] == len(kinds)
    for entry in bundle["entry"][1:]:
        resource = entry["resource"]
        assert owner_of(resource["resourceType"], resource) == str(patient_a.pk)
    assert AuditEvent.objects.filter(
        patient=patient_a, object_type="fhir", action=AuditEvent.Action.EXPORT
    ).exists()
    _, own = token_for(clinic_admin, patient=patient_a)
    assert api(own).get(f"/fhir/Patient/{patient_b.pk}/$everything").status_code == 404
    assert api(own).get(f"/fhir/Patient/{patient_a.pk}/$everything").status_code == 200


def _all_ids(client: Client, url: str) -> list[str]:
    return [r["id"] for b in follow(client, url) for r in entries(b)]


@pytest.mark.parametrize("sort", ["date", "-date"])
def test_paging_through_rows_that_share_a_timestamp(
    clinic_admin: User, physician: User, nurse: User, patient_a: Patient,
    patient_b: Patient, sort: str,
) -> None:  # fmt: skip
    same = timezone.now().replace(microsecond=0) - timedelta(days=3)
    for patient in (patient_a, patient_b):
        session = session_for(patient, physician)
        DosingSession.objects.filter(pk=session.pk).update(opened_at=same)
        VitalSign.objects.bulk_create(
            VitalSign(session=session, taken_at=same, systolic=120, diastolic=80,
                      heart_rate=60 + n, spo2=97, recorded_by=nurse)
            for n in range(12)
        )  # fmt: skip
    add_phq9(patient_a, 1, same)
    _, token = token_for(clinic_admin)
    seen = _all_ids(api(token), f"/fhir/Observation?_sort={sort}&_count=3")
    expected = 2 * (12 * 3 + 1) + 1  # BP, HR, SpO2 per vital; a weight each; a total
    assert len(seen) == len(set(seen)) == expected


def test_filters_never_starve_a_page(
    clinic_admin: User, physician: User, nurse: User, patient_a: Patient
) -> None:
    session = session_for(patient_a, physician)
    start = timezone.now() - timedelta(days=2)
    VitalSign.objects.create(
        session=session, taken_at=start - timedelta(hours=5),
        temperature_c=Decimal("36.8"), recorded_by=nurse,
    )  # fmt: skip
    VitalSign.objects.bulk_create(
        VitalSign(session=session, taken_at=start + timedelta(minutes=n),
                  systolic=118, diastolic=76, recorded_by=nurse)
        for n in range(10)
    )  # fmt: skip
    _, token = token_for(clinic_admin)
    client = api(token)
    temperatures = _all_ids(
        client, "/fhir/Observation?code=http://loinc.org|8310-5&_count=5"
    )
    assert len(temperatures) == 1 and temperatures[0].endswith("-temp")
    oldest = VitalSign.objects.order_by("taken_at").first()
    assert oldest is not None
    assert _all_ids(client, f"/fhir/Observation?_id=v-{oldest.pk}-temp&_count=1") == [
        f"v-{oldest.pk}-temp"
    ]
    either = _all_ids(client, "/fhir/Observation?code=8310-5,29463-7")
    assert len(either) == 2  # the temperature or the weight
    both = _all_ids(client, "/fhir/Observation?code=8310-5&code=29463-7")
    assert both == []  # repeated parameters must all hold
    assert _all_ids(client, "/fhir/Observation?code=|8310-5") == []  # "no system"
    assert (
        _all_ids(client, "/fhir/Observation?category=http://example.org|survey") == []
    )


def test_a_score_entered_in_error_is_gone(
    clinic_admin: User, records: dict[str, Any], patient_a: Patient
) -> None:
    response = QuestionnaireResponse.objects.filter(patient=patient_a).first()
    assert response is not None
    QuestionnaireResponse.objects.filter(pk=response.pk).update(
        status="entered-in-error"
    )
    _, token = token_for(clinic_admin)
    assert api(token).get(f"/fhir/Observation/s-{response.pk.hex}-0").status_code == 404


def test_dates_are_ranges_at_the_precision_given(
    clinic_admin: User, physician: User, patient_a: Patient
) -> None:
    session = session_for(patient_a, physician)
    when = timezone.localtime().replace(second=41, microsecond=500000) - timedelta(
        days=1
    )
    DosingSession.objects.filter(pk=session.pk).update(opened_at=when)
    _, token = token_for(clinic_admin)
    client = api(token)
    minute = when.strftime("%Y-%m-%dT%H:%M")
    assert _all_ids(client, f"/fhir/Observation?date={minute}") == [
        f"w-{session.pk.hex}"
    ]
    second = when.strftime("%Y-%m-%dT%H:%M:%S")
    assert _all_ids(client, f"/fhir/Observation?date=gt{second}.4") == [
        f"w-{session.pk.hex}"
    ]
    assert _all_ids(client, f"/fhir/Observation?date=gt{second}.6") == []


@pytest.mark.parametrize(
    "path",
    [
        "/fhir/Observation?_cursor=abc.%C3%A9",
        "/fhir/Observation?_count=%C2%B2",
        "/fhir/Observation?_count=" + "9" * 5000,
        "/fhir/Observation?date=0001-01-01T00:00:00%2B05:00",
        "/fhir/Observation?date=9999-12-31T23:00:00",
        "/fhir/Patient?name=a%00b",
        "/fhir/Practitioner?name=%00",
        "/fhir/Patient?identifier=%7C",
    ],
)
def test_malformed_input_is_a_400(clinic_admin: User, path: str) -> None:
    _, token = token_for(clinic_admin)
    response = api(token).get(path)
    assert response.status_code == 400, response.content
    OperationOutcome.model_validate(response.json())


def test_cursors_and_odd_addresses(clinic_admin: User, records: dict[str, Any]) -> None:
    _, token = token_for(clinic_admin)
    client = api(token)
    first = client.get("/fhir/Patient?_count=1").json()
    following = next(
        link["url"] for link in first["link"] if link["relation"] == "next"
    )
    replayed = client.get("/fhir/Observation?" + following.split("?", 1)[1])
    assert replayed.status_code == 400
    assert "belongs to a Patient search" in replayed.json()["issue"][0]["diagnostics"]
    for odd in (
        "/fhir/Patient/",
        "/fhir/metadata/",
        "/fhir/a/b/c",
        "/fhir/Observation/v-%C2%B2-hr",
    ):
        response = client.get(odd)
        assert response.status_code == 404, odd
        OperationOutcome.model_validate(response.json())


def _phq9_resource(patient: Patient, answers: Sequence[int | None]) -> dict[str, Any]:
    from kapcare.measures import fhir_shape

    resource = fhir_shape.questionnaire_response(
        "phq9", answers, patient_reference=f"Patient/{patient.pk}",
        authored=timezone.now() - timedelta(minutes=3),
    )  # fmt: skip
    return dict(resource.model_dump(mode="json", exclude_none=True))


def _writer(admin: User, patient: Patient | None = None) -> str:
    _, token = register_client(
        request=request_by(admin), name="Mood app", kind="patient" if patient else "system",
        patient=patient, may_submit_responses=True, by=admin,
    )  # fmt: skip
    return token


def post(token: str, body: object) -> Any:
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return api(token).post(
        "/fhir/QuestionnaireResponse", data=data, content_type="application/fhir+json"
    )


def test_a_response_posted_by_an_app_is_scored_stored_and_raises_the_alert(
    clinic_admin: User, patient_a: Patient
) -> None:
    from kapcare.safety.models import SafetyAlert

    token = _writer(clinic_admin, patient_a)
    body = {
        **_phq9_resource(patient_a, [2, 2, 1, 1, 0, 1, 1, 0, 1]),
        "identifier": {"system": "urn:mood-app", "value": "response-1"},
    }
    created = post(token, body)
    assert created.status_code == 201, created.content
    stored = QuestionnaireResponse.objects.get(patient=patient_a)
    assert created["Location"].endswith(f"/fhir/QuestionnaireResponse/{stored.pk}")
    assert (stored.source, float(stored.total or 0), stored.answers) == (
        "api", 9.0, [2, 2, 1, 1, 0, 1, 1, 0, 1, None],  # item 10 (difficulty) unanswered
    )  # fmt: skip
    FhirQR.model_validate(created.json())
    alert = SafetyAlert.objects.get(patient=patient_a)
    assert alert.state == SafetyAlert.State.OPEN and alert.source_id == str(stored.pk)
    again = post(token, body)
    assert again.status_code == 200
    assert (
        QuestionnaireResponse.objects.count() == 1 and SafetyAlert.objects.count() == 1
    )
    assert AuditEvent.objects.filter(
        patient=patient_a, object_type="fhir", action=AuditEvent.Action.CREATE
    ).exists()
    observations = _all_ids(api(token), f"/fhir/Observation?patient={patient_a.pk}")
    assert observations == [f"s-{stored.pk.hex}-0"]


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        (lambda b: "{not json", 400, "not JSON"),
        (lambda b: {**b, "resourceType": "Patient"}, 400, "Send a QuestionnaireResponse"),
        (lambda b: {**b, "authored": "yesterday"}, 422, "Not a valid QuestionnaireResponse"),
        (lambda b: {**b, "status": "done"}, 422, "Only completed"),
        (lambda b: {**b, "status": "in-progress"}, 422, "Only completed"),
        (lambda b: {**b, "questionnaire": "http://example.org/Q/x"}, 422, "not one this clinic scores"),
        (lambda b: {**b, "subject": {"reference": "Group/1"}}, 422, "subject must reference"),
        (lambda b: {**b, "subject": {"reference": f"Patient/{uuid.uuid4()}"}}, 403, "own patient"),
        (lambda b: {**b, "authored": "2999-01-01T00:00:00Z"}, 422, "in the future"),
        (
            lambda b: {**b, "item": [{"linkId": "/44250-9", "answer": [{"valueCoding": {"system": "http://loinc.org", "code": "LA-bogus"}}]}]},
            422, "/44250-9",
        ),
        (lambda b: {**b, "item": [{"linkId": "/nope", "answer": [{"valueInteger": 1}]}]}, 422, "not an item of PHQ-9"),
    ],
)  # fmt: skip
def test_a_bad_posted_response_is_refused_and_nothing_is_stored(
    clinic_admin: User, patient_a: Patient, change: Any, status: int, words: str
) -> None:
    token = _writer(clinic_admin, patient_a)
    response = post(token, change(_phq9_resource(patient_a, [0] * 9)))
    assert response.status_code == status, response.content
    assert words in response.json()["issue"][0]["diagnostics"]
    assert not QuestionnaireResponse.objects.exists()


def test_posting_needs_the_write_scope_and_fits_in_a_megabyte(
    clinic_admin: User, patient_a: Patient
) -> None:
    _, reader = token_for(clinic_admin, patient=patient_a)
    body = _phq9_resource(patient_a, [0] * 9)
    assert post(reader, body).status_code == 403
    writer = _writer(clinic_admin)
    huge = {
        **body,
        "text": {"status": "generated", "div": "<div>" + "x" * 1_100_000 + "</div>"},
    }
    assert post(writer, huge).status_code == 413
    assert post(writer, body).status_code == 201  # a system client, any patient


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["linkId", "answer", "valueCoding", "valueInteger", "code", "system", "item"]),
        inner, max_size=3,
    ),
    max_leaves=8,
)  # fmt: skip


TOP_LEVEL = st.dictionaries(
    st.sampled_from(["status", "subject", "authored", "questionnaire", "resourceType",
                     "id", "meta", "identifier", "author", "text"]),
    JSONISH, max_size=3,
)  # fmt: skip


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(items=JSONISH, top=TOP_LEVEL, value=st.text(max_size=30))
def test_arbitrary_input_never_fails_the_server_or_stores_half_a_record(
    clinic_admin: User, patient_a: Patient, items: object, top: dict[str, object],
    value: str, record_property: Callable[[str, object], None],
) -> None:  # fmt: skip
    """Whatever the body: 201 with one whole response (every item, scored if
    complete, its audit event) or a refusal that stores nothing; searches never
    fail."""
    token = _writer(clinic_admin, patient_a)
    before = set(QuestionnaireResponse.objects.values_list("pk", flat=True))
    body = {**_phq9_resource(patient_a, [0] * 9), "item": items, **top}
    answer = post(token, body)
    assert answer.status_code in {201, 200, 400, 422}
    new = QuestionnaireResponse.objects.exclude(pk__in=before)
    if answer.status_code == 201:
        (stored,) = new  # in progress (partly answered) or complete and scored
        assert len(stored.answers) >= 9
        assert stored.is_complete == (stored.total is not None)
        assert AuditEvent.objects.filter(
            object_id=str(stored.pk), action="create"
        ).exists()
    else:  # refused, or (200) the same submission again: nothing new either way
        assert not new.exists()
    for name in ("date", "code", "patient", "_count", "category", "_cursor"):
        response = api(token).get("/fhir/Observation", {name: value})
        assert response.status_code in {200, 400}, (name, value)
    assert api(token).get(f"/fhir/Observation/{value}").status_code in {200, 404}
    record_property("security: fuzzed FHIR requests", 8)


def test_no_answer_can_hide_from_scoring(
    clinic_admin: User, patient_a: Patient
) -> None:
    from kapcare.safety.models import SafetyAlert

    token = _writer(clinic_admin, patient_a)
    body = {**_phq9_resource(patient_a, [0] * 8 + [None]), "status": "completed"}
    item9 = {
        "linkId": "/44260-8",
        "answer": [{"valueCoding": {"system": "http://loinc.org", "code": "LA6570-1"}}],
    }
    twice = {
        **body,
        "item": [
            *body["item"],
            item9,
            {
                **item9,
                "answer": [
                    {"valueCoding": {"system": "http://loinc.org", "code": "LA6568-5"}}
                ],
            },
        ],
    }
    refused = post(token, twice)
    assert refused.status_code == 422 and "answered twice" in refused.content.decode()
    nested = {**body}
    nested["item"] = [dict(i) for i in body["item"]]
    nested["item"][-1] = {
        **nested["item"][-1],
        "answer": [{**nested["item"][-1]["answer"][0], "item": [item9]}],
    }
    assert post(token, nested).status_code == 201
    stored = QuestionnaireResponse.objects.get()
    assert stored.answers[8] == 2  # LA6570-1, more than half the days
    assert SafetyAlert.objects.get(patient=patient_a).level == "high"


def test_only_an_identifier_makes_a_repeat(
    clinic_admin: User, patient_a: Patient
) -> None:
    from kapcare.safety.models import SafetyAlert

    token = _writer(clinic_admin, patient_a)
    body = {
        k: v
        for k, v in _phq9_resource(patient_a, [0] * 8 + [1]).items()
        if k != "authored"
    }
    assert post(token, body).status_code == 201
    assert post(token, {**body, "id": "same"}).status_code == 201  # a new response
    assert SafetyAlert.objects.filter(patient=patient_a).count() >= 1
    assert QuestionnaireResponse.objects.count() == 2
    tagged = {**body, "identifier": {"system": "urn:app", "value": "r-1"}}
    assert post(token, tagged).status_code == 201
    assert post(token, tagged).status_code == 200
    assert QuestionnaireResponse.objects.count() == 3
    for authored in ("0001-01-01T00:00:00+14:00", "1850-01-01T00:00:00Z"):
        assert post(token, {**body, "authored": authored}).status_code == 422
