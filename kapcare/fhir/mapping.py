"""Kapcare records as FHIR R4 resources (built with fhir.resources R4B, which
validates on construction).

Codes and systems:
- Ontario health card number: the Canada Health Infoway NamingSystem
  https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn (the system
  Ontario EMRs such as OSCAR send to provincial services). The version code is
  not sent: we found no published system for it.
- The clinic's own MRN: `{SITE_URL}/fhir/sid/mrn`.
- Vital signs: the LOINC codes and UCUM units of the FHIR R4 Vital Signs profile
  (http://hl7.org/fhir/R4/observation-vitalsigns.html): blood pressure panel
  85354-9 with systolic 8480-6 and diastolic 8462-4 (mm[Hg]), heart rate 8867-4
  (/min), respiratory rate 9279-1 (/min), oxygen saturation 2708-6 (%), body
  temperature 8310-5 (Cel), body weight 29463-7 (kg), category vital-signs.
- Questionnaire scores: kapcare.measures.fhir_shape (LOINC, category survey).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.contactpoint import ContactPoint
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.meta import Meta
from fhir.resources.R4B.observation import Observation, ObservationComponent
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference

from kapcare.accounts.models import User
from kapcare.measures import fhir_shape
from kapcare.measures.models import QuestionnaireResponse
from kapcare.measures.scoring import Score
from kapcare.patients.models import Patient
from kapcare.treatment.models import DosingSession, VitalSign

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ONTARIO_HCN = "https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
VITALS_PROFILE = "http://hl7.org/fhir/StructureDefinition/vitalsigns"


def mrn_system() -> str:
    return f"{settings.SITE_URL}/fhir/sid/mrn"


GENDER = {"female": "female", "male": "male", "intersex": "other", "unknown": "unknown"}


def patient_resource(patient: Patient) -> FhirPatient:
    identifiers = [Identifier(use="usual", system=mrn_system(), value=patient.mrn)]
    if patient.health_number:
        identifiers.append(
            Identifier(use="official", system=ONTARIO_HCN, value=patient.health_number)
        )
    names = [
        HumanName(
            use="official", family=patient.legal_family_name,
            given=[patient.legal_given_name],
        )
    ]  # fmt: skip
    if patient.preferred_name:
        names.append(HumanName(use="usual", given=[patient.preferred_name]))
    telecom = [
        ContactPoint(
            system=kind, value=value, use="home" if kind == "email" else "mobile"
        )
        for kind, value in (("phone", patient.phone), ("email", patient.email))
        if value
    ]
    return FhirPatient(
        id=str(patient.pk),
        meta=Meta(lastUpdated=patient.updated_at),
        identifier=identifiers,
        active=patient.status != Patient.Status.DISCHARGED,
        name=names,
        telecom=telecom or None,
        gender=GENDER.get(patient.sex_at_birth, "unknown"),
        birthDate=patient.born_on,
    )


def practitioner_resource(user: User) -> Practitioner:
    return Practitioner(
        id=str(user.pk),
        active=user.is_active,
        name=[HumanName(text=user.full_name)],
        qualification=None,
    )


def questionnaire_response_resource(response: QuestionnaireResponse) -> dict[str, Any]:
    resource = fhir_shape.questionnaire_response(
        response.instrument, response.answers,
        patient_reference=f"Patient/{response.patient_id}",
        authored=response.authored_at, response_id=str(response.pk),
    )  # fmt: skip
    resource.meta = Meta(lastUpdated=response.created_at)
    return resource.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True)
class VitalKind:
    key: str
    loinc: str
    display: str
    unit: str
    field: str


VITALS = {
    "hr": VitalKind("hr", "8867-4", "Heart rate", "/min", "heart_rate"),
    "rr": VitalKind("rr", "9279-1", "Respiratory rate", "/min", "respiratory_rate"),
    "spo2": VitalKind("spo2", "2708-6", "Oxygen saturation in Arterial blood", "%", "spo2"),
    "temp": VitalKind("temp", "8310-5", "Body temperature", "Cel", "temperature_c"),
}  # fmt: skip
BP = ("bp", "85354-9", "Blood pressure panel with all children optional")
WEIGHT = ("29463-7", "Body weight")


def _concept(code: str, display: str) -> CodeableConcept:
    return CodeableConcept(
        coding=[Coding(system=LOINC, code=code, display=display)], text=display
    )


def _quantity(value: object, unit: str) -> Quantity:
    return Quantity(value=Decimal(str(value)), unit=unit, system=UCUM, code=unit)


def _vital(
    ident: str, patient_id: object, when: datetime, code: CodeableConcept, **values: Any
) -> Observation:
    return Observation(
        id=ident,
        meta=Meta(profile=[VITALS_PROFILE]),
        status="final",
        category=[
            CodeableConcept(
                coding=[
                    Coding(system=CATEGORY, code="vital-signs", display="Vital Signs")
                ]
            )
        ],
        code=code,
        subject=Reference(reference=f"Patient/{patient_id}"),
        effectiveDateTime=when,
        **values,
    )


def vital_observations(vital: VitalSign, patient_id: object) -> Iterator[Observation]:
    """One Observation per measured sign (blood pressure as a panel)."""
    if vital.systolic is not None and vital.diastolic is not None:
        yield _vital(
            f"v-{vital.pk}-bp", patient_id, vital.taken_at, _concept(BP[1], BP[2]),
            component=[
                ObservationComponent(
                    code=_concept("8480-6", "Systolic blood pressure"),
                    valueQuantity=_quantity(vital.systolic, "mm[Hg]"),
                ),
                ObservationComponent(
                    code=_concept("8462-4", "Diastolic blood pressure"),
                    valueQuantity=_quantity(vital.diastolic, "mm[Hg]"),
                ),
            ],
        )  # fmt: skip
    for kind in VITALS.values():
        value = getattr(vital, kind.field)
        if value is not None:
            yield _vital(
                f"v-{vital.pk}-{kind.key}", patient_id, vital.taken_at,
                _concept(kind.loinc, kind.display),
                valueQuantity=_quantity(value, kind.unit),
            )  # fmt: skip


def weight_observation(session: DosingSession) -> Observation:
    return _vital(
        f"w-{session.pk.hex}", session.patient_id, session.opened_at,
        _concept(*WEIGHT), valueQuantity=_quantity(session.weight_kg, "kg"),
    )  # fmt: skip


def score_observations(response: QuestionnaireResponse) -> list[Observation]:
    """The total, subscales and risk level of a response as stored when it was
    scored (never recomputed), ids `s-<response>-<n>`."""
    total = None if response.total is None else float(response.total)
    result = Score(
        instrument=response.instrument,
        total=int(total) if total is not None and total.is_integer() else total,
        band=response.band or None, subscales=dict(response.subscales),
        flags=tuple(response.flags), risk=response.risk or None,  # type: ignore[arg-type]
        complete=response.is_complete,
    )  # fmt: skip
    observations = fhir_shape.score_observations(
        response.instrument, result,
        patient_reference=f"Patient/{response.patient_id}",
        effective=response.authored_at,
        response_reference=f"QuestionnaireResponse/{response.pk}",
    )  # fmt: skip
    for n, observation in enumerate(observations):
        observation.id = f"s-{response.pk.hex}-{n}"
    return observations
