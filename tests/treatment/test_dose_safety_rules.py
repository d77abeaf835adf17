"""The rules that keep a wrong dose from being given or hidden."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.safety.models import SafetyAlert
from kapcare.treatment import services
from kapcare.treatment.forms import ProtocolForm
from kapcare.treatment.models import (
    AdverseEvent,
    DosingSession,
    KetamineLot,
    Protocol,
    TreatmentCourse,
)
from tests.conftest import ClientFor
from tests.factories import PASSWORD
from tests.treatment.conftest import (
    CHECKLIST_DONE,
    NORMAL_VITALS,
    ready_to_dose,
    receive,
    request_by,
    stop_infusion,
)

pytestmark = pytest.mark.django_db
HIGH_BP = {**NORMAL_VITALS, "systolic": 150, "diastolic": 95}


def test_a_lot_of_another_strength_than_calculated_is_refused(
    open_session: DosingSession, nurse: User, second_nurse: User
) -> None:
    session = ready_to_dose(open_session, nurse, second_nurse)  # 50 mg/mL
    strong = services.receive_stock(
        request=None,
        receipt=services.Receipt(
            drug="ketamine", product="Ketamine HCl", strength_mg_per_ml=Decimal("100"),
            vial_volume_ml=Decimal("5"), supplier="S", lot_number="STRONG",
            expires_on=timezone.localdate() + timedelta(days=90),
            received_on=timezone.localdate(), vials_received=2,
        ),
        witness=second_nurse, password=PASSWORD, by=nurse,
    )  # fmt: skip
    with pytest.raises(services.TreatmentError, match=r"is 100\.00 mg/mL but the dose"):
        services.start_dose(request=None, session=session, lot=strong, by=nurse)
    strong.refresh_from_db()
    assert strong.balance_mg == Decimal("1000.0")


def test_a_stopped_course_gives_no_dose(
    open_session: DosingSession, nurse: User, second_nurse: User, physician: User,
    lot: KetamineLot,
) -> None:  # fmt: skip
    session = ready_to_dose(open_session, nurse, second_nurse)
    services.change_course_status(
        request=None, course=session.course, status="stopped", by=physician
    )
    with pytest.raises(services.TreatmentError, match="course has ended"):
        services.start_dose(request=None, session=session, lot=lot, by=nurse)


def test_the_infusion_time_is_the_protocols(
    open_session: DosingSession, nurse: User
) -> None:
    with pytest.raises(services.TreatmentError, match="infuses over 40 min"):
        services.calculate_session_dose(
            request=None, session=open_session, weight_kg=Decimal("70"),
            concentration_mg_per_ml=Decimal("50"), bag_volume_ml=Decimal("100"),
            infusion_minutes=4, by=nurse,
        )  # fmt: skip


def test_a_baseline_without_blood_pressure_does_not_lift_the_hold(
    open_session: DosingSession, nurse: User, second_nurse: User
) -> None:
    session = ready_to_dose(open_session, nurse, second_nurse, vitals=HIGH_BP)
    services.record_vitals(
        request=None, session=session,
        values={**NORMAL_VITALS, "systolic": None, "diastolic": None},
        taken_at=timezone.now(), is_baseline=True, by=nurse,
    )  # fmt: skip
    assert services.dose_blocked_by_blood_pressure(session)


def test_a_new_high_baseline_needs_a_new_override(
    open_session: DosingSession, nurse: User, second_nurse: User, physician: User
) -> None:
    session = ready_to_dose(open_session, nurse, second_nurse, vitals=HIGH_BP)
    services.override_blood_pressure(
        request=None, session=session, reason="Repeat after rest", by=physician
    )
    session.refresh_from_db()
    assert not services.dose_blocked_by_blood_pressure(session)
    services.record_vitals(
        request=None, session=session, values={**HIGH_BP, "systolic": 170},
        taken_at=timezone.now(), is_baseline=True, by=nurse,
    )  # fmt: skip
    session.refresh_from_db()
    assert session.blood_pressure_override_at is None
    assert services.dose_blocked_by_blood_pressure(session)


def test_no_override_without_a_hold(
    open_session: DosingSession, nurse: User, second_nurse: User, physician: User
) -> None:
    session = ready_to_dose(open_session, nurse, second_nurse)
    with pytest.raises(services.TreatmentError, match="no blood-pressure hold"):
        services.override_blood_pressure(
            request=None, session=session, reason="x", by=physician
        )


def test_a_pregnant_patient_is_not_dosed(
    open_session: DosingSession, nurse: User, second_nurse: User, lot: KetamineLot
) -> None:
    session = ready_to_dose(open_session, nurse, second_nurse)
    services.save_checklist(
        request=None, session=session,
        values={**CHECKLIST_DONE, "pregnancy_status": "pregnant"}, by=nurse,
    )  # fmt: skip
    with pytest.raises(services.TreatmentError, match="dose is not given"):
        services.start_dose(request=None, session=session, lot=lot, by=nurse)


def _event(session: DosingSession, nurse: User, **values: object) -> AdverseEvent:
    return services.report_adverse_event(
        request=None, session=session,
        values={"kind": "agitation", "description": "", "severity": "moderate",
                "is_serious": False, "occurred_at": timezone.now(),
                "action_taken": "", "outcome": "resolved", **values},
        by=nurse,
    )  # fmt: skip


def test_an_event_found_after_sign_off_still_alerts(
    dosed_session: DosingSession, nurse: User, physician: User
) -> None:
    stop_infusion(dosed_session, physician)
    services.discharge_patient(
        request=None, session=dosed_session, override_reason="t", by=physician
    )
    services.complete_session(request=None, session=dosed_session, by=nurse)
    services.sign_session(request=None, session=dosed_session, by=physician)
    event = _event(dosed_session, nurse, is_serious=True)
    assert SafetyAlert.objects.filter(source_id=str(event.pk), level="high").exists()


def test_a_transfer_to_emergency_alerts_even_unticked(
    dosed_session: DosingSession, nurse: User
) -> None:
    event = _event(dosed_session, nurse, outcome="transferred")
    assert SafetyAlert.objects.filter(source_id=str(event.pk)).exists()


def test_a_moderate_resolved_event_does_not_alert(
    dosed_session: DosingSession, nurse: User
) -> None:
    _event(dosed_session, nurse)
    assert not SafetyAlert.objects.exists()


def test_the_clinician_who_completed_cannot_co_sign(
    dosed_session: DosingSession, physician: User
) -> None:
    stop_infusion(dosed_session, physician)
    services.discharge_patient(
        request=None, session=dosed_session, override_reason="t", by=physician
    )
    services.complete_session(request=None, session=dosed_session, by=physician)
    with pytest.raises(services.TreatmentError, match="second clinician co-signs"):
        services.sign_session(request=None, session=dosed_session, by=physician)


def test_no_wastage_against_a_signed_session(
    dosed_session: DosingSession, nurse: User, second_nurse: User, physician: User,
    lot: KetamineLot,
) -> None:  # fmt: skip
    stop_infusion(dosed_session, physician)
    services.discharge_patient(
        request=None, session=dosed_session, override_reason="t", by=physician
    )
    services.complete_session(request=None, session=dosed_session, by=nurse)
    services.sign_session(request=None, session=dosed_session, by=physician)
    with pytest.raises(services.TreatmentError, match="signed"):
        services.record_waste(
            request=None, lot=lot, amount_mg=Decimal("1"), session=dosed_session,
            reason="late", witness=second_nurse, password=PASSWORD, by=nurse,
        )  # fmt: skip


def test_a_count_is_recorded_on_its_day(
    lot: KetamineLot, nurse: User, second_nurse: User
) -> None:
    with pytest.raises(services.TreatmentError, match="on the day"):
        services.record_stock_count(
            request=None, lot=lot, counted_mg=Decimal("5000"),
            counted_on=timezone.localdate() - timedelta(days=3), explanation="",
            witness=second_nurse, password=PASSWORD, by=nurse,
        )  # fmt: skip


def test_a_wrong_witness_password_is_audited(
    open_session: DosingSession, nurse: User, second_nurse: User
) -> None:
    services.calculate_session_dose(
        request=None, session=open_session, weight_kg=Decimal("70"),
        concentration_mg_per_ml=Decimal("50"), bag_volume_ml=Decimal("100"),
        infusion_minutes=40, by=nurse,
    )  # fmt: skip
    with pytest.raises(services.TreatmentError, match="did not match"):
        services.witness_dose(
            request=request_by(nurse), session=open_session, witness=second_nurse,
            password="guess", by=nurse,
        )  # fmt: skip
    assert AuditEvent.objects.filter(
        action="login_failed",
        object_id=str(second_nurse.pk),
        summary="Wrong password when witnessing",
    ).exists()


def test_a_used_protocol_keeps_its_drug_route_and_dose_basis(
    iv_course: TreatmentCourse,
) -> None:
    protocol = Protocol.objects.get(pk=iv_course.protocol_id)
    data = {
        name: getattr(protocol, name)
        for name in ProtocolForm.Meta.fields
        if getattr(protocol, name) is not None
    }
    form = ProtocolForm({**data, "dose_basis": "fixed"}, instance=protocol)
    assert not form.is_valid()
    assert "make a new protocol" in form.errors["dose_basis"][0]
    form = ProtocolForm({**data, "vitals_checkpoints": "0, 40.5"}, instance=protocol)
    assert "Whole minutes" in form.errors["vitals_checkpoints"][0]


def test_the_monthly_report_shows_lots_that_did_not_move(
    client_for: ClientFor, nurse: User, second_nurse: User
) -> None:
    with time_machine.travel(timezone.now() - timedelta(days=62)):
        receive(nurse, second_nurse, lot_number="QUIET")
    response = client_for(nurse).get(
        reverse("treatment:register_report"),
        {"month": timezone.localdate().strftime("%Y-%m")},
    )
    body = response.content.decode()
    assert "Lot QUIET" in body
    assert "Opening balance 5000.0 mg · closing balance 5000.0 mg" in body
    assert "No movement this month." in body


def test_the_page_judges_the_baseline_as_the_service_does(
    client_for: ClientFor, open_session: DosingSession, nurse: User,
    second_nurse: User,
) -> None:  # fmt: skip
    session = ready_to_dose(open_session, nurse, second_nurse, vitals=HIGH_BP)
    services.record_vitals(
        request=None, session=session,
        values={**NORMAL_VITALS, "systolic": None, "diastolic": None},
        taken_at=timezone.now(), is_baseline=True, by=nurse,
    )  # fmt: skip
    body = client_for(nurse).get(session.get_absolute_url()).content.decode()
    assert "Dose on hold" in body
    assert "Start the dose" not in body
