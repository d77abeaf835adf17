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
from django.utils import timezone
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


# Routes: SNOMED CT route codes (FHIR R4 value set route-codes,
# http://hl7.org/fhir/R4/valueset-route-codes.html).
SNOMED = "http://snomed.info/sct"
ROUTES = {
    "iv": ("47625008", "Intravenous route"),
    "im": ("78421000", "Intramuscular route"),
    "sublingual": ("37839007", "Sublingual route"),
    "nasal": ("46713006", "Nasal route"),
}
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
SESSION_STATUS = {
    "in_progress": "in-progress",
    "completed": "finished",
    "signed": "finished",
}
APPOINTMENT_STATUS = {
    "booked": "booked", "checked_in": "arrived", "completed": "fulfilled",
    "cancelled": "cancelled", "no_show": "noshow",
}  # fmt: skip


def _encounter(
    ident: object,
    status: str,
    kind: str,
    patient_id: object,
    practitioner_id: object,
    start: object,
    end: object | None,
) -> dict[str, Any]:
    from fhir.resources.R4B.encounter import Encounter

    data: dict[str, Any] = {
        "resourceType": "Encounter", "id": str(ident), "status": status,
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "type": [{"text": kind}],
        "subject": {"reference": f"Patient/{patient_id}"},
        "participant": [{"individual": {"reference": f"Practitioner/{practitioner_id}"}}],
        "period": {"start": start, "end": end} if end else {"start": start},
    }  # fmt: skip
    return Encounter.model_validate(data).model_dump(
        mode="json", exclude_none=True, by_alias=True
    )


def dosing_encounter(session: "DosingSession") -> dict[str, Any]:
    return _encounter(
        session.pk, SESSION_STATUS.get(session.status, "unknown"),
        f"Ketamine dosing session {session.number}", session.patient_id,
        session.opened_by_id, session.opened_at.isoformat(),
        session.completed_at.isoformat() if session.completed_at else None,
    )  # fmt: skip


def integration_encounter(meeting: Any) -> dict[str, Any]:
    return _encounter(
        meeting.pk, "finished", "Integration psychotherapy session", meeting.patient_id,
        meeting.therapist_id, meeting.held_on.isoformat(), None,
    )  # fmt: skip


def medication_administration(session: "DosingSession") -> dict[str, Any]:
    """The dose given in a session. The drug is named in text: we hold no cited
    RxNorm code for racemic ketamine or esketamine."""
    from fhir.resources.R4B.medicationadministration import (
        MedicationAdministration,
        MedicationAdministrationDosage,
        MedicationAdministrationPerformer,
    )
    from fhir.resources.R4B.period import Period

    protocol = session.course.protocol
    code, display = ROUTES[protocol.route]
    performers = [
        MedicationAdministrationPerformer(
            actor=Reference(reference=f"Practitioner/{user_id}")
        )
        for user_id in (session.dose_calculated_by_id, session.dose_witness_id)
        if user_id
    ]
    given = (
        session.dose_given_mg if session.dose_given_mg is not None else session.dose_mg
    )
    status = "in-progress" if session.status == "in_progress" else "completed"
    if session.dose_given_mg is not None:
        status = "stopped"  # the infusion was stopped early; `dose` is what was given
    elif (
        session.status == "in_progress"
        and session.infusion
        and session.infusion.is_paused
    ):
        status = "on-hold"
    ends = session.dose_ends_at
    dosage = MedicationAdministrationDosage(
        route=CodeableConcept(coding=[Coding(system=SNOMED, code=code, display=display)]),
        dose=_quantity(given, "mg") if given is not None else None,
        rateQuantity=(
            Quantity(value=Decimal(str(session.pump_rate_ml_per_h)), unit="mL/h",
                     system=UCUM, code="mL/h")
            if session.pump_rate_ml_per_h is not None else None
        ),
    )  # fmt: skip
    return MedicationAdministration(
        id=str(session.pk),
        status=status,
        medicationCodeableConcept=CodeableConcept(text=protocol.get_drug_display()),
        subject=Reference(reference=f"Patient/{session.patient_id}"),
        context=Reference(reference=f"Encounter/{session.pk}"),
        effectivePeriod=Period(
            start=session.dose_started_at,
            end=ends if ends is not None and ends <= timezone.now() else None,
        ),
        performer=performers or None,
        dosage=dosage,
    ).model_dump(mode="json", exclude_none=True)


def flag(alert: Any) -> dict[str, Any]:
    from fhir.resources.R4B.flag import Flag
    from fhir.resources.R4B.period import Period

    return Flag(
        id=str(alert.pk),
        status="inactive" if alert.state == "resolved" else "active",
        category=[
            CodeableConcept(
                coding=[
                    Coding(system=FLAG_CATEGORY, code="clinical", display="Clinical")
                ]
            )
        ],
        code=CodeableConcept(
            text=f"{alert.get_level_display()} safety alert "
            f"({alert.get_trigger_display().lower()}): {alert.reason}"
        ),
        subject=Reference(reference=f"Patient/{alert.patient_id}"),
        period=Period(start=alert.raised_at, end=alert.resolved_at),
    ).model_dump(mode="json", exclude_none=True)


def appointment(item: Any) -> dict[str, Any]:
    from fhir.resources.R4B.appointment import Appointment, AppointmentParticipant

    participants = [
        AppointmentParticipant(
            actor=Reference(reference=f"Patient/{item.patient_id}"), status="accepted"
        ),
        AppointmentParticipant(
            actor=Reference(reference=f"Practitioner/{item.clinician_id}"),
            status="accepted",
        ),
    ]
    if item.resource_id:
        participants.append(
            AppointmentParticipant(
                actor=Reference(display=item.resource.name), status="accepted"
            )
        )
    return Appointment(
        id=str(item.pk),
        status=APPOINTMENT_STATUS.get(item.status, "booked"),
        cancelationReason=CodeableConcept(text=item.cancel_reason)
        if item.cancel_reason
        else None,
        serviceType=[CodeableConcept(text=item.appointment_type.name)],
        start=item.starts_at,
        end=item.ends_at,
        minutesDuration=int(item.duration.total_seconds() // 60),
        created=item.created_at,
        participant=participants,
    ).model_dump(mode="json", exclude_none=True)


def consent(signature: Any) -> dict[str, Any]:
    from fhir.resources.R4B.consent import Consent, ConsentPolicy

    return Consent(
        id=str(signature.pk),
        status="active",
        scope=CodeableConcept(
            coding=[Coding(system=CONSENT_SCOPE, code="treatment", display="Treatment")]
        ),
        category=[CodeableConcept(coding=[Coding(system=LOINC, code="59284-0")])],
        patient=Reference(reference=f"Patient/{signature.patient_id}"),
        dateTime=signature.signed_at,
        policy=[
            ConsentPolicy(
                uri=f"{settings.SITE_URL}/fhir/sid/consent-document/{signature.document.version}"
            )
        ],
    ).model_dump(mode="json", exclude_none=True)
