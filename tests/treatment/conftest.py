"""Treatment fixtures: the seeded protocols, a course, a lot, a session ready to dose."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.http import HttpRequest
from django.test import RequestFactory
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.accounts.roles import Role
from kapcare.patients.models import Patient
from kapcare.treatment import services
from kapcare.treatment.infusion import PumpAction
from kapcare.treatment.models import (
    DosingSession,
    KetamineLot,
    Protocol,
    TreatmentCourse,
)
from tests.conftest import make_staff
from tests.factories import PASSWORD

IV = "IV racemic ketamine 0.5 mg/kg over 40 min"
ESKETAMINE = "Esketamine nasal spray 56/84 mg (SPRAVATO)"


def request_by(user: User) -> HttpRequest:
    request = RequestFactory().post("/")
    request.user = user
    return request


def stop_infusion(session: DosingSession, by: User) -> None:
    """Stop the pump now: an early discharge needs the infusion stopped first."""
    services.record_pump_action(
        request=None, session=session, action=PumpAction.STOPPED, at=None,
        rate_ml_per_h=None, reason="Stopped for an early discharge", by=by,
    )  # fmt: skip


@pytest.fixture
def second_nurse(db: None) -> User:
    """The witness: a second nurse at the chair."""
    return make_staff(Role.NURSE)


@pytest.fixture
def iv_course(physician: User, patient_a: Patient) -> TreatmentCourse:
    return services.create_course(
        request=request_by(physician), patient=patient_a,
        protocol=Protocol.objects.get(name=IV), indication="depression",
        phase="induction", prescribed_dose=Decimal("0.5"), planned_sessions=6,
        starts_on=timezone.localdate(), notes="", by=physician,
    )  # fmt: skip


def receive(nurse: User, witness: User, *, vials: int = 10, expires_on: date | None = None,
            lot_number: str = "KET-001", drug: str = "ketamine") -> KetamineLot:  # fmt: skip
    return services.receive_stock(
        request=request_by(nurse),
        receipt=services.Receipt(
            drug=drug, product="Ketamine HCl injection",
            strength_mg_per_ml=Decimal("50"), vial_volume_ml=Decimal("10"),
            supplier="Synthetic Pharma Ltd", lot_number=lot_number,
            expires_on=expires_on or timezone.localdate() + timedelta(days=365),
            received_on=timezone.localdate() - timedelta(days=400)
            if expires_on and expires_on < timezone.localdate()
            else timezone.localdate(),
            vials_received=vials,
        ),
        witness=witness, password=PASSWORD, by=nurse,
    )  # fmt: skip


@pytest.fixture
def lot(nurse: User, second_nurse: User) -> KetamineLot:
    """10 vials of 50 mg/mL × 10 mL: 5,000 mg."""
    return receive(nurse, second_nurse)


CHECKLIST_DONE = {
    "identity_confirmed": True,
    "fasting_confirmed": True,
    "no_alcohol_confirmed": True,
    "escort_name": "Sam Escort",
    "escort_phone": "4165550123",
    "pregnancy_status": "not_applicable",
    "has_medication_changes": False,
    "medication_changes": "",
    "predose_questionnaires_done": True,
}
NORMAL_VITALS = {
    "systolic": 122, "diastolic": 78, "heart_rate": 72, "spo2": 98,
    "respiratory_rate": 14, "temperature_c": None, "sedation_score": None,
}  # fmt: skip


def ready_to_dose(
    session: DosingSession,
    nurse: User,
    witness: User,
    *,
    vitals: dict[str, Any] | None = None,
) -> DosingSession:
    request = request_by(nurse)
    services.save_checklist(
        request=request, session=session, values=CHECKLIST_DONE, by=nurse
    )
    services.record_vitals(
        request=request, session=session, values=vitals or NORMAL_VITALS,
        taken_at=timezone.now(), is_baseline=True, by=nurse,
    )  # fmt: skip
    services.calculate_session_dose(
        request=request, session=session, weight_kg=Decimal("70"),
        concentration_mg_per_ml=Decimal("50"), bag_volume_ml=Decimal("100"),
        infusion_minutes=40, by=nurse,
    )  # fmt: skip
    services.witness_dose(
        request=request, session=session, witness=witness, password=PASSWORD, by=nurse
    )
    session.refresh_from_db()
    return session


@pytest.fixture
def open_session(iv_course: TreatmentCourse, nurse: User) -> DosingSession:
    return services.start_session(request=request_by(nurse), course=iv_course, by=nurse)


@pytest.fixture
def dosed_session(
    open_session: DosingSession, nurse: User, second_nurse: User, lot: KetamineLot
) -> DosingSession:
    session = ready_to_dose(open_session, nurse, second_nurse)
    services.start_dose(request=request_by(nurse), session=session, lot=lot, by=nurse)
    session.refresh_from_db()
    return session
