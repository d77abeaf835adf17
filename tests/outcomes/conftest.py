"""A hand-built cohort whose right answers are worked out by hand in the tests,
from the cited definitions (../shared/clinical/clinical-rules.md §3, §6, §7).

Period: 2026-01-01 to 2026-06-30. Times are UTC so the day counts are exact.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from kapcare.accounts.models import User
from kapcare.intake.models import ConsultationRequest, EligibilityAssessment
from kapcare.measures.models import QuestionnaireResponse
from kapcare.outcomes.services import CohortFilters
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert
from kapcare.treatment.models import (
    AdverseEvent,
    DosingSession,
    Protocol,
    TreatmentCourse,
    VitalSign,
)
from tests.factories import PatientFactory

IV = "IV racemic ketamine 0.5 mg/kg over 40 min"
ESKETAMINE = "Esketamine nasal spray 56/84 mg (SPRAVATO)"
PERIOD = CohortFilters(starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 30))


def at(month: int, day: int, hour: int = 15, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def score(patient: Patient, instrument: str, total: int, when: datetime,
          status: str = QuestionnaireResponse.Status.COMPLETED) -> None:  # fmt: skip
    QuestionnaireResponse.objects.create(
        patient=patient, instrument=instrument, instrument_version="1", answers=[],
        total=Decimal(total), is_complete=True, source="clinician", authored_at=when,
        status=status, submission_key=uuid.uuid4().hex,
    )  # fmt: skip


@dataclass
class Cohort:
    people: dict[str, Patient]
    courses: dict[str, TreatmentCourse]
    physician: User


def _course(patient: Patient, physician: User, first_dose: datetime | None, *,
            protocol: str = IV, phase: str = "induction", status: str = "active",
            ended_on: date | None = None, indication: str = "depression") -> TreatmentCourse:  # fmt: skip
    return TreatmentCourse.objects.create(
        patient=patient, protocol=Protocol.objects.get(name=protocol),
        indication=indication, phase=phase, status=status, prescriber=physician,
        prescribed_dose=Decimal("0.5"), planned_sessions=6,
        starts_on=(first_dose or at(1, 1)).date(), ended_on=ended_on,
        first_dose_at=first_dose, created_by=physician,
    )  # fmt: skip


def _session(
    course: TreatmentCourse, number: int, when: datetime, by: User
) -> DosingSession:
    return DosingSession.objects.create(
        course=course, patient=course.patient, number=number, opened_by=by,
        opened_at=when, dose_started_at=when, dose_mg=Decimal("35"),
        infusion_minutes=40 if course.protocol.infusion_minutes else None,
    )  # fmt: skip


@pytest.fixture
def hand_built(physician: User, nurse: User) -> Cohort:
    return build_hand_built(physician, nurse)


def build_hand_built(physician: User, nurse: User) -> Cohort:
    def person(sex: str = "female", born: date = date(1980, 5, 1)) -> Patient:
        return PatientFactory.create(sex_at_birth=sex, born_on=born)

    people = {
        "a": person("female", date(1990, 1, 1)),  # 36 at the period's end
        "b": person("male", date(1960, 1, 1)),  # 66
        "c": person("female", date(1985, 7, 1)),  # 40
        "d": person(), "e": person(), "f": person(), "g": person(), "h": person(),
    }  # fmt: skip
    c = {
        "a": _course(people["a"], physician, at(3, 1), status="completed"),
        "b": _course(people["b"], physician, at(3, 1), ended_on=date(2026, 4, 20)),
        "b_maintenance": _course(people["b"], physician, at(5, 1), phase="maintenance"),
        "c": _course(people["c"], physician, at(3, 1)),
        "d": _course(people["d"], physician, at(3, 1)),
        "e": _course(people["e"], physician, at(7, 5)),  # first dose after the period
        "f": _course(people["f"], physician, at(3, 1)),
        "g": _course(people["g"], physician, at(2, 1), protocol=ESKETAMINE),
        "h": _course(people["h"], physician, at(2, 1)),
        "never": _course(person(), physician, None),  # planned, never dosed
    }  # fmt: skip

    # PHQ-9
    score(people["a"], "phq9", 20, at(2, 20))
    score(people["a"], "phq9", 12, at(3, 10))
    score(people["a"], "phq9", 8, at(4, 1))
    score(people["b"], "phq9", 12, at(2, 25))
    score(people["b"], "phq9", 4, at(3, 15))
    score(people["b"], "phq9", 27, at(4, 25))  # after the course ended on 20 April
    score(people["c"], "phq9", 9, at(3, 1, hour=9))  # same day, before the dose
    score(people["c"], "phq9", 16, at(5, 1))
    score(people["d"], "phq9", 15, at(1, 15))  # 45 days before: outside the window
    score(people["d"], "phq9", 5, at(4, 1))
    score(people["e"], "phq9", 20, at(7, 1))
    score(people["e"], "phq9", 5, at(7, 20))
    score(people["f"], "phq9", 10, at(2, 28))
    score(people["f"], "phq9", 2, at(4, 1), status="entered-in-error")
    score(people["f"], "phq9", 3, at(7, 10))  # after the period
    # GAD-7
    score(people["a"], "gad7", 12, at(2, 20))
    score(people["a"], "gad7", 7, at(4, 1))
    # MADRS: the same scores, one esketamine course and one ketamine course
    score(people["g"], "madrs", 30, at(1, 25))
    score(people["g"], "madrs", 12, at(3, 1))
    score(people["h"], "madrs", 30, at(1, 25))
    score(people["h"], "madrs", 12, at(3, 1))

    # Safety: five sessions in the period, one not in the cohort
    a1 = _session(c["a"], 1, at(3, 1), nurse)
    _session(c["a"], 2, at(3, 4), nurse)
    b1 = _session(c["b"], 1, at(3, 1), nurse)
    _session(c["b_maintenance"], 1, at(5, 1), nurse)
    _session(c["c"], 1, at(3, 1), nurse)
    e1 = _session(c["e"], 1, at(7, 5), nurse)
    VitalSign.objects.create(session=a1, taken_at=at(3, 1), systolic=150, diastolic=85, recorded_by=nurse)  # fmt: skip
    VitalSign.objects.create(session=b1, taken_at=at(3, 1), systolic=130, diastolic=80, spo2=97, recorded_by=nurse)  # fmt: skip
    for session, kind, severity in ((a1, "nausea", "mild"), (b1, "nausea", "mild"), (b1, "hypertension", "moderate"), (e1, "nausea", "mild")):  # fmt: skip
        AdverseEvent.objects.create(
            session=session, patient=session.patient, kind=kind, severity=severity,
            occurred_at=session.opened_at, outcome="resolved", reported_by=nurse,
        )  # fmt: skip
    for patient, raised, minutes in ((people["a"], at(3, 2), 30), (people["c"], at(4, 1), 90), (people["e"], at(3, 3), 5), (people["b"], at(3, 20), None)):  # fmt: skip
        SafetyAlert.objects.create(
            patient=patient, level="high", level_rank=0, trigger="manual",
            reason="Test alert", raised_at=raised,
            acknowledged_at=None if minutes is None else raised.replace(minute=minutes % 60, hour=raised.hour + minutes // 60),
            state="open" if minutes is None else "acknowledged",
        )  # fmt: skip

    # Funnel: 3 requests in the period, 1 before; 2 assessments signed, 1 eligible
    for n, when in enumerate(
        (at(1, 10), at(2, 10), at(6, 30, hour=12), at(12, 30, year=2025))
    ):
        ConsultationRequest.objects.create(
            given_name="Syn", family_name=f"Thetic{n}", preferred_contact="email",
            consent_wording="ok", consent_to_contact_at=when,
            submission_key=uuid.uuid4().hex, created_at=when,
        )  # fmt: skip
    for patient, decision in ((people["a"], "eligible"), (people["c"], "not_eligible")):
        EligibilityAssessment.objects.create(
            patient=patient, decision=decision, created_by=physician,
            signed_by=physician, signed_at=at(2, 15),
        )  # fmt: skip
    return Cohort(people=people, courses=c, physician=physician)
