from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.audit.models import AuditEvent
from kapcare.measures.models import QuestionnaireAssignment, QuestionnaireLink
from kapcare.measures.schedules import Repeat, Schedule
from kapcare.measures.services import assign_questionnaire
from kapcare.patients.models import Patient
from kapcare.safety.models import SafetyAlert
from kapcare.treatment import services
from kapcare.treatment.models import (
    AdverseEvent,
    DosingSession,
    KetamineLot,
    Protocol,
    TreatmentCourse,
)
from tests.factories import PASSWORD
from tests.treatment.conftest import (
    CHECKLIST_DONE,
    ESKETAMINE,
    NORMAL_VITALS,
    ready_to_dose,
    receive,
    request_by,
    stop_infusion,
)

pytestmark = pytest.mark.django_db

HIGH_BP = {**NORMAL_VITALS, "systolic": 152, "diastolic": 94}
FULL_ALDRETE = {"activity": 2, "respiration": 2, "circulation": 2,
                "consciousness": 2, "oxygen_saturation": 2}  # fmt: skip


def test_only_a_physician_prescribes(nurse: User, patient_a: Patient) -> None:
    with pytest.raises(services.TreatmentError, match="Only a physician"):
        services.create_course(
            request=request_by(nurse), patient=patient_a,
            protocol=Protocol.objects.get(name=ESKETAMINE), indication="depression",
            phase="induction", prescribed_dose=Decimal("56"), planned_sessions=8,
            starts_on=timezone.localdate(), notes="", by=nurse,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "dose", "message"),
    [
        (ESKETAMINE, "70", "allows 28, 56, 84 mg"),
        (ESKETAMINE, "112", "at most 84"),
        ("IV racemic ketamine 0.5 mg/kg over 40 min", "1.5", "at most 1.000 mg/kg"),
        ("IM racemic ketamine (dose to be set by the clinic)", "0.5", "no maximum"),
    ],
)
def test_a_prescription_outside_the_protocol_is_refused(
    physician: User, patient_a: Patient, name: str, dose: str, message: str
) -> None:
    with pytest.raises(services.TreatmentError, match=message):
        services.create_course(
            request=request_by(physician), patient=patient_a,
            protocol=Protocol.objects.get(name=name), indication="depression",
            phase="induction", prescribed_dose=Decimal(dose), planned_sessions=8,
            starts_on=timezone.localdate(), notes="", by=physician,
        )  # fmt: skip
    assert not TreatmentCourse.objects.exists()


def test_the_seeded_protocols_carry_their_sources() -> None:
    iv = Protocol.objects.get(name="IV racemic ketamine 0.5 mg/kg over 40 min")
    assert (iv.usual_dose, iv.max_dose, iv.infusion_minutes) == (
        Decimal("0.5"), Decimal("1.0"), 40,
    )  # fmt: skip
    assert (iv.systolic_max, iv.diastolic_max, iv.discharge_pass_score) == (140, 90, 9)
    assert "Murrough 2013" in iv.sources and "provisional" in iv.sources
    esk = Protocol.objects.get(name=ESKETAMINE)
    assert esk.allowed_dose_values == (Decimal(28), Decimal(56), Decimal(84))
    assert esk.observation_minutes == 120
    assert esk.checkpoint_minutes == (0, 40)
    assert Protocol.objects.filter(max_dose__isnull=True).count() == 2


def test_a_second_click_opens_no_second_session(
    iv_course: TreatmentCourse, nurse: User
) -> None:
    first = services.start_session(
        request=request_by(nurse), course=iv_course, by=nurse
    )
    again = services.start_session(
        request=request_by(nurse), course=iv_course, by=nurse
    )
    assert first.pk == again.pk
    assert first.number == 1
    iv_course.refresh_from_db()
    assert iv_course.status == "active"


def test_opening_a_session_sends_the_questionnaires_due_before_dosing(
    iv_course: TreatmentCourse, nurse: User, physician: User, patient_a: Patient
) -> None:
    assign_questionnaire(
        request=request_by(physician), patient=patient_a, instrument="phq9",
        schedule=Schedule(Repeat.BEFORE_DOSING, timezone.localdate()),
        channel="email", assigned_by=physician,
    )  # fmt: skip
    services.start_session(request=request_by(nurse), course=iv_course, by=nurse)
    assert (
        QuestionnaireLink.objects.filter(
            patient=patient_a, instrument="phq9", assignment__repeat="before_dosing"
        ).count()
        == 1
    )
    assert QuestionnaireAssignment.objects.count() == 1


def test_a_high_baseline_blood_pressure_holds_the_dose(
    open_session: DosingSession, nurse: User, second_nurse: User, lot: KetamineLot
) -> None:
    session = ready_to_dose(open_session, nurse, second_nurse, vitals=HIGH_BP)
    assert services.dose_blocked_by_blood_pressure(session)
    with pytest.raises(services.TreatmentError, match="blood pressure is above"):
        services.start_dose(
            request=request_by(nurse), session=session, lot=lot, by=nurse
        )
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal("5000.0")


def test_a_nurse_cannot_override_the_hold(
    open_session: DosingSession, nurse: User, second_nurse: User
) -> None:
    session = ready_to_dose(open_session, nurse, second_nurse, vitals=HIGH_BP)
    with pytest.raises(services.TreatmentError, match="Only a physician"):
        services.override_blood_pressure(
            request=request_by(nurse), session=session, reason="ok", by=nurse
        )


def test_a_physicians_override_with_a_reason_lets_the_dose_start(
    open_session: DosingSession, nurse: User, second_nurse: User, physician: User,
    lot: KetamineLot,
) -> None:  # fmt: skip
    session = ready_to_dose(open_session, nurse, second_nurse, vitals=HIGH_BP)
    with pytest.raises(services.TreatmentError, match="reason"):
        services.override_blood_pressure(
            request=request_by(physician), session=session, reason=" ", by=physician
        )
    services.override_blood_pressure(
        request=request_by(physician), session=session,
        reason="White-coat pattern; repeat 138/88 after rest", by=physician,
    )  # fmt: skip
    services.start_dose(request=request_by(nurse), session=session, lot=lot, by=nurse)
    session.refresh_from_db()
    assert session.blood_pressure_override_by == physician
    assert session.dose_started_at is not None
    assert AuditEvent.objects.filter(
        summary="Physician overrode the blood-pressure hold", patient=session.patient
    ).exists()


def test_the_dose_waits_for_checklist_vitals_and_a_witness(
    open_session: DosingSession, nurse: User, lot: KetamineLot
) -> None:
    gaps = services.dose_gaps(open_session)
    assert gaps == [
        "Complete the pre-session checklist.",
        "Record baseline vitals, with the blood pressure.",
        "Calculate the dose.",
    ]
    with pytest.raises(services.TreatmentError, match="checklist"):
        services.start_dose(
            request=request_by(nurse), session=open_session, lot=lot, by=nurse
        )


def test_an_incomplete_checklist_is_saved_but_not_done(
    open_session: DosingSession, nurse: User
) -> None:
    values = {**CHECKLIST_DONE, "escort_name": ""}
    session = services.save_checklist(
        request=request_by(nurse), session=open_session, values=values, by=nurse
    )
    assert session.checklist_done_at is None
    assert services.checklist_gaps(session) == [
        "Record who is taking the patient home."
    ]


@pytest.mark.parametrize(
    ("password", "witness_is_self", "message"),
    [
        ("wrong", False, "did not match"),
        (PASSWORD, True, "second person"),
    ],
)
def test_the_double_check_needs_a_second_person_with_their_password(
    open_session: DosingSession, nurse: User, second_nurse: User, password: str,
    witness_is_self: bool, message: str,
) -> None:  # fmt: skip
    services.calculate_session_dose(
        request=request_by(nurse), session=open_session, weight_kg=Decimal("70"),
        concentration_mg_per_ml=Decimal("50"), bag_volume_ml=Decimal("100"),
        infusion_minutes=40, by=nurse,
    )  # fmt: skip
    with pytest.raises(services.TreatmentError, match=message):
        services.witness_dose(
            request=request_by(nurse), session=open_session,
            witness=nurse if witness_is_self else second_nurse, password=password,
            by=nurse,
        )  # fmt: skip


def test_a_therapist_cannot_witness_a_dose(
    open_session: DosingSession, nurse: User, therapist: User
) -> None:
    with pytest.raises(services.TreatmentError, match="nurse or physician"):
        services.check_witness(
            request=None, witness=therapist, password=PASSWORD, by=nurse
        )


def test_starting_the_dose_draws_it_from_the_register(
    dosed_session: DosingSession,
) -> None:
    lot = dosed_session.dose_lot
    assert lot is not None
    lot.refresh_from_db()
    assert dosed_session.dose_mg == Decimal("35.0")
    assert lot.balance_mg == Decimal("4965.0")
    entry = dosed_session.register_entries.get()
    assert (entry.kind, entry.change_mg, entry.balance_after_mg) == (
        "administered", Decimal("-35.0"), Decimal("4965.0"),
    )  # fmt: skip


def test_the_dose_cannot_be_started_twice(
    dosed_session: DosingSession, nurse: User, lot: KetamineLot
) -> None:
    with pytest.raises(services.TreatmentError, match="already started"):
        services.start_dose(
            request=request_by(nurse), session=dosed_session, lot=lot, by=nurse
        )
    lot.refresh_from_db()
    assert lot.balance_mg == Decimal("4965.0")


def test_a_late_vital_keeps_its_real_time(
    dosed_session: DosingSession, nurse: User
) -> None:
    taken = timezone.now() - timedelta(minutes=20)
    vital = services.record_vitals(
        request=request_by(nurse), session=dosed_session, values=NORMAL_VITALS,
        taken_at=taken, is_baseline=False, by=nurse,
    )  # fmt: skip
    assert vital.taken_at == taken
    assert vital.is_late_entry
    assert AuditEvent.objects.filter(summary__endswith="(entered late)").exists()


def test_vitals_for_a_future_time_are_refused(
    dosed_session: DosingSession, nurse: User
) -> None:
    with pytest.raises(services.TreatmentError, match="future"):
        services.record_vitals(
            request=request_by(nurse), session=dosed_session, values=NORMAL_VITALS,
            taken_at=timezone.now() + timedelta(minutes=30), is_baseline=False,
            by=nurse,
        )  # fmt: skip


def test_a_serious_adverse_event_alerts_and_emails_the_physician(
    dosed_session: DosingSession, nurse: User, physician: User,
    django_capture_on_commit_callbacks: object,
) -> None:  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        event = services.report_adverse_event(
            request=request_by(nurse), session=dosed_session,
            values={
                "kind": "hypertension", "description": "", "severity": "moderate",
                "is_serious": True, "occurred_at": timezone.now(),
                "action_taken": "Labetalol 10 mg IV", "outcome": "resolved",
            },
            by=nurse,
        )  # fmt: skip
    alert = SafetyAlert.objects.get(
        source_type="adverse_event", source_id=str(event.pk)
    )
    assert (alert.level, alert.trigger, alert.state) == (
        "high",
        "adverse_event",
        "open",
    )
    assert alert.patient_id == dosed_session.patient_id
    assert [m.to for m in mail.outbox] == [[physician.email]]
    assert dosed_session.patient.display_name not in mail.outbox[0].body
    assert dosed_session.patient.mrn not in mail.outbox[0].body


def test_a_mild_adverse_event_raises_no_alert(
    dosed_session: DosingSession, nurse: User
) -> None:
    services.report_adverse_event(
        request=request_by(nurse), session=dosed_session,
        values={
            "kind": "nausea", "description": "", "severity": "mild",
            "is_serious": False, "occurred_at": timezone.now(),
            "action_taken": "Ondansetron 4 mg SL", "outcome": "resolved",
        },
        by=nurse,
    )  # fmt: skip
    assert AdverseEvent.objects.count() == 1
    assert not SafetyAlert.objects.exists()


def after(minutes: int) -> "time_machine.travel":
    """Minutes after the dose started (the IV infusion runs 40 min)."""
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=False)


def score(session: DosingSession, nurse: User, **items: int) -> None:
    services.score_discharge(
        request=request_by(nurse), session=session, items={**FULL_ALDRETE, **items},
        escort_present=True, by=nurse,
    )  # fmt: skip


def discharge(session: DosingSession, by: User, reason: str = "") -> None:
    services.discharge_patient(
        request=request_by(by), session=session, override_reason=reason, by=by
    )


def test_readiness_is_scored_only_after_the_infusion(
    dosed_session: DosingSession, nurse: User
) -> None:
    with pytest.raises(services.TreatmentError, match="after the dose"):
        score(dosed_session, nurse)
    with after(41):
        score(dosed_session, nurse)
    dosed_session.refresh_from_db()
    assert dosed_session.aldrete_score == 10


def test_discharge_is_refused_too_early_then_allowed(
    dosed_session: DosingSession, nurse: User
) -> None:
    with after(45):
        score(dosed_session, nurse)
        with pytest.raises(services.TreatmentError, match="Observed for 5 min"):
            discharge(dosed_session, nurse)
    # Infusion of 40 min + 120 min observation.
    with after(161):
        discharge(dosed_session, nurse)
        with pytest.raises(services.TreatmentError, match="already discharged"):
            discharge(dosed_session, nurse)
        with pytest.raises(services.TreatmentError, match="discharged on this score"):
            score(dosed_session, nurse, activity=0)
    dosed_session.refresh_from_db()
    assert dosed_session.discharged_at is not None
    assert dosed_session.discharge_override_by is None


def test_a_low_aldrete_score_holds_discharge(
    dosed_session: DosingSession, nurse: User
) -> None:
    with after(45):
        score(dosed_session, nurse, consciousness=1, activity=1)
    with (
        after(200),
        pytest.raises(services.TreatmentError, match="Aldrete score 8 is below 9"),
    ):
        discharge(dosed_session, nurse)


def test_a_score_from_before_the_dose_ended_never_opens_the_gate(
    dosed_session: DosingSession, nurse: User
) -> None:
    DosingSession.objects.filter(pk=dosed_session.pk).update(
        aldrete=FULL_ALDRETE, aldrete_score=10, aldrete_scored_at=timezone.now(),
        escort_present=True,
    )  # fmt: skip
    dosed_session.refresh_from_db()
    with after(200):
        gate = services.discharge_gate_for(dosed_session)
    assert "Score every item" in gate.reasons[0]


def test_early_discharge_needs_a_physician_and_a_reason(
    dosed_session: DosingSession, nurse: User, physician: User
) -> None:
    with after(45):
        score(dosed_session, nurse)
        with pytest.raises(services.TreatmentError, match="Only a physician"):
            discharge(dosed_session, nurse, "Escort must leave")
        discharge(
            dosed_session,
            physician,
            "Escort must leave; patient alert, vitals at baseline",
        )
    dosed_session.refresh_from_db()
    assert dosed_session.discharge_override_by == physician
    event = AuditEvent.objects.get(
        summary="Discharged the patient early (physician override)"
    )
    assert "Observed for 5 min" in event.detail["reasons_overridden"][0]


def sign_off(session: DosingSession, nurse: User, physician: User) -> None:
    stop_infusion(session, physician)
    services.discharge_patient(
        request=request_by(physician), session=session, override_reason="Test",
        by=physician,
    )  # fmt: skip
    services.complete_session(request=request_by(nurse), session=session, by=nurse)
    services.sign_session(request=request_by(physician), session=session, by=physician)


def test_a_session_is_completed_by_the_nurse_then_cosigned(
    dosed_session: DosingSession, nurse: User, physician: User
) -> None:
    with pytest.raises(services.TreatmentError, match="Discharge the patient"):
        services.complete_session(
            request=request_by(nurse), session=dosed_session, by=nurse
        )
    with pytest.raises(services.TreatmentError, match="nurse must complete"):
        services.sign_session(
            request=request_by(physician), session=dosed_session, by=physician
        )
    sign_off(dosed_session, nurse, physician)
    dosed_session.refresh_from_db()
    assert dosed_session.status == "signed"
    assert (dosed_session.completed_by, dosed_session.signed_by) == (nurse, physician)


def test_a_nurse_cannot_cosign(
    dosed_session: DosingSession, nurse: User, physician: User
) -> None:
    stop_infusion(dosed_session, physician)
    services.discharge_patient(
        request=request_by(physician), session=dosed_session, override_reason="Test",
        by=physician,
    )  # fmt: skip
    services.complete_session(
        request=request_by(nurse), session=dosed_session, by=nurse
    )
    with pytest.raises(services.TreatmentError, match="Only a physician"):
        services.sign_session(
            request=request_by(nurse), session=dosed_session, by=nurse
        )


def test_a_signed_session_is_read_only(
    dosed_session: DosingSession, nurse: User, physician: User
) -> None:
    sign_off(dosed_session, nurse, physician)
    request = request_by(nurse)
    with pytest.raises(services.TreatmentError, match="signed"):
        services.record_vitals(
            request=request, session=dosed_session, values=NORMAL_VITALS,
            taken_at=timezone.now(), is_baseline=False, by=nurse,
        )  # fmt: skip
    with pytest.raises(services.TreatmentError, match="signed"):
        services.add_session_note(
            request=request, session=dosed_session, kind="observation",
            noted_at=timezone.now(), text="late", drug="", dose="", by=nurse,
        )  # fmt: skip
    with pytest.raises(services.TreatmentError, match="signed"):
        services.score_discharge(
            request=request, session=dosed_session, items=FULL_ALDRETE,
            escort_present=True, by=nurse,
        )  # fmt: skip
    assert dosed_session.vitals.count() == 1


def test_corrections_after_sign_off_are_dated_addenda(
    dosed_session: DosingSession, nurse: User, physician: User
) -> None:
    with pytest.raises(services.TreatmentError, match="still open"):
        services.add_session_addendum(
            request=request_by(nurse), session=dosed_session, reason="x", text="y",
            by=nurse,
        )  # fmt: skip
    sign_off(dosed_session, nurse, physician)
    addendum = services.add_session_addendum(
        request=request_by(nurse), session=dosed_session,
        reason="Wrong time on the 14:20 vitals", text="They were taken at 14:10.",
        by=nurse,
    )  # fmt: skip
    assert addendum.author == nurse
    assert addendum.created_at is not None
    assert AuditEvent.objects.filter(
        object_type="session_addendum", patient=dosed_session.patient
    ).exists()


def test_every_session_write_is_audited_against_the_patient(
    dosed_session: DosingSession, nurse: User
) -> None:
    summaries = list(
        AuditEvent.objects.filter(patient=dosed_session.patient, information="clinical")
        .order_by("seq")
        .values_list("summary", flat=True)
    )
    for expected in (
        "Prescribed a course",
        "Opened dosing session 1",
        "Pre-session checklist complete",
        "Recorded baseline vitals",
        "Calculated the dose: 35.0 mg",
        "double-checked the dose",
        "Started the dose: 35.0 mg from lot KET-001",
    ):
        assert any(expected in s for s in summaries), expected


def test_end_of_induction_questionnaires_go_after_the_last_planned_dose(
    physician: User, nurse: User, second_nurse: User, patient_a: Patient,
    lot: KetamineLot,
) -> None:  # fmt: skip
    assign_questionnaire(
        request=request_by(physician), patient=patient_a, instrument="phq9",
        schedule=Schedule(Repeat.END_OF_INDUCTION, timezone.localdate()),
        channel="email", assigned_by=physician,
    )  # fmt: skip
    course = services.create_course(
        request=request_by(physician), patient=patient_a,
        protocol=Protocol.objects.get(name=ESKETAMINE), indication="depression",
        phase="induction", prescribed_dose=Decimal("56"), planned_sessions=1,
        starts_on=timezone.localdate(), notes="", by=physician,
    )  # fmt: skip
    esk_lot = receive(nurse, second_nurse, lot_number="ESK-1", drug="esketamine")
    session = services.start_session(request=request_by(nurse), course=course, by=nurse)
    services.save_checklist(
        request=request_by(nurse), session=session, values=CHECKLIST_DONE, by=nurse
    )
    services.record_vitals(
        request=request_by(nurse), session=session, values=NORMAL_VITALS,
        taken_at=timezone.now(), is_baseline=True, by=nurse,
    )  # fmt: skip
    services.calculate_session_dose(
        request=request_by(nurse), session=session, weight_kg=None,
        concentration_mg_per_ml=None, bag_volume_ml=None, infusion_minutes=None,
        by=nurse,
    )  # fmt: skip
    services.witness_dose(
        request=request_by(nurse), session=session, witness=second_nurse,
        password=PASSWORD, by=nurse,
    )  # fmt: skip
    services.start_dose(
        request=request_by(nurse), session=session, lot=esk_lot, by=nurse
    )
    services.discharge_patient(
        request=request_by(physician), session=session, override_reason="Test",
        by=physician,
    )  # fmt: skip
    assert not QuestionnaireLink.objects.filter(patient=patient_a).exists()
    services.complete_session(request=request_by(nurse), session=session, by=nurse)
    assert (
        QuestionnaireLink.objects.filter(
            patient=patient_a, assignment__repeat="end_of_induction"
        ).count()
        == 1
    )
