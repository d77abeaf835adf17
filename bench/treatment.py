"""Issue 6's targets: the dosing-session page with 50 vitals, recording vitals by
htmx, the chart timeline and a month of the ketamine register."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.patients.demo import DEMO_DOMAIN, DEMO_PASSWORD
from kapcare.patients.models import Patient
from kapcare.treatment import services
from kapcare.treatment.models import (
    DosingSession,
    KetamineLot,
    Protocol,
    RegisterEntry,
    VitalSign,
)

VITALS = 50
REGISTER_LINES = 1_000


def _staff(slug: str) -> User:
    return User.objects.get(email=f"{slug}@{DEMO_DOMAIN}")


def seed_treatment(patient: Patient) -> tuple[DosingSession, DosingSession]:
    """Two open sessions for `patient`: one with 50 vitals (to read), one to record
    into; and a lot with 1,000 register lines this month."""
    nurse, physician = _staff("nurse"), _staff("physician")
    course = services.create_course(
        request=None, patient=patient,
        protocol=Protocol.objects.get(seed_key="iv-racemic-0.5"),
        indication="depression", phase="induction", prescribed_dose=Decimal("0.5"),
        planned_sessions=6, starts_on=timezone.localdate(), notes="", by=physician,
    )  # fmt: skip
    lot = services.receive_stock(
        request=None,
        receipt=services.Receipt(
            drug="ketamine", product="Ketamine HCl (bench)",
            strength_mg_per_ml=Decimal("10"), vial_volume_ml=Decimal("10"),
            supplier="Bench", lot_number="BENCH-1",
            expires_on=timezone.localdate() + timedelta(days=365),
            received_on=timezone.localdate(), vials_received=5_000,
        ),
        witness=physician, password=DEMO_PASSWORD, by=nurse,
    )  # fmt: skip
    read = services.start_session(request=None, course=course, by=nurse)
    start = timezone.now() - timedelta(minutes=VITALS)
    VitalSign.objects.bulk_create(
        VitalSign(
            session=read,
            taken_at=start + timedelta(minutes=i),
            is_baseline=i == 0,
            recorded_by=nurse,
            systolic=118 + i % 35,
            diastolic=76 + i % 18,
            heart_rate=70 + i % 20,
            spo2=95 + i % 5,
            respiratory_rate=14,
        )
        for i in range(VITALS)
    )
    balance = lot.balance_mg
    lines = []
    for n in range(REGISTER_LINES):
        balance -= Decimal("2.5")
        lines.append(
            RegisterEntry(
                lot=lot,
                kind="wasted",
                change_mg=Decimal("-2.5"),
                balance_after_mg=balance,
                reason=f"bench {n}",
                recorded_by=nurse,
                witness=physician,
                recorded_at=timezone.now() - timedelta(minutes=REGISTER_LINES - n),
            )
        )
    RegisterEntry.objects.bulk_create(lines, batch_size=500)
    KetamineLot.objects.filter(pk=lot.pk).update(balance_mg=balance)
    second = services.create_course(
        request=None, patient=patient, protocol=course.protocol,
        indication="depression", phase="maintenance", prescribed_dose=Decimal("0.5"),
        planned_sessions=6, starts_on=timezone.localdate(), notes="", by=physician,
    )  # fmt: skip
    record = services.start_session(request=None, course=second, by=nurse)
    return read, record
