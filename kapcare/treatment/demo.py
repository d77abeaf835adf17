"""Synthetic treatment for the demo clinic: a ketamine register, IV courses with
signed sessions (vitals, CADSS, an adverse event), integration homework, a
mindfulness log, and one session open today. Only when the clinic has no course."""

import random
import uuid
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Subquery
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.patients.demo import DEMO_DOMAIN, DEMO_PASSWORD
from kapcare.patients.models import Patient
from kapcare.treatment import services, therapy
from kapcare.treatment.models import (
    DissociationRating,
    DosingSession,
    IntegrationSession,
    KetamineLot,
    Protocol,
    RegisterEntry,
    SessionNote,
    TreatmentCourse,
    VitalSign,
)

CHECKLIST = {
    "identity_confirmed": True, "fasting_confirmed": True, "no_alcohol_confirmed": True,
    "escort_name": "Family member", "escort_phone": "4165550199",
    "pregnancy_status": "not_applicable", "has_medication_changes": False,
    "medication_changes": "", "predose_questionnaires_done": True,
}  # fmt: skip
THEMES = ["grief", "self-worth", "connection", "fear of relapse", "body awareness"]
HOMEWORK = [
    "Ten minutes of the body scan each morning.",
    "Write a letter to your younger self; bring it next time.",
    "Walk outside daily and notice three things you see, hear and feel.",
    "Call one friend this week.",
]


def _first_dose_from_sessions(course_id: uuid.UUID) -> None:
    """After moving demo sessions back in time, the course's first dose moves too."""
    TreatmentCourse.objects.filter(pk=course_id).update(
        first_dose_at=Subquery(
            DosingSession.objects.filter(
                course_id=course_id, dose_started_at__isnull=False
            )
            .order_by("dose_started_at")
            .values("dose_started_at")[:1]
        )
    )


def _shift(session: DosingSession, days: int) -> None:
    """Move a finished demo session back in time (synthetic data only)."""
    back = timedelta(days=days)
    DosingSession.objects.filter(pk=session.pk).update(
        opened_at=F("opened_at") - back, updated_at=F("updated_at") - back,
        checklist_done_at=F("checklist_done_at") - back,
        dose_calculated_at=F("dose_calculated_at") - back,
        dose_witnessed_at=F("dose_witnessed_at") - back,
        dose_started_at=F("dose_started_at") - back,
        aldrete_scored_at=F("aldrete_scored_at") - back,
        discharged_at=F("discharged_at") - back,
        completed_at=F("completed_at") - back, signed_at=F("signed_at") - back,
    )  # fmt: skip
    VitalSign.objects.filter(session=session).update(
        taken_at=F("taken_at") - back, recorded_at=F("recorded_at") - back
    )
    _first_dose_from_sessions(session.course_id)
    DissociationRating.objects.filter(session=session).update(
        rated_at=F("rated_at") - back
    )
    SessionNote.objects.filter(session=session).update(noted_at=F("noted_at") - back)
    session.adverse_events.update(
        occurred_at=F("occurred_at") - back, reported_at=F("reported_at") - back
    )
    RegisterEntry.objects.filter(session=session).update(
        recorded_at=F("recorded_at") - back
    )
    IntegrationSession.objects.filter(dosing_session=session).update(
        held_on=F("held_on") - back, created_at=F("created_at") - back,
        updated_at=F("updated_at") - back, signed_at=F("signed_at") - back,
    )  # fmt: skip


def _vitals(session: DosingSession, nurse: User, rng: random.Random, *,
            baseline: bool, minutes_ago: int = 0) -> None:  # fmt: skip
    systolic = rng.randint(112, 134) + (0 if baseline else rng.randint(0, 22))
    services.record_vitals(
        request=None, session=session,
        values={"systolic": systolic, "diastolic": rng.randint(68, 84) + (0 if baseline else rng.randint(0, 10)),
                "heart_rate": rng.randint(62, 92), "spo2": rng.randint(95, 99),
                "respiratory_rate": rng.randint(12, 18), "temperature_c": None,
                "sedation_score": None},
        taken_at=timezone.now() - timedelta(minutes=minutes_ago),
        is_baseline=baseline, by=nurse,
    )  # fmt: skip


def _run_session(
    course: TreatmentCourse, staff: dict[str, User], lot: KetamineLot,
    rng: random.Random,
    *, days_ago: int, finish: bool = True, adverse: bool = False,
) -> DosingSession:  # fmt: skip
    nurse, physician, therapist = staff["nurse"], staff["physician"], staff["therapist"]
    session = services.start_session(request=None, course=course, by=nurse)
    services.save_checklist(request=None, session=session, values=CHECKLIST, by=nurse)
    _vitals(session, nurse, rng, baseline=True)
    if not finish:
        return session
    services.calculate_session_dose(
        request=None, session=session, weight_kg=Decimal(rng.randint(58, 96)),
        concentration_mg_per_ml=Decimal("10"), bag_volume_ml=Decimal("100"),
        infusion_minutes=40, by=nurse,
    )  # fmt: skip
    services.witness_dose(
        request=None, session=session, witness=physician, password=DEMO_PASSWORD,
        by=nurse,
    )  # fmt: skip
    services.start_dose(request=None, session=session, lot=lot, by=nurse)
    DosingSession.objects.filter(pk=session.pk).update(
        opened_at=F("opened_at") - timedelta(minutes=200),
        dose_started_at=F("dose_started_at") - timedelta(minutes=170),
    )
    _first_dose_from_sessions(session.course_id)
    session.refresh_from_db()
    for minutes_ago in (150, 130, 110, 60):
        _vitals(session, nurse, rng, baseline=False, minutes_ago=minutes_ago)
    services.rate_dissociation(
        request=None, session=session, total=rng.randint(8, 30),
        rated_at=timezone.now() - timedelta(minutes=130), notes="", by=nurse,
    )  # fmt: skip
    services.add_session_note(
        request=None, session=session, kind="music",
        noted_at=session.dose_started_at or timezone.now(),
        text="Eyeshades and the clinic's playlist", drug="", dose="", by=nurse,
    )  # fmt: skip
    if adverse:
        services.report_adverse_event(
            request=None, session=session,
            values={"kind": "nausea", "description": "", "severity": "mild",
                    "is_serious": False,
                    "occurred_at": timezone.now() - timedelta(minutes=120),
                    "action_taken": "Ondansetron 4 mg ODT", "outcome": "resolved"},
            by=nurse,
        )  # fmt: skip
    services.score_discharge(
        request=None, session=session,
        items={"activity": 2, "respiration": 2, "circulation": 2, "consciousness": 2,
               "oxygen_saturation": 2},
        escort_present=True, by=nurse,
    )  # fmt: skip
    services.discharge_patient(
        request=None, session=session, override_reason="", by=nurse
    )
    services.complete_session(request=None, session=session, by=nurse)
    services.sign_session(request=None, session=session, by=physician)
    integration = therapy.start_integration_session(
        request=None, dosing_session=session,
        values={"held_on": timezone.localdate(), "intentions": "To stay curious",
                "insights": "Noticed warmth towards myself",
                "themes": ", ".join(rng.sample(THEMES, 2)), "goals": "Keep practising",
                "homework": rng.choice(HOMEWORK)},
        psychotherapy_note="Synthetic demo note.", by=therapist,
    )  # fmt: skip
    therapy.update_integration_session(
        request=None, session=integration,
        values={k: getattr(integration, k) for k in therapy.FIELDS},
        psychotherapy_note=integration.psychotherapy_note, sign=True, by=therapist,
    )  # fmt: skip
    _shift(session, days_ago)
    return session


def seed_demo_treatment(seed: int = 6) -> int:
    """Returns the number of dosing sessions created; 0 when courses exist already."""
    if TreatmentCourse.objects.exists():
        return 0
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    staff = {
        slug: User.objects.get(email=f"{slug}@{DEMO_DOMAIN}")
        for slug in ("nurse", "physician", "therapist")
    }
    portal = Patient.objects.filter(user__email=f"patient@{DEMO_DOMAIN}").first()
    others = list(
        Patient.objects.filter(status=Patient.Status.ACTIVE)
        .exclude(user__email=f"patient@{DEMO_DOMAIN}")
        .order_by("mrn")[:2]
    )
    patients = ([portal] if portal else []) + others
    iv = Protocol.objects.get(seed_key="iv-racemic-0.5")
    today = timezone.localdate()
    created = 0
    with transaction.atomic():
        lot = services.receive_stock(
            request=None,
            receipt=services.Receipt(
                drug="ketamine", product="Ketamine HCl injection (synthetic demo)",
                strength_mg_per_ml=Decimal("10"), vial_volume_ml=Decimal("10"),
                supplier="Demo Pharma Distribution", lot_number="DEMO-K-001",
                expires_on=today + timedelta(days=400),
                received_on=today - timedelta(days=30), vials_received=100,
            ),
            witness=staff["physician"], password=DEMO_PASSWORD, by=staff["nurse"],
        )  # fmt: skip
        # Synthetic history: the delivery came a month ago, before the first dose.
        RegisterEntry.objects.filter(lot=lot, kind=RegisterEntry.Kind.RECEIPT).update(
            recorded_at=timezone.now() - timedelta(days=30)
        )
        for index, patient in enumerate(patients):
            course = services.create_course(
                request=None, patient=patient, protocol=iv, indication="depression",
                phase="induction", prescribed_dose=Decimal("0.5"), planned_sessions=6,
                starts_on=today - timedelta(days=12), notes="Synthetic demo course.",
                by=staff["physician"],
            )  # fmt: skip
            for n, days_ago in enumerate((12, 9, 7)):
                _run_session(
                    course, staff, lot, rng, days_ago=days_ago,
                    adverse=index == 0 and n == 1,
                )  # fmt: skip
                created += 1
            if index == 1:
                _run_session(course, staff, lot, rng, days_ago=0, finish=False)
                created += 1
        if portal is not None:
            for days_ago in range(21):
                if days_ago % 4 == 3:
                    continue
                therapy.log_mindfulness(
                    request=None, patient=portal,
                    submission_key=f"demo-mindful-{days_ago}",
                    values={"practised_on": today - timedelta(days=days_ago),
                            "minutes": rng.choice([10, 15, 20, 25]),
                            "practice": rng.choice(["breathing", "body_scan", "walking"]),
                            "mood_before": rng.randint(3, 6),
                            "mood_after": rng.randint(5, 8), "note": ""},
                )  # fmt: skip
    return created
